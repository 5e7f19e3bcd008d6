"""History over any range: 7-day windows, full pages continued from the last row's millisecond,
rows of that millisecond not handed out twice -- no gaps, no duplicates."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from clientfakes import FakeAster, FakeTime, make_async_client, make_client, ok, params
from hypothesis import given, settings
from hypothesis import strategies as st

from aster_account.client._paginate import WINDOW_MS, Pager

DAY = 24 * 3600 * 1000


def serve_page(
    rows: list[dict[str, Any]], start: int, end: int, limit: int
) -> list[dict[str, Any]]:
    """What the server answers: rows in [start, end], oldest first (ties in id order), at most
    ``limit``."""
    chosen = [r for r in rows if start <= r["time"] <= end]
    chosen.sort(key=lambda r: (r["time"], r["id"]))
    return chosen[:limit]


def walk(pager: Pager[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while (request := pager.next_request()) is not None:
        assert request.end_time - request.start_time < WINDOW_MS
        out.extend(
            pager.feed(serve_page(rows, request.start_time, request.end_time, request.limit))
        )
    return out


def pager(start: int, end: int, limit: int) -> Pager[dict[str, Any]]:
    return Pager(start, end, limit, time_of=lambda r: r["time"], key_of=lambda r: r["id"])


def test_pages_inside_one_window_with_ties_across_page_boundaries() -> None:
    # limit 5; the millisecond 20 has 4 rows, 3 on the first page and all 4 on the second
    times = [10, 11, 20, 20, 20, 20, 30, 31, 31, 40]
    rows = [{"id": i, "time": t} for i, t in enumerate(times)]
    p = pager(0, 100, 5)
    assert walk(p, rows) == rows
    assert p.requests == 3


def test_windows_of_at_most_seven_days_cover_the_range_exactly() -> None:
    start = 1_700_000_000_000
    end = start + 30 * DAY
    times = [start, start + WINDOW_MS - 1, start + WINDOW_MS, end - 1, end, end + 1, start - 1]
    rows = [{"id": i, "time": t} for i, t in enumerate(times)]
    p = pager(start, end, 1000)
    got = walk(p, rows)
    assert [r["time"] for r in got] == sorted(t for t in times if start <= t <= end)
    assert p.requests == 5  # 30 days + 1 ms = 5 windows of 7 days


def test_more_rows_in_one_millisecond_than_a_page_holds_cannot_loop_forever() -> None:
    rows = [{"id": i, "time": 5} for i in range(7)] + [{"id": 7, "time": 6}]
    got = walk(pager(0, 10, 5), rows)
    # the API cannot page inside one millisecond: the two past the limit are out of reach
    assert [r["id"] for r in got] == [0, 1, 2, 3, 4, 7]


def test_rows_without_ids_are_told_apart_by_count() -> None:
    # margin history has no id: two identical rows in one millisecond are both kept
    rows = [{"id": "same", "time": 4}]
    rows += [{"id": "same", "time": 5}, {"id": "same", "time": 5}, {"id": "x", "time": 5}]
    rows += [{"id": "same", "time": 6}]
    assert walk(pager(0, 10, 3), rows) == rows


def test_an_empty_range_asks_once_per_window() -> None:
    p = pager(0, 3 * WINDOW_MS - 1, 10)
    assert walk(p, []) == []
    assert p.requests == 3


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="after"):
        pager(10, 5, 10)
    with pytest.raises(ValueError):
        pager(0, 5, 0)


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(st.integers(min_value=0, max_value=40), max_size=60),
    limit=st.integers(min_value=1, max_value=12),
    window=st.integers(min_value=1, max_value=15),
)
def test_any_history_is_walked_without_gaps_or_duplicates(
    times: list[int], limit: int, window: int
) -> None:
    rows = [{"id": i, "time": t} for i, t in enumerate(times)]
    p = Pager(0, 40, limit, time_of=lambda r: r["time"], key_of=lambda r: r["id"], window_ms=window)
    got = walk(p, rows)
    assert len({r["id"] for r in got}) == len(got)  # no duplicates
    most_in_one_ms = max((times.count(t) for t in set(times)), default=0)
    if most_in_one_ms <= limit:  # otherwise the API itself cannot deliver every row
        assert sorted(got, key=lambda r: r["id"]) == rows


# -- through the clients -------------------------------------------------------------------------

START = 1_750_000_000_000


def history(n: int, days: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` income rows over ``days`` days, with bursts of many rows in one millisecond."""
    rng = random.Random(seed)
    times = [START + rng.randrange(days * DAY) for _ in range(n - 300)]
    times += [START + 3 * DAY] * 300  # a burst, larger than... nothing: pages hold 1000
    return [
        {
            "symbol": "BTCUSDT",
            "incomeType": "FUNDING_FEE",
            "income": f"-{i}.5",
            "asset": "USDT",
            "info": "",
            "time": t,
            "tranId": str(10_000 + i),
            "tradeId": "",
            "id": i,
        }
        for i, t in enumerate(sorted(times))
    ]


