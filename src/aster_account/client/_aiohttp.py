"""AsyncClient's default transport: one aiohttp ``ClientSession`` (see ``_transport``).

The session and its ``TCPConnector`` are made on the first request, inside the running loop (as
aiohttp wants), and closed by ``aclose()``. Requests use per-step timeouts (connect, then each
read) so that a timeout says whether a connection was made, keep the signed query as it is
(``yarl.URL(..., encoded=True)``) and are never sent twice by aiohttp itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import aiohttp
import httpx
from yarl import URL

from aster_account.client._transport import MAX_CONNECTIONS, Answer, describe

if TYPE_CHECKING:
    from aster_account.client._core import Send

__all__ = ["AiohttpTransport", "httpx_error"]


# ClientConnectorError: refused, DNS, TLS handshake, proxy connection; ClientHttpProxyError: the
# proxy refused the tunnel; ServerFingerprintMismatch: a pinned certificate did not match.
_NOT_CONNECTED: Final = (
    aiohttp.ClientConnectorError,
    aiohttp.ClientHttpProxyError,
    aiohttp.ServerFingerprintMismatch,
)


def httpx_error(exc: BaseException) -> httpx.RequestError:
    """The httpx error of an aiohttp failure."""
    what = describe(exc)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(what)
    if isinstance(exc, _NOT_CONNECTED):
        return httpx.ConnectError(what)
    if isinstance(exc, TimeoutError):  # SocketTimeoutError: no byte within sock_read
        return httpx.ReadTimeout(what)
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        return httpx.RemoteProtocolError(what)
    return httpx.ReadError(what)


# What aiohttp's own resend of a PUT / DELETE after a dropped connection would hide from the core
# (aio-libs/aiohttp#10790: no public switch; the attribute is in ClientSession.ATTRS, and
# aiohttp's test client turns it off the same way).
_NO_RESEND: Final = "_retry_connection" in getattr(aiohttp.ClientSession, "ATTRS", ())


class AiohttpTransport:
    """Asyncio HTTP/1.1 over one aiohttp ``ClientSession``: keep-alive, at most ``limit``
    connections at once (further requests wait for one), TLS verified by default.

    The session belongs to the event loop of the first request and is made then (aiohttp
    wants a running loop); ``aclose()`` closes it, and a later request makes a new one.
    ``trust_env``: let aiohttp read HTTP(S)_PROXY / NO_PROXY and ~/.netrc. The clients set it
    only when the environment names a proxy for their URL, since aiohttp then looks up the
    proxy and the netrc on a worker thread for every request.
    """

    def __init__(self, *, limit: int = MAX_CONNECTIONS, trust_env: bool = False) -> None:
        self.limit = limit
        self.trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed:
            raise RuntimeError(
                "this AsyncClient's connections belong to another event loop: "
                "close it (await client.aclose()) in the loop that used it first"
            )
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=0),
            cookie_jar=aiohttp.DummyCookieJar(),  # Aster sets no cookies
            trust_env=self.trust_env,
        )
        if _NO_RESEND:
            session._retry_connection = False
        self._session, self._loop = session, loop
        return session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        # per step, not in total, so that a timeout says whether a connection was made;
        # waiting for a free connection of the pool is not limited (as a semaphore)
        timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=seconds, sock_read=seconds
        )
        return timeout

    async def exchange(self, send: Send) -> Answer:
        session = self._session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            session = self._open()
        timeout = self._timeouts.get(send.timeout) or self._timeout(send.timeout)
        try:
            # encoded=True: the query is sent exactly as signed
            async with session.request(
                send.method,
                URL(send.url, encoded=True),
                headers=send.headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                return Answer(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise httpx_error(exc) from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
