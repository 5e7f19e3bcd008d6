"""binance-futures-connector (`UMFutures(base_url=...)`) and python-binance (`Client.futures_*`),
unmodified, against our server.

Every test runs once per SDK. They call the SDK's own method for each endpoint whose path Aster
shares with Binance, and its generic signed-request call for the Aster-only paths (v2 balance,
v4 account, v2 positionRisk, wallet transfer, remainingOpenableNotionalValue). Both SDKs hand back
the parsed JSON, so reads are checked for equality with what our REST answers at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from peers import (
    BINANCE_FUTURES_CONNECTOR,
    PYTHON_BINANCE,
    Account,
    Call,
    Operator,
    Peer,
    PeerDriver,
    RestError,
    ServerProcess,
    num,
)

SYMBOL = "BTCUSDT"
MARKS = {"BTCUSDT": "100000", "ETHUSDT": "3500"}
SUCCESS = {"code": 200, "msg": "success"}

CONNECTOR = "connector"
PYBINANCE = "python-binance"

# operation -> (binance-futures-connector method, python-binance method)
METHODS: dict[str, tuple[str, str]] = {
    "ping": ("ping", "futures_ping"),
    "time": ("time", "futures_time"),
    "exchange_info": ("exchange_info", "futures_exchange_info"),
    "mark_price": ("mark_price", "futures_mark_price"),
    "get_position_mode": ("get_position_mode", "futures_get_position_mode"),
    "change_position_mode": ("change_position_mode", "futures_change_position_mode"),
    "get_multi_assets_mode": ("get_multi_asset_mode", "futures_get_multi_assets_mode"),
    "change_multi_assets_mode": ("change_multi_asset_mode", "futures_change_multi_assets_mode"),
    "new_order": ("new_order", "futures_create_order"),
    "query_order": ("query_order", "futures_get_order"),
    "cancel_order": ("cancel_order", "futures_cancel_order"),
    "cancel_all": ("cancel_open_orders", "futures_cancel_all_open_orders"),
    "open_orders": ("get_orders", "futures_get_open_orders"),
    "leverage": ("change_leverage", "futures_change_leverage"),
    "margin_type": ("change_margin_type", "futures_change_margin_type"),
    "position_margin": ("modify_isolated_position_margin", "futures_change_position_margin"),
    "margin_history": ("get_position_margin_history", "futures_position_margin_history"),
    "income": ("get_income_history", "futures_income_history"),
    "brackets": ("leverage_brackets", "futures_leverage_bracket"),
    "adl": ("adl_quantile", "futures_adl_quantile_estimate"),
    "force_orders": ("force_orders", "futures_liquidation_orders"),
    "commission": ("commission_rate", "futures_commission_rate"),
    "new_listen_key": ("new_listen_key", "futures_stream_get_listen_key"),
    "keepalive": ("renew_listen_key", "futures_stream_keepalive"),
    "close_listen_key": ("close_listen_key", "futures_stream_close"),
}


@dataclass
class Sdk:
    """One account seen through one Binance SDK (`op`) and through our REST (`rest`)."""

    flavour: str
    peer: PeerDriver
    name: str
    rest: Account
    base_url: str

    def method(self, operation: str) -> str:
        return METHODS[operation][0 if self.flavour == CONNECTOR else 1]

    def op(self, operation: str, *args: Any, why: str = "", **kwargs: Any) -> Call:
        """The SDK's own method for `operation`; the label shows the call as written (with the
        listen key, which changes every run, as `key`)."""
        method = self.method(operation)
        shown = [
            "key" if operation.endswith("listen_key") or operation == "keepalive" else repr(a)
            for a in args
        ]
        # ids change with the tests before: the label names them instead
        shown += [f"{k}=<id>" if k == "orderId" else f"{k}={v!r}" for k, v in kwargs.items()]
        label = f"{method}({', '.join(shown)})" + (f" ({why})" if why else "")
        return self.call(method, *args, label=label, **kwargs)

    def call(self, method: str, *args: Any, label: str | None = None, **kwargs: Any) -> Call:
        return self.peer.call(self.name, method, *args, label=label, **kwargs)

    def signed(self, method: str, path: str, **params: Any) -> Call:
        """The SDK's generic signed request."""
        if self.flavour == CONNECTOR:
            return self.call(
                "sign_request",
                method,
                path,
                params,
                label=f"sign_request({method!r}, {path!r})",
            )
        return self.call(
            "_request",
            method.lower(),
            self.base_url + path,
            True,
            data=params,
            label=f"_request({method.lower()!r}, FUTURES_URL + {path.removeprefix('/fapi')!r}, "
            "signed=True)",
        )

    def buy(self, quantity: str, symbol: str = SYMBOL) -> Any:
        return self.rest.post(
            "/fapi/v1/order", symbol=symbol, side="BUY", type="MARKET", quantity=quantity
        )


