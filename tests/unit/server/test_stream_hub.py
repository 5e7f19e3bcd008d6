"""The stream hub, the PostgreSQL fan-out and the risk loop, in process.

The hub is driven directly (connections without sockets, a fake slow websocket) and through the
app (Starlette's TestClient runs the lifespan); the fan-out is checked offline (how a message is
cut and put together) and against the PostgreSQL at ASTER_TEST_PG_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import uvicorn
import websockets

from aster_account.engine.market import Market
from aster_account.protocol import signing
from aster_account.protocol.enums import AccountUpdateReason
from aster_account.protocol.models import (
    AccountConfigUpdate,
    AccountUpdate,
    AccountUpdateData,
    BalanceUpdate,
    LeverageConfig,
)
from aster_account.protocol.wire import to_wire
from aster_account.server import riskloop, stream
from aster_account.server.main import START_MARKS, ServerConfig, build
from aster_account.server.service import Service
from aster_account.store import ListenKeyRow, open_store
from aster_account.store.base import Store
from aster_account.testing import pg_schema

PG_URL = os.environ.get("ASTER_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")
T0 = 1_700_000_000_000


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/hub.db")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(store: Store, clock: FakeClock) -> Service:
    svc = Service(store=store, market=Market.load(None), clock=clock)
    svc.ensure_marks(dict(START_MARKS))
    return svc


def leverage_event(leverage: int, at: int = T0) -> AccountConfigUpdate:
    return AccountConfigUpdate(
        event_time=at,
        transaction_time=at,
        leverage=LeverageConfig(symbol="BTCUSDT", leverage=leverage),
    )


def deposit_event(at: int = T0) -> AccountUpdate:
    return AccountUpdate(
        event_time=at,
        transaction_time=at,
        update=AccountUpdateData(
            reason=AccountUpdateReason.DEPOSIT,
            balances=[
                BalanceUpdate(
                    asset="USDT",
                    wallet_balance=Decimal("10"),
                    cross_wallet_balance=Decimal("10"),
                    balance_change=Decimal("10"),
                )
            ],
            positions=[],
        ),
    )


def row(key: str, account_id: int, expires_ms: int = T0 + 3_600_000) -> ListenKeyRow:
    return ListenKeyRow(key, account_id, expires_ms)


def frames(conn: stream.Connection) -> list[Any]:
    out = []
    while not conn.queue.empty():
        item = conn.queue.get_nowait()
        out.append(None if item is None else orjson.loads(item))
    return out


async def hub_with(
    service: Service, *rows: ListenKeyRow, combined: bool = False, queue_size: int = 100
) -> tuple[stream.StreamHub, stream.Connection]:
    hub = stream.StreamHub(service, queue_size=queue_size)
    await hub.start()
    conn = stream.Connection(combined=combined, opened_ms=service.clock(), queue_size=queue_size)
    hub.register(conn, list(rows))
    return hub, conn


# -- delivery ------------------------------------------------------------------------------------


def test_render_is_the_wire_json_of_each_event() -> None:
    events = [leverage_event(5), deposit_event()]
    assert [orjson.loads(t) for t in stream.render(events)] == [to_wire(e) for e in events]


async def test_events_reach_the_connections_of_their_account_only(service: Service) -> None:
    hub, mine = await hub_with(service, row("k1", 1))
    other = stream.Connection(combined=False, opened_ms=T0)
    hub.register(other, [row("k2", 2)])

    hub.publish(1, [leverage_event(5), deposit_event()])

    assert frames(mine) == [to_wire(leverage_event(5)), to_wire(deposit_event())]
    assert frames(other) == []


async def test_combined_connections_get_the_envelope(service: Service) -> None:
    hub, conn = await hub_with(service, row("k1", 1), combined=True)

    hub.publish(1, [leverage_event(5)])

    assert frames(conn) == [{"stream": "k1", "data": to_wire(leverage_event(5))}]


async def test_publish_from_a_worker_thread_hops_onto_the_loop(service: Service) -> None:
    hub, conn = await hub_with(service, row("k1", 1))
    seen_on: list[int] = []
    deliver = hub._deliver

    def spy(account_id: int, texts: Any) -> None:
        seen_on.append(threading.get_ident())
        deliver(account_id, texts)

    hub._deliver = spy  # type: ignore[method-assign]

    await asyncio.to_thread(hub.publish, 1, [leverage_event(6)])
    await asyncio.sleep(0.01)

    assert seen_on == [threading.get_ident()]
    assert frames(conn) == [to_wire(leverage_event(6))]


async def test_publish_never_raises_into_the_service(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    hub, _ = await hub_with(service, row("k1", 1))

    hub.publish(1, [object()])  # not a model: cannot be rendered

    assert "not published" in caplog.text


def test_publish_before_the_hub_runs_is_a_no_op(service: Service) -> None:
    hub = stream.StreamHub(service)
    hub.publish(1, [leverage_event(5)])  # nothing to deliver to, nothing raised


async def test_a_full_queue_closes_that_connection_only(service: Service) -> None:
    hub, small = await hub_with(service, row("k1", 1), queue_size=2)
    roomy = stream.Connection(combined=False, opened_ms=T0, queue_size=100)
    hub.register(roomy, [row("k1b", 1)])

    hub.publish(1, [leverage_event(n) for n in range(1, 4)])

    assert small.aborted.is_set()
    assert small.close_code == stream.CLOSE_POLICY
    assert len(frames(roomy)) == 3 and not roomy.aborted.is_set()


class StuckWebSocket:
    """A client that never reads: every send waits forever."""

    def __init__(self) -> None:
        self.sent = 0
        self.never = asyncio.Event()

    async def send(self, message: Any) -> None:
        self.sent += 1
        await self.never.wait()

    async def receive(self) -> Any:
        await self.never.wait()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self.never.wait()


async def test_a_stuck_consumer_never_blocks_delivery(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "CLOSE_TIMEOUT_S", 0.1)
    hub, stuck = await hub_with(service, row("k1", 1), queue_size=50)
    healthy = stream.Connection(combined=False, opened_ms=T0, queue_size=5000)
    hub.register(healthy, [row("k2", 1)])
    ws = StuckWebSocket()
    pump = asyncio.create_task(hub._pump(ws, stuck))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)

    started = time.perf_counter()
    for n in range(1000):
        hub.publish(1, [leverage_event(n % 100 + 1)])
    spent = time.perf_counter() - started
    await asyncio.wait_for(pump, 2)

    assert spent < 1.0  # 1000 publishes, none of them waited for the stuck socket
    assert ws.sent == 1  # the one frame it is stuck on
    assert stuck.close_code == stream.CLOSE_POLICY
    assert healthy.queue.qsize() == 1000 and not healthy.aborted.is_set()


# -- listenKey life ------------------------------------------------------------------------------


async def test_expiry_pushes_listen_key_expired_then_stops(
    service: Service, store: Store, clock: FakeClock
) -> None:
    service.create_account()  # account 1
    store.put_listen_key(1, "k1", T0 + 1000)
    hub, conn = await hub_with(service, row("k1", 1, T0 + 1000))

    clock.now = T0 + 1000
    await hub.sweep()
    hub.publish(1, [leverage_event(5)])

    assert frames(conn) == [{"e": "listenKeyExpired", "E": T0 + 1000}]
    assert not conn.ending  # the connection stays; it just gets nothing more


async def test_a_keepalive_seen_in_the_store_keeps_the_key(
    service: Service, store: Store, clock: FakeClock
) -> None:
    service.create_account()
    store.put_listen_key(1, "k1", T0 + 1000)
    hub, conn = await hub_with(service, row("k1", 1, T0 + 1000))
    store.put_listen_key(1, "k1", T0 + 5000)  # PUT, perhaps in another process

    clock.now = T0 + 2000
    await hub.sweep()
    hub.publish(1, [leverage_event(5)])
    clock.now = T0 + 5000
    await hub.sweep()

    assert frames(conn) == [to_wire(leverage_event(5)), {"e": "listenKeyExpired", "E": T0 + 5000}]


async def test_close_of_a_key_finishes_its_connections(service: Service) -> None:
    hub, conn = await hub_with(service, row("k1", 1))
    hub.publish(1, [leverage_event(5)])

    hub.key_closed("k1")

    assert frames(conn) == [to_wire(leverage_event(5)), None]  # what was sent, then the end
    assert (conn.close_code, conn.close_reason) == (1000, "listenKey closed")


async def test_connections_close_at_their_maximum_age(
    service: Service, store: Store, clock: FakeClock
) -> None:
    service.create_account()
    store.put_listen_key(1, "k1", T0 + 10**9)
    hub = stream.StreamHub(service, max_age_ms=86_400_000)
    await hub.start()
    conn = stream.Connection(combined=False, opened_ms=T0)
    hub.register(conn, [row("k1", 1, T0 + 10**9)])

    clock.now = T0 + 86_399_999
    await hub.sweep()
    assert not conn.ending
    clock.now = T0 + 86_400_000
    await hub.sweep()

    assert (conn.close_code, conn.close_reason) == (1000, "connection lifetime reached")


async def test_unregister_forgets_everything(service: Service) -> None:
    hub, conn = await hub_with(service, row("k1", 1), row("k2", 2))

    hub.unregister(conn)

    assert hub.connections == 0
    assert hub._accounts == {} and hub._keys == {} and hub._expires == {}


# -- through the app (lifespan, routes, handlers) ------------------------------------------------


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The app under uvicorn in this event loop, on a free loopback port (lifespan included)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, log_level="warning", ws="websockets-sansio", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_the_app_streams_a_rest_change_and_stops_cleanly(tmp_path: Path) -> None:
    app, service = build(ServerConfig(db=f"sqlite:///{tmp_path}/app.db", operator_token="T"))
    _, api_key, secret = service.create_account(futures={"USDT": Decimal(100)})
    headers = {"X-MBX-APIKEY": api_key}
    async with serving(app) as where, httpx.AsyncClient(base_url=f"http://{where}") as http:
        key = (await http.post("/fapi/v1/listenKey", headers=headers)).json()["listenKey"]
        async with websockets.connect(f"ws://{where}/ws/{key}") as ws:
            query = signing.signed_query(
                [("symbol", "BTCUSDT"), ("leverage", 9), ("timestamp", service.clock())], secret
            )
            r = await http.post(f"/fapi/v1/leverage?{query}", headers=headers)
            assert r.status_code == 200
            event = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            assert app.state.hub.connections == 1
        assert event["ac"] == {"s": "BTCUSDT", "l": 9}
    assert app.state.hub.connections == 0
    assert "adl_quantiles" not in vars(service)


async def test_the_app_caches_adl_quantiles_while_it_runs(tmp_path: Path) -> None:
    app, service = build(ServerConfig(db=f"sqlite:///{tmp_path}/app.db", operator_token="T"))
    computed = Service.adl_quantiles(service)
    async with serving(app):
        assert "adl_quantiles" in vars(service)  # the cache answers
        assert service.adl_quantiles() == computed
    assert "adl_quantiles" not in vars(service)  # back to computing on each call


# -- fan-out, offline ---------------------------------------------------------------------------


def test_a_long_message_is_cut_under_the_notify_limit_and_put_back_together() -> None:
    body = orjson.dumps({"a": 7, "e": [{"x": "y" * 100, "n": n} for n in range(200)]}).decode()
    pieces = stream.PgFanout.pieces("origin1", 42, body)
    got: list[tuple[int, list[str]]] = []
    receiver = stream.PgFanout("postgresql://unused")
    receiver._on_events = lambda account_id, texts: got.append((account_id, texts))

    for piece in pieces:
        receiver._handle(piece)

    assert len(pieces) > 2
    assert all(len(p.encode()) < 8000 for p in pieces)
    assert got == [(7, [orjson.dumps({"x": "y" * 100, "n": n}).decode() for n in range(200)])]
    assert receiver._partial == {}


def test_non_ascii_text_stays_under_the_limit_in_bytes() -> None:
    body = orjson.dumps({"a": 1, "e": [{"c": "é€😀" * 3000}]}).decode()
    pieces = stream.PgFanout.pieces("o", 1, body)
    assert all(len(p.encode()) < 8000 for p in pieces)
    assert "".join(p.split(" ", 4)[4] for p in pieces) == body


def test_a_process_skips_its_own_notifications_and_reads_closes() -> None:
    fanout = stream.PgFanout("postgresql://unused")
    events: list[Any] = []
    closes: list[str] = []
    fanout._on_events = lambda a, t: events.append((a, t))
    fanout._on_close = closes.append

    for piece in stream.PgFanout.pieces(fanout.origin, 1, '{"a":1,"e":[{"e":"x"}]}'):
        fanout._handle(piece)
    for piece in stream.PgFanout.pieces("other", 1, '{"close":"k1"}'):
        fanout._handle(piece)

    assert events == [] and closes == ["k1"]


# -- fan-out, on PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            raise
        pytest.skip("PostgreSQL unreachable (set ASTER_TEST_PG_URL)")
    with pg_schema(PG_URL, "hub") as url:
        yield url


@pytest.mark.postgres
def test_two_processes_exchange_events_through_notify(pg_url: str) -> None:
    a, b = stream.PgFanout(pg_url), stream.PgFanout(pg_url)
    got_a: list[Any] = []
    got_b: list[Any] = []
    done = threading.Event()

    def on_b(account_id: int, texts: list[str]) -> None:
        got_b.append((account_id, texts))
        if len(got_b) == 3:
            done.set()

    a.start(lambda i, t: got_a.append((i, t)), got_a.append)
    b.start(on_b, got_b.append)
    try:
        big = [orjson.dumps({"e": "ORDER_TRADE_UPDATE", "pad": "x" * 500}).decode()]
        a.send_events(5, ['{"e":"ACCOUNT_UPDATE","E":1}'])
        a.send_events(5, ['{"e":"ACCOUNT_UPDATE","E":1}'])  # equal messages stay two
        a.send_events(6, big * 40)  # about 22 kB
        a.send_close("k9")
        assert done.wait(10)
        time.sleep(0.3)
    finally:
        a.stop()
        b.stop()

    assert got_b[:3] == [
        (5, ['{"e":"ACCOUNT_UPDATE","E":1}']),
        (5, ['{"e":"ACCOUNT_UPDATE","E":1}']),
        (6, big * 40),
    ]
    assert got_b[3:] == ["k9"]
    assert got_a == []  # its own messages were delivered directly, not again
    assert a.channel == b.channel


@pytest.mark.postgres
def test_exactly_one_process_leads(pg_url: str) -> None:
    fanouts = [stream.PgFanout(pg_url) for _ in range(3)]
    for f in fanouts:
        f.start(lambda i, t: None, lambda k: None)
    try:
        assert [f.is_leader for f in fanouts].count(True) == 1
        leader = next(f for f in fanouts if f.is_leader)
        leader.stop()
        deadline = time.monotonic() + stream.LEAD_RETRY_S + 5
        rest = [f for f in fanouts if f is not leader]
        while time.monotonic() < deadline and not any(f.is_leader for f in rest):
            time.sleep(0.1)
        assert [f.is_leader for f in rest].count(True) == 1
    finally:
        for f in fanouts:
            f.stop()


# -- the risk loop -------------------------------------------------------------------------------


SYMBOLS = {"BTCUSDT", "ETHUSDT"}


def test_prices_file_format() -> None:
    ticks = riskloop.parse_prices(
        [
            "time_ms,symbol,markPrice,indexPrice,fundingRate",
            "# a comment",
            "",
            "1000,BTCUSDT,100000.5",
            "1000,ETHUSDT,3500,3499.5,",
            "2500, BTCUSDT ,99999,,-0.0001",
        ],
        SYMBOLS,
    )
    assert ticks == [
        riskloop.PriceTick(1000, "BTCUSDT", Decimal("100000.5")),
        riskloop.PriceTick(1000, "ETHUSDT", Decimal("3500"), Decimal("3499.5")),
        riskloop.PriceTick(2500, "BTCUSDT", Decimal("99999"), None, Decimal("-0.0001")),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["1,XRPUSDT,1"], "line 1: unknown symbol"),
        (["1,BTCUSDT,abc"], "line 1: markPrice is not a number"),
        (["1,BTCUSDT,-5"], "line 1: prices must be positive"),
        (["1,BTCUSDT"], "line 1: expected 3 to 5 fields"),
        (["5,BTCUSDT,1", "4,BTCUSDT,1"], "line 2: time_ms goes back"),
        (["t,s,m", "x,BTCUSDT,1"], "line 2: time_ms is not a whole number"),
    ],
)
def test_prices_file_errors_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        riskloop.parse_prices(lines, SYMBOLS)


def test_adl_cache_serves_the_table_until_it_is_two_periods_old(service: Service) -> None:
    calls: list[float] = []
    now = [0.0]
    cache = riskloop.AdlCache(service, refresh_s=30, clock=lambda: now[0])
    cache._compute = lambda: calls.append(now[0]) or {}  # type: ignore[func-returns-value]

    cache.get()
    now[0] = 59.0
    cache.get()
    now[0] = 60.0
    cache.get()

    assert calls == [0.0, 60.0]


async def test_funding_is_settled_when_due_and_only_by_the_leader(
    service: Service, clock: FakeClock
) -> None:
    hub = stream.StreamHub(service)
    settled: list[str] = []
    service.settle_funding = lambda symbol=None: settled.append(symbol) or {}  # type: ignore[assignment,method-assign,func-returns-value]
    due = min(mp.next_funding_time for mp in service.store.load_marks().values())
    leading = [False]
    loop = riskloop.RiskLoop(service, hub, is_leader=lambda: leading[0], adl_refresh_s=0)

    clock.now = due - 1
    leading[0] = True
    await loop.funding_round()
    clock.now = due
    leading[0] = False
    await loop.funding_round()
    leading[0] = True
    await loop.funding_round()

    assert settled == sorted(
        s for s, mp in service.store.load_marks().items() if mp.next_funding_time <= due
    )


async def test_replay_applies_every_tick_in_order_and_stops_cleanly(service: Service) -> None:
    applied: list[tuple[Any, ...]] = []

    def record(symbol: str, mark: Decimal, **kw: Any) -> dict[int, Any]:
        applied.append((symbol, mark, kw["index_price"], kw["funding_rate"]))
        return {}

    service.set_mark = record  # type: ignore[method-assign]
    ticks = [
        riskloop.PriceTick(0, "BTCUSDT", Decimal(1)),
        riskloop.PriceTick(10, "ETHUSDT", Decimal(2), Decimal(3), Decimal("0.01")),
        riskloop.PriceTick(20, "BTCUSDT", Decimal(4)),
    ]
    hub = stream.StreamHub(service)
    loop = riskloop.RiskLoop(service, hub, prices=ticks, prices_speed=0, adl_refresh_s=0)

    await loop.start()
    for _ in range(200):
        if loop.replayed == 3:
            break
        await asyncio.sleep(0.01)
    await loop.stop()

    assert applied == [
        ("BTCUSDT", Decimal(1), None, None),
        ("ETHUSDT", Decimal(2), Decimal(3), Decimal("0.01")),
        ("BTCUSDT", Decimal(4), None, None),
    ]


async def test_a_failing_round_is_logged_and_the_loop_goes_on(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    rounds = [0]

    async def flaky() -> None:
        rounds[0] += 1
        raise RuntimeError("boom")

    loop = riskloop.RiskLoop(service, stream.StreamHub(service), adl_refresh_s=0)
    task = asyncio.create_task(loop._every(0.01, "flaky", flaky))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert rounds[0] >= 3
    assert "flaky round failed" in caplog.text
