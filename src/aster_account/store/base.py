"""The store's interface, and everything both backends share: the SQL, the row <-> record mapping
and the account transaction. A backend supplies only connections, transactions and ids:

                    SqliteStore (sqlite.py)              PostgresStore (postgres.py)
    connections     one per thread                       psycopg_pool.ConnectionPool
    _begin_write    BEGIN IMMEDIATE (the file's single   BEGIN ... COMMIT
                    writer lock is the account lock)
    _LOCK_ACCOUNT   plain SELECT                         SELECT ... FOR UPDATE (row lock)
    _next_id        counters table, under the write lock sequences

The SQL below is written once with `?` placeholders; the PostgreSQL connection rewrites them.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, Protocol

import orjson

from aster_account.engine.context import IdSource
from aster_account.engine.ledger import (
    CLIENT_TRAN_ID_UNIQUE_MS,
    INCOME_DEFAULT_WINDOW_MS,
    ForceOrderRecord,
    IncomeRecord,
    LedgerRecord,
    MarginChangeRecord,
    OrderRecord,
    TradeRecord,
    TransferRecord,
    query_window,
)
from aster_account.engine.prices import MarkPrice
from aster_account.engine.state import Account, Order, order_from_list, order_to_list
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    OrderSide,
    Permission,
    PositionMarginChange,
    PositionSide,
    TransferKind,
)
from aster_account.protocol.errors import aster_error
from aster_account.store import schema

HISTORY_DEFAULT_WINDOW_MS = INCOME_DEFAULT_WINDOW_MS
"""Window of a history query sent without startTime and endTime (docs: "the recent 7 days")."""

TX_ID_KINDS = ("tran", "trade", "order")
"""The kinds an account transaction's `ids` hands out."""


class UnknownAccountError(KeyError):
    """No account with this id."""

    def __init__(self, account_id: int) -> None:
        super().__init__(account_id)
        self.account_id = account_id

    def __str__(self) -> str:
        return f"no account {self.account_id}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    api_key: str
    account_id: int
    secret: str = field(repr=False)
    permissions: frozenset[Permission]
    enabled: bool
    label: str
    created_ms: int


