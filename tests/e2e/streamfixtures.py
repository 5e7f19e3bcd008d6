"""Helpers for the user-data-stream e2e tests: a real server process, async REST clients and a
websocket reader (the `websockets` library) over loopback.

    StreamServer(db, workdir).start()            `aster-account serve` (the CLI) as a subprocess
    StreamServer(db, workdir, config={...})      `server.main.serve(ServerConfig(...))` as a
                                                 subprocess, for settings the CLI has no option for
    Operator(server)                             accounts, deposits, marks, funding, clock
    Trader                                       one account: signed REST, listen keys, streams
    Stream                                       one websocket: next event, no event, close code

Insurance fund, test-only: the fund lives in the store's meta key `insurance_fund:USDT` (default
1000000); `set_insurance_fund` writes that key in the server's database directly, from the test
process. No server API sets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from aster_account import testing
from aster_account.protocol import signing
from aster_account.store import open_store
from aster_account.testing import LocalServer

PG_URL = os.environ.get("ASTER_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")
WEIGHT_LIMIT = 1_000_000
EVENT_TIMEOUT_S = 10.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# -- server --------------------------------------------------------------------------------------


class StreamServer(LocalServer):
    """A `LocalServer` in `workdir` on `db` that never throttles; `config` runs it from
    `ServerConfig` fields instead of the command line."""

    def __init__(self, db: str, workdir: Path, config: dict[str, Any] | None = None) -> None:
        super().__init__(
            db,
            workdir=workdir,
            args=["--weight-limit", str(WEIGHT_LIMIT)] if config is None else (),
            config=None if config is None else {"weight_limit": WEIGHT_LIMIT, **config},
            stop_timeout=15.0,
        )
        self.clock_offset_ms = 0

    def set_insurance_fund(self, amount: str, asset: str = "USDT") -> None:
        """Test-only: write the fund's meta key in the server's database (see module doc)."""
        store = open_store(self.db)
        try:
            store.set_meta(f"insurance_fund:{asset}", amount)
        finally:
            store.close()


def pg_or_skip() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL unreachable (set ASTER_TEST_PG_URL): {type(exc).__name__}"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL stream tests: {reason}")
        pytest.skip(reason)
    return PG_URL


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A database URL whose connections live in a fresh schema, dropped afterwards."""
    with testing.pg_schema(pg_or_skip(), "stream") as url:
        yield url


# -- REST ----------------------------------------------------------------------------------------


class Operator:
    def __init__(self, server: StreamServer, http: httpx.AsyncClient) -> None:
        self.server = server
        self.http = http

    async def call(self, path: str, body: Mapping[str, Any]) -> Any:
        r = await self.http.post(
            f"{self.server.base_url}{path}",
            json=dict(body),
            headers={"X-Operator-Token": self.server.operator_token},
        )
        assert r.status_code == 200, f"operator {path} -> {r.status_code} {r.text}"
        return r.json()

    async def create_account(
        self, futures: str = "1000", spot: str | None = None, **kw: Any
    ) -> Trader:
        body: dict[str, Any] = {"futures": {"USDT": futures}}
        if spot is not None:
            body["spot"] = {"USDT": spot}
        made = await self.call("/operator/v1/accounts", body)
        return Trader(self.server, self.http, made["accountId"], made["apiKey"], made["apiSecret"])

    async def deposit(self, account_id: int, amount: str) -> Any:
        return await self.call(
            "/operator/v1/deposit",
            {"accountId": account_id, "asset": "USDT", "amount": amount, "wallet": "FUTURES"},
        )

    async def set_mark(self, symbol: str, price: str, **extra: str) -> Any:
        return await self.call(
            "/operator/v1/markPrice", {"symbol": symbol, "markPrice": price, **extra}
        )

    async def shift_clock(self, offset_ms: int) -> Any:
        """The server's clock becomes real time + offset_ms (signed requests follow it)."""
        self.server.clock_offset_ms = offset_ms
        return await self.call("/operator/v1/clock", {"offsetMs": offset_ms})

    async def premium_index(self, symbol: str) -> Any:
        r = await self.http.get(
            f"{self.server.base_url}/fapi/v1/premiumIndex", params={"symbol": symbol}
        )
        assert r.status_code == 200, r.text
        return r.json()


class Trader:
    def __init__(
        self, server: StreamServer, http: httpx.AsyncClient, account_id: int, key: str, secret: str
    ) -> None:
        self.server = server
        self.http = http
        self.account_id = account_id
        self.key = key
        self.secret = secret

    async def signed(self, method: str, path: str, **params: object) -> Any:
        pairs = [*params.items(), ("timestamp", now_ms() + self.server.clock_offset_ms)]
        query = signing.signed_query(pairs, self.secret)
        r = await self.http.request(
            method,
            f"{self.server.base_url}{path}?{query}",
            headers={"X-MBX-APIKEY": self.key},
        )
        assert r.status_code == 200, f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()

    async def key_call(self, method: str) -> httpx.Response:
        return await self.http.request(
            method, f"{self.server.base_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": self.key}
        )

    async def listen_key(self) -> str:
        r = await self.key_call("POST")
        assert r.status_code == 200, r.text
        return str(r.json()["listenKey"])

    async def stream(self, *, combined: bool = False, server: StreamServer | None = None) -> Stream:
        key = await self.listen_key()
        return await Stream.open(server or self.server, key, combined=combined)


# -- websocket -----------------------------------------------------------------------------------


class Stream:
    opened: ClassVar[list[Stream]] = []
    """Every stream a test opened; `close_all` (from a fixture) closes them."""

    def __init__(self, ws: ClientConnection, key: str, combined: bool) -> None:
        self.ws = ws
        self.key = key
        self.combined = combined
        Stream.opened.append(self)

    @classmethod
    async def close_all(cls) -> None:
        streams, cls.opened = cls.opened, []
        for stream in streams:
            await stream.close()

    @classmethod
    async def open(cls, server: StreamServer, key: str, *, combined: bool = False) -> Stream:
        path = f"/stream?streams={key}" if combined else f"/ws/{key}"
        ws = await websockets.connect(server.ws_url + path, open_timeout=10)
        return cls(ws, key, combined)

    async def raw(self, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        text = await asyncio.wait_for(self.ws.recv(), timeout)
        data: dict[str, Any] = orjson.loads(text)
        return data

    async def next(self, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        """The next event (unwrapped from the combined envelope, which is checked)."""
        data = await self.raw(timeout)
        if self.combined:
            assert set(data) == {"stream", "data"}, data
            assert data["stream"] == self.key
            inner: dict[str, Any] = data["data"]
            return inner
        return data

    async def until(
        self, event_type: str, reason: str | None = None, timeout: float = EVENT_TIMEOUT_S
    ) -> dict[str, Any]:
        """The next event of this type (and ACCOUNT_UPDATE reason), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            event = await self.next(max(0.01, deadline - time.monotonic()))
            if event["e"] == event_type and (reason is None or event["a"]["m"] == reason):
                return event

    async def nothing(self, seconds: float) -> None:
        """Assert that no event arrives for `seconds`."""
        with contextlib.suppress(TimeoutError):
            event = await self.raw(seconds)
            raise AssertionError(f"unexpected event: {event}")

    async def closed(self, timeout: float = EVENT_TIMEOUT_S) -> tuple[int | None, str]:
        """Read until the server closes; (code, reason) it closed with."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        rcvd = self.ws.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd is not None else (None, "")

    async def close(self) -> None:
        await self.ws.close()
