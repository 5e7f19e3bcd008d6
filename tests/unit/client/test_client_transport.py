"""The transports (httptools by default, urllib3 / aiohttp with a proxy) against a scripted socket
server: what they send, how they read bodies, keep-alive, TLS, proxies, and which httpx error each
failure becomes (the retry rules rest on it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import trustme
from scripted import (
    ScriptedServer,
    chunked,
    closed_port,
    half_response,
    hang_up,
    respond,
    respond_then_close,
    send,
    server_time,
    slow,
    until_close,
)
from urllib3 import exceptions as u3

from aster_account import AsyncClient, Client
from aster_account.client._aiohttp import AiohttpTransport
from aster_account.client._aiohttp import httpx_error as from_aiohttp
from aster_account.client._core import Send
from aster_account.client._httptools import AsyncHttptoolsTransport, HttptoolsTransport
from aster_account.client._urllib3 import Urllib3Transport
from aster_account.client._urllib3 import httpx_error as from_urllib3
from aster_account.protocol.errors import TransportError, UnknownOutcome

BLOCKING = [HttptoolsTransport, Urllib3Transport]
ASYNC = [AsyncHttptoolsTransport, AiohttpTransport]


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


# -- blocking: httptools and urllib3 (Client) -------------------------------------------------


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
def test_a_request_is_never_sent_again_by_the_transport(
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


def test_client_turns_transport_failures_into_aster_errors(
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


# -- asyncio: httptools and aiohttp (AsyncClient) ---------------------------------------------


@pytest.mark.parametrize("make", ASYNC)
async def test_async_request_head_keep_alive_and_bodies(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(
        respond(b"[]", extra="X-MBX-USED-WEIGHT-1M: 3\r\n"),
        chunked(b"ab", b"cd"),
        until_close(b"end"),
        respond(b"fresh"),
    )
    transport = make()
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


@pytest.mark.parametrize("make", ASYNC)
async def test_async_a_post_says_it_has_no_body(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(respond(b"{}"))
    transport = make()
    await transport.exchange(send(srv.port, "/fapi/v1/leverage?leverage=5", method="POST"))
    assert srv.head()[0] == b"POST /fapi/v1/leverage?leverage=5 HTTP/1.1"
    assert b"Content-Length: 0" in srv.head()
    await transport.aclose()


@pytest.mark.parametrize("make", ASYNC)
async def test_async_failures_map_to_httpx_errors(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    transport = make()
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


@pytest.mark.parametrize("make", ASYNC)
async def test_async_a_delete_is_never_sent_again_by_the_transport(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    # aiohttp resends PUT and DELETE once after a dropped connection unless told not to; a
    # cancel whose answer was lost is the core's to decide (UnknownOutcome)
    srv = server(respond(b"{}"), hang_up, respond(b"{}"))
    transport = make()
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


async def test_the_default_async_transport_opens_in_the_loop_and_closes_with_the_client(
    server: Callable[..., ScriptedServer], no_proxy_env: pytest.MonkeyPatch
) -> None:
    srv = server(respond(b"{}"), respond(b"{}"))
    client = AsyncClient(base_url=f"http://127.0.0.1:{srv.port}")
    transport = client._transport
    assert isinstance(transport, AsyncHttptoolsTransport) and transport._loop is None
    async with client:
        await client.ping()
        await client.ping()
        assert transport._loop is asyncio.get_running_loop()
        (conn,) = transport._idle[("http", "127.0.0.1", srv.port)]
        assert not conn.closed and srv.connections == 1
    assert conn.closed and transport._loop is None and not transport._idle


@pytest.mark.parametrize("make", ASYNC)
def test_connections_are_not_carried_into_another_event_loop(
    make: Callable[[], Any], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(respond(b"{}"), respond(b"{}"))
    transport = make()
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


# -- httptools specifics -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"X-MBX-APIKEY": "k\r\nX-Injected: 1"},
        {"X-MBX-APIKEY": "k\nX"},
        {"Bad Name": "v"},
    ],
)
def test_a_header_that_could_split_the_request_is_refused_before_anything_is_sent(
    bad: dict[str, str], server: Callable[..., ScriptedServer]
) -> None:
    srv = server(respond(b"{}"))
    transport = HttptoolsTransport()
    request = send(srv.port)
    with pytest.raises(ValueError, match="cannot be sent"):
        transport.exchange(Send("GET", request.url, bad, 2.0, request.origin, request.target))
    with pytest.raises(ValueError, match="cannot be sent"):
        transport.exchange(Send("GET", request.url, {}, 2.0, request.origin, "/a b"))
    assert transport.exchange(request).content == b"{}"  # nothing was sent before
    assert len(srv.requests) == 1
    transport.close()


def test_answer_headers_read_in_any_case_and_repeated_ones_join(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(respond(b"{}", extra="Set-Thing: a\r\nset-thing: b\r\nRetry-After: 7\r\n"))
    transport = HttptoolsTransport()
    headers = transport.exchange(send(srv.port)).headers
    assert headers["retry-after"] == headers["Retry-After"] == headers.get("RETRY-AFTER") == "7"
    assert headers["set-thing"] == "a, b"
    assert "Retry-After" in headers and "nope" not in headers and headers.get("nope") is None
    assert dict(headers.items())["retry-after"] == "7"
    transport.close()


def test_a_malformed_answer_is_a_protocol_error_and_the_connection_is_dropped(
    server: Callable[..., ScriptedServer],
) -> None:
    def garbage(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 2x0 OK\r\n\r\n")
        return True

    srv = server(garbage, respond(b"ok"))
    transport = HttptoolsTransport()
    with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
        transport.exchange(send(srv.port))
    assert transport.exchange(send(srv.port)).content == b"ok"
    assert srv.connections == 2
    transport.close()


BIG = bytes(range(256)) * 8192  # 2 MiB: many reads, parsed across chunk boundaries


def test_a_large_body_arrives_whole(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(BIG), chunked(BIG[:1_000_000], BIG[1_000_000:]))
    transport = HttptoolsTransport()
    assert transport.exchange(send(srv.port)).content == BIG
    assert transport.exchange(send(srv.port)).content == BIG
    transport.close()


async def test_async_a_large_body_arrives_whole(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(BIG), chunked(BIG[:1_000_000], BIG[1_000_000:]))
    transport = AsyncHttptoolsTransport()
    assert (await transport.exchange(send(srv.port))).content == BIG
    assert (await transport.exchange(send(srv.port))).content == BIG
    await transport.aclose()


def early_hints(conn: socket.socket, _request: bytes) -> bool:
    conn.sendall(
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-B: 2\r\n\r\nreal"
    )
    return True


def test_an_interim_answer_is_skipped_for_the_real_one(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(early_hints, respond(b"next"))
    transport = HttptoolsTransport()
    answer = transport.exchange(send(srv.port))
    assert (answer.status_code, answer.content, answer.headers["x-b"]) == (200, b"real", "2")
    assert "link" not in answer.headers
    assert transport.exchange(send(srv.port)).content == b"next"  # still in step
    assert srv.connections == 1
    transport.close()


async def test_async_an_interim_answer_is_skipped_for_the_real_one(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(early_hints)
    transport = AsyncHttptoolsTransport()
    answer = await transport.exchange(send(srv.port))
    assert (answer.status_code, answer.content) == (200, b"real")
    await transport.aclose()


async def test_async_a_malformed_answer_is_a_protocol_error(
    server: Callable[..., ScriptedServer],
) -> None:
    def garbage(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
        return True

    srv = server(garbage)
    transport = AsyncHttptoolsTransport()
    with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
        await transport.exchange(send(srv.port))
    await transport.aclose()


async def test_async_requests_beyond_the_limit_wait_for_a_connection() -> None:
    """limit=2: six requests at once use two connections, none waits forever."""
    writers: list[asyncio.StreamWriter] = []
    in_flight = most = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        writers.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError):
            while await reader.readuntil(b"\r\n\r\n"):
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(0.02)
                in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    transport = AsyncHttptoolsTransport(limit=2)
    answers = await asyncio.gather(*(transport.exchange(send(port)) for _ in range(6)))
    assert [a.content for a in answers] == [b"ok"] * 6
    assert len(writers) == 2 and most == 2
    await transport.aclose()
    listener.close()
    for writer in writers:
        writer.close()
        await writer.wait_closed()


async def test_async_a_connection_the_server_talks_on_unasked_is_not_reused(
    server: Callable[..., ScriptedServer],
) -> None:
    def extra_bytes(conn: socket.socket, request: bytes) -> bool:
        respond(b"1")(conn, request)
        time.sleep(0.02)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
        return True

    srv = server(extra_bytes, respond(b"2"))
    transport = AsyncHttptoolsTransport()
    assert (await transport.exchange(send(srv.port))).content == b"1"
    await asyncio.sleep(0.1)
    assert (await transport.exchange(send(srv.port))).content == b"2"  # not "stale"
    assert srv.connections == 2
    await transport.aclose()


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_server() -> Iterator[tuple[trustme.CA, int, list[bytes]]]:
    """An HTTPS server on loopback for "localhost", certified by a throwaway CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    while data := conn.recv(65536):
                        requests.append(data)
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
            except (ssl.SSLError, OSError):
                raw.close()  # a client that refused our certificate

    threading.Thread(target=serve, daemon=True).start()
    yield ca, listener.getsockname()[1], requests
    listener.close()


