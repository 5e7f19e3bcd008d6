"""Edge cases of the httptools transports (``client/_httptools.py``) against a real loopback
socket server: bytes after an answer, a reset in a read-to-close body, an unasked upgrade, and
closing the transport while a request is in flight."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import threading
import time
import warnings
from collections.abc import Callable

import httpx
import pytest
from scripted import ScriptedServer, respond, send

from aster_account.client._httptools import AsyncHttptoolsTransport, HttptoolsTransport

# An answer and, in the same segment, the start of another one nobody asked for.
TWO_IN_ONE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Stale: y\r\n\r\nstale"
)


def two_answers_in_one_segment(conn: socket.socket, _request: bytes) -> bool:
    conn.sendall(TWO_IN_ONE)
    return True


def test_bytes_after_the_answer_are_not_merged_into_it(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(two_answers_in_one_segment, respond(b"2"))
    transport = HttptoolsTransport()
    try:
        answer = transport.exchange(send(srv.port))
        assert answer.content == b"1"
        assert "x-stale" not in answer.headers
    finally:
        transport.close()


async def test_async_bytes_after_the_answer_are_not_merged_into_it(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(two_answers_in_one_segment, respond(b"2"))
    transport = AsyncHttptoolsTransport()
    try:
        answer = await transport.exchange(send(srv.port))
        assert answer.content == b"1"
        assert "x-stale" not in answer.headers
    finally:
        await transport.aclose()


def reset_in_a_read_to_close_body(conn: socket.socket, _request: bytes) -> bool:
    conn.sendall(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"partial":')
    time.sleep(0.05)
    # close with an RST: the body was cut, it did not end
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return False


async def test_async_a_reset_does_not_end_a_read_to_close_body(
    server: Callable[..., ScriptedServer],
) -> None:
    srv = server(reset_in_a_read_to_close_body)
    transport = AsyncHttptoolsTransport()
    try:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await transport.exchange(send(srv.port))
    finally:
        await transport.aclose()


def test_an_unasked_upgrade_is_a_protocol_error_and_the_socket_is_closed(
    server: Callable[..., ScriptedServer],
) -> None:
    client_closed = threading.Event()

    def switch_protocols(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        )
        conn.settimeout(1.0)
        try:
            if conn.recv(1) == b"":
                client_closed.set()
        except OSError:
            pass
        return False

    srv = server(switch_protocols)
    transport = HttptoolsTransport()
    raised: type[BaseException] | None = None
    closed = False
    with warnings.catch_warnings():
        # the leaked socket is finalized here, not in some later test
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            transport.exchange(send(srv.port))
        except Exception as exc:
            raised = type(exc)
            closed = client_closed.wait(1.5)  # while the exception (and its frames) live
        gc.collect()
    transport.close()
    assert raised is httpx.RemoteProtocolError
    assert closed


async def test_async_aclose_closes_the_connection_of_a_request_in_flight(
    server: Callable[..., ScriptedServer],
) -> None:
    client_closed: list[bool] = []

    def answer_late_then_watch(conn: socket.socket, request: bytes) -> bool:
        time.sleep(0.2)
        respond(b"late")(conn, request)
        conn.settimeout(1.0)
        try:
            client_closed.append(conn.recv(1) == b"")
        except OSError:
            client_closed.append(False)
        return False

    srv = server(answer_late_then_watch)
    transport = AsyncHttptoolsTransport()
    try:
        request = asyncio.create_task(transport.exchange(send(srv.port)))
        await asyncio.sleep(0.05)
        await transport.aclose()
        assert (await request).content == b"late"
        for _ in range(300):
            if client_closed:
                break
            await asyncio.sleep(0.01)
        assert client_closed == [True]
    finally:
        await transport.aclose()
        await asyncio.sleep(0.05)  # the server's close reaches the loop
