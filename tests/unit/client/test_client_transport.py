"""The default transports (urllib3 for Client, aiohttp for AsyncClient) against a scripted socket
server: what they send, how they read bodies, keep-alive, proxies, and which httpx error each
failure becomes (the retry rules rest on it)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import pytest
from urllib3 import exceptions as u3

from aster_account import AsyncClient, Client
from aster_account.client._aiohttp import AiohttpTransport
from aster_account.client._aiohttp import httpx_error as from_aiohttp
from aster_account.client._core import Send
from aster_account.client._httpclient import HttpClientTransport
from aster_account.client._urllib3 import Urllib3Transport
from aster_account.client._urllib3 import httpx_error as from_urllib3
from aster_account.protocol.errors import TransportError, UnknownOutcome

BLOCKING = [HttpClientTransport, Urllib3Transport]

Script = Callable[[socket.socket, bytes], bool]  # answer one request; False: close


def respond(body: bytes, *, status: str = "200 OK", extra: str = "") -> Script:
    def answer(conn: socket.socket, _request: bytes) -> bool:
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        conn.sendall(head.encode() + body)
        return "Connection: close" not in extra

    return answer


def chunked(*parts: bytes) -> Script:
    def answer(conn: socket.socket, _request: bytes) -> bool:
        out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        for part in parts:
            out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
        conn.sendall(out + b"0\r\n\r\n")
        return True

    return answer


def until_close(body: bytes) -> Script:
    def answer(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
        return False

    return answer


def respond_then_close(body: bytes) -> Script:
    """A keep-alive answer, after which the server closes the idle connection anyway."""

    def answer(conn: socket.socket, request: bytes) -> bool:
        respond(body)(conn, request)
        return False

    return answer


def server_time(conn: socket.socket, request: bytes) -> bool:
    """GET /fapi/v1/time: the client measures the clock before its first signed request."""
    assert request.startswith(b"GET /fapi/v1/time ")
    return respond(f'{{"serverTime":{time.time_ns() // 1_000_000}}}'.encode())(conn, request)


def hang_up(conn: socket.socket, _request: bytes) -> bool:
    return False


def half_response(conn: socket.socket, _request: bytes) -> bool:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    return False


def slow(seconds: float) -> Script:
    def answer(conn: socket.socket, request: bytes) -> bool:
        time.sleep(seconds)
        return respond(b"late")(conn, request)

    return answer


@dataclass
class ScriptedServer:
    """Answers requests in order from ``scripts``; records each request and connection."""

    scripts: list[Script]
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.scripts:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                buffer = b""
                while self.scripts:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buffer += data
                    if b"\r\n\r\n" not in buffer:
                        break
                    request, _, buffer = buffer.partition(b"\r\n\r\n")
                    self.requests.append(request)
                    if not self.scripts.pop(0)(conn, request):
                        break

    def head(self, number: int = 0) -> list[bytes]:
        return self.requests[number].split(b"\r\n")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server() -> Iterator[Callable[..., ScriptedServer]]:
    made: list[ScriptedServer] = []

    def make(*scripts: Script) -> ScriptedServer:
        made.append(ScriptedServer(list(scripts)))
        return made[-1]

    yield make
    for s in made:
        s.close()


def send(
    port: int, target: str = "/fapi/v1/ping", timeout: float = 2.0, method: str = "GET"
) -> Send:
    headers = {"User-Agent": "t", "X-MBX-APIKEY": "k"}
    url = f"http://127.0.0.1:{port}{target}"
    return Send(method, url, headers, timeout, ("http", "127.0.0.1", port), target)


def closed_port() -> int:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port: int = spare.getsockname()[1]
        return port


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


# -- http.client and urllib3 (Client) ---------------------------------------------------------


@pytest.mark.parametrize("make", BLOCKING)
def test_request_head_and_keep_alive(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(respond(b'{"a":1}', extra="X-MBX-USED-WEIGHT-1M: 7\r\n"), respond(b"[]"))
    transport = make()
    first = transport.exchange(send(srv.port, "/fapi/v2/balance?timestamp=1&signature=ab"))
    second = transport.exchange(send(srv.port))
    assert (first.status_code, first.content) == (200, b'{"a":1}')
    assert first.headers["x-mbx-used-weight-1m"] == "7"  # names in any case
    assert second.content == b"[]"
    assert srv.connections == 1  # kept alive
    head = srv.head()
    assert head[0] == b"GET /fapi/v2/balance?timestamp=1&signature=ab HTTP/1.1"
    assert f"Host: 127.0.0.1:{srv.port}".encode() in head
    assert b"User-Agent: t" in head and b"X-MBX-APIKEY: k" in head
    transport.close()


@pytest.mark.parametrize("make", BLOCKING)
def test_a_post_says_it_has_no_body(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(respond(b"{}"))
    transport = make()
    transport.exchange(send(srv.port, "/fapi/v1/leverage?symbol=X&leverage=5", method="POST"))
    assert srv.head()[0] == b"POST /fapi/v1/leverage?symbol=X&leverage=5 HTTP/1.1"
    assert b"Content-Length: 0" in srv.head()
    transport.close()


@pytest.mark.parametrize("make", BLOCKING)
def test_chunked_and_read_to_close_bodies(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(chunked(b'{"x":', b"2}"), until_close(b"all of it"), respond(b"again"))
    transport = make()
    answer = transport.exchange(send(srv.port))
    assert answer.content == b'{"x":2}' and answer.headers["X-A"] == "1"
    assert transport.exchange(send(srv.port)).content == b"all of it"
    assert transport.exchange(send(srv.port)).content == b"again"
    assert srv.connections == 2  # the read-to-close answer ended its connection
    transport.close()


@pytest.mark.parametrize("make", BLOCKING)
def test_an_idle_connection_the_server_closed_is_not_reused(
    make: Callable[[], Any],
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(respond_then_close(b"1"), respond(b"2"))
    transport = make()
    assert transport.exchange(send(srv.port)).content == b"1"
    time.sleep(0.05)
    assert transport.exchange(send(srv.port)).content == b"2"
    assert srv.connections == 2
    transport.close()


@pytest.mark.parametrize("make", BLOCKING)
def test_failures_map_to_httpx_errors_by_whether_the_request_left(
    make: Callable[[], Any],
    server: Callable[..., ScriptedServer],
) -> None:
    transport = make()
    with pytest.raises(httpx.ConnectError):
        transport.exchange(send(closed_port()))
    srv = server(hang_up)
    with pytest.raises(httpx.RemoteProtocolError):
        transport.exchange(send(srv.port))
    srv = server(half_response)
    with pytest.raises(httpx.RemoteProtocolError):
        transport.exchange(send(srv.port))
    srv = server(slow(0.5))
    with pytest.raises(httpx.ReadTimeout):
        transport.exchange(send(srv.port, timeout=0.1))
    transport.close()


@pytest.mark.parametrize("make", BLOCKING)
def test_urllib3_does_not_send_a_request_again(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(hang_up, respond(b"{}"))
    transport = make()
    with pytest.raises(httpx.RemoteProtocolError):
        transport.exchange(send(srv.port, "/fapi/v1/order?orderId=1", method="DELETE"))
    assert len(srv.requests) == 1
    transport.close()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (u3.NewConnectionError(None, "refused"), httpx.ConnectError),  # type: ignore[arg-type]
        (u3.NameResolutionError("h", None, socket.gaierror()), httpx.ConnectError),  # type: ignore[arg-type]
        (u3.ConnectTimeoutError("connect timed out"), httpx.ConnectTimeout),
        (u3.ProxyError("no proxy", OSError("refused")), httpx.ConnectError),
        (u3.SSLError(ssl.SSLCertVerificationError("verify failed")), httpx.ConnectError),
        (u3.SSLError(ssl.SSLEOFError("EOF in violation of protocol")), httpx.ReadError),
        (u3.ReadTimeoutError(None, "/", "read timed out"), httpx.ReadTimeout),  # type: ignore[arg-type]
        (u3.ProtocolError("aborted", ConnectionResetError()), httpx.RemoteProtocolError),
        (u3.EmptyPoolError(None, "full"), httpx.PoolTimeout),  # type: ignore[arg-type]
        (u3.DecodeError("bad gzip"), httpx.ReadError),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else type(v).__name__,
)
def test_every_urllib3_error_is_mapped(raised: u3.HTTPError, expected: type[Exception]) -> None:
    assert type(from_urllib3(raised)) is expected


def test_client_over_urllib3_turns_failures_into_aster_errors(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    with (
        Client(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0) as client,
        pytest.raises(TransportError, match="could not connect"),
    ):
        client.ping()
    srv = server(server_time, hang_up)
    with (
        Client("k", "s", f"http://127.0.0.1:{srv.port}", max_retries=0) as client,
        pytest.raises(UnknownOutcome, match="may have been processed"),
    ):
        client.set_leverage("BTCUSDT", 5)
    assert srv.head(1)[0].startswith(b"POST /fapi/v1/leverage?")


def test_client_sends_through_the_proxy_the_environment_names(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    proxy = server(respond(b"{}"))
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    with Client(base_url="http://aster.invalid:8080") as client:
        assert isinstance(client._transport, Urllib3Transport) and client._transport.proxy
        client.ping()
    # a forward proxy is asked for the absolute URL
    assert proxy.head()[0] == b"GET http://aster.invalid:8080/fapi/v1/ping HTTP/1.1"


# -- aiohttp (AsyncClient) ---------------------------------------------------------------------


async def test_async_request_head_keep_alive_and_bodies(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(
        respond(b"[]", extra="X-MBX-USED-WEIGHT-1M: 3\r\n"),
        chunked(b"ab", b"cd"),
        until_close(b"end"),
        respond(b"fresh"),
    )
    transport = AiohttpTransport()
    first = await transport.exchange(send(srv.port, "/x?y=1&s=a%2Cb"))
    assert first.headers["x-mbx-used-weight-1m"] == "3"
    assert (await transport.exchange(send(srv.port))).content == b"abcd"
    assert (await transport.exchange(send(srv.port))).content == b"end"
    assert (await transport.exchange(send(srv.port))).content == b"fresh"
    assert srv.connections == 2
    again = server(respond_then_close(b"1"), respond(b"2"))
    assert (await transport.exchange(send(again.port))).content == b"1"
    await asyncio.sleep(0.05)
    assert (await transport.exchange(send(again.port))).content == b"2"  # a new connection
    assert again.connections == 2
    head = srv.head()
    assert head[0] == b"GET /x?y=1&s=a%2Cb HTTP/1.1"  # the query exactly as signed
    assert f"Host: 127.0.0.1:{srv.port}".encode() in head
    assert b"User-Agent: t" in head and b"X-MBX-APIKEY: k" in head
    await transport.aclose()


async def test_async_a_post_says_it_has_no_body(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(b"{}"))
    transport = AiohttpTransport()
    await transport.exchange(send(srv.port, "/fapi/v1/leverage?leverage=5", method="POST"))
    assert srv.head()[0] == b"POST /fapi/v1/leverage?leverage=5 HTTP/1.1"
    assert b"Content-Length: 0" in srv.head()
    await transport.aclose()


async def test_async_failures_map_to_httpx_errors(server: Callable[..., ScriptedServer]) -> None:
    transport = AiohttpTransport()
    with pytest.raises(httpx.ConnectError):
        await transport.exchange(send(closed_port()))
    srv = server(hang_up)
    with pytest.raises(httpx.RemoteProtocolError):
        await transport.exchange(send(srv.port))
    srv = server(half_response)
    with pytest.raises(httpx.RemoteProtocolError):
        await transport.exchange(send(srv.port))
    srv = server(slow(0.5))
    with pytest.raises(httpx.ReadTimeout):
        await transport.exchange(send(srv.port, timeout=0.1))
    await transport.aclose()


async def test_aiohttp_does_not_send_a_delete_again(server: Callable[..., ScriptedServer]) -> None:
    # aiohttp resends PUT and DELETE once after a dropped connection unless told not to; a
    # cancel whose answer was lost is the core's to decide (UnknownOutcome)
    srv = server(respond(b"{}"), hang_up, respond(b"{}"))
    transport = AiohttpTransport()
    await transport.exchange(send(srv.port))
    with pytest.raises(httpx.RemoteProtocolError):
        await transport.exchange(send(srv.port, "/fapi/v1/order?orderId=1", method="DELETE"))
    assert len(srv.requests) == 2
    await transport.aclose()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("connect timed out"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read timed out"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("incomplete"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientConnectionResetError("reset"), httpx.ReadError),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else type(v).__name__,
)
def test_every_aiohttp_error_is_mapped(raised: Exception, expected: type[Exception]) -> None:
    assert type(from_aiohttp(raised)) is expected


async def test_the_session_is_made_on_first_use_and_closed_with_the_client(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    srv = server(respond(b"{}"))
    client = AsyncClient(base_url=f"http://127.0.0.1:{srv.port}")
    transport = client._transport
    assert isinstance(transport, AiohttpTransport) and transport._session is None
    assert not transport.trust_env  # no proxy: no per-request environment lookups
    async with client:
        await client.ping()
        session = transport._session
        assert session is not None and not session.closed
    assert session.closed and transport._session is None


def test_a_session_is_not_carried_into_another_event_loop(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(respond(b"{}"), respond(b"{}"))
    transport = AiohttpTransport()
    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(transport.exchange(send(srv.port)))
        with pytest.raises(RuntimeError, match="another event loop"):
            asyncio.run(transport.exchange(send(srv.port)))
        first.run_until_complete(transport.aclose())
    finally:
        first.close()

    async def use_and_close() -> int:
        try:
            return (await transport.exchange(send(srv.port))).status_code
        finally:
            await transport.aclose()

    assert asyncio.run(use_and_close()) == 200  # closed in its loop: a new loop starts afresh


async def test_async_client_turns_failures_into_aster_errors(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    async with AsyncClient(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0) as c:
        with pytest.raises(TransportError, match="could not connect"):
            await c.ping()
    srv = server(server_time, hang_up)
    async with AsyncClient("k", "s", f"http://127.0.0.1:{srv.port}", max_retries=0) as c:
        with pytest.raises(UnknownOutcome, match="may have been processed"):
            await c.set_leverage("BTCUSDT", 5)
    assert srv.head(1)[0].startswith(b"POST /fapi/v1/leverage?")


async def test_async_client_sends_through_the_proxy_the_environment_names(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    proxy = server(respond(b"{}"))
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    async with AsyncClient(base_url="http://aster.invalid:8080") as client:
        assert isinstance(client._transport, AiohttpTransport) and client._transport.trust_env
        await client.ping()
    assert proxy.head()[0] == b"GET http://aster.invalid:8080/fapi/v1/ping HTTP/1.1"
