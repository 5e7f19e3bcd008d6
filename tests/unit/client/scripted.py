"""A scripted HTTP server on loopback for the transport tests: it answers each request with the
next script, records what it was sent and how many connections were opened."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aster_account.client._core import Send
from aster_account.testing import free_port

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


def send(
    port: int, target: str = "/fapi/v1/ping", timeout: float = 2.0, method: str = "GET"
) -> Send:
    headers = {"User-Agent": "t", "X-MBX-APIKEY": "k"}
    url = f"http://127.0.0.1:{port}{target}"
    return Send(method, url, headers, timeout, ("http", "127.0.0.1", port), target)


def closed_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    return free_port()
