"""What every part shares: the server process, databases, signed clients, the store read back.

    Server          `aster-account serve` on a free loopback port (an `aster_account.testing`
                    `LocalServer`); start / kill (SIGKILL) / stop, its RSS and its log
    Http            an httpx client for one server (optionally bound to another loopback address):
                    raw requests with an exact query and body, signed requests, the operator API
    Key             an account id with its API key and secret
    StoreReader     plain SQL on the server's database (SQLite file or PostgreSQL schema), for the
                    checks that must see the ledger itself
    databases       sqlite_url(dir), pg_available(), pg_schema() (a fresh schema, dropped after)

Servers are driven as a client would drive them: over HTTP, and by signals.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import ssl
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from aster_account.protocol import signing
from aster_account.testing import LocalServer
from aster_account.testing import pg_schema as _fresh_schema

PG_URL = os.environ.get("ASTER_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")
FORM = "application/x-www-form-urlencoded"
# Servers that are not testing the weight limit must never throttle the harness.
ROOMY_WEIGHT_LIMIT = 1_000_000_000

Params = Mapping[str, object] | Iterable[tuple[str, object]]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def say(message: str) -> None:
    """Progress, on stderr: stdout carries only the figures."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pairs(params: Params | None) -> list[tuple[str, object]]:
    if params is None:
        return []
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))
    return float(ordered[int(rank) - 1])


# -- the server process ----------------------------------------------------------------------------


