"""The client's estimate of the server clock: an offset measured from ``GET /fapi/v1/time``.

A signed request carries ``timestamp``; the server refuses it when it is 1000 ms or more ahead of
its clock or older than ``recvWindow`` (-1021). So the client signs with ``local + offset``, where
the offset is the server time minus the midpoint of the round trip that fetched it:

    offset = serverTime - (sent + received) / 2

It is measured lazily before the first signed call, again every ``refresh`` seconds, and at once
after a -1021. ``generation`` counts measurements, so that of many requests refused together only
the first measures again and the others simply re-sign (see ``_core``).

Pure: times are passed in (milliseconds since the epoch, local clock).
"""

from __future__ import annotations

import threading

__all__ = ["ServerClock"]


class ServerClock:
    def __init__(self, refresh_s: float = 600.0, sync_timeout_s: float = 30.0) -> None:
        self.refresh_ms = int(refresh_s * 1000)
        self.sync_timeout_ms = int(sync_timeout_s * 1000)
        self.offset_ms = 0
        self.round_trip_ms: int | None = None
        self.generation = 0
        self._synced_at: int | None = None
        self._syncing_since: int | None = None
        self._lock = threading.Lock()

    @property
    def synced(self) -> bool:
        return self._synced_at is not None

    def server_ms(self, local_ms: int) -> int:
        """The server's time now, as best known."""
        return local_ms + self.offset_ms

    def latest_ms(self, local_ms: int) -> int:
        """The latest the server's clock can read now: the estimate plus half the round trip
        it was measured over (the server read its clock somewhere inside that round trip, so a
        pause on the way back, a GC or a busy loop, puts the estimate behind by up to that)."""
        return self.server_ms(local_ms) + ((self.round_trip_ms or 0) + 1) // 2

    def due(self, local_ms: int) -> bool:
        """Whether the offset should be measured before a signed request is sent."""
        return self._synced_at is None or local_ms - self._synced_at >= self.refresh_ms

    def begin(self, local_ms: int) -> bool:
        """Claim the measurement; False while another caller is measuring (then wait for it)."""
        with self._lock:
            since = self._syncing_since
            if since is not None and local_ms - since < self.sync_timeout_ms:
                return False
            self._syncing_since = local_ms
            return True

    def end(self) -> None:
        """Give up a claim without a measurement (the time request failed)."""
        with self._lock:
            self._syncing_since = None

    def update(self, sent_ms: int, server_ms: int, received_ms: int) -> None:
        """Record one measurement: the round trip ran from ``sent_ms`` to ``received_ms``."""
        with self._lock:
            self.offset_ms = server_ms - (sent_ms + received_ms) // 2
            self.round_trip_ms = received_ms - sent_ms
            self._synced_at = received_ms
            self._syncing_since = None
            self.generation += 1

    def invalidate(self) -> None:
        """Measure again before the next signed request (after -1021)."""
        with self._lock:
            self._synced_at = None
