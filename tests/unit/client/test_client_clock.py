"""The server clock offset: measured at the midpoint of a /time round trip, lazily, periodically,
and again (once) after a -1021."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from clientfakes import FakeAster, FakeTime, error, make_async_client, make_client, ok, params

from aster_account.client._clock import ServerClock
from aster_account.protocol.errors import InvalidTimestamp

BALANCE = "/fapi/v2/balance"
TIME = "/fapi/v1/time"
STALE = "Timestamp for this request is outside of the recvWindow."


def test_offset_is_server_time_minus_the_midpoint_of_the_round_trip() -> None:
    clock = ServerClock()
    # sent at 1000, received at 1200; the server read its clock at 5100 -> midpoint 1100
    clock.update(sent_ms=1000, server_ms=5100, received_ms=1200)
    assert clock.offset_ms == 4000
    assert clock.round_trip_ms == 200
    assert clock.server_ms(2000) == 6000


def test_the_latest_server_time_allows_for_half_the_round_trip() -> None:
    clock = ServerClock()
    assert clock.latest_ms(1000) == 1000  # not measured: no offset, no allowance
    # the server read 5000 somewhere between 1000 and 1021 on our clock: offset 3990 +- 10.5
    clock.update(sent_ms=1000, server_ms=5000, received_ms=1021)
    assert clock.server_ms(2000) == 5990
    assert clock.latest_ms(2000) == 5990 + 11


def test_first_signed_call_measures_the_offset_and_signs_with_it() -> None:
    time = FakeTime()
    fake = FakeAster(time, skew_ms=3000, latency_s=0.25)
    fake.default(BALANCE, ok([]))
    client = make_client(fake)
    t0 = time.t
    client.get_balance()
    assert fake.paths() == [TIME, BALANCE]
    # the server read its clock halfway through the round trip: offset = skew exactly
    assert client.time_offset_ms == 3000
    signed_at = t0 + 0.25  # the balance request was built when /time had come back
    assert int(params(fake.sent(BALANCE)[0])["timestamp"]) == int(signed_at * 1000) + 3000


def test_public_calls_do_not_measure_and_signed_calls_measure_once_then_every_ten_minutes() -> None:
    time = FakeTime()
    fake = FakeAster(time, skew_ms=-700)
    fake.default(BALANCE, ok([]))
    fake.default("/fapi/v1/ping", ok({}))
    client = make_client(fake)
    client.ping()
    assert fake.paths() == ["/fapi/v1/ping"]
    client.get_balance()
    client.get_balance()
    assert fake.paths().count(TIME) == 1
    time.t += 599
    client.get_balance()
    assert fake.paths().count(TIME) == 1
    time.t += 2
    fake.skew_ms = -900
    client.get_balance()
    assert fake.paths().count(TIME) == 2
    assert client.time_offset_ms == -900


def test_clock_refresh_is_configurable() -> None:
    time = FakeTime()
    fake = FakeAster(time)
    fake.default(BALANCE, ok([]))
    client = make_client(fake, clock_refresh=30)
    client.get_balance()
    time.t += 31
    client.get_balance()
    assert fake.paths().count(TIME) == 2


def test_minus_1021_resyncs_the_clock_and_retries_once() -> None:
    time = FakeTime()
    fake = FakeAster(time, skew_ms=0)
    client = make_client(fake)

    def balance(request: httpx.Request) -> httpx.Response:
        # the server refuses a timestamp more than 5 s away from its clock
        if abs(int(params(request)["timestamp"]) - fake.server_ms()) > 5000:
            return error(-1021, STALE)
        return ok([])

    fake.default(BALANCE, balance)
    client.get_balance()
    fake.skew_ms = 20_000  # the server clock jumps (or ours does)
    client.get_balance()
    assert fake.paths() == [TIME, BALANCE, BALANCE, TIME, BALANCE]
    assert client.time_offset_ms == 20_000


def test_a_second_minus_1021_is_raised() -> None:
    fake = FakeAster(FakeTime())
    fake.default(BALANCE, error(-1021, STALE))
    with pytest.raises(InvalidTimestamp):
        make_client(fake).get_balance()
    assert fake.paths() == [TIME, BALANCE, TIME, BALANCE]


def test_a_failed_measurement_raises_and_the_next_call_measures_again() -> None:
    from aster_account.protocol.errors import TransportError

    fake = FakeAster(FakeTime())
    fake.script(TIME, *[httpx.ConnectError("refused")] * 4)
    fake.default(BALANCE, ok([]))
    client = make_client(fake, max_retries=3)
    with pytest.raises(TransportError):
        client.get_balance()
    client.get_balance()
    assert fake.paths() == [TIME] * 5 + [BALANCE]


def test_sync_clock_measures_on_demand() -> None:
    fake = FakeAster(FakeTime(), skew_ms=1234)
    client = make_client(fake)
    assert client.sync_clock() == 1234
    assert fake.paths() == [TIME]


async def test_async_minus_1021_resync() -> None:
    fake = FakeAster(FakeTime())
    fake.script(BALANCE, error(-1021, STALE), ok([]))
    async with make_async_client(fake) as client:
        assert await client.get_balance() == []
    assert fake.paths() == [TIME, BALANCE, TIME, BALANCE]


async def test_concurrent_first_calls_measure_the_clock_once() -> None:
    fake = FakeAster(FakeTime(), skew_ms=400)
    fake.default(BALANCE, ok([]))
    async with make_async_client(fake) as client:
        await asyncio.gather(*(client.get_balance() for _ in range(16)))
        assert abs(client.time_offset_ms - 400) <= 5  # others' 5 ms polls overlap the trip
    assert fake.paths().count(TIME) == 1
    assert fake.paths().count(BALANCE) == 16


async def test_concurrent_minus_1021_resync_once() -> None:
    fake = FakeAster(FakeTime())
    client = make_async_client(fake)
    fake.default(BALANCE, ok([]))
    await client.get_balance()
    fake.script(BALANCE, *[error(-1021, STALE)] * 8)
    await asyncio.gather(*(client.get_balance() for _ in range(8)))
    await client.aclose()
    # 8 refused, one new measurement, 8 sent again
    assert fake.paths().count(TIME) == 2
    assert fake.paths().count(BALANCE) == 1 + 8 + 8