SDKS = [
    pytest.param(
        (BINANCE_FUTURES_CONNECTOR, "binance_futures_connector.py", CONNECTOR), id=CONNECTOR
    ),
    pytest.param((PYTHON_BINANCE, "python_binance.py", PYBINANCE), id=PYBINANCE),
]


@pytest.fixture(scope="module", params=SDKS)
def sdk_driver(
    request: pytest.FixtureRequest, driver: Callable[..., PeerDriver]
) -> tuple[PeerDriver, str]:
    peer, script, flavour = request.param
    assert isinstance(peer, Peer)
    return driver(peer, script), flavour


@pytest.fixture(autouse=True)
def marks(operator: Operator) -> None:
    for symbol, price in MARKS.items():
        operator.mark(symbol, price, funding_rate="0.0001")


@pytest.fixture
def sdk(sdk_driver: tuple[PeerDriver, str], operator: Operator, server: ServerProcess) -> Sdk:
    peer, flavour = sdk_driver
    account = operator.create_account(futures="10000", spot="1000")
    name = f"account-{account.account_id}"
    peer.open(name, {"base_url": server.base_url, **account.credentials()})
    return Sdk(flavour, peer, name, account, server.base_url)


def public(sdk: Sdk, path: str, **params: Any) -> Any:
    return sdk.rest.request("GET", path, signed=False, **params)


def rejected(call: Call, status: int, code: int) -> bool:
    """The SDK raised its API error for this HTTP status and Aster code."""
    attrs = call.error["attrs"] if call.error else {}
    said = attrs.get("error_code", attrs.get("code"))
    return (attrs.get("status_code"), said, call.last_code) == (status, code, code)


# -- public endpoints --------------------------------------------------------------------------


def test_public_endpoints(sdk: Sdk) -> None:
    ping = sdk.op("ping")
    assert ping.value() == {}
    ping.note("{}")

    before = public(sdk, "/fapi/v1/time")["serverTime"]
    clock = sdk.op("time")
    assert before <= clock.value()["serverTime"] <= public(sdk, "/fapi/v1/time")["serverTime"]
    clock.note("serverTime between two REST reads")

    info = sdk.op("exchange_info")
    ours = public(sdk, "/fapi/v1/exchangeInfo")
    assert {**info.value(), "serverTime": 0} == {**ours, "serverTime": 0}
    info.note("= GET exchangeInfo (serverTime aside)")

    one = sdk.op("mark_price", symbol=SYMBOL)
    assert one.value() == public(sdk, "/fapi/v1/premiumIndex", symbol=SYMBOL)
    one.note("= GET premiumIndex?symbol")
    every = sdk.op("mark_price")
    assert every.value() == public(sdk, "/fapi/v1/premiumIndex")
    every.note("= GET premiumIndex")


# -- modes ---------------------------------------------------------------------------------------


