"""Every store test runs on SQLite (a real file) and on PostgreSQL (a fresh schema per test).

PostgreSQL comes from ASTER_TEST_PG_URL (default postgresql://root@127.0.0.1:5432/test). When it
cannot be reached the PostgreSQL cases are skipped, except under CI, where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from aster_account.store import Store, open_store
from aster_account.testing import pg_schema

PG_URL = os.environ.get("ASTER_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        parts = urlsplit(PG_URL)  # no user or password in the message
        where = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
        reason = f"PostgreSQL unreachable at {where} (set ASTER_TEST_PG_URL): {exc}"
        if _in_ci():
            pytest.fail(f"CI must run the PostgreSQL store tests: {reason}")
        pytest.skip(reason)
    return PG_URL


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL whose connections live in a schema of their own, dropped after the test."""
    with pg_schema(pg_server_url, "store_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/aster.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
