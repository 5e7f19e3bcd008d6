"""Benchmark: one mark-price tick on one symbol finds and settles every liquidation it causes.

What is built (printed exactly at run time): accounts holding N open positions across the five
symbols of the shipped market, mostly hedge mode with both sides, some one-way; about 30 % of the
(account, symbol) pairs isolated, the rest cross; about 5 % of the accounts in multi-assets mode
with part of their collateral in USDC. A one-way account holds at most one position per symbol
and a hedge one at most two, so N positions need about N / 8 accounts (12,000+ for 100,000):
the mix is printed rather than forced onto 10,000 accounts.

The mark path is fixed in advance: the symbols tick round-robin, each always the same way
(BTC, ARB, TRUTH down; ETH, ASTER up) by 0.25 % a tick. Every entity (a cross book or an isolated
position) gets its collateral from its float trajectory along that path: most stay clear of the
margin-call ratio all along; for each measured tick, ENTITY_RATE × (positions in the ticked
symbol) entities, 70 % of them cross books, get collateral between their lowest margin balance
so far and their balance after that tick, so that tick liquidates them (some pass through margin
call on the way). A liquidated cross book closes all its positions, in every symbol: both counts
are printed. Which accounts are really liquidated is decided by the engine (the Decimal rule in
`risk.check_account`), and verified: the same ticks are replayed on a twin venue with the screen
off (every holder checked in Decimal, the baseline) and results, ledgers and states must be
identical; ticks the twin does not replay (the largest size) are verified by a Decimal scan of
every holder of the ticked symbol afterwards (nothing left at or below its maintenance margin).

Timing: wall clock around `Venue.set_mark`, order matching, screen, Decimal checks, liquidations,
ADL and bookkeeping included; the float screen's share (`RiskBook.tick`) is printed apart. The
heap built at setup is frozen out of the cyclic garbage collector (`gc.freeze`), as a long-running
process does after loading its state. The machine is shared: compare medians and ratios.

Usage: python bench/engine_tick.py [--quick] [--seed N]. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from aster_account.engine import figures as fig
from aster_account.engine import risk
from aster_account.engine.context import Outcome
from aster_account.engine.ledger import ForceOrderRecord
from aster_account.engine.market import Market
from aster_account.engine.state import Account, Position, SymbolConfig
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import AutoCloseType, MarginType, PositionSide

START_MARKS = {
    "BTCUSDT": Decimal("100000"),
    "ETHUSDT": Decimal("3000"),
    "ARBUSDT": Decimal("0.5"),
    "ASTERUSDT": Decimal("1.2"),
    "TRUTHUSDT": Decimal("0.02"),
}
DIRECTION = {"BTCUSDT": -1, "ETHUSDT": 1, "ARBUSDT": -1, "ASTERUSDT": 1, "TRUTHUSDT": -1}
STEP = 0.0025  # relative mark move per tick
MAX_NOTIONAL = {"TRUTHUSDT": 8000.0}  # stay inside the small TRUTH table
HEDGE_SHARE = 0.85
HEDGE_HOLDS = 0.97  # a hedge account holds a symbol with this probability
HEDGE_BOTH = 0.90  # ... and then both sides with this one
ONE_WAY_HOLDS = 0.60
ISOLATED_SHARE = 0.30
MULTI_ASSETS_SHARE = 0.05
# entities (cross books or isolated positions) built to be liquidated by one measured tick, per
# position held in the ticked symbol, and the share of them that are cross books
ENTITY_RATE = 0.0025
CROSS_TARGET_SHARE = 0.7
T0 = 1_700_000_000_000


@dataclass
class Leg:
    symbol: str
    side: PositionSide
    amount: Decimal
    entry: Decimal
    leverage: int


@dataclass
class Entity:
    account: int  # index into Built.accounts
    isolated: bool
    legs: list[Leg]
    target: int | None = None  # tick index this entity is built to be liquidated at


@dataclass
class Plan:
    """Accounts (what they hold) and the entities to fund, before any venue exists."""

    n_positions: int
    accounts: list[dict[str, Any]] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    collateral: list[Decimal] = field(default_factory=list)  # per entity


def mark_path(n_ticks: int, market: Market) -> list[tuple[str, Decimal]]:
    """(symbol, mark) of every tick: round-robin, each symbol moving STEP its own way."""
    symbols = list(START_MARKS)
    count = dict.fromkeys(symbols, 0)
    path = []
    for t in range(n_ticks):
        symbol = symbols[t % len(symbols)]
        count[symbol] += 1
        spec = market.symbol(symbol)
        raw = START_MARKS[symbol] * Decimal(1 + DIRECTION[symbol] * STEP * count[symbol])
        path.append((symbol, spec.round_price(raw)))
    return path


class FloatBrackets:
    def __init__(self, market: Market, symbol: str) -> None:
        table = market.symbol(symbol).brackets.brackets
        self.floors = [float(b.notional_floor) for b in table]
        self.mmrs = [float(b.maint_margin_ratio) for b in table]
        self.cums = [float(b.cum) for b in table]

    def mm(self, notional: float) -> float:
        i = bisect.bisect_right(self.floors, notional) - 1
        return notional * self.mmrs[i] - self.cums[i]


def plan(n_positions: int, n_ticks: int, measured_from: int, market: Market, seed: int) -> Plan:
    """What every account holds and how much collateral each entity gets (see module doc)."""
    rng = random.Random(seed)
    out = Plan(n_positions)
    symbols = list(START_MARKS)
    made = 0
    while made < n_positions:
        hedge = rng.random() < HEDGE_SHARE
        multi = rng.random() < MULTI_ASSETS_SHARE
        index = len(out.accounts)
        legs_by_symbol: dict[str, list[Leg]] = {}
        config: dict[str, tuple[int, bool]] = {}
        for symbol in symbols:
            if made >= n_positions:
                break
            if rng.random() >= (HEDGE_HOLDS if hedge else ONE_WAY_HOLDS):
                continue
            spec = market.symbol(symbol)
            leverage = min(rng.choice((5, 10, 20, 25)), spec.brackets.max_leverage)
            isolated = not multi and rng.random() < ISOLATED_SHARE
            if hedge:
                both = rng.random() < HEDGE_BOTH
                sides = (
                    [PositionSide.LONG, PositionSide.SHORT]
                    if both
                    else [rng.choice((PositionSide.LONG, PositionSide.SHORT))]
                )
            else:
                sides = [PositionSide.BOTH]
            legs = []
            for side in sides:
                if made >= n_positions:
                    break
                direction = (
                    -1
                    if side is PositionSide.SHORT
                    or (side is PositionSide.BOTH and rng.random() < 0.5)
                    else 1
                )
                notional = min(
                    max(rng.lognormvariate(7.6, 1.0), 50.0), MAX_NOTIONAL.get(symbol, 40000.0)
                )
                mark = START_MARKS[symbol]
                qty = (Decimal(repr(notional)) / mark).quantize(spec.step_size, ROUND_DOWN)
                qty = max(qty, spec.min_qty)
                entry = spec.round_price(mark * Decimal(repr(1 + rng.gauss(0, 0.02))))
                legs.append(Leg(symbol, side, direction * qty, entry, leverage))
                made += 1
            if legs:
                legs_by_symbol[symbol] = legs
                config[symbol] = (leverage, isolated)
        if not legs_by_symbol:
            continue
        out.accounts.append({"hedge": hedge, "multi": multi, "config": config})
        cross_legs = [leg for s, legs in legs_by_symbol.items() if not config[s][1] for leg in legs]
        if cross_legs:
            out.entities.append(Entity(index, False, cross_legs))
        for s, legs in legs_by_symbol.items():
            if config[s][1]:
                out.entities.extend(Entity(index, True, [leg]) for leg in legs)
    _fund(out, n_ticks, measured_from, market, rng)
    return out


def _fund(out: Plan, n_ticks: int, measured_from: int, market: Market, rng: random.Random) -> None:
    """Collateral of every entity from its float trajectory along the mark path."""
    path = mark_path(n_ticks, market)
    ratio = float(market.margin_call_ratio)
    tables = {s: FloatBrackets(market, s) for s in START_MARKS}
    start = {s: float(m) for s, m in START_MARKS.items()}
    # tick -> (cross books, isolated positions) that tick can liquidate
    eligible: dict[int, tuple[list[int], list[int]]] = {}
    safe_collateral: list[float] = []
    options: list[dict[int, float]] = []
    # per symbol, its marks along the path (start, then after each of its ticks)
    along = {s: [float(START_MARKS[s])] for s in START_MARKS}
    for symbol, mark in path:
        along[symbol].append(float(mark))
    for e, entity in enumerate(out.entities):
        # (uPnL, MM) of the entity's legs in each symbol, at each of that symbol's marks
        terms: dict[str, list[tuple[float, float]]] = {}
        for leg in entity.legs:
            amount, entry = float(leg.amount), float(leg.entry)
            table = tables[leg.symbol]
            rows = [(amount * (m - entry), table.mm(abs(amount) * m)) for m in along[leg.symbol]]
            have = terms.get(leg.symbol)
            terms[leg.symbol] = (
                rows
                if have is None
                else [(a + c, b + d) for (a, b), (c, d) in zip(have, rows, strict=True)]
            )
        upnl = sum(t[0][0] for t in terms.values())
        mm = sum(t[0][1] for t in terms.values())
        slack = [upnl - mm]  # margin balance less maintenance margin, before collateral
        worst = mm / ratio - upnl  # collateral that keeps M / B below the call ratio
        seen = dict.fromkeys(terms, 0)
        for symbol, _ in path:
            if symbol in terms:
                k = seen[symbol] = seen[symbol] + 1
                (u0, m0), (u1, m1) = terms[symbol][k - 1], terms[symbol][k]
                upnl += u1 - u0
                mm += m1 - m0
            slack.append(upnl - mm)
            worst = max(worst, mm / ratio - upnl)
        exposed: dict[str, float] = {}  # notional at the start, per symbol
        for leg in entity.legs:
            exposed[leg.symbol] = exposed.get(leg.symbol, 0.0) + abs(
                float(leg.amount) * start[leg.symbol]
            )
        notional0 = sum(exposed.values())
        im0 = sum(abs(float(leg.amount)) * start[leg.symbol] / leg.leverage for leg in entity.legs)
        safe_collateral.append(max(worst + 0.05 * notional0, im0))
        lowest = slack[0]
        choices: dict[int, float] = {}
        for t in range(1, n_ticks + 1):
            tick = t - 1
            drop = 1e-3 * exposed.get(path[tick][0], 0.0)
            if tick >= measured_from and slack[t] < lowest - drop:
                # between the lowest balance so far and this tick's: this tick liquidates it
                collateral = -lowest + rng.uniform(0.1, 0.9) * (lowest - slack[t])
                if collateral > 0:
                    choices[tick] = collateral
                    eligible.setdefault(tick, ([], []))[entity.isolated].append(e)
            lowest = min(lowest, slack[t])
        options.append(choices)
    per_symbol: dict[str, int] = {}
    for entity in out.entities:
        for leg in entity.legs:
            per_symbol[leg.symbol] = per_symbol.get(leg.symbol, 0) + 1
    taken: set[int] = set()
    for tick in range(measured_from, n_ticks):
        goal = round(ENTITY_RATE * per_symbol.get(path[tick][0], 0))
        books, isolated = eligible.get(tick, ([], []))
        for pool, share in ((books, CROSS_TARGET_SHARE), (isolated, 1.0)):
            rng.shuffle(pool)
            want = round(goal * share)
            for e in pool:
                if want <= 0:
                    break
                if e in taken:
                    continue
                taken.add(e)
                out.entities[e].target = tick
                want -= 1
                goal -= 1
    for e, entity in enumerate(out.entities):
        value = options[e][entity.target] if entity.target is not None else safe_collateral[e]
        out.collateral.append(Decimal(repr(round(value, 8))))


def build(p: Plan, market: Market, *, screen: bool) -> Venue:
    """A venue holding the plan's accounts, state set directly (then `resync`)."""
    venue = Venue(market, screen=screen)
    for symbol, mark in START_MARKS.items():
        venue.set_mark(symbol, mark, T0)
    accounts: list[Account] = []
    for spec in p.accounts:
        acct = venue.open_account(T0, dual_side=spec["hedge"], multi_assets=spec["multi"])
        for symbol, (leverage, isolated) in spec["config"].items():
            margin_type = MarginType.ISOLATED if isolated else MarginType.CROSSED
            acct.configs[symbol] = SymbolConfig(leverage, margin_type)
        accounts.append(acct)
    wallets: dict[int, Decimal] = {}
    for entity, collateral in zip(p.entities, p.collateral, strict=True):
        acct = accounts[entity.account]
        for leg in entity.legs:
            pos = Position(leg.symbol, leg.side, leg.amount, leg.entry, update_time=T0)
            if entity.isolated:
                pos.isolated_wallet = collateral
            acct.positions[(leg.symbol, leg.side)] = pos
        wallets[entity.account] = wallets.get(entity.account, Decimal(0)) + collateral
    for index, acct in enumerate(accounts):
        total = wallets.get(index, Decimal(0))
        if acct.multi_assets:
            usdc = (total / 3).quantize(Decimal("0.00000001"))
            acct.futures = {"USDT": total - usdc, "USDC": usdc}
        else:
            acct.futures = {"USDT": total}
    venue.resync()
    return venue