def test_position_mode(sdk: Sdk) -> None:
    read = sdk.op("get_position_mode")
    assert read.value() == sdk.rest.get("/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    read.note("= GET positionSide/dual")

    hedge = sdk.op("change_position_mode", dualSidePosition="true")
    assert hedge.value() == SUCCESS
    assert sdk.rest.get("/fapi/v1/positionSide/dual") == {"dualSidePosition": True}
    hedge.note("{code: 200, msg: success}; dualSidePosition true after")

    again = sdk.op("change_position_mode", dualSidePosition="true", why="already set")
    assert rejected(again, 400, -4059)
    again.note("the SDK's API error: HTTP 400, -4059")

    back = sdk.op("change_position_mode", dualSidePosition="false")
    assert back.value() == SUCCESS
    assert sdk.rest.get("/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    back.note("dualSidePosition false after")


def test_multi_assets_mode(sdk: Sdk) -> None:
    read = sdk.op("get_multi_assets_mode")
    assert read.value() == sdk.rest.get("/fapi/v1/multiAssetsMargin")
    assert read.value() == {"multiAssetsMargin": False}
    read.note("= GET multiAssetsMargin")

    # python-binance takes a bool and sends "true" / "false"; the connector takes the text
    on, off = ("true", "false") if sdk.flavour == CONNECTOR else (True, False)
    turned_on = sdk.op("change_multi_assets_mode", multiAssetsMargin=on)
    assert turned_on.value() == SUCCESS
    assert sdk.rest.get("/fapi/v1/multiAssetsMargin") == {"multiAssetsMargin": True}
    turned_on.note("{code: 200, msg: success}; multiAssetsMargin true after")

    again = sdk.op("change_multi_assets_mode", multiAssetsMargin=on, why="already set")
    assert rejected(again, 400, -4171)
    again.note("the SDK's API error: HTTP 400, -4171")

    turned_off = sdk.op("change_multi_assets_mode", multiAssetsMargin=off)
    assert turned_off.value() == SUCCESS
    assert sdk.rest.get("/fapi/v1/multiAssetsMargin") == {"multiAssetsMargin": False}
    turned_off.note("multiAssetsMargin false after")


# -- orders ------------------------------------------------------------------------------------


def test_orders(sdk: Sdk) -> None:
    placed = sdk.op(
        "new_order",
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        quantity="0.01",
        price="90000",
        timeInForce="GTC",
    )
    order = placed.value()
    ours = sdk.rest.get("/fapi/v1/order", symbol=SYMBOL, orderId=order["orderId"])
    assert {k: v for k, v in ours.items() if k != "time"} == order
    assert (order["status"], order["origQty"], order["price"]) == ("NEW", "0.010", "90000")
    placed.note("a resting LIMIT: the reply = GET order (time aside)")

    queried = sdk.op("query_order", symbol=SYMBOL, orderId=order["orderId"])
    assert queried.value() == sdk.rest.get(
        "/fapi/v1/order", symbol=SYMBOL, orderId=order["orderId"]
    )
    queried.note("= GET order")

    listed = sdk.op("open_orders", symbol=SYMBOL)
    assert listed.value() == sdk.rest.get("/fapi/v1/openOrders", symbol=SYMBOL)
    assert [o["orderId"] for o in listed.value()] == [order["orderId"]]
    listed.note("= GET openOrders")

    cancelled = sdk.op("cancel_order", symbol=SYMBOL, orderId=order["orderId"])
    assert cancelled.value()["status"] == "CANCELED"
    assert {k: v for k, v in cancelled.value().items() if k not in ("status", "updateTime")} == {
        k: v for k, v in order.items() if k not in ("status", "updateTime")
    }
    assert sdk.rest.get("/fapi/v1/openOrders", symbol=SYMBOL) == []
    cancelled.note("the order, status CANCELED; gone from GET openOrders")

    sdk.op(
        "new_order",
        symbol=SYMBOL,
        side="SELL",
        type="LIMIT",
        quantity="0.01",
        price="110000",
        timeInForce="GTC",
    ).value()
    cleared = sdk.op("cancel_all", symbol=SYMBOL)
    # the docs' reply, with the code as text
    assert cleared.value() == {
        "code": "200",
        "msg": "The operation of cancel all open order is done.",
    }
    assert sdk.rest.get("/fapi/v1/openOrders", symbol=SYMBOL) == []
    cleared.note("{code: 200, msg: ...done.}; GET openOrders empty after")

    filled = sdk.op("new_order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01")
    order = filled.value()
    position = sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]
    assert (order["status"], order["executedQty"]) == ("FILLED", "0.010")
    assert position["positionAmt"] == "0.010"
    assert num(order["avgPrice"]) == num(position["entryPrice"])
    filled.note("a MARKET fill: FILLED, executedQty = positionAmt, avgPrice = entryPrice")


# -- leverage, margin type, isolated margin ------------------------------------------------------


def test_leverage_margin_type_and_position_margin(sdk: Sdk) -> None:
    leverage = sdk.op("leverage", symbol=SYMBOL, leverage=7)
    position = sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]
    assert leverage.value() == {
        "leverage": 7,
        "maxNotionalValue": position["maxNotionalValue"],
        "symbol": SYMBOL,
    }
    assert position["leverage"] == "7"
    leverage.note("{leverage, maxNotionalValue, symbol} = positionRisk")

    isolated = sdk.op("margin_type", symbol=SYMBOL, marginType="ISOLATED")
    assert isolated.value() == SUCCESS
    assert sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]["marginType"] == "isolated"
    isolated.note("{code: 200, msg: success}; positionRisk marginType isolated")

    again = sdk.op("margin_type", symbol=SYMBOL, marginType="ISOLATED", why="already set")
    assert rejected(again, 400, -4046)
    again.note("the SDK's API error: HTTP 400, -4046")

    sdk.buy("0.01")
    start = num(sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]["isolatedWallet"])
    added = sdk.op("position_margin", symbol=SYMBOL, amount="10", type=1)
    assert added.value() == {
        "amount": 10.0,
        "code": 200,
        "msg": "Successfully modify position margin.",
        "type": 1,
    }
    assert num(sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]["isolatedWallet"]) == (
        start + 10
    )
    added.note("Aster's reply; isolatedWallet +10")

    reduced = sdk.op("position_margin", symbol=SYMBOL, amount="4", type=2)
    assert reduced.value()["type"] == 2
    assert num(sdk.rest.get("/fapi/v2/positionRisk", symbol=SYMBOL)[0]["isolatedWallet"]) == (
        start + 6
    )
    reduced.note("isolatedWallet -4")

    history = sdk.op("margin_history", symbol=SYMBOL)
    assert history.value() == sdk.rest.get("/fapi/v1/positionMargin/history", symbol=SYMBOL)
    assert [(h["type"], h["amount"]) for h in history.value()] == [(1, "10"), (2, "4")]
    history.note("= GET positionMargin/history")

    cross = sdk.op("margin_type", symbol=SYMBOL, marginType="CROSSED", why="position open")
    assert rejected(cross, 400, -4048)
    cross.note("the SDK's API error: HTTP 400, -4048 (a position is open)")


