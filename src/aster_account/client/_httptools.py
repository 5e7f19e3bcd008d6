"""The default transports without a proxy: HTTP/1.1 keep-alive over sockets, answers parsed by
httptools.

httptools is MagicStack's binding of llhttp, the HTTP parser of Node.js, and the parser uvicorn
serves our own server with (it comes with ``uvicorn[standard]``). It reads every answer: status
line, headers, Content-Length, chunked and read-to-close framing, keep-alive. What this module
does itself is what an SDK whose every call is one short request needs and nothing more: open a
connection (TLS verified by default), write a request line and a few headers with no body, hand
the bytes that come back to the parser, keep idle connections for the next call. A call costs
the least this way: less CPU than the standard library's ``http.client`` (whose header parsing
goes through the ``email`` package) and far less than urllib3 or aiohttp, which add their own
layers on top (bench/client_overhead.py prints all of them against one server). With a proxy
the clients use urllib3 / aiohttp instead (``_urllib3``, ``_aiohttp``).

Failures map to httpx's classes like the other adapters (``_transport`` docstring): a failure to
connect is ``ConnectError`` / ``ConnectTimeout`` (the request cannot have left); anything after
the request was written is a read or protocol error (it may have reached the server). An idle
connection the server has closed is never reused: the blocking pool looks at the socket before it
uses it (as urllib3 does), the asyncio one is told by the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import select
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final

import httptools
import httpx

from aster_account.client._transport import MAX_CONNECTIONS, Answer, Origin, describe

if TYPE_CHECKING:
    from aster_account.client._core import Send

__all__ = ["AsyncHttptoolsTransport", "Headers", "HttptoolsTransport", "render_request"]

_READ_SIZE: Final = 65536
# a request target or header that could end the line early or split it
_UNSAFE: Final = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Headers(Mapping[str, str]):
    """An answer's headers: looked up by name in any case; ``items()`` gives lowercase names.
    A header sent more than once reads as its values joined by ", " (RFC 9110 5.3)."""

    __slots__ = ("_by_name",)

    def __init__(self, by_name: dict[str, str]) -> None:
        self._by_name = by_name

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()]

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        return self._by_name.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"Headers({self._by_name!r})"


def _host_header(origin: Origin) -> str:
    scheme, host, port = origin
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return host if port == default else f"{host}:{port}"


def _header_block(headers: Mapping[str, str]) -> str:
    lines = []
    for name, value in headers.items():
        if not name or _UNSAFE.search(name) or _UNSAFE_VALUE.search(value):
            raise ValueError(f"header {name!r} has a character that cannot be sent")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


def render_request(send: Send, host: str, block: str) -> bytes:
    """The bytes of ``send``: request line, Host, the headers' ``block``; no body, so a method
    that may carry one says ``Content-Length: 0`` (RFC 9110 8.6)."""
    target = send.target
    if _UNSAFE.search(target):
        raise ValueError(f"request target {target!r} has a character that cannot be sent")
    empty = "" if send.method in ("GET", "HEAD") else "Content-Length: 0\r\n"
    return f"{send.method} {target} HTTP/1.1\r\nHost: {host}\r\n{block}{empty}\r\n".encode(
        "latin-1"
    )


class _Reading:
    """The answer being read: httptools calls these as it parses."""

    __slots__ = (
        "body",
        "complete",
        "extra",
        "framed",
        "headers",
        "headers_done",
        "keep_alive",
        "parser",
        "status",
    )

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.headers_done = self.complete = self.keep_alive = self.extra = False
        self.framed = False  # Content-Length or chunked: the body does not end with the connection
        self.status = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True  # more bytes after the answer: the connection is out of step

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            return
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        if key in ("content-length", "transfer-encoding"):
            self.framed = True
        known = self.headers.get(key)
        self.headers[key] = text if known is None else f"{known}, {text}"

    def on_headers_complete(self) -> None:
        if self.complete:
            return
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # read here: it resets with the message

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.complete:
            return
        status = self.parser.get_status_code()
        if status < 200:
            # an interim answer (103 Early Hints, a 100 nobody asked for): the real one follows
            self.headers, self.body = {}, []
            self.headers_done = self.framed = self.keep_alive = False
            return
        self.status = status
        self.complete = True

    def feed(self, data: bytes) -> None:
        """Parse ``data``; an empty ``data`` is the end of the connection."""
        if data:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade as exc:  # 101 Switching Protocols, unasked
                raise httpx.RemoteProtocolError(f"unexpected upgrade: {describe(exc)}") from exc
            except httptools.HttpParserError as exc:
                if self.complete:  # the bytes after the answer: not ours to read
                    self.extra = True
                    return
                raise httpx.RemoteProtocolError(f"malformed answer: {describe(exc)}") from exc
            return
        if self.headers_done and not self.framed:
            self.complete = True  # a body that runs until the server closes (RFC 9112 6.3)
            self.status = self.parser.get_status_code()
            return
        what = "in the middle of the answer" if self.headers_done else "without answering"
        raise httpx.RemoteProtocolError(f"the server closed the connection {what}")

    def answer(self) -> tuple[Answer, bool]:
        """The answer and whether the connection may be used again."""
        answer = Answer(self.status, Headers(self.headers), b"".join(self.body))
        return answer, self.framed and self.keep_alive and not self.extra


class _Rendered:
    """Request heads as bytes. A client sends the same headers object on every request, so the
    header block is rendered again only when that object changes; Host once per origin. Safe
    across threads: each cache is replaced whole, never changed in place."""

    __slots__ = ("block", "hosts")

    def __init__(self) -> None:
        self.block: tuple[Mapping[str, str] | None, str] = (None, "")
        self.hosts: dict[Origin, str] = {}

    def request(self, send: Send) -> bytes:
        headers, block = self.block
        if send.headers is not headers:
            block = _header_block(send.headers)
            self.block = (send.headers, block)
        host = self.hosts.get(send.origin)
        if host is None:
            host = _host_header(send.origin)
            self.hosts = {**self.hosts, send.origin: host}
        return render_request(send, host, block)


# -- blocking ----------------------------------------------------------------------------------


class _Connection:
    __slots__ = ("generation", "sock", "timeout")

    def __init__(self, sock: socket.socket, timeout: float, generation: int) -> None:
        self.sock, self.timeout, self.generation = sock, timeout, generation


class HttptoolsTransport:
    """Blocking HTTP/1.1 keep-alive, pooled per origin (one connection per thread that uses
    the client at once, at most ``maxsize`` kept idle)."""

    def __init__(self, *, maxsize: int = MAX_CONNECTIONS) -> None:
        self._maxsize = maxsize
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()
        self._rendered = _Rendered()
        self._generation = 0  # close() starts a new one: older connections are not kept

    def _take(self, origin: Origin, timeout: float) -> _Connection:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None:
                return self._connect(origin, timeout)
            if _dropped(conn.sock):
                conn.sock.close()  # closed by the server while idle: never reuse it
                continue
            if conn.timeout != timeout:
                conn.sock.settimeout(timeout)
                conn.timeout = timeout
            return conn

    def _connect(self, origin: Origin, timeout: float) -> _Connection:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(describe(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(describe(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                # a TLS close without close_notify is an error, not the end of a body
                sock = self._tls.wrap_socket(sock, server_hostname=host, suppress_ragged_eofs=False)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(describe(exc)) from exc
        except (OSError, ssl.SSLError) as exc:  # the handshake, the certificate
            sock.close()
            raise httpx.ConnectError(describe(exc)) from exc
        return _Connection(sock, timeout, self._generation)

    def _give_back(self, origin: Origin, conn: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if conn.generation == self._generation and len(idle) < self._maxsize:
                idle.append(conn)
                return
        conn.sock.close()

    def exchange(self, send: Send) -> Answer:
        data = self._rendered.request(send)
        conn = self._take(send.origin, send.timeout)
        sock = conn.sock
        reading = _Reading()
        try:
            sock.sendall(data)
            while not reading.complete:
                reading.feed(sock.recv(_READ_SIZE))
        except httpx.RemoteProtocolError:
            sock.close()
            raise
        except TimeoutError as exc:
            sock.close()
            raise httpx.ReadTimeout(describe(exc)) from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            sock.close()
            raise httpx.RemoteProtocolError(describe(exc)) from exc
        except OSError as exc:
            sock.close()
            raise httpx.ReadError(describe(exc)) from exc
        except BaseException:  # KeyboardInterrupt in recv: the connection is out of step
            sock.close()
            raise
        answer, keep = reading.answer()
        if keep:
            self._give_back(send.origin, conn)
        else:
            sock.close()
        return answer

    def close(self) -> None:
        """Close the idle connections; a later request opens new ones."""
        with self._lock:
            idle, self._idle = self._idle, {}
            self._generation += 1  # a request in flight now closes its connection after
        for conns in idle.values():
            for conn in conns:
                conn.sock.close()


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive socket with something to read has been closed by the server (it sends
    nothing unasked): the same test urllib3 makes before it reuses a connection. poll() where
    there is one: select() cannot watch a descriptor above 1023."""
    try:
        if _HAS_POLL:
            watch = select.poll()
            watch.register(sock, select.POLLIN)
            return bool(watch.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


_HAS_POLL: Final = hasattr(select, "poll")


# -- asyncio -----------------------------------------------------------------------------------


class _AsyncConnection(asyncio.Protocol):
    """One connection; at most one request on it at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.reading: _Reading | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> bool:
        self._feed(b"")
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if exc is None:
            self._feed(b"")  # the server closed: the end of a read-to-close body, or a cut
        else:  # reset, or a TLS error: never the end of a body
            waiter.set_exception(httpx.ReadError(describe(exc)))

    def _feed(self, data: bytes) -> None:
        reading, waiter = self.reading, self.waiter
        if reading is None or waiter is None or waiter.done():
            if data:  # nothing was asked: a server that talks out of turn is not reused
                self.close()
            return
        try:
            reading.feed(data)
        except httpx.RemoteProtocolError as exc:
            waiter.set_exception(exc)
            self.close()
            return
        if reading.complete:
            waiter.set_result(None)

    async def exchange(self, data: bytes, timeout: float) -> tuple[Answer, bool]:
        assert self.transport is not None
        self.reading = reading = _Reading()
        self.waiter = waiter = self.loop.create_future()
        self.transport.write(data)
        timer = self.loop.call_later(timeout, self._timed_out, waiter, timeout)
        try:
            await waiter
        finally:
            timer.cancel()
            self.reading = self.waiter = None
        return reading.answer()

    def _timed_out(self, waiter: asyncio.Future[None], timeout: float) -> None:
        if not waiter.done():
            waiter.set_exception(httpx.ReadTimeout(f"no answer within {timeout:g}s"))
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class AsyncHttptoolsTransport:
    """Asyncio HTTP/1.1 keep-alive, pooled per origin: at most ``limit`` connections at once
    (further requests wait for one). Connections belong to the event loop of the request that
    opened them; ``aclose()`` closes them."""

    def __init__(self, *, limit: int = MAX_CONNECTIONS) -> None:
        self.limit = limit
        self._idle: dict[Origin, deque[_AsyncConnection]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._tls = ssl.create_default_context()
        self._rendered = _Rendered()
        self._generation = 0  # aclose() starts a new one: older connections are not kept

    def _enter(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed() and self._has_open():
                raise RuntimeError(
                    "this AsyncClient's connections belong to another event loop: "
                    "close it (await client.aclose()) in the loop that used it first"
                )
            self._drop_idle()  # of a loop that has closed
            self._loop, self._slots = loop, asyncio.Semaphore(self.limit)
        assert self._slots is not None
        return self._slots

    def _has_open(self) -> bool:
        return any(not c.closed for idle in self._idle.values() for c in idle)

    async def _connect(self, origin: Origin, timeout: float) -> _AsyncConnection:
        loop = asyncio.get_running_loop()
        scheme, host, port = origin
        tls = self._tls if scheme == "https" else None
        made = _AsyncConnection(loop)
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(
                    lambda: made, host, port, ssl=tls, server_hostname=host if tls else None
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection within {timeout:g}s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(describe(exc)) from exc
        return made

    async def exchange(self, send: Send) -> Answer:
        slots = self._enter()
        data = self._rendered.request(send)
        origin = send.origin
        generation = self._generation
        async with slots:
            idle = self._idle.get(origin)
            conn = None
            while idle:
                conn = idle.pop()
                if not conn.closed and not (conn.transport and conn.transport.is_closing()):
                    break
                conn = None
            if conn is None:
                conn = await self._connect(origin, send.timeout)
            try:
                answer, keep = await conn.exchange(data, send.timeout)
            except BaseException:
                conn.close()
                raise
            if keep and not conn.closed and generation == self._generation:
                self._idle.setdefault(origin, deque()).append(conn)
            else:
                conn.close()
            return answer

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                with contextlib.suppress(RuntimeError):  # its loop has closed
                    conn.close()

    async def aclose(self) -> None:
        self._generation += 1  # a request in flight now closes its connection after
        self._drop_idle()
        self._loop = self._slots = None
