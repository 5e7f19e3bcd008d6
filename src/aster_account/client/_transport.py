"""The transports: how a request the core built (``_core.Send``) goes over the network.

The clients drive a transport through one method, ``exchange(send) -> Reply``:

    _httptools.HttptoolsTransport       Client's default: keep-alive sockets, answers parsed
                                        by httptools (llhttp)
    _httptools.AsyncHttptoolsTransport  AsyncClient's default: the same over asyncio
    _urllib3.Urllib3Transport           Client's with a proxy (HTTP(S)_PROXY): a urllib3
                                        ``ProxyManager``
    _aiohttp.AiohttpTransport           AsyncClient's with a proxy: one aiohttp
                                        ``ClientSession``, made in the running loop
    HttpxTransport                      any ``httpx.BaseTransport`` passed as
                                        ``Client(transport=...)``
    AsyncHttpxTransport                 any ``httpx.AsyncBaseTransport`` passed to
                                        ``AsyncClient``

The libraries parse HTTP; the adapters hand them the request (everything is in the URL and the
headers: no body) and read the status, headers and body back. None of them retries: the core
decides that (``_core`` module docstring). aiohttp is imported only when an ``AsyncClient``
needs a proxy.

Failures are raised as httpx's exception classes, whatever the library, so the core has one set
to read, with the distinction the retry rules rest on: ``ConnectError`` / ``ConnectTimeout`` when
the request cannot have left (no connection could be made, the proxy refused the tunnel, the
server's certificate was refused), anything else (``ReadTimeout``, ``ReadError``,
``RemoteProtocolError``) when it may have reached the server. An idle pooled connection that the
server has closed is noticed before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from aster_account.client._core import Send

__all__ = [
    "MAX_CONNECTIONS",
    "Answer",
    "AsyncHttpxTransport",
    "HttpxTransport",
    "Origin",
    "Reply",
    "describe",
    "origin_of",
]

MAX_CONNECTIONS: Final = 100

Origin = tuple[str, str, int]


class Reply(Protocol):
    """What the core reads of an answer: ``httpx.Response`` has it, and so has :class:`Answer`."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


class Answer:
    """An answer read by a library; ``headers`` is that library's case-insensitive mapping."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def __repr__(self) -> str:
        return f"<Answer {self.status_code} {len(self.content)} bytes>"


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of an http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r} in {url!r}")
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


def describe(exc: BaseException) -> str:
    """An exception as a message: its text, or its class name when it has none."""
    return str(exc) or type(exc).__name__


# -- any httpx transport -----------------------------------------------------------------------


class HttpxTransport:
    """An ``httpx.BaseTransport`` (``MockTransport`` in tests, ``HTTPTransport`` for HTTP/2)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def exchange(self, send: Send) -> httpx.Response:
        response = self.inner.handle_request(send.to_httpx())
        try:
            response.read()
        finally:
            response.close()
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncHttpxTransport:
    """An ``httpx.AsyncBaseTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def exchange(self, send: Send) -> httpx.Response:
        response = await self.inner.handle_async_request(send.to_httpx())
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