# -- reads over an account with history --------------------------------------------------------


def test_account_reads(sdk: Sdk, operator: Operator) -> None:
    sdk.buy("0.1", "ETHUSDT")
    operator.mark("ETHUSDT", "3600")
    sdk.rest.post("/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="0.05")
    operator.funding("ETHUSDT")
    sdk.buy("0.01")

    reads: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
        ("income", {}, "/fapi/v1/income", {}),
        ("income", {"incomeType": "FUNDING_FEE"}, "/fapi/v1/income", {"incomeType": "FUNDING_FEE"}),
        ("brackets", {}, "/fapi/v1/leverageBracket", {}),
        ("brackets", {"symbol": SYMBOL}, "/fapi/v1/leverageBracket", {"symbol": SYMBOL}),
        ("adl", {}, "/fapi/v1/adlQuantile", {}),
        ("adl", {"symbol": SYMBOL}, "/fapi/v1/adlQuantile", {"symbol": SYMBOL}),
        ("force_orders", {}, "/fapi/v1/forceOrders", {}),
        ("commission", {"symbol": SYMBOL}, "/fapi/v1/commissionRate", {"symbol": SYMBOL}),
    ]
    for operation, kwargs, path, params in reads:
        call = sdk.op(operation, **kwargs)
        assert call.value() == sdk.rest.get(path, **params), call.label
        call.note(f"= GET {path.removeprefix('/fapi')}")
    kinds = {row["incomeType"] for row in sdk.rest.get("/fapi/v1/income")}
    assert {"TRANSFER", "COMMISSION", "REALIZED_PNL", "FUNDING_FEE"} <= kinds


