"""Every error condition of FACTS.md's table over real HTTP: exact code, message and HTTP status,
the documented check order, and that a refused request changed nothing.

"Changed nothing" is checked on the stored account (`GET /operator/v1/accounts/{id}`: wallets,
positions, orders, configs, update times) and on its income ledger, before and after.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from aster_account.protocol import signing

D = Decimal
BTC_MARK = "60000"
ETH_MARK = "3000"

MANDATORY = "Mandatory parameter '{}' was not sent, was empty/null, or malformed."
INVALID = "Data sent for parameter '{}' is not valid."
BAD_KEY = "Invalid API-key, IP, or permissions for action."
BAD_SIGNATURE = "Signature for this request is not valid."
OUTSIDE_WINDOW = "Timestamp for this request is outside of the recvWindow."
AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."


def _now() -> int:
    return time.time_ns() // 1_000_000


def assert_error(r: Any, code: int, msg: str, status: int = 400) -> None:
    assert r.headers["content-type"].startswith("application/json")
    assert (r.status_code, r.json()) == (status, {"code": code, "msg": msg})


@contextmanager
def unchanged(operator: Any, t: Any) -> Iterator[None]:
    """The account's stored state and its income ledger are the same after the block."""
    state = operator.state(t.account_id)
    income = t.get("/fapi/v1/income")
    yield
    assert operator.state(t.account_id) == state
    assert t.get("/fapi/v1/income") == income


def funded(operator: Any, usdt: str = "1000", **kw: Any) -> Any:
    return operator.create_account(futures={"USDT": usdt}, **kw)


def buy(t: Any, operator: Any, symbol: str = "BTCUSDT", qty: str = "0.01") -> None:
    operator.set_mark(symbol, BTC_MARK if symbol == "BTCUSDT" else ETH_MARK)
    t.post("/fapi/v1/order", symbol=symbol, side="BUY", type="MARKET", quantity=qty)


def rest_bid(t: Any, operator: Any, symbol: str = "BTCUSDT") -> int:
    """A LIMIT BUY 2% under the mark: an open order."""
    mark = D(BTC_MARK if symbol == "BTCUSDT" else ETH_MARK)
    operator.set_mark(symbol, mark)
    order = t.post(
        "/fapi/v1/order",
        symbol=symbol,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price=str(mark * D("0.98")),
    )
    assert order["status"] == "NEW"
    return int(order["orderId"])


def isolated_eth(t: Any, operator: Any) -> None:
    """Isolated ETHUSDT long 0.1 at 3000, 20x: isolated wallet 15, MM 300 x 0.004 = 1.2."""
    operator.set_mark("ETHUSDT", ETH_MARK)
    t.post("/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    t.post("/fapi/v1/order", symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.1")


# -- parameters, key, timestamp, signature ---------------------------------------------------------


def test_missing_or_empty_mandatory_parameter_is_1102(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/leverage", {"leverage": 5})
        assert_error(r, -1102, MANDATORY.format("symbol"))
        r = t.send("POST", "/fapi/v1/leverage", {"symbol": "", "leverage": 5})
        assert_error(r, -1102, MANDATORY.format("symbol"))
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5}, add_timestamp=False
        )
        assert_error(r, -1102, MANDATORY.format("timestamp"))
        r = t.send(
            "POST",
            "/fapi/v1/asset/wallet/transfer",
            {"amount": "1", "asset": "USDT", "kindType": "FUTURE_SPOT"},
        )
        assert_error(r, -1102, MANDATORY.format("clientTranId"))


def test_missing_signature_is_1102(operator: Any) -> None:
    t = funded(operator)
    query = signing.encode_params([("symbol", "BTCUSDT"), ("leverage", 5), ("timestamp", _now())])
    with unchanged(operator, t):
        r = t.api.raw("POST", "/fapi/v1/leverage", query=query, headers={"X-MBX-APIKEY": t.api_key})
    assert_error(r, -1102, MANDATORY.format("signature"))


def test_no_api_key_is_2014_with_401(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5}, send_key=False
        )
        assert_error(r, -2014, "API-key format invalid.", 401)
        r = t.send("GET", "/fapi/v2/balance", api_key="")
        assert_error(r, -2014, "API-key format invalid.", 401)
        r = t.send("POST", "/fapi/v1/listenKey", send_key=False)  # USER_STREAM needs a key too
        assert_error(r, -2014, "API-key format invalid.", 401)


