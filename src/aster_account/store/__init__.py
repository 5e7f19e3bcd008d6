"""Durable state: accounts, API keys, history, mark prices, listen keys.

`open_store(url)` picks the backend from the URL; both share one schema (`schema`), one set of
SQL and one test suite (`base`):

    sqlite:///relative/path.db      a file next to the working directory
    sqlite:////absolute/path.db     (four slashes: the path itself starts with '/')
    sqlite:///:memory:              one in-memory database (tests)
    postgresql://user@host/db       PostgreSQL (also postgres://); see `postgres` for schemas

A mutating call commits before it returns. Work on one account goes through
`with store.account(id) as tx:`, a transaction holding that account's lock (see `base`).
"""

from __future__ import annotations

from aster_account.store.base import (
    HISTORY_DEFAULT_WINDOW_MS,
    AccountTx,
    ApiKey,
    ListenKeyRow,
    Store,
    UnknownAccountError,
)
from aster_account.store.postgres import PostgresStore
from aster_account.store.sqlite import SqliteStore

__all__ = [
    "HISTORY_DEFAULT_WINDOW_MS",
    "AccountTx",
    "ApiKey",
    "ListenKeyRow",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "UnknownAccountError",
    "open_store",
]

_SQLITE_PREFIX = "sqlite:///"


def open_store(url: str) -> Store:
    """The store at `url` (see the module doc), its schema created if absent."""
    if url.startswith(_SQLITE_PREFIX):
        path = url.removeprefix(_SQLITE_PREFIX)
        if not path:
            raise ValueError(f"no database path in {url!r}")
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    # Only the scheme is echoed back: the rest may carry a password.
    scheme = url.split(":", 1)[0] if ":" in url else "(none)"
    raise ValueError(f"unsupported store URL scheme {scheme!r}: use sqlite:/// or postgresql://")
