"""The real server, over real HTTP: `aster-account serve` as a subprocess on a loopback port.

Every e2e module gets its own server per backend (module scope, so a module pays the start once):
SQLite always, on a fresh file; PostgreSQL on a fresh schema that is dropped at the end. The
PostgreSQL cases are skipped only when the database cannot be reached and `CI` is not set; under
CI they fail instead. Tests stay independent by making their own accounts through the operator API
and by setting the marks they rely on.

    server              the running `Server` (a `LocalServer`: base_url, operator_token, db, kill)
    operator            `Operator`: create_account(futures=, spot=, permissions=) -> Trader,
                        state(id), deposit, disable_key, set_mark, funding, shifted_clock
    start_server(...)   factory for an extra server in the same module (weight limit, database)
    connect(srv, ...)   an `Operator` for another server, optionally from another local address
    new_database()      factory for another fresh database URL of the module's backend

A `Trader` is one account and its API key. `trader.send(method, path, ...)` builds the request as
a client would (key header, timestamp, `signed_query`), with the parameters in the query string,
in the body, or split between the two as the test chooses; `trader.ok(...)` also asserts 200.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from aster_account.protocol import catalog, signing
from aster_account.testing import LocalServer, pg_schema

PG_URL = os.environ.get("ASTER_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")
# The module servers must not throttle the suites; test_weights starts its own small-limit server.
ROOMY_WEIGHT_LIMIT = 1_000_000
FORM = "application/x-www-form-urlencoded"

Params = Mapping[str, object] | Iterable[tuple[str, object]]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _pairs(params: Params | None) -> list[tuple[str, object]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# -- the server process --------------------------------------------------------------------------


class Server(LocalServer):
    """One `aster-account serve` process; `kill()` + `start()` restarts it on the same database."""

    def __init__(self, db: str, workdir: Path, weight_limit: int = ROOMY_WEIGHT_LIMIT) -> None:
        super().__init__(db, workdir=workdir, args=["--weight-limit", str(weight_limit)])
        self.weight_limit = weight_limit


# -- clients -------------------------------------------------------------------------------------


class Api:
    """A bare HTTP client for the server (optionally bound to another loopback address)."""

    def __init__(self, base_url: str, *, local_address: str | None = None) -> None:
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx.Client(base_url=base_url, timeout=15.0, transport=transport)

    def close(self) -> None:
        self.http.close()

    def raw(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send exactly this query string and body (already encoded)."""
        url = f"{path}?{query}" if query else path
        all_headers = dict(headers or {})
        if body:
            all_headers.setdefault("Content-Type", FORM)
        return self.http.request(method, url, content=body.encode(), headers=all_headers)

    def get(self, path: str, **params: object) -> httpx.Response:
        return self.raw("GET", path, query=signing.encode_params(params.items()))


def _signed_default(method: str, path: str) -> bool:
    ep = catalog.BY_ROUTE.get((method, path))
    return ep.signed if ep is not None else True


class Trader:
    """One account and its API key, sending requests the way a client does."""

    def __init__(self, api: Api, account_id: int, api_key: str, secret: str) -> None:
        self.api = api
        self.account_id = account_id
        self.api_key = api_key
        self.secret = secret
        # added to the local clock for default timestamps while the server clock is shifted
        self.clock_offset_ms = 0

    def send(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        *,
        body: Params | None = None,
        where: str | None = None,
        signed: bool | None = None,
        timestamp: int | None = None,
        add_timestamp: bool = True,
        api_key: str | None = None,
        send_key: bool = True,
        secret: str | None = None,
        signature_case: Callable[[str], str] = str,
    ) -> httpx.Response:
        """`params` go to the query string for GET and to the body otherwise (or to `where`:
        "query" / "body"); `body` adds parameters to the body on top of a query string: the
        docs' example 3. Signed requests get `timestamp` (now unless given) appended to the last
        part (unless the params carry one) and `signature` = HMAC(secret, query + body) appended
        after it."""
        pairs = _pairs(params)
        extra_body = _pairs(body)
        place = where or ("query" if method == "GET" else "body")
        query_pairs, body_pairs = (pairs, extra_body) if place == "query" else ([], pairs)
        if place == "body":
            body_pairs = [*pairs, *extra_body]
        if signed is None:
            signed = _signed_default(method, path)
        headers = {}
        if send_key:
            headers["X-MBX-APIKEY"] = api_key if api_key is not None else self.api_key
        if signed:
            sent = {name for name, _ in (*query_pairs, *body_pairs)}
            if add_timestamp and "timestamp" not in sent:
                default = now_ms() + self.clock_offset_ms
                ts = ("timestamp", timestamp if timestamp is not None else default)
                (body_pairs if body_pairs else query_pairs).append(ts)
            key = secret if secret is not None else self.secret
            if body_pairs:
                query = signing.encode_params(query_pairs)
                unsigned_body = signing.encode_params(body_pairs)
                signature = signature_case(signing.sign(key, query + unsigned_body))
                body_text = f"{unsigned_body}&signature={signature}"
            else:
                query = signing.signed_query(query_pairs, key)
                if signature_case is not str:
                    rest, sig = signing.split_signature(query)
                    query = f"{rest}&signature={signature_case(sig or '')}"
                body_text = ""
        else:
            query = signing.encode_params(query_pairs)
            body_text = signing.encode_params(body_pairs)
        return self.api.raw(method, path, query=query, body=body_text, headers=headers)

    def via(self, api: Api) -> Trader:
        """The same key sent through another client (e.g. bound to another local address)."""
        return Trader(api, self.account_id, self.api_key, self.secret)

    def ok(self, method: str, path: str, params: Params | None = None, **kw: Any) -> Any:
        """`send` and assert a 200; the parsed JSON."""
        r = self.send(method, path, params, **kw)
        assert r.status_code == 200, f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()

    def get(self, path: str, **params: object) -> Any:
        return self.ok("GET", path, params)

    def post(self, path: str, **params: object) -> Any:
        return self.ok("POST", path, params)