class ListenKeyRow(NamedTuple):
    key: str
    account_id: int
    expires_ms: int


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Db(ABC):
    """One connection inside one transaction, speaking `?` placeholders."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...


ORDER_KEPT_MS = 7 * 24 * 3600 * 1000
"""Unfilled canceled / expired orders are not found after this long (docs: Query Order)."""

# -- rows <-> records ----------------------------------------------------------------------------


def dump_account(account: Account) -> str:
    return orjson.dumps(account.to_dict()).decode()


def load_account(state: str | bytes) -> Account:
    return Account.from_dict(orjson.loads(state))


_INCOME_COLS = "tran_id, account_id, asset, income_type, income, time, symbol, info, trade_id"
_TRANSFER_COLS = "tran_id, account_id, client_tran_id, asset, amount, kind, time"
_MARGIN_COLS = "account_id, symbol, position_side, asset, amount, type, time"
_FORCE_COLS = (
    "order_id, account_id, symbol, client_order_id, auto_close_type, side, position_side,"
    " price, avg_price, quantity, time, update_time"
)
_TRADE_COLS = (
    "trade_id, account_id, order_id, symbol, side, position_side, price, quantity,"
    " realized_pnl, commission, commission_asset, maker, time"
)
_API_KEY_COLS = "api_key, account_id, secret, permissions, enabled, label, created_ms"
_MARK_COLS = "symbol, mark_price, index_price, funding_rate, next_funding_time, time, interest_rate"


def _placeholders(cols: str) -> str:
    return ", ".join("?" for _ in cols.split(","))


def _income_row(r: IncomeRecord) -> tuple[object, ...]:
    return (
        r.tran_id,
        r.account_id,
        r.asset,
        r.income_type.value,
        str(r.income),
        r.time,
        r.symbol,
        r.info,
        r.trade_id,
    )


def _income(row: Sequence[Any]) -> IncomeRecord:
    tran_id, account_id, asset, income_type, income, time_, symbol, info, trade_id = row
    return IncomeRecord(
        account_id=account_id,
        tran_id=tran_id,
        asset=asset,
        income_type=IncomeType(income_type),
        income=Decimal(income),
        time=time_,
        symbol=symbol,
        info=info,
        trade_id=trade_id,
    )


def _transfer_row(r: TransferRecord) -> tuple[object, ...]:
    return (
        r.tran_id,
        r.account_id,
        r.client_tran_id,
        r.asset,
        str(r.amount),
        r.kind.value,
        r.time,
    )


def _transfer(row: Sequence[Any]) -> TransferRecord:
    tran_id, account_id, client_tran_id, asset, amount, kind, time_ = row
    return TransferRecord(
        account_id=account_id,
        tran_id=tran_id,
        client_tran_id=client_tran_id,
        asset=asset,
        amount=Decimal(amount),
        kind=TransferKind(kind),
        time=time_,
    )


def _margin_row(r: MarginChangeRecord) -> tuple[object, ...]:
    return (
        r.account_id,
        r.symbol,
        r.position_side.value,
        r.asset,
        str(r.amount),
        int(r.type),
        r.time,
    )


def _margin(row: Sequence[Any]) -> MarginChangeRecord:
    account_id, symbol, position_side, asset, amount, type_, time_ = row
    return MarginChangeRecord(
        account_id=account_id,
        symbol=symbol,
        position_side=PositionSide(position_side),
        asset=asset,
        amount=Decimal(amount),
        type=PositionMarginChange(type_),
        time=time_,
    )


def _force_row(r: ForceOrderRecord) -> tuple[object, ...]:
    return (
        r.order_id,
        r.account_id,
        r.symbol,
        r.client_order_id,
        r.auto_close_type.value,
        r.side.value,
        r.position_side.value,
        str(r.price),
        str(r.avg_price),
        str(r.quantity),
        r.time,
        r.update_time,
    )


def _force(row: Sequence[Any]) -> ForceOrderRecord:
    (
        order_id,
        account_id,
        symbol,
        client_order_id,
        auto_close_type,
        side,
        position_side,
        price,
        avg_price,
        quantity,
        time_,
        update_time,
    ) = row
    return ForceOrderRecord(
        account_id=account_id,
        order_id=order_id,
        symbol=symbol,
        client_order_id=client_order_id,
        auto_close_type=AutoCloseType(auto_close_type),
        side=OrderSide(side),
        position_side=PositionSide(position_side),
        price=Decimal(price),
        avg_price=Decimal(avg_price),
        quantity=Decimal(quantity),
        time=time_,
        update_time=update_time,
    )


def _trade_row(r: TradeRecord) -> tuple[object, ...]:
    return (
        r.trade_id,
        r.account_id,
        r.order_id,
        r.symbol,
        r.side.value,
        r.position_side.value,
        str(r.price),
        str(r.quantity),
        str(r.realized_pnl),
        str(r.commission),
        r.commission_asset,
        r.maker,
        r.time,
    )


def _trade(row: Sequence[Any]) -> TradeRecord:
    (
        trade_id,
        account_id,
        order_id,
        symbol,
        side,
        position_side,
        price,
        quantity,
        realized_pnl,
        commission,
        commission_asset,
        maker,
        time_,
    ) = row
    return TradeRecord(
        account_id=account_id,
        trade_id=trade_id,
        order_id=order_id,
        symbol=symbol,
        side=OrderSide(side),
        position_side=PositionSide(position_side),
        price=Decimal(price),
        quantity=Decimal(quantity),
        realized_pnl=Decimal(realized_pnl),
        commission=Decimal(commission),
        commission_asset=commission_asset,
        maker=bool(maker),
        time=time_,
    )


def _api_key(row: Sequence[Any]) -> ApiKey:
    api_key, account_id, secret, permissions, enabled, label, created_ms = row
    return ApiKey(
        api_key=api_key,
        account_id=account_id,
        secret=secret,
        permissions=frozenset(Permission(p) for p in permissions.split(",") if p),
        enabled=bool(enabled),
        label=label,
        created_ms=created_ms,
    )


def _mark_row(m: MarkPrice) -> tuple[object, ...]:
    return (
        m.symbol,
        str(m.mark_price),
        str(m.index_price),
        str(m.funding_rate),
        m.next_funding_time,
        m.time,
        str(m.interest_rate),
    )


def _mark(row: Sequence[Any]) -> MarkPrice:
    symbol, mark_price, index_price, funding_rate, next_funding_time, time_, interest_rate = row
    return MarkPrice(
        symbol=symbol,
        mark_price=Decimal(mark_price),
        index_price=Decimal(index_price),
        funding_rate=Decimal(funding_rate),
        next_funding_time=next_funding_time,
        time=time_,
        interest_rate=Decimal(interest_rate),
    )


def _check_limit(limit: int) -> None:
    # SQLite reads a negative LIMIT as "no limit", PostgreSQL rejects it: refuse it on both.
    if limit < 0:
        raise ValueError(f"limit must not be negative: {limit}")


# -- the account transaction ---------------------------------------------------------------------


class AccountTx:
    """A write transaction on one account, holding its lock until commit or rollback.

    `account` is the state as loaded under the lock; `ids` draws fresh ids in the same transaction.
    The transaction ends when the `with store.account(...)` block does; using it afterwards raises.
    """

    def __init__(
        self, store: Store, db: Db, account_id: int, account: Account, version: int
    ) -> None:
        self._store = store
        self._db = db
        self._open = True
        self.account_id = account_id
        self.account = account
        self.version = version
        self.ids: IdSource = self._draw_id

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError(f"the transaction on account {self.account_id} has ended")

    def _close(self) -> None:
        self._open = False

    def _draw_id(self, kind: str) -> int:
        self._check_open()
        if kind not in TX_ID_KINDS:
            raise ValueError(f"unknown id kind {kind!r}; expected one of {TX_ID_KINDS}")
        return self._store._next_id(self._db, kind)

    def client_tran_id_seen(self, client_tran_id: str, now_ms: int) -> bool:
        """Whether this account used the clientTranId in the 7 days before `now_ms`."""
        self._check_open()
        row = self._db.execute(
            "SELECT 1 FROM client_tran_ids WHERE account_id = ? AND client_tran_id = ?"
            " AND time > ?",
            (self.account_id, client_tran_id, now_ms - CLIENT_TRAN_ID_UNIQUE_MS),
        ).fetchone()
        return row is not None

    def save(self, account: Account, records: Iterable[LedgerRecord] = ()) -> None:
        """Write the state row (version + 1) and append the records.

        Transfers go first, so a duplicate clientTranId (-4115, decided by the UNIQUE constraint)
        is raised before this call has written anything; the caller's exception then rolls back.
        """
        self._check_open()
        if account.account_id != self.account_id:
            raise ValueError(
                f"saving account {account.account_id} in the transaction of {self.account_id}"
            )
        by_kind: dict[type, list[Any]] = {}
        for r in records:
            if r.account_id != self.account_id:
                raise ValueError(f"a record of account {r.account_id} in {self.account_id}'s")
            by_kind.setdefault(type(r), []).append(r)
        db = self._db
        for t in by_kind.get(TransferRecord, ()):
            # the claim is the constraint: an expired claim is released first (we hold the
            # account's lock), then a live one makes the insert a no-op -> -4115
            db.execute(
                "DELETE FROM client_tran_ids WHERE account_id = ? AND client_tran_id = ?"
                " AND time <= ?",
                (t.account_id, t.client_tran_id, t.time - CLIENT_TRAN_ID_UNIQUE_MS),
            )
            claimed = db.execute(
                "INSERT INTO client_tran_ids (account_id, client_tran_id, time, tran_id)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, client_tran_id) DO NOTHING"
                " RETURNING tran_id",
                (t.account_id, t.client_tran_id, t.time, t.tran_id),
            ).fetchall()
            if not claimed:
                raise aster_error(
                    -4115,
                    "Client tran id should be unique within 7 days",
                    client_tran_id=t.client_tran_id,
                )
            # a duplicate tranId is a bug and stays loud (primary key)
            columns = f"{_TRANSFER_COLS}) VALUES ({_placeholders(_TRANSFER_COLS)}"
            db.execute(f"INSERT INTO transfers ({columns})", _transfer_row(t))
        for cls, cols, table, to_row in (
            (IncomeRecord, _INCOME_COLS, "income", _income_row),
            (MarginChangeRecord, _MARGIN_COLS, "margin_changes", _margin_row),
            (ForceOrderRecord, _FORCE_COLS, "force_orders", _force_row),
            (TradeRecord, _TRADE_COLS, "trades", _trade_row),
        ):
            rows = by_kind.get(cls)
            if rows:
                db.executemany(
                    f"INSERT INTO {table} ({cols}) VALUES ({_placeholders(cols)})",
                    [to_row(r) for r in rows],
                )
        for rec in by_kind.get(OrderRecord, ()):
            o = rec.order
            db.execute(
                "INSERT INTO orders (order_id, account_id, symbol, client_order_id, status, time,"
                " update_time, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO"
                " UPDATE SET status = excluded.status, update_time = excluded.update_time,"
                " data = excluded.data",
                (
                    o.order_id,
                    rec.account_id,
                    o.symbol,
                    o.client_order_id,
                    o.status.value,
                    o.time,
                    o.update_time,
                    orjson.dumps(order_to_list(o)).decode(),
                ),
            )
        updated = db.execute(
            "UPDATE accounts SET state = ?, version = version + 1 WHERE id = ?",
            (dump_account(account), self.account_id),
        ).rowcount
        if updated != 1:
            raise RuntimeError(f"account {self.account_id} vanished inside its transaction")
        self.account = account
        self.version += 1


@contextmanager
def _savepoint(db: Db) -> Iterator[Db]:
    """A nested transaction inside a batch: released on success, undone alone on failure."""
    db.execute("SAVEPOINT account_block")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK TO SAVEPOINT account_block")
        db.execute("RELEASE SAVEPOINT account_block")
        raise
    db.execute("RELEASE SAVEPOINT account_block")


# -- the store -----------------------------------------------------------------------------------


class Store(ABC):
    """Durable state of every account. Synchronous and thread-safe; see the module doc."""

    dialect: ClassVar[schema.Dialect]
    _LOCK_ACCOUNT: ClassVar[str]

    def __init__(self) -> None:
        self._in_tx = threading.local()

    # -- what a backend provides --------------------------------------------------------------

    @abstractmethod
    def _read(self) -> AbstractContextManager[Db]:
        """A connection for reads; no lock is taken."""

    @abstractmethod
    def _begin_write(self) -> AbstractContextManager[Db]:
        """A write transaction: commit on normal exit, roll back on exception (which propagates)."""

    @abstractmethod
    def _next_id(self, db: Db, kind: str) -> int:
        """A fresh id of `kind` (`schema.ID_KINDS`), drawn inside `db`'s transaction."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _schema_lock(self, db: Db) -> None:
        """Serialise schema creation between processes, inside `db`'s write transaction."""

    # -- shared machinery ---------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Db]:
        # One write transaction per thread at a time: nesting would deadlock on SQLite's single
        # writer and could deadlock two accounts' row locks on PostgreSQL.
        batch = getattr(self._in_tx, "batch", None)
        if batch is not None:
            # inside this thread's batch: a nested, separately undoable part of it
            with _savepoint(batch) as db:
                yield db
            return
        if getattr(self._in_tx, "active", False):
            raise RuntimeError(
                "a write transaction is already open on this thread; "
                "inside `with store.account(...)` write through the AccountTx"
            )
        self._in_tx.active = True
        try:
            with self._begin_write() as db:
                yield db
        finally:
            self._in_tx.active = False

    def _ensure_schema(self) -> None:
        with self._write() as db:
            self._schema_lock(db)
            for statement in schema.ddl(self.dialect):
                db.execute(statement)
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                ("schema_version", str(schema.SCHEMA_VERSION)),
            )
            found = db.execute("SELECT value FROM meta WHERE key = ?", ("schema_version",))
            version = found.fetchone()[0]
        if version != str(schema.SCHEMA_VERSION):
            raise RuntimeError(
                f"the database has schema version {version}; "
                f"this code reads version {schema.SCHEMA_VERSION}"
            )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts -----------------------------------------------------------------------------

    def create_account(self, build: Callable[[int], Account]) -> Account:
        """Allocate an account id and store `build(id)` as that account's first state."""
        with self._write() as db:
            account_id = self._next_id(db, "account")
            account = build(account_id)
            if account.account_id != account_id:
                raise ValueError(f"built account {account.account_id} for id {account_id}")
            db.execute(
                "INSERT INTO accounts (id, state, version) VALUES (?, ?, 1)",
                (account_id, dump_account(account)),
            )
        return account

    # Several `account()` blocks in one transaction (group commit): on SQLite, where every
    # writer takes the file's single lock anyway, one COMMIT (one fsync) then serves many
    # requests. Not for PostgreSQL: holding several accounts' row locks at once could deadlock
    # two processes' batches.
    supports_batch: ClassVar[bool] = False

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One write transaction for the `account()` blocks this thread opens inside it: each
        block is a SAVEPOINT, rolled back alone when it raises; all commit together at the end."""
        if not self.supports_batch:
            raise RuntimeError(f"{type(self).__name__} does not batch write transactions")
        with self._write() as db:
            self._in_tx.batch = db
            try:
                yield
            finally:
                self._in_tx.batch = None

    @contextmanager
    def batch_savepoint(self) -> Iterator[None]:
        """Inside `batch()`: everything in the block is undone alone if the block raises."""
        batch = getattr(self._in_tx, "batch", None)
        if batch is None:
            raise RuntimeError("batch_savepoint() outside batch()")
        with _savepoint(batch):
            yield

    @contextmanager
    def account(self, account_id: int) -> Iterator[AccountTx]:
        """A write transaction on one account (raises `UnknownAccountError`, a KeyError, if absent).

        Commits on normal exit; rolls back and re-raises on exception. Inside the block, read and
        write through the AccountTx: the store's own read methods use another connection on
        PostgreSQL (so they do not see the block's uncommitted writes) and its write methods raise.
        """
        batch = getattr(self._in_tx, "batch", None)
        with self._write() if batch is None else _savepoint(batch) as db:
            row = db.execute(self._LOCK_ACCOUNT, (account_id,)).fetchone()
            if row is None:
                raise UnknownAccountError(account_id)
            tx = AccountTx(self, db, account_id, load_account(row[0]), row[1])
            try:
                yield tx
            finally:
                tx._close()

    def load_account(self, account_id: int) -> Account | None:
        with self._read() as db:
            row = db.execute("SELECT state FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else load_account(row[0])

    def account_version(self, account_id: int) -> int | None:
        """The account's state version (+1 on every save): a cheap "has it changed?" check."""
        with self._read() as db:
            row = db.execute("SELECT version FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else int(row[0])

    def account_ids(self) -> list[int]:
        with self._read() as db:
            rows = db.execute("SELECT id FROM accounts ORDER BY id").fetchall()
        return [r[0] for r in rows]

    # -- API keys -----------------------------------------------------------------------------

    def add_api_key(
        self,
        account_id: int,
        api_key: str,
        secret: str,
        permissions: frozenset[Permission],
        label: str = "",
        *,
        created_ms: int | None = None,
    ) -> None:
        """Raises `UnknownAccountError` for a missing account, ValueError for a taken key."""
        created = created_ms if created_ms is not None else time.time_ns() // 1_000_000
        with self._write() as db:
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
                raise UnknownAccountError(account_id)
            inserted = db.execute(
                f"INSERT INTO api_keys ({_API_KEY_COLS}) VALUES ({_placeholders(_API_KEY_COLS)})"
                " ON CONFLICT (api_key) DO NOTHING RETURNING api_key",
                (
                    api_key,
                    account_id,
                    secret,
                    ",".join(sorted(p.value for p in permissions)),
                    True,
                    label,
                    created,
                ),
            ).fetchall()
            if not inserted:
                raise ValueError("this API key is already registered")

    def api_key(self, api_key: str) -> ApiKey | None:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_API_KEY_COLS} FROM api_keys WHERE api_key = ?", (api_key,)
            ).fetchone()
        return None if row is None else _api_key(row)

    def set_api_key_enabled(self, api_key: str, enabled: bool) -> bool:
        """False when there is no such key."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE api_keys SET enabled = ? WHERE api_key = ?", (enabled, api_key)
            ).rowcount
        return updated == 1

    # -- history ------------------------------------------------------------------------------

    def income(
        self,
        account_id: int,
        *,
        now_ms: int,
        symbol: str | None = None,
        income_type: IncomeType | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 100,
        window_ms: int = HISTORY_DEFAULT_WINDOW_MS,
    ) -> list[IncomeRecord]:
        """Inclusive window (`query_window`), oldest first, at most `limit` (as `MemoryLedger`)."""
        _check_limit(limit)
        start, end = query_window(start_time, end_time, now_ms, window_ms)
        sql = f"SELECT {_INCOME_COLS} FROM income WHERE account_id = ? AND time BETWEEN ? AND ?"
        params: list[object] = [account_id, start, end]
        if symbol is not None:
            sql += " AND symbol = ?"
            params.append(symbol)
        if income_type is not None:
            sql += " AND income_type = ?"
            params.append(income_type.value)
        sql += " ORDER BY time, tran_id LIMIT ?"
        params.append(limit)
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [_income(r) for r in rows]

    def margin_history(
        self,
        account_id: int,
        *,
        now_ms: int,
        symbol: str,
        type: PositionMarginChange | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
        window_ms: int = HISTORY_DEFAULT_WINDOW_MS,
    ) -> list[MarginChangeRecord]:
        _check_limit(limit)
        start, end = query_window(start_time, end_time, now_ms, window_ms)
        sql = (
            f"SELECT {_MARGIN_COLS} FROM margin_changes"
            " WHERE account_id = ? AND symbol = ? AND time BETWEEN ? AND ?"
        )
        params: list[object] = [account_id, symbol, start, end]
        if type is not None:
            sql += " AND type = ?"
            params.append(int(type))
        sql += " ORDER BY time, id LIMIT ?"
        params.append(limit)
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [_margin(r) for r in rows]

    def force_orders(
        self,
        account_id: int,
        *,
        now_ms: int,
        symbol: str | None = None,
        auto_close_type: AutoCloseType | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 50,
        window_ms: int = HISTORY_DEFAULT_WINDOW_MS,
    ) -> list[ForceOrderRecord]:
        _check_limit(limit)
        start, end = query_window(start_time, end_time, now_ms, window_ms)
        sql = (
            f"SELECT {_FORCE_COLS} FROM force_orders WHERE account_id = ? AND time BETWEEN ? AND ?"
        )
        params: list[object] = [account_id, start, end]
        if symbol is not None:
            sql += " AND symbol = ?"
            params.append(symbol)
        if auto_close_type is not None:
            sql += " AND auto_close_type = ?"
            params.append(auto_close_type.value)
        sql += " ORDER BY time, order_id LIMIT ?"
        params.append(limit)
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [_force(r) for r in rows]

    def trades(
        self,
        account_id: int,
        *,
        symbol: str,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
        from_id: int | None = None,
        now_ms: int | None = None,
        window_ms: int = HISTORY_DEFAULT_WINDOW_MS,
    ) -> list[TradeRecord]:
        """Oldest first. With `from_id`: trades with id >= from_id. With a time bound: the
        inclusive window (`query_window` when `now_ms` is given, else the bounds as sent). With
        neither: the most recent `limit` trades (within the last `window_ms` when `now_ms` is
        given)."""
        _check_limit(limit)
        sql = f"SELECT {_TRADE_COLS} FROM trades WHERE account_id = ? AND symbol = ?"
        params: list[object] = [account_id, symbol]
        if from_id is not None:
            sql += " AND trade_id >= ?"
            params.append(from_id)
        most_recent = from_id is None and start_time is None and end_time is None
        if now_ms is not None:
            start, end = query_window(start_time, end_time, now_ms, window_ms)
            sql += " AND time BETWEEN ? AND ?"
            params += [start, end]
        else:
            if start_time is not None:
                sql += " AND time >= ?"
                params.append(start_time)
            if end_time is not None:
                sql += " AND time <= ?"
                params.append(end_time)
        order = "time DESC, trade_id DESC" if most_recent else "time, trade_id"
        sql += f" ORDER BY {order} LIMIT ?"
        params.append(limit)
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        found = [_trade(r) for r in rows]
        return found[::-1] if most_recent else found

    def transfer(self, account_id: int, client_tran_id: str) -> TransferRecord | None:
        """The latest transfer an account made under a clientTranId, if any."""
        with self._read() as db:
            row = db.execute(
                f"SELECT {_TRANSFER_COLS} FROM transfers"
                " WHERE account_id = ? AND client_tran_id = ? ORDER BY time DESC, tran_id DESC",
                (account_id, client_tran_id),
            ).fetchone()
        return None if row is None else _transfer(row)

    def order(
        self,
        account_id: int,
        symbol: str,
        *,
        now_ms: int,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> Order | None:
        """An order that left the book. As the docs say, CANCELED or EXPIRED orders without
        any fill are not found once 7 days older than their creation."""
        where, args = "account_id = ? AND symbol = ?", [account_id, symbol]
        if order_id is not None:
            where += " AND order_id = ?"
            args.append(order_id)
        if client_order_id is not None:
            where += " AND client_order_id = ?"
            args.append(client_order_id)
        with self._read() as db:
            row = db.execute(
                f"SELECT data FROM orders WHERE {where} ORDER BY order_id DESC", tuple(args)
            ).fetchone()
        if row is None:
            return None
        order = order_from_list(orjson.loads(row[0]))
        gone = order.status.value in ("CANCELED", "EXPIRED") and order.executed_qty == 0
        if gone and order.time + ORDER_KEPT_MS < now_ms:
            return None
        return order

    def ledger_sum(self, account_id: int, asset: str) -> Decimal:
        """Sum of the account's income in `asset`: equals its futures wallet when all is well."""
        with self._read() as db:
            rows = db.execute(
                "SELECT income FROM income WHERE account_id = ? AND asset = ?", (account_id, asset)
            ).fetchall()
        # Summed in Decimal here: SQLite's SUM over TEXT would go through floats.
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    # -- mark prices --------------------------------------------------------------------------

    def save_marks(self, marks: Iterable[MarkPrice]) -> None:
        rows = [_mark_row(m) for m in marks]
        if not rows:
            return
        updates = ", ".join(f"{c} = excluded.{c}" for c in _MARK_COLS.replace(" ", "").split(","))
        with self._write() as db:
            db.executemany(
                f"INSERT INTO marks ({_MARK_COLS}) VALUES ({_placeholders(_MARK_COLS)})"
                f" ON CONFLICT (symbol) DO UPDATE SET {updates}",
                rows,
            )

    def load_marks(self) -> dict[str, MarkPrice]:
        with self._read() as db:
            rows = db.execute(f"SELECT {_MARK_COLS} FROM marks ORDER BY symbol").fetchall()
        return {m.symbol: m for m in map(_mark, rows)}

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- listen keys --------------------------------------------------------------------------

    def put_listen_key(self, account_id: int, key: str, expires_ms: int) -> None:
        """Make `key` the account's one active listen key (replacing any other), until
        `expires_ms`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO listen_keys (key, account_id, expires_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (account_id)"
                " DO UPDATE SET key = excluded.key, expires_ms = excluded.expires_ms",
                (key, account_id, expires_ms),
            )

    def listen_key(self, key: str) -> ListenKeyRow | None:
        with self._read() as db:
            row = db.execute(
                "SELECT key, account_id, expires_ms FROM listen_keys WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else ListenKeyRow(*row)

    def listen_key_for_account(self, account_id: int) -> ListenKeyRow | None:
        with self._read() as db:
            row = db.execute(
                "SELECT key, account_id, expires_ms FROM listen_keys WHERE account_id = ?",
                (account_id,),
            ).fetchone()
        return None if row is None else ListenKeyRow(*row)

    def delete_listen_key(self, key: str) -> bool:
        with self._write() as db:
            deleted = db.execute("DELETE FROM listen_keys WHERE key = ?", (key,)).rowcount
        return deleted == 1
