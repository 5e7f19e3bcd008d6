"""RiskBook: a float index of every account's margin headroom, so that a mark tick on one symbol
costs O(positions in that symbol) and only the accounts it may push over a line get the exact
Decimal check (`risk.check_account`). The book never decides anything; it only says who to check.

Entities. Liquidation and margin calls are decided per *entity* (`risk.liquidation_groups`,
`risk.margin_call_check`): an account's cross book (its cross positions against its cross
collateral C) or one isolated position (against its isolated wallet, C = IW). With B the entity's
margin balance and M its maintenance margin (FACTS.md "Account math"):

    liquidated       B <= M
    margin call on   M > 0 and (B <= 0 or M / B >= r)        r = market.margin_call_ratio <= 1

Per symbol s, while each leg stays in its bracket, both are linear in that symbol's mark m:
``B_s = Σ amt·m − Σ amt·entry``, ``M_s = Σ |amt|·mmr·m − Σ cum``; B = C + Σ_s B_s, M = Σ_s M_s.

Screen. An entity whose margin call is off (its key is not in ``Account.margin_calls``) is *quiet*
when ``X = r·B − M − tol > 0``: then M < r·B <= B, so it is neither liquidated nor called. One whose
call is on is quiet when ``X = B − M − tol > 0`` and ``Y = M − r·B − tol > 0``: still called
(M > r·B > 0), not liquidated. `risk.check_account` changes nothing on an account whose entities
are all quiet, so the venue checks only the others. Flags are read when an account's rows are
built; a check that changes them rebuilds the rows.

Tolerance. ``tol = REL_TOL·G + ABS_TOL`` with ``G = 2·(|C| + Σ |amt|·m + Σ |amt|·entry + Σ cum)``,
which bounds the sum of the magnitudes of every term of X and Y. The float value of X differs from
the Decimal one by at most ~12u·G (u = 2⁻⁵³: each input is rounded once to float, each row term
is a handful of products and sums) plus one truncation of 2⁻³⁰ per term (see Aggregation: one
term per symbol of the entity, and C); the Decimal side rounds at 28 significant digits
(≤ 1e-27·G). REL_TOL = 1e-9 is over 10⁵ times the float bound, ABS_TOL = 1e-6 over 100 times the
truncations of an entity spanning every symbol of the shipped market, so an entity the Decimal
rule liquidates (or whose call flag it flips) always has X <= 0 or Y <= 0 here. The test shows
both halves are needed: without them, books placed exactly on the line slip through. The
tolerance is folded into the linear coefficients (it is linear in the marks too), so a tick
evaluates one product and one difference per row.

Brackets. A row caches the mark range in which its legs keep their brackets; only when the mark
leaves it is the bracket looked up again (bisect on float floors). Choosing the neighbouring
bracket within rounding of a floor is harmless: maintenance margin is continuous there (cum is
derived so), so the two lines differ by |n − floor|·Δmmr, far below the tolerance.

Aggregation. Each row's term is quantized to integer units of 2⁻³⁰ (in the settle asset) and the
entity total is updated by difference on every tick of that row's symbol. Integer sums are
exact, so totals never drift however many ticks go by, and the terms of other symbols stay what
they were at those symbols' own last tick, which is their current mark: every mark change goes
through `tick`, and `sync` catches a mark changed behind the book's back.

Pending. After a change outside a risk check (an operation, funding, ADL, fills, a mark changed
behind the book's back) an account with a non-quiet entity is *pending*: the exact path would
check it at the next tick of any symbol it holds, so it is a candidate then. An account whose
margin_calls holds a key of no current entity is never quiet (the check would drop the key).
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Set
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from aster_account.engine import figures as fig
from aster_account.engine.market import LeverageBrackets, Market
from aster_account.engine.prices import Marks
from aster_account.engine.state import ZERO, Account, Position
from aster_account.protocol.enums import MarginType

__all__ = ["ABS_TOL", "REL_TOL", "UNIT", "RiskBook", "cross_collateral"]

REL_TOL = 1e-9
ABS_TOL = 1e-6
UNIT = 2.0**30
"""Quantum of the integer entity totals: 2⁻³⁰ of the settle asset."""

CROSS_KEY = "CROSS"
SINK = 0
"""Entity 0 is never an account's: dead row slots point at it, its totals stay positive."""
_INF = float("inf")


Leg = tuple[float, float, float, float]
"""(amount, |amount|, amount·entry, |amount|·entry) of one position, as floats."""


