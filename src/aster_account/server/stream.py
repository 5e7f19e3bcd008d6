"""The user data stream: websockets on a listenKey, fed by the events the service publishes.

    any thread   Service.mutate -> commit -> Service.publish(account_id, events)
                   -> StreamHub.publish: each event rendered once (`to_wire`, orjson), then
                      - this process: loop.call_soon_threadsafe(hub._deliver, ...)
                      - the others (PostgreSQL): PgFanout.send_events -> NOTIFY, sent by a thread
    listen thread PgFanout: LISTEN on its own connection; another process's events
                   -> loop.call_soon_threadsafe(hub._deliver, ...)
    event loop   hub._deliver: put_nowait into each subscribed connection's bounded queue. A full
                 queue closes that connection (1008) rather than wait for it (Binance drops a slow
                 consumer too), so no consumer ever slows the REST API or another consumer.
    per socket   one writer task: queue -> text frames; one reader task notices the client leave.

Each process delivers its own events directly and skips its own notifications, so a connection
gets every event once, whichever process caused it.

Endpoints (docs: "User Data Streams"):

    /ws/<listenKey>                      each event as Aster renders it
    /stream?streams=<key>[/<key>...]     each event as {"stream": "<listenKey>", "data": {...}}

An unknown or expired key is accepted and at once closed with code 1008 and the Aster error JSON
as the reason (`{"code":-1125,"msg":"This listenKey does not exist."}`); a plain HTTP GET of the
path answers that JSON with status 400 (426 and -1020 when the key is valid: use a websocket).

The listenKey's life, as the docs tell it:
- expiry: a sweep (`sweep`, every second from the risk loop) re-reads the keys whose known expiry
  has passed (a keepalive in any process extends it); for a key that did expire, its connections
  get `listenKeyExpired` and then no more events. They stay open, since the docs say the event "is
  not related to the websocket disconnection"; a new key needs a new connection.
- DELETE: its connections send what they already hold and close with 1000 (in every process).
- A connection lives at most 24 hours (`max_age_ms`, by the service clock), then closes with 1000.
Ping frames come from uvicorn (`ws_ping_interval`, see `main.serve`); uvicorn answers pongs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import queue
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg
from psycopg import sql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from aster_account.protocol.errors import AsterError, aster_error
from aster_account.protocol.models import ListenKeyExpired
from aster_account.protocol.wire import to_wire
from aster_account.server.service import Service
from aster_account.store import ListenKeyRow

log = logging.getLogger("aster_account.server.stream")

QUEUE_SIZE = 1000
"""Frames one connection may have waiting; one more and the connection is closed."""
MAX_AGE_MS = 24 * 60 * 60 * 1000  # docs: "only valid for 24 hours"
MAX_STREAMS = 10
"""Listen keys one /stream connection may follow."""
CLOSE_TIMEOUT_S = 2.0
"""How long a close may wait for a socket that does not drain before the task gives up."""

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008

JSON = "application/json"


def _reason(err: AsterError) -> str:
    return orjson.dumps(err.to_wire()).decode()


def invalid_key() -> AsterError:
    return aster_error(-1125, "This listenKey does not exist.")


def render(events: Sequence[Any]) -> list[str]:
    """Each event's JSON text, exactly as `to_wire` gives it."""
    return [orjson.dumps(to_wire(e)).decode() for e in events]


class Connection:
    """One websocket: a bounded queue of text frames, and how it should end."""

    __slots__ = ("aborted", "close_code", "close_reason", "combined", "opened_ms", "queue", "subs")

    def __init__(self, *, combined: bool, opened_ms: int, queue_size: int = QUEUE_SIZE) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self.combined = combined
        self.opened_ms = opened_ms
        self.subs: list[Subscription] = []
        self.aborted = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def ending(self) -> bool:
        return self.close_code is not None

    def offer(self, text: str) -> bool:
        """Queue a frame; False when the queue is full (the caller then aborts)."""
        if self.ending:
            return True
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    def finish(self, code: int, reason: str) -> None:
        """Close after the frames already queued are sent."""
        if self.ending:
            return
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.abort(code, reason)
            return
        self.close_code, self.close_reason = code, reason

    def abort(self, code: int, reason: str) -> None:
        """Close now; what is queued is dropped."""
        if not self.aborted.is_set():
            self.close_code, self.close_reason = code, reason
            self.aborted.set()