# -- user data stream keys -----------------------------------------------------------------------


def test_listen_key(sdk: Sdk) -> None:
    opened = sdk.op("new_listen_key")
    # the connector hands back the reply, python-binance only the key
    key = opened.value()["listenKey"] if sdk.flavour == CONNECTOR else opened.value()
    assert sdk.rest.request("POST", "/fapi/v1/listenKey", signed=False) == {"listenKey": key}
    opened.note("the account's active key (REST POST answers it)")

    kept = sdk.op("keepalive", key)
    assert kept.value() == {}
    kept.note("{}")

    closed = sdk.op("close_listen_key", key)
    assert closed.value() == {}
    with pytest.raises(RestError) as gone:
        sdk.rest.request("PUT", "/fapi/v1/listenKey", signed=False, listenKey=key)
    assert gone.value.code == -1125
    closed.note("{}; PUT afterwards answers -1125")


# -- generic signed requests on the Aster paths --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/fapi/v2/balance", {}),
        ("/fapi/v4/account", {}),
        ("/fapi/v2/positionRisk", {}),
        ("/fapi/v2/positionRisk", {"symbol": SYMBOL}),
        ("/fapi/v1/remainingOpenableNotionalValue", {"symbol": SYMBOL, "leverage": 10}),
    ],
)
def test_generic_signed_reads(sdk: Sdk, path: str, params: dict[str, Any]) -> None:
    sdk.buy("0.01")
    call = sdk.signed("GET", path, **params)
    assert call.value() == sdk.rest.get(path, **params)
    call.note(f"= GET {path.removeprefix('/fapi')}" + (" with params" if params else ""))


def test_generic_signed_transfer(sdk: Sdk, operator: Operator) -> None:
    wallet = num(sdk.rest.get("/fapi/v2/balance")[0]["balance"])
    out = sdk.signed(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="100",
        kindType="FUTURE_SPOT",
        clientTranId=f"out{sdk.rest.account_id}",
    )
    assert out.value()["status"] == "SUCCESS"
    back = sdk.signed(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="40",
        kindType="SPOT_FUTURE",
        clientTranId=f"back{sdk.rest.account_id}",
    )
    assert back.value()["status"] == "SUCCESS"
    usdt = next(r for r in sdk.rest.get("/fapi/v2/balance") if r["asset"] == "USDT")
    assert num(usdt["balance"]) == wallet - 60
    assert operator.state(sdk.rest)["spot"]["USDT"] == "1060"
    income = {r["tranId"]: num(r["income"]) for r in sdk.rest.get("/fapi/v1/income")}
    # the transfer reply's tranId is a number, the income row's a string (docs)
    assert income[str(out.value()["tranId"])] == Decimal(-100)
    assert income[str(back.value()["tranId"])] == Decimal(40)
    out.note(
        "{tranId, status SUCCESS}: balance -100 then +40, spot the other way; tranIds in income"
    )


@pytest.fixture(scope="module")
def python_binance(driver: Callable[..., PeerDriver]) -> PeerDriver:
    return driver(PYTHON_BINANCE, "python_binance.py")


def test_python_binance_version_override(
    python_binance: PeerDriver, operator: Operator, server: ServerProcess
) -> None:
    """python-binance's own calls reach the Aster v2 paths with `version=2` (they default to
    Binance's v3 paths, which Aster keeps for its v3 auth); the connector has no such switch."""
    account = operator.create_account()
    name = f"account-{account.account_id}"
    python_binance.open(name, {"base_url": server.base_url, **account.credentials()})
    account.post("/fapi/v1/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01")

    balance = python_binance.call(
        name, "futures_account_balance", version=2, label="futures_account_balance(version=2)"
    )
    assert balance.value() == account.get("/fapi/v2/balance")
    balance.note("= GET /v2/balance")
    risk = python_binance.call(
        name,
        "futures_position_information",
        version=2,
        label="futures_position_information(version=2)",
    )
    assert risk.value() == account.get("/fapi/v2/positionRisk")
    risk.note("= GET /v2/positionRisk")
