"""The default transports: HTTP/1.1 keep-alive over the standard library, for speed.

Why not httpx's own transport by default: on a signed GET its httpcore/h11 stack costs about three
times the CPU of a plain socket exchange per request (and ``http.client`` parses headers with the
``email`` package), and its asyncio connection pool slows down as
requests queue (32 in flight ran slower than one at a time in our benchmark). An account API
client sends small requests to one host over and over, so the default is:

    Http11Transport       blocking sockets, pooled per origin
    AsyncHttp11Transport  asyncio streams (``asyncio.open_connection``), pooled per origin,
                          at most ``max_connections`` at once

Both write the same request head and read responses with the same small HTTP/1.1 reader
(status line, headers, a Content-Length or chunked body; keep-alive unless the server says
``Connection: close``). Requests carry no body: every parameter is in the query string.

Both are httpx transports (``handle_request`` / ``handle_async_request``), so they can be used
anywhere an httpx transport can; the clients call their ``exchange(send)`` directly, which skips
building ``httpx.Request`` / ``httpx.Response`` objects. Any other httpx transport can be passed
to the clients instead (``httpx.HTTPTransport`` for HTTP/2 or a proxy, ``httpx.MockTransport``
in tests); the clients pick ``httpx.HTTPTransport`` themselves when the environment names a proxy.

Failures are raised as httpx's exception classes, with the distinction the retry rules rest on:
``ConnectError`` / ``ConnectTimeout`` when the request cannot have left (no connection was made),
anything else (``ReadError``, ``WriteError``, ``ReadTimeout``, ``RemoteProtocolError``) when it
may have. An idle pooled connection that the server has closed is noticed before it is used.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urlsplit

import httpx

__all__ = ["Answer", "AsyncHttp11Transport", "Http11Transport", "Reply", "Wire"]

MAX_HEAD_BYTES: Final = 64 * 1024


class Reply(Protocol):
    """What the core reads of an answer: ``httpx.Response`` has it, and so has :class:`Answer`."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer read by these transports; header names are lowercase."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class Wire(Protocol):
    """One request as the core builds it (``_core.Send``)."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def timeout(self) -> float: ...
    @property
    def origin(self) -> tuple[str, str, int]: ...
    @property
    def target(self) -> str: ...


Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of an http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r} in {url!r}")
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


class _WireRequest:
    """An ``httpx.Request`` seen as a :class:`Wire` (for ``handle_request``)."""

    __slots__ = ("headers", "method", "origin", "target", "timeout", "url")

    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.origin = origin_of(self.url)
        self.target = request.url.raw_path.decode("ascii")
        self.headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        timeouts = request.extensions.get("timeout", {})
        self.timeout = float(timeouts.get("read") or 10.0)


def _to_httpx(answer: Answer, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        answer.status_code,
        headers=list(answer.headers.items()),
        content=answer.content,
        request=request,
    )


# -- shared: the request head and the response head --------------------------------------------


def request_head(send: Wire) -> bytes:
    """``METHOD target HTTP/1.1``, Host and the request's headers: a request with no body."""
    scheme, host, port = send.origin
    default_port = 443 if scheme == "https" else 80
    authority = host if port == default_port else f"{host}:{port}"
    lines = [f"{send.method} {send.target} HTTP/1.1\r\nHost: {authority}\r\n"]
    lines.extend(f"{k}: {v}\r\n" for k, v in send.headers.items())
    if send.method != "GET":
        lines.append("Content-Length: 0\r\n")  # a POST says it has no body (RFC 9110 8.6)
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def parse_head(raw: bytes) -> tuple[int, dict[str, str], bool]:
    """(status, headers with lowercase names, whether it is HTTP/1.0) of a response head."""
    if len(raw) > MAX_HEAD_BYTES:
        raise ValueError("response head too large")
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x response: {lines[0]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line: {line!r}")
        headers[name.strip().lower()] = value.strip()
    return status, headers, version == "HTTP/1.0"


def body_rule(headers: Mapping[str, str], http10: bool) -> tuple[int | None, bool, bool]:
    """(content length, chunked, keep the connection) for a response with these headers."""
    length = headers.get("content-length")
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    closing = headers.get("connection", "").lower() == "close"
    size = None if chunked or length is None else int(length)
    keep = not http10 and not closing and (size is not None or chunked)
    return size, chunked, keep


# -- blocking ----------------------------------------------------------------------------------


class _Connection:
    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def usable(self) -> bool:
        """An idle connection with something to read has been closed by the server."""
        if self.buffer:
            return False
        try:
            ready, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not ready

    def fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        self.buffer += chunk

    def read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise httpx.RemoteProtocolError("response head too large")
            self.fill()
        end += len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_to_end(self) -> bytes:
        while chunk := self.sock.recv(65536):
            self.buffer += chunk
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def close(self) -> None:
        self.sock.close()


class Http11Transport(httpx.BaseTransport):
    def __init__(self, *, max_idle: int = 100, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_idle = max_idle
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _connect(self, origin: Origin, timeout: float) -> _Connection:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                if self._ssl_context is None:
                    self._ssl_context = ssl.create_default_context()
                sock = self._ssl_context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connect timed out: {exc}") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(sock)

    def _checkout(self, origin: Origin) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()
                if conn.usable():
                    return conn
                conn.close()
        return None

    def _checkin(self, origin: Origin, conn: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if self._closed or len(idle) >= self._max_idle:
                conn.close()
            else:
                idle.append(conn)

    def exchange(self, send: Wire) -> Answer:
        origin, timeout = send.origin, send.timeout
        conn = self._checkout(origin) or self._connect(origin, timeout)
        sock = conn.sock
        if sock.gettimeout() != timeout:
            sock.settimeout(timeout)
        try:
            sock.sendall(request_head(send))
        except OSError as exc:
            conn.close()
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
        try:
            status, headers, http10 = parse_head(conn.read_until(b"\r\n\r\n"))
            size, chunked, keep = body_rule(headers, http10)
            if chunked:
                content = _read_chunked_sync(conn)
            elif size is not None:
                content = conn.read_exactly(size)
            else:
                content = conn.read_to_end()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(f"read timed out: {exc}") from exc
        except httpx.RemoteProtocolError:
            conn.close()
            raise
        except ValueError as exc:
            conn.close()
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except OSError as exc:
            conn.close()
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        if keep:
            self._checkin(origin, conn)
        else:
            conn.close()
        return Answer(status, headers, content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if request.content:
            raise httpx.UnsupportedProtocol("this transport sends requests without a body")
        return _to_httpx(self.exchange(_WireRequest(request)), request)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


def _read_chunked_sync(conn: _Connection) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int(conn.read_until(b"\r\n").split(b";", 1)[0].strip(), 16)
        if size == 0:
            while conn.read_until(b"\r\n") != b"\r\n":  # trailers, then the empty line
                pass
            return b"".join(parts)
        parts.append(conn.read_exactly(size))
        conn.read_exactly(2)


# -- asyncio -----------------------------------------------------------------------------------


class _Stream:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        self.writer.close()


class AsyncHttp11Transport(httpx.AsyncBaseTransport):
    def __init__(
        self, *, max_connections: int = 100, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Stream]] = {}
        self._closed = False

    async def _open(self, origin: Origin, timeout: float) -> _Stream:
        scheme, host, port = origin
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            tls = self._ssl_context
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout("connect timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Stream(reader, writer)

    async def exchange(self, send: Wire) -> Answer:
        origin = send.origin
        payload = request_head(send)
        async with self._slots:
            stream = None
            idle = self._idle.get(origin)
            while idle:
                candidate = idle.pop()
                if candidate.usable():
                    stream = candidate
                    break
                candidate.close()
            if stream is None:
                stream = await self._open(origin, send.timeout)
            try:
                answer, keep = await self._round_trip(stream, payload, send.timeout)
            except BaseException:
                stream.close()
                raise
            if keep and not self._closed:
                self._idle.setdefault(origin, []).append(stream)
            else:
                stream.close()
            return answer

    async def _round_trip(
        self, stream: _Stream, payload: bytes, timeout: float
    ) -> tuple[Answer, bool]:
        try:
            stream.writer.write(payload)
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
        reader = stream.reader
        try:
            async with asyncio.timeout(timeout):
                raw_head = await reader.readuntil(b"\r\n\r\n")
                status, headers, http10 = parse_head(raw_head)
                size, chunked, keep = body_rule(headers, http10)
                if chunked:
                    content = await _read_chunked(reader)
                elif size is not None:
                    content = await reader.readexactly(size)
                else:
                    content = await reader.read()
        except TimeoutError as exc:
            raise httpx.ReadTimeout("read timed out") from exc
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response."
            ) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        return Answer(status, headers, content), keep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if request.content:
            raise httpx.UnsupportedProtocol("this transport sends requests without a body")
        return _to_httpx(await self.exchange(_WireRequest(request)), request)

    async def aclose(self) -> None:
        self._closed = True
        streams = [s for idle in self._idle.values() for s in idle]
        self._idle.clear()
        for stream in streams:
            stream.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # trailers, then the empty line
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
