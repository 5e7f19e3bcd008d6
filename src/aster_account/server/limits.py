"""Request weight per IP, as Aster counts it (docs: "LIMITS").

Every request adds its endpoint's weight to the IP's count for the current minute; the count is
sent back as `X-MBX-USED-WEIGHT-1M`. Past the limit (2400) the answer is 429 (-1003) with
`Retry-After`; an IP that keeps sending while limited is banned: 418 with a ban that starts at 2
minutes and doubles for each repeat offence, up to 3 days (docs: "from 2 minutes to 3 days").

`WeightLimiter` counts in the process. `RedisWeightLimiter` (``serve --redis URL``) keeps the same
counts in Redis, so that the N server processes of one venue count an IP together, as Aster's
edge does: one Lua script per request does the whole step atomically. When Redis cannot be
reached the process counts on its own (and logs it) until Redis answers again: limits become
per process for that time rather than every request failing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from aster_account.protocol.errors import IPBannedError, RateLimitError, TooManyRequests

log = logging.getLogger("aster_account.server.limits")

MINUTE_MS = 60_000
FIRST_BAN_MS = 2 * MINUTE_MS
MAX_BAN_MS = 3 * 24 * 60 * MINUTE_MS
# Requests an IP may still send while limited before it is banned.
GRACE_WHILE_LIMITED = 10


@dataclass(slots=True)
class _IpState:
    window: int = -1  # minute number of `used`
    used: int = 0
    limited_hits: int = 0  # requests sent while over the limit in this window
    banned_until: int = 0
    offences: int = 0


class WeightLimiter:
    def __init__(self, limit: int = 2400) -> None:
        self.limit = limit
        self._ips: dict[str, _IpState] = {}
        self._lock = threading.Lock()

    async def acquire(self, ip: str, weight: int, now_ms: int) -> int:
        """`hit`, as the app calls a limiter (the Redis one has to wait for its answer)."""
        return self.hit(ip, weight, now_ms)

    def hit(self, ip: str, weight: int, now_ms: int) -> int:
        """Count a request; the IP's used weight this minute, or RateLimitError / IPBannedError."""
        minute = now_ms // MINUTE_MS
        with self._lock:
            st = self._ips.get(ip)
            if st is None:
                st = self._ips[ip] = _IpState()
            if st.banned_until > now_ms:
                raise _banned(st.banned_until, st.used if st.window == minute else 0, now_ms)
            if st.window != minute:
                st.window, st.used, st.limited_hits = minute, 0, 0
            st.used += weight
            if st.used <= self.limit:
                return st.used
            st.limited_hits += 1
            if st.limited_hits > GRACE_WHILE_LIMITED:
                st.banned_until = now_ms + _ban_ms(st.offences)
                st.offences += 1
                raise _banned(st.banned_until, st.used, now_ms)
            raise _limited(self.limit, st.used, now_ms)

    def used(self, ip: str, now_ms: int) -> int:
        st = self._ips.get(ip)
        if st is None or st.window != now_ms // MINUTE_MS:
            return 0
        return st.used


def _ban_ms(offences: int) -> int:
    """The ban after `offences` earlier ones: 2 minutes, doubling, at most 3 days."""
    return min(FIRST_BAN_MS << offences, MAX_BAN_MS)


def _limited(limit: int, used: int, now_ms: int) -> RateLimitError:
    retry = max(1, -(-((now_ms // MINUTE_MS + 1) * MINUTE_MS - now_ms) // 1000))
    return RateLimitError(
        TooManyRequests.format(limit),
        retry_after=retry,
        headers={"Retry-After": str(retry), "X-MBX-USED-WEIGHT-1M": str(used)},
    )


def _banned(banned_until: int, used: int, now_ms: int) -> IPBannedError:
    seconds = max(1, -(-(banned_until - now_ms) // 1000))
    return IPBannedError.until(
        banned_until,
        retry_after=seconds,
        headers={"Retry-After": str(seconds), "X-MBX-USED-WEIGHT-1M": str(used)},
    )


# One request's step, atomically. KEYS: the IP's used weight this minute, its requests while
# limited this minute, its ban state (banned_until, offences). ARGV: weight, limit, now_ms,
# grace, first ban ms, max ban ms, how long to remember offences (ms).
# Returns {status, used, banned_until}: status 0 counted, 1 limited (429), 2 banned (418).
_STEP = """
local now = tonumber(ARGV[3])
local banned_until = tonumber(redis.call('HGET', KEYS[3], 'until') or '0')
if banned_until > now then
  return {2, tonumber(redis.call('GET', KEYS[1]) or '0'), banned_until}
end
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], 120000) end
if used <= tonumber(ARGV[2]) then return {0, used, 0} end
local hits = redis.call('INCR', KEYS[2])
if hits == 1 then redis.call('PEXPIRE', KEYS[2], 120000) end
if hits <= tonumber(ARGV[4]) then return {1, used, 0} end
local offences = tonumber(redis.call('HGET', KEYS[3], 'offences') or '0')
local ban = math.min(tonumber(ARGV[5]) * (2 ^ offences), tonumber(ARGV[6]))
banned_until = now + ban
redis.call('HSET', KEYS[3], 'until', banned_until, 'offences', offences + 1)
redis.call('PEXPIRE', KEYS[3], ban + tonumber(ARGV[7]))
return {2, used, banned_until}
"""
# an IP's offences are forgotten this long after its last ban ends
_OFFENCE_MEMORY_MS = MAX_BAN_MS
# after Redis failed, the process counts alone for this long before it asks Redis again
_RETRY_REDIS_S = 1.0


class RedisWeightLimiter:
    """The same counts as `WeightLimiter`, kept in Redis under ``<prefix>:`` keys so that every
    server process of a venue shares them. ``url``: redis://host:port/db (redis-py's form)."""

    def __init__(self, url: str, limit: int = 2400, *, prefix: str = "aster-account") -> None:
        import redis.asyncio as aioredis

        self.limit = limit
        self.prefix = prefix
        self._redis: Any = aioredis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        self._step = self._redis.register_script(_STEP)
        self._local = WeightLimiter(limit)  # while Redis cannot be reached
        self._down_until = 0.0

    async def acquire(self, ip: str, weight: int, now_ms: int) -> int:
        if time.monotonic() < self._down_until:
            return self._local.hit(ip, weight, now_ms)
        import redis

        minute = now_ms // MINUTE_MS
        keys = [
            f"{self.prefix}:w:{ip}:{minute}",
            f"{self.prefix}:l:{ip}:{minute}",
            f"{self.prefix}:b:{ip}",
        ]
        args = [
            weight,
            self.limit,
            now_ms,
            GRACE_WHILE_LIMITED,
            FIRST_BAN_MS,
            MAX_BAN_MS,
            _OFFENCE_MEMORY_MS,
        ]
        try:
            status, used, banned_until = await self._step(keys=keys, args=args)
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis unreachable (%s): counting request weight in this process", exc)
            self._down_until = time.monotonic() + _RETRY_REDIS_S
            return self._local.hit(ip, weight, now_ms)
        if status == 0:
            return int(used)
        if status == 1:
            raise _limited(self.limit, int(used), now_ms)
        raise _banned(int(banned_until), int(used), now_ms)

    async def aclose(self) -> None:
        await self._redis.aclose()
