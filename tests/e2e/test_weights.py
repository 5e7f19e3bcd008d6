"""Request weight over real HTTP (docs "LIMITS"): `X-MBX-USED-WEIGHT-1M` on every answer, each
endpoint's documented weight, 429 / -1003 with Retry-After past the limit, 418 for an IP that keeps
sending, and limits counted per IP.

Counts live in a one-minute window; a measurement that straddles a minute boundary is repeated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from aster_account.protocol import catalog

HEADER = "X-MBX-USED-WEIGHT-1M"

# Every endpoint with the weight the official v1 docs give it; `params` make the call valid.
DOC_WEIGHTS: list[tuple[str, str, dict[str, object], int]] = [
    ("GET", "/fapi/v2/balance", {}, 5),
    ("GET", "/fapi/v4/account", {}, 5),
    ("GET", "/fapi/v2/positionRisk", {}, 5),
    ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 9}, 1),
    ("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}, 1),
    ("POST", "/fapi/v1/positionMargin", {"symbol": "BTCUSDT", "amount": "1", "type": 1}, 1),
    ("GET", "/fapi/v1/positionMargin/history", {"symbol": "BTCUSDT"}, 1),
    (
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        {"amount": "1", "asset": "USDT", "clientTranId": "w-1", "kindType": "FUTURE_SPOT"},
        5,
    ),
    ("GET", "/fapi/v1/positionSide/dual", {}, 30),
    ("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"}, 1),
    ("GET", "/fapi/v1/multiAssetsMargin", {}, 30),
    ("POST", "/fapi/v1/multiAssetsMargin", {"multiAssetsMargin": "true"}, 1),
    ("GET", "/fapi/v1/income", {}, 30),
    ("GET", "/fapi/v1/leverageBracket", {}, 1),
    ("GET", "/fapi/v1/adlQuantile", {}, 5),
    ("GET", "/fapi/v1/forceOrders", {"symbol": "BTCUSDT"}, 20),
    ("GET", "/fapi/v1/forceOrders", {}, 50),
    ("GET", "/fapi/v1/commissionRate", {"symbol": "BTCUSDT"}, 20),
    (
        "GET",
        "/fapi/v1/remainingOpenableNotionalValue",
        {"symbol": "BTCUSDT", "leverage": 10},
        20,
    ),
    ("POST", "/fapi/v1/listenKey", {}, 1),
    ("PUT", "/fapi/v1/listenKey", {}, 1),
    ("DELETE", "/fapi/v1/listenKey", {}, 1),
    ("GET", "/fapi/v1/ping", {}, 1),
    ("GET", "/fapi/v1/time", {}, 1),
    ("GET", "/fapi/v1/exchangeInfo", {}, 1),
    ("GET", "/fapi/v1/premiumIndex", {"symbol": "BTCUSDT"}, 1),
    ("GET", "/fapi/v1/premiumIndex", {}, 1),
    (
        "POST",
        "/fapi/v1/order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
        1,
    ),
    ("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1}, 1),
    ("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1}, 1),
    ("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"}, 1),
    ("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}, 1),
    ("GET", "/fapi/v1/openOrders", {}, 40),
]


def used(r: Any) -> int:
    assert HEADER in r.headers, f"{r.request.method} {r.request.url.path}: no {HEADER}"
    return int(r.headers[HEADER])


def _minute() -> int:
    return int(time.time() // 60)


def weight_of(t: Any, send: Callable[[], Any]) -> tuple[int, Any]:
    """The weight one request added: the header after it minus the header of a ping just before.

    Repeated when the two fall in different minutes (the count restarts each minute)."""
    for _ in range(3):
        start = _minute()
        before = used(t.send("GET", "/fapi/v1/ping", signed=False))
        r = send()
        after = used(r)
        if _minute() == start:
            return after - before, r
    raise AssertionError("could not measure inside one minute")


def test_every_catalog_endpoint_has_a_documented_weight() -> None:
    assert {(m, p) for m, p, _, _ in DOC_WEIGHTS} == {ep.route for ep in catalog.ENDPOINTS}


@pytest.mark.parametrize(
    ("method", "path", "params", "weight"),
    DOC_WEIGHTS,
    ids=[f"{m} {p} {'+'.join(ps) or '-'}" for m, p, ps, _ in DOC_WEIGHTS],
)
def test_each_endpoint_counts_its_documented_weight(
    operator: Any, method: str, path: str, params: dict[str, object], weight: int
) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    operator.set_mark("BTCUSDT", "60000")
    if method in ("PUT", "DELETE") and path == "/fapi/v1/listenKey":
        t.ok("POST", "/fapi/v1/listenKey")

    added, r = weight_of(t, lambda: t.send(method, path, params))

    assert r.status_code in (200, 400), r.text  # counted whatever the outcome
    assert added == weight


def test_failed_requests_carry_and_count_weight(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})

    for send, status in [
        (lambda: t.send("GET", "/fapi/v2/balance", send_key=False), 401),
        (lambda: t.send("GET", "/fapi/v2/balance", secret="0" * 64), 400),
        (lambda: t.send("GET", "/fapi/v2/balance", timestamp=1), 400),
        (lambda: t.send("GET", "/fapi/v1/income", {"incomeType": "NOPE"}), 400),
        (lambda: t.send("GET", "/fapi/v1/income", {"startTime": 9, "endTime": 1}), 400),
        (lambda: t.send("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 0}), 400),
    ]:
        added, r = weight_of(t, send)
        assert r.status_code == status, r.text
        assert r.json()["code"] < 0
        catalog_ep = catalog.BY_ROUTE[(r.request.method, r.request.url.path)]
        assert added == catalog_ep.weight.base


def test_weight_accumulates_per_minute(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    for _ in range(3):
        start = _minute()
        first = used(t.send("GET", "/fapi/v2/balance"))
        second = used(t.send("GET", "/fapi/v1/income"))
        third = used(t.send("GET", "/fapi/v1/forceOrders"))
        if _minute() == start:
            assert (second - first, third - second) == (30, 50)
            return
    raise AssertionError("could not measure inside one minute")


def _wait_for_a_fresh_minute_if_late(margin_s: float = 4.0) -> None:
    """The limit test must fit in one minute window: start it early in one."""
    into = time.time() % 60
    if into > 60 - margin_s:
        time.sleep(60 - into + 0.05)


def test_over_the_limit_429_then_418_and_other_ips_unaffected(
    start_server: Callable[..., Any], connect: Callable[..., Any]
) -> None:
    small = start_server(weight_limit=50)
    # the offender sends from 127.0.0.3, where nothing has been counted yet (the readiness
    # probe of the fixture came from 127.0.0.1)
    account = connect(small).create_account(futures={"USDT": "100"})
    t = account.via(connect(small, local_address="127.0.0.3").api)
    elsewhere = account.via(connect(small, local_address="127.0.0.2").api)
    _wait_for_a_fresh_minute_if_late()

    full = t.send("GET", "/fapi/v1/forceOrders")  # weight 50: exactly the limit
    over = t.send("GET", "/fapi/v1/ping")

    assert (full.status_code, used(full)) == (200, 50)
    assert over.status_code == 429
    assert over.json() == {
        "code": -1003,
        "msg": "Too many requests; current limit is 50 requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
    }
    assert used(over) == 51
    retry_after = int(over.headers["Retry-After"])
    assert 1 <= retry_after <= 60

    # an IP that keeps sending after 429s is banned: 418, still -1003
    statuses = []
    for _ in range(30):
        r = t.send("GET", "/fapi/v1/ping")
        statuses.append(r.status_code)
        if r.status_code == 418:
            break
    assert statuses[-1] == 418, statuses
    assert set(statuses[:-1]) <= {429}
    banned = r.json()
    assert banned["code"] == -1003
    assert banned["msg"].startswith("Way too many requests; IP banned until ")
    until = int(banned["msg"].removeprefix("Way too many requests; IP banned until ").split(".")[0])
    assert until > time.time() * 1000 + 60_000  # the first ban lasts 2 minutes
    assert int(r.headers["Retry-After"]) >= 60
    assert HEADER in r.headers
    again = t.send("GET", "/fapi/v2/balance")
    assert again.status_code == 418
    assert HEADER in again.headers

    # the limit is per IP: the same key from 127.0.0.2 is served
    ping = elsewhere.send("GET", "/fapi/v1/ping", signed=False)
    assert (ping.status_code, used(ping)) == (200, 1)
    balance = elsewhere.send("GET", "/fapi/v2/balance")
    assert (balance.status_code, used(balance)) == (200, 6)
