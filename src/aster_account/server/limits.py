"""Request weight per IP, as Aster counts it (docs: "LIMITS").

Every request adds its endpoint's weight to the IP's count for the current minute; the count is
sent back as `X-MBX-USED-WEIGHT-1M`. Past the limit (2400) the answer is 429 (-1003) with
`Retry-After`; an IP that keeps sending while limited is banned: 418 with a ban that starts at 2
minutes and doubles for each repeat offence, up to 3 days (docs: "from 2 minutes to 3 days").

`WeightLimiter` counts in the process. `RedisWeightLimiter` (``serve --redis URL``) makes the N
server processes of one venue count an IP together: each process decides on what it knows
(its own count plus the others' as last read) and, every ``flush_s`` (10 ms) while it has news,
writes its own count into the IP's entry in Redis in one pipelined round trip, reading back the
other processes' counts and any ban one of them set. A request thus costs no Redis call; the
price is that the processes learn of each other's requests up to ``flush_s`` late, so an IP can
pass the limit by what it sends to the other processes in that time. When Redis cannot be
reached the process counts on its own (and logs it) until Redis answers again: limits become per
process for that time rather than every request failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aster_account.protocol.errors import IPBannedError, RateLimitError, TooManyRequests

log = logging.getLogger("aster_account.server.limits")

MINUTE_MS = 60_000
FIRST_BAN_MS = 2 * MINUTE_MS
MAX_BAN_MS = 3 * 24 * 60 * MINUTE_MS
# Requests an IP may still send while limited before it is banned.
GRACE_WHILE_LIMITED = 10
# IPs kept before the ones with nothing to remember are forgotten
_PRUNE_AT = 100_000


@dataclass(slots=True)
class _IpState:
    window: int = -1  # minute number of `used`
    used: int = 0  # weight counted by this process in the window
    others: int = 0  # weight counted by the other processes, as last read (RedisWeightLimiter)
    limited_hits: int = 0  # requests sent while over the limit in this window
    banned_until: int = 0
    offences: int = 0
    ban_to_share: bool = False


class WeightLimiter:
    def __init__(self, limit: int = 2400) -> None:
        self.limit = limit
        self._ips: dict[str, _IpState] = {}
        self._lock = threading.Lock()
        self._prune_at = _PRUNE_AT

    async def acquire(self, ip: str, weight: int, now_ms: int) -> int:
        """`hit`, as the app calls a limiter (the Redis one has to wait for its answer)."""
        return self.hit(ip, weight, now_ms)

    def hit(self, ip: str, weight: int, now_ms: int) -> int:
        """Count a request; the IP's used weight this minute, or RateLimitError / IPBannedError."""
        minute = now_ms // MINUTE_MS
        with self._lock:
            st = self._ips.get(ip)
            if st is None:
                if len(self._ips) >= self._prune_at:
                    self._prune(minute, now_ms)
                st = self._ips[ip] = _IpState()
            if st.banned_until > now_ms:
                total = st.used + st.others if st.window == minute else 0
                raise _banned(st.banned_until, total, now_ms)
            if st.window != minute:
                st.window, st.used, st.others, st.limited_hits = minute, 0, 0, 0
            st.used += weight
            total = st.used + st.others
            if total <= self.limit:
                return total
            st.limited_hits += 1
            if st.limited_hits > GRACE_WHILE_LIMITED:
                st.banned_until = now_ms + _ban_ms(st.offences)
                st.offences += 1
                st.ban_to_share = True
                raise _banned(st.banned_until, total, now_ms)
            raise _limited(self.limit, total, now_ms)

    def _prune(self, minute: int, now_ms: int) -> None:
        """Forget the IPs with nothing to remember: no count this minute, no ban, no offence."""
        self._ips = {
            ip: st
            for ip, st in self._ips.items()
            if st.window >= minute or st.banned_until > now_ms or st.offences or st.ban_to_share
        }
        # when most are still in use, not again before the table has doubled
        self._prune_at = max(_PRUNE_AT, 2 * len(self._ips))

    def used(self, ip: str, now_ms: int) -> int:
        st = self._ips.get(ip)
        if st is None or st.window != now_ms // MINUTE_MS:
            return 0
        return st.used + st.others


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


# an IP's offences are forgotten this long after its last ban ends
_OFFENCE_MEMORY_MS = MAX_BAN_MS
# after Redis failed, the process counts alone for this long before it asks Redis again
_RETRY_REDIS_S = 1.0
_COUNT_TTL_MS = 2 * MINUTE_MS
# a shared ban outlives the longest ban by the time offences are remembered
_BAN_TTL_MS = MAX_BAN_MS + _OFFENCE_MEMORY_MS


