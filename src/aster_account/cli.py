"""The `aster-account` command: `serve` runs the service, the other commands call the API.

Every API command takes ``--profile NAME``, ``--base-url URL``, ``--config PATH`` and ``--json``.
Credentials and settings come from, first to last:

1. ``--base-url``;
2. the profile named with ``--profile`` (or ``ASTER_PROFILE``), when one is named;
3. the environment: ``ASTER_API_KEY``, ``ASTER_API_SECRET``, ``ASTER_BASE_URL``;
4. the default profile (``default_profile`` in the file, else the one called "default").

The config file is ``~/.config/aster-account/config.toml`` (``$XDG_CONFIG_HOME`` respected;
``--config`` or ``ASTER_ACCOUNT_CONFIG`` point elsewhere)::

    default_profile = "local"

    [profiles.local]
    base_url = "http://127.0.0.1:8080"
    api_key = "..."
    api_secret = "..."
    recv_window = 10000     # optional

Output is a table for people, or with ``--json`` the server's reply as sent (histories walked
over a range: a JSON array of rows in the same shape). Errors print the Aster code, its message
and a one-line hint on stderr and exit with status 1 (2 for bad usage).
"""

from __future__ import annotations

import csv
import functools
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aster_account import __version__

if TYPE_CHECKING:
    from aster_account.client import Client, StreamNotice, StreamResync
    from aster_account.protocol.errors import AsterError
    from aster_account.protocol.models import Event


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
@click.option(
    "--redis",
    envvar="ASTER_REDIS",
    default=None,
    help="redis://host:port/db: request-weight counts shared by all server processes "
    "(default: each process counts alone).",
)
@click.option(
    "--redis-prefix",
    envvar="ASTER_REDIS_PREFIX",
    default="aster-account",
    show_default=True,
    help="Prefix of the Redis keys (one per venue sharing a Redis).",
)
@click.option("--log-level", envvar="ASTER_LOG_LEVEL", default="info", show_default=True)
@click.option(
    "--prices",
    envvar="ASTER_PRICES",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Replay mark prices from a CSV file: time_ms,symbol,markPrice[,indexPrice,fundingRate].",
)
@click.option(
    "--prices-speed",
    envvar="ASTER_PRICES_SPEED",
    default=1.0,
    show_default=True,
    type=float,
    help="Replay speed: 2 is twice as fast, 0 as fast as the ticks can run.",
)
@click.option(
    "--adl-refresh",
    envvar="ASTER_ADL_REFRESH",
    default=30.0,
    show_default=True,
    type=float,
    help="Seconds between ADL quantile refreshes (the docs: every 30 s).",
)
def serve(
    host: str,
    port: int,
    db: str,
    operator_token: str | None,
    market: str | None,
    demo: bool,
    weight_limit: int,
    redis: str | None,
    redis_prefix: str,
    log_level: str,
    prices: str | None,
    prices_speed: float,
    adl_refresh: float,
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
            redis=redis,
            redis_prefix=redis_prefix,
            log_level=log_level,
            prices=prices,
            prices_speed=prices_speed,
            adl_refresh_s=adl_refresh,
        )
    )


# == client commands ==============================================================================

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    base_url: str | None
    api_key: str | None
    api_secret: str | None
    recv_window: int
    json: bool


