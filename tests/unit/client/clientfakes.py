"""A scripted Aster for the client's unit tests: an ``httpx.MockTransport`` handler and a clock.

Time is a :class:`FakeTime` that the client reads (``now=``) and advances when it sleeps
(``sleep=`` / ``asleep``) and that the fake server advances by ``latency_s`` per request, so
every wait and every timestamp is exact.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from aster_account import AsyncClient, Client
from aster_account.protocol import signing

KEY = "k-3f9a6c1e"
SECRET = "s-77d2b0aa41e5"
BASE = "https://fapi.test"
START = 1_760_000_000.0  # seconds; a whole minute (1760000000 / 60 = 29333333.33...)

Reply = httpx.Response | Exception | Callable[[httpx.Request], Any]


@dataclass
class FakeTime:
    t: float = START
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    async def asleep(self, seconds: float) -> None:
        # Pauses of concurrent tasks overlap, as real ones do: the clock ends at the latest end.
        self.sleeps.append(seconds)
        end = self.t + seconds
        await asyncio.sleep(0)  # let other tasks run, as a real pause would
        self.t = max(self.t, end)


def ok(data: Any, *, used: int | None = None, status: int = 200) -> httpx.Response:
    headers = {"X-MBX-USED-WEIGHT-1M": str(used)} if used is not None else {}
    return httpx.Response(status, json=data, headers=headers)


def error(
    code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "msg": msg}, headers=headers or {})


@dataclass
class FakeAster:
    """Answers scripted replies per path, in order; ``/fapi/v1/time`` answers by itself.

    ``skew_ms`` is how far the server clock is ahead of the client's; ``latency_s`` is the time
    one round trip takes (half before the server reads its clock, half after).
    """

    time: FakeTime
    skew_ms: int = 0
    latency_s: float = 0.0
    requests: list[httpx.Request] = field(default_factory=list)
    scripts: dict[str, deque[Reply]] = field(default_factory=dict)
    defaults: dict[str, Reply] = field(default_factory=dict)

    def server_ms(self) -> int:
        return int(self.time.t * 1000) + self.skew_ms

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts.setdefault(path, deque()).extend(replies)

    def default(self, path: str, reply: Reply) -> None:
        self.defaults[path] = reply

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.time.t += self.latency_s / 2
        try:
            path = request.url.path
            queue = self.scripts.get(path)
            if queue:
                reply = queue.popleft()
            elif path in self.defaults:
                reply = self.defaults[path]
            elif path == "/fapi/v1/time":
                reply = ok({"serverTime": self.server_ms()})
            else:
                raise AssertionError(f"unexpected request {request.method} {request.url}")
            if isinstance(reply, Exception):
                raise reply
            if callable(reply):
                reply = reply(request)
                if isinstance(reply, Exception):
                    raise reply
            assert isinstance(reply, httpx.Response)
            return reply
        finally:
            self.time.t += self.latency_s / 2

    # -- what was sent -------------------------------------------------------------------------

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def params(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


def verify_signature(request: httpx.Request, secret: str = SECRET) -> bool:
    query, signature = signing.split_signature(request.url.query.decode())
    body, body_sig = signing.split_signature(request.content.decode())
    sig = signature or body_sig
    return sig is not None and signing.verify(secret, signing.total_params(query, body), sig)


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def make_client(fake: FakeAster, **kw: Any) -> Client:
    kw.setdefault("retry_backoff", 0.5)
    return Client(
        KEY,
        SECRET,
        BASE,
        transport=httpx.MockTransport(fake),
        now=fake.time.now,
        sleep=fake.time.sleep,
        **kw,
    )


def make_async_client(fake: FakeAster, **kw: Any) -> AsyncClient:
    """An AsyncClient whose requests each yield to the event loop once, as real I/O would."""

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return fake(request)

    kw.setdefault("retry_backoff", 0.5)
    return AsyncClient(
        KEY,
        SECRET,
        BASE,
        transport=httpx.MockTransport(handler),
        now=fake.time.now,
        sleep=fake.time.asleep,
        **kw,
    )


BALANCE_ROW = {
    "accountAlias": "SgsR",
    "asset": "USDT",
    "balance": "122607.35137903",
    "crossWalletBalance": "23.72469206",
    "crossUnPnl": "0.00000000",
    "availableBalance": "23.72469206",
    "maxWithdrawAmount": "23.72469206",
    "marginAvailable": True,
    "updateTime": "1617939110373",
}