class _Table:
    """A bracket table as floats: floors, maintenance ratios, maintenance amounts."""

    __slots__ = ("cums", "floors", "mmrs")

    def __init__(self, brackets: LeverageBrackets) -> None:
        self.floors = [float(b.notional_floor) for b in brackets.brackets]
        self.mmrs = [float(b.maint_margin_ratio) for b in brackets.brackets]
        self.cums = [float(b.cum) for b in brackets.brackets]

    def fit(self, size: float, m: float) -> tuple[int, float, float]:
        """The bracket of a leg of `size` at mark `m`, and the mark range it holds in.

        The range is computed exactly as it is tested (floor / size), so `m` is inside it.
        """
        if size == 0:
            return 0, -_INF, _INF
        floors = self.floors
        last = len(floors) - 1
        index = max(bisect.bisect_right(floors, size * m) - 1, 0)
        while index > 0 and floors[index] / size > m:
            index -= 1
        while index < last and floors[index + 1] / size <= m:
            index += 1
        low = floors[index] / size if index else -_INF
        high = floors[index + 1] / size if index < last else _INF
        return index, low, high


class _Rows:
    """The rows of one symbol for one kind of entity, as parallel lists (a tick runs down them
    with list comprehensions). A removed row leaves a dead slot that the next `add` reuses.

    A row is one entity's legs in the symbol (one or two: hedge LONG and SHORT). Rows of entities
    whose margin call is off carry X only; those whose call is on carry X and Y.
    """

    __slots__ = (
        "ax",
        "ay",
        "bx",
        "by",
        "called",
        "dead",
        "down",
        "ent",
        "hi",
        "ids",
        "legs",
        "lo",
        "ox",
        "oy",
        "ratio",
        "table",
        "up",
        "where",
    )

    def __init__(self, table: _Table, ratio: float, called: bool) -> None:
        self.table = table
        self.ratio = ratio
        self.called = called
        self.ids: list[int] = []
        self.where: dict[int, int] = {}
        self.ent: list[int] = []
        self.legs: list[tuple[Leg, ...]] = []
        # coefficients and bracket ranges as packed doubles: a tick streams through them
        self.ax = array("d")
        self.bx = array("d")
        self.ay = array("d")
        self.by = array("d")
        self.lo = array("d")
        self.hi = array("d")
        self.ox: list[int] = []
        self.oy: list[int] = []
        # bracket ranges as heaps, so a tick finds the rows whose range it left without a scan:
        # (hi, row id) and (-lo, row id); entries of removed rows or old ranges are skipped
        self.up: list[tuple[float, int]] = []
        self.down: list[tuple[float, int]] = []
        self.dead: list[int] = []  # retired slots, reused by add

    def __len__(self) -> int:
        return len(self.where)

    def _coefficients(
        self, legs: tuple[Leg, ...], m: float
    ) -> tuple[float, float, float, float, float, float]:
        """(ax, bx, ay, by, lo, hi): X = m·ax − bx and Y = m·ay − by in units, valid in [lo, hi)."""
        table = self.table
        r = self.ratio
        rx = 1.0 if self.called else r
        s_amt = s_ae = s_k = s_cum = s_abs = s_abe = 0.0
        lo, hi = -_INF, _INF
        for amt, size, ae, abe in legs:
            index, low, high = table.fit(size, m)
            lo = max(lo, low)
            hi = min(hi, high)
            s_amt += amt
            s_ae += ae
            s_k += size * table.mmrs[index]
            s_cum += table.cums[index]
            s_abs += size
            s_abe += abe
        tol_a = 2.0 * REL_TOL * s_abs
        tol_b = 2.0 * REL_TOL * (s_abe + s_cum)
        ax = (rx * s_amt - s_k - tol_a) * UNIT
        bx = (rx * s_ae - s_cum + tol_b) * UNIT
        if self.called:
            ay = (s_k - r * s_amt - tol_a) * UNIT
            by = (s_cum - r * s_ae + tol_b) * UNIT
        else:
            ay = by = 0.0
        return ax, bx, ay, by, lo, hi

    def add(self, row_id: int, ent: int, legs: tuple[Leg, ...], m: float) -> tuple[int, int]:
        """Add a row (in a dead slot if there is one); returns its (X, Y) terms at `m`, to add to
        the entity's totals."""
        ax, bx, ay, by, lo, hi = self._coefficients(legs, m)
        x = int(m * ax - bx)
        y = int(m * ay - by)
        if self.dead:
            i = self.dead.pop()
            self.ids[i], self.ent[i], self.legs[i] = row_id, ent, legs
            self.ax[i], self.bx[i], self.ay[i], self.by[i] = ax, bx, ay, by
            self.lo[i], self.hi[i], self.ox[i], self.oy[i] = lo, hi, x, y
        else:
            i = len(self.ids)
            self.ids.append(row_id)
            self.ent.append(ent)
            self.legs.append(legs)
            self.ax.append(ax)
            self.bx.append(bx)
            self.ay.append(ay)
            self.by.append(by)
            self.lo.append(lo)
            self.hi.append(hi)
            self.ox.append(x)
            self.oy.append(y)
        self.where[row_id] = i
        self._watch(row_id, lo, hi)
        return x, y

    def _watch(self, row_id: int, lo: float, hi: float) -> None:
        if hi < _INF:
            heapq.heappush(self.up, (hi, row_id))
        if lo > -_INF:
            heapq.heappush(self.down, (-lo, row_id))

    def _left(self, m: float) -> set[int]:
        """Indexes of the rows whose bracket range [lo, hi) does not hold `m`."""
        where, lo, hi = self.where, self.lo, self.hi
        out: set[int] = set()
        up = self.up
        while up and up[0][0] <= m:
            bound, row_id = heapq.heappop(up)
            i = where.get(row_id)
            if i is not None and hi[i] == bound:
                out.add(i)
        down = self.down
        while down and -down[0][0] > m:
            bound, row_id = heapq.heappop(down)
            i = where.get(row_id)
            if i is not None and lo[i] == -bound:
                out.add(i)
        # drop the skipped entries once they outnumber the live ones
        if len(up) + len(down) > 4 * len(self.where) + 64:
            self.up = [(h, r) for r, h in zip(self.ids, hi, strict=True) if r >= 0 and h < _INF]
            self.down = [
                (-low, r) for r, low in zip(self.ids, lo, strict=True) if r >= 0 and low > -_INF
            ]
            heapq.heapify(self.up)
            heapq.heapify(self.down)
        return out

    def compact(self) -> None:
        """Drop the dead slots, so a tick's work stays proportional to the live rows."""
        live = [i for i, row_id in enumerate(self.ids) if row_id >= 0]
        self.ids = [self.ids[i] for i in live]
        self.where = {row_id: i for i, row_id in enumerate(self.ids)}
        self.ent = [self.ent[i] for i in live]
        self.legs = [self.legs[i] for i in live]
        for name in ("ax", "bx", "ay", "by", "lo", "hi"):
            column: array[float] = getattr(self, name)
            setattr(self, name, array("d", [column[i] for i in live]))
        self.ox = [self.ox[i] for i in live]
        self.oy = [self.oy[i] for i in live]
        self.dead = []

    def remove(self, row_id: int) -> None:
        """Retire a row: it becomes a dead slot (entity SINK, zero terms) for `add` to reuse."""
        i = self.where.pop(row_id)
        self.ids[i] = -1
        self.ent[i] = SINK
        self.legs[i] = ()
        self.ax[i] = self.bx[i] = self.ay[i] = self.by[i] = 0.0
        self.lo[i] = -_INF
        self.hi[i] = _INF
        self.ox[i] = self.oy[i] = 0
        self.dead.append(i)
        if len(self.dead) > 64 and len(self.dead) > len(self.where):
            self.compact()

    def advance(self, m: float, tx: list[int], ty: list[int]) -> list[int]:
        """Move every row to mark `m`, update the entity totals; the entities not quiet now."""
        lo, hi = self.lo, self.hi
        for i in self._left(m):
            ax, bx, ay, by, lo[i], hi[i] = self._coefficients(self.legs[i], m)
            self.ax[i], self.bx[i], self.ay[i], self.by[i] = ax, bx, ay, by
            self._watch(self.ids[i], lo[i], hi[i])
        xs = [int(m * a - b) for a, b in zip(self.ax, self.bx)]  # noqa: B905 - equal lengths
        for e, new, old in zip(self.ent, xs, self.ox):  # noqa: B905
            tx[e] += new - old
        self.ox = xs
        if not self.called:
            return [e for e in self.ent if tx[e] <= 0]
        ys = [int(m * a - b) for a, b in zip(self.ay, self.by)]  # noqa: B905
        for e, new, old in zip(self.ent, ys, self.oy):  # noqa: B905
            ty[e] += new - old
        self.oy = ys
        return [e for e in self.ent if tx[e] <= 0 or ty[e] <= 0]


