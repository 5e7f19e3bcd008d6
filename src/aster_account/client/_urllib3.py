"""Client's default transport: urllib3 v2 connection pools (see ``_transport``).

One ``PoolManager`` (a ``ProxyManager`` when HTTP(S)_PROXY names a proxy for the base URL) and,
without a proxy, its keep-alive pool for the origin, asked directly with the request target:
``urlopen`` with ``retries=False`` (the core retries), ``redirect=False`` and
``preload_content=True`` (the body is read and the connection goes back to the pool at once).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import httpx
import urllib3
from urllib3 import exceptions as u3
from urllib3.util.ssl_match_hostname import CertificateError

from aster_account.client._transport import MAX_CONNECTIONS, Answer, Origin, describe

if TYPE_CHECKING:
    from aster_account.client._core import Send

__all__ = ["Urllib3Transport", "httpx_error"]


def _refused_certificate(exc: BaseException) -> bool:
    """A TLS failure that can only happen in the handshake, before the request is written."""
    seen: BaseException | None = exc
    for _ in range(8):  # urllib3 wraps the ssl error in its own, as args[0] or the cause
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError | CertificateError):
            return True
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = nested or seen.__cause__ or seen.__context__
    return False


def httpx_error(exc: u3.HTTPError) -> httpx.RequestError:
    """The httpx error of a urllib3 failure (``retries=False``: urllib3 raises the cause)."""
    what = describe(exc)
    # NewConnectionError subclasses ConnectTimeoutError: the order of these tests matters
    if isinstance(exc, u3.NewConnectionError | u3.ProxyError | u3.LocationValueError):
        return httpx.ConnectError(what)
    if isinstance(exc, u3.ConnectTimeoutError):
        return httpx.ConnectTimeout(what)
    if isinstance(exc, u3.EmptyPoolError | u3.ClosedPoolError):
        return httpx.PoolTimeout(what)
    if isinstance(exc, u3.SSLError) and _refused_certificate(exc):
        return httpx.ConnectError(what)
    if isinstance(exc, u3.ReadTimeoutError):
        return httpx.ReadTimeout(what)
    if isinstance(exc, u3.ProtocolError):
        return httpx.RemoteProtocolError(what)
    return httpx.ReadError(what)


def _proxy_manager(proxy: str, maxsize: int) -> urllib3.PoolManager:
    if proxy.startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks

        return SOCKSProxyManager(proxy, maxsize=maxsize, retries=False)
    auth = urllib3.util.parse_url(proxy).auth
    headers = urllib3.make_headers(proxy_basic_auth=auth) if auth else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, maxsize=maxsize, retries=False)


class Urllib3Transport:
    """Blocking HTTP/1.1 over a urllib3 pool: keep-alive, up to ``maxsize`` idle connections
    per origin (one per thread that uses the client at once), TLS verified by default.

    ``proxy`` (``http://``, ``https://`` or, with PySocks, ``socks5://``): send everything
    through it. Without one, the request goes straight to the origin's pool, which skips the
    manager's URL parsing on every call.
    """

    def __init__(self, *, proxy: str | None = None, maxsize: int = MAX_CONNECTIONS) -> None:
        self.proxy = proxy
        self._manager = (
            _proxy_manager(proxy, maxsize)
            if proxy
            else urllib3.PoolManager(maxsize=maxsize, retries=False)
        )
        self._pools: dict[Origin, urllib3.HTTPConnectionPool] = {}
        self._timeouts: dict[float, urllib3.Timeout] = {}

    def _pool(self, origin: Origin) -> urllib3.HTTPConnectionPool:
        scheme, host, port = origin
        pool = self._pools[origin] = self._manager.connection_from_host(host, port, scheme)
        return pool

    def _timeout(self, seconds: float) -> urllib3.Timeout:
        timeout = self._timeouts[seconds] = urllib3.Timeout(connect=seconds, read=seconds)
        return timeout

    def exchange(self, send: Send) -> Answer:
        timeout = self._timeouts.get(send.timeout) or self._timeout(send.timeout)
        try:
            if self.proxy:
                # the manager knows when a proxy wants the absolute URL and its own headers
                response = self._manager.urlopen(
                    send.method,
                    send.url,
                    headers=send.headers,
                    retries=False,
                    redirect=False,
                    timeout=timeout,
                    preload_content=True,
                )
            else:
                pool = self._pools.get(send.origin) or self._pool(send.origin)
                response = pool.urlopen(
                    send.method,
                    send.target,
                    headers=send.headers,
                    retries=False,
                    redirect=False,
                    timeout=timeout,
                    preload_content=True,
                )
        except u3.HTTPError as exc:
            raise httpx_error(exc) from exc
        return Answer(response.status, response.headers, response.data)

    def close(self) -> None:
        """Close the pooled connections; a later request opens new ones."""
        self._pools.clear()
        self._manager.clear()
