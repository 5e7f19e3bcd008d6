"""The real server for the client's e2e tests, and transports that break the connection on cue.

    AsterProcess      a `LocalServer` on a free loopback port over a SQLite file; `kill()`
                      (SIGKILL) and `start()` again on the same file and port
    Operator calls    create_account(...) -> Keys, clock offset, marks, account state
    Recorder          an httpx transport that forwards and records (path, status, code)
    running(tmp, ...) context manager: a started AsterProcess, stopped at the end

Each test module defines its own fixtures from `running(...)` (see test_client_sync.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import httpx
import orjson

from aster_account.testing import LocalServer

TOKEN = "operator-token-for-client-tests"


@dataclass(frozen=True)
class Keys:
    account_id: int
    api_key: str
    api_secret: str


class AsterProcess(LocalServer):
    """A `LocalServer` on `workdir/aster.db` whose `restart()` is a SIGKILL and a start."""

    def __init__(self, workdir: Path, weight_limit: int = 1_000_000) -> None:
        super().__init__(
            f"sqlite:///{workdir / 'aster.db'}",
            workdir=workdir,
            operator_token=TOKEN,
            args=["--weight-limit", str(weight_limit)],
            log_path=workdir / "server.log",
        )
        self.weight_limit = weight_limit

    def restart(self, *, graceful: bool = False) -> Self:
        """SIGKILL (the process dies mid-whatever; only committed data survives), then start."""
        return super().restart(graceful=graceful)

    # -- operator API --------------------------------------------------------------------------

    def create_account(  # type: ignore[override]
        self, futures: dict[str, str] | None = None, spot: dict[str, str] | None = None
    ) -> Keys:
        made = super().create_account(
            {"USDT": "10000"} if futures is None else futures,
            {"USDT": "1000"} if spot is None else spot,
        )
        return Keys(made["accountId"], made["apiKey"], made["apiSecret"])

    def state(self, account_id: int) -> dict[str, Any]:
        state: dict[str, Any] = self.operator("GET", f"accounts/{account_id}")
        return state

    def wallets(self, account_id: int, asset: str = "USDT") -> tuple[Decimal, Decimal]:
        """(futures, spot) balance of ``asset``."""
        state = self.state(account_id)
        return Decimal(state["futures"].get(asset, "0")), Decimal(state["spot"].get(asset, "0"))

    def set_clock_offset(self, offset_ms: int) -> int:
        """Shift the server clock; returns the server time after the shift."""
        server_time: int = self.operator("POST", "clock", {"offsetMs": offset_ms})["serverTime"]
        return server_time

    def set_mark(self, symbol: str, price: str) -> None:
        self.operator("POST", "markPrice", {"symbol": symbol, "markPrice": price})


def running(workdir: Path, **kw: Any) -> AsterProcess:
    """`with running(tmp) as server:` a started AsterProcess, stopped at the end."""
    return AsterProcess(workdir, **kw)


# -- transports ------------------------------------------------------------------------------


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    code: int | None


def _code(response: httpx.Response) -> int | None:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return data.get("code") if isinstance(data, dict) else None


class Recorder(httpx.BaseTransport):
    """Forwards to the real server and records what came back."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append(
            Exchange(request.method, request.url.path, response.status_code, _code(response))
        )
        return response

    def close(self) -> None:
        self.inner.close()

    def statuses(self) -> list[int]:
        return [e.status for e in self.exchanges]

    def codes(self) -> list[int | None]:
        return [e.code for e in self.exchanges]


class AsyncRecorder(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append(
            Exchange(request.method, request.url.path, response.status_code, _code(response))
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def statuses(self) -> list[int]:
        return [e.status for e in self.exchanges]

    def codes(self) -> list[int | None]:
        return [e.code for e in self.exchanges]
