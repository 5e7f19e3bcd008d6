"""The `aster-account` command: `serve` runs the service, the other commands call the API."""

from __future__ import annotations

import click

from aster_account import __version__


@click.group()
@click.version_option(__version__, prog_name="aster-account")
def main() -> None:
    """Aster Futures account API: server and client."""


if __name__ == "__main__":  # pragma: no cover
    main()
