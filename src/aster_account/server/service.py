"""The account service: the engine over the store, with nothing about HTTP.

A mutation locks one account in the store, applies one engine operation with the current marks,
saves the new state and the ledger records in the same transaction, commits, and only then
publishes the events it caused. A read loads the account without a lock. Errors raised by the
engine happen before any change, and the transaction rolls back anyway.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aster_account.engine import account as ops
from aster_account.engine import risk
from aster_account.engine.context import CountingIds, Ctx, Outcome
from aster_account.engine.market import Market
from aster_account.engine.prices import MarkPrice, Marks, next_funding_time
from aster_account.engine.state import ALL_PERMISSIONS, Account
from aster_account.protocol.enums import AccountUpdateReason, Permission, PositionSide
from aster_account.protocol.errors import aster_error
from aster_account.server.writer import GroupCommitWriter
from aster_account.store import Store

Listener = Callable[[int, list[Any]], None]
"""Called after commit with (account_id, events) — the user data stream subscribes here."""

MARKS_REFRESH_MS = 1000
VIEW_CACHE_SIZE = 10_000


class Clock:
    """Milliseconds since the epoch, with an operator-settable offset (for tests and replays)."""

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


@dataclass
class Service:
    store: Store
    market: Market
    clock: Callable[[], int] = field(default_factory=Clock)
    listeners: list[Listener] = field(default_factory=list)
    weight_limit: int = 2400
    # called when a listenKey is closed, so that its open streams end (set by the stream hub)
    on_listen_key_closed: list[Callable[[str], None]] = field(default_factory=list)
    on_key_changed: list[Callable[[str], None]] = field(default_factory=list)
    writer: GroupCommitWriter | None = None
    _marks: Marks = field(default_factory=dict)
    _marks_loaded_ms: int = -MARKS_REFRESH_MS
    _marks_lock: threading.Lock = field(default_factory=threading.Lock)
    _marks_stamp: int = 0  # +1 whenever the loaded marks differ from the previous ones
    _views: dict[tuple[int, str], tuple[tuple[int, int], bytes]] = field(default_factory=dict)

    # -- marks ---------------------------------------------------------------------------------

    def marks(self) -> Marks:
        """The marks, reloaded from the store at most once a second so that every process of a
        multi-process deployment sees an operator's update within that time."""
        now = self.clock()
        if now - self._marks_loaded_ms >= MARKS_REFRESH_MS:
            with self._marks_lock:
                loaded = self.store.load_marks()
                if loaded and loaded != self._marks:
                    self._marks = loaded
                    self._marks_stamp += 1
                self._marks_loaded_ms = now
        return self._marks

    def view(self, account_id: int, key: str, render: Callable[[Account], bytes]) -> bytes:
        """A rendered read reply, reused while neither the account (its store version) nor the
        marks have changed: polling clients cost one indexed lookup instead of a recompute.
        Replies that depend on the clock must not come through here."""
        marks = self.marks()
        version = self.store.account_version(account_id)
        if version is None:
            raise aster_error(-2015, "Invalid API-key, IP, or permissions for action.")
        stamp = (version, self._marks_stamp)
        hit = self._views.get((account_id, key))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        body = render(self.read(account_id))
        if self.marks() is not marks:
            return body  # marks moved while rendering: do not keep a reply of unknown age
        if len(self._views) >= VIEW_CACHE_SIZE:
            self._views.clear()
        self._views[(account_id, key)] = (stamp, body)
        return body

    def ensure_marks(self, defaults: dict[str, Decimal]) -> None:
        """Seed a mark for every symbol that has none (first start)."""
        now = self.clock()
        have = self.store.load_marks()
        fresh = [
            MarkPrice(
                symbol=s,
                mark_price=price,
                index_price=price,
                funding_rate=Decimal("0.0001"),
                next_funding_time=next_funding_time(
                    now, self.market.symbol(s).funding_interval_hours
                ),
                time=now,
            )
            for s, price in defaults.items()
            if s not in have and s in self.market.symbols
        ]
        if fresh:
            self.store.save_marks(fresh)
        self._marks_loaded_ms = -MARKS_REFRESH_MS

    def ctx(self, ids: Callable[[str], int]) -> Ctx:
        return Ctx(self.market, self.marks(), self.clock(), ids)

    # -- accounts ------------------------------------------------------------------------------

    def read(self, account_id: int) -> Account:
        acct = self.store.load_account(account_id)
        if acct is None:
            raise aster_error(-2015, "Invalid API-key, IP, or permissions for action.")
        return acct

    def mutate(self, account_id: int, op: Callable[..., Outcome], **kw: Any) -> Outcome:
        """Apply one engine operation to one account and commit it; the events are published
        after the commit. With a group-commit writer the work runs on the writer thread and the
        commit is shared with the other mutations waiting at that moment (`server.writer`)."""
        writer = self.writer
        if writer is not None and not writer.on_writer_thread():
            result: Outcome = writer.submit(lambda: self.mutate(account_id, op, **kw)).result()
            return result
        out = self._apply(account_id, op, kw)
        self.publish(account_id, out.events)
        return out

    def _apply(self, account_id: int, op: Callable[..., Outcome], kw: dict[str, Any]) -> Outcome:
        with self.store.account(account_id) as tx:
            ctx = self.ctx(tx.ids)
            if op is ops.transfer:
                kw["seen"] = lambda cid: tx.client_tran_id_seen(cid, ctx.now_ms)
            out = op(tx.account, ctx, **kw)
            tx.save(tx.account, out.records)
        return out

    def start_group_commit(self) -> None:
        """Share commits between concurrent mutations, where the store can (SQLite)."""
        if self.writer is None and self.store.supports_batch:
            self.writer = GroupCommitWriter(self.store, self.publish)

    def stop_group_commit(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()

    def key_changed(self, api_key: str) -> None:
        """An API key was disabled or enabled: caches holding it forget it now."""
        for hook in self.on_key_changed:
            hook(api_key)

    def close_streams(self, listen_key: str) -> None:
        for hook in self.on_listen_key_closed:
            hook(listen_key)

    def publish(self, account_id: int, events: list[Any]) -> None:
        writer = self.writer
        if writer is not None and writer.collecting():
            writer.defer(account_id, events)  # published by the writer once committed
            return
        if events:
            for listener in self.listeners:
                listener(account_id, events)

    def create_account(
        self,
        *,
        permissions: Iterable[Permission] = ALL_PERMISSIONS,
        futures: dict[str, Decimal] | None = None,
        spot: dict[str, Decimal] | None = None,
        alias: str = "",
    ) -> tuple[int, str, str]:
        """A new account with an API key; returns (account_id, api_key, api_secret)."""
        now = self.clock()
        # every deposit is tried on a scratch account first, so a bad amount creates nothing
        scratch = Account(account_id=0, update_time=now)
        trial = Ctx(self.market, self.marks(), now, CountingIds())
        for asset, amount in (futures or {}).items():
            ops.deposit(scratch, trial, asset=asset, amount=amount)
        for asset, amount in (spot or {}).items():
            ops.deposit(scratch, trial, asset=asset, amount=amount, to_spot=True)
        acct = self.store.create_account(
            lambda account_id: Account(
                account_id=account_id,
                alias=alias or secrets.token_hex(2).upper(),
                update_time=now,
            )
        )
        for asset, amount in (futures or {}).items():
            self.mutate(acct.account_id, ops.deposit, asset=asset, amount=amount)
        for asset, amount in (spot or {}).items():
            self.mutate(acct.account_id, ops.deposit, asset=asset, amount=amount, to_spot=True)
        api_key = secrets.token_hex(32)
        api_secret = secrets.token_hex(32)
        self.store.add_api_key(acct.account_id, api_key, api_secret, frozenset(permissions))
        return acct.account_id, api_key, api_secret

    def deposit(self, account_id: int, asset: str, amount: Decimal, *, to_spot: bool) -> Outcome:
        return self.mutate(
            account_id,
            ops.deposit,
            asset=asset,
            amount=amount,
            to_spot=to_spot,
            reason=AccountUpdateReason.ADMIN_DEPOSIT,
        )

    # -- market moves --------------------------------------------------------------------------

    def set_mark(
        self,
        symbol: str,
        mark_price: Decimal,
        *,
        index_price: Decimal | None = None,
        funding_rate: Decimal | None = None,
    ) -> dict[int, Outcome]:
        """A new mark price: stored, then resting orders it crosses fill and every account holding
        the symbol is risk-checked (liquidations, ADL, margin calls) before this returns."""
        spec = self.market.symbol(symbol)
        now = self.clock()
        old = self.store.load_marks().get(symbol)
        mp = MarkPrice(
            symbol=symbol,
            mark_price=mark_price,
            index_price=index_price if index_price is not None else mark_price,
            funding_rate=funding_rate
            if funding_rate is not None
            else (old.funding_rate if old else Decimal("0.0001")),
            next_funding_time=old.next_funding_time
            if old
            else next_funding_time(now, spec.funding_interval_hours),
            time=now,
        )
        self.store.save_marks([mp])
        self._marks_loaded_ms = -MARKS_REFRESH_MS
        results: dict[int, Outcome] = {}
        bankrupt: list[risk.Bankruptcy] = []
        for account_id in self.store.account_ids():
            acct = self.store.load_account(account_id)
            if acct is None or not _holds(acct, symbol):
                continue
            with self.store.account(account_id) as tx:
                ctx = self.ctx(tx.ids)
                out = Outcome()
                if tx.account.open_orders(symbol):
                    matched = ops.match_resting_orders(tx.account, ctx, symbol)
                    out.events.extend(matched.events)
                    out.records.extend(matched.records)
                checked, broke = risk.check_account(tx.account, ctx)
                out.events.extend(checked.events)
                out.records.extend(checked.records)
                tx.save(tx.account, out.records)
            bankrupt.extend(broke)
            self.publish(account_id, out.events)
            results[account_id] = out
        for b in bankrupt:
            self._settle_bankruptcy(b, results)
        return results

    def _settle_bankruptcy(self, b: risk.Bankruptcy, results: dict[int, Outcome]) -> None:
        """The insurance fund takes the position; when it cannot pay, ADL at the bankrupt price."""
        asset = self.market.symbol(b.symbol).margin_asset
        key = f"insurance_fund:{asset}"
        fund = Decimal(self.store.get_meta(key) or "1000000")
        if fund + b.fund_pnl >= 0:
            self.store.set_meta(key, str(fund + b.fund_pnl))
            return
        accounts = [
            a
            for a in (self.store.load_account(i) for i in self.store.account_ids())
            if a is not None and a.account_id != b.account_id
        ]
        scored = [
            s
            for s in risk.adl_scores(accounts, self.market, self.marks(), b.symbol)
            if (s[3] > 0) != (b.amount > 0)
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        remaining = abs(b.amount)
        for _, account_id, side, amount in scored:
            if remaining <= 0:
                break
            qty = min(abs(amount), remaining)
            out = self.mutate(
                account_id,
                lambda acct, ctx, side=side, qty=qty: risk.adl_close(
                    acct, ctx, b.symbol, side, qty, b.price
                ),
            )
            results.setdefault(account_id, Outcome()).events.extend(out.events)
            remaining -= qty

    def settle_funding(self, symbol: str | None = None) -> dict[int, Outcome]:
        symbols = [symbol] if symbol else sorted(self.market.symbols)
        results: dict[int, Outcome] = {}
        for sym in symbols:
            for account_id in self.store.account_ids():
                acct = self.store.load_account(account_id)
                if acct is None or not any(
                    p.symbol == sym and p.amount for p in acct.positions.values()
                ):
                    continue
                out = self.mutate(
                    account_id, lambda a, ctx, sym=sym: risk.settle_funding(a, ctx, sym)
                )
                results.setdefault(account_id, Outcome()).events.extend(out.events)
            mp = self.store.load_marks().get(sym)
            if mp is not None:
                mp.next_funding_time = next_funding_time(
                    self.clock(), self.market.symbol(sym).funding_interval_hours
                )
                self.store.save_marks([mp])
        self._marks_loaded_ms = -MARKS_REFRESH_MS
        return results

    def adl_quantiles(self) -> dict[tuple[int, str, PositionSide], int]:
        accounts = [a for a in map(self.store.load_account, self.store.account_ids()) if a]
        return risk.adl_quantile_table(accounts, self.market, self.marks())


def _holds(acct: Account, symbol: str) -> bool:
    return any(p.symbol == symbol and p.amount for p in acct.positions.values()) or bool(
        acct.open_orders(symbol)
    )