class ScreenClock:
    """Wraps `RiskBook.tick` to time the float screen apart from the Decimal checks."""

    def __init__(self, venue: Venue) -> None:
        self.inner = venue.book.tick
        self.last_ms = 0.0
        venue.book.tick = self  # type: ignore[method-assign]

    def __call__(self, *args: Any) -> Any:
        started = time.perf_counter()
        found = self.inner(*args)
        self.last_ms = (time.perf_counter() - started) * 1000
        return found


@dataclass
class TickFigures:
    ms: float
    screen_ms: float
    checked: int
    changed: int  # accounts the tick changed (results); checked - changed: screen false alarms
    accounts_liquidated: list[int]
    positions_liquidated: int
    symbol_positions_liquidated: int
    margin_calls: int


def liquidations(results: dict[int, Outcome], symbol: str) -> tuple[list[int], int, int]:
    accounts = []
    positions = in_symbol = 0
    for account_id, out in results.items():
        forced = [
            r
            for r in out.records
            if isinstance(r, ForceOrderRecord) and r.auto_close_type is AutoCloseType.LIQUIDATION
        ]
        if forced:
            accounts.append(account_id)
            positions += len(forced)
            in_symbol += sum(1 for r in forced if r.symbol == symbol)
    return sorted(accounts), positions, in_symbol