class Server(LocalServer):
    """One `aster-account serve` process (a `LocalServer`). `kill()` then `start()` restarts it
    on the same port and database; its output over every start accumulates in one log file in
    `workdir`."""

    def __init__(
        self,
        db: str,
        workdir: Path,
        weight_limit: int = ROOMY_WEIGHT_LIMIT,
        log_level: str = "info",
        demo: bool = False,
        umask: int | None = None,  # the child's umask (None: ours)
    ) -> None:
        super().__init__(
            db,
            workdir=workdir,
            args=["--weight-limit", str(weight_limit)],
            log_level=log_level,
            demo=demo,
            umask=umask,
        )
        self.weight_limit = weight_limit

    @property
    def token(self) -> str:
        return self.operator_token

    def rss_kb(self) -> int:
        """Resident memory of the server process (VmRSS), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        """Everything the server wrote, stdout and stderr, over all its starts."""
        return self.log_text()


# -- clients ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    account_id: int
    api_key: str
    secret: str = field(repr=False)


def normalized_query(query: str) -> str:
    """The query exactly as httpx will put it on the wire (it may quote a few characters), so
    that a signature computed over it is over the bytes the server receives."""
    if not query:
        return ""
    return httpx.URL("http://h/p?" + query).query.decode("ascii")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class Http:
    """A client of one server. Every response is counted by status in `statuses`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        local_address: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        # one TLS context for every client (plain HTTP needs none, but httpx builds one per
        # client unless given, which costs tens of milliseconds)
        tls = _tls_context()
        transport = (
            httpx.HTTPTransport(local_address=local_address, verify=tls) if local_address else None
        )
        self.http = httpx.Client(
            base_url=base_url, timeout=timeout, transport=transport, verify=tls
        )
        self.token = token
        self.statuses: dict[int, int] = {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def raw(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send exactly this (already encoded) query string and body."""
        url = f"{path}?{query}" if query else path
        all_headers = dict(headers or {})
        content = body.encode() if isinstance(body, str) else body
        if content:
            all_headers.setdefault("Content-Type", FORM)
        r = self.http.request(method, url, content=content, headers=all_headers)
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        return r

    def signed(
        self,
        key: Key,
        method: str,
        path: str,
        params: Params | None = None,
        *,
        where: str | None = None,
        timestamp: int | None = None,
        recv_window: int | None = None,
    ) -> httpx.Response:
        """A correctly signed request: params (then recvWindow, timestamp) in the query for GET and
        in the body otherwise, unless `where` says; signature = HMAC(secret, query + body)."""
        items = pairs(params)
        if recv_window is not None:
            items.append(("recvWindow", recv_window))
        items.append(("timestamp", timestamp if timestamp is not None else now_ms()))
        place = where or ("query" if method == "GET" else "body")
        text = signing.encode_params(items)
        headers = {"X-MBX-APIKEY": key.api_key}
        if place == "query":
            query = normalized_query(text)
            sig = signing.sign(key.secret, query)
            return self.raw(method, path, query=f"{query}&signature={sig}", headers=headers)
        sig = signing.sign(key.secret, text)
        return self.raw(method, path, body=f"{text}&signature={sig}", headers=headers)

    def operator(self, method: str, path: str, body: Any = None) -> httpx.Response:
        r = self.http.request(method, path, json=body, headers={"X-Operator-Token": self.token})
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        return r

    def operator_ok(self, method: str, path: str, body: Any = None) -> Any:
        r = self.operator(method, path, body)
        if r.status_code != 200:
            raise RuntimeError(f"operator {method} {path} -> {r.status_code} {r.text}")
        return r.json()

    def create_account(
        self,
        futures: Mapping[str, object] | None = None,
        spot: Mapping[str, object] | None = None,
        permissions: Iterable[str] | None = None,
    ) -> Key:
        body: dict[str, Any] = {}
        if futures:
            body["futures"] = {k: str(v) for k, v in futures.items()}
        if spot:
            body["spot"] = {k: str(v) for k, v in spot.items()}
        if permissions is not None:
            body["permissions"] = list(permissions)
        made = self.operator_ok("POST", "/operator/v1/accounts", body)
        return Key(made["accountId"], made["apiKey"], made["apiSecret"])

    def state(self, account_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.operator_ok("GET", f"/operator/v1/accounts/{account_id}")
        return result

    def set_mark(self, symbol: str, price: object) -> None:
        self.operator_ok(
            "POST", "/operator/v1/markPrice", {"symbol": symbol, "markPrice": str(price)}
        )

    def ok(self, key: Key, method: str, path: str, params: Params | None = None) -> Any:
        r = self.signed(key, method, path, params)
        if r.status_code != 200:
            raise RuntimeError(f"{method} {path} -> {r.status_code} {r.text}")
        return r.json()

    def open_isolated(
        self, key: Key, symbol: str, quantity: str, *, leverage: int = 10, add: str | None = None
    ) -> None:
        """An isolated long position on `symbol` (filled at the mark), with `add` margin added."""
        self.ok(key, "POST", "/fapi/v1/marginType", {"symbol": symbol, "marginType": "ISOLATED"})
        self.ok(key, "POST", "/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage})
        self.ok(
            key,
            "POST",
            "/fapi/v1/order",
            {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": quantity},
        )
        if add is not None:
            self.ok(
                key,
                "POST",
                "/fapi/v1/positionMargin",
                {"symbol": symbol, "type": 1, "amount": add},
            )


def error_shape(r: httpx.Response) -> str | None:
    """Why an error response is not Aster's `{"code": int, "msg": str}`, or None when it is."""
    try:
        body = r.json()
    except ValueError:
        return f"not JSON: {r.text[:80]!r}"
    if not isinstance(body, dict) or set(body) != {"code", "msg"}:
        return f"not {{code, msg}}: {r.text[:80]!r}"
    if isinstance(body["code"], bool) or not isinstance(body["code"], int):
        return f"code is not an integer: {r.text[:80]!r}"
    if not isinstance(body["msg"], str) or not body["msg"]:
        return f"msg is not a text: {r.text[:80]!r}"
    return None


# -- databases -------------------------------------------------------------------------------------


def sqlite_url(directory: Path, name: str = "aster.db") -> str:
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory.resolve() / name}"


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not (without user or password)."""
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        parts = urlsplit(PG_URL)
        return f"PostgreSQL unreachable at {parts.hostname}:{parts.port or 5432}{parts.path}: {exc}"
    return None


@contextlib.contextmanager
def pg_schema(prefix: str = "reliability") -> Iterator[str]:
    """A database URL whose connections live in a fresh schema, dropped afterwards."""
    with _fresh_schema(PG_URL, prefix) as url:
        yield url


class StoreReader:
    """Read-only SQL on a server's database, `?` placeholders on both backends."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None
        if db_url.startswith("sqlite:///"):
            self._sqlite = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=30)
        else:
            import psycopg

            self._pg = psycopg.connect(db_url, autocommit=True)

    def rows(self, query: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return [tuple(r) for r in self._sqlite.execute(query, params).fetchall()]
        with self._pg.cursor() as cur:
            cur.execute(query.replace("?", "%s"), params)
            return [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            self._pg.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Part:
    """What a part hands back: its figures and the checks that failed (empty when all held)."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, failure: str) -> bool:
        if not ok:
            self.failures.append(failure)
        return ok