def test_malformed_api_key_is_2014(operator: Any) -> None:
    t = funded(operator)
    r = t.send("GET", "/fapi/v2/balance", api_key="not a key!")
    assert_error(r, -2014, "API-key format invalid.", 401)


def test_unknown_key_is_2015_with_401(operator: Any) -> None:
    t = funded(operator)
    stranger = "ab" * 32  # well-formed, never issued
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5}, api_key=stranger
        )
        assert_error(r, -2015, BAD_KEY, 401)
        r = t.send("POST", "/fapi/v1/listenKey", api_key=stranger)
        assert_error(r, -2015, BAD_KEY, 401)


def test_key_without_the_permission_is_2015(operator: Any) -> None:
    reader = operator.create_account(
        futures={"USDT": "1000"}, spot={"USDT": "100"}, permissions=["USER_DATA"]
    )
    assert reader.get("/fapi/v2/balance")  # USER_DATA is allowed
    with unchanged(operator, reader):
        r = reader.send(
            "POST",
            "/fapi/v1/asset/wallet/transfer",
            {"amount": "1", "asset": "USDT", "clientTranId": "perm-1", "kindType": "FUTURE_SPOT"},
        )
        assert_error(r, -2015, BAD_KEY, 401)
        r = reader.send("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5})
        assert_error(r, -2015, BAD_KEY, 401)
        r = reader.send(
            "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}
        )
        assert_error(r, -2015, BAD_KEY, 401)

    trader = operator.create_account(futures={"USDT": "1000"}, permissions=["TRADE"])
    assert trader.post("/fapi/v1/leverage", symbol="BTCUSDT", leverage=7)["leverage"] == 7
    assert_error(trader.send("GET", "/fapi/v2/balance"), -2015, BAD_KEY, 401)


def test_disabled_key_is_2015(operator: Any) -> None:
    t = funded(operator)
    operator.disable_key(t.api_key)
    assert_error(t.send("GET", "/fapi/v2/balance"), -2015, BAD_KEY, 401)


def test_timestamp_outside_recv_window_is_1021(operator: Any) -> None:
    t = funded(operator)
    params = {"symbol": "BTCUSDT", "leverage": 5}
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/leverage", params, timestamp=_now() - 10_000)
        assert_error(r, -1021, OUTSIDE_WINDOW)
        r = t.send(
            "POST", "/fapi/v1/leverage", {**params, "recvWindow": 2000}, timestamp=_now() - 4000
        )
        assert_error(r, -1021, OUTSIDE_WINDOW)
        r = t.send("POST", "/fapi/v1/leverage", params, timestamp=_now() + 5000)
        assert_error(r, -1021, AHEAD)
    # a wider window accepts the same age
    reply = t.post("/fapi/v1/leverage", **params, recvWindow=60000, timestamp=_now() - 10_000)
    assert reply["leverage"] == 5


def test_recv_window_above_60000_is_1131(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send("GET", "/fapi/v2/balance", {"recvWindow": 60001})
        assert_error(r, -1131, "'recvWindow' must be less than 60000.")
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5, "recvWindow": 60001}
        )
        assert_error(r, -1131, "'recvWindow' must be less than 60000.")
    assert t.get("/fapi/v2/balance", recvWindow=60000)
    assert t.get("/fapi/v2/balance", recvWindow=10000)  # what clients in the wild send


def test_bad_signature_is_1022_and_case_does_not_matter(operator: Any) -> None:
    t = funded(operator)
    ts = _now()
    signed = signing.signed_query(
        [("symbol", "BTCUSDT"), ("leverage", 5), ("timestamp", ts)], t.secret
    )
    headers = {"X-MBX-APIKEY": t.api_key}
    with unchanged(operator, t):
        tampered = signed.replace("leverage=5", "leverage=6")
        r = t.api.raw("POST", "/fapi/v1/leverage", query=tampered, headers=headers)
        assert_error(r, -1022, BAD_SIGNATURE)
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5}, secret="0" * 64
        )
        assert_error(r, -1022, BAD_SIGNATURE)
        r = t.api.raw(
            "POST", "/fapi/v1/leverage", query=signed + "0", headers=headers
        )  # 65 hex digits
        assert_error(r, -1022, BAD_SIGNATURE)

    upper = t.send(
        "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5}, signature_case=str.upper
    )
    assert upper.status_code == 200, upper.text
    assert upper.json()["leverage"] == 5
    body_upper = t.send(
        "POST",
        "/fapi/v1/leverage",
        {"symbol": "BTCUSDT", "leverage": 6},
        where="body",
        signature_case=str.upper,
    )
    assert body_upper.status_code == 200, body_upper.text


