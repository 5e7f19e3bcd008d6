"""What ``Client`` and ``AsyncClient`` share besides the core: construction and state."""

from __future__ import annotations

import inspect
import urllib.request
from collections.abc import Callable
from typing import Any, Final

from aster_account.client._core import ClientCore

__all__ = ["WRAPPER_ASSIGNMENTS", "BaseClient", "method_signature", "proxy_for"]

# What a method takes from its builder: not __wrapped__, so that help() shows the method's own
# signature (the result, not the Call).
WRAPPER_ASSIGNMENTS: Final = ("__name__", "__doc__")


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, ALL_PROXY, NO_PROXY...)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    if urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(scheme) or proxies.get("all")


def method_signature(build: Callable[..., Any]) -> inspect.Signature:
    """The builder's signature with ``Call[X]`` replaced by ``X`` as the return annotation."""
    sig = inspect.signature(build)
    result = str(sig.return_annotation)
    if result.startswith("Call[") and result.endswith("]"):
        result = result[5:-1]
    return sig.replace(return_annotation=result)


class BaseClient:
    def __init__(
        self,
        api_key: str | None,
        api_secret: str | None,
        base_url: str | None,
        *,
        recv_window: int,
        timeout: float,
        max_retries: int,
        retry_backoff: float,
        max_wait: float,
        weight_limit: int | None,
        clock_refresh: float,
        now: Callable[[], float],
    ) -> None:
        self._core = ClientCore(
            api_key,
            api_secret,
            base_url,
            recv_window=recv_window,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            max_wait=max_wait,
            weight_limit=weight_limit,
            clock_refresh=clock_refresh,
            now=now,
        )

    def __repr__(self) -> str:
        core = self._core
        key = "set" if core.has_credentials else "none"
        return f"<{type(self).__name__} {core.base_url} credentials={key}>"

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} is not picklable (it holds credentials)")

    @property
    def base_url(self) -> str:
        """The REST base URL the client talks to (no trailing slash)."""
        return self._core.base_url or ""

    @property
    def time_offset_ms(self) -> int:
        """Server time minus local time, as last measured (0 before the first signed call)."""
        return self._core.clock.offset_ms

    @property
    def server_time_ms(self) -> int:
        """The server's time now, as far as this client knows (local clock + offset)."""
        return self._core.server_ms()

    @property
    def used_weight(self) -> int:
        """Request weight used in the current server minute, as far as this client knows."""
        return self._core.gate.used

    @property
    def weight_limit(self) -> int:
        """The per-minute request weight the client keeps under (2400, or exchangeInfo's)."""
        return self._core.gate.limit