def config_path(given: str | None) -> Path:
    if given:
        return Path(given).expanduser()
    if env := os.environ.get("ASTER_ACCOUNT_CONFIG"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aster-account" / "config.toml"


def load_profiles(path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """(profiles, default profile name) of a config file; nothing when it does not exist."""
    if not path.exists():
        return {}, None
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise click.UsageError(f"{path}: [profiles.NAME] tables expected")
    default = data.get("default_profile")
    return profiles, default if isinstance(default, str) else None


def resolve_settings(
    *, profile: str | None, base_url: str | None, config: str | None, as_json: bool
) -> Settings:
    path = config_path(config)
    profiles, default_name = load_profiles(path)
    named = profile or os.environ.get("ASTER_PROFILE")
    layers: list[dict[str, Any]] = []
    if named:
        if named not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise click.UsageError(f"no profile {named!r} in {path} (profiles: {known})")
        layers.append(profiles[named])
    env = {
        "base_url": os.environ.get("ASTER_BASE_URL"),
        "api_key": os.environ.get("ASTER_API_KEY"),
        "api_secret": os.environ.get("ASTER_API_SECRET"),
    }
    layers.append({k: v for k, v in env.items() if v})
    layers.append(profiles.get(default_name or "default", {}))

    def pick(name: str) -> Any:
        for layer in layers:
            if layer.get(name) not in (None, ""):
                return layer[name]
        return None

    recv_window = pick("recv_window")
    return Settings(
        base_url=base_url or pick("base_url"),
        api_key=pick("api_key"),
        api_secret=pick("api_secret"),
        recv_window=int(recv_window) if recv_window is not None else 5000,
        json=as_json,
    )


def api_command(name: str | None = None, *, group: click.Group | None = None) -> Callable[[F], F]:
    """A client command of ``group`` (default: the top level): the common options, a ``Client``
    passed in as the first argument, errors printed with a hint."""

    def decorate(fn: F) -> F:
        @(group or main).command(name)
        @click.option("--profile", help="Profile of the config file to use.")
        @click.option("--base-url", help="API base URL, e.g. http://127.0.0.1:8080.")
        @click.option(
            "--config",
            "config_file",
            help="Config file (default: ~/.config/aster-account/config.toml).",
        )
        @click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
        @functools.wraps(fn)
        def command(
            profile: str | None,
            base_url: str | None,
            config_file: str | None,
            as_json: bool,
            **params: Any,
        ) -> None:
            settings = resolve_settings(
                profile=profile, base_url=base_url, config=config_file, as_json=as_json
            )
            from aster_account.client import Client
            from aster_account.protocol.errors import AsterError

            try:
                with Client(
                    settings.api_key,
                    settings.api_secret,
                    settings.base_url,
                    recv_window=settings.recv_window,
                ) as client:
                    fn(client, settings, **params)
            except AsterError as err:
                report(err, settings)
                sys.exit(EXIT_ERROR)

        return fn

    return decorate


# -- errors ------------------------------------------------------------------------------------

HINTS: dict[int, str] = {
    -1000: "The server failed; try again later.",
    -1003: "Too many requests: wait for the next minute (or the Retry-After) before sending more.",
    -1021: "Your clock or recvWindow is off: sync the system clock or raise recv_window.",
    -1022: "The signature is wrong: the API secret does not belong to this API key.",
    -1023: "--since is after --until.",
    -1102: "A required value is missing or empty: check the command's arguments.",
    -1121: "Unknown symbol: `aster-account brackets` lists the symbols.",
    -1125: "The listenKey expired or was closed; create a new one.",
    -1130: "A value is not valid here: check the command's arguments.",
    -2014: "The API key is malformed: check api_key in your profile or ASTER_API_KEY.",
    -2015: "Unknown API key, or it lacks the permission (USER_DATA, TRADE, TRANSFER) or IP.",
    -2018: "Not enough balance: `aster-account balance` shows maxWithdrawAmount.",
    -2019: "Not enough margin for this.",
    -2027: "The position is too large for that leverage: reduce it or pick a lower leverage.",
    -4028: "Leverage out of range: `aster-account brackets SYMBOL` shows the maximum.",
    -4046: "The margin type is already that; nothing to do.",
    -4047: "Cancel the symbol's open orders before changing the margin type.",
    -4048: "Close the symbol's position before changing the margin type.",
    -4049: "Position margin only moves on isolated positions: `margin-type SYMBOL isolated`.",
    -4050: "Not enough cross balance to add that much margin.",
    -4051: "Cannot take that much margin out of the isolated position.",
    -4054: "There is no position to add margin to.",
    -4055: "The amount must be positive.",
    -4059: "The position mode is already that; nothing to do.",
    -4060: "Wrong position side: hedge mode needs --side LONG or SHORT.",
    -4067: "Cancel all open orders before changing the position mode.",
    -4068: "Close all positions before changing the position mode.",
    -4114: "The transfer id must be shorter than 64 characters.",
    -4115: "That transfer id was used in the last 7 days (the transfer was done already?).",
    -4168: "Isolated margin is not allowed in multi-assets mode: `multi-assets off` first.",
    -4171: "Multi-assets mode is already that; nothing to do.",
}


def hint_for(err: AsterError) -> str:
    from aster_account.client import MissingCredentials
    from aster_account.protocol import errors as e

    if isinstance(err, MissingCredentials):
        return "Set api_key / api_secret in a profile, or ASTER_API_KEY / ASTER_API_SECRET."
    if isinstance(err, e.UnknownOutcome):
        transfer_id = err.details.get("client_tran_id")
        if transfer_id:
            return (
                f"The transfer may have been done: run it again with --id {transfer_id} "
                "(it then completes, or answers -4115: done already)."
            )
        return "The request may have been processed: check the account before trying again."
    if isinstance(err, e.TransportError):
        return "The server could not be reached: check --base-url and the network."
    if isinstance(err, e.TooManyRequests) and err.retry_after:
        return f"Rate limited: wait {err.retry_after:.0f}s before sending more."
    if err.code in HINTS:
        return HINTS[err.code]
    if isinstance(err, e.RequestError):
        return "The request was refused: check the command's arguments."
    return "See the Aster error codes (docs: Error Codes)."


def report(err: AsterError, settings: Settings) -> None:
    if settings.json:
        import orjson

        payload = {"code": err.code, "name": err.name, "msg": err.msg, "hint": hint_for(err)}
        click.echo(orjson.dumps(payload).decode(), err=True)
        return
    click.echo(f"error {err.code} {err.name}: {err.msg}", err=True)
    click.echo(f"hint: {hint_for(err)}", err=True)


# -- output ------------------------------------------------------------------------------------


def text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        param = getattr(value, "param", None)
        return str(param if param is not None else value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return str(value)


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for name in columns:
        # fold, never cut: an ellipsis in the middle of an amount would misstate it
        grid.add_column(name, justify="left", overflow="fold")
    count = 0
    for row in rows:
        grid.add_row(*(text(v) for v in row))
        count += 1
    console = Console()
    if count == 0:
        console.print(f"{title}: nothing")
        return
    if not console.is_terminal:
        # piped or redirected: the table at its own width, no amount folded over two lines
        natural = Console(width=10_000).measure(grid).maximum
        console = Console(width=max(natural, 20))
    console.print(grid)


def echo_json(data: Any) -> None:
    import orjson

    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def wire_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    from aster_account.protocol.wire import to_wire

    return [to_wire(r) for r in rows]


# -- times -------------------------------------------------------------------------------------

_RELATIVE = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str | None, *, now: datetime | None = None) -> int | None:
    """``2026-01-31``, ``2026-01-31T12:00`` (UTC unless it says), ``30d`` / ``12h`` ago, or ms."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    now = now or datetime.now(UTC)
    if match := _RELATIVE.fullmatch(value):
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return int((now - delta).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use a date (2026-01-31), a time (2026-01-31T12:00), 30d / 12h ago, or ms"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def since_until(fn: F) -> F:
    fn = click.option("--until", help="End (default: now). Same forms as --since.")(fn)
    return click.option(
        "--since", help="Start: 2026-01-31, 2026-01-31T12:00, 30d (ago), or ms. Default: 7d."
    )(fn)


# -- account -----------------------------------------------------------------------------------


@api_command()
def balance(client: Client, settings: Settings) -> None:
    """Futures wallet balances (GET /fapi/v2/balance)."""
    if settings.json:
        echo_json(client.raw.get_balance().json())
        return
    table(
        "Balance",
        ["asset", "wallet", "cross wallet", "cross uPnL", "available", "max withdraw"],
        (
            (
                b.asset,
                b.wallet_balance,
                b.cross_wallet_balance,
                b.cross_unrealized_profit,
                b.available_balance,
                b.max_withdraw_amount,
            )
            for b in client.get_balance()
        ),
    )


@api_command()
def account(client: Client, settings: Settings) -> None:
    """Account totals, assets and positions (GET /fapi/v4/account)."""
    raw = client.raw.get_account()
    if settings.json:
        echo_json(raw.json())
        return
    info = raw.parse()
    table(
        "Account",
        ["wallet", "uPnL", "margin balance", "initial margin", "maint. margin", "available"],
        [
            (
                info.total_wallet_balance,
                info.total_unrealized_profit,
                info.total_margin_balance,
                info.total_initial_margin,
                info.total_maintenance_margin,
                info.available_balance,
            )
        ],
    )
    table(
        "Assets",
        ["asset", "wallet", "uPnL", "margin balance", "available", "max withdraw"],
        (
            (
                a.asset,
                a.wallet_balance,
                a.unrealized_profit,
                a.margin_balance,
                a.available_balance,
                a.max_withdraw_amount,
            )
            for a in info.assets
        ),
    )


@api_command()
@click.argument("symbol", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include symbols without a position.")
def positions(client: Client, settings: Settings, symbol: str | None, show_all: bool) -> None:
    """Positions (GET /fapi/v2/positionRisk); only open ones unless --all."""
    raw = client.raw.get_position_risk(symbol)
    if settings.json:
        echo_json(raw.json())
        return
    rows = [p for p in raw.parse() if show_all or p.position_amount != 0]
    table(
        "Positions",
        ["symbol", "side", "amount", "entry", "mark", "uPnL", "liq. price", "leverage", "margin"],
        (
            (
                p.symbol,
                p.position_side,
                p.position_amount,
                p.entry_price,
                p.mark_price,
                p.unrealized_profit,
                p.liquidation_price,
                p.leverage,
                p.margin_type,
            )
            for p in rows
        ),
    )


@api_command()
@click.argument("symbol")
@click.argument("leverage", type=click.IntRange(1, 125))
def leverage(client: Client, settings: Settings, symbol: str, leverage: int) -> None:
    """Set a symbol's initial leverage (POST /fapi/v1/leverage)."""
    raw = client.raw.set_leverage(symbol.upper(), leverage)
    if settings.json:
        echo_json(raw.json())
        return
    result = raw.parse()
    table(
        "Leverage",
        ["symbol", "leverage", "max notional"],
        [(result.symbol, result.leverage, result.max_notional_value)],
    )


_MARGIN_TYPES = {"isolated": "ISOLATED", "crossed": "CROSSED", "cross": "CROSSED"}


def _code_msg(raw: Any, settings: Settings, done: str) -> None:
    if settings.json:
        echo_json(raw.json())
    elif raw.synthetic:
        click.echo(f"{done} already: {raw.json()['msg']}")
    else:
        click.echo(done)


@api_command("margin-type")
@click.argument("symbol")
@click.argument("margin_type", type=click.Choice(sorted(_MARGIN_TYPES), case_sensitive=False))
def margin_type(client: Client, settings: Settings, symbol: str, margin_type: str) -> None:
    """Set a symbol's margin type to isolated or crossed (POST /fapi/v1/marginType)."""
    wire = _MARGIN_TYPES[margin_type.lower()]
    raw = client.raw.set_margin_type(symbol.upper(), wire, ok_if_unchanged=True)
    _code_msg(raw, settings, f"{symbol.upper()} margin type: {wire}")


@main.group()
def margin() -> None:
    """Add or reduce an isolated position's margin (POST /fapi/v1/positionMargin)."""


_SIDES = click.Choice(["BOTH", "LONG", "SHORT"], case_sensitive=False)


def _change_margin(
    client: Client, settings: Settings, symbol: str, amount: Decimal, side: str | None, change: int
) -> None:
    raw = client.raw.modify_position_margin(
        symbol.upper(), amount, change, side.upper() if side else None
    )
    if settings.json:
        echo_json(raw.json())
        return
    moved = raw.parse().amount
    verb = "added to" if change == 1 else "taken from"
    click.echo(f"{text(moved)} {verb} {symbol.upper()} {(side or 'BOTH').upper()}")


@api_command("add", group=margin)
@click.argument("symbol")
@click.argument("amount", type=Decimal)
@click.option("--side", type=_SIDES, help="Position side; LONG or SHORT in hedge mode.")
def margin_add(
    client: Client, settings: Settings, symbol: str, amount: Decimal, side: str | None
) -> None:
    """Add margin to an isolated position."""
    _change_margin(client, settings, symbol, amount, side, 1)


@api_command("reduce", group=margin)
@click.argument("symbol")
@click.argument("amount", type=Decimal)
@click.option("--side", type=_SIDES, help="Position side; LONG or SHORT in hedge mode.")
def margin_reduce(
    client: Client, settings: Settings, symbol: str, amount: Decimal, side: str | None
) -> None:
    """Take margin from an isolated position."""
    _change_margin(client, settings, symbol, amount, side, 2)


_CHANGES = {"add": 1, "reduce": 2}


@api_command("margin-history")
@click.argument("symbol")
@click.option("--type", "change", type=click.Choice(sorted(_CHANGES)), help="Only adds or reduces.")
@since_until
def margin_history(
    client: Client,
    settings: Settings,
    symbol: str,
    change: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Isolated margin changes of a symbol over any range (GET /fapi/v1/positionMargin/history)."""
    rows = client.iter_position_margin_history(
        symbol.upper(),
        _CHANGES[change] if change else None,
        parse_time(since),
        parse_time(until),
    )
    if settings.json:
        echo_json(wire_rows(rows))
        return
    table(
        f"Margin history {symbol.upper()}",
        ["time", "type", "amount", "asset", "side"],
        (
            (when(r.time), "add" if r.change == 1 else "reduce", r.amount, r.asset, r.position_side)
            for r in rows
        ),
    )


_DIRECTIONS = {"spot": "FUTURE_SPOT", "futures": "SPOT_FUTURE"}


@api_command()
@click.argument("amount", type=Decimal)
@click.option(
    "--to",
    "direction",
    type=click.Choice(sorted(_DIRECTIONS)),
    required=True,
    help="spot: futures -> spot; futures: spot -> futures.",
)
@click.option("--asset", default="USDT", show_default=True)
@click.option("--id", "client_tran_id", help="clientTranId (generated when not given).")
def transfer(
    client: Client,
    settings: Settings,
    amount: Decimal,
    direction: str,
    asset: str,
    client_tran_id: str | None,
) -> None:
    """Move money between the futures and the spot wallet (POST /fapi/v1/asset/wallet/transfer).

    Safe to repeat with the same --id: the money moves at most once.
    """
    from aster_account.client import new_client_tran_id

    cid = client_tran_id or new_client_tran_id()
    raw = client.raw.transfer(asset.upper(), amount, _DIRECTIONS[direction], cid)
    if settings.json:
        echo_json(raw.json())
        return
    result = raw.parse()
    table(
        "Transfer",
        ["tranId", "clientTranId", "amount", "asset", "to", "status"],
        [(result.tran_id, cid, amount, asset.upper(), direction, result.status)],
    )


_MODES = {"hedge": True, "one-way": False}


@api_command("position-mode")
@click.argument("mode", type=click.Choice(sorted(_MODES)), required=False)
def position_mode(client: Client, settings: Settings, mode: str | None) -> None:
    """Show, or set, the position mode: hedge or one-way (/fapi/v1/positionSide/dual)."""
    if mode is None:
        raw = client.raw.get_position_mode()
        if settings.json:
            echo_json(raw.json())
        else:
            click.echo("hedge" if raw.parse().dual_side_position else "one-way")
        return
    raw = client.raw.set_position_mode(_MODES[mode], ok_if_unchanged=True)
    _code_msg(raw, settings, f"position mode: {mode}")


_SWITCH = {"on": True, "off": False}


@api_command("multi-assets")
@click.argument("state", type=click.Choice(sorted(_SWITCH)), required=False)
def multi_assets(client: Client, settings: Settings, state: str | None) -> None:
    """Show, or switch on / off, multi-assets margin mode (/fapi/v1/multiAssetsMargin)."""
    if state is None:
        raw = client.raw.get_multi_assets_mode()
        if settings.json:
            echo_json(raw.json())
        else:
            click.echo("on" if raw.parse().multi_assets_margin else "off")
        return
    raw = client.raw.set_multi_assets_mode(_SWITCH[state], ok_if_unchanged=True)
    _code_msg(raw, settings, f"multi-assets mode: {state}")


INCOME_COLUMNS = ["time", "symbol", "incomeType", "income", "asset", "info", "tranId", "tradeId"]


@api_command()
@since_until
@click.option("--symbol", help="Only this symbol.")
@click.option("--type", "income_type", help="Only this income type, e.g. FUNDING_FEE.")
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write a CSV file."
)
def income(
    client: Client,
    settings: Settings,
    since: str | None,
    until: str | None,
    symbol: str | None,
    income_type: str | None,
    csv_path: str | None,
) -> None:
    """Income history over any range (GET /fapi/v1/income), 7-day windows and pages walked."""
    end = parse_time(until) or client.server_time_ms
    start = parse_time(since) or end - 7 * 24 * 3600 * 1000 + 1
    if start > end:
        raise click.BadParameter("--since is after --until")
    rows = client.iter_income(
        symbol.upper() if symbol else None,
        income_type.upper() if income_type else None,
        start,
        end,
    )
    if csv_path is not None:
        count = _write_income_csv(Path(csv_path), rows, start, end)
        if settings.json:
            echo_json({"rows": count, "path": csv_path})
        else:
            click.echo(f"{count} rows written to {csv_path}", err=True)
        return
    if settings.json:
        echo_json(wire_rows(rows))
        return
    table(
        "Income",
        ["time", "symbol", "type", "income", "asset", "info", "tranId"],
        (
            (when(r.time), r.symbol, r.income_type, r.income, r.asset, r.info, r.tran_id)
            for r in rows
        ),
    )


def _write_income_csv(path: Path, rows: Iterable[Any], start: int, end: int) -> int:
    """Write rows as they come, with a progress bar over the time range on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    count = 0
    progress = Progress(
        TextColumn("income"),
        BarColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with path.open("w", newline="") as out, progress:
        task = progress.add_task("income", total=max(1, end - start), rows=0)
        writer = csv.writer(out)
        writer.writerow(INCOME_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    datetime.fromtimestamp(row.time / 1000, UTC).isoformat(timespec="milliseconds"),
                    row.symbol,
                    row.income_type.value,
                    format(row.income, "f"),
                    row.asset,
                    row.info,
                    row.tran_id,
                    row.trade_id,
                ]
            )
            count += 1
            progress.update(task, completed=row.time - start, rows=count)
        progress.update(task, completed=end - start)
    return count


@api_command()
@click.argument("symbol", required=False)
def brackets(client: Client, settings: Settings, symbol: str | None) -> None:
    """Notional and leverage brackets (GET /fapi/v1/leverageBracket)."""
    raw = client.raw.get_leverage_brackets(symbol.upper() if symbol else None)
    if settings.json:
        echo_json(raw.json())
        return
    parsed = raw.parse()
    tables = parsed if isinstance(parsed, list) else [parsed]
    table(
        "Leverage brackets",
        ["symbol", "bracket", "max leverage", "notional floor", "notional cap", "maint. ratio"],
        (
            (
                t.symbol,
                b.bracket,
                b.initial_leverage,
                b.notional_floor,
                b.notional_cap,
                b.maintenance_margin_ratio,
            )
            for t in tables
            for b in t.brackets
        ),
    )


@api_command()
@click.argument("symbol", required=False)
def adl(client: Client, settings: Settings, symbol: str | None) -> None:
    """Auto-deleverage queue position, 0 to 4 (GET /fapi/v1/adlQuantile)."""
    raw = client.raw.get_adl_quantile(symbol.upper() if symbol else None)
    if settings.json:
        echo_json(raw.json())
        return
    table(
        "ADL quantile",
        ["symbol", "side", "quantile"],
        ((q.symbol, side, n) for q in raw.parse() for side, n in q.adl_quantile.items()),
    )


_AUTO_CLOSE = {"liquidation": "LIQUIDATION", "adl": "ADL"}


@api_command("force-orders")
@click.option("--symbol", help="Only this symbol.")
@click.option("--type", "kind", type=click.Choice(sorted(_AUTO_CLOSE)), help="Liquidations or ADL.")
@since_until
def force_orders(
    client: Client,
    settings: Settings,
    symbol: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Liquidation and ADL orders over any range (GET /fapi/v1/forceOrders)."""
    rows = client.iter_force_orders(
        symbol.upper() if symbol else None,
        _AUTO_CLOSE[kind] if kind else None,
        parse_time(since),
        parse_time(until),
    )
    if settings.json:
        echo_json(wire_rows(rows))
        return
    table(
        "Force orders",
        ["time", "symbol", "side", "qty", "avg price", "status", "orderId"],
        (
            (when(o.time), o.symbol, o.side, o.executed_qty, o.avg_price, o.status, o.order_id)
            for o in rows
        ),
    )


@api_command()
@click.argument("symbol")
def commission(client: Client, settings: Settings, symbol: str) -> None:
    """Maker and taker commission rates (GET /fapi/v1/commissionRate)."""
    raw = client.raw.get_commission_rate(symbol.upper())
    if settings.json:
        echo_json(raw.json())
        return
    rate = raw.parse()
    table(
        "Commission",
        ["symbol", "maker", "taker"],
        [(rate.symbol, rate.maker_commission_rate, rate.taker_commission_rate)],
    )


@api_command()
@click.argument("symbol")
@click.argument("leverage", type=click.IntRange(1, 125))
def openable(client: Client, settings: Settings, symbol: str, leverage: int) -> None:
    """Notional still openable at a leverage (GET /fapi/v1/remainingOpenableNotionalValue)."""
    raw = client.raw.get_remaining_openable_notional(symbol.upper(), leverage)
    if settings.json:
        echo_json(raw.json())
        return
    value = raw.parse().remaining_openable_notional_value
    table(
        "Openable", ["symbol", "leverage", "notional (USDT)"], [(symbol.upper(), leverage, value)]
    )


# -- the user data stream ----------------------------------------------------------------------


def when_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def pairs(**values: Any) -> str:
    """``name=value`` for each value that is there, in the order given."""
    return " ".join(f"{name}={text(value)}" for name, value in values.items() if value is not None)


def event_line(event: Event) -> str:
    """One line for a person: time, event type, the fields that say what happened."""
    from aster_account.protocol import models

    head = f"{when_ms(event.event_time)} {event.event_type.value}"
    parts: list[str] = []
    if isinstance(event, models.AccountUpdate):
        parts.append(f"reason={event.update.reason.value}")
        parts.extend(
            f"{b.asset} {pairs(wallet=b.wallet_balance, cross=b.cross_wallet_balance)}"
            f" change={text(b.balance_change)}"
            for b in event.update.balances
        )
        parts.extend(
            f"{p.symbol} {p.position_side.value} "
            + pairs(
                amount=p.position_amount,
                entry=p.entry_price,
                uPnL=p.unrealized_profit,
                margin=p.margin_type.reply,
            )
            for p in event.update.positions
        )
    elif isinstance(event, models.OrderTradeUpdate):
        o = event.order
        parts.append(f"{o.symbol} {o.side.value} {o.order_type.value} {o.status.value}")
        parts.append(
            pairs(
                qty=o.orig_qty,
                filled=o.executed_qty,
                last=f"{text(o.last_filled_qty)}@{text(o.last_filled_price)}"
                if o.last_filled_qty
                else None,
                realized=o.realized_profit or None,
                id=o.order_id,
            )
        )
    elif isinstance(event, models.AccountConfigUpdate):
        if event.leverage is not None:
            parts.append(f"{event.leverage.symbol} leverage={event.leverage.leverage}")
        if event.account is not None:
            parts.append(
                pairs(
                    multiAssets=event.account.multi_assets_margin,
                    hedgeMode=event.account.dual_side_position,
                    feeDeduction=event.account.fee_deduction,
                )
            )
    elif isinstance(event, models.MarginCall):
        if event.cross_wallet_balance is not None:
            parts.append(f"crossWallet={text(event.cross_wallet_balance)}")
        parts.extend(
            f"{p.symbol} {p.position_side.value} "
            + pairs(
                amount=p.position_amount,
                mark=p.mark_price,
                uPnL=p.unrealized_profit,
                maintenance=p.maintenance_margin,
            )
            for p in event.positions
        )
    return "  ".join([head, *(p for p in parts if p)])


def resync_lines(resync: StreamResync) -> list[str]:
    """The REST snapshot after a gap, a line per balance and per open position."""
    now = when_ms(int(datetime.now(UTC).timestamp() * 1000))
    lines = [
        f"{now} RESYNC  {b.asset} "
        + pairs(
            wallet=b.wallet_balance, cross=b.cross_wallet_balance, available=b.available_balance
        )
        for b in resync.balances
    ]
    lines.extend(
        f"{now} RESYNC  {p.symbol} {p.position_side.value} "
        + pairs(amount=p.position_amount, entry=p.entry_price, uPnL=p.unrealized_profit)
        for p in resync.positions
        if p.position_amount
    )
    return lines


def notice_line(notice: StreamNotice) -> str:
    now = when_ms(int(datetime.now(UTC).timestamp() * 1000))
    if notice.kind == "key":
        what = "listenKey made" if notice.reconnects == 0 else "new listenKey (the old one ended)"
    elif notice.kind == "connected":
        what = (
            "connected; waiting for events (Ctrl-C to stop)"
            if notice.reconnects == 0
            else f"reconnected after {notice.reconnects} disconnection(s); events sent meanwhile "
            "were not received: reading balances and positions over REST"
        )
    elif notice.kind == "resynced":
        what = "balances and positions read over REST (they include what was missed)"
    elif notice.kind == "disconnected":
        reason = notice.reason or ("connection dropped" if notice.code == 1006 else "")
        cause = " ".join(str(x) for x in (notice.code, reason) if x not in (None, ""))
        lost = "disconnected" if notice.code is not None else "could not connect"
        what = f"{lost} ({cause or 'no reason given'}); trying again in {notice.retry_in:.1f}s"
    else:
        what = "renewing the connection"
    return f"{now} stream: {what}"


@api_command()
def stream(client: Client, settings: Settings) -> None:
    """Print the account's events as they happen (user data stream), until Ctrl-C.

    One line per event: time, event type and the fields that changed; with --json the event's
    JSON as the server sends it, one object a line. Connections, reconnections and new
    listenKeys are reported on stderr; after a reconnection the balances and positions read
    over REST are printed first (RESYNC lines; with --json one {"resync": ...} object), since
    events sent while disconnected are lost.
    """
    import orjson

    from aster_account.client import StreamResync
    from aster_account.protocol.wire import to_wire

    def notice(event: StreamNotice) -> None:
        if settings.json:
            payload = {
                "notice": event.kind,
                "reconnects": event.reconnects,
                "code": event.code,
                "reason": event.reason or None,
                "retryIn": event.retry_in,
            }
            click.echo(
                orjson.dumps({k: v for k, v in payload.items() if v is not None}).decode(), err=True
            )
        else:
            click.echo(notice_line(event), err=True)

    events = client.user_stream(on_notice=notice)
    try:
        with events:
            for event in events:
                if isinstance(event, StreamResync):
                    if settings.json:
                        resync = {
                            "reconnects": event.reconnects,
                            "balances": [to_wire(b) for b in event.balances],
                            "positions": [to_wire(p) for p in event.positions],
                        }
                        click.echo(orjson.dumps({"resync": resync}).decode())
                    else:
                        click.echo("\n".join(resync_lines(event)))
                elif settings.json:
                    click.echo(orjson.dumps(to_wire(event)).decode())
                else:
                    click.echo(event_line(event))
    except KeyboardInterrupt:
        # Ctrl-C is how this command ends: the key is closed (leaving the with) and it is a 0
        if settings.json:
            click.echo('{"notice":"stopped"}', err=True)
        else:
            click.echo(f"{when_ms(int(datetime.now(UTC).timestamp() * 1000))} stopped", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