class Operator:
    """The operator API (see `aster_account.server.operator`)."""

    def __init__(self, server: Server, api: Api) -> None:
        self.server = server
        self.api = api

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        r = self.api.http.request(
            method, path, json=body, headers={"X-Operator-Token": self.server.operator_token}
        )
        assert r.status_code == 200, f"operator {method} {path} -> {r.status_code} {r.text}"
        return r.json()

    def create_account(
        self,
        futures: Mapping[str, object] | None = None,
        spot: Mapping[str, object] | None = None,
        permissions: Iterable[str] | None = None,
    ) -> Trader:
        made = self.server.create_account(futures, spot, permissions=permissions)
        return Trader(self.api, made["accountId"], made["apiKey"], made["apiSecret"])

    def state(self, account_id: int) -> dict[str, Any]:
        """The account's full stored state."""
        result: dict[str, Any] = self._call("GET", f"/operator/v1/accounts/{account_id}")
        return result

    def deposit(
        self, account_id: int, amount: object, asset: str = "USDT", wallet: str = "FUTURES"
    ):
        return self._call(
            "POST",
            "/operator/v1/deposit",
            {"accountId": account_id, "asset": asset, "amount": str(amount), "wallet": wallet},
        )

    def disable_key(self, api_key: str) -> Any:
        return self._call("POST", "/operator/v1/keys/disable", {"apiKey": api_key})

    def set_mark(self, symbol: str, price: object, **extra: object) -> Any:
        body: dict[str, Any] = {"symbol": symbol, "markPrice": str(price)}
        body.update({k: str(v) for k, v in extra.items()})
        return self._call("POST", "/operator/v1/markPrice", body)

    def funding(self, symbol: str | None = None) -> Any:
        return self._call("POST", "/operator/v1/funding", {"symbol": symbol} if symbol else {})

    @contextlib.contextmanager
    def shifted_clock(self, offset_ms: int, *traders: Trader) -> Iterator[None]:
        """Run the block with the server clock `offset_ms` ahead (the traders sign with the same
        offset); the clock is set back afterwards, whatever happens."""
        self._call("POST", "/operator/v1/clock", {"offsetMs": offset_ms})
        for t in traders:
            t.clock_offset_ms = offset_ms
        try:
            yield
        finally:
            self._call("POST", "/operator/v1/clock", {"offsetMs": 0})
            for t in traders:
                t.clock_offset_ms = 0


# -- databases -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        parts = urlsplit(PG_URL)  # neither user nor password in the message
        where = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
        reason = f"PostgreSQL unreachable at {where} (set ASTER_TEST_PG_URL): {exc}"
        if _in_ci():
            pytest.fail(f"CI must run the PostgreSQL e2e tests: {reason}")
        pytest.skip(reason)
    return PG_URL


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def new_database(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], str]]:
    """Fresh database URLs of the module's backend; PostgreSQL schemas are dropped at the end."""
    admin = request.getfixturevalue("pg_server_url") if backend == "postgres" else ""
    with contextlib.ExitStack() as schemas:

        def make() -> str:
            if backend == "sqlite":
                directory = tmp_path_factory.mktemp("e2e-db")
                return f"sqlite:///{directory}/aster.db"
            return schemas.enter_context(pg_schema(admin, "e2e"))

        yield make


@pytest.fixture(scope="module")
def start_server(
    new_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Server]]:
    """Start extra servers (stopped at the end of the module): `start_server(weight_limit=50)`."""
    started: list[Server] = []

    def start(*, weight_limit: int = ROOMY_WEIGHT_LIMIT, db: str | None = None) -> Server:
        srv = Server(
            db=db or new_database(),
            workdir=tmp_path_factory.mktemp("e2e-server"),
            weight_limit=weight_limit,
        )
        started.append(srv)
        srv.start()
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    client = Api(server.base_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def operator(server: Server, api: Api) -> Operator:
    return Operator(server, api)


@pytest.fixture(scope="module")
def connect() -> Iterator[Callable[..., Operator]]:
    """`connect(server, local_address=None)`: an `Operator` (and through it traders) whose client
    talks to `server`, optionally from another loopback address."""
    opened: list[Api] = []

    def make(server: Server, *, local_address: str | None = None) -> Operator:
        client = Api(server.base_url, local_address=local_address)
        opened.append(client)
        return Operator(server, client)

    yield make
    for client in opened:
        client.close()