def history_endpoint(rows: list[dict[str, Any]], limit_max: int) -> Callable[[httpx.Request], Any]:
    def answer(request: httpx.Request) -> httpx.Response:
        p = params(request)
        start, end, limit = int(p["startTime"]), int(p["endTime"]), int(p["limit"])
        assert limit <= limit_max
        assert end - start < 7 * DAY, "a request spans more than 7 days"
        page = serve_page(rows, start, end, limit)
        return ok([{k: v for k, v in r.items() if k != "id"} for r in page])

    return answer


def test_iter_income_walks_a_month_of_history() -> None:
    rows = history(2600, 30)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/income", history_endpoint(rows, 1000))
    client = make_client(fake)
    got = list(client.iter_income(start_time=START, end_time=START + 30 * DAY))
    assert [g.tran_id for g in got] == [r["tranId"] for r in rows]
    assert all(params(r)["limit"] == "1000" for r in fake.sent("/fapi/v1/income"))


async def test_async_iter_income_walks_a_month_of_history() -> None:
    rows = history(2600, 30)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/income", history_endpoint(rows, 1000))
    async with make_async_client(fake) as client:
        got = [
            row
            async for row in client.iter_income(
                income_type="FUNDING_FEE",
                start_time=START,
                end_time=START + 30 * DAY,
                page_size=500,
            )
        ]
    assert [g.tran_id for g in got] == [r["tranId"] for r in rows]
    assert params(fake.sent("/fapi/v1/income")[0])["incomeType"] == "FUNDING_FEE"


def test_iter_income_defaults_to_the_last_seven_days_of_server_time() -> None:
    fake = FakeAster(FakeTime(), skew_ms=5000)
    fake.default("/fapi/v1/income", ok([]))
    client = make_client(fake)
    client.sync_clock()
    assert list(client.iter_income()) == []
    p = params(fake.sent("/fapi/v1/income")[0])
    now = int(fake.time.t * 1000) + 5000
    assert int(p["endTime"]) == now
    assert int(p["endTime"]) - int(p["startTime"]) == 7 * DAY - 1


def margin_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "amount": "1.5",
            "asset": "USDT",
            "symbol": "BTCUSDT",
            "time": START + (i // 3) * 1000,  # three identical rows per second
            "type": 1,
            "positionSide": "BOTH",
            "id": i,
        }
        for i in range(n)
    ]


def test_iter_position_margin_history_keeps_identical_rows() -> None:
    rows = margin_rows(1200)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/positionMargin/history", history_endpoint(rows, 500))
    client = make_client(fake)
    got = list(
        client.iter_position_margin_history("BTCUSDT", start_time=START, end_time=START + 8 * DAY)
    )
    assert len(got) == 1200
    assert [g.time for g in got] == [r["time"] for r in rows]


async def test_async_iter_position_margin_history() -> None:
    rows = margin_rows(700)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/positionMargin/history", history_endpoint(rows, 500))
    async with make_async_client(fake) as client:
        got = [
            r
            async for r in client.iter_position_margin_history(
                "BTCUSDT", 1, START, START + DAY, page_size=100
            )
        ]
    assert len(got) == 700


def force_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "orderId": 900 + i,
            "symbol": "BTCUSDT",
            "status": "FILLED",
            "clientOrderId": f"autoclose-{i}",
            "price": "100",
            "avgPrice": "100",
            "origQty": "1",
            "executedQty": "1",
            "cumQuote": "100",
            "timeInForce": "IOC",
            "type": "LIMIT",
            "reduceOnly": True,
            "closePosition": False,
            "side": "SELL",
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "origType": "LIMIT",
            "time": START + (i // 2) * 3600_000,
            "updateTime": START,
            "id": i,
        }
        for i in range(n)
    ]


def test_iter_force_orders_pages_of_one_hundred() -> None:
    rows = force_rows(450)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/forceOrders", history_endpoint(rows, 100))
    client = make_client(fake)
    got = list(client.iter_force_orders(start_time=START, end_time=START + 10 * DAY))
    assert [g.order_id for g in got] == [r["orderId"] for r in rows]


async def test_async_iter_force_orders() -> None:
    rows = force_rows(250)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/forceOrders", history_endpoint(rows, 100))
    async with make_async_client(fake) as client:
        got = [
            r
            async for r in client.iter_force_orders(
                "BTCUSDT", "LIQUIDATION", START, START + 10 * DAY
            )
        ]
    assert [g.order_id for g in got] == [r["orderId"] for r in rows]