@dataclass(slots=True)
class _Entity:
    """One entity of an account in the book: its totals slot, its rows (symbol, row id) and the
    state it was built from, so an update rebuilds only the entities that changed."""

    slot: int
    called: bool
    built_from: tuple[object, ...]
    rows: list[tuple[str, int]]


class RiskBook:
    """Float screen over every account's entities (see the module docstring)."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.ratio = float(market.margin_call_ratio)
        tables = {name: _Table(spec.brackets) for name, spec in market.symbols.items()}
        self._rows: dict[tuple[str, bool], _Rows] = {
            (name, called): _Rows(tables[name], self.ratio, called)
            for name in market.symbols
            for called in (False, True)
        }
        self._marks: dict[str, Decimal] = {}  # the mark each symbol's rows are at
        self._mark_f: dict[str, float] = {}
        self._tx: list[int] = [1]  # entity SINK
        self._ty: list[int] = [1]
        self._owner: list[int] = [-1]
        self._free: list[int] = []
        self._accounts: dict[int, dict[str, _Entity]] = {}
        self._row_ids = count()
        self.pending: set[int] = set()
        """Accounts changed since their last check with an entity that is not quiet."""
        self.opaque: set[int] = set()
        """Accounts the book cannot screen (a mark is missing): always checked."""

    # -- marks ----------------------------------------------------------------------------------

    def _advance(self, symbol: str, mark: Decimal) -> set[int]:
        """Move `symbol`'s rows to `mark`; the accounts with an entity not quiet there."""
        m = float(mark)
        self._marks[symbol] = mark
        self._mark_f[symbol] = m
        owner = self._owner
        unsafe: set[int] = set()
        for called in (False, True):
            rows = self._rows[(symbol, called)]
            if rows.ids:
                unsafe.update(owner[e] for e in rows.advance(m, self._tx, self._ty))
        return unsafe

    def sync(self, marks: Marks, *, skip: str | None = None) -> None:
        """Bring every symbol's rows to the venue's marks. A mark that changed without `tick`
        makes the accounts it may affect pending (the exact path checks them at their next tick)."""
        for symbol, mp in marks.items():
            if symbol == skip or symbol not in self.market.symbols:
                continue
            mark = mp.mark_price
            known = self._marks.get(symbol)
            if known is mark or known == mark:
                continue
            self.pending.update(self._advance(symbol, mark))

    def tick(self, symbol: str, marks: Marks, holders: Set[int]) -> set[int]:
        """The mark of `symbol` is now `marks[symbol]`: move its rows and return the accounts to
        check, i.e. those with an entity that is not quiet, plus the pending and opaque ones that
        hold the symbol."""
        self.sync(marks, skip=symbol)
        found = self._advance(symbol, marks[symbol].mark_price)
        for extra in (self.pending, self.opaque):
            if extra:
                found.update(extra & holders)
        return found

    # -- accounts -------------------------------------------------------------------------------

    def forget(self, account_id: int) -> None:
        """Remove every row and entity of an account."""
        self.pending.discard(account_id)
        self.opaque.discard(account_id)
        for entity in self._accounts.pop(account_id, {}).values():
            self._drop(entity)

    def _drop(self, entity: _Entity) -> None:
        for symbol, row_id in entity.rows:
            self._rows[(symbol, entity.called)].remove(row_id)
        self._free.append(entity.slot)

    def update(self, acct: Account, marks: Marks, *, checked: bool) -> bool:
        """Bring an account's rows up to its state (O(its positions): entities whose state did
        not change are kept); True when every entity is quiet. `checked`: the account has just
        been through `risk.check_account`, so it is not pending whatever its entities say
        (checking it again would change nothing)."""
        account_id = acct.account_id
        self.sync(marks)
        market = self.market
        calls = acct.margin_calls
        cross: dict[str, list[Position]] = {}
        wanted: dict[str, tuple[tuple[object, ...], Decimal, dict[str, list[Position]]]] = {}
        for (symbol, side), pos in acct.positions.items():
            if pos.amount == 0:
                continue
            if symbol not in self._mark_f or symbol not in market.symbols:
                self.forget(account_id)
                self.opaque.add(account_id)  # the exact check will need that mark too
                return False
            if _isolated(acct, symbol):
                key = f"{symbol}:{side.value}"
                own = (pos.amount, pos.entry_price, pos.isolated_wallet, key in calls)
                wanted[key] = (own, pos.isolated_wallet, {symbol: [pos]})
            else:
                cross.setdefault(symbol, []).append(pos)
        if cross:
            collateral = cross_collateral(acct, market)
            book = (
                collateral,
                CROSS_KEY in calls,
                *((p.symbol, p.side, p.amount, p.entry_price) for ps in cross.values() for p in ps),
            )
            wanted[CROSS_KEY] = (book, collateral, cross)
        old = self._accounts.pop(account_id, {})
        self.opaque.discard(account_id)
        now: dict[str, _Entity] = {}
        for key, (state, collateral, positions) in wanted.items():
            entity = old.pop(key, None)
            if entity is None or entity.built_from != state:
                if entity is not None:
                    self._drop(entity)
                entity = self._entity(account_id, state, collateral, key in calls, positions)
            now[key] = entity
        for entity in old.values():
            self._drop(entity)
        if now:
            self._accounts[account_id] = now
        # the check would drop a key of a position that is gone
        quiet = calls <= now.keys() and all(
            self._tx[e.slot] > 0 and self._ty[e.slot] > 0 for e in now.values()
        )
        if checked or quiet:
            self.pending.discard(account_id)
        else:
            self.pending.add(account_id)
        return quiet

    def _entity(
        self,
        account_id: int,
        state: tuple[object, ...],
        collateral: Decimal,
        called: bool,
        positions: dict[str, list[Position]],
    ) -> _Entity:
        """A new entity with its rows at the current marks."""
        c = float(collateral)
        slack = 2.0 * REL_TOL * abs(c) + ABS_TOL
        rx = 1.0 if called else self.ratio
        tx = int((rx * c - slack) * UNIT)
        ty = int((-self.ratio * c - slack) * UNIT) if called else 1
        if self._free:
            slot = self._free.pop()
            self._owner[slot] = account_id
        else:
            slot = len(self._tx)
            self._tx.append(0)
            self._ty.append(0)
            self._owner.append(account_id)
        entity = _Entity(slot, called, state, [])
        for symbol, legs in positions.items():
            row_id = next(self._row_ids)
            x, y = self._rows[(symbol, called)].add(
                row_id, slot, tuple(_leg(p) for p in legs), self._mark_f[symbol]
            )
            tx += x
            ty += y
            entity.rows.append((symbol, row_id))
        self._tx[slot] = tx
        self._ty[slot] = ty
        return entity

    # -- introspection (tests, benchmark) ----------------------------------------------------------

    def rows(self, symbol: str) -> int:
        """How many rows (entities' legs groups) the book holds for `symbol`."""
        return len(self._rows[(symbol, False)]) + len(self._rows[(symbol, True)])

    def headroom(self, account_id: int) -> list[tuple[float, float]]:
        """(X, Y) of each of the account's entities in the settle asset (Y is +inf when the call
        is off): the screen's view, for tests and diagnostics."""
        return [
            (self._tx[e.slot] / UNIT, self._ty[e.slot] / UNIT if e.called else _INF)
            for e in self._accounts.get(account_id, {}).values()
        ]


