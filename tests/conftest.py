"""Fixtures for every test directory."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis of the tests: ASTER_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When it
    cannot be reached the tests that use it are skipped, except under CI, where they fail."""
    import redis

    url = os.environ.get("ASTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except (OSError, redis.RedisError) as exc:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"Redis at {url} is required under CI: {exc}")
        pytest.skip(f"no Redis at {url}: {exc}")
    return url
