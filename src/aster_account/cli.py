"""The `aster-account` command: `serve` runs the service, the other commands call the API."""

from __future__ import annotations

import click

from aster_account import __version__


@click.group()
@click.version_option(__version__, prog_name="aster-account")
def main() -> None:
    """Aster Futures account API: server and client."""


@main.command()
@click.option("--host", envvar="ASTER_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="ASTER_PORT", default=8080, show_default=True, type=int)
@click.option(
    "--db",
    envvar="ASTER_DB",
    default="sqlite:///aster-account.db",
    show_default=True,
    help="sqlite:///path or postgresql://...",
)
@click.option(
    "--operator-token",
    envvar="ASTER_OPERATOR_TOKEN",
    default=None,
    help="Token for the operator API (X-Operator-Token); random per run when not given.",
)
@click.option("--market", envvar="ASTER_MARKET", default=None, help="Market file (JSON).")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Create a demo account.")
@click.option("--weight-limit", envvar="ASTER_WEIGHT_LIMIT", default=2400, show_default=True)
@click.option("--log-level", envvar="ASTER_LOG_LEVEL", default="info", show_default=True)
def serve(
    host: str,
    port: int,
    db: str,
    operator_token: str | None,
    market: str | None,
    demo: bool,
    weight_limit: int,
    log_level: str,
) -> None:
    """Serve the Aster account API (default: 127.0.0.1:8080 on ./aster-account.db)."""
    from aster_account.server.main import ServerConfig
    from aster_account.server.main import serve as run

    run(
        ServerConfig(
            host=host,
            port=port,
            db=db,
            operator_token=operator_token,
            market=market,
            demo=demo,
            weight_limit=weight_limit,
            log_level=log_level,
        )
    )


if __name__ == "__main__":  # pragma: no cover
    main()
