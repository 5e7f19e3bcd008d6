"""Request weight: the client waits for the next server minute instead of being refused, honours
Retry-After on 429 / 418, and raises when it would wait longer than ``max_wait``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
import pytest
from clientfakes import START, FakeAster, FakeTime, make_async_client, make_client, ok

from aster_account.client._limits import MINUTE_MS, WeightGate
from aster_account.protocol.catalog import BY_NAME
from aster_account.protocol.errors import IPBannedError, RateLimitError

BALANCE = "/fapi/v2/balance"
T0 = int(START * 1000)  # a whole minute: T0 % 60000 == 20000
MINUTE_START = T0 - T0 % MINUTE_MS


# -- the gate alone ----------------------------------------------------------------------------


def test_gate_lets_through_what_fits_and_waits_for_the_next_minute_otherwise() -> None:
    gate = WeightGate(limit=10, margin_ms=250)
    now = MINUTE_START + 15_000
    assert gate.delay(5, now) == 0.0
    gate.take(5, now)
    gate.take(5, now)
    assert gate.delay(1, now) == pytest.approx((45_000 + 250) / 1000)
    # the next minute starts from zero
    assert gate.delay(10, MINUTE_START + MINUTE_MS) == 0.0


def test_gate_reads_the_servers_count_and_ignores_stale_minutes() -> None:
    gate = WeightGate(limit=2400)
    now = MINUTE_START + 1000
    gate.take(5, now)
    gate.observe({"x-mbx-used-weight-1m": "2398"}, now)  # other programs on this IP
    assert gate.used == 2398
    assert gate.delay(5, now) > 0
    gate.observe({"x-mbx-used-weight-1m": "7"}, now - MINUTE_MS)  # an answer from last minute
    assert gate.used == 2398
    gate.observe({"x-mbx-used-weight-1m": "not a number"}, now)
    assert gate.used == 2398


def test_gate_lets_an_oversized_request_through_an_empty_minute() -> None:
    gate = WeightGate(limit=10)
    assert gate.delay(50, MINUTE_START) == 0.0


def test_gate_block_and_ban() -> None:
    gate = WeightGate()
    gate.block(7, MINUTE_START)
    assert gate.delay(1, MINUTE_START + 2000) == pytest.approx(5.0)
    assert not gate.banned(MINUTE_START)
    gate.block(120, MINUTE_START, banned=True)
    assert gate.banned(MINUTE_START + 1000)
    assert not gate.banned(MINUTE_START + 121_000)


# -- the client against a counting server --------------------------------------------------------


@dataclass
class CountingServer:
    """Counts weight per server minute like Aster; answers 429 past the limit."""

    fake: FakeAster
    limit: int
    others: int = 0  # weight other programs on the IP used this minute
    used: dict[int, int] = field(default_factory=dict)
    refused: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        ep = next(e for e in BY_NAME.values() if e.path == request.url.path)
        minute = self.fake.server_ms() // MINUTE_MS
        total = self.used.get(minute, self.others) + ep.weight.base
        self.used[minute] = total
        headers = {"X-MBX-USED-WEIGHT-1M": str(total)}
        if total > self.limit:
            self.refused += 1
            return httpx.Response(
                429, json={"code": -1003, "msg": "Too many requests."}, headers=headers
            )
        body: object = [] if ep.name == "get_balance" else {"serverTime": self.fake.server_ms()}
        return httpx.Response(200, json=body, headers=headers)


def counting(limit: int, **kw: int) -> tuple[FakeAster, CountingServer]:
    fake = FakeAster(FakeTime())
    server = CountingServer(fake, limit, **kw)
    fake.default(BALANCE, server)
    fake.default("/fapi/v1/time", server)
    return fake, server


def test_throttle_waits_for_the_next_minute_instead_of_a_429() -> None:
    fake, server = counting(limit=12)
    client = make_client(fake, weight_limit=12)
    for _ in range(3):  # time (1) + 5 + 5 = 11; the third balance would make 16
        client.get_balance()
    assert server.refused == 0
    # it was 20 s into the minute: wait the 40 s left plus the 250 ms margin
    assert fake.time.sleeps == [pytest.approx(40.25)]
    assert client.used_weight == 5


def test_throttle_counts_what_other_programs_used() -> None:
    fake, server = counting(limit=2400, others=2390)
    client = make_client(fake)
    client.get_balance()  # time 1 + balance 5: the header says 2396
    client.get_balance()
    assert server.refused == 0 and fake.time.sleeps == [pytest.approx(40.25)]


def test_throttle_raises_rather_than_wait_longer_than_max_wait() -> None:
    fake, _ = counting(limit=12)
    client = make_client(fake, weight_limit=12, max_wait=10)
    client.get_balance()
    client.get_balance()
    sent = len(fake.requests)
    with pytest.raises(RateLimitError) as caught:
        client.get_balance()
    assert len(fake.requests) == sent  # refused before sending
    assert caught.value.retry_after == pytest.approx(40.25)
    assert caught.value.http_status == 0  # the client's decision, not the server's answer


def test_weight_depends_on_the_parameters_sent() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/forceOrders", ok([]))
    client = make_client(fake)
    client.get_force_orders()  # 50 without symbol
    client.get_force_orders("BTCUSDT")  # 20 with
    assert client.used_weight == 1 + 50 + 20


def test_429_waits_for_retry_after_then_sends_again() -> None:
    fake = FakeAster(FakeTime())
    fake.script(
        BALANCE,
        httpx.Response(429, json={"code": -1003, "msg": "Too many"}, headers={"Retry-After": "7"}),
        ok([]),
    )
    assert make_client(fake).get_balance() == []
    assert fake.time.sleeps == [7.0]
    assert fake.paths().count(BALANCE) == 2


def test_429_longer_than_max_wait_is_raised_with_retry_after() -> None:
    fake = FakeAster(FakeTime())
    fake.default(
        BALANCE,
        httpx.Response(429, json={"code": -1003, "msg": "Too many"}, headers={"Retry-After": "90"}),
    )
    with pytest.raises(RateLimitError) as caught:
        make_client(fake).get_balance()
    assert caught.value.retry_after == 90 and caught.value.code == -1003
    assert caught.value.http_status == 429
    assert fake.paths().count(BALANCE) == 1


def test_418_ban_is_raised_and_honoured_before_sending_again() -> None:
    fake = FakeAster(FakeTime())
    banned = httpx.Response(
        418,
        json={"code": -1003, "msg": "Way too many requests; IP banned until 1760000120000."},
        headers={"Retry-After": "120"},
    )
    fake.default(BALANCE, banned)
    client = make_client(fake)
    with pytest.raises(IPBannedError) as caught:
        client.get_balance()
    assert caught.value.retry_after == 120
    assert caught.value.banned_until_ms == 1760000120000
    sent = len(fake.requests)
    with pytest.raises(IPBannedError):
        client.get_balance()  # still banned: not sent
    assert len(fake.requests) == sent


def test_418_within_max_wait_is_waited_out() -> None:
    fake = FakeAster(FakeTime())
    fake.script(
        BALANCE,
        httpx.Response(418, json={"code": -1003, "msg": "banned"}, headers={"Retry-After": "3"}),
        ok([]),
    )
    assert make_client(fake).get_balance() == []
    assert fake.time.sleeps == [3.0]


def test_exchange_info_rate_limits_set_the_limit_unless_one_was_given() -> None:
    info = {
        "exchangeFilters": [],
        "rateLimits": [
            {"interval": "MINUTE", "intervalNum": 1, "limit": 1200, "rateLimitType": "ORDERS"},
            {
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 600,
                "rateLimitType": "REQUEST_WEIGHT",
            },
        ],
        "serverTime": T0,
        "assets": [],
        "symbols": [],
        "timezone": "UTC",
    }
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/exchangeInfo", ok(info))
    client = make_client(fake)
    assert client.weight_limit == 2400
    client.get_exchange_info()
    assert client.weight_limit == 600
    fixed = make_client(fake, weight_limit=100)
    fixed.get_exchange_info()
    assert fixed.weight_limit == 100


async def test_async_requests_in_flight_share_the_gate() -> None:
    fake, server = counting(limit=60)
    async with make_async_client(fake, weight_limit=60) as client:
        await asyncio.gather(*(client.get_balance() for _ in range(20)))  # 100 + 1 weight
    assert server.refused == 0
    assert fake.paths().count(BALANCE) == 20
    assert max(fake.time.sleeps) == pytest.approx(40.25, abs=0.05)  # less the clock polls
