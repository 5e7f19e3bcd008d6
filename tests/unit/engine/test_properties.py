"""Engine invariants under random programs (hypothesis).

A program is a list of steps run against a fresh in-memory venue with two funded accounts, one in
one-way mode and one in hedge mode, each holding a small cross and a small isolated position:
deposits, transfers both ways (sometimes reusing a clientTranId), market orders both sides, limit
orders around the mark, cancels, isolated margin add / reduce, leverage and margin-type changes,
mark moves (which fill resting orders and run the risk sweep) and funding. Steps are drawn wide
enough that many are rejected.

Invariants (FACTS.md "Account math"):
  (a) every wallet equals the sum of its ledger, after every step;
  (b) a rejected operation leaves the account byte-for-byte as it was and writes nothing;
  (c) no accepted operation makes the available balance negative. The view clamps the available
      balance at 0, so the check reads the figure before the clamp: cross wallet + cross uPnL −
      cross initial margin (positions and orders) − isolated order margin. Mark moves and funding
      are not operations: after them it may be negative;
  (d) at the reported liquidation price the margin balance meets the maintenance margin to the
      tick: one tick on the safe side it is above, one tick on the other side below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from enginekit import (
    BOTH,
    BUY,
    GTC,
    LIMIT,
    LONG,
    MARKET,
    MARKET_ORDER,
    MARKS,
    SELL,
    SHORT,
    T0,
    D,
    ledger_size,
    new_venue,
    raw_available,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aster_account.engine import account as ops
from aster_account.engine import figures as fig
from aster_account.engine import views
from aster_account.engine.prices import Marks
from aster_account.engine.state import Account
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import (
    MarginType,
    OrderSide,
    PositionMarginChange,
    PositionSide,
    TransferKind,
)
from aster_account.protocol.errors import AsterError

SYMBOLS = ("BTCUSDT", "ETHUSDT")
# (quantity unit, most units per order): up to 0.3 BTC and 3 ETH, about 15000 / 9000 notional
QTY = {"BTCUSDT": (D("0.001"), 300), "ETHUSDT": (D("0.01"), 300)}
ONE_WAY, HEDGE = 0, 1

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- programs --------------------------------------------------------------------------------

accounts = st.sampled_from([ONE_WAY, HEDGE])
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from([BUY, SELL])
legs = st.sampled_from([LONG, SHORT])
cents = st.integers(min_value=-100, max_value=300_000).map(lambda c: D(c) / 100)

rarely = st.sampled_from([False, False, False, False, True])
market_step = st.tuples(
    st.just("market"), accounts, symbols, sides, st.integers(0, 320), legs, rarely
)
limit_step = st.tuples(
    st.just("limit"),
    accounts,
    symbols,
    sides,
    st.integers(1, 320),
    legs,
    st.integers(-25, 25),
    rarely,
)
margin_step = st.tuples(
    st.just("margin"),
    accounts,
    symbols,
    st.sampled_from(list(PositionMarginChange)),
    st.integers(-5, 60_000).map(lambda c: D(c) / 100),
    legs,
)
mark_step = st.tuples(st.just("mark"), symbols, st.integers(-60, 60))

# one_of draws each branch alike: orders, margin changes and mark moves are listed twice
step = st.one_of(
    st.tuples(st.just("deposit"), accounts, cents),
    st.tuples(st.just("to_spot"), accounts, cents, rarely),
    st.tuples(st.just("to_futures"), accounts, cents, rarely),
    market_step,
    market_step,
    limit_step,
    limit_step,
    st.tuples(st.just("cancel_all"), accounts, symbols),
    margin_step,
    margin_step,
    st.tuples(st.just("leverage"), accounts, symbols, st.integers(0, 130)),
    st.tuples(st.just("margin_type"), accounts, symbols, st.sampled_from(list(MarginType))),
    mark_step,
    mark_step,
    st.tuples(st.just("funding"), symbols, st.integers(-10, 10)),
)
programs = st.lists(step, min_size=10, max_size=50)


class Run:
    """A venue with a one-way and a hedge account, and the program's running state."""

    def __init__(self) -> None:
        self.venue = new_venue()
        self.accounts: list[Account] = []
        for dual in (False, True):
            acct = self.venue.open_account(T0)
            self.venue.apply(acct.account_id, ops.deposit, T0, asset="USDT", amount=D(600))
            self.venue.apply(
                acct.account_id, ops.deposit, T0, asset="USDT", amount=D(500), to_spot=True
            )
            if dual:
                self.venue.apply(
                    acct.account_id, ops.set_position_mode, T0, dual_side_position=True
                )
            self.accounts.append(acct)
        # a starting book, so that margin changes, closes and flips have positions to act on:
        # one-way: BTC cross long, ETH isolated short; hedge: BTC isolated long, ETH cross short
        for acct, isolated, btc, eth in (
            (self.accounts[ONE_WAY], "ETHUSDT", None, None),
            (self.accounts[HEDGE], "BTCUSDT", LONG, SHORT),
        ):
            i = acct.account_id
            self.venue.apply(
                i, ops.set_margin_type, T0, symbol=isolated, margin_type=MarginType.ISOLATED
            )
            for symbol, side, quantity, leg in (
                ("BTCUSDT", BUY, "0.05", btc),
                ("ETHUSDT", SELL, "0.5", eth),
            ):
                self.venue.apply(
                    i,
                    ops.new_order,
                    T0,
                    symbol=symbol,
                    side=side,
                    type=MARKET_ORDER,
                    quantity=D(quantity),
                    position_side=leg,
                )
        self.now = T0
        self.tran_ids = 0

    def client_tran_id(self, reuse: bool) -> str:
        if not reuse or self.tran_ids == 0:
            self.tran_ids += 1
        return f"t{self.tran_ids}"

    def operation(self, raw: tuple[Any, ...]) -> tuple[Account, Callable[..., Any], dict[str, Any]]:
        """The account, engine operation and arguments of an operation step."""
        kind, who, *args = raw
        acct = self.accounts[who]
        hedge = acct.dual_side
        if kind == "deposit":
            return acct, ops.deposit, {"asset": "USDT", "amount": args[0]}
        if kind in ("to_spot", "to_futures"):
            amount, reuse = args
            transfer_kind = (
                TransferKind.FUTURE_SPOT if kind == "to_spot" else TransferKind.SPOT_FUTURE
            )
            return (
                acct,
                ops.transfer,
                {
                    "asset": "USDT",
                    "amount": amount,
                    "kind": transfer_kind,
                    "client_tran_id": self.client_tran_id(reuse),
                },
            )
        if kind == "market":
            symbol, side, units, leg, reduce_only = args
            return (
                acct,
                ops.new_order,
                {
                    "symbol": symbol,
                    "side": side,
                    "type": MARKET_ORDER,
                    "quantity": units * QTY[symbol][0],
                    "position_side": leg if hedge else None,
                    "reduce_only": reduce_only and not hedge,
                },
            )
        if kind == "limit":
            symbol, side, units, leg, permille, reduce_only = args
            spec = MARKET.symbol(symbol)
            mark = self.venue.marks[symbol].mark_price
            price = spec.round_price(mark * (1 + D(permille) / 1000))
            return (
                acct,
                ops.new_order,
                {
                    "symbol": symbol,
                    "side": side,
                    "type": LIMIT,
                    "quantity": units * QTY[symbol][0],
                    "price": price,
                    "time_in_force": GTC,
                    "position_side": leg if hedge else None,
                    "reduce_only": reduce_only and not hedge,
                },
            )
        if kind == "cancel_all":
            return acct, ops.cancel_all_open_orders, {"symbol": args[0]}
        if kind == "margin":
            symbol, change, amount, leg = args
            return (
                acct,
                ops.modify_position_margin,
                {
                    "symbol": symbol,
                    "amount": amount,
                    "type": change,
                    "position_side": leg if hedge else None,
                },
            )
        if kind == "leverage":
            return acct, ops.set_leverage, {"symbol": args[0], "leverage": args[1]}
        assert kind == "margin_type"
        return acct, ops.set_margin_type, {"symbol": args[0], "margin_type": args[1]}

    def market_event(self, raw: tuple[Any, ...]) -> None:
        kind, symbol, move = raw
        if kind == "mark":
            spec = MARKET.symbol(symbol)
            mark = self.venue.marks[symbol].mark_price * (1 + D(move) / 1000)
            low, high = MARKS[symbol] / 3, MARKS[symbol] * 3
            self.venue.set_mark(symbol, spec.round_price(min(max(mark, low), high)), self.now)
        else:
            mp = self.venue.marks[symbol]
            self.venue.set_mark(symbol, mp.mark_price, self.now, funding_rate=D(move) / 10_000)
            self.venue.settle_funding(symbol, self.now)


