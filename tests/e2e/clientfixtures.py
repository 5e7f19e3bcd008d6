"""The real server for the client's e2e tests, and transports that break the connection on cue.

    AsterProcess      `python -m aster_account.cli serve` on a free loopback port over a SQLite
                      file; `kill()` (SIGKILL) and `start()` again on the same file and port
    Operator calls    create_account(...) -> Keys, clock offset, marks, account state
    Recorder          an httpx transport that forwards and records (path, status, code)
    running(tmp, ...) context manager: a started AsterProcess, stopped at the end

Each test module defines its own fixtures from `running(...)` (see test_client_sync.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

TOKEN = "operator-token-for-client-tests"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Keys:
    account_id: int
    api_key: str
    api_secret: str


@dataclass
class AsterProcess:
    workdir: Path
    weight_limit: int = 1_000_000
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.workdir / 'aster.db'}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "aster_account.cli",
            "serve",
            "--port",
            str(self.port),
            "--db",
            self.db_url,
            "--operator-token",
            TOKEN,
            "--no-demo",
            "--weight-limit",
            str(self.weight_limit),
            "--log-level",
            "warning",
        ]
        with (self.workdir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/fapi/v1/ping", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"server not ready in {READY_TIMEOUT_S}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: the process dies mid-whatever; only committed data survives."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # -- operator API --------------------------------------------------------------------------

    def operator(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(
            method,
            f"{self.base_url}/operator/v1/{path}",
            headers={"X-Operator-Token": TOKEN},
            content=orjson.dumps(body) if body is not None else None,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def create_account(
        self, futures: dict[str, str] | None = None, spot: dict[str, str] | None = None
    ) -> Keys:
        made = self.operator(
            "POST",
            "accounts",
            {
                "futures": {"USDT": "10000"} if futures is None else futures,
                "spot": {"USDT": "1000"} if spot is None else spot,
            },
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


@contextlib.contextmanager
def running(workdir: Path, **kw: Any) -> Iterator[AsterProcess]:
    server = AsterProcess(workdir, **kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
