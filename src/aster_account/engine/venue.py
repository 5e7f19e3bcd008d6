"""A whole venue in memory: many accounts, their ledger, the marks and the insurance fund.

This is the engine driven end to end without a database: tests, property tests and the risk
benchmark use it, and it is the reference for what the server does with its store. Every call
takes the time; nothing here reads a clock.

Risk sweep. A mark tick on a symbol must check every account holding it. With `screen` on (the
default) a `RiskBook` keeps float headroom figures per account and symbol, so a tick costs
O(positions in the symbol) and `risk.check_account` (the Decimal decision) runs only on the
accounts the book cannot show to be unaffected; with `screen` off every holder is checked. Both
give the same liquidations, ledgers and states (tests/unit/engine/test_riskbook.py): candidates are
checked in the same order (ascending account id), an account deleveraged (ADL) during the sweep
is checked later in it when the exact path would and its check could change anything, and an
account changed outside a sweep with something not quiet is checked at its next tick.

State set directly (tests, benchmarks) must be followed by `resync` so that `holders` and the
book see it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aster_account.engine import account as ops
from aster_account.engine import risk
from aster_account.engine.context import CountingIds, Ctx, IdSource, Outcome
from aster_account.engine.ledger import MemoryLedger
from aster_account.engine.market import Market
from aster_account.engine.prices import MarkPrice, Marks, next_funding_time
from aster_account.engine.riskbook import RiskBook
from aster_account.engine.state import ZERO, Account
from aster_account.protocol.enums import PositionSide

DEFAULT_INSURANCE_FUND = Decimal(1_000_000)


@dataclass
class Venue:
    market: Market
    marks: Marks = field(default_factory=dict)
    accounts: dict[int, Account] = field(default_factory=dict)
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    ids: IdSource = field(default_factory=CountingIds)
    insurance_fund: dict[str, Decimal] = field(default_factory=dict)
    # accounts holding a position or an order per symbol: the risk sweep's starting set
    holders: dict[str, set[int]] = field(default_factory=dict)
    # False: every holder of a ticked symbol gets the Decimal check (the reference path).
    # Chosen at construction: turning it on later needs `resync`.
    screen: bool = True
    # accounts with open orders per symbol (a tick fills the ones it crosses)
    order_holders: dict[str, set[int]] = field(default_factory=dict)
    # how many accounts the last set_mark ran risk.check_account on
    last_checked: int = 0
    book: RiskBook = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.book = RiskBook(self.market)

    def ctx(self, now_ms: int) -> Ctx:
        return Ctx(self.market, self.marks, now_ms, self.ids)

    def fund(self, asset: str) -> Decimal:
        return self.insurance_fund.get(asset, DEFAULT_INSURANCE_FUND)

    # -- accounts ------------------------------------------------------------------------------

    def open_account(self, now_ms: int, **kw: Any) -> Account:
        account_id = self.ids("account")
        acct = Account(account_id=account_id, alias=f"acct{account_id}", update_time=now_ms, **kw)
        self.accounts[account_id] = acct
        return acct

    def apply(self, account_id: int, op: Callable[..., Outcome], now_ms: int, **kw: Any) -> Outcome:
        """Run one engine operation on one account and append what it wrote to the ledger."""
        acct = self.accounts[account_id]
        if op is ops.transfer:
            kw.setdefault("seen", lambda cid: self.ledger.has_client_tran_id(account_id, cid))
        out = op(acct, self.ctx(now_ms), **kw)
        self.ledger.append(out.records)
        self._reindex(acct)
        self._track(acct)
        return out

    def resync(self, account_ids: Iterable[int] | None = None) -> None:
        """Re-derive `holders` and the risk book after state was set directly (all accounts by
        default). Each account is then checked at its next tick if anything is not quiet."""
        for account_id in self.accounts if account_ids is None else account_ids:
            acct = self.accounts[account_id]
            self._reindex(acct)
            self._track(acct)

    def _track(self, acct: Account) -> None:
        """The account changed outside a risk check: rebuild its rows in the book."""
        if self.screen:
            self.book.update(acct, self.marks, checked=False)

    def _reindex(self, acct: Account) -> None:
        held = {p.symbol for p in acct.positions.values() if p.amount != 0}
        ordered = {o.symbol for o in acct.orders.values()}
        held.update(ordered)
        for symbol in self.market.symbols:
            members = self.holders.setdefault(symbol, set())
            with_orders = self.order_holders.setdefault(symbol, set())
            if symbol in held:
                members.add(acct.account_id)
            else:
                members.discard(acct.account_id)
            if symbol in ordered:
                with_orders.add(acct.account_id)
            else:
                with_orders.discard(acct.account_id)

    # -- market --------------------------------------------------------------------------------

    def set_mark(
        self,
        symbol: str,
        mark_price: Decimal,
        now_ms: int,
        *,
        index_price: Decimal | None = None,
        funding_rate: Decimal | None = None,
    ) -> dict[int, Outcome]:
        """A new mark: fill the resting orders it crosses, then the risk check of every account
        that holds the symbol (cross accounts also through their other symbols)."""
        spec = self.market.symbol(symbol)
        old = self.marks.get(symbol)
        self.marks[symbol] = MarkPrice(
            symbol=symbol,
            mark_price=mark_price,
            index_price=index_price if index_price is not None else mark_price,
            funding_rate=(
                funding_rate
                if funding_rate is not None
                else (old.funding_rate if old else Decimal("0.0001"))
            ),
            next_funding_time=(
                old.next_funding_time
                if old
                else next_funding_time(now_ms, spec.funding_interval_hours)
            ),
            time=now_ms,
        )
        results: dict[int, Outcome] = {}
        ctx = self.ctx(now_ms)
        filled: list[int] = []
        for account_id in sorted(self.order_holders.get(symbol, ())):
            acct = self.accounts[account_id]
            if acct.open_orders(symbol):
                out = ops.match_resting_orders(acct, ctx, symbol)
                self.ledger.append(out.records)
                results[account_id] = out
                if out.records or out.events:
                    filled.append(account_id)
        if self.screen:
            self._sweep(symbol, ctx, results, filled)
        else:
            ids = self.candidates(symbol)
            self.check_risk(ids, now_ms, results)
            self.last_checked = len(ids)
        return results

    def candidates(self, symbol: str) -> list[int]:
        """Accounts whose risk a move of `symbol` may change."""
        return sorted(self.holders.get(symbol, ()))

    def check_risk(
        self, account_ids: Iterable[int], now_ms: int, results: dict[int, Outcome] | None = None
    ) -> dict[int, Outcome]:
        """The Decimal check of the given accounts, in the given order."""
        results = {} if results is None else results
        ctx = self.ctx(now_ms)
        for account_id in account_ids:
            acct = self.accounts[account_id]
            touched: list[int] = []
            changed = self._check_one(acct, ctx, results, touched)
            self._reindex(acct)
            if self.screen:
                self._after_check(acct, changed)
            for other in touched:
                self._reindex(self.accounts[other])
                self._track(self.accounts[other])
        return results

    def _sweep(self, symbol: str, ctx: Ctx, results: dict[int, Outcome], filled: list[int]) -> None:
        """Screened risk check of a tick (module docstring). `holders` is re-derived only at the
        end, so during the sweep it is still the set the exact path walks."""
        holders = self.holders.get(symbol, set())
        found = self.book.tick(symbol, self.marks, holders)
        for account_id in filled:
            self._track(self.accounts[account_id])
        found.update(filled)
        queue = sorted(found)  # a sorted list is a heap
        queued = set(queue)
        done: list[int] = []
        while queue:
            account_id = heapq.heappop(queue)
            acct = self.accounts[account_id]
            touched: list[int] = []
            changed = self._check_one(acct, ctx, results, touched)
            self._after_check(acct, changed)
            done.append(account_id)
            for other in touched:
                quiet = self.book.update(self.accounts[other], self.marks, checked=False)
                done.append(other)
                # the exact path checks it later in this sweep: do so when that could matter
                if not quiet and other > account_id and other in holders and other not in queued:
                    heapq.heappush(queue, other)
                    queued.add(other)
        for account_id in done:
            self._reindex(self.accounts[account_id])
        self.last_checked = len(queued)

    def _check_one(
        self, acct: Account, ctx: Ctx, results: dict[int, Outcome], touched: list[int]
    ) -> bool:
        """risk.check_account on one account, its bankruptcies settled; True if it changed
        anything of the account. Accounts deleveraged on the way are appended to `touched`."""
        calls_before = frozenset(acct.margin_calls)
        out, bankrupt = risk.check_account(acct, ctx)
        self.ledger.append(out.records)
        if out.events or out.records:
            into = results.setdefault(acct.account_id, Outcome())
            into.events.extend(out.events)
            into.records.extend(out.records)
        for b in bankrupt:
            self._settle_bankruptcy(b, ctx, results, touched)
        return bool(out.events or out.records or bankrupt) or acct.margin_calls != calls_before

    def _after_check(self, acct: Account, changed: bool) -> None:
        if changed or acct.account_id in self.book.opaque:
            self.book.update(acct, self.marks, checked=True)
        else:
            self.book.pending.discard(acct.account_id)

    def _settle_bankruptcy(
        self, b: risk.Bankruptcy, ctx: Ctx, results: dict[int, Outcome], touched: list[int]
    ) -> None:
        """The insurance fund takes the bankrupt position; ADL when it cannot pay."""
        asset = self.market.symbol(b.symbol).margin_asset
        fund = self.fund(asset)
        if fund + b.fund_pnl >= 0:
            self.insurance_fund[asset] = fund + b.fund_pnl
            return
        remaining = abs(b.amount)
        # holders of the symbol: a superset of the accounts with a position in it
        pool = (self.accounts[i] for i in sorted(self.holders.get(b.symbol, ())))
        scored = [
            s
            for s in risk.adl_scores(pool, self.market, self.marks, b.symbol)
            if (s[3] > 0) != (b.amount > 0) and s[1] != b.account_id
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        for _, account_id, side, amount in scored:
            if remaining <= 0:
                break
            qty = min(abs(amount), remaining)
            acct = self.accounts[account_id]
            out = risk.adl_close(acct, ctx, b.symbol, side, qty, b.price)
            self.ledger.append(out.records)
            into = results.setdefault(account_id, Outcome())
            into.events.extend(out.events)
            into.records.extend(out.records)
            remaining -= qty
            touched.append(account_id)

    def settle_funding(self, symbol: str, now_ms: int) -> dict[int, Outcome]:
        ctx = self.ctx(now_ms)
        results: dict[int, Outcome] = {}
        for account_id in sorted(self.holders.get(symbol, ())):
            acct = self.accounts[account_id]
            out = risk.settle_funding(acct, ctx, symbol)
            self.ledger.append(out.records)
            if out.events:
                results[account_id] = out
            if out.records:
                self._track(acct)
        mp = self.marks[symbol]
        mp.next_funding_time = next_funding_time(
            now_ms, self.market.symbol(symbol).funding_interval_hours
        )
        return results

    def adl_quantiles(self) -> dict[tuple[int, str, PositionSide], int]:
        return risk.adl_quantile_table(self.accounts.values(), self.market, self.marks)

    def wallet_equals_ledger(self, account_id: int) -> bool:
        acct = self.accounts[account_id]
        return all(
            acct.futures.get(asset, ZERO) == self.ledger.wallet_sum(account_id, asset)
            for asset in self.market.assets
        )
