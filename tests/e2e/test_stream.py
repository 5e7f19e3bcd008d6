"""The user data stream over a real server process and real websockets (SQLite).

Events are checked as Aster documents them ("User Data Streams"): type, `E` / `T`, the reason
`m` of ACCOUNT_UPDATE, and the fields that carry the change. Tests that move the clock or the
marks of a symbol others hold, or that need settings the CLI has no option for, start a server of
their own.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from streamfixtures import Operator, Stream, StreamServer, Trader, now_ms
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

HOUR_MS = 60 * 60 * 1000


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamServer]:
    work = tmp_path_factory.mktemp("stream")
    server = StreamServer(f"sqlite:///{work}/aster.db", work).start()
    yield server
    server.stop()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., StreamServer]]:
    """Servers of the test's own: `start()` with the CLI, `start(config={...})` with settings."""
    started: list[StreamServer] = []

    def make(config: dict[str, Any] | None = None) -> StreamServer:
        work = tmp_path / f"srv{len(started)}"
        work.mkdir()
        server = StreamServer(f"sqlite:///{work}/aster.db", work, config=config)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15.0) as client:
        yield client


@pytest.fixture(autouse=True)
async def close_streams() -> AsyncIterator[None]:
    yield
    await Stream.close_all()


@pytest.fixture
def op(srv: StreamServer, http: httpx.AsyncClient) -> Operator:
    return Operator(srv, http)


def dec(text: str) -> Decimal:
    return Decimal(text)


def check_account_update(ev: dict[str, Any], reason: str) -> dict[str, Any]:
    assert ev["e"] == "ACCOUNT_UPDATE", ev
    assert isinstance(ev["E"], int) and isinstance(ev["T"], int)
    assert ev["a"]["m"] == reason, ev
    data: dict[str, Any] = ev["a"]
    return data


async def drain(stream: Stream, count: int) -> list[dict[str, Any]]:
    return [await stream.next() for _ in range(count)]


async def market(trader: Trader, symbol: str, side: str, qty: str) -> Any:
    return await trader.signed(
        "POST", "/fapi/v1/order", symbol=symbol, side=side, type="MARKET", quantity=qty
    )


# -- connecting ----------------------------------------------------------------------------------


async def test_plain_http_get_of_the_stream_paths_answers_aster_errors(
    op: Operator, http: httpx.AsyncClient, srv: StreamServer
) -> None:
    trader = await op.create_account()
    key = await trader.listen_key()

    unknown = await http.get(f"{srv.base_url}/ws/not-a-key")
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"code": -1125, "msg": "This listenKey does not exist."},
    )
    combined = await http.get(f"{srv.base_url}/stream", params={"streams": "not-a-key"})
    assert combined.json()["code"] == -1125
    missing = await http.get(f"{srv.base_url}/stream")
    assert (missing.status_code, missing.json()["code"]) == (400, -1102)
    valid = await http.get(f"{srv.base_url}/ws/{key}")
    assert (valid.status_code, valid.json()["code"]) == (426, -1020)


@pytest.mark.parametrize(
    ("path", "code"),
    [("/ws/not-a-key", -1125), ("/stream?streams=not-a-key", -1125), ("/stream", -1102)],
)
async def test_unknown_key_closes_the_socket_with_the_reason(
    srv: StreamServer, path: str, code: int
) -> None:
    ws = await websockets.connect(srv.ws_url + path)
    stream = Stream(ws, "", combined=False)
    closed_code, reason = await stream.closed()
    assert closed_code == 1008
    assert orjson.loads(reason)["code"] == code


# -- one event per mutating endpoint ---------------------------------------------------------------


async def test_operator_deposit(op: Operator) -> None:
    trader = await op.create_account("1000")
    stream = await trader.stream()

    await op.deposit(trader.account_id, "25.5")

    data = check_account_update(await stream.next(), "ADMIN_DEPOSIT")
    [balance] = data["B"]
    assert balance["a"] == "USDT"
    assert dec(balance["bc"]) == dec("25.5")
    assert dec(balance["wb"]) == dec("1025.5")  # 1000 + 25.5
    assert dec(balance["cw"]) == dec("1025.5")
    assert data["P"] == []


async def test_transfer_both_ways(op: Operator) -> None:
    trader = await op.create_account("1000", spot="100")
    stream = await trader.stream()

    await trader.signed(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="40",
        kindType="SPOT_FUTURE",
        clientTranId="in-1",
    )
    into = check_account_update(await stream.next(), "DEPOSIT")
    await trader.signed(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="15",
        kindType="FUTURE_SPOT",
        clientTranId="out-1",
    )
    out = check_account_update(await stream.next(), "WITHDRAW")

    assert (dec(into["B"][0]["bc"]), dec(into["B"][0]["wb"])) == (dec(40), dec(1040))
    assert (dec(out["B"][0]["bc"]), dec(out["B"][0]["wb"])) == (dec(-15), dec(1025))


