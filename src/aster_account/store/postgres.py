"""PostgreSQL backend: the scale path, N stateless server processes on one database.

Connections come from a small `psycopg_pool.ConnectionPool` in autocommit mode, so a read is one
round trip; a write is an explicit BEGIN ... COMMIT (`conn.transaction()`). An account transaction
takes that account's row with SELECT ... FOR UPDATE: writers to one account queue on the row lock,
writers to different accounts run in parallel, and under READ COMMITTED everything read after the
lock is granted includes the previous holder's commit. Ids come from sequences, shared by every
process and never rolled back (an aborted transaction leaves a gap).

Pass the schema in the URL when it is not `public`:
`postgresql://user@host/db?options=-csearch_path%3Dmyschema`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar

import psycopg
from psycopg_pool import ConnectionPool

from aster_account.store import schema
from aster_account.store.base import Cursor, Db, Store

# pg_advisory_xact_lock key held while creating the schema ("asterdb" in ASCII).
_SCHEMA_LOCK_KEY = 0x61737465726462


@lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    # The shared SQL has no literal '%' and uses '?' only as a placeholder.
    return sql.replace("?", "%s")


class _PgDb(Db):
    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return self._conn.execute(_pg_sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_pg_sql(sql), rows)


class PostgresStore(Store):
    dialect: ClassVar[schema.Dialect] = "postgres"
    _LOCK_ACCOUNT: ClassVar[str] = "SELECT state, version FROM accounts WHERE id = ? FOR UPDATE"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            timeout=timeout,
            name="aster-store",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self._ensure_schema()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        # The URL may carry a password: not shown.
        return f"PostgresStore(pool={self._pool.name!r}, max_size={self._pool.max_size})"

    @contextmanager
    def _read(self) -> Iterator[Db]:
        with self._pool.connection() as conn:
            yield _PgDb(conn)

    @contextmanager
    def _begin_write(self) -> Iterator[Db]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PgDb(conn)

    def _schema_lock(self, db: Db) -> None:
        # CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE of the same name.
        db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK_KEY,))

    def _next_id(self, db: Db, kind: str) -> int:
        row = db.execute(f"SELECT nextval('{schema.sequence_name(kind)}')").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._pool.close()
