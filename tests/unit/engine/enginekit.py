"""Arrangement shared by the engine unit tests: the shipped market, the marks a fresh venue starts
from, funded accounts and the order helpers.

Marks: BTCUSDT 50000, ETHUSDT 3000, the others 1; set at ``T0``. Operations run at ``NOW``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aster_account.engine import account as ops
from aster_account.engine import figures as fig
from aster_account.engine.context import Outcome
from aster_account.engine.ledger import IncomeRecord
from aster_account.engine.market import Market
from aster_account.engine.state import Account
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import (
    IncomeType,
    MarginType,
    OrderSide,
    OrderType,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
    TransferKind,
)

D = Decimal
MARKET = Market.load()
MARKS = {
    "BTCUSDT": D(50000),
    "ETHUSDT": D(3000),
    "ARBUSDT": D(1),
    "ASTERUSDT": D(1),
    "TRUTHUSDT": D(1),
}
T0 = 1_000
NOW = 2_000
BUY, SELL = OrderSide.BUY, OrderSide.SELL
LONG, SHORT, BOTH = PositionSide.LONG, PositionSide.SHORT, PositionSide.BOTH
MARKET_ORDER, LIMIT = OrderType.MARKET, OrderType.LIMIT
GTC = TimeInForce.GTC


def new_venue() -> Venue:
    """A venue on the shipped market with every symbol at its mark in ``MARKS``."""
    v = Venue(MARKET)
    for symbol, price in MARKS.items():
        v.set_mark(symbol, price, T0)
    return v


def funded(v: Venue, usdt: str = "1000", **kw: Any) -> Account:
    """A new account (``kw`` to ``open_account``) with ``usdt`` deposited."""
    acct = v.open_account(T0, **kw)
    v.apply(acct.account_id, ops.deposit, T0, asset="USDT", amount=D(usdt))
    return acct


def _new_order(
    v: Venue, acct: Account, side: OrderSide, qty: str, symbol: str, **kw: Any
) -> Outcome:
    return v.apply(
        acct.account_id, ops.new_order, NOW, symbol=symbol, side=side, quantity=D(qty), **kw
    )


def market(
    v: Venue, acct: Account, side: OrderSide, qty: str, symbol: str = "BTCUSDT", **kw: Any
) -> Outcome:
    return _new_order(v, acct, side, qty, symbol, type=MARKET_ORDER, **kw)


def limit(
    v: Venue,
    acct: Account,
    side: OrderSide,
    qty: str,
    price: str,
    symbol: str = "BTCUSDT",
    **kw: Any,
) -> Outcome:
    """A limit order, GTC unless ``time_in_force`` says otherwise."""
    kw.setdefault("time_in_force", GTC)
    return _new_order(v, acct, side, qty, symbol, type=LIMIT, price=D(price), **kw)


def set_isolated(v: Venue, acct: Account, symbol: str, leverage: int | None = None) -> None:
    v.apply(
        acct.account_id, ops.set_margin_type, T0, symbol=symbol, margin_type=MarginType.ISOLATED
    )
    if leverage is not None:
        v.apply(acct.account_id, ops.set_leverage, T0, symbol=symbol, leverage=leverage)


def move_margin(
    v: Venue,
    acct: Account,
    amount: str,
    change: PositionMarginChange,
    symbol: str = "BTCUSDT",
    **kw: Any,
) -> Outcome:
    """Add or reduce the isolated margin of a position (``position_side`` in ``kw``)."""
    return v.apply(
        acct.account_id,
        ops.modify_position_margin,
        NOW,
        symbol=symbol,
        amount=D(amount),
        type=change,
        **kw,
    )


def transfer(v: Venue, acct: Account, amount: str, kind: TransferKind, **kw: Any) -> Outcome:
    """A transfer between the spot and the futures wallet: ``client_tran_id`` and, if not USDT,
    ``asset`` in ``kw``."""
    kw.setdefault("asset", "USDT")
    return v.apply(acct.account_id, ops.transfer, NOW, amount=D(amount), kind=kind, **kw)


def incomes(v: Venue, acct: Account, kind: IncomeType) -> list[IncomeRecord]:
    return [r for r in v.ledger.income if r.account_id == acct.account_id and r.income_type == kind]


def ledger_size(v: Venue) -> tuple[int, ...]:
    """How many records of each kind the ledger holds."""
    led = v.ledger
    return (
        len(led.income),
        len(led.transfers),
        len(led.margin_changes),
        len(led.force_orders),
        len(led.trades),
    )


def raw_available(v: Venue, acct: Account) -> Decimal:
    """The USDT available balance before its clamp at 0 (FACTS.md "Account math")."""
    af = fig.compute(acct, v.market, v.marks).assets.get("USDT")
    if af is None:
        return D(0)
    return (
        af.cross_wallet_balance
        + af.cross_unrealized_pnl
        - af.cross_initial_margin
        - af.isolated_order_margin
    )
