"""Two server processes on one PostgreSQL database: an event reaches a stream whichever process
caused it (NOTIFY after commit, LISTEN in every process), once per connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from streamfixtures import Operator, Stream, StreamServer, now_ms, pg_schema

pytestmark = pytest.mark.postgres


def start_pair(db: str, work: Path) -> tuple[StreamServer, StreamServer]:
    a = StreamServer(db, work / "a")
    b = StreamServer(db, work / "b")
    for server in (a, b):
        server.workdir.mkdir(parents=True, exist_ok=True)
    a.start()
    try:
        b.start()
    except BaseException:
        a.stop()
        raise
    return a, b


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StreamServer, StreamServer]]:
    with pg_schema() as db:
        a, b = start_pair(db, tmp_path_factory.mktemp("pair"))
        try:
            yield a, b
        finally:
            a.stop()
            b.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15.0) as client:
        yield client


@pytest.fixture(autouse=True)
async def close_streams() -> AsyncIterator[None]:
    yield
    await Stream.close_all()


async def test_a_change_made_on_one_process_reaches_both(
    pair: tuple[StreamServer, StreamServer], http: httpx.AsyncClient
) -> None:
    a, b = pair
    trader = await Operator(a, http).create_account()
    on_b = await trader.stream(server=b)
    on_a = await Stream.open(a, on_b.key, combined=True)

    await trader.signed("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=13)

    for stream in (on_b, on_a):
        # the deposit that created the account came before the streams connected, but B may
        # hear of it after its stream did: the next config update is the one sent now
        ev = await stream.until("ACCOUNT_CONFIG_UPDATE")
        assert (ev["e"], ev["ac"]) == ("ACCOUNT_CONFIG_UPDATE", {"s": "BTCUSDT", "l": 13})
    # once per connection: neither the notification nor the direct delivery repeats
    await on_a.nothing(0.5)
    await on_b.nothing(0.1)


async def test_many_events_of_one_commit_cross_the_notify_size_limit(
    pair: tuple[StreamServer, StreamServer], http: httpx.AsyncClient
) -> None:
    a, b = pair
    trader = await Operator(a, http).create_account("1000")
    stream = await trader.stream(server=b)
    order_ids = []
    for n in range(10):
        placed = await trader.signed(
            "POST",
            "/fapi/v1/order",
            symbol="ARBUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="20",
            price=f"0.49{n}",
        )
        order_ids.append(placed["orderId"])
        assert (await stream.until("ORDER_TRADE_UPDATE"))["o"]["X"] == "NEW"

    # one mark move fills all ten in one transaction: 20 events, well over 8000 bytes
    await Operator(a, http).set_mark("ARBUSDT", "0.48")

    events = [await stream.next() for _ in range(20)]
    fills = [e for e in events if e["e"] == "ORDER_TRADE_UPDATE"]
    assert [e["o"]["i"] for e in fills] == order_ids
    assert all(e["o"]["X"] == "FILLED" for e in fills)
    assert [e["a"]["m"] for e in events if e["e"] == "ACCOUNT_UPDATE"] == ["ORDER"] * 10
    assert Decimal(events[-1]["a"]["P"][0]["pa"]) == 200
    await stream.nothing(0.3)


async def test_a_mark_move_on_one_process_streams_on_the_other(
    pair: tuple[StreamServer, StreamServer], http: httpx.AsyncClient
) -> None:
    a, b = pair
    trader = await Operator(b, http).create_account("1000")
    stream = await trader.stream(server=b)
    await trader.signed(
        "POST",
        "/fapi/v1/order",
        symbol="ASTERUSDT",
        side="SELL",
        type="LIMIT",
        timeInForce="GTC",
        quantity="10",
        price="1.25",
    )
    assert (await stream.until("ORDER_TRADE_UPDATE"))["o"]["X"] == "NEW"

    await Operator(a, http).set_mark("ASTERUSDT", "1.26")

    trade = await stream.next()
    assert (trade["o"]["x"], trade["o"]["X"], trade["o"]["S"]) == ("TRADE", "FILLED", "SELL")
    assert (await stream.next())["a"]["m"] == "ORDER"


async def test_delete_on_one_process_closes_the_stream_on_the_other(
    pair: tuple[StreamServer, StreamServer], http: httpx.AsyncClient
) -> None:
    a, b = pair
    trader = await Operator(a, http).create_account()
    stream = await trader.stream(server=b)

    assert (await trader.key_call("DELETE")).status_code == 200

    assert await stream.closed() == (1000, "listenKey closed")


async def test_funding_is_settled_once_by_one_process(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    with pg_schema() as db:
        a, b = start_pair(db, tmp_path)
        try:
            op_a, op_b = Operator(a, http), Operator(b, http)
            await op_a.set_mark("BTCUSDT", "100000", fundingRate="0.0001")
            funding_time = (await op_a.premium_index("BTCUSDT"))["nextFundingTime"]
            for op in (op_a, op_b):
                await op.shift_clock(funding_time - now_ms() - 30 * 60 * 1000)
            trader = await op_a.create_account("1000")
            on_a = await trader.stream()
            on_b = await Stream.open(b, on_a.key)
            await trader.signed(
                "POST",
                "/fapi/v1/order",
                symbol="BTCUSDT",
                side="BUY",
                type="MARKET",
                quantity="0.01",
            )
            for stream in (on_a, on_b):
                # the order's; the account's deposit (committed before the streams connected)
                # may have come too, through NOTIFY
                await stream.until("ACCOUNT_UPDATE", "ORDER")

            for op in (op_a, op_b):  # both processes now see the funding time come
                await op.shift_clock(funding_time - now_ms() - 1000)

            for stream in (on_a, on_b):
                ev = await stream.next(timeout=10)
                assert ev["a"]["m"] == "FUNDING_FEE"
                assert Decimal(ev["a"]["B"][0]["bc"]) == Decimal("-0.1")
            await on_a.nothing(3)  # the other process did not settle it again
            income = await trader.signed("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
            assert len(income) == 1
        finally:
            await Stream.close_all()
            a.stop()
            b.stop()
