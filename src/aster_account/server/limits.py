"""Request weight per IP, as Aster counts it (docs: "LIMITS").

Every request adds its endpoint's weight to the IP's count for the current minute; the count is
sent back as `X-MBX-USED-WEIGHT-1M`. Past the limit (2400) the answer is 429 (-1003) with
`Retry-After`; an IP that keeps sending while limited is banned: 418 with a ban that starts at 2
minutes and doubles for each repeat offence, up to 3 days (docs: "from 2 minutes to 3 days").

This is the single-process counter; several server processes share counts through Redis (the
same interface) when one is configured.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aster_account.protocol.errors import IPBannedError, RateLimitError, TooManyRequests

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

    def hit(self, ip: str, weight: int, now_ms: int) -> int:
        """Count a request; the IP's used weight this minute, or RateLimitError / IPBannedError."""
        minute = now_ms // MINUTE_MS
        with self._lock:
            st = self._ips.get(ip)
            if st is None:
                st = self._ips[ip] = _IpState()
            if st.banned_until > now_ms:
                raise self._banned(st, now_ms)
            if st.window != minute:
                st.window, st.used, st.limited_hits = minute, 0, 0
            st.used += weight
            if st.used <= self.limit:
                return st.used
            st.limited_hits += 1
            if st.limited_hits > GRACE_WHILE_LIMITED:
                st.banned_until = now_ms + min(FIRST_BAN_MS << st.offences, MAX_BAN_MS)
                st.offences += 1
                raise self._banned(st, now_ms)
            retry = (minute + 1) * MINUTE_MS - now_ms
            raise RateLimitError(
                TooManyRequests.format(self.limit),
                retry_after=max(1, -(-retry // 1000)),
                headers={
                    "Retry-After": str(max(1, -(-retry // 1000))),
                    "X-MBX-USED-WEIGHT-1M": str(st.used),
                },
            )

    def used(self, ip: str, now_ms: int) -> int:
        st = self._ips.get(ip)
        if st is None or st.window != now_ms // MINUTE_MS:
            return 0
        return st.used

    def _banned(self, st: _IpState, now_ms: int) -> IPBannedError:
        seconds = max(1, -(-(st.banned_until - now_ms) // 1000))
        return IPBannedError.until(
            st.banned_until,
            retry_after=seconds,
            headers={"Retry-After": str(seconds), "X-MBX-USED-WEIGHT-1M": str(st.used)},
        )