def execute(
    program: list[tuple[Any, ...]],
    on_step: Callable[[Run, tuple[Any, ...], bool | None, Account | None, dict[str, Any]], None],
) -> Run:
    """Run a program; after each step call `on_step(run, step, accepted, account, before)`:
    `accepted` is None for market events; `before` holds the account's state before the step."""
    run = Run()
    for raw in program:
        run.now += 1_000
        if raw[0] in ("mark", "funding"):
            run.market_event(raw)
            on_step(run, raw, None, None, {})
            continue
        acct, op, kw = run.operation(raw)
        before = {
            "state": acct.to_dict(),
            "ledger": ledger_size(run.venue),
            "available": raw_available(run.venue, acct),
        }
        try:
            run.venue.apply(acct.account_id, op, run.now, **kw)
        except AsterError:
            on_step(run, raw, False, acct, before)
        else:
            on_step(run, raw, True, acct, before)
    return run


# --- (a) wallet = ledger ---------------------------------------------------------------------


@SETTINGS
@given(programs)
def test_wallet_always_equals_its_ledger(program: list[tuple[Any, ...]]) -> None:
    def check(run: Run, raw: tuple[Any, ...], *_: Any) -> None:
        for acct in run.accounts:
            assert run.venue.wallet_equals_ledger(acct.account_id), raw

    execute(program, check)