def _leg(pos: Position) -> Leg:
    amount_entry = pos.amount * pos.entry_price
    amount = float(pos.amount)
    return amount, abs(amount), float(amount_entry), float(abs(amount_entry))


def _isolated(acct: Account, symbol: str) -> bool:
    """`figures.symbol_config(...).margin_type` is ISOLATED (absent config: the default, cross)."""
    cfg = acct.configs.get(symbol)
    return cfg is not None and cfg.margin_type is MarginType.ISOLATED


def cross_collateral(acct: Account, market: Market) -> Decimal:
    """`figures.compute(acct, ...).cross_collateral` without the position figures: it depends on
    no mark. Single-asset: the settle asset's wallet less its isolated wallets; multi-assets:
    every asset's cross wallet (wallet less isolated wallets) at `figures.asset_unit_value`."""
    held: dict[str, Decimal] = {}
    for pos in acct.positions.values():
        if pos.isolated_wallet and _isolated(acct, pos.symbol):
            asset = market.symbol(pos.symbol).margin_asset
            held[asset] = held.get(asset, ZERO) + pos.isolated_wallet
    if not acct.multi_assets:
        settle = market.settle_asset
        return acct.wallet(settle) - held.get(settle, ZERO)
    assets = set(acct.futures) | set(held)
    return sum(
        (
            (acct.wallet(asset) - held.get(asset, ZERO)) * fig.asset_unit_value(market, asset)
            for asset in sorted(assets)
        ),
        ZERO,
    )
