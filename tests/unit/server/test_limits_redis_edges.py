"""Edges of the batched `RedisWeightLimiter`: closing while a flush is in flight loses nothing,
a write Redis ran before a timeout is not counted twice when sent again, and the in-process
table is not rebuilt on every new IP once it holds `_PRUNE_AT` IPs it cannot forget.

Redis comes from ASTER_TEST_redis_url (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aster_account.protocol.errors import IPBannedError, RateLimitError
from aster_account.server import limits
from aster_account.server.limits import GRACE_WHILE_LIMITED, MINUTE_MS, RedisWeightLimiter

T0 = 1_795_700_000_000 // MINUTE_MS * MINUTE_MS  # the start of a minute

# Keeps the Redis server busy (so it answers nobody) for ARGV[1] microseconds.
_BUSY = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
while true do
  local n = redis.call('TIME')
  if n[1] * 1000000 + n[2] - start > tonumber(ARGV[1]) then break end
end
return 1
"""


async def shared_count(check: Any, prefix: str, ip: str) -> int:
    """The IP's total in Redis for minute T0: the sum of the processes' counts."""
    return sum(int(v) for v in await check.hvals(f"{prefix}:w:{ip}:{T0 // MINUTE_MS}"))


@pytest.fixture
async def check(redis_url: str) -> AsyncIterator[object]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_aclose_during_a_flush_still_tells_redis_the_weight_and_the_ban(
    check: object, redis_url: str
) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    limiter = RedisWeightLimiter(redis_url, 10, prefix=prefix, flush_s=0)
    ip = "4.4.4.4"
    try:
        await limiter.acquire(ip, 10, T0)  # starts the flusher, which has not run yet
        for _ in range(GRACE_WHILE_LIMITED + 1):  # the last one bans
            with pytest.raises((RateLimitError, IPBannedError)):
                await limiter.acquire(ip, 1, T0)
        while limiter._news:  # the flusher has taken the news and waits on Redis
            await asyncio.sleep(0)
        assert limiter._flusher is not None and not limiter._flusher.done()
    finally:
        await limiter.aclose()  # shutdown while that flush is in flight
    count = await shared_count(check, prefix, ip)
    assert count == 10 + GRACE_WHILE_LIMITED + 1
    assert await check.exists(f"{prefix}:b:{ip}") == 1  # type: ignore[attr-defined]


async def test_weight_sent_before_a_timeout_is_not_counted_twice(
    check: object, redis_url: str
) -> None:
    import redis.asyncio as aioredis

    prefix = f"test-{uuid.uuid4().hex}"
    limiter = RedisWeightLimiter(redis_url, 100, prefix=prefix, flush_s=60)  # flushed by hand
    blocker = aioredis.Redis.from_url(redis_url)
    ip = "5.5.5.5"
    try:
        await limiter._redis.ping()  # the limiter's connection is open
        await blocker.ping()
        assert await limiter.acquire(ip, 10, T0) == 10
        busy = asyncio.create_task(blocker.eval(_BUSY, 0, 900_000))  # Redis busy for 0.9 s
        await asyncio.sleep(0.1)
        await limiter.flush()  # sent, then times out after 0.5 s; Redis runs it at 0.9 s
        assert limiter._news == {ip}  # taken for not told
        await busy
        await asyncio.sleep(max(0.0, limiter._down_until - time.monotonic()) + 0.05)
        await limiter.flush()  # Redis answers again
        assert await shared_count(check, prefix, ip) == 10
    finally:
        await limiter.aclose()
        await blocker.aclose()


async def test_the_table_is_not_rebuilt_on_every_new_ip(
    check: object, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "_PRUNE_AT", 100)
    limiter = RedisWeightLimiter(redis_url, 100, prefix=f"test-{uuid.uuid4().hex}", flush_s=60)
    calls = 0
    prune = limiter._prune

    def counting_prune(minute: int, now_ms: int) -> None:
        nonlocal calls
        calls += 1
        prune(minute, now_ms)

    monkeypatch.setattr(limiter, "_prune", counting_prune)
    try:
        for n in range(1_000):  # all in the same minute: none can be forgotten
            await limiter.acquire(f"10.1.{n // 256}.{n % 256}", 1, T0)
    finally:
        await limiter.aclose()
    assert calls <= 10  # amortised: a few rebuilds, not one per new IP