def margin_call_events(results: dict[int, Outcome]) -> int:
    return sum(
        1 for out in results.values() for e in out.events if type(e).__name__ == "MarginCall"
    )


def tick(
    venue: Venue, symbol: str, mark: Decimal, now_ms: int, clock: ScreenClock | None
) -> tuple[TickFigures, Any]:
    started = time.perf_counter()
    results = venue.set_mark(symbol, mark, now_ms)
    ms = (time.perf_counter() - started) * 1000
    accounts, positions, in_symbol = liquidations(results, symbol)
    return (
        TickFigures(
            ms,
            clock.last_ms if clock else 0.0,
            venue.last_checked,
            len(results),
            accounts,
            positions,
            in_symbol,
            margin_call_events(results),
        ),
        results,
    )


def scan_missed(venue: Venue, symbol: str) -> int:
    """Decimal scan after a tick: holders of `symbol` still liquidatable (must be 0)."""
    missed = 0
    for account_id in venue.holders.get(symbol, ()):
        figs = fig.compute(venue.accounts[account_id], venue.market, venue.marks)
        if risk.liquidation_groups(figs):
            missed += 1
    return missed


def describe(p: Plan, venue: Venue) -> dict[str, Any]:
    accts = list(venue.accounts.values())
    positions = [pos for a in accts for pos in a.positions.values() if pos.amount != 0]
    isolated = sum(
        1
        for a in accts
        for pos in a.positions.values()
        if a.configs[pos.symbol].margin_type is MarginType.ISOLATED
    )
    per_symbol = {s: sum(1 for pos in positions if pos.symbol == s) for s in START_MARKS}
    hedge = [a for a in accts if a.dual_side]
    return {
        "accounts": len(accts),
        "hedge_accounts": len(hedge),
        "one_way_accounts": len(accts) - len(hedge),
        "multi_assets_accounts": sum(1 for a in accts if a.multi_assets),
        "positions": len(positions),
        "positions_in_hedge_accounts": sum(
            1 for a in hedge for pos in a.positions.values() if pos.amount
        ),
        "isolated_positions": isolated,
        "cross_positions": len(positions) - isolated,
        "positions_per_symbol": per_symbol,
        "cross_books": sum(1 for e in p.entities if not e.isolated),
        "entities_built_to_liquidate": sum(1 for e in p.entities if e.target is not None),
    }