class Subscription:
    """One listen key followed by one connection."""

    __slots__ = ("account_id", "conn", "key", "prefix")

    def __init__(self, conn: Connection, key: str, account_id: int) -> None:
        self.conn = conn
        self.key = key
        self.account_id = account_id
        # the combined-stream envelope, written around the event text without parsing it again
        quoted = orjson.dumps(key).decode()
        self.prefix = '{"stream":' + quoted + ',"data":' if conn.combined else ""

    def frame(self, event: str) -> str:
        return self.prefix + event + "}" if self.prefix else event


class StreamHub:
    """Every open stream connection of this process, by account and by listen key.

    The tables are touched only on the event loop; `publish`, `key_closed` and the fan-out's
    callbacks may be called from any thread and hop onto the loop."""

    def __init__(
        self,
        service: Service,
        *,
        fanout: PgFanout | None = None,
        queue_size: int = QUEUE_SIZE,
        max_age_ms: int = MAX_AGE_MS,
    ) -> None:
        self.service = service
        self.fanout = fanout
        self.queue_size = queue_size
        self.max_age_ms = max_age_ms
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._accounts: dict[int, set[Subscription]] = {}  # subscriptions that get events
        self._keys: dict[str, set[Subscription]] = {}  # every subscription, expired or not
        self._expires: dict[str, int] = {}  # known expiry of each live key
        self._conns: set[Connection] = set()

    # -- wiring --------------------------------------------------------------------------------

    def install(self) -> None:
        """Subscribe to the service's events and listen-key closes."""
        if self.publish not in self.service.listeners:
            self.service.listeners.append(self.publish)
        if self.key_closed not in self.service.on_listen_key_closed:
            self.service.on_listen_key_closed.append(self.key_closed)

    async def start(self) -> None:
        self._attach()
        if self.fanout is not None:
            await asyncio.to_thread(self.fanout.start, self._remote_events, self._remote_close)

    async def stop(self) -> None:
        for conn in list(self._conns):
            conn.finish(CLOSE_GOING_AWAY, "server shutting down")
        if self.fanout is not None:
            await asyncio.to_thread(self.fanout.stop)
        self._loop = None
        self._loop_thread = None

    def _attach(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()

    @property
    def connections(self) -> int:
        return len(self._conns)

    def routes(self) -> list[BaseRoute]:
        return [
            WebSocketRoute("/ws/{listen_key}", self._ws_endpoint),
            WebSocketRoute("/stream", self._stream_endpoint),
            Route("/ws/{listen_key}", self._ws_http, methods=["GET"]),
            Route("/stream", self._stream_http, methods=["GET"]),
        ]

    # -- from any thread -----------------------------------------------------------------------

    def publish(self, account_id: int, events: list[Any]) -> None:
        """`Service.listeners` entry: runs after commit, in whatever thread committed. Never
        raises: the change is committed and its request must still get its answer."""
        try:
            if not events or self._loop is None:
                return
            local = account_id in self._accounts
            if not local and self.fanout is None:
                return
            frames = render(events)
            if local:
                self._call(self._deliver, account_id, frames)
            if self.fanout is not None:
                self.fanout.send_events(account_id, frames)
        except Exception:
            log.exception("user data stream: events of account %s not published", account_id)

    def key_closed(self, listen_key: str) -> None:
        """`Service.on_listen_key_closed` entry (DELETE /fapi/v1/listenKey)."""
        try:
            if listen_key in self._keys:
                self._call(self._close_key, listen_key)
            if self.fanout is not None:
                self.fanout.send_close(listen_key)
        except Exception:
            log.exception("user data stream: close of a listen key not propagated")

    def _remote_events(self, account_id: int, frames: list[str]) -> None:
        if account_id in self._accounts:
            self._call(self._deliver, account_id, frames)

    def _remote_close(self, listen_key: str) -> None:
        if listen_key in self._keys:
            self._call(self._close_key, listen_key)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            fn(*args)
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while shutting down
            loop.call_soon_threadsafe(fn, *args)

    # -- on the loop ---------------------------------------------------------------------------

    def _deliver(self, account_id: int, frames: Sequence[str]) -> None:
        for sub in tuple(self._accounts.get(account_id, ())):
            conn = sub.conn
            for text in frames:
                if not conn.offer(sub.frame(text)):
                    log.warning(
                        "user data stream: a connection of account %s fell behind; closed",
                        account_id,
                    )
                    conn.abort(CLOSE_POLICY, "queue overflow: events were not read in time")
                    break

    def _close_key(self, listen_key: str) -> None:
        for sub in tuple(self._keys.get(listen_key, ())):
            sub.conn.finish(CLOSE_NORMAL, "listenKey closed")

    def _expire(self, listen_key: str, now_ms: int) -> None:
        """Push listenKeyExpired, then nothing more on this key (docs)."""
        self._expires.pop(listen_key, None)
        text = render([ListenKeyExpired(event_time=now_ms)])[0]
        for sub in tuple(self._keys.get(listen_key, ())):
            subs = self._accounts.get(sub.account_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._accounts[sub.account_id]
            if not sub.conn.offer(sub.frame(text)):
                sub.conn.abort(CLOSE_POLICY, "queue overflow: events were not read in time")

    def register(self, conn: Connection, rows: Sequence[ListenKeyRow]) -> None:
        self._conns.add(conn)
        for row in rows:
            sub = Subscription(conn, row.key, row.account_id)
            conn.subs.append(sub)
            self._keys.setdefault(row.key, set()).add(sub)
            self._accounts.setdefault(row.account_id, set()).add(sub)
            self._expires[row.key] = max(self._expires.get(row.key, 0), row.expires_ms)

    def unregister(self, conn: Connection) -> None:
        self._conns.discard(conn)
        for sub in conn.subs:
            by_key = self._keys.get(sub.key)
            if by_key is not None:
                by_key.discard(sub)
                if not by_key:
                    del self._keys[sub.key]
                    self._expires.pop(sub.key, None)
            by_account = self._accounts.get(sub.account_id)
            if by_account is not None:
                by_account.discard(sub)
                if not by_account:
                    del self._accounts[sub.account_id]

    async def sweep(self) -> None:
        """Expire the keys whose time has come and close connections past their maximum age."""
        self._attach()
        now = self.service.clock()
        due = [key for key, expires in self._expires.items() if expires <= now]
        if due:
            rows = await asyncio.to_thread(self._lookup, due)
            now = self.service.clock()
            for key, row in zip(due, rows, strict=True):
                if key not in self._expires:
                    continue  # its connections left meanwhile
                if row is not None and row.expires_ms > now:
                    self._expires[key] = row.expires_ms  # kept alive
                else:
                    self._expire(key, now)  # expired, or replaced by a new key after expiring
        for conn in tuple(self._conns):
            if now - conn.opened_ms >= self.max_age_ms:
                conn.finish(CLOSE_NORMAL, "connection lifetime reached")

    def _lookup(self, keys: Sequence[str]) -> list[ListenKeyRow | None]:
        return [self.service.store.listen_key(k) for k in keys]

    # -- endpoints -----------------------------------------------------------------------------

    async def _ws_endpoint(self, ws: WebSocket) -> None:
        await self._serve(ws, [ws.path_params["listen_key"]], combined=False)

    async def _stream_endpoint(self, ws: WebSocket) -> None:
        keys = _stream_keys(ws.query_params.get("streams"))
        if isinstance(keys, AsterError):
            await ws.accept()
            await ws.close(CLOSE_POLICY, _reason(keys))
            return
        await self._serve(ws, keys, combined=True)

    async def _ws_http(self, request: Request) -> Response:
        return await self._http_answer([request.path_params["listen_key"]])

    async def _stream_http(self, request: Request) -> Response:
        keys = _stream_keys(request.query_params.get("streams"))
        if isinstance(keys, AsterError):
            return _error(keys)
        return await self._http_answer(keys)

    async def _http_answer(self, keys: list[str]) -> Response:
        rows = await asyncio.to_thread(self._lookup, keys)
        if not self._all_valid(rows):
            return _error(invalid_key())
        err = aster_error(-1020, "This operation is not supported.", http_status=426)
        return _error(err, {"Upgrade": "websocket"})

    def _all_valid(self, rows: Sequence[ListenKeyRow | None]) -> bool:
        now = self.service.clock()
        return all(row is not None and row.expires_ms > now for row in rows)

    async def _serve(self, ws: WebSocket, keys: list[str], *, combined: bool) -> None:
        self._attach()
        rows = await asyncio.to_thread(self._lookup, keys)
        if not self._all_valid(rows):
            await ws.accept()
            await ws.close(CLOSE_POLICY, _reason(invalid_key()))
            return
        conn = Connection(
            combined=combined, opened_ms=self.service.clock(), queue_size=self.queue_size
        )
        # registered before the handshake completes: once the client is connected, every event
        # committed after that reaches it
        self.register(conn, [r for r in rows if r is not None])
        try:
            await ws.accept()
            await self._pump(ws, conn)
        finally:
            self.unregister(conn)

    async def _pump(self, ws: WebSocket, conn: Connection) -> None:
        reader = asyncio.create_task(_read(ws))
        writer = asyncio.create_task(_write(ws, conn))
        aborted = asyncio.create_task(conn.aborted.wait())
        tasks = (reader, writer, aborted)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        client_gone = reader.done() and not reader.cancelled() and results[0] is None
        send_failed = isinstance(results[1], Exception)
        if client_gone or send_failed or conn.close_code is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(conn.close_code, conn.close_reason), CLOSE_TIMEOUT_S)


async def _read(ws: WebSocket) -> None:
    """Returns when the client leaves; what it sends is not needed."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _write(ws: WebSocket, conn: Connection) -> None:
    """Send queued frames until the `finish` marker."""
    while True:
        text = await conn.queue.get()
        if text is None:
            return
        await ws.send({"type": "websocket.send", "text": text})


def _stream_keys(raw: str | None) -> list[str] | AsterError:
    keys = [k for k in (raw or "").split("/") if k]
    if not keys:
        return aster_error(
            -1102, "Mandatory parameter 'streams' was not sent, was empty/null, or malformed."
        )
    if len(keys) > MAX_STREAMS:
        return aster_error(-1101, "Too many parameters sent for this endpoint.")
    return list(dict.fromkeys(keys))


def _error(err: AsterError, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(err.to_wire())
    return Response(body, err.http_status, headers, media_type=JSON)


# -- fan-out between processes -------------------------------------------------------------------

NOTIFY_LIMIT = 7900
"""Bytes of one NOTIFY payload we send; PostgreSQL refuses 8000 and more."""
LISTEN_POLL_S = 0.25
"""How often the listening thread looks up from its connection (to stop, or to try to lead)."""
LEAD_RETRY_S = 5.0


class PgFanout:
    """User-stream events between the server processes of one PostgreSQL database (and schema).

    After its commit, a process sends `NOTIFY <channel>, '<origin> <seq> <i> <n> <part>'` from a
    sender thread on its own connection; many queued messages go in one transaction, in order.
    The body is JSON, `{"a": account_id, "e": [events]}` or `{"close": listenKey}`; one longer
    than a NOTIFY payload may be goes as `n` consecutive parts of one transaction, which
    PostgreSQL delivers together and in order. `seq` also keeps two equal messages apart
    (PostgreSQL folds identical notifications of one transaction into one).

    Every process LISTENs on its own connection in a thread and hands the other processes'
    messages to the hub; its own it skips, having delivered them directly. The channel is named
    after the schema, so databases shared by several deployments (or test schemas) stay apart.
    A lost connection is reopened; what was notified meanwhile is lost for this process, as
    Aster's stream gives no delivery guarantee either (clients reconcile over REST).

    The listening connection also holds a session advisory lock on the channel's name: the
    process holding it `is_leader`, and only the leader settles funding (see `riskloop`).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.origin = secrets.token_hex(8)
        self.channel = ""
        self.is_leader = False
        self._seq = itertools.count()
        self._out: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._threads: list[threading.Thread] = []
        self._on_events: Callable[[int, list[str]], None] = lambda _a, _f: None
        self._on_close: Callable[[str], None] = lambda _k: None
        self._partial: dict[tuple[str, str], list[str]] = {}

    @staticmethod
    def channel_for(schema: str) -> str:
        return "aster_stream_" + hashlib.sha256(schema.encode()).hexdigest()[:24]

    def start(
        self,
        on_events: Callable[[int, list[str]], None],
        on_close: Callable[[str], None],
        *,
        ready_timeout_s: float = 10.0,
    ) -> None:
        """Connect, LISTEN, start both threads; returns once LISTEN is in place."""
        self._on_events, self._on_close = on_events, on_close
        # the sender's connection, opened now so that the first event does not wait for it
        sender = psycopg.connect(self.url, autocommit=True)
        row = sender.execute("SELECT current_schema()").fetchone()
        self.channel = self.channel_for(str(row[0]) if row and row[0] else "")
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._listen_loop, name="stream-listen", daemon=True),
            threading.Thread(
                target=self._send_loop, args=(sender,), name="stream-notify", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        if not self._listening.wait(ready_timeout_s):
            log.warning("user data stream: LISTEN not in place after %ss", ready_timeout_s)

    def stop(self) -> None:
        self._stopping.set()
        self._out.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        self.is_leader = False

    # -- sending -------------------------------------------------------------------------------

    def send_events(self, account_id: int, frames: Sequence[str]) -> None:
        self._enqueue('{"a":' + str(int(account_id)) + ',"e":[' + ",".join(frames) + "]}")

    def send_close(self, listen_key: str) -> None:
        self._enqueue(orjson.dumps({"close": listen_key}).decode())

    def _enqueue(self, body: str) -> None:
        if not self._threads:
            return
        self._out.put(self.pieces(self.origin, next(self._seq), body))

    @staticmethod
    def pieces(origin: str, seq: int, body: str, limit: int = NOTIFY_LIMIT) -> list[str]:
        """NOTIFY payloads for one message, each at most `limit` bytes."""
        head = f"{origin} {seq} "
        room = limit - len(head) - 24  # room for "<i> <n> "
        # cut by characters, sized so that even 4-byte characters fit
        step = room if body.isascii() else room // 4
        parts = [body[i : i + step] for i in range(0, len(body), step)] or [""]
        n = len(parts)
        return [f"{head}{i} {n} {part}" for i, part in enumerate(parts)]

    def _send_loop(self, conn: psycopg.Connection[Any] | None) -> None:
        done = False
        while not done:
            item = self._out.get()
            batch: list[list[str]] = []
            if item is None:
                done = True
            else:
                batch.append(item)
            while len(batch) < 500:
                try:
                    more = self._out.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            if batch:
                conn = self._notify(conn, [(self.channel, p) for ps in batch for p in ps])
        if conn is not None:
            conn.close()

    def _notify(
        self, conn: psycopg.Connection[Any] | None, rows: list[tuple[str, str]]
    ) -> psycopg.Connection[Any] | None:
        for attempt in (1, 2):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True)
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany("SELECT pg_notify(%s, %s)", rows)
                return conn
            except psycopg.Error as exc:
                if conn is not None:
                    conn.close()
                conn = None
                if attempt == 2:
                    log.error("user data stream: %d notifications lost: %s", len(rows), exc)
        return conn

    # -- listening -----------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            conn: psycopg.Connection[Any] | None = None
            try:
                conn = psycopg.connect(self.url, autocommit=True)
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._listening.set()
                backoff = 0.1
                self._try_lead(conn)
                tried = 0.0
                while not self._stopping.is_set():
                    for note in conn.notifies(timeout=LISTEN_POLL_S):
                        self._handle(note.payload)
                    tried += LISTEN_POLL_S
                    if not self.is_leader and tried >= LEAD_RETRY_S:
                        self._try_lead(conn)
                        tried = 0.0
            except psycopg.Error as exc:
                if not self._stopping.is_set():
                    log.warning("user data stream: LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self.is_leader = False
                self._partial.clear()
                if conn is not None:
                    conn.close()
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _try_lead(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.channel,)
        ).fetchone()
        self.is_leader = bool(row and row[0])

    def _handle(self, payload: str) -> None:
        try:
            origin, seq, i, n, part = payload.split(" ", 4)
            if origin == self.origin:
                return
            if n == "1":
                body = part
            else:
                buf = self._partial.setdefault((origin, seq), [])
                if int(i) != len(buf):  # a part went missing: drop the message
                    del self._partial[(origin, seq)]
                    return
                buf.append(part)
                if len(buf) < int(n):
                    return
                del self._partial[(origin, seq)]
                body = "".join(buf)
            message = orjson.loads(body)
            if "close" in message:
                self._on_close(str(message["close"]))
            else:
                frames = [orjson.dumps(e).decode() for e in message["e"]]
                self._on_events(int(message["a"]), frames)
        except Exception:
            log.exception("user data stream: a notification could not be read")