def tls_send(port: int) -> Send:
    url = f"https://localhost:{port}/fapi/v1/ping"
    return Send("GET", url, {"User-Agent": "t"}, 2.0, ("https", "localhost", port), "/fapi/v1/ping")


def test_tls_is_verified_against_the_trusted_authorities(
    tls_server: tuple[trustme.CA, int, list[bytes]],
) -> None:
    ca, port, requests = tls_server
    untrusting = HttptoolsTransport()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.exchange(tls_send(port))
    assert requests == []  # nothing was sent to a server we could not verify
    transport = HttptoolsTransport()
    ca.configure_trust(transport._tls)
    assert transport.exchange(tls_send(port)).content == b"secret"
    assert transport.exchange(tls_send(port)).content == b"secret"  # the same connection
    assert requests[0].startswith(b"GET /fapi/v1/ping HTTP/1.1\r\nHost: localhost:")
    assert len(requests) == 2
    transport.close()


async def test_async_tls_is_verified_against_the_trusted_authorities(
    tls_server: tuple[trustme.CA, int, list[bytes]],
) -> None:
    ca, port, requests = tls_server
    untrusting = AsyncHttptoolsTransport()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await untrusting.exchange(tls_send(port))
    assert requests == []
    transport = AsyncHttptoolsTransport()
    ca.configure_trust(transport._tls)
    assert (await transport.exchange(tls_send(port))).content == b"secret"
    assert (await transport.exchange(tls_send(port))).content == b"secret"
    assert len(requests) == 2
    await transport.aclose()
    await untrusting.aclose()