async def test_leverage(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream()

    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=7)

    ev = await stream.next()
    assert set(ev) == {"e", "E", "T", "ac"}
    assert ev["e"] == "ACCOUNT_CONFIG_UPDATE"
    assert ev["ac"] == {"s": "BTCUSDT", "l": 7}


async def test_margin_type(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream()

    await trader.signed("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED")

    data = check_account_update(await stream.next(), "MARGIN_TYPE_CHANGE")
    assert [b["a"] for b in data["B"]] == ["USDT"]
    assert data["P"] == []


async def test_position_margin(op: Operator) -> None:
    trader = await op.create_account("1000")
    stream = await trader.stream()
    await trader.signed("POST", "/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    await market(trader, "ETHUSDT", "BUY", "0.1")
    *_, opened = await drain(stream, 4)  # margin type, order NEW, TRADE, ACCOUNT_UPDATE
    iw_before = dec(opened["a"]["P"][0]["iw"])

    await trader.signed("POST", "/fapi/v1/positionMargin", symbol="ETHUSDT", amount="10", type=1)

    data = check_account_update(await stream.next(), "MARGIN_TRANSFER")
    [pos] = data["P"]
    assert (pos["s"], pos["ps"], pos["mt"]) == ("ETHUSDT", "BOTH", "isolated")
    assert dec(pos["iw"]) == iw_before + 10
    assert dec(pos["pa"]) == dec("0.1")


async def test_position_mode_and_multi_assets(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream()

    await trader.signed("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    hedge = await stream.next()
    await trader.signed("POST", "/fapi/v1/multiAssetsMargin", multiAssetsMargin="true")
    multi = await stream.next()

    assert (hedge["e"], hedge["ai"]["d"]) == ("ACCOUNT_CONFIG_UPDATE", True)
    assert (multi["e"], multi["ai"]["j"]) == ("ACCOUNT_CONFIG_UPDATE", True)
    assert {"E", "T"} <= set(hedge) and {"E", "T"} <= set(multi)


async def test_market_order_fill(op: Operator) -> None:
    trader = await op.create_account("1000")
    stream = await trader.stream()

    placed = await market(trader, "BTCUSDT", "BUY", "0.002")

    new, trade, account = await drain(stream, 3)
    assert (new["e"], new["o"]["x"], new["o"]["X"]) == ("ORDER_TRADE_UPDATE", "NEW", "NEW")
    assert (trade["o"]["x"], trade["o"]["X"]) == ("TRADE", "FILLED")
    assert trade["o"]["i"] == placed["orderId"]
    assert (trade["o"]["s"], trade["o"]["S"], trade["o"]["o"]) == ("BTCUSDT", "BUY", "MARKET")
    assert dec(trade["o"]["l"]) == dec(trade["o"]["z"]) == dec("0.002")
    assert trade["o"]["N"] == "USDT" and dec(trade["o"]["n"]) > 0
    assert trade["o"]["m"] is False
    assert {"E", "T"} <= set(new) and {"E", "T"} <= set(trade)
    data = check_account_update(account, "ORDER")
    assert dec(data["P"][0]["pa"]) == dec("0.002")


async def test_limit_order_fills_when_the_mark_crosses_it(op: Operator) -> None:
    # ASTERUSDT is moved by this test only (starting mark 1.2)
    trader = await op.create_account("1000")
    stream = await trader.stream()
    await trader.signed(
        "POST",
        "/fapi/v1/order",
        symbol="ASTERUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="10",
        price="1.15",
    )
    new = await stream.next()
    assert (new["o"]["x"], new["o"]["X"], new["o"]["o"]) == ("NEW", "NEW", "LIMIT")

    await op.set_mark("ASTERUSDT", "1.149")

    trade, account = await drain(stream, 2)
    assert (trade["o"]["x"], trade["o"]["X"], trade["o"]["m"]) == ("TRADE", "FILLED", True)
    assert dec(trade["o"]["L"]) == dec("1.15")
    assert dec(check_account_update(account, "ORDER")["P"][0]["pa"]) == 10


async def test_cancel_order_and_cancel_all(op: Operator) -> None:
    trader = await op.create_account("1000")
    stream = await trader.stream()
    placed = []
    for price in ("99000", "99100", "99200"):  # below the mark: they rest
        placed.append(
            await trader.signed(
                "POST",
                "/fapi/v1/order",
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.001",
                price=price,
            )
        )
    await drain(stream, 3)

    await trader.signed("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=placed[0]["orderId"])
    one = await stream.next()
    await trader.signed("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
    rest = await drain(stream, 2)

    for ev, order in zip([one, *rest], placed, strict=True):
        assert ev["e"] == "ORDER_TRADE_UPDATE" and {"E", "T"} <= set(ev)
        assert (ev["o"]["i"], ev["o"]["x"], ev["o"]["X"]) == (
            order["orderId"],
            "CANCELED",
            "CANCELED",
        )
    await stream.nothing(0.3)  # a cancel moves no balance: no ACCOUNT_UPDATE (docs)


# -- the stream itself -----------------------------------------------------------------------------


async def test_combined_stream_envelope(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream(combined=True)

    await trader.signed("POST", "/fapi/v1/leverage", symbol="ETHUSDT", leverage=9)

    raw = await stream.raw()
    assert list(raw) == ["stream", "data"]
    assert raw["stream"] == stream.key
    assert raw["data"]["ac"] == {"s": "ETHUSDT", "l": 9}


async def test_events_come_in_order_of_E(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream()

    for leverage in range(2, 8):
        await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=leverage)

    events = await drain(stream, 6)
    assert [e["ac"]["l"] for e in events] == list(range(2, 8))
    times = [e["E"] for e in events]
    assert times == sorted(times)


async def test_only_the_accounts_own_events(op: Operator) -> None:
    mine = await op.create_account()
    other = await op.create_account()
    stream = await mine.stream()

    await other.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=3)
    await mine.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=4)

    assert (await stream.next())["ac"]["l"] == 4
    await stream.nothing(0.3)


async def test_two_connections_on_one_key_both_get_every_event(op: Operator) -> None:
    trader = await op.create_account()
    first = await trader.stream()
    second = await Stream.open(trader.server, first.key, combined=True)

    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=5)

    assert (await first.next())["ac"]["l"] == 5
    assert (await second.next())["ac"]["l"] == 5
    await first.nothing(0.3)


async def test_delete_closes_the_connections(op: Operator) -> None:
    trader = await op.create_account()
    stream = await trader.stream()

    r = await trader.key_call("DELETE")

    assert r.status_code == 200
    assert await stream.closed() == (1000, "listenKey closed")


# -- listenKey expiry (own servers: the clock moves) --------------------------------------------


async def test_expiry_pushes_listen_key_expired_then_nothing(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    srv = start()
    op = Operator(srv, http)
    trader = await op.create_account()
    stream = await trader.stream()

    await op.shift_clock(61 * 60 * 1000)  # past the 60 minutes

    ev = await stream.next(timeout=5)
    assert set(ev) == {"e", "E"}
    assert ev["e"] == "listenKeyExpired"
    assert ev["E"] >= now_ms() + 60 * 60 * 1000
    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=6)
    await stream.nothing(1.5)
    # the key is gone for keepalive and for new connections; a new key streams again
    assert (await trader.key_call("PUT")).json()["code"] == -1125
    again = await Stream.open(srv, stream.key)
    code, reason = await again.closed()
    assert (code, orjson.loads(reason)["code"]) == (1008, -1125)
    fresh = await trader.stream()
    assert fresh.key != stream.key
    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=8)
    assert (await fresh.next())["ac"]["l"] == 8


async def test_keepalive_prevents_expiry(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    srv = start()
    op = Operator(srv, http)
    trader = await op.create_account()
    stream = await trader.stream()

    await op.shift_clock(50 * 60 * 1000)
    assert (await trader.key_call("PUT")).status_code == 200  # now valid until minute 110
    await op.shift_clock(100 * 60 * 1000)

    await stream.nothing(2.5)  # the sweep looked more than once
    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=11)
    assert (await stream.next())["ac"]["l"] == 11


# -- risk actions (own servers: they move marks and the insurance fund) ------------------------


async def long_btc_at_100x(op: Operator) -> tuple[Trader, Stream]:
    """100 USDT, 0.01 BTC long at 100000 with 100x: IM 10, commission 0.35 (taker 0.00035)."""
    trader = await op.create_account("100")
    stream = await trader.stream()
    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=100)
    await market(trader, "BTCUSDT", "BUY", "0.01")
    await drain(stream, 4)
    return trader, stream


async def test_margin_call(start: Callable[..., StreamServer], http: httpx.AsyncClient) -> None:
    op = Operator(start(), http)
    await op.set_mark("BTCUSDT", "100000")
    _, stream = await long_btc_at_100x(op)

    # at 90450: margin balance 99.65 - 95.5 = 4.15, MM 904.5 * 0.004 = 3.618:
    # ratio 0.87 >= 0.8, not liquidated (4.15 > 3.618)
    await op.set_mark("BTCUSDT", "90450")

    ev = await stream.next()
    assert ev["e"] == "MARGIN_CALL" and isinstance(ev["E"], int)
    assert dec(ev["cw"]) == dec("99.65")
    [pos] = ev["p"]
    assert (pos["s"], pos["ps"], pos["mt"]) == ("BTCUSDT", "BOTH", "CROSSED")
    assert dec(pos["pa"]) == dec("0.01")
    assert dec(pos["mp"]) == dec("90450")
    assert dec(pos["up"]) == dec("-95.5")  # 0.01 * (90450 - 100000)
    assert dec(pos["mm"]) == dec("3.618")


async def test_liquidation(start: Callable[..., StreamServer], http: httpx.AsyncClient) -> None:
    op = Operator(start(), http)
    await op.set_mark("BTCUSDT", "100000")
    _, stream = await long_btc_at_100x(op)

    await op.set_mark("BTCUSDT", "90000")  # margin balance 99.65 - 100 < 0

    order = await stream.next()
    assert order["e"] == "ORDER_TRADE_UPDATE"
    o = order["o"]
    assert o["c"].startswith("autoclose-")
    assert (o["o"], o["x"], o["X"], o["S"]) == ("LIQUIDATION", "CALCULATED", "FILLED", "SELL")
    assert dec(o["z"]) == dec("0.01")
    data = check_account_update(await stream.next(), "ORDER")
    assert dec(data["P"][0]["pa"]) == 0


async def test_adl_when_the_insurance_fund_cannot_pay(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    srv = start()
    op = Operator(srv, http)
    await op.set_mark("BTCUSDT", "100000")
    _, loser_stream = await long_btc_at_100x(op)
    winner = await op.create_account("1000")
    winner_stream = await winner.stream()
    await market(winner, "BTCUSDT", "SELL", "0.01")
    await drain(winner_stream, 3)
    srv.set_insurance_fund("0")

    # the long goes bankrupt at about 90000 while the mark is 80000: the fund would pay ~100
    await op.set_mark("BTCUSDT", "80000")

    liquidated = await loser_stream.next()
    assert liquidated["o"]["c"].startswith("autoclose-")
    adl = await winner_stream.next()
    assert adl["e"] == "ORDER_TRADE_UPDATE"
    assert (adl["o"]["c"], adl["o"]["X"], adl["o"]["S"]) == ("adl_autoclose", "FILLED", "BUY")
    assert dec(adl["o"]["z"]) == dec("0.01")
    assert dec(adl["o"]["L"]) > dec("80000")  # at the bankrupt price, not the mark
    data = check_account_update(await winner_stream.next(), "ORDER")
    assert dec(data["P"][0]["pa"]) == 0


async def test_funding_by_the_risk_loop_follows_the_b_and_p_rules(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    op = Operator(start(), http)
    await op.set_mark("BTCUSDT", "100000", fundingRate="0.0001")
    funding_time = (await op.premium_index("BTCUSDT"))["nextFundingTime"]
    await op.shift_clock(funding_time - now_ms() - 30 * 60 * 1000)
    cross = await op.create_account("1000")
    cross_stream = await cross.stream()
    await market(cross, "BTCUSDT", "BUY", "0.01")
    await drain(cross_stream, 3)
    isolated = await op.create_account("1000")
    isolated_stream = await isolated.stream()
    await isolated.signed("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED")
    await market(isolated, "BTCUSDT", "SELL", "0.01")
    *_, opened = await drain(isolated_stream, 4)

    await op.shift_clock(funding_time - now_ms() - 1000)  # one second before funding

    # fee = 0.01 * 100000 * 0.0001 = 0.1: the long pays, the short receives
    paid = check_account_update(await cross_stream.next(timeout=10), "FUNDING_FEE")
    assert [(b["a"], dec(b["bc"])) for b in paid["B"]] == [("USDT", dec("-0.1"))]
    assert paid["P"] == []  # cross: B only
    got = check_account_update(await isolated_stream.next(timeout=10), "FUNDING_FEE")
    assert [(b["a"], dec(b["bc"])) for b in got["B"]] == [("USDT", dec("0.1"))]
    [pos] = got["P"]  # isolated: B and that position
    assert (pos["s"], pos["ps"], pos["mt"]) == ("BTCUSDT", "BOTH", "isolated")
    assert dec(pos["iw"]) == dec(opened["a"]["P"][0]["iw"]) + dec("0.1")
    await cross_stream.nothing(2)  # settled once


async def test_prices_replay_drives_fills(
    start: Callable[..., StreamServer], http: httpx.AsyncClient, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "time_ms,symbol,markPrice,indexPrice,fundingRate\n"
        "# ARBUSDT starts at 0.5\n"
        "1000000,ARBUSDT,0.5\n"
        "1060000,ARBUSDT,0.47,0.4701,0.0002\n"
    )
    srv = start(config={"prices": str(prices), "prices_speed": 10})  # 60 s in the file: 6 s
    ready = time.monotonic()
    op = Operator(srv, http)
    trader = await op.create_account("1000")
    stream = await trader.stream()
    await trader.signed(
        "POST",
        "/fapi/v1/order",
        symbol="ARBUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="20",
        price="0.48",
    )
    assert (await stream.next())["o"]["X"] == "NEW"

    trade = await stream.next(timeout=15)

    assert (trade["o"]["x"], trade["o"]["X"]) == ("TRADE", "FILLED")
    assert time.monotonic() - ready > 5.0
    index = await op.premium_index("ARBUSDT")
    assert (dec(index["markPrice"]), dec(index["indexPrice"])) == (dec("0.47"), dec("0.4701"))
    assert dec(index["lastFundingRate"]) == dec("0.0002")


# -- connection limits --------------------------------------------------------------------------


async def test_connection_closes_at_its_maximum_age(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    srv = start(config={"stream_max_age_s": 1.5, "risk_tick_s": 0.2})
    trader = await Operator(srv, http).create_account()
    stream = await trader.stream()
    opened = time.monotonic()

    code, reason = await stream.closed(timeout=10)

    assert (code, reason) == (1000, "connection lifetime reached")
    assert 1.3 < time.monotonic() - opened < 5


async def test_a_consumer_that_falls_behind_is_closed_and_others_go_on(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    # a queue of 2 frames: a market order's three events in one publish overflow it
    srv = start(config={"stream_queue_size": 2})
    op = Operator(srv, http)
    slow = await op.create_account("1000")
    slow_stream = await slow.stream()
    other = await op.create_account("1000")
    other_stream = await other.stream()

    await market(slow, "BTCUSDT", "BUY", "0.001")
    await other.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=12)

    code, reason = await slow_stream.closed()
    assert code == 1008 and "overflow" in reason
    assert (await other_stream.next())["ac"]["l"] == 12


def _raw_stream(srv: StreamServer, key: str, *, answer_pings: bool, seconds: float) -> list[Any]:
    """A websocket client on a bare socket that may leave pings unanswered; what it received."""
    protocol = ClientProtocol(parse_uri(f"{srv.ws_url}/ws/{key}"))
    protocol.send_request(protocol.connect())
    received: list[Any] = []
    with socket.create_connection(("127.0.0.1", srv.port), timeout=0.2) as sock:
        sock.sendall(b"".join(protocol.data_to_send()))
        handshake_done = False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            protocol.receive_data(data)
            received.extend(protocol.events_received())
            out = protocol.data_to_send()  # the pongs protocol answers with, if any
            if not handshake_done:
                handshake_done = any(isinstance(e, Response) for e in received)
            if answer_pings:
                sock.sendall(b"".join(out))
            if protocol.state is State.CLOSED or protocol.close_rcvd is not None:
                break
    return received


async def test_server_pings_keep_an_answering_connection_and_drop_a_silent_one(
    start: Callable[..., StreamServer], http: httpx.AsyncClient
) -> None:
    import asyncio

    srv = start(config={"ws_ping_interval": 0.2, "ws_ping_timeout": 0.6})
    trader = await Operator(srv, http).create_account()
    key = await trader.listen_key()

    answering = await asyncio.to_thread(_raw_stream, srv, key, answer_pings=True, seconds=2.0)
    silent = await asyncio.to_thread(_raw_stream, srv, key, answer_pings=False, seconds=5.0)

    pings = [e for e in answering if getattr(e, "opcode", None) is Opcode.PING]
    assert len(pings) >= 4  # one every 0.2 s, for 2 s
    assert not [e for e in answering if getattr(e, "opcode", None) is Opcode.CLOSE]
    assert [e for e in silent if getattr(e, "opcode", None) is Opcode.PING]
    closes = [e for e in silent if getattr(e, "opcode", None) is Opcode.CLOSE]
    assert closes, "the silent connection was not closed"
