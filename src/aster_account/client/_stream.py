"""The user data stream consumer: the pure policy both faces follow.

A consumer owns one listenKey and one websocket on ``<stream base>/ws/<listenKey>``:

- the key comes from ``new_listen_key`` (POST /fapi/v1/listenKey) and is kept alive with
  ``keepalive_listen_key`` every ``keepalive_s`` (30 minutes; the key lives 60);
- each text frame is one event, parsed with ``protocol.models.parse_event``; an event type this
  version does not know is logged and skipped, so a new server event never breaks a consumer;
- ``listenKeyExpired`` is handed out like any event and then a new key and a new connection are
  made (the docs: the old connection gets no more events);
- a close, a network failure or a refused connection is followed by a reconnect after a backoff
  (``backoff_s`` doubling to ``max_backoff_s``, reset by a frame); a close saying the key does
  not exist (1008 with -1125) also makes a new key;
- the connection is renewed before the server's 24-hour limit (``max_age_s``);
- ``close()`` closes the socket and the key (DELETE /fapi/v1/listenKey).

Events can be missed while reconnecting, so after every reconnection (``reconnects`` > 0) the
consumer reads the REST snapshot, as the docs advise -- balances (GET /fapi/v2/balance) and
positions (GET /fapi/v2/positionRisk) -- once the new connection is open, and hands it out as a
:class:`StreamResync` before the events that follow: whatever was missed is in it, whatever
comes after applies on top. A snapshot that cannot be read counts as a failed connection (the
consumer reconnects and tries again), so a gap is never passed over in silence.
``user_stream(resync=False)`` leaves this to the caller. To hear of the stream's own changes
as they happen, pass ``on_notice``: it is called with a :class:`StreamNotice` when a key is
made and when the connection opens, ends (with the wait before the next try), is renewed or
has been resynced.

``StreamPolicy`` decides; ``_sync.UserStream`` and ``_async.AsyncUserStream`` do the I/O.
Times are seconds (the client's ``now``), passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import orjson

from aster_account.protocol.errors import (
    AsterError,
    TooManyRequests,
    TransportError,
    UnknownOutcome,
)
from aster_account.protocol.models import (
    BalanceRow,
    Event,
    ListenKeyExpired,
    PositionRisk,
    parse_event,
)
from aster_account.protocol.wire import WireError

__all__ = ["LIVE_STREAM_URL", "StreamNotice", "StreamPolicy", "StreamResync", "stream_base"]

log = logging.getLogger("aster_account.client.stream")

LIVE_STREAM_URL = "wss://fstream.asterdex.com"
_LIVE_REST_HOST = "fapi.asterdex.com"
_NO_SUCH_KEY = -1125
_POLICY_VIOLATION = 1008


def stream_base(base_url: str) -> str:
    """Where the websockets of a REST base URL live: Aster's stream host for Aster, else the
    same host with ws:// or wss://."""
    scheme, _, rest = base_url.partition("://")
    if rest.split("/", 1)[0] == _LIVE_REST_HOST:
        return LIVE_STREAM_URL
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


Due = Literal["keepalive", "renew"]
NoticeKind = Literal["key", "connected", "disconnected", "renewing", "resynced"]


@dataclass(frozen=True, slots=True)
class StreamNotice:
    """A change of the stream itself, not of the account.

    ``kind``:

        key           a listenKey was made: the first, or a new one after the old one expired
        connected     the websocket is open (``reconnects`` > 0: after a gap)
        disconnected  it ended (``code`` 1006: dropped without a close frame), or could not
                      open (``code`` None); the next try is in ``retry_in`` seconds. Events
                      sent meanwhile are lost: once connected again the stream hands out a
                      ``StreamResync`` (unless ``resync=False``)
        renewing      it is being replaced on purpose (the 24-hour limit, an expired key)
        resynced      the REST snapshot after a gap was read (handed out as StreamResync)

    ``reconnects`` counts the connections that have ended so far; ``reason`` is the close
    reason or the failure.
    """

    kind: NoticeKind
    reconnects: int
    code: int | None = None
    reason: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class StreamResync:
    """Handed out by a user stream after a gap: the account as REST reads it now.

    Events sent while the stream was down are lost; their outcome is in this snapshot, and the
    events that follow apply on top of it (an event sent between the reconnection and the
    snapshot may show again after it: balances and positions in events are absolute values, so
    applying it twice changes nothing). ``reconnects`` is the stream's count at the time.
    """

    reconnects: int
    balances: list[BalanceRow]
    positions: list[PositionRisk]