def p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_size(
    n_positions: int,
    *,
    seed: int,
    warmup: int,
    measured: int,
    baseline_ticks: int,
    out: Any = sys.stdout,
) -> dict[str, Any]:
    """Build, tick, verify one size; returns its figures."""
    market = Market.load()
    n_ticks = warmup + measured
    setup_started = time.perf_counter()
    the_plan = plan(n_positions, n_ticks, warmup, market, seed)
    venue = build(the_plan, market, screen=True)
    setup_s = time.perf_counter() - setup_started
    built = describe(the_plan, venue)
    print(f"\n== {n_positions:,} positions: built in {setup_s:.1f}s", file=out)
    print("   " + json.dumps(built), file=out)
    path = mark_path(n_ticks, market)
    clock = ScreenClock(venue)
    gc.collect()
    gc.freeze()
    screened: list[TickFigures] = []
    outcomes: list[Any] = []
    missed = 0
    for t, (symbol, mark) in enumerate(path):
        figures, results = tick(venue, symbol, mark, T0 + 1000 * (t + 1), clock)
        if t >= warmup:
            screened.append(figures)
        outcomes.append(results)
        if t >= baseline_ticks:
            missed += scan_missed(venue, symbol)
    gc.unfreeze()

    # the same ticks with the screen off: every holder checked in Decimal
    twin = build(the_plan, market, screen=False)
    gc.collect()
    gc.freeze()
    exact: list[TickFigures] = []
    differ = 0
    for t, (symbol, mark) in enumerate(path[:baseline_ticks]):
        figures, results = tick(twin, symbol, mark, T0 + 1000 * (t + 1), None)
        if t >= warmup:
            exact.append(figures)
        if results != outcomes[t]:
            differ += 1
    gc.unfreeze()
    states_equal = None
    if baseline_ticks >= n_ticks:
        states_equal = (
            all(venue.accounts[i].to_dict() == twin.accounts[i].to_dict() for i in venue.accounts)
            and venue.ledger == twin.ledger
            and venue.insurance_fund == twin.insurance_fund
        )
    del twin

    ms = [f.ms for f in screened]
    base_ms = [f.ms for f in exact]
    rows = statistics.mean(venue.book.rows(s) for s in START_MARKS)
    per_symbol = built["positions_per_symbol"]
    in_symbol = statistics.mean(per_symbol[path[t][0]] for t in range(warmup, n_ticks))
    figures = {
        "positions": built["positions"],
        "accounts": built["accounts"],
        "positions_in_ticked_symbol": round(in_symbol),
        "book_rows_per_symbol": round(rows),
        "ticks": len(screened),
        "tick_ms_p50": round(statistics.median(ms), 2),
        "tick_ms_p90": round(p(ms, 0.9), 2),
        "screen_ms_p50": round(statistics.median(f.screen_ms for f in screened), 2),
        "checked_per_tick_p50": statistics.median(f.checked for f in screened),
        "changed_per_tick_p50": statistics.median(f.changed for f in screened),
        "accounts_liquidated": sum(len(f.accounts_liquidated) for f in screened),
        "positions_liquidated": sum(f.positions_liquidated for f in screened),
        "liquidated_per_tick_pct": round(
            100 * statistics.mean(f.positions_liquidated for f in screened) / in_symbol, 3
        ),
        "liquidated_in_ticked_symbol_per_tick_pct": round(
            100 * statistics.mean(f.symbol_positions_liquidated for f in screened) / in_symbol, 3
        ),
        "margin_call_events": sum(f.margin_calls for f in screened),
        "baseline_ticks": len(exact),
        "baseline_ms_p50": round(statistics.median(base_ms), 1) if base_ms else None,
        "baseline_checked_per_tick_p50": (
            statistics.median(f.checked for f in exact) if exact else None
        ),
        "baseline_results_differ": differ,
        "baseline_states_equal": states_equal,
        "missed_by_decimal_scan": missed,
        "setup_s": round(setup_s, 1),
    }
    if base_ms:
        # same ticks on both sides
        pair = ms[: len(base_ms)]
        figures["speedup_same_ticks"] = round(statistics.median(base_ms) / statistics.median(pair))
    print(
        f"   tick p50 {figures['tick_ms_p50']} ms, p90 {figures['tick_ms_p90']} ms over "
        f"{len(ms)} ticks (float screen p50 {figures['screen_ms_p50']} ms, the rest is the "
        f"Decimal checks and what they settle); Decimal checks/tick "
        f"{figures['checked_per_tick_p50']} for {figures['changed_per_tick_p50']} accounts "
        f"changed; "
        f"liquidated {figures['accounts_liquidated']} accounts / "
        f"{figures['positions_liquidated']} positions, per tick "
        f"{figures['liquidated_per_tick_pct']}% of the ticked symbol's position count "
        f"({figures['liquidated_in_ticked_symbol_per_tick_pct']}% in the symbol itself, the rest "
        f"in the liquidated cross books' other symbols); margin calls "
        f"{figures['margin_call_events']}",
        file=out,
    )
    print(
        f"   baseline (screen off, every holder in Decimal): p50 {figures['baseline_ms_p50']} ms "
        f"over {len(base_ms)} ticks, checks/tick {figures['baseline_checked_per_tick_p50']}; "
        f"speedup x{figures.get('speedup_same_ticks')}; results differ on "
        f"{differ} ticks; states equal: {states_equal}; missed by Decimal scan: {missed}",
        file=out,
    )
    return figures


