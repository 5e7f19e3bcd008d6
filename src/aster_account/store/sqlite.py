"""SQLite backend: one file, one connection per thread, WAL, every commit synced to disk.

SQLite has a single writer per file. A write transaction starts with BEGIN IMMEDIATE, which takes
that writer lock up front (so two writers never deadlock upgrading a read), and the lock is what
serialises work on an account: the account row needs no lock of its own. Inside one process a
Python lock queues this store's writers instead of letting them poll `busy_timeout`; across
processes (or several `SqliteStore`s on one file) `busy_timeout` makes them wait.

`synchronous=FULL` syncs the WAL on every commit, so a transfer that was answered survives a
power cut. `:memory:` (tests) is one connection shared by every thread, behind the same lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

from aster_account.store import schema
from aster_account.store.base import Cursor, Db, Store

MEMORY = ":memory:"

# The process umask is global: changed only under this lock, and only around connecting.
_UMASK_LOCK = threading.Lock()


class _SqliteDb(Db):
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self._conn.executemany(sql, rows)


class SqliteStore(Store):
    dialect: ClassVar[schema.Dialect] = "sqlite"
    # BEGIN IMMEDIATE already holds the file's writer lock.
    _LOCK_ACCOUNT: ClassVar[str] = "SELECT state, version FROM accounts WHERE id = ?"
    supports_batch: ClassVar[bool] = True

    def __init__(self, path: str, *, busy_timeout_ms: int = 10_000) -> None:
        super().__init__()
        self.path = path
        self._memory = path == MEMORY
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        # Reentrant so that a read inside this thread's own write transaction does not block.
        self._lock = threading.RLock()
        self._closed = False
        if not self._memory:
            _create_private(path)
        self._shared = self._connect() if self._memory else None
        try:
            self._ensure_schema()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        with _UMASK_LOCK:
            old_umask = os.umask(0o077)
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout_ms / 1000,
                    isolation_level=None,  # transactions are begun and ended explicitly
                    check_same_thread=False,  # one thread uses it; close() may run elsewhere
                )
                try:
                    conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if not self._memory and mode != "wal":
                        raise RuntimeError(f"{self.path}: SQLite refused WAL mode ({mode})")
                    conn.execute("PRAGMA synchronous = FULL")
                    conn.execute("PRAGMA foreign_keys = ON")
                except BaseException:
                    conn.close()
                    raise
            finally:
                os.umask(old_umask)
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _read(self) -> Iterator[Db]:
        if self._shared is not None:
            with self._lock:
                yield _SqliteDb(self._connection())
        else:
            # WAL: readers see the last commit and never wait for the writer.
            yield _SqliteDb(self._connection())

    @contextmanager
    def _begin_write(self) -> Iterator[Db]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteDb(conn)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _schema_lock(self, db: Db) -> None:
        pass  # BEGIN IMMEDIATE already excludes every other writer of the file

    def _next_id(self, db: Db, kind: str) -> int:
        # Safe without a sequence: the counter row is updated under the file's writer lock.
        if kind not in schema.ID_KINDS:
            raise ValueError(f"unknown id kind {kind!r}; expected one of {schema.ID_KINDS}")
        rows = db.execute(
            "UPDATE counters SET value = value + 1 WHERE kind = ? RETURNING value", (kind,)
        ).fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()


def _create_private(path: str) -> None:
    """Create the database file 0600 before SQLite sees it (SQLite gives -wal / -shm the same
    mode). Only when it does not exist yet: closing any descriptor of an open SQLite file drops
    every POSIX lock this process holds on it, which would let another process checkpoint and
    delete the WAL under our connections."""
    with _UMASK_LOCK:
        old_umask = os.umask(0o077)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        finally:
            os.umask(old_umask)
        os.close(fd)
