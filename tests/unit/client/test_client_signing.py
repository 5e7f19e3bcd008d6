"""What goes on the wire: parameters, the key header, the HMAC signature, the timestamp."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from clientfakes import (
    BASE,
    KEY,
    SECRET,
    FakeAster,
    FakeTime,
    make_client,
    ok,
    params,
    verify_signature,
)

from aster_account import Client, MissingCredentials
from aster_account.protocol.enums import MarginType, PositionMarginChange, TransferKind
from aster_account.protocol.signing import signed_query

MARGIN_REPLY = {
    "amount": 100.0,
    "code": 200,
    "msg": "Successfully modify position margin.",
    "type": 1,
}


def test_signed_request_carries_key_params_timestamp_and_a_valid_signature() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/positionMargin", ok(MARGIN_REPLY))
    client = make_client(fake, recv_window=10000)
    client.modify_position_margin("BTCUSDT", Decimal("100.50"), PositionMarginChange.ADD, "LONG")
    request = fake.sent("/fapi/v1/positionMargin")[0]
    assert request.method == "POST"
    assert request.headers["X-MBX-APIKEY"] == KEY
    query = request.url.query.decode()
    # catalog order, then recvWindow and timestamp, signature last
    assert query.startswith(
        "symbol=BTCUSDT&positionSide=LONG&amount=100.50&type=1&recvWindow=10000&timestamp="
    )
    assert query.rsplit("&", 1)[1].startswith("signature=")
    assert verify_signature(request)
    assert not verify_signature(request, secret="another")
    # the timestamp is the client clock (no offset measured: the fake server has no skew)
    assert int(params(request)["timestamp"]) == int(fake.time.t * 1000)


def test_the_signature_is_the_docs_hmac_of_the_query_as_sent() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/leverage", ok({"leverage": 20, "maxNotionalValue": "1", "symbol": "X"}))
    make_client(fake).set_leverage("BTCUSDT", 20)
    request = fake.sent("/fapi/v1/leverage")[0]
    p = params(request)
    expected = signed_query(
        [
            ("symbol", "BTCUSDT"),
            ("leverage", 20),
            ("recvWindow", 5000),
            ("timestamp", int(p["timestamp"])),
        ],
        SECRET,
    )
    assert request.url.query.decode() == expected


def test_values_are_sent_as_aster_reads_them() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/marginType", ok({"code": 200, "msg": "success"}))
    fake.default("/fapi/v1/positionSide/dual", ok({"code": 200, "msg": "success"}))
    fake.default("/fapi/v1/asset/wallet/transfer", ok({"tranId": 7, "status": "SUCCESS"}))
    fake.default("/fapi/v1/income", ok([]))
    client = make_client(fake)
    client.set_margin_type("BTCUSDT", MarginType.CROSSED)
    client.set_position_mode(True)
    client.transfer(asset="USDT", amount=Decimal("1E+1"), kind_type=TransferKind.SPOT_FUTURE)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    client.get_income(income_type="FUNDING_FEE", start_time=start, limit=1000)
    assert params(fake.sent("/fapi/v1/marginType")[0])["marginType"] == "CROSSED"
    assert params(fake.sent("/fapi/v1/positionSide/dual")[0])["dualSidePosition"] == "true"
    transfer = params(fake.sent("/fapi/v1/asset/wallet/transfer")[0])
    assert transfer["amount"] == "10" and transfer["kindType"] == "SPOT_FUTURE"
    assert len(transfer["clientTranId"]) == 32  # generated, shorter than 64 (-4114)
    income = params(fake.sent("/fapi/v1/income")[0])
    assert income["startTime"] == str(int(start.timestamp() * 1000))
    assert "symbol" not in income and "endTime" not in income  # None: not sent
    assert income["incomeType"] == "FUNDING_FEE" and income["limit"] == "1000"


def test_money_is_never_a_float_and_datetimes_must_be_aware() -> None:
    fake = FakeAster(FakeTime())
    client = make_client(fake)
    with pytest.raises(TypeError, match="not a float"):
        client.transfer(asset="USDT", amount=0.1, kind_type="FUTURE_SPOT")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timezone-aware"):
        client.get_income(start_time=datetime(2026, 1, 1))
    assert fake.requests == []


def test_public_endpoints_are_unsigned_and_need_no_key() -> None:
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/ping", ok({}))
    client = Client(base_url=BASE, transport=httpx.MockTransport(fake))
    client.ping()
    request = fake.sent("/fapi/v1/ping")[0]
    assert request.url.query == b""
    assert "X-MBX-APIKEY" not in request.headers


def test_missing_credentials_fail_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASTER_API_KEY", raising=False)
    monkeypatch.delenv("ASTER_API_SECRET", raising=False)
    fake = FakeAster(FakeTime())
    transport = httpx.MockTransport(fake)
    with pytest.raises(MissingCredentials, match="ASTER_API_KEY"):
        Client(base_url=BASE, transport=transport).get_balance()
    with pytest.raises(MissingCredentials, match="ASTER_API_SECRET"):
        Client("key-only", base_url=BASE, transport=transport).get_balance()
    assert "/fapi/v2/balance" not in fake.paths()


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTER_API_KEY", KEY)
    monkeypatch.setenv("ASTER_API_SECRET", SECRET)
    fake = FakeAster(FakeTime())
    fake.default("/fapi/v2/balance", ok([]))
    Client(base_url=BASE, transport=httpx.MockTransport(fake)).get_balance()
    request = fake.sent("/fapi/v2/balance")[0]
    assert request.headers["X-MBX-APIKEY"] == KEY and verify_signature(request)


def test_a_2xx_body_with_an_error_code_is_that_error() -> None:
    from aster_account.protocol.errors import BadSymbol

    fake = FakeAster(FakeTime())
    fake.default("/fapi/v1/marginType", ok({"code": -1121, "msg": "Invalid symbol."}))
    with pytest.raises(BadSymbol) as caught:
        make_client(fake).set_margin_type("NOPE", "ISOLATED")
    assert caught.value.http_status == 200


def test_errors_carry_code_message_status_and_headers() -> None:
    from aster_account.protocol.errors import NoNeedToChangeMarginType

    fake = FakeAster(FakeTime())
    fake.default(
        "/fapi/v1/marginType",
        httpx.Response(
            400,
            json={"code": -4046, "msg": "No need to change margin type."},
            headers={"X-MBX-USED-WEIGHT-1M": "9"},
        ),
    )
    client = make_client(fake)
    with pytest.raises(NoNeedToChangeMarginType) as caught:
        client.set_margin_type("BTCUSDT", "ISOLATED")
    err = caught.value
    assert (err.code, err.msg, err.http_status) == (-4046, "No need to change margin type.", 400)
    assert err.headers["x-mbx-used-weight-1m"] == "9"
    assert len([r for r in fake.requests if r.url.path == "/fapi/v1/marginType"]) == 1


@pytest.mark.parametrize(
    ("method", "args", "path", "code"),
    [
        ("set_margin_type", ("BTCUSDT", "ISOLATED"), "/fapi/v1/marginType", -4046),
        ("set_position_mode", (False,), "/fapi/v1/positionSide/dual", -4059),
        ("set_multi_assets_mode", (True,), "/fapi/v1/multiAssetsMargin", -4171),
    ],
)
def test_ok_if_unchanged_turns_no_need_to_change_into_success(
    method: str, args: tuple[object, ...], path: str, code: int
) -> None:
    from aster_account.protocol.errors import AsterError
    from aster_account.protocol.models import CodeMsg

    fake = FakeAster(FakeTime())
    fake.default(path, httpx.Response(400, json={"code": code, "msg": "already so"}))
    client = make_client(fake)
    assert getattr(client, method)(*args, ok_if_unchanged=True) == CodeMsg(
        code=200, msg="already so"
    )
    raw = getattr(client.raw, method)(*args, ok_if_unchanged=True)
    assert raw.synthetic and raw.json() == {"code": code, "msg": "already so"}
    with pytest.raises(AsterError) as caught:
        getattr(client, method)(*args)
    assert caught.value.code == code