def main(argv: Sequence[str] | None = None, out: Any = sys.stdout) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (tests)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    warmup = 5
    if args.quick:
        sizes = {"10k": (1000, 10, 15), "30k": (3000, 10, 15), "100k": (4000, 10, 15)}
    else:
        sizes = {"10k": (10_000, 25, 30), "30k": (30_000, 25, 30), "100k": (100_000, 25, 10)}
    print(
        f"engine tick benchmark{' (quick)' if args.quick else ''}: seed {args.seed}, "
        f"{warmup} warm-up ticks, python {sys.version.split()[0]}",
        file=out,
    )
    started = time.perf_counter()
    result: dict[str, Any] = {"quick": args.quick, "seed": args.seed}
    per_size = {}
    for name, (n, measured, baseline_ticks) in sizes.items():
        per_size[name] = run_size(
            n,
            seed=args.seed,
            warmup=warmup,
            measured=measured,
            baseline_ticks=baseline_ticks,
            out=out,
        )
    small, large = per_size["10k"], per_size["100k"]
    per_position_small = small["tick_ms_p50"] / small["positions_in_ticked_symbol"]
    per_position_large = large["tick_ms_p50"] / large["positions_in_ticked_symbol"]
    for name, figures in per_size.items():
        result[f"tick_ms_p50_{name}"] = figures["tick_ms_p50"]
        result[f"tick_ms_p90_{name}"] = figures["tick_ms_p90"]
    result["per_position_cost_ratio_100k_over_10k"] = round(
        per_position_large / per_position_small, 3
    )
    result["per_position_cost_ratio_30k_over_10k"] = round(
        (per_size["30k"]["tick_ms_p50"] / per_size["30k"]["positions_in_ticked_symbol"])
        / per_position_small,
        3,
    )
    result["screen_per_row_cost_ratio_100k_over_10k"] = round(
        (large["screen_ms_p50"] / large["book_rows_per_symbol"])
        / (small["screen_ms_p50"] / small["book_rows_per_symbol"]),
        3,
    )
    result["liquidations"] = {
        name: {
            "accounts": f["accounts_liquidated"],
            "positions": f["positions_liquidated"],
            "per_tick_pct_of_ticked_symbol": f["liquidated_per_tick_pct"],
            "in_ticked_symbol_per_tick_pct": f["liquidated_in_ticked_symbol_per_tick_pct"],
        }
        for name, f in per_size.items()
    }
    result["sizes"] = per_size
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(
        f"\nper-position cost ratio (p50 ms / positions in ticked symbol): 100k/10k "
        f"{result['per_position_cost_ratio_100k_over_10k']}, 30k/10k "
        f"{result['per_position_cost_ratio_30k_over_10k']}; float screen per row 100k/10k "
        f"{result['screen_per_row_cost_ratio_100k_over_10k']}; wall {result['wall_s']}s",
        file=out,
    )
    print(json.dumps(result), file=out)
    return result


if __name__ == "__main__":
    main()
