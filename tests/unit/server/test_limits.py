"""Request weight per IP: the in-process counter and the Redis one behave the same (counts per
minute, 429 with Retry-After, then 418 bans that double), and the Redis one is shared by every
process that uses the same Redis and prefix.

Redis comes from ASTER_TEST_redis_url (default redis://127.0.0.1:6379/0). When it cannot be
reached the Redis cases are skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from aster_account.protocol.errors import IPBannedError, RateLimitError
from aster_account.server.limits import (
    FIRST_BAN_MS,
    GRACE_WHILE_LIMITED,
    MINUTE_MS,
    RedisWeightLimiter,
    WeightLimiter,
)
from aster_account.testing import free_port

T0 = 1_795_700_000_000 // MINUTE_MS * MINUTE_MS  # the start of a minute


Limiter = WeightLimiter | RedisWeightLimiter
Make = Callable[[int], Limiter]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Make]:
    made: list[RedisWeightLimiter] = []
    prefix = f"test-{uuid.uuid4().hex}"  # shared by the limiters of one test, as by processes

    def memory(limit: int) -> Limiter:
        return WeightLimiter(limit)

    def in_redis(limit: int) -> Limiter:
        made.append(RedisWeightLimiter(request.getfixturevalue("redis_url"), limit, prefix=prefix))
        return made[-1]

    if request.param == "redis":
        request.getfixturevalue("redis_url")  # skipped without Redis, except under CI
        yield in_redis
    else:
        yield memory
    for limiter in made:
        await limiter.aclose()


async def test_weights_add_up_within_a_minute_and_start_again_in_the_next(make: Make) -> None:
    limiter = make(100)
    assert await limiter.acquire("1.2.3.4", 5, T0) == 5
    assert await limiter.acquire("1.2.3.4", 20, T0 + 59_999) == 25
    assert await limiter.acquire("5.6.7.8", 1, T0) == 1  # per IP
    assert await limiter.acquire("1.2.3.4", 5, T0 + MINUTE_MS) == 5


async def test_over_the_limit_is_429_until_the_minute_ends_then_418_bans_double(
    make: Make,
) -> None:
    limiter = make(10)
    ip, now = "9.9.9.9", T0 + 45_000
    assert await limiter.acquire(ip, 10, now) == 10
    with pytest.raises(RateLimitError) as limited:
        await limiter.acquire(ip, 1, now)
    err = limited.value
    assert (err.http_status, err.code, err.retry_after) == (429, -1003, 15)
    assert err.headers["Retry-After"] == "15" and err.headers["X-MBX-USED-WEIGHT-1M"] == "11"
    for _ in range(GRACE_WHILE_LIMITED - 1):
        with pytest.raises(RateLimitError):
            await limiter.acquire(ip, 1, now)
    with pytest.raises(IPBannedError) as banned:
        await limiter.acquire(ip, 1, now)
    assert banned.value.http_status == 418 and banned.value.retry_after == FIRST_BAN_MS // 1000
    # still banned in the next minute, with the time left
    with pytest.raises(IPBannedError) as still:
        await limiter.acquire(ip, 1, now + MINUTE_MS)
    assert still.value.retry_after == (FIRST_BAN_MS - MINUTE_MS) // 1000
    assert still.value.headers["X-MBX-USED-WEIGHT-1M"] == "0"  # this minute's count
    # the ban over, the IP counts again; a second offence bans twice as long
    later = now + FIRST_BAN_MS
    assert await limiter.acquire(ip, 10, later) == 10
    for _ in range(GRACE_WHILE_LIMITED):
        with pytest.raises(RateLimitError):
            await limiter.acquire(ip, 1, later)
    with pytest.raises(IPBannedError) as again:
        await limiter.acquire(ip, 1, later)
    assert again.value.retry_after == 2 * FIRST_BAN_MS // 1000


async def test_processes_sharing_redis_count_an_ip_together(redis_url: str) -> None:
    """Each process decides on its own count plus the others' as last read, and tells Redis of
    its new weight at its next flush: after the flushes both know the exact total."""
    import redis.asyncio as aioredis

    prefix = f"test-{uuid.uuid4().hex}"
    a = RedisWeightLimiter(redis_url, 100, prefix=prefix, flush_s=60)  # flushed by hand here
    b = RedisWeightLimiter(redis_url, 100, prefix=prefix, flush_s=60)
    other_venue = RedisWeightLimiter(redis_url, 100, prefix=f"{prefix}-other", flush_s=60)
    check = aioredis.Redis.from_url(redis_url)
    ip = "1.1.1.1"
    try:
        assert await a.acquire(ip, 10, T0) == 10
        await a.flush()
        assert await b.acquire(ip, 10, T0) == 10  # b has not heard of a's 10 yet
        await b.flush()  # now it has
        assert await b.acquire(ip, 1, T0) == 21
        await asyncio.gather(*(x.acquire(ip, 1, T0) for x in (a, b) * 20))
        for x in (a, b, a, b):  # each tells, then each hears the other
            x._news.add(ip)
            await x.flush()
        counts = await check.hvals(f"{prefix}:w:{ip}:{T0 // MINUTE_MS}")
        assert len(counts) == 2 and sum(int(v) for v in counts) == 61  # one field a process
        assert a.used(ip, T0) == b.used(ip, T0) == 61
        assert await other_venue.acquire(ip, 1, T0) == 1  # another prefix, its own counts
    finally:
        for limiter in (a, b, other_venue):
            await limiter.aclose()
        await check.aclose()


async def test_a_ban_set_by_one_process_reaches_the_others(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    a = RedisWeightLimiter(redis_url, 10, prefix=prefix, flush_s=60)
    b = RedisWeightLimiter(redis_url, 10, prefix=prefix, flush_s=60)
    ip, now = "7.7.7.7", T0 + 1_000
    try:
        await a.acquire(ip, 10, now)
        for _ in range(GRACE_WHILE_LIMITED + 1):
            with pytest.raises((RateLimitError, IPBannedError)):
                await a.acquire(ip, 1, now)
        await a.flush()
        assert await b.acquire(ip, 0, now + MINUTE_MS) == 0  # before b reads: what it knows
        await b.flush()
        with pytest.raises(IPBannedError) as banned:
            await b.acquire(ip, 1, now + MINUTE_MS)
        assert banned.value.retry_after == (FIRST_BAN_MS - MINUTE_MS) // 1000
    finally:
        for limiter in (a, b):
            await limiter.aclose()


async def test_weight_reaches_redis_by_itself_within_the_flush_interval(redis_url: str) -> None:
    import redis.asyncio as aioredis

    prefix = f"test-{uuid.uuid4().hex}"
    limiter = RedisWeightLimiter(redis_url, 100, prefix=prefix, flush_s=0.01)
    check = aioredis.Redis.from_url(redis_url)
    try:
        await limiter.acquire("3.3.3.3", 7, T0)
        key = f"{prefix}:w:3.3.3.3:{T0 // MINUTE_MS}"
        async with asyncio.timeout(2):
            while not await check.hvals(key):
                await asyncio.sleep(0.005)
        assert [int(v) for v in await check.hvals(key)] == [7]
    finally:
        await limiter.aclose()
        await check.aclose()


async def test_without_redis_the_process_counts_alone_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RedisWeightLimiter(f"redis://127.0.0.1:{free_port()}/0", 10)  # nothing there
    try:
        assert await limiter.acquire("2.2.2.2", 4, T0) == 4
        await limiter.flush()  # fails: logged, and the weight stays to be told later
        assert await limiter.acquire("2.2.2.2", 4, T0) == 8  # counted in the process
        with pytest.raises(RateLimitError):
            await limiter.acquire("2.2.2.2", 4, T0)
        assert limiter.used("2.2.2.2", T0) == 12
    finally:
        await limiter.aclose()
    assert "counting request weight in this process" in caplog.text


def test_ips_with_nothing_to_remember_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    from aster_account.server import limits

    monkeypatch.setattr(limits, "_PRUNE_AT", 5)
    limiter = WeightLimiter(10)
    for n in range(4):
        limiter.hit(f"10.0.0.{n}", 1, T0)
    limiter.hit("10.0.0.9", 10, T0)
    for _ in range(GRACE_WHILE_LIMITED + 1):  # banned: to be remembered
        with pytest.raises((RateLimitError, IPBannedError)):
            limiter.hit("10.0.0.9", 1, T0)
    limiter.hit("10.0.1.1", 1, T0 + MINUTE_MS)  # the sixth IP, a minute later
    assert set(limiter._ips) == {"10.0.0.9", "10.0.1.1"}
    with pytest.raises(IPBannedError):
        limiter.hit("10.0.0.9", 1, T0 + MINUTE_MS)
