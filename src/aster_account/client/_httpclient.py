"""Client's default transport without a proxy: the standard library's ``http.client``.

``http.client`` is the HTTP/1.1 implementation urllib3 itself is built on; used directly, with a
small keep-alive pool per origin, it costs about a third less per request than going through
urllib3's pool and response machinery (bench/client_overhead.py), which matters for a client whose
every call is one short request. urllib3 stays the transport when a proxy is configured.

Failures map to httpx's classes like the other adapters (``_transport`` docstring): a failure to
connect is ``ConnectError`` / ``ConnectTimeout`` (the request cannot have left); anything after
the request was written is a read or protocol error (it may have reached the server).
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import httpx

from aster_account.client._transport import MAX_CONNECTIONS, Answer, Origin, describe

if TYPE_CHECKING:
    from aster_account.client._core import Send

__all__ = ["HttpClientTransport"]


class HttpClientTransport:
    """Blocking HTTP/1.1 keep-alive over ``http.client`` connections, pooled per origin (one per
    thread that uses the client at once, at most ``maxsize`` kept idle)."""

    def __init__(self, *, maxsize: int = MAX_CONNECTIONS) -> None:
        self._maxsize = maxsize
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()

    def _take(self, origin: Origin, timeout: float) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None:
                break
            if conn.sock is None or _dropped(conn.sock):
                conn.close()  # closed by the server while idle: never reuse it
                continue
            conn.timeout = timeout
            conn.sock.settimeout(timeout)
            return conn
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._maxsize:
                idle.append(conn)
                return
        conn.close()

    def exchange(self, send: Send) -> Answer:
        conn = self._take(send.origin, send.timeout)
        fresh = conn.sock is None
        if fresh:
            try:
                conn.connect()
            except TimeoutError as exc:
                conn.close()
                raise httpx.ConnectTimeout(describe(exc)) from exc
            except (OSError, ssl.SSLError) as exc:
                conn.close()
                raise httpx.ConnectError(describe(exc)) from exc
        try:
            conn.request(send.method, send.target, headers=dict(send.headers))
            response = conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, ConnectionResetError, BrokenPipeError) as exc:
            # a cut or malformed answer (RemoteDisconnected, IncompleteRead, BadStatusLine ...)
            conn.close()
            raise httpx.RemoteProtocolError(describe(exc)) from exc
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(describe(exc)) from exc
        except OSError as exc:
            conn.close()
            raise httpx.ReadError(describe(exc)) from exc
        if response.will_close:
            conn.close()
        else:
            self._give_back(send.origin, conn)
        # HTTPMessage: case-insensitive get / [] / items, as the core reads headers
        return Answer(response.status, cast(Mapping[str, str], response.headers), body)

    def close(self) -> None:
        """Close the idle connections; a later request opens new ones."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive socket with something to read has been closed by the server (it sends
    nothing unasked): the same test urllib3 makes before it reuses a connection."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
