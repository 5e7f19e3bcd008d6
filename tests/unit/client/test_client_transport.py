"""The default transports against a scripted socket server: what they send, how they read
bodies, keep-alive, and which httpx error each failure becomes (the retry rules rest on it)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from aster_account.client._core import Send
from aster_account.client._transport import AsyncHttp11Transport, Http11Transport

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


def send(port: int, target: str = "/fapi/v1/ping", timeout: float = 2.0) -> Send:
    headers = {"User-Agent": "t", "X-MBX-APIKEY": "k"}
    url = f"http://127.0.0.1:{port}{target}"
    return Send("GET", url, headers, timeout, ("http", "127.0.0.1", port), target)


def test_request_head_and_keep_alive(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(b'{"a":1}', extra="X-MBX-USED-WEIGHT-1M: 7\r\n"), respond(b"[]"))
    transport = Http11Transport()
    first = transport.exchange(send(srv.port, "/fapi/v2/balance?timestamp=1&signature=ab"))
    second = transport.exchange(send(srv.port))
    assert (first.status_code, first.content) == (200, b'{"a":1}')
    assert first.headers["x-mbx-used-weight-1m"] == "7"
    assert second.content == b"[]"
    assert srv.connections == 1  # kept alive
    assert srv.requests[0].split(b"\r\n") == [
        b"GET /fapi/v2/balance?timestamp=1&signature=ab HTTP/1.1",
        f"Host: 127.0.0.1:{srv.port}".encode(),
        b"User-Agent: t",
        b"X-MBX-APIKEY: k",
    ]
    transport.close()


def test_a_request_other_than_get_says_it_has_no_body(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(respond(b"{}"))
    transport = Http11Transport()
    post = send(srv.port, "/fapi/v1/leverage?symbol=X&leverage=5")
    post = Send("POST", post.url, post.headers, post.timeout, post.origin, post.target)
    transport.exchange(post)
    assert (
        srv.requests[0].split(b"\r\n")[0] == b"POST /fapi/v1/leverage?symbol=X&leverage=5 HTTP/1.1"
    )
    assert b"Content-Length: 0" in srv.requests[0].split(b"\r\n")
    transport.close()


def test_chunked_and_read_to_close_bodies(server: Callable[..., ScriptedServer]) -> None:
    srv = server(chunked(b'{"x":', b"2}"), until_close(b"all of it"), respond(b"again"))
    transport = Http11Transport()
    answer = transport.exchange(send(srv.port))
    assert answer.content == b'{"x":2}' and answer.headers["x-a"] == "1"
    assert transport.exchange(send(srv.port)).content == b"all of it"
    assert transport.exchange(send(srv.port)).content == b"again"
    assert srv.connections == 2  # the read-to-close answer ended its connection
    transport.close()


def test_an_idle_connection_the_server_closed_is_not_reused(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(respond_then_close(b"1"), respond(b"2"))
    transport = Http11Transport()
    assert transport.exchange(send(srv.port)).content == b"1"
    time.sleep(0.05)
    assert transport.exchange(send(srv.port)).content == b"2"
    assert srv.connections == 2
    transport.close()


def test_failures_map_to_httpx_errors_by_whether_the_request_left(
    server: Callable[..., ScriptedServer],
) -> None:
    transport = Http11Transport()
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        transport.exchange(send(closed_port))
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


def test_it_is_an_httpx_transport_too(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(b'{"serverTime":5}'))
    with httpx.Client(transport=Http11Transport()) as client:
        response = client.get(f"http://127.0.0.1:{srv.port}/fapi/v1/time")
    assert response.json() == {"serverTime": 5}


async def test_async_request_head_keep_alive_and_bodies(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(
        respond(b"[]", extra="X-MBX-USED-WEIGHT-1M: 3\r\n"),
        chunked(b"ab", b"cd"),
        until_close(b"end"),
        respond(b"fresh"),
    )
    transport = AsyncHttp11Transport()
    first = await transport.exchange(send(srv.port, "/x?y=1"))
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
    assert srv.requests[0].split(b"\r\n")[:2] == [
        b"GET /x?y=1 HTTP/1.1",
        f"Host: 127.0.0.1:{srv.port}".encode(),
    ]
    await transport.aclose()


async def test_async_failures_map_to_httpx_errors(server: Callable[..., ScriptedServer]) -> None:
    transport = AsyncHttp11Transport()
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await transport.exchange(send(closed_port))
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


async def test_async_it_is_an_httpx_transport_too(server: Callable[..., ScriptedServer]) -> None:
    srv = server(respond(b'{"serverTime":6}'))
    async with httpx.AsyncClient(transport=AsyncHttp11Transport()) as client:
        response = await client.get(f"http://127.0.0.1:{srv.port}/fapi/v1/time")
    assert response.json() == {"serverTime": 6}
