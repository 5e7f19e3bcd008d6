"""Request weight, counted the way the server counts it, so that the client waits instead of
being refused.

Aster counts weight per IP per minute of its own clock (2400 by default; ``rateLimits`` of
``exchangeInfo`` says how much). Every response carries ``X-MBX-USED-WEIGHT-1M``, the count so far
in that minute, which includes other programs on the same IP. The gate keeps:

- ``used``: the largest count known for the current server minute, raised by each request's
  weight as it leaves (so that many requests in flight do not all pass one check) and by each
  header that comes back;
- ``blocked_until``: the end of a ``Retry-After`` the server sent with a 429 or 418.

``delay(weight, now)`` is how long to wait before a request of that weight may leave: nothing if
it fits, else until the next server minute (plus ``margin_ms`` for clock error), or until the end
of the block; ``acquire`` is ``delay`` that also counts the request when it may leave. Pure:
times are server-clock milliseconds, passed in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from aster_account.protocol.models import RateLimit

__all__ = ["DEFAULT_WEIGHT_LIMIT", "MINUTE_MS", "WeightGate", "weight_limit_from"]

MINUTE_MS = 60_000
DEFAULT_WEIGHT_LIMIT = 2400
USED_WEIGHT_HEADER = "x-mbx-used-weight-1m"


def weight_limit_from(rate_limits: Iterable[RateLimit]) -> int | None:
    """The per-minute REQUEST_WEIGHT limit of an exchangeInfo ``rateLimits`` list, if it has one."""
    for rule in rate_limits:
        if (
            rule.rate_limit_type == "REQUEST_WEIGHT"
            and rule.interval == "MINUTE"
            and rule.interval_num == 1
        ):
            return rule.limit
    return None


class WeightGate:
    def __init__(self, limit: int = DEFAULT_WEIGHT_LIMIT, margin_ms: int = 250) -> None:
        self.limit = limit
        self.margin_ms = margin_ms
        self.used = 0
        self.minute = -1
        self.blocked_until = 0
        self._ban = False
        self._lock = threading.Lock()

    def _roll(self, now_ms: int) -> None:
        minute = now_ms // MINUTE_MS
        if minute > self.minute:
            self.minute, self.used = minute, 0

    def delay(self, weight: int, now_ms: int) -> float:
        """Seconds to wait before a request of ``weight`` may be sent (0.0: send now)."""
        with self._lock:
            if self.blocked_until > now_ms:
                return (self.blocked_until - now_ms) / 1000
            self._roll(now_ms)
            # An empty minute lets any request through, even one heavier than the limit.
            if self.used == 0 or self.used + weight <= self.limit:
                return 0.0
            next_minute = (self.minute + 1) * MINUTE_MS
            return (next_minute - now_ms + self.margin_ms) / 1000

    def acquire(self, weight: int, now_ms: int) -> float:
        """``delay``, and when that is nothing, ``take`` at once (one lock for both)."""
        with self._lock:
            if self.blocked_until <= now_ms:
                self._roll(now_ms)
                if self.used == 0 or self.used + weight <= self.limit:
                    self.used += weight
                    return 0.0
        return self.delay(weight, now_ms)

    def take(self, weight: int, now_ms: int) -> None:
        """Count a request that is leaving now."""
        with self._lock:
            self._roll(now_ms)
            self.used += weight

    def observe(self, headers: Mapping[str, str], sent_ms: int) -> None:
        """Read the server's count from a response to a request sent at ``sent_ms``."""
        value = headers.get(USED_WEIGHT_HEADER)
        if value is None:
            return
        try:
            used = int(value)
        except ValueError:
            return
        minute = sent_ms // MINUTE_MS
        with self._lock:
            if minute > self.minute:
                self.minute, self.used = minute, used
            elif minute == self.minute and used > self.used:
                self.used = used

    def block(self, seconds: float, now_ms: int, *, banned: bool = False) -> None:
        """The server said to wait ``seconds`` (Retry-After); ``banned``: it was a 418."""
        with self._lock:
            until = now_ms + int(seconds * 1000)
            if until >= self.blocked_until:
                self.blocked_until = until
                self._ban = banned

    def banned(self, now_ms: int) -> bool:
        """Whether the current wait is an IP ban (418) rather than a full minute (429)."""
        return self._ban and self.blocked_until > now_ms