def test_unknown_symbol_is_1121(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        for method, path, params in [
            ("GET", "/fapi/v1/commissionRate", {"symbol": "NOPEUSDT"}),
            ("GET", "/fapi/v2/positionRisk", {"symbol": "NOPEUSDT"}),
            ("GET", "/fapi/v1/leverageBracket", {"symbol": "NOPEUSDT"}),
            ("GET", "/fapi/v1/premiumIndex", {"symbol": "NOPEUSDT"}),
            ("POST", "/fapi/v1/leverage", {"symbol": "NOPEUSDT", "leverage": 5}),
            ("POST", "/fapi/v1/marginType", {"symbol": "NOPEUSDT", "marginType": "ISOLATED"}),
            ("POST", "/fapi/v1/positionMargin", {"symbol": "NOPEUSDT", "amount": "1", "type": 1}),
            ("GET", "/fapi/v1/income", {"symbol": "NOPEUSDT"}),
        ]:
            r = t.send(method, path, params)
            assert_error(r, -1121, "Invalid symbol.")


@pytest.mark.parametrize(
    ("method", "path", "params", "bad"),
    [
        ("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "CROSS"}, "marginType"),
        ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "ten"}, "leverage"),
        ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "5.5"}, "leverage"),
        (
            "POST",
            "/fapi/v1/positionMargin",
            {"symbol": "BTCUSDT", "amount": "1", "type": 3},
            "type",
        ),
        (
            "POST",
            "/fapi/v1/positionMargin",
            {"symbol": "BTCUSDT", "amount": "1e3", "type": 1},
            "amount",
        ),
        (
            "POST",
            "/fapi/v1/asset/wallet/transfer",
            {"amount": "1", "asset": "USDT", "clientTranId": "x1", "kindType": "SIDEWAYS"},
            "kindType",
        ),
        ("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "yes"}, "dualSidePosition"),
        ("GET", "/fapi/v1/income", {"incomeType": "SALARY"}, "incomeType"),
        ("GET", "/fapi/v1/income", {"limit": "lots"}, "limit"),
        ("GET", "/fapi/v1/income", {"startTime": "yesterday"}, "startTime"),
        ("GET", "/fapi/v1/forceOrders", {"autoCloseType": "MARGIN"}, "autoCloseType"),
    ],
)
def test_bad_enum_or_number_is_1130(
    operator: Any, method: str, path: str, params: dict[str, object], bad: str
) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send(method, path, params)
    assert_error(r, -1130, INVALID.format(bad))


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/fapi/v1/income", {}),
        ("/fapi/v1/forceOrders", {}),
        ("/fapi/v1/positionMargin/history", {"symbol": "BTCUSDT"}),
    ],
)
def test_start_after_end_is_1023(operator: Any, path: str, extra: dict[str, object]) -> None:
    t = funded(operator)
    r = t.send("GET", path, {**extra, "startTime": 2_000_000, "endTime": 1_000_000})
    assert_error(r, -1023, "Start time is greater than end time.")


def test_check_order_parameters_key_timestamp_signature_business(operator: Any) -> None:
    t = funded(operator)
    stale = _now() - 60_000
    with unchanged(operator, t):
        # a missing parameter is reported before a missing key
        r = t.send("POST", "/fapi/v1/leverage", {"leverage": 5}, send_key=False)
        assert_error(r, -1102, MANDATORY.format("symbol"))
        # an unknown key before a stale timestamp
        r = t.send(
            "POST",
            "/fapi/v1/leverage",
            {"symbol": "BTCUSDT", "leverage": 5},
            api_key="cd" * 32,
            timestamp=stale,
        )
        assert_error(r, -2015, BAD_KEY, 401)
        # a stale timestamp before a bad signature
        r = t.send(
            "POST",
            "/fapi/v1/leverage",
            {"symbol": "BTCUSDT", "leverage": 5},
            timestamp=stale,
            secret="1" * 64,
        )
        assert_error(r, -1021, OUTSIDE_WINDOW)
        # a bad signature before the business rule (-4028)
        r = t.send(
            "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 200}, secret="1" * 64
        )
        assert_error(r, -1022, BAD_SIGNATURE)


# -- where the parameters go -----------------------------------------------------------------------