# --- (b) rejections change nothing -----------------------------------------------------------


@SETTINGS
@given(programs)
def test_a_rejected_operation_changes_nothing(program: list[tuple[Any, ...]]) -> None:
    def check(
        run: Run,
        raw: tuple[Any, ...],
        accepted: bool | None,
        acct: Account | None,
        before: dict[str, Any],
    ) -> None:
        if accepted is False:
            assert acct is not None
            assert acct.to_dict() == before["state"], raw
            assert ledger_size(run.venue) == before["ledger"], raw

    execute(program, check)


# --- (c) accepted operations keep the available balance non-negative -------------------------

# A resting order that only closes the position reserves its full initial margin in the figures,
# although new_order costs it at 0 (see test_operations.py).
# Here: long 0.2 BTC with about 21 USDT available, then a sell of 0.2 at +1% reserves 505.
CLOSING_LIMIT = [
    ("market", ONE_WAY, "BTCUSDT", BUY, 150, LONG, False),
    ("limit", ONE_WAY, "BTCUSDT", SELL, 200, LONG, 10, False),
]


@SETTINGS
@example(CLOSING_LIMIT)
@given(programs)
def test_accepted_operations_keep_the_available_balance_non_negative(
    program: list[tuple[Any, ...]],
) -> None:
    def check(
        run: Run,
        raw: tuple[Any, ...],
        accepted: bool | None,
        acct: Account | None,
        before: dict[str, Any],
    ) -> None:
        if not accepted:
            return
        assert acct is not None
        after = raw_available(run.venue, acct)
        # only what was non-negative before must stay so (a mark move may have taken it below)
        if before["available"] >= 0:
            assert after >= 0, (raw, before["available"], after)
        shown = fig.compute(acct, run.venue.market, run.venue.marks).available_balance
        assert shown >= 0

    execute(program, check)


# --- (d) liquidation price -------------------------------------------------------------------


def marks_at(marks: Marks, symbol: str, price: Decimal) -> Marks:
    moved = dict(marks)
    moved[symbol] = dataclasses.replace(marks[symbol], mark_price=price)
    return moved


def balance_and_maintenance(
    acct: Account, marks: Marks, symbol: str, side: PositionSide
) -> tuple[Decimal, Decimal]:
    """The margin balance and maintenance margin that decide liquidation (FACTS.md): the
    isolated position's own, or the account's cross book."""
    figs = fig.compute(acct, MARKET, marks)
    pf = figs.position(symbol, side)
    assert pf is not None
    if pf.isolated:
        return pf.position.isolated_wallet + pf.unrealized_pnl, pf.maint_margin
    cross = [p for p in figs.positions if not p.isolated and p.position.amount != 0]
    balance = figs.cross_collateral + sum((p.unrealized_pnl for p in cross), D(0))
    return balance, sum((p.maint_margin for p in cross), D(0))


