"""RiskBook: the float screen finds every account the exact Decimal sweep would change.

(1) differential: random venues and random sequences of ticks, funding, orders, margin moves and
    marks changed behind the book's back; after every step the screened venue and the exact one
    (every holder checked in Decimal) have the same results, ledgers, states and insurance fund;
(2) tolerance: positions built exactly on the liquidation line (margin balance == maintenance
    margin, in Decimal) are liquidated, including those a plain float evaluation puts above it;
(3) margin calls: exactly on the call ratio, and on / off / on again, both paths alike;
(4) the benchmark's quick run.
"""

from __future__ import annotations

import importlib.util
import io
import json
import random
import sys
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from enginekit import BOTH, BUY, GTC, LIMIT, LONG, MARKET, MARKET_ORDER, SELL, SHORT, D

from aster_account.engine import account as ops
from aster_account.engine import figures as fig
from aster_account.engine import riskbook
from aster_account.engine.context import Outcome
from aster_account.engine.prices import MarkPrice
from aster_account.engine.riskbook import cross_collateral
from aster_account.engine.state import Account, Position, SymbolConfig
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import (
    AutoCloseType,
    MarginType,
    PositionMarginChange,
)
from aster_account.protocol.errors import AsterError
from aster_account.protocol.models import MarginCall

T0 = 1_700_000_000_000
START = {
    "BTCUSDT": D("50000"),
    "ETHUSDT": D("3000"),
    "ARBUSDT": D("0.8"),
    "ASTERUSDT": D("1.5"),
    "TRUTHUSDT": D("0.05"),
}
SYMBOLS = list(START)


# --- random venues ------------------------------------------------------------------------------


def _awkward_entry(rng: random.Random, symbol: str) -> Decimal:
    """An entry price like an average of fills: on the tick, or with 28 significant digits."""
    raw = START[symbol] * D(repr(1 + rng.gauss(0, 0.03)))
    if rng.random() < 0.5:
        return MARKET.symbol(symbol).round_price(raw)
    return raw * 3 / 7 * 7 / 3


def populate(venue: Venue, rng: random.Random, n_accounts: int) -> None:
    for symbol, mark in START.items():
        venue.set_mark(symbol, mark, T0)
    for _ in range(n_accounts):
        hedge = rng.random() < 0.6
        multi = rng.random() < 0.15
        acct = venue.open_account(T0, dual_side=hedge, multi_assets=multi)
        cross_notional = D(0)
        held = D(0)
        for symbol in rng.sample(SYMBOLS, rng.randint(1, 4)):
            spec = MARKET.symbol(symbol)
            isolated = not multi and rng.random() < 0.35
            leverage = min(rng.choice((5, 10, 20, 50)), spec.brackets.max_leverage)
            margin_type = MarginType.ISOLATED if isolated else MarginType.CROSSED
            acct.configs[symbol] = SymbolConfig(leverage, margin_type)
            sides = rng.choice([[LONG], [SHORT], [LONG, SHORT]]) if hedge else [BOTH]
            for side in sides:
                notional = D(repr(rng.uniform(100, 60_000)))
                qty = max(
                    (notional / START[symbol]).quantize(spec.step_size, ROUND_DOWN), spec.min_qty
                )
                sign = -1 if side is SHORT else 1
                if side is BOTH and rng.random() < 0.5:
                    sign = -1
                pos = Position(symbol, side, sign * qty, _awkward_entry(rng, symbol))
                if isolated:
                    im = qty * START[symbol] / leverage
                    pos.isolated_wallet = ops.money(im * D(repr(rng.uniform(0.2, 1.2))))
                    held += pos.isolated_wallet
                else:
                    cross_notional += qty * START[symbol]
                acct.positions[(symbol, side)] = pos
        collateral = ops.money(cross_notional * D(repr(rng.uniform(0.01, 0.12)))) + 5
        if multi:
            usdc = ops.money(collateral * D(repr(rng.uniform(0, 0.5))))
            btc = ops.money(collateral * D(repr(rng.uniform(0, 0.3))) / D(95000))
            acct.futures = {
                "USDT": collateral - usdc - btc * 95000 + held,
                "USDC": usdc,
                "BTC": btc,
            }
        else:
            acct.futures = {"USDT": collateral + held}
        # margin calls already in force, some of them for positions that are gone
        if rng.random() < 0.1:
            acct.margin_calls.add("CROSS")
        if rng.random() < 0.05:
            acct.margin_calls.add("ETHUSDT:LONG")
    venue.resync()