def test_signature_in_query_in_body_and_mixed(operator: Any) -> None:
    t = funded(operator)

    in_query = t.send(
        "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 3}, where="query"
    )
    in_body = t.send(
        "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 4}, where="body"
    )
    # docs example 3: symbol in the query, the rest and the signature in the body;
    # totalParams = query + body with no '&' between them
    mixed = t.send(
        "POST",
        "/fapi/v1/leverage",
        {"symbol": "BTCUSDT"},
        body={"leverage": 6},
        where="query",
    )

    assert [r.status_code for r in (in_query, in_body, mixed)] == [200, 200, 200], mixed.text
    assert [r.json()["leverage"] for r in (in_query, in_body, mixed)] == [3, 4, 6]
    assert t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")[0]["leverage"] == "6"


def test_mixed_signed_with_an_ampersand_between_parts_is_1022(operator: Any) -> None:
    t = funded(operator)
    query = "symbol=BTCUSDT"
    body = signing.encode_params([("leverage", 6), ("timestamp", _now())])
    signature = signing.sign(t.secret, f"{query}&{body}")  # not what the docs say to sign
    with unchanged(operator, t):
        r = t.api.raw(
            "POST",
            "/fapi/v1/leverage",
            query=query,
            body=f"{body}&signature={signature}",
            headers={"X-MBX-APIKEY": t.api_key},
        )
    assert_error(r, -1022, BAD_SIGNATURE)


def test_parameter_in_query_and_body_takes_the_query_value(operator: Any) -> None:
    t = funded(operator)

    r = t.send(
        "POST",
        "/fapi/v1/leverage",
        {"symbol": "BTCUSDT", "leverage": 10},
        body={"leverage": 5},
        where="query",
    )

    assert r.status_code == 200, r.text
    assert r.json()["leverage"] == 10
    assert t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")[0]["leverage"] == "10"


@pytest.mark.parametrize("where", ["query", "body"])
def test_duplicate_parameter_in_one_part_is_1101(operator: Any, where: str) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send(
            "POST",
            "/fapi/v1/leverage",
            [("symbol", "BTCUSDT"), ("leverage", 5), ("leverage", 6)],
            where=where,
        )
    assert_error(r, -1101, "Duplicate values for a parameter detected.")


# -- leverage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "leverage"), [("BTCUSDT", 0), ("BTCUSDT", 126), ("TRUTHUSDT", 51)]
)
def test_leverage_out_of_range_is_4028(operator: Any, symbol: str, leverage: int) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage})
    assert_error(r, -4028, f"Leverage {leverage} is not valid")


def test_remaining_openable_with_out_of_range_leverage_is_4028(operator: Any) -> None:
    t = funded(operator)
    r = t.send(
        "GET", "/fapi/v1/remainingOpenableNotionalValue", {"symbol": "BTCUSDT", "leverage": 126}
    )
    assert_error(r, -4028, "Leverage 126 is not valid")


def test_leverage_below_the_position_notional_is_2027(operator: Any) -> None:
    t = funded(operator)
    buy(t, operator, qty="0.03")  # notional 0.03 x 60000 = 1800

    with unchanged(operator, t):
        # maxNotional(125) = 1250 < 1800
        r = t.send("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 125})
    assert_error(r, -2027, "Exceeded the maximum allowable position at current leverage.")
    assert (
        t.post("/fapi/v1/leverage", symbol="BTCUSDT", leverage=100)["maxNotionalValue"] == "15000"
    )


# -- margin type -----------------------------------------------------------------------------------


def test_margin_type_4046_first_then_4047_then_4048(operator: Any) -> None:
    t = funded(operator)
    buy(t, operator)
    rest_bid(t, operator)

    with unchanged(operator, t):
        # unchanged is checked first, even with an open order and a position
        r = t.send("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "CROSSED"})
        assert_error(r, -4046, "No need to change margin type.")
        r = t.send("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"})
        assert_error(r, -4047, "Margin type cannot be changed if there exists open orders.")
    t.ok("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"})
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"})
        assert_error(r, -4048, "Margin type cannot be changed if there exists position.")


def test_isolated_under_multi_assets_is_4168(operator: Any) -> None:
    t = funded(operator)
    t.post("/fapi/v1/multiAssetsMargin", multiAssetsMargin="true")

    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"})
    assert_error(r, -4168, "Unable to adjust to isolated-margin mode under the Multi-Assets mode.")


# -- isolated position margin ----------------------------------------------------------------------


def test_position_margin_on_a_cross_position_is_4049(operator: Any) -> None:
    t = funded(operator)
    buy(t, operator)
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "BTCUSDT", "amount": "10", "type": 1}
        )
    assert_error(r, -4049, "Add margin only support for isolated position.")