class RedisWeightLimiter(WeightLimiter):
    """`WeightLimiter`'s counts, shared by every process that uses the same Redis and ``prefix``
    (module docstring). ``url``: redis://host:port/db (redis-py's form).

    In Redis an IP's minute is a hash with one field per process holding that process's count,
    and its ban a hash with each process's ban end and offences; a process only ever writes its
    own fields, with absolute values, so a write sent twice (a timeout after Redis ran it)
    changes nothing, and the total is the sum of the fields, a ban the latest of them."""

    def __init__(
        self,
        url: str,
        limit: int = 2400,
        *,
        prefix: str = "aster-account",
        flush_s: float = 0.01,
    ) -> None:
        import redis.asyncio as aioredis

        super().__init__(limit)
        self.prefix = prefix
        self.flush_s = flush_s
        self._me = uuid.uuid4().hex  # this process's field in the shared hashes
        self._redis: Any = aioredis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5, decode_responses=True
        )
        self._news: set[str] = set()  # IPs with weight or a ban Redis has not been told of
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self._down_until = 0.0

    async def acquire(self, ip: str, weight: int, now_ms: int) -> int:
        try:
            return self.hit(ip, weight, now_ms)
        finally:  # counted, or refused after counting: either way Redis hears of it
            self._news.add(ip)
            if not self._closing and (self._flusher is None or self._flusher.done()):
                self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._news and not self._closing:
            await asyncio.sleep(self.flush_s)
            await self.flush()

    async def flush(self) -> None:
        """Tell Redis this process's counts and bans of the IPs with news; read back the other
        processes' counts and bans. Does nothing while Redis is taken for unreachable."""
        if not self._news or time.monotonic() < self._down_until:
            return
        import redis

        news, self._news = self._news, set()
        sent: list[tuple[str, int, int, int]] = []  # ip, window, places of the two reads
        bans_told: list[str] = []
        pipe = self._redis.pipeline(transaction=False)
        place = 0
        with self._lock:
            for ip in news:
                st = self._ips.get(ip)
                if st is None:  # forgotten since (see `_prune`)
                    continue
                count_key = f"{self.prefix}:w:{ip}:{st.window}"
                pipe.hset(count_key, self._me, st.used)
                pipe.pexpire(count_key, _COUNT_TTL_MS)
                pipe.hgetall(count_key)
                counts_at = place + 2
                ban_key = f"{self.prefix}:b:{ip}"
                if st.ban_to_share:
                    st.ban_to_share = False
                    bans_told.append(ip)
                    ban = {
                        f"until:{self._me}": st.banned_until,
                        f"offences:{self._me}": st.offences,
                    }
                    pipe.hset(ban_key, mapping=ban)
                    pipe.pexpire(ban_key, _BAN_TTL_MS)
                    place += 2
                pipe.hgetall(ban_key)
                bans_at, place = place + 3, place + 4
                sent.append((ip, st.window, counts_at, bans_at))
        try:
            replies = await pipe.execute()
        except BaseException as exc:
            self._news |= news  # told again later: the values are absolute, so that is safe
            with self._lock:
                for ip in bans_told:
                    if (st := self._ips.get(ip)) is not None:
                        st.ban_to_share = True
            if not isinstance(exc, redis.RedisError | OSError):
                raise
            log.warning("Redis unreachable (%s): counting request weight in this process", exc)
            self._down_until = time.monotonic() + _RETRY_REDIS_S
            return
        with self._lock:
            for ip, window, counts_at, bans_at in sent:
                st = self._ips.get(ip)
                if st is None:
                    continue
                if st.window == window:
                    counts: dict[str, str] = replies[counts_at]
                    st.others = sum(int(v) for k, v in counts.items() if k != self._me)
                bans: dict[str, str] = replies[bans_at]
                until = max((int(v) for k, v in bans.items() if k.startswith("until:")), default=0)
                if until > st.banned_until:
                    st.banned_until = until
                    st.offences = max(
                        [
                            st.offences,
                            *(int(v) for k, v in bans.items() if k.startswith("offences:")),
                        ]
                    )

    async def aclose(self) -> None:
        """Tell Redis what it has not heard yet, then close the connections."""
        self._closing = True
        if self._flusher is not None and not self._flusher.done():
            # let a flush in flight finish (the loop stops after it)
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._flusher, timeout=2)
        with contextlib.suppress(Exception):
            await self.flush()
        await self._redis.aclose()