def twin_venues(seed: int, n_accounts: int) -> tuple[Venue, Venue]:
    venues = []
    for screen in (True, False):
        venue = Venue(MARKET, screen=screen)
        populate(venue, random.Random(seed), n_accounts)
        if seed % 3 == 0:
            venue.insurance_fund["USDT"] = D(20)  # small: gaps go to ADL
        venues.append(venue)
    return venues[0], venues[1]


def random_steps(seed: int, venue: Venue, n: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Steps, drawn against the state of one venue (both venues stay identical)."""
    rng = random.Random(seed * 7919 + 1)
    for _ in range(n):
        kind = rng.choices(
            ["tick", "gap", "funding", "market", "limit", "deposit", "margin", "behind"],
            weights=[10, 2, 1, 2, 2, 1, 1, 1],
        )[0]
        symbol = rng.choice(SYMBOLS)
        spec = MARKET.symbol(symbol)
        mark = venue.marks[symbol].mark_price
        account_id = rng.choice(sorted(venue.accounts))
        acct = venue.accounts[account_id]
        side = rng.choice([BUY, SELL])
        position_side = None
        if acct.dual_side:
            position_side = rng.choice([LONG, SHORT])
        if kind in ("tick", "gap", "behind"):
            move = rng.uniform(-0.04, 0.04) if kind != "gap" else rng.choice((-1, 1)) * 0.15
            new = spec.round_price(mark * D(repr(1 + move)))
            yield kind, (symbol, max(new, spec.tick_size))
        elif kind == "funding":
            yield kind, (symbol, D(rng.randint(-30, 30)) / 10_000)
        elif kind in ("market", "limit"):
            qty = max(
                (D(repr(rng.uniform(50, 4000))) / mark).quantize(spec.step_size, ROUND_DOWN),
                spec.min_qty,
            )
            kw: dict[str, Any] = {
                "symbol": symbol,
                "side": side,
                "quantity": qty,
                "position_side": position_side,
            }
            if kind == "market":
                kw["type"] = MARKET_ORDER
            else:
                away = D(repr(rng.uniform(0.002, 0.02)))
                price = mark * (1 - away) if side is BUY else mark * (1 + away)
                kw.update(
                    type=LIMIT,
                    price=spec.round_price(price),
                    time_in_force=GTC,
                )
            yield "op", (account_id, ops.new_order, kw)
        elif kind == "deposit":
            amount = D(rng.randint(1, 5000))
            yield "op", (account_id, ops.deposit, {"asset": "USDT", "amount": amount})
        else:
            change = rng.choice(list(PositionMarginChange))
            amount = D(rng.randint(1, 20000)) / 100
            yield (
                "op",
                (
                    account_id,
                    ops.modify_position_margin,
                    {
                        "symbol": symbol,
                        "amount": amount,
                        "type": change,
                        "position_side": position_side,
                    },
                ),
            )


def play(venue: Venue, step: tuple[str, tuple[Any, ...]], now: int) -> Any:
    kind, args = step
    if kind in ("tick", "gap"):
        return venue.set_mark(args[0], args[1], now)
    if kind == "behind":  # a mark set without set_mark: the book must notice on its own
        old = venue.marks[args[0]]
        venue.marks[args[0]] = MarkPrice(
            args[0], args[1], args[1], old.funding_rate, old.next_funding_time, now
        )
        return None
    if kind == "funding":
        venue.set_mark(args[0], venue.marks[args[0]].mark_price, now, funding_rate=args[1])
        return venue.settle_funding(args[0], now)
    account_id, op, kw = args
    try:
        return venue.apply(account_id, op, now, **kw)
    except AsterError as exc:
        return ("error", exc.code)


def assert_same(screened: Venue, exact: Venue, where: str) -> None:
    assert screened.accounts.keys() == exact.accounts.keys(), where
    for account_id, acct in screened.accounts.items():
        assert acct.to_dict() == exact.accounts[account_id].to_dict(), (where, account_id)
    assert screened.ledger == exact.ledger, where
    assert screened.insurance_fund == exact.insurance_fund, where
    assert screened.holders == exact.holders, where


def liquidated(results: dict[int, Outcome]) -> set[int]:
    return {
        account_id
        for account_id, out in results.items()
        for r in out.records
        if getattr(r, "auto_close_type", None) is AutoCloseType.LIQUIDATION
    }


def margin_calls(results: dict[int, Outcome]) -> list[tuple[int, MarginCall]]:
    return [
        (account_id, e)
        for account_id, out in results.items()
        for e in out.events
        if isinstance(e, MarginCall)
    ]


def run_differential(seed: int, n_accounts: int = 24, n_steps: int = 70) -> dict[str, int]:
    screened, exact = twin_venues(seed, n_accounts)
    assert_same(screened, exact, f"seed {seed} after setup")
    stats = dict.fromkeys(("ticks", "liquidated", "calls", "adl", "checked", "exact_checked"), 0)
    now = T0
    for number, step in enumerate(random_steps(seed, exact, n_steps)):
        now += 1000
        got = play(screened, step, now)
        want = play(exact, step, now)
        where = f"seed {seed} step {number} {step[0]} {step[1]}"
        assert got == want, where
        assert_same(screened, exact, where)
        if step[0] in ("tick", "gap"):
            assert liquidated(got) == liquidated(want), where
            stats["ticks"] += 1
            stats["liquidated"] += len(liquidated(got))
            stats["calls"] += len(margin_calls(got))
            stats["checked"] += screened.last_checked
            stats["exact_checked"] += exact.last_checked
    stats["adl"] = sum(
        1 for r in exact.ledger.force_orders if r.auto_close_type is AutoCloseType.ADL
    )
    return stats


@pytest.mark.parametrize("seed", range(24))
def test_screened_sweep_equals_the_exact_sweep(seed: int) -> None:
    run_differential(seed)


def test_the_differential_runs_exercise_liquidation_adl_and_margin_calls() -> None:
    totals: dict[str, int] = {}
    for seed in (100, 101, 102, 103, 104, 105):
        for key, value in run_differential(seed, n_accounts=30, n_steps=80).items():
            totals[key] = totals.get(key, 0) + value
    assert totals["liquidated"] >= 10, totals
    assert totals["calls"] >= 5, totals
    assert totals["adl"] >= 1, totals
    # the screen checks a fraction of what the exact sweep checks
    assert totals["checked"] * 3 < totals["exact_checked"], totals


def test_book_totals_do_not_drift() -> None:
    """After many ticks of every symbol (brackets changing on the way) each entity's totals are
    exactly what a fresh build at the current marks gives: integer sums never drift."""
    venue = Venue(MARKET)
    populate(venue, random.Random(9), 40)
    for account_id in venue.accounts:  # the margin calls fire and settle once
        venue.book.update(venue.accounts[account_id], venue.marks, checked=True)
    rng = random.Random(10)
    now = T0
    for _ in range(300):
        now += 1000
        symbol = rng.choice(SYMBOLS)
        mark = venue.marks[symbol].mark_price * D(repr(1 + rng.uniform(-0.01, 0.01)))
        venue.set_mark(symbol, MARKET.symbol(symbol).round_price(mark), now)
    compared = 0
    for account_id, acct in venue.accounts.items():
        kept = venue.book.headroom(account_id)
        venue.book.forget(account_id)
        venue.book.update(acct, venue.marks, checked=True)
        assert venue.book.headroom(account_id) == kept, account_id
        compared += len(kept)
    assert compared > 30


def test_removed_rows_are_compacted() -> None:
    """Rows of entities that are gone do not stay in the tick's way."""
    venue = Venue(MARKET)
    populate(venue, random.Random(13), 1500)
    book = venue.book
    before = sum(len(rows.ids) for rows in book._rows.values())
    gone = sorted(venue.accounts)[:1300]
    for account_id in gone:
        book.forget(account_id)
    slots = sum(len(rows.ids) for rows in book._rows.values())
    live = sum(len(rows) for rows in book._rows.values())
    assert slots < before / 2
    assert slots <= 2 * live + 64 * len(book._rows)
    now = T0
    for symbol in SYMBOLS:  # the rows left still move, and match a fresh build
        now += 1000
        venue.set_mark(symbol, venue.marks[symbol].mark_price * D("0.999"), now)
    for account_id, acct in venue.accounts.items():
        if account_id in gone:
            continue
        kept = book.headroom(account_id)
        book.forget(account_id)
        book.update(acct, venue.marks, checked=True)
        assert book.headroom(account_id) == kept


def test_cross_collateral_is_the_figures_one() -> None:
    venue = Venue(MARKET)
    populate(venue, random.Random(5), 60)
    for acct in venue.accounts.values():
        want = fig.compute(acct, MARKET, venue.marks).cross_collateral
        assert cross_collateral(acct, MARKET) == want


# --- (2) exactly on the liquidation line --------------------------------------------------------


def _naive_float_slack(acct: Account, marks: dict[str, Decimal]) -> float:
    """Margin balance − maintenance margin of the account's only entity, in plain floats."""
    balance = 0.0
    mm = 0.0
    for pos in acct.positions.values():
        if pos.amount == 0:
            continue
        mark = float(marks[pos.symbol])
        amount = float(pos.amount)
        notional = abs(pos.amount) * marks[pos.symbol]
        bracket = MARKET.symbol(pos.symbol).brackets.for_notional(notional)
        balance += amount * (mark - float(pos.entry_price)) + float(pos.isolated_wallet)
        mm += abs(amount) * mark * float(bracket.maint_margin_ratio) - float(bracket.cum)
    if not any(p.isolated_wallet for p in acct.positions.values()):
        balance += float(cross_collateral(acct, MARKET))
    return balance - mm


def _entity_figures(acct: Account, marks: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    """(margin balance, maintenance margin) of the account's only entity, in Decimal."""
    venue_marks = {s: MarkPrice(s, m, m, D(0), 0, 0) for s, m in marks.items()}
    figs = fig.compute(acct, MARKET, venue_marks)
    mm = sum((pf.maint_margin for pf in figs.positions), D(0))
    upnl = sum((pf.unrealized_pnl for pf in figs.positions), D(0))
    wallet = sum((pf.position.isolated_wallet for pf in figs.positions), D(0))
    return (wallet or figs.cross_collateral) + upnl, mm


def _on_the_line(
    rng: random.Random, cross: bool, scale: float
) -> tuple[Venue, Venue, str, Decimal, Decimal, Account] | None:
    """Twin venues with one account whose margin balance equals its maintenance margin exactly
    once `symbol` moves to `target`, and a `start` mark at which it is in margin call but not
    liquidated. Cross: legs in two or three symbols (hedge or one-way)."""
    symbols = rng.sample(SYMBOLS, rng.randint(2, 3)) if cross else [rng.choice(SYMBOLS)]
    symbol = symbols[0]
    spec = MARKET.symbol(symbol)
    target = spec.round_price(START[symbol] * D(repr(rng.uniform(0.9, 1.1))))
    marks = {**START, symbol: target}
    hedge = rng.random() < 0.5
    acct = Account(1, dual_side=hedge)
    for name in symbols:
        margin_type = MarginType.CROSSED if cross else MarginType.ISOLATED
        acct.configs[name] = SymbolConfig(10, margin_type)
        sides = [LONG, SHORT] if hedge else [BOTH]
        for side in sides if cross else sides[:1]:
            step = MARKET.symbol(name).step_size
            notional = D(repr(rng.uniform(1_000, 900_000) * scale))
            qty = max((notional / START[name]).quantize(step, ROUND_DOWN), step)
            sign = -1 if side is SHORT else 1
            if side is BOTH:
                sign = rng.choice((-1, 1))
            # many digits, none rounded away: Decimal sums stay exact, floats do not
            entry = (marks[name] * D(repr(rng.uniform(0.95, 1.05)))).quantize(D("1e-10"))
            acct.positions[(name, side)] = Position(name, side, sign * qty, entry)
    balance, mm = _entity_figures(acct, marks)
    collateral = mm - balance  # what makes margin balance == maintenance margin at `target`
    if collateral <= 0:
        return None
    if cross:
        acct.futures = {"USDT": collateral}
    else:
        pos = next(iter(acct.positions.values()))
        pos.isolated_wallet = collateral
        acct.futures = {"USDT": collateral + 1000}
    # a start mark on the safe side in margin call, MM / balance about 0.9: the balance less the
    # MM moves by about `slope` per unit of mark, and should be MM / 9 there
    probe = target * D("1.0001")
    balance, mm = _entity_figures(acct, {**marks, symbol: probe})
    slope = (balance - mm) / (probe - target)
    if slope == 0:
        return None
    start = spec.round_price(target + mm / 9 / slope)
    if start <= 0:
        return None
    balance, mm = _entity_figures(acct, {**marks, symbol: start})
    if not (balance > mm and D("0.8") <= mm / balance < D("0.97")):
        return None
    venues = []
    for screen in (True, False):
        venue = Venue(MARKET, screen=screen)
        for name, mark in START.items():
            venue.set_mark(name, mark, T0)
        venue.set_mark(symbol, start, T0)
        venue.accounts[1] = Account.from_dict(acct.to_dict())
        venue.resync()
        venues.append(venue)
    return venues[0], venues[1], symbol, start, target, venues[0].accounts[1]


def _boundary_runs(seed: int, cross: bool, cases: int, scale: float = 1.0) -> tuple[int, int, int]:
    """(cases built, cases plain floats put above the line, cases the screen missed)."""
    rng = random.Random(seed)
    built = floats_above = missed = 0
    while built < cases:
        made = _on_the_line(rng, cross, scale)
        if made is None:
            continue
        screened, exact, symbol, start, target, acct = made
        now = T0
        for mark in (start, target):
            now += 1000
            got = screened.set_mark(symbol, mark, now)
            want = exact.set_mark(symbol, mark, now)
            if mark == start:
                # in margin call at the start, so the call screen does not catch it at the line
                assert margin_calls(want) and not liquidated(want)
                assert got == want
                marks = {name: mp.mark_price for name, mp in screened.marks.items()}
                marks[symbol] = target
                floats_above += _naive_float_slack(acct, marks) > 0
        built += 1
        assert liquidated(want) == {1}
        if liquidated(got) != {1}:
            missed += 1
        else:
            assert got == want
            assert_same(screened, exact, f"on the line, {symbol} at {target}")
    return built, floats_above, missed


@pytest.mark.parametrize("scale", [1.0, 1e5])
@pytest.mark.parametrize("cross", [False, True])
def test_positions_exactly_on_the_liquidation_line_are_liquidated(
    cross: bool, scale: float
) -> None:
    """Scale 1: notionals up to 900k; 1e5: up to 9e10, where float errors pass ABS_TOL."""
    _, floats_above, missed = _boundary_runs(21 if cross else 22, cross, 120, scale)
    assert missed == 0
    # plain floats put some of them above the line: the tolerance is what catches those
    assert floats_above > 0


@pytest.mark.parametrize(
    ("rel", "abs_", "scale"),
    [(0.0, 0.0, 1.0), (0.0, riskbook.ABS_TOL, 1e5)],
    ids=["no tolerance", "no relative tolerance, large notionals"],
)
def test_without_the_tolerance_the_screen_would_miss_some(
    monkeypatch: pytest.MonkeyPatch, rel: float, abs_: float, scale: float
) -> None:
    """The documented tolerance is load-bearing: without it the same boundary cases (cross
    books over several symbols, quantized per symbol) slip through the screen, and without its
    relative part so do large books."""
    monkeypatch.setattr(riskbook, "REL_TOL", rel)
    monkeypatch.setattr(riskbook, "ABS_TOL", abs_)
    _, _, missed = _boundary_runs(21, True, 120, scale)
    assert missed > 0


def test_an_account_deleveraged_during_a_sweep_is_checked_later_in_it() -> None:
    """A's gap liquidation deleverages B (a later account holding the symbol, quiet before):
    B's margin call must be lifted in the same sweep, as the exact path does."""
    outs = []
    for screen in (True, False):
        venue = Venue(MARKET, screen=screen)
        venue.set_mark("BTCUSDT", D(50000), T0)
        venue.set_mark("ETHUSDT", D(2700), T0)
        venue.insurance_fund["USDT"] = D(0)
        a = venue.open_account(T0)
        a.configs["BTCUSDT"] = SymbolConfig(10, MarginType.ISOLATED)
        a.positions[("BTCUSDT", BOTH)] = Position(
            "BTCUSDT", BOTH, D(1), D(50000), isolated_wallet=D(4900)
        )
        a.futures = {"USDT": D(5000)}
        b = venue.open_account(T0)
        b.positions[("BTCUSDT", BOTH)] = Position("BTCUSDT", BOTH, D("-0.002"), D(60000))
        b.positions[("ETHUSDT", BOTH)] = Position("ETHUSDT", BOTH, D(10), D(3000))
        # at BTC 45000: MM 0.36 + 108, balance 135.325: ratio 0.8007, in call and quiet;
        # ADL at A's bankruptcy price 45100 leaves MM 108, balance 135.125: ratio 0.7993
        b.futures = {"USDT": D("3105.325")}
        venue.resync()
        first = venue.set_mark("BTCUSDT", D(50000), T0 + 1000)
        assert b.margin_calls == {"CROSS"}
        second = venue.set_mark("BTCUSDT", D(45000), T0 + 2000)
        assert liquidated(second) == {a.account_id}
        adl = [
            r
            for r in second[b.account_id].records
            if getattr(r, "auto_close_type", None) is AutoCloseType.ADL
        ]
        assert len(adl) == 1
        assert b.margin_calls == set()
        outs.append((first, second, a.to_dict(), b.to_dict(), venue.ledger))
    assert outs[0] == outs[1]


# --- (3) margin calls --------------------------------------------------------------------------


def test_margin_call_exactly_on_the_ratio_fires_in_both_paths() -> None:
    rng = random.Random(3)
    fired = 0
    for _ in range(100):
        symbol = rng.choice(SYMBOLS)
        spec = MARKET.symbol(symbol)
        target = spec.round_price(START[symbol] * D(repr(rng.uniform(0.9, 1.1))))
        qty = max(
            (D(repr(rng.uniform(100, 50_000))) / START[symbol]).quantize(
                spec.step_size, ROUND_DOWN
            ),
            spec.min_qty,
        )
        entry = (target * D(repr(rng.uniform(0.97, 1.03)))).quantize(D("1e-8"))
        mm = spec.brackets.maintenance_margin(qty * target)
        # margin ratio mm / (iw + uPnL) == 0.8 exactly at `target`
        wallet = mm / MARKET.margin_call_ratio - qty * (target - entry)
        if wallet <= 0:
            continue
        outs = []
        for screen in (True, False):
            venue = Venue(MARKET, screen=screen)
            for name, mark in START.items():
                venue.set_mark(name, mark, T0)
            venue.set_mark(symbol, spec.round_price(target * D("1.3")), T0)
            acct = venue.open_account(T0)
            acct.configs[symbol] = SymbolConfig(10, MarginType.ISOLATED)
            acct.positions[(symbol, BOTH)] = Position(
                symbol, BOTH, qty, entry, isolated_wallet=wallet
            )
            acct.futures = {"USDT": wallet + 10}
            venue.resync()
            venue.set_mark(symbol, spec.round_price(target * D("1.3")), T0 + 1)
            outs.append(venue.set_mark(symbol, target, T0 + 2))
            outs.append(acct.to_dict())
        assert outs[0] == outs[2]
        assert outs[1] == outs[3]
        calls = margin_calls(outs[0])
        assert len(calls) == 1
        fired += 1
    assert fired >= 50


def test_margin_call_on_off_on_in_both_paths() -> None:
    symbol = "ETHUSDT"
    outs: list[list[Any]] = []
    for screen in (True, False):
        venue = Venue(MARKET, screen=screen)
        for name, mark in START.items():
            venue.set_mark(name, mark, T0)
        acct = venue.open_account(T0, dual_side=True)
        acct.configs[symbol] = SymbolConfig(20, MarginType.CROSSED)
        acct.configs["BTCUSDT"] = SymbolConfig(20, MarginType.CROSSED)
        acct.positions[(symbol, LONG)] = Position(symbol, LONG, D(10), D(3000))
        acct.positions[(symbol, SHORT)] = Position(symbol, SHORT, D(-4), D("3012.5"))
        acct.positions[("BTCUSDT", LONG)] = Position("BTCUSDT", LONG, D("0.2"), D(50000))
        acct.futures = {"USDT": D(400)}
        venue.resync()
        seen = []
        now = T0
        for mark in ("3000", "2990", "2965", "2980", "3010", "2962", "2961.5", "2940"):
            now += 1000
            results = venue.set_mark(symbol, D(mark), now)
            seen.append((mark, results, sorted(acct.margin_calls)))
        now += 1000
        seen.append(("btc", venue.set_mark("BTCUSDT", D(49000), now), sorted(acct.margin_calls)))
        outs.append(seen)
    assert outs[0] == outs[1]
    flags = [row[2] for row in outs[0]]
    assert ["CROSS"] in flags and [] in flags
    fired = sum(len(margin_calls(row[1])) for row in outs[0])
    assert fired >= 2


# --- (4) the benchmark, quick ------------------------------------------------------------------


def _bench() -> Any:
    path = Path(__file__).resolve().parents[3] / "bench" / "engine_tick.py"
    spec = importlib.util.spec_from_file_location("engine_tick_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_benchmark_quick_run() -> None:
    out = io.StringIO()
    result = _bench().main(["--quick"], out=out)
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert last == json.loads(json.dumps(result))
    for key in ("tick_ms_p50_100k", "tick_ms_p50_10k", "tick_ms_p50_30k", "tick_ms_p90_100k"):
        assert last[key] > 0
    assert "per_position_cost_ratio_100k_over_10k" in last
    for name, size in last["sizes"].items():
        assert size["accounts_liquidated"] > 0, name
        assert size["positions_liquidated"] >= size["accounts_liquidated"], name
        assert size["baseline_results_differ"] == 0, name
        assert size["missed_by_decimal_scan"] == 0, name
        assert size["checked_per_tick_p50"] < size["baseline_checked_per_tick_p50"], name
    # quick mode replays every tick on the exact twin: states must match in full
    assert all(size["baseline_states_equal"] for size in last["sizes"].values())