def test_add_margin_to_no_position_is_4054(operator: Any) -> None:
    t = funded(operator)
    t.post("/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED")
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "BTCUSDT", "amount": "10", "type": 1}
        )
    assert_error(r, -4054, "Cannot add position margin: position is 0.")


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_position_margin_amount_not_positive_is_4055(operator: Any, amount: str) -> None:
    t = funded(operator)
    isolated_eth(t, operator)
    with unchanged(operator, t):
        for change in (1, 2):
            r = t.send(
                "POST",
                "/fapi/v1/positionMargin",
                {"symbol": "ETHUSDT", "amount": amount, "type": change},
            )
            assert_error(r, -4055, "Amount must be positive.")


def test_bad_position_side_is_4060(operator: Any) -> None:
    t = funded(operator)
    isolated_eth(t, operator)
    with unchanged(operator, t):
        # one-way mode takes BOTH only
        r = t.send(
            "POST",
            "/fapi/v1/positionMargin",
            {"symbol": "ETHUSDT", "positionSide": "LONG", "amount": "1", "type": 1},
        )
        assert_error(r, -4060, "Invalid position side.")

    hedger = funded(operator)
    hedger.post("/fapi/v1/positionSide/dual", dualSidePosition="true")
    hedger.post("/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    with unchanged(operator, hedger):
        # hedge mode must send LONG or SHORT
        r = hedger.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "ETHUSDT", "amount": "1", "type": 1}
        )
        assert_error(r, -4060, "Invalid position side.")
        r = hedger.send(
            "POST",
            "/fapi/v1/positionMargin",
            {"symbol": "ETHUSDT", "positionSide": "BOTH", "amount": "1", "type": 1},
        )
        assert_error(r, -4060, "Invalid position side.")


def test_add_more_than_available_is_4050(operator: Any) -> None:
    t = funded(operator)
    isolated_eth(t, operator)
    # available = 1000 - 0.105 commission - 15 isolated wallet = 984.895
    available = D(t.get("/fapi/v2/balance")[0]["availableBalance"])
    assert available == D("984.895")

    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "ETHUSDT", "amount": "984.896", "type": 1}
        )
    assert_error(r, -4050, "Cross balance insufficient.")
    assert t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="984.895", type=1)["amount"]


def test_reduce_more_than_allowed_is_4051(operator: Any) -> None:
    t = funded(operator)
    isolated_eth(t, operator)
    # reducible = max(0, min(IWB - MM, IWB + uPnL - mark x |size| / leverage))
    #           = min(15 - 1.2, 15 + 0 - 15) = 0
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "ETHUSDT", "amount": "1", "type": 2}
        )
        assert_error(r, -4051, "Isolated balance insufficient.")
    t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="10", type=1)
    # now min(25 - 1.2, 25 - 15) = 10
    with unchanged(operator, t):
        r = t.send(
            "POST", "/fapi/v1/positionMargin", {"symbol": "ETHUSDT", "amount": "10.01", "type": 2}
        )
        assert_error(r, -4051, "Isolated balance insufficient.")
    assert t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="10", type=2)["type"] == 2


# -- position mode and multi-assets mode -----------------------------------------------------------