@dataclass
class StreamPolicy:
    keepalive_s: float = 30 * 60
    max_age_s: float = 23 * 3600 + 50 * 60
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    resync: bool = True
    key: str | None = None
    reconnects: int = 0
    on_notice: Callable[[StreamNotice], None] | None = None
    _kept_alive_at: float = 0.0
    _connected_at: float | None = None
    _failures: int = 0
    _was_connected: bool = False

    def _tell(self, notice: StreamNotice) -> None:
        if self.on_notice is not None:
            self.on_notice(notice)

    @property
    def connected(self) -> bool:
        """Whether a connection is open (between ``opened`` and its end)."""
        return self._connected_at is not None

    # -- the key -------------------------------------------------------------------------------

    def key_made(self, key: str, now: float) -> None:
        self.key = key
        self._kept_alive_at = now
        self._tell(StreamNotice("key", self.reconnects))

    def kept_alive(self, now: float) -> None:
        self._kept_alive_at = now

    # -- the connection ------------------------------------------------------------------------

    def url(self, base: str) -> str:
        assert self.key is not None
        return f"{base}/ws/{self.key}"

    def opened(self, now: float) -> bool:
        """The connection is open; True when the REST snapshot is due first (after a gap: an
        earlier connection of this stream ended)."""
        self._connected_at = now
        self._tell(StreamNotice("connected", self.reconnects))
        gap = self._was_connected
        self._was_connected = True
        return self.resync and gap

    def snapshot_failed(self, err: AsterError) -> float:
        """The REST snapshot after a gap failed. A failure that can pass (no connection, no
        answer, a 5xx, the rate limit) counts as a failed connection: the seconds to wait before
        the next try. One that cannot (the key refused, a bad signature, ...) is raised: the
        stream cannot say what was missed, and trying again would never end."""
        if isinstance(err, TransportError | UnknownOutcome | TooManyRequests) or (
            err.http_status >= 500
        ):
            return self.ended(None, f"REST snapshot failed: {err}")
        raise err

    def resynced(self, balances: list[BalanceRow], positions: list[PositionRisk]) -> StreamResync:
        """The snapshot after a gap was read: what the consumer hands out."""
        self._tell(StreamNotice("resynced", self.reconnects))
        return StreamResync(self.reconnects, balances, positions)

    def wait(self, now: float) -> float:
        """Seconds to wait for a frame before something else is due (at least a little)."""
        deadlines = [self._kept_alive_at + self.keepalive_s]
        if self._connected_at is not None:
            deadlines.append(self._connected_at + self.max_age_s)
        return max(0.01, min(deadlines) - now)

    def due(self, now: float) -> Due | None:
        """What to do now that no frame came: renew the connection, keep the key alive, nothing."""
        if self._connected_at is not None and now >= self._connected_at + self.max_age_s:
            return "renew"
        if now >= self._kept_alive_at + self.keepalive_s:
            return "keepalive"
        return None

    def read(self, text: str | bytes) -> Event | None:
        """The event of one frame (None: not one this version knows). After listenKeyExpired
        the key is dropped, so the next connection uses a new one."""
        self._failures = 0
        try:
            event = parse_event(orjson.loads(text))
        except (orjson.JSONDecodeError, WireError) as exc:
            log.warning("user stream: skipped a frame: %s", exc)
            return None
        if isinstance(event, ListenKeyExpired):
            self.key = None
        return event

    def ended(self, code: int | None, reason: str) -> float:
        """The connection ended (``code`` None: it failed or never opened). Returns the seconds
        to wait before connecting again; a missing key is dropped so a new one is made."""
        self._connected_at = None
        self.reconnects += 1
        if code == _POLICY_VIOLATION and str(_NO_SUCH_KEY) in reason:
            self.key = None
        delay = float(min(self.max_backoff_s, self.backoff_s * 2**self._failures))
        self._failures += 1
        log.info("user stream ended (%s %s); again in %.1fs", code, reason, delay)
        self._tell(StreamNotice("disconnected", self.reconnects, code, reason, delay))
        return delay

    def renewing(self) -> None:
        """The connection is being replaced on purpose (age): no backoff."""
        self._connected_at = None
        self.reconnects += 1
        self._tell(StreamNotice("renewing", self.reconnects))