def check_liquidation_price(
    v: Venue, acct: Account, symbol: str, side: PositionSide
) -> tuple[Decimal, Decimal] | None:
    """(d) for one position: the marks one tick on its safe and on its liquidation side of the
    reported price; None when that price is 0 (nothing liquidates it)."""
    row = next(
        r for r in views.position_risk(acct, v.market, v.marks, symbol) if r.position_side == side
    )
    lp = row.liquidation_price
    tick = MARKET.symbol(symbol).tick_size
    if lp - tick <= 0:
        return None
    amount = acct.position(symbol, side).amount
    safe, unsafe = (lp + tick, lp - tick) if amount > 0 else (lp - tick, lp + tick)
    balance, mm = balance_and_maintenance(acct, marks_at(v.marks, symbol, safe), symbol, side)
    assert balance > mm, ("safe side", lp, safe, balance, mm)
    balance, mm = balance_and_maintenance(acct, marks_at(v.marks, symbol, unsafe), symbol, side)
    assert balance < mm, ("liquidation side", lp, unsafe, balance, mm)
    return safe, unsafe


@SETTINGS
@given(
    symbol=symbols,
    isolated=st.booleans(),
    side=sides,
    units=st.integers(1, 300),
    leverage=st.integers(1, 75),
    cover=st.integers(102, 600),
    added=st.integers(0, 2_000),
    move=st.integers(-80, 80),
)
def test_the_liquidation_price_is_where_margin_meets_maintenance(
    symbol: str,
    isolated: bool,
    side: OrderSide,
    units: int,
    leverage: int,
    cover: int,
    added: int,
    move: int,
) -> None:
    """One position, cross or isolated; the wallet is `cover`% of its initial margin plus the
    fee (plus what is then added to an isolated position), then the mark moves up to ±8%."""
    v = new_venue()
    acct = v.open_account(T0)
    i = acct.account_id
    quantity = units * QTY[symbol][0]
    notional = quantity * MARKS[symbol]
    wallet = (notional / leverage * cover / 100 + notional * D("0.00035")).quantize(D("0.01"))
    extra = D(added) / 10 if isolated else D(0)
    v.apply(i, ops.deposit, T0, asset="USDT", amount=wallet + extra + 1)
    if isolated:
        v.apply(i, ops.set_margin_type, T0, symbol=symbol, margin_type=MarginType.ISOLATED)
    v.apply(i, ops.set_leverage, T0, symbol=symbol, leverage=leverage)
    v.apply(i, ops.new_order, T0, symbol=symbol, side=side, type=MARKET_ORDER, quantity=quantity)
    if extra:
        v.apply(
            i,
            ops.modify_position_margin,
            T0,
            symbol=symbol,
            amount=extra,
            type=PositionMarginChange.ADD,
        )
    spec = MARKET.symbol(symbol)
    v.set_mark(symbol, spec.round_price(MARKS[symbol] * (1 + D(move) / 1000)), T0 + 1)
    if acct.position(symbol, BOTH).amount == 0:
        return  # liquidated by the move

    around = check_liquidation_price(v, acct, symbol, BOTH)

    if around is not None:  # and the risk sweep agrees
        safe, unsafe = around
        v.set_mark(symbol, safe, T0 + 2)
        assert acct.position(symbol, BOTH).amount != 0
        v.set_mark(symbol, unsafe, T0 + 3)
        assert acct.position(symbol, BOTH).amount == 0


@SETTINGS
@given(programs)
def test_liquidation_prices_after_random_programs(program: list[tuple[Any, ...]]) -> None:
    run = execute(program, lambda *_: None)

    for acct in run.accounts:
        figs = fig.compute(acct, run.venue.market, run.venue.marks)
        cross = [pf for pf in figs.positions if not pf.isolated and pf.position.amount != 0]
        for pf in figs.positions:
            if pf.position.amount == 0:
                continue
            if pf.isolated or len(cross) == 1:
                check_liquidation_price(run.venue, acct, pf.position.symbol, pf.position.side)


def test_rounding_of_the_reported_price_stays_within_a_tick() -> None:
    # The view rounds half-up to the price precision, which is never coarser than the tick here,
    # so the exact price lies strictly between LP − tick and LP + tick.
    for spec in MARKET.symbols.values():
        unit = D(1).scaleb(-spec.price_precision)
        assert unit <= spec.tick_size, spec.symbol
        assert (spec.tick_size / 3).quantize(unit, rounding=ROUND_HALF_UP) <= spec.tick_size