def test_position_mode_4059_then_4067_then_4068(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"})
        assert_error(r, -4059, "No need to change position side.")
    buy(t, operator)
    rest_bid(t, operator, "ETHUSDT")
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"})
        assert_error(r, -4059, "No need to change position side.")
        r = t.send("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"})
        assert_error(r, -4067, "Position side cannot be changed if there exists open orders.")
    t.ok("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "ETHUSDT"})
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"})
        assert_error(r, -4068, "Position side cannot be changed if there exists position.")


def test_multi_assets_unchanged_is_4171(operator: Any) -> None:
    t = funded(operator)
    msg = "Adjusted asset mode is currently set and does not need to be adjusted repeatedly"
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/multiAssetsMargin", {"multiAssetsMargin": "false"})
        assert_error(r, -4171, msg)
    t.post("/fapi/v1/multiAssetsMargin", multiAssetsMargin="true")
    with unchanged(operator, t):
        r = t.send("POST", "/fapi/v1/multiAssetsMargin", {"multiAssetsMargin": "true"})
        assert_error(r, -4171, msg)


# -- transfers -------------------------------------------------------------------------------------


def _transfer(t: Any, amount: str, cid: str, kind: str = "FUTURE_SPOT") -> Any:
    return t.send(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        {"amount": amount, "asset": "USDT", "clientTranId": cid, "kindType": kind},
    )


def test_client_tran_id_too_long_is_4114(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        r = _transfer(t, "1", "x" * 64)
    assert_error(r, -4114, "Client tran id length should be less than 64 chars")
    assert _transfer(t, "1", "x" * 63).status_code == 200


def test_client_tran_id_reused_is_4115(operator: Any) -> None:
    t = funded(operator, spot={"USDT": "100"})
    first = _transfer(t, "5", "once")
    assert first.status_code == 200, first.text

    with unchanged(operator, t):
        r = _transfer(t, "5", "once")
        assert_error(r, -4115, "Client tran id should be unique within 7 days")
        r = _transfer(t, "7", "once", "SPOT_FUTURE")
        assert_error(r, -4115, "Client tran id should be unique within 7 days")
    # another account may use the same id
    assert _transfer(funded(operator), "5", "once").status_code == 200


DAY_MS = 24 * 60 * 60_000


def test_client_tran_id_still_taken_6_days_later(operator: Any) -> None:
    t = funded(operator)
    assert _transfer(t, "1", "week").status_code == 200

    with operator.shifted_clock(6 * DAY_MS, t), unchanged(operator, t):
        r = _transfer(t, "1", "week")
        assert_error(r, -4115, "Client tran id should be unique within 7 days")


def test_client_tran_id_free_again_after_7_days(operator: Any) -> None:
    t = funded(operator)
    assert _transfer(t, "1", "fortnight").status_code == 200

    with operator.shifted_clock(8 * DAY_MS, t):
        r = _transfer(t, "1", "fortnight")
        assert r.status_code == 200, r.text


def test_transfer_above_max_withdraw_is_2018(operator: Any) -> None:
    t = funded(operator, spot={"USDT": "50"})
    buy(t, operator)  # WB 999.79, IM 30: maxWithdrawAmount 969.79
    operator.set_mark("BTCUSDT", "61000")  # uPnL +10 is available but not withdrawable
    bal = t.get("/fapi/v2/balance")[0]
    assert D(bal["availableBalance"]) == D("979.29")
    assert D(bal["maxWithdrawAmount"]) == D("969.29")

    with unchanged(operator, t):
        r = _transfer(t, "970", "too-much")
        assert_error(r, -2018, "Balance is insufficient.")
        r = _transfer(t, "50.01", "spot-too-much", "SPOT_FUTURE")
        assert_error(r, -2018, "Balance is insufficient.")
    # a refused transfer does not use up its clientTranId
    assert _transfer(t, "969.29", "too-much").status_code == 200
    assert _transfer(t, "50", "spot-too-much", "SPOT_FUTURE").status_code == 200


# -- listen keys -----------------------------------------------------------------------------------


def test_unknown_listen_key_is_1125(operator: Any) -> None:
    t = funded(operator)
    with unchanged(operator, t):
        assert_error(t.send("PUT", "/fapi/v1/listenKey"), -1125, "This listenKey does not exist.")
        assert_error(
            t.send("DELETE", "/fapi/v1/listenKey"), -1125, "This listenKey does not exist."
        )
    t.ok("POST", "/fapi/v1/listenKey")
    t.ok("DELETE", "/fapi/v1/listenKey")
    assert_error(t.send("PUT", "/fapi/v1/listenKey"), -1125, "This listenKey does not exist.")
    assert_error(t.send("DELETE", "/fapi/v1/listenKey"), -1125, "This listenKey does not exist.")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/fapi/v9/nothing", 404),
        ("PATCH", "/fapi/v2/balance", 405),
        ("OPTIONS", "/fapi/v1/leverage", 405),
        ("GET", "/fapi/v1/asset/wallet/transfer", 405),
    ],
)
def test_unknown_paths_and_methods_answer_in_asters_shape(
    operator: Any, method: str, path: str, status: int
) -> None:
    r = operator.api.raw(method, path)
    assert_error(r, -1020, "This operation is not supported.", status)


def test_head_is_a_get_without_the_body(operator: Any) -> None:
    """HEAD on a GET endpoint: the GET's status and headers, no body (it was a bare 500)."""
    public = operator.api.raw("HEAD", "/fapi/v1/time")
    assert public.status_code == 200 and public.content == b""
    assert "x-mbx-used-weight-1m" in public.headers
    unsigned = operator.api.raw("HEAD", "/fapi/v2/balance")  # no key: as the GET, -2014 / 401
    assert unsigned.status_code == 401 and unsigned.content == b""
