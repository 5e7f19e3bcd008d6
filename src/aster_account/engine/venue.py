"""A whole venue in memory: many accounts, their ledger, the marks and the insurance fund.

This is the engine driven end to end without a database: tests, property tests and the risk
benchmark use it, and it is the reference for what the server does with its store. Every call
takes the time; nothing here reads a clock.
"""

from __future__ import annotations

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
        return out

    def _reindex(self, acct: Account) -> None:
        held = {p.symbol for p in acct.positions.values() if p.amount != 0}
        held.update(o.symbol for o in acct.orders.values())
        for symbol in self.market.symbols:
            members = self.holders.setdefault(symbol, set())
            if symbol in held:
                members.add(acct.account_id)
            else:
                members.discard(acct.account_id)

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
        for account_id in sorted(self.holders.get(symbol, ())):
            acct = self.accounts[account_id]
            if acct.open_orders(symbol):
                out = ops.match_resting_orders(acct, self.ctx(now_ms), symbol)
                self.ledger.append(out.records)
                results[account_id] = out
        self.check_risk(self.candidates(symbol), now_ms, results)
        return results

    def candidates(self, symbol: str) -> list[int]:
        """Accounts whose risk a move of `symbol` may change."""
        return sorted(self.holders.get(symbol, ()))

    def check_risk(
        self, account_ids: Iterable[int], now_ms: int, results: dict[int, Outcome] | None = None
    ) -> dict[int, Outcome]:
        results = {} if results is None else results
        ctx = self.ctx(now_ms)
        for account_id in account_ids:
            acct = self.accounts[account_id]
            out, bankrupt = risk.check_account(acct, ctx)
            self.ledger.append(out.records)
            if out.events or out.records:
                into = results.setdefault(account_id, Outcome())
                into.events.extend(out.events)
                into.records.extend(out.records)
            for b in bankrupt:
                self._settle_bankruptcy(b, ctx, results)
            self._reindex(acct)
        return results

    def _settle_bankruptcy(self, b: risk.Bankruptcy, ctx: Ctx, results: dict[int, Outcome]) -> None:
        """The insurance fund takes the bankrupt position; ADL when it cannot pay."""
        asset = self.market.symbol(b.symbol).margin_asset
        fund = self.fund(asset)
        if fund + b.fund_pnl >= 0:
            self.insurance_fund[asset] = fund + b.fund_pnl
            return
        remaining = abs(b.amount)
        scored = [
            s
            for s in risk.adl_scores(self.accounts.values(), self.market, self.marks, b.symbol)
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
            self._reindex(acct)

    def settle_funding(self, symbol: str, now_ms: int) -> dict[int, Outcome]:
        ctx = self.ctx(now_ms)
        results: dict[int, Outcome] = {}
        for account_id in sorted(self.holders.get(symbol, ())):
            acct = self.accounts[account_id]
            out = risk.settle_funding(acct, ctx, symbol)
            self.ledger.append(out.records)
            if out.events:
                results[account_id] = out
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
