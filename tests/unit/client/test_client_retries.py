"""Retries only where safe: reads after transport errors and 5xx, transfers with the same
clientTranId, and never any other write whose outcome is unknown."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from clientfakes import FakeAster, FakeTime, error, make_async_client, make_client, ok, params

from aster_account import AlreadyApplied
from aster_account.protocol.errors import (
    BadSymbol,
    DuplicatedClientTranId,
    TransportError,
    UnknownOutcome,
)
from aster_account.protocol.models import TransferResult

BALANCE = "/fapi/v2/balance"
LEVERAGE = "/fapi/v1/leverage"
TRANSFER = "/fapi/v1/asset/wallet/transfer"
INCOME = "/fapi/v1/income"
LEVERAGE_REPLY = {"leverage": 20, "maxNotionalValue": "2500000", "symbol": "BTCUSDT"}
DUPLICATE = "Client tran id should be unique within 7 days"


def gateway(status: int) -> httpx.Response:
    return httpx.Response(status, text="<html>bad gateway</html>")


# -- reads -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("connection reset"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        gateway(502),
        error(-1001, "Internal error; unable to process your request. Please try again.", 503),
        error(-1000, "An unknown error occured while processing the request.", 500),
    ],
    ids=["read-error", "read-timeout", "disconnected", "502", "503", "500"],
)
def test_reads_are_retried_with_backoff(failure: httpx.Response | Exception) -> None:
    fake = FakeAster(FakeTime())
    fake.script(BALANCE, failure, failure, ok([]))
    assert make_client(fake).get_balance() == []
    assert fake.paths().count(BALANCE) == 3
    assert fake.time.sleeps == [0.5, 1.0]


def test_a_read_gives_up_after_max_retries() -> None:
    fake = FakeAster(FakeTime())
    fake.default(BALANCE, gateway(502))
    with pytest.raises(UnknownOutcome) as caught:
        make_client(fake, max_retries=2).get_balance()
    assert caught.value.http_status == 502
    assert fake.paths().count(BALANCE) == 3
    assert fake.time.sleeps == [0.5, 1.0]


def test_connect_failures_become_transport_errors() -> None:
    fake = FakeAster(FakeTime())
    fake.script("/fapi/v1/ping", *[httpx.ConnectError("refused")] * 4)
    with pytest.raises(TransportError) as caught:
        make_client(fake).ping()
    assert caught.value.http_status == 0 and "could not connect" in caught.value.msg
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert fake.time.sleeps == [0.5, 1.0, 2.0]


def test_client_errors_are_not_retried() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/positionRisk", error(-1121, "Invalid symbol."))
    with pytest.raises(BadSymbol):
        make_client(fake).get_position_risk("NOPE")
    assert fake.paths().count("/fapi/v2/positionRisk") == 1


def test_listen_key_requests_are_idempotent_and_retried() -> None:
    fake = FakeAster(FakeTime())
    fake.script("/fapi/v1/listenKey", httpx.ReadError("reset"), ok({"listenKey": "abc"}))
    assert make_client(fake).new_listen_key().listen_key == "abc"


# -- writes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("connection reset"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        error(-1001, "Internal error; unable to process your request. Please try again.", 503),
        error(-1000, "An unknown error occured while processing the request.", 500),
        gateway(502),
    ],
    ids=["read-error", "read-timeout", "disconnected", "503", "500", "502"],
)
def test_a_write_whose_response_is_lost_raises_unknown_outcome_and_is_not_sent_again(
    failure: httpx.Response | Exception,
) -> None:
    fake = FakeAster(FakeTime())
    fake.script(LEVERAGE, failure, ok(LEVERAGE_REPLY))
    with pytest.raises(UnknownOutcome) as caught:
        make_client(fake).set_leverage("BTCUSDT", 20)
    assert fake.paths().count(LEVERAGE) == 1
    assert fake.time.sleeps == []
    # a 503 keeps the server's own message; the client says it for the others
    assert caught.value.http_status == 503 or "may have been processed" in caught.value.msg


def test_other_write_methods_are_not_sent_again_either() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/order", httpx.ReadError("reset"))
    client = make_client(fake)
    with pytest.raises(UnknownOutcome):
        client.new_order("BTCUSDT", "BUY", "MARKET", quantity="0.01")
    with pytest.raises(UnknownOutcome):
        client.cancel_order("BTCUSDT", order_id=1)
    assert [r.method for r in fake.sent("/fapi/v1/order")] == ["POST", "DELETE"]


def test_a_write_that_never_left_is_sent_again() -> None:
    fake = FakeAster(FakeTime())
    fake.script(LEVERAGE, httpx.ConnectError("refused"), ok(LEVERAGE_REPLY))
    assert make_client(fake).set_leverage("BTCUSDT", 20).leverage == 20
    assert fake.paths().count(LEVERAGE) == 2


def test_every_attempt_is_signed_with_a_fresh_timestamp() -> None:
    fake = FakeAster(FakeTime())
    fake.script(BALANCE, gateway(502), ok([]))
    make_client(fake).get_balance()
    first, second = (int(params(r)["timestamp"]) for r in fake.sent(BALANCE))
    assert second - first == 500  # the backoff


# -- transfers ---------------------------------------------------------------------------------


def test_a_transfer_is_retried_with_the_same_client_tran_id() -> None:
    fake = FakeAster(FakeTime())
    fake.script(
        TRANSFER,
        httpx.ReadTimeout("timed out"),
        error(-1001, "Internal error", 503),
        ok({"tranId": 21, "status": "SUCCESS"}),
    )
    result = make_client(fake).transfer(asset="USDT", amount=Decimal("25"), kind_type="FUTURE_SPOT")
    assert result == TransferResult(tran_id=21)
    ids = {params(r)["clientTranId"] for r in fake.sent(TRANSFER)}
    assert len(fake.sent(TRANSFER)) == 3 and len(ids) == 1


def test_a_given_client_tran_id_is_the_one_sent_every_time() -> None:
    fake = FakeAster(FakeTime())
    fake.script(TRANSFER, httpx.ReadError("reset"), ok({"tranId": 3, "status": "SUCCESS"}))
    make_client(fake).transfer(
        asset="USDT", amount="1", kind_type="SPOT_FUTURE", client_tran_id="mine-1"
    )
    assert [params(r)["clientTranId"] for r in fake.sent(TRANSFER)] == ["mine-1", "mine-1"]


def income_row(tran_id: int, amount: str, time: int, asset: str = "USDT") -> dict[str, object]:
    return {
        "symbol": "",
        "incomeType": "TRANSFER",
        "income": amount,
        "asset": asset,
        "info": "FUTURE_SPOT",
        "time": time,
        "tranId": str(tran_id),
        "tradeId": "",
    }


def test_minus_4115_after_a_lost_response_returns_the_earlier_transfer() -> None:
    fake = FakeAster(FakeTime())
    t = int(fake.time.t * 1000)
    fake.script(TRANSFER, httpx.ReadError("reset"), error(-4115, DUPLICATE))
    fake.default(
        INCOME,
        ok(
            [
                income_row(40, "-25.00000000", t - 3000),  # an older transfer of the same size
                income_row(41, "-25.00000000", t + 5),  # the lost one (time filter: startTime)
                income_row(42, "-7.00000000", t + 9),
                income_row(43, "25.00000000", t + 9),
                income_row(44, "-25.00000000", t + 9, asset="BTC"),
            ]
        ),
    )
    result = make_client(fake).transfer(asset="USDT", amount="25", kind_type="FUTURE_SPOT")
    assert result == TransferResult(tran_id=41)
    income = params(fake.sent(INCOME)[0])
    first_timestamp = int(params(fake.sent(TRANSFER)[0])["timestamp"])
    assert income["incomeType"] == "TRANSFER"
    assert int(income["startTime"]) == first_timestamp - 1000
    assert int(income["endTime"]) >= first_timestamp


def test_the_recovered_transfer_is_the_one_in_the_window() -> None:
    fake = FakeAster(FakeTime())
    t = int(fake.time.t * 1000)

    def income(request: httpx.Request) -> httpx.Response:
        p = params(request)
        rows = [income_row(40, "-25", t - 3000), income_row(41, "-25", t + 5)]
        start, end = int(p["startTime"]), int(p["endTime"])
        return ok([r for r in rows if start <= int(str(r["time"])) <= end])

    fake.script(TRANSFER, httpx.ReadError("reset"), error(-4115, DUPLICATE))
    fake.default(INCOME, income)
    client = make_client(fake)
    result = client.transfer(asset="USDT", amount="25", kind_type="FUTURE_SPOT")
    assert result == TransferResult(tran_id=41)
    raw_fake = FakeAster(FakeTime())
    raw_fake.script(TRANSFER, httpx.ReadError("reset"), error(-4115, DUPLICATE))
    raw_fake.default(INCOME, ok([income_row(41, "-25", t + 5)]))
    raw = make_client(raw_fake).raw.transfer(asset="USDT", amount="25", kind_type="FUTURE_SPOT")
    assert raw.synthetic and raw.json() == {"tranId": 41, "status": "SUCCESS"}


def test_an_earlier_transfer_that_cannot_be_told_apart_raises_already_applied() -> None:
    fake = FakeAster(FakeTime())
    t = int(fake.time.t * 1000)
    fake.script(TRANSFER, httpx.ReadError("reset"), error(-4115, DUPLICATE))
    fake.default(INCOME, ok([income_row(50, "-25", t + 1), income_row(51, "-25", t + 2)]))
    with pytest.raises(AlreadyApplied) as caught:
        make_client(fake).transfer(
            asset="USDT", amount="25", kind_type="FUTURE_SPOT", client_tran_id="dup"
        )
    assert caught.value.client_tran_id == "dup"
    assert caught.value.candidates == [50, 51]
    assert caught.value.code == -4115
    assert isinstance(caught.value, DuplicatedClientTranId)


def test_minus_4115_on_the_first_attempt_is_the_callers_reused_id() -> None:
    fake = FakeAster(FakeTime())
    fake.default(TRANSFER, error(-4115, DUPLICATE))
    with pytest.raises(DuplicatedClientTranId) as caught:
        make_client(fake).transfer(
            asset="USDT", amount="1", kind_type="FUTURE_SPOT", client_tran_id="used"
        )
    assert not isinstance(caught.value, AlreadyApplied)
    assert INCOME not in fake.paths()


def test_a_transfer_lost_on_every_attempt_says_how_to_finish_it() -> None:
    fake = FakeAster(FakeTime())
    fake.default(TRANSFER, httpx.ReadTimeout("timed out"))
    with pytest.raises(UnknownOutcome) as caught:
        make_client(fake, max_retries=2).transfer(asset="USDT", amount="1", kind_type="FUTURE_SPOT")
    sent = fake.sent(TRANSFER)
    cid = params(sent[0])["clientTranId"]
    assert len(sent) == 3 and {params(r)["clientTranId"] for r in sent} == {cid}
    assert caught.value.details["client_tran_id"] == cid
    assert f"clientTranId={cid}" in str(caught.value)


def test_a_transfer_refused_outright_is_not_retried() -> None:
    from aster_account.protocol.errors import BalanceNotSufficient

    fake = FakeAster(FakeTime())
    fake.default(TRANSFER, error(-2018, "Balance is insufficient."))
    with pytest.raises(BalanceNotSufficient):
        make_client(fake).transfer(asset="USDT", amount="1e9", kind_type="FUTURE_SPOT")
    assert len(fake.sent(TRANSFER)) == 1


# -- the same rules, async -----------------------------------------------------------------------


async def test_async_reads_are_retried_and_writes_are_not() -> None:
    fake = FakeAster(FakeTime())
    fake.script(BALANCE, httpx.ReadError("reset"), ok([]))
    fake.script(LEVERAGE, httpx.ReadError("reset"))
    async with make_async_client(fake) as client:
        assert await client.get_balance() == []
        with pytest.raises(UnknownOutcome):
            await client.set_leverage("BTCUSDT", 20)
    assert fake.paths().count(BALANCE) == 2 and fake.paths().count(LEVERAGE) == 1
    assert fake.time.sleeps == [0.5]


async def test_async_transfer_recovery() -> None:
    fake = FakeAster(FakeTime())
    t = int(fake.time.t * 1000)
    fake.script(TRANSFER, httpx.ReadError("reset"), error(-4115, DUPLICATE))
    fake.default(INCOME, ok([income_row(77, "10", t + 1)]))
    async with make_async_client(fake) as client:
        result = await client.transfer(asset="USDT", amount="10", kind_type="SPOT_FUTURE")
    assert result == TransferResult(tran_id=77)
    assert len({params(r)["clientTranId"] for r in fake.sent(TRANSFER)}) == 1
