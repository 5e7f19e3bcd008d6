"""Every endpoint of the catalog over real HTTP: its reply shape, then its numbers.

Shapes: each reply is read with `from_wire(Model, data, strict=True)` (no unknown keys) and every
field the docs document (plus FACTS.md's live extras) must be present with the JSON type Aster
sends: decimals as strings, leverage / bracket numbers / remainingOpenableNotionalValue /
positionMargin amount as numbers, balance updateTime as a string (FACTS [L]).

Numbers: the expected values are written out by hand next to the formula they come from
(FACTS.md "Account math"); fees are Aster's maker 0.0001 / taker 0.00035.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from aster_account.protocol import catalog
from aster_account.protocol import models as m
from aster_account.protocol.wire import Kind, from_wire, wire_fields

D = Decimal

# -- JSON types ----------------------------------------------------------------------------------

STR, DEC, NUM, INT, BOOL, INT_STR, BOOL_STR, ARR, OBJ = (
    "string",
    "decimal string",
    "number",
    "integer",
    "boolean",
    "integer string",
    "boolean string",
    "array",
    "object",
)
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _is(value: Any, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == DEC:
        return isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value) is not None
    if kind == NUM:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT_STR:
        return isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is not None
    if kind == BOOL_STR:
        return value in ("true", "false")
    if kind == ARR:
        return isinstance(value, list)
    if kind == OBJ:
        return isinstance(value, dict)
    raise AssertionError(kind)


def assert_types(data: Any, spec: dict[str, str], where: str = "") -> None:
    """Every documented key is present with its JSON type."""
    assert isinstance(data, dict), f"{where}: expected an object, got {data!r}"
    for key, kind in spec.items():
        assert key in data, f"{where}: {key!r} missing in {sorted(data)}"
        assert _is(data[key], kind), f"{where}.{key}: {data[key]!r} is not a {kind}"


_MODEL_JSON = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def assert_model_types(model: type[Any], data: dict[str, Any], where: str) -> None:
    """Each key has exactly the JSON type the model declares for it, nested models included."""
    for f in wire_fields(model):
        if f.wire not in data:
            continue
        value = data[f.wire]
        if value is None and f.nullable:
            continue
        if f.json_type is not None:
            assert _MODEL_JSON[f.json_type](value), f"{where}.{f.wire}: {value!r} not {f.json_type}"
        if f.kind is Kind.MODEL:
            assert_model_types(f.of, value, f"{where}.{f.wire}")  # type: ignore[arg-type]
        if f.kind is Kind.LIST_MODEL:
            for i, item in enumerate(value):
                assert_model_types(f.of, item, f"{where}.{f.wire}[{i}]")  # type: ignore[arg-type]


def pinned(model: type[Any], data: Any, spec: dict[str, str], where: str = "") -> Any:
    """The reply read strictly into `model`, after checking the documented keys and types."""
    where = where or model.__name__
    assert_types(data, spec, where)
    assert_model_types(model, data, where)
    return from_wire(model, data, strict=True)


# Documented fields and their JSON types (official v1 docs, corrected by FACTS.md [L]).
BALANCE_ROW = {
    "accountAlias": STR,
    "asset": STR,
    "balance": DEC,
    "crossWalletBalance": DEC,
    "crossUnPnl": DEC,
    "availableBalance": DEC,
    "maxWithdrawAmount": DEC,
    "marginAvailable": BOOL,
    "updateTime": INT_STR,  # FACTS [L]: a string in live captures
}
ACCOUNT = {
    "feeTier": INT,
    "canTrade": BOOL,
    "canDeposit": BOOL,
    "canWithdraw": BOOL,
    "updateTime": INT,
    **dict.fromkeys(
        [
            "totalInitialMargin",
            "totalMaintMargin",
            "totalWalletBalance",
            "totalUnrealizedProfit",
            "totalMarginBalance",
            "totalPositionInitialMargin",
            "totalOpenOrderInitialMargin",
            "totalCrossWalletBalance",
            "totalCrossUnPnl",
            "availableBalance",
            "maxWithdrawAmount",
        ],
        DEC,
    ),
    "assets": ARR,
    "positions": ARR,
}
ACCOUNT_ASSET = {
    "asset": STR,
    **dict.fromkeys(
        [
            "walletBalance",
            "unrealizedProfit",
            "marginBalance",
            "maintMargin",
            "initialMargin",
            "positionInitialMargin",
            "openOrderInitialMargin",
            "crossWalletBalance",
            "crossUnPnl",
            "availableBalance",
            "maxWithdrawAmount",
        ],
        DEC,
    ),
    "marginAvailable": BOOL,
    "updateTime": INT,
}
ACCOUNT_POSITION = {
    "symbol": STR,
    "initialMargin": DEC,
    "maintMargin": DEC,
    "unrealizedProfit": DEC,
    "positionInitialMargin": DEC,
    "openOrderInitialMargin": DEC,
    "leverage": INT_STR,
    "isolated": BOOL,
    "entryPrice": DEC,
    "maxNotional": DEC,
    "positionSide": STR,
    "positionAmt": DEC,
    "updateTime": INT,
}
POSITION_RISK = {
    "entryPrice": DEC,
    "marginType": STR,
    "isAutoAddMargin": BOOL_STR,
    "isolatedMargin": DEC,
    "leverage": INT_STR,
    "liquidationPrice": DEC,
    "markPrice": DEC,
    "maxNotionalValue": DEC,
    "positionAmt": DEC,
    "symbol": STR,
    "unRealizedProfit": DEC,
    "positionSide": STR,
    "notional": DEC,  # FACTS [L]
    "isolatedWallet": DEC,  # FACTS [L]
    "updateTime": INT,
}
LEVERAGE = {"leverage": INT, "maxNotionalValue": DEC, "symbol": STR}
CODE_MSG = {"code": INT, "msg": STR}
POSITION_MARGIN = {"amount": NUM, "code": INT, "msg": STR, "type": INT}
MARGIN_HISTORY = {
    "amount": DEC,
    "asset": STR,
    "symbol": STR,
    "time": INT,
    "type": INT,
    "positionSide": STR,
}
TRANSFER = {"tranId": INT, "status": STR}
POSITION_MODE = {"dualSidePosition": BOOL}
MULTI_ASSETS = {"multiAssetsMargin": BOOL}
INCOME = {
    "symbol": STR,
    "incomeType": STR,
    "income": DEC,
    "asset": STR,
    "info": STR,
    "time": INT,
    "tranId": STR,
    "tradeId": STR,
}
SYMBOL_BRACKETS = {"symbol": STR, "brackets": ARR}
BRACKET = {
    "bracket": INT,
    "initialLeverage": INT,
    "notionalCap": NUM,
    "notionalFloor": NUM,
    "maintMarginRatio": NUM,
    "cum": NUM,
}
ADL = {"symbol": STR, "adlQuantile": OBJ}
FORCE_ORDER = {
    "orderId": INT,
    "symbol": STR,
    "status": STR,
    "clientOrderId": STR,
    "price": DEC,
    "avgPrice": DEC,
    "origQty": DEC,
    "executedQty": DEC,
    "cumQuote": DEC,
    "timeInForce": STR,
    "type": STR,
    "reduceOnly": BOOL,
    "closePosition": BOOL,
    "side": STR,
    "positionSide": STR,
    "stopPrice": DEC,
    "workingType": STR,
    "origType": STR,
    "time": INT,
    "updateTime": INT,
}
COMMISSION = {"symbol": STR, "makerCommissionRate": DEC, "takerCommissionRate": DEC}
REMAINING = {"remainingOpenableNotionalValue": NUM}
LISTEN_KEY = {"listenKey": STR}
EMPTY: dict[str, str] = {}
SERVER_TIME = {"serverTime": INT}
EXCHANGE_INFO = {
    "timezone": STR,
    "serverTime": INT,
    "rateLimits": ARR,
    "exchangeFilters": ARR,
    "assets": ARR,
    "symbols": ARR,
}
PREMIUM_INDEX = {
    "symbol": STR,
    "markPrice": DEC,
    "indexPrice": DEC,
    "estimatedSettlePrice": DEC,
    "lastFundingRate": DEC,
    "nextFundingTime": INT,
    "interestRate": DEC,
    "time": INT,
}
_ORDER_COMMON = {
    "clientOrderId": STR,
    "cumQuote": DEC,
    "executedQty": DEC,
    "orderId": INT,
    "origQty": DEC,
    "price": DEC,
    "reduceOnly": BOOL,
    "side": STR,
    "positionSide": STR,
    "status": STR,
    "stopPrice": DEC,
    "closePosition": BOOL,
    "symbol": STR,
    "timeInForce": STR,
    "type": STR,
    "origType": STR,
    "updateTime": INT,
    "workingType": STR,
    "priceProtect": BOOL,
}
NEW_ORDER = {**_ORDER_COMMON, "cumQty": DEC, "avgPrice": DEC}
QUERY_ORDER = {**_ORDER_COMMON, "avgPrice": DEC, "time": INT}
CANCEL_ORDER = {**_ORDER_COMMON, "cumQty": DEC}
CANCEL_ALL = {"code": STR, "msg": STR}  # the docs send code as the string "200"


# -- scenarios -----------------------------------------------------------------------------------

BTC_MARK = D("60000")
ETH_MARK = D("3000")


def buy_btc(t: Any, op: Any, qty: str = "0.01", mark: Decimal = BTC_MARK) -> Any:
    op.set_mark("BTCUSDT", mark)
    return t.post("/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity=qty)


def rest_btc_bid(t: Any, op: Any, price: str = "58000") -> int:
    """A LIMIT BUY below the mark: it rests as an open order."""
    op.set_mark("BTCUSDT", BTC_MARK)
    order = t.post(
        "/fapi/v1/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price=price,
    )
    assert order["status"] == "NEW"
    return int(order["orderId"])


def isolated_eth(t: Any, op: Any) -> None:
    """An isolated ETHUSDT long of 0.1 at 3000: isolated wallet 0.1 x 3000 / 20 = 15."""
    op.set_mark("ETHUSDT", ETH_MARK)
    t.post("/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED")
    t.post("/fapi/v1/order", symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.1")


def liquidated_btc(t: Any, op: Any) -> None:
    """100 USDT, long 0.01 BTC at 60000 (cross, 20x), then the mark falls through LP.

    WB = 100 - 0.01 x 60000 x 0.00035 = 99.79; bracket 1 (mmr 0.004, cum 0);
    LP = (WB + cum - pos x ep) / (pos x mmr - pos) = (99.79 - 600) / (0.00004 - 0.01) = 50221.887
    """
    buy_btc(t, op)
    risk = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")[0]
    assert abs(D(risk["liquidationPrice"]) - D("50221.887")) <= D("0.1")
    op.set_mark("BTCUSDT", "50000")


@dataclass(frozen=True)
class Case:
    """How to reach one endpoint with a non-trivial reply, and what that reply must look like."""

    method: str
    path: str
    model: type[Any]
    spec: dict[str, str]
    prepare: Callable[[Any, Any], dict[str, object]]
    many: bool = False  # the reply is a JSON array of `model`
    futures: str = "10000"  # the account's USDT


def _nothing(_t: Any, _op: Any) -> dict[str, object]:
    return {}


def _with_position(t: Any, op: Any) -> dict[str, object]:
    buy_btc(t, op)
    return {}


def _margin_history(t: Any, op: Any) -> dict[str, object]:
    isolated_eth(t, op)
    t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="10", type=1)
    return {"symbol": "ETHUSDT"}


def _add_margin(t: Any, op: Any) -> dict[str, object]:
    isolated_eth(t, op)
    return {"symbol": "ETHUSDT", "amount": "10", "type": 1}


def _income(t: Any, op: Any) -> dict[str, object]:
    buy_btc(t, op)
    return {}


def _force_orders(t: Any, op: Any) -> dict[str, object]:
    liquidated_btc(t, op)
    return {"symbol": "BTCUSDT"}


def _order_lookup(t: Any, op: Any) -> dict[str, object]:
    return {"symbol": "BTCUSDT", "orderId": rest_btc_bid(t, op)}


def _cancel_all(t: Any, op: Any) -> dict[str, object]:
    rest_btc_bid(t, op)
    return {"symbol": "BTCUSDT"}


def _open_orders(t: Any, op: Any) -> dict[str, object]:
    rest_btc_bid(t, op)
    return {"symbol": "BTCUSDT"}


def _listen_key(t: Any, _op: Any) -> dict[str, object]:
    t.ok("POST", "/fapi/v1/listenKey")
    return {}


def _market_order(_t: Any, op: Any) -> dict[str, object]:
    op.set_mark("BTCUSDT", BTC_MARK)
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}


def _symbol(symbol: str) -> Callable[[Any, Any], dict[str, object]]:
    return lambda _t, _op: {"symbol": symbol}


# One entry per catalog endpoint; method and path as the official docs give them.
CASES: dict[str, Case] = {
    "get_balance": Case("GET", "/fapi/v2/balance", m.BalanceRow, BALANCE_ROW, _nothing, True),
    "get_account": Case("GET", "/fapi/v4/account", m.AccountInfo, ACCOUNT, _with_position),
    "get_position_risk": Case(
        "GET", "/fapi/v2/positionRisk", m.PositionRisk, POSITION_RISK, _with_position, True
    ),
    "set_leverage": Case(
        "POST",
        "/fapi/v1/leverage",
        m.LeverageResult,
        LEVERAGE,
        lambda _t, _op: {"symbol": "BTCUSDT", "leverage": 10},
    ),
    "set_margin_type": Case(
        "POST",
        "/fapi/v1/marginType",
        m.CodeMsg,
        CODE_MSG,
        lambda _t, _op: {"symbol": "ETHUSDT", "marginType": "ISOLATED"},
    ),
    "modify_position_margin": Case(
        "POST", "/fapi/v1/positionMargin", m.PositionMarginResult, POSITION_MARGIN, _add_margin
    ),
    "get_position_margin_history": Case(
        "GET",
        "/fapi/v1/positionMargin/history",
        m.MarginHistoryEntry,
        MARGIN_HISTORY,
        _margin_history,
        True,
    ),
    "transfer": Case(
        "POST",
        "/fapi/v1/asset/wallet/transfer",
        m.TransferResult,
        TRANSFER,
        lambda _t, _op: {
            "amount": "1",
            "asset": "USDT",
            "clientTranId": f"shape-{time.time_ns()}",
            "kindType": "FUTURE_SPOT",
        },
    ),
    "get_position_mode": Case(
        "GET", "/fapi/v1/positionSide/dual", m.PositionMode, POSITION_MODE, _nothing
    ),
    "set_position_mode": Case(
        "POST",
        "/fapi/v1/positionSide/dual",
        m.CodeMsg,
        CODE_MSG,
        lambda _t, _op: {"dualSidePosition": "true"},
    ),
    "get_multi_assets_mode": Case(
        "GET", "/fapi/v1/multiAssetsMargin", m.MultiAssetsMode, MULTI_ASSETS, _nothing
    ),
    "set_multi_assets_mode": Case(
        "POST",
        "/fapi/v1/multiAssetsMargin",
        m.CodeMsg,
        CODE_MSG,
        lambda _t, _op: {"multiAssetsMargin": "true"},
    ),
    "get_income": Case("GET", "/fapi/v1/income", m.Income, INCOME, _income, True),
    "get_leverage_brackets": Case(
        "GET", "/fapi/v1/leverageBracket", m.SymbolBrackets, SYMBOL_BRACKETS, _symbol("BTCUSDT")
    ),
    "get_adl_quantile": Case(
        "GET", "/fapi/v1/adlQuantile", m.AdlQuantile, ADL, _with_position, True
    ),
    "get_force_orders": Case(
        "GET", "/fapi/v1/forceOrders", m.ForceOrder, FORCE_ORDER, _force_orders, True, "100"
    ),
    "get_commission_rate": Case(
        "GET", "/fapi/v1/commissionRate", m.CommissionRate, COMMISSION, _symbol("BTCUSDT")
    ),
    "get_remaining_openable_notional": Case(
        "GET",
        "/fapi/v1/remainingOpenableNotionalValue",
        m.RemainingOpenable,
        REMAINING,
        lambda _t, _op: {"symbol": "BTCUSDT", "leverage": 20},
    ),
    "new_listen_key": Case("POST", "/fapi/v1/listenKey", m.ListenKey, LISTEN_KEY, _nothing),
    "keepalive_listen_key": Case("PUT", "/fapi/v1/listenKey", m.Empty, EMPTY, _listen_key),
    "close_listen_key": Case("DELETE", "/fapi/v1/listenKey", m.Empty, EMPTY, _listen_key),
    "ping": Case("GET", "/fapi/v1/ping", m.Empty, EMPTY, _nothing),
    "get_server_time": Case("GET", "/fapi/v1/time", m.ServerTime, SERVER_TIME, _nothing),
    "get_exchange_info": Case(
        "GET", "/fapi/v1/exchangeInfo", m.ExchangeInfo, EXCHANGE_INFO, _nothing
    ),
    "get_premium_index": Case(
        "GET", "/fapi/v1/premiumIndex", m.PremiumIndex, PREMIUM_INDEX, _symbol("BTCUSDT")
    ),
    "new_order": Case("POST", "/fapi/v1/order", m.Order, NEW_ORDER, _market_order),
    "get_order": Case("GET", "/fapi/v1/order", m.Order, QUERY_ORDER, _order_lookup),
    "cancel_order": Case("DELETE", "/fapi/v1/order", m.Order, CANCEL_ORDER, _order_lookup),
    "cancel_all_open_orders": Case(
        "DELETE", "/fapi/v1/allOpenOrders", m.CancelAllResult, CANCEL_ALL, _cancel_all
    ),
    "get_open_orders": Case("GET", "/fapi/v1/openOrders", m.Order, QUERY_ORDER, _open_orders, True),
}

# Nested objects with documented fields of their own.
NESTED: dict[str, list[tuple[str, type[Any], dict[str, str]]]] = {
    "get_account": [
        ("assets", m.AccountAsset, ACCOUNT_ASSET),
        ("positions", m.AccountPosition, ACCOUNT_POSITION),
    ],
    "get_leverage_brackets": [("brackets", m.Bracket, BRACKET)],
}


def test_every_catalog_endpoint_has_a_case_at_the_documented_route() -> None:
    names = [ep.name for ep in catalog.ENDPOINTS]
    assert sorted(CASES) == sorted(names), "an endpoint without an e2e case, or a stale case"
    for ep in catalog.ENDPOINTS:
        assert ep.route == (CASES[ep.name].method, CASES[ep.name].path), ep.name


@pytest.mark.parametrize("name", [ep.name for ep in catalog.ENDPOINTS])
def test_reply_shape(name: str, operator: Any) -> None:
    case = CASES[name]
    t = operator.create_account(futures={"USDT": case.futures}, spot={"USDT": "1000"})
    params = case.prepare(t, operator)

    data = t.ok(case.method, case.path, params)

    rows = data if case.many else [data]
    if case.many:
        assert isinstance(data, list)
        assert rows, f"{name}: the scenario should give at least one row"
    for i, row in enumerate(rows):
        pinned(case.model, row, case.spec, f"{name}[{i}]")
        for key, model, spec in NESTED.get(name, []):
            assert row[key], f"{name}: {key} is empty"
            for j, item in enumerate(row[key]):
                pinned(model, item, spec, f"{name}.{key}[{j}]")


# -- numbers -------------------------------------------------------------------------------------


def by_symbol(rows: list[dict[str, Any]], symbol: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["symbol"] == symbol]
    return row


def usdt(rows: list[dict[str, Any]]) -> dict[str, Any]:
    [row] = [r for r in rows if r["asset"] == "USDT"]
    return row


def test_market_buy_balance_account_and_position_arithmetic(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})

    order = buy_btc(t, operator)  # 0.01 BTCUSDT at mark 60000, default leverage 20

    assert order["status"] == "FILLED"
    assert D(order["executedQty"]) == D("0.01")
    assert D(order["avgPrice"]) == BTC_MARK
    assert D(order["cumQuote"]) == D("600")  # 0.01 x 60000
    # commission = 0.01 x 60000 x 0.00035 = 0.21; wallet = 1000 - 0.21
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["balance"]) == D("999.79")
    assert D(bal["crossWalletBalance"]) == D("999.79")
    assert D(bal["crossUnPnl"]) == 0
    assert D(bal["availableBalance"]) == D("969.79")  # 999.79 - 600 / 20
    assert D(bal["maxWithdrawAmount"]) == D("969.79")

    acct = t.get("/fapi/v4/account")
    assert D(acct["totalWalletBalance"]) == D("999.79")
    assert D(acct["totalInitialMargin"]) == D("30")  # 600 / 20
    assert D(acct["totalPositionInitialMargin"]) == D("30")
    assert D(acct["totalOpenOrderInitialMargin"]) == 0
    assert D(acct["totalMaintMargin"]) == D("2.4")  # 600 x 0.004 - 0 (bracket 1)
    assert D(acct["totalMarginBalance"]) == D("999.79")
    assert D(acct["availableBalance"]) == D("969.79")
    pos = by_symbol([p for p in acct["positions"] if p["positionSide"] == "BOTH"], "BTCUSDT")
    assert D(pos["positionAmt"]) == D("0.01")
    assert D(pos["entryPrice"]) == BTC_MARK
    assert pos["leverage"] == "20"
    assert D(pos["maxNotional"]) == D("2500000")  # max cap of brackets with lev >= 20
    assert D(pos["maintMargin"]) == D("2.4")
    assert D(pos["positionInitialMargin"]) == D("30")
    assert pos["isolated"] is False

    [risk] = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert D(risk["positionAmt"]) == D("0.01")
    assert D(risk["notional"]) == D("600")
    assert D(risk["markPrice"]) == BTC_MARK
    assert D(risk["unRealizedProfit"]) == 0
    assert risk["marginType"] == "cross"  # lowercase in GET replies (FACTS [L])
    assert risk["isAutoAddMargin"] == "false"
    assert D(risk["isolatedMargin"]) == 0
    # (999.79 - 600) / (0.00004 - 0.01) < 0: reported as "0"
    assert D(risk["liquidationPrice"]) == 0

    # the mark moves up 1000: uPnL = 0.01 x (61000 - 60000) = 10
    operator.set_mark("BTCUSDT", "61000")
    [risk] = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert D(risk["unRealizedProfit"]) == D("10")
    assert D(risk["notional"]) == D("610")
    assert D(risk["markPrice"]) == D("61000")
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["balance"]) == D("999.79")
    assert D(bal["crossUnPnl"]) == D("10")
    assert D(bal["availableBalance"]) == D("979.29")  # 999.79 + 10 - 610 / 20
    assert D(bal["maxWithdrawAmount"]) == D("969.29")  # profit is not withdrawable: - 30.5 only
    acct = t.get("/fapi/v4/account")
    assert D(acct["totalUnrealizedProfit"]) == D("10")
    assert D(acct["totalMarginBalance"]) == D("1009.79")

    # and down: uPnL = 0.01 x (59000 - 60000) = -10
    operator.set_mark("BTCUSDT", "59000")
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["crossUnPnl"]) == D("-10")
    assert D(bal["availableBalance"]) == D("960.29")  # 999.79 - 10 - 590 / 20
    assert D(bal["maxWithdrawAmount"]) == D("960.29")


def test_open_order_reserves_initial_margin(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})

    rest_btc_bid(t, operator, price="58000")  # BUY 0.01 at 58000, mark 60000, 20x

    acct = t.get("/fapi/v4/account")
    # order IM = 0.01 x 58000 / 20 = 29; openLoss = 0.01 x |min(0, 60000 - 58000)| = 0
    assert D(acct["totalOpenOrderInitialMargin"]) == D("29")
    assert D(acct["availableBalance"]) == D("971")  # 1000 - 29
    assert D(acct["totalWalletBalance"]) == D("1000")
    [opened] = t.get("/fapi/v1/openOrders", symbol="BTCUSDT")
    assert D(opened["price"]) == D("58000")
    assert D(opened["origQty"]) == D("0.01")


def test_income_rows_types_values_and_order(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    buy_btc(t, operator)  # commission 0.21
    # funding at rate 0.0001 on the long: fee = 0.01 x 61000 x 0.0001 = 0.061, longs pay
    operator.set_mark("BTCUSDT", "61000", fundingRate="0.0001")
    operator.funding("BTCUSDT")
    # close at 61000: realized = 0.01 x (61000 - 60000) = 10; commission 0.01 x 61000 x 0.00035
    t.post("/fapi/v1/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01")

    rows = t.get("/fapi/v1/income")

    for row in rows:
        pinned(m.Income, row, INCOME)
    times = [r["time"] for r in rows]
    assert times == sorted(times), "income is returned oldest first"
    got = [(r["incomeType"], D(r["income"]), r["symbol"]) for r in rows]
    assert got[0] == ("TRANSFER", D("1000"), "")
    assert sorted(got[1:]) == sorted(
        [
            ("COMMISSION", D("-0.21"), "BTCUSDT"),
            ("FUNDING_FEE", D("-0.061"), "BTCUSDT"),
            ("REALIZED_PNL", D("10"), "BTCUSDT"),
            ("COMMISSION", D("-0.2135"), "BTCUSDT"),
        ]
    )
    # commission (open) before funding before the close
    kinds = [r["incomeType"] for r in rows]
    assert kinds.index("FUNDING_FEE") > kinds.index("COMMISSION")
    assert kinds.index("REALIZED_PNL") > kinds.index("FUNDING_FEE")
    trade_rows = [r for r in rows if r["incomeType"] in ("COMMISSION", "REALIZED_PNL")]
    assert all(r["tradeId"] for r in trade_rows)
    assert rows[0]["tradeId"] == ""
    # the wallet is the sum of its ledger: 1000 - 0.21 - 0.061 + 10 - 0.2135
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["balance"]) == D("1009.5155") == sum(D(r["income"]) for r in rows)

    commissions = t.get("/fapi/v1/income", incomeType="COMMISSION")
    assert [D(r["income"]) for r in commissions] == [D("-0.21"), D("-0.2135")]
    assert all(r["symbol"] == "BTCUSDT" for r in t.get("/fapi/v1/income", symbol="BTCUSDT"))
    assert len(t.get("/fapi/v1/income", symbol="BTCUSDT")) == 4
    assert len(t.get("/fapi/v1/income", limit=2)) == 2
    assert t.get("/fapi/v1/income", startTime=1, endTime=2) == []


@pytest.mark.parametrize(
    ("leverage", "max_notional"),
    [
        (125, "1250"),  # only bracket 1 allows 125x
        (100, "15000"),
        (50, "300000"),
        (21, "1750000"),  # brackets with initialLeverage >= 21 end at 25x, cap 1750000
        (20, "2500000"),  # FACTS [L]: BTCUSDT at 20x allows 2.5M
        (1, "45000000"),
    ],
)
def test_leverage_reply_max_notional_from_brackets(
    operator: Any, leverage: int, max_notional: str
) -> None:
    t = operator.create_account(futures={"USDT": "100"})
    brackets = t.get("/fapi/v1/leverageBracket", symbol="BTCUSDT")["brackets"]
    # maxNotionalValue(L) = max(notionalCap of brackets whose initialLeverage >= L)
    expected = max(D(repr(b["notionalCap"])) for b in brackets if b["initialLeverage"] >= leverage)
    assert expected == D(max_notional)

    reply = t.post("/fapi/v1/leverage", symbol="BTCUSDT", leverage=leverage)

    assert reply == {"leverage": leverage, "maxNotionalValue": max_notional, "symbol": "BTCUSDT"}
    [risk] = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert risk["leverage"] == str(leverage)
    assert D(risk["maxNotionalValue"]) == D(max_notional)


def test_brackets_one_symbol_and_all(operator: Any) -> None:
    t = operator.create_account()

    every = t.get("/fapi/v1/leverageBracket")
    one = t.get("/fapi/v1/leverageBracket", symbol="ETHUSDT")

    assert isinstance(every, list)
    assert isinstance(one, dict)
    assert one == by_symbol(every, "ETHUSDT")
    info = t.get("/fapi/v1/exchangeInfo")
    assert {b["symbol"] for b in every} == {s["symbol"] for s in info["symbols"]}
    for entry in every:
        pinned(m.SymbolBrackets, entry, SYMBOL_BRACKETS)
        rows = entry["brackets"]
        assert [b["bracket"] for b in rows] == list(range(1, len(rows) + 1))
        assert rows[0]["notionalFloor"] == 0
        assert rows[0]["cum"] == 0
        for prev, cur in itertools.pairwise(rows):
            assert cur["notionalFloor"] == prev["notionalCap"], entry["symbol"]
            assert cur["initialLeverage"] < prev["initialLeverage"]
            # cum_n = cum_(n-1) + floor_n x (mmr_n - mmr_(n-1))
            step = D(repr(cur["notionalFloor"])) * (
                D(repr(cur["maintMarginRatio"])) - D(repr(prev["maintMarginRatio"]))
            )
            assert D(repr(cur["cum"])) == D(repr(prev["cum"])) + step, entry["symbol"]
    btc = by_symbol(every, "BTCUSDT")["brackets"]
    assert (btc[1]["cum"], btc[2]["cum"]) == (1.25, 23.75)  # 1250 x 0.001; + 15000 x 0.0015


def test_commission_rate_is_asters_default(operator: Any) -> None:
    t = operator.create_account()

    for symbol in ("BTCUSDT", "ETHUSDT"):
        rate = t.get("/fapi/v1/commissionRate", symbol=symbol)
        assert rate == {
            "symbol": symbol,
            "makerCommissionRate": rate["makerCommissionRate"],
            "takerCommissionRate": rate["takerCommissionRate"],
        }
        assert D(rate["makerCommissionRate"]) == D("0.0001")
        assert D(rate["takerCommissionRate"]) == D("0.00035")


def test_remaining_openable_notional(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    operator.set_mark("BTCUSDT", BTC_MARK)

    def remaining(leverage: int) -> Any:
        value = t.get(
            "/fapi/v1/remainingOpenableNotionalValue", symbol="BTCUSDT", leverage=leverage
        )["remainingOpenableNotionalValue"]
        assert _is(value, NUM)
        return D(repr(value))

    # min(maxNotional(L) - |notional|, available x L)
    assert remaining(20) == D("20000")  # min(2500000 - 0, 1000 x 20)
    assert remaining(125) == D("1250")  # min(1250 - 0, 1000 x 125)
    buy_btc(t, operator)  # available 969.79, notional 600
    assert remaining(20) == D("19395.8")  # min(2500000 - 600, 969.79 x 20)
    assert remaining(125) == D("650")  # min(1250 - 600, 969.79 x 125)


def test_position_margin_add_reduce_and_history(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    isolated_eth(t, operator)  # isolated wallet 15; commission 0.1 x 3000 x 0.00035 = 0.105
    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    assert risk["marginType"] == "isolated"
    assert D(risk["isolatedWallet"]) == D("15")
    before = usdt(t.get("/fapi/v2/balance"))
    assert D(before["balance"]) == D("999.895")
    assert D(before["crossWalletBalance"]) == D("984.895")  # WB - isolated wallet 15
    assert D(before["availableBalance"]) == D("984.895")

    added = t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="10", type=1)
    reduced = t.post("/fapi/v1/positionMargin", symbol="ETHUSDT", amount="4", type=2)

    assert added["amount"] == 10
    assert added["type"] == 1
    assert (added["code"], added["msg"]) == (200, "Successfully modify position margin.")
    assert reduced["amount"] == 4
    assert reduced["type"] == 2
    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    assert D(risk["isolatedWallet"]) == D("21")  # 15 + 10 - 4
    assert D(risk["isolatedMargin"]) == D("21")  # isolated wallet + uPnL 0
    after = usdt(t.get("/fapi/v2/balance"))
    assert D(after["balance"]) == D("999.895")  # moving margin is not income
    assert D(after["crossWalletBalance"]) == D("978.895")  # 999.895 - 21
    history = t.get("/fapi/v1/positionMargin/history", symbol="ETHUSDT")
    assert [(D(h["amount"]), h["type"], h["positionSide"]) for h in history] == [
        (D("10"), 1, "BOTH"),
        (D("4"), 2, "BOTH"),
    ]
    assert all(h["asset"] == "USDT" and h["symbol"] == "ETHUSDT" for h in history)
    assert [
        h["type"] for h in t.get("/fapi/v1/positionMargin/history", symbol="ETHUSDT", type=2)
    ] == [2]
    assert t.get("/fapi/v1/positionMargin/history", symbol="BTCUSDT") == []


def test_transfer_moves_money_and_writes_income(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"}, spot={"USDT": "200"})

    out = t.post(
        "/fapi/v1/asset/wallet/transfer",
        amount="100",
        asset="USDT",
        clientTranId="t-out-1",
        kindType="FUTURE_SPOT",
    )
    back = t.post(
        "/fapi/v1/asset/wallet/transfer",
        amount="250",
        asset="USDT",
        clientTranId="t-in-1",
        kindType="SPOT_FUTURE",
    )

    assert out["status"] == back["status"] == "SUCCESS"
    assert back["tranId"] != out["tranId"]
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["balance"]) == D("1150")  # 1000 - 100 + 250
    state = operator.state(t.account_id)
    assert D(state["spot"]["USDT"]) == D("50")  # 200 + 100 - 250
    transfers = t.get("/fapi/v1/income", incomeType="TRANSFER")
    assert [D(r["income"]) for r in transfers] == [D("1000"), D("-100"), D("250")]
    assert [r["tranId"] for r in transfers[1:]] == [str(out["tranId"]), str(back["tranId"])]


def test_position_modes_read_back(operator: Any) -> None:
    t = operator.create_account()

    assert t.get("/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    assert t.post("/fapi/v1/positionSide/dual", dualSidePosition="true") == {
        "code": 200,
        "msg": "success",
    }
    assert t.get("/fapi/v1/positionSide/dual") == {"dualSidePosition": True}
    sides = {r["positionSide"] for r in t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")}
    assert sides == {"LONG", "SHORT"}

    assert t.get("/fapi/v1/multiAssetsMargin") == {"multiAssetsMargin": False}
    assert t.post("/fapi/v1/multiAssetsMargin", multiAssetsMargin="true") == {
        "code": 200,
        "msg": "success",
    }
    assert t.get("/fapi/v1/multiAssetsMargin") == {"multiAssetsMargin": True}


def test_position_risk_lists_every_symbol_without_a_symbol(operator: Any) -> None:
    t = operator.create_account()
    symbols = {s["symbol"] for s in t.get("/fapi/v1/exchangeInfo")["symbols"]}

    rows = t.get("/fapi/v2/positionRisk")

    assert sorted(r["symbol"] for r in rows) == sorted(symbols)  # one BOTH row per symbol
    assert {r["positionSide"] for r in rows} == {"BOTH"}
    assert all(D(r["positionAmt"]) == 0 for r in rows)


def test_adl_quantile_of_an_open_position(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    assert t.get("/fapi/v1/adlQuantile") == []

    buy_btc(t, operator)
    rows = t.get("/fapi/v1/adlQuantile")

    [row] = rows
    assert row["symbol"] == "BTCUSDT"
    assert set(row["adlQuantile"]) == {"LONG", "SHORT", "BOTH"}
    assert all(0 <= q <= 4 for q in row["adlQuantile"].values())
    assert t.get("/fapi/v1/adlQuantile", symbol="ETHUSDT") == []


def test_force_orders_after_a_liquidation(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "100"})

    liquidated_btc(t, operator)

    [row] = t.get("/fapi/v1/forceOrders", symbol="BTCUSDT")
    pinned(m.ForceOrder, row, FORCE_ORDER)
    assert (row["symbol"], row["side"], row["positionSide"]) == ("BTCUSDT", "SELL", "BOTH")
    assert row["status"] == "FILLED"
    assert D(row["origQty"]) == D(row["executedQty"]) == D("0.01")
    assert D(row["cumQuote"]) == D(row["avgPrice"]) * D("0.01")
    assert t.get("/fapi/v1/forceOrders") == [row]
    assert t.get("/fapi/v1/forceOrders", autoCloseType="LIQUIDATION") == [row]
    assert t.get("/fapi/v1/forceOrders", autoCloseType="ADL") == []
    [risk] = t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert D(risk["positionAmt"]) == 0
    assert D(usdt(t.get("/fapi/v2/balance"))["balance"]) >= 0


def test_premium_index_single_and_list(operator: Any) -> None:
    t = operator.create_account()
    operator.set_mark("ETHUSDT", "3123.45", indexPrice="3120", fundingRate="0.0003")

    one = t.get("/fapi/v1/premiumIndex", symbol="ETHUSDT")
    every = t.get("/fapi/v1/premiumIndex")

    assert isinstance(one, dict)
    assert isinstance(every, list)
    pinned(m.PremiumIndex, one, PREMIUM_INDEX)
    for row in every:
        pinned(m.PremiumIndex, row, PREMIUM_INDEX)
    assert one == by_symbol(every, "ETHUSDT")
    assert D(one["markPrice"]) == D("3123.45")
    assert D(one["indexPrice"]) == D("3120")
    assert D(one["lastFundingRate"]) == D("0.0003")
    assert one["nextFundingTime"] > one["time"]
    symbols = {s["symbol"] for s in t.get("/fapi/v1/exchangeInfo")["symbols"]}
    assert {r["symbol"] for r in every} == symbols


def test_exchange_info_symbols_filters_and_rate_limits(api: Any, server: Any) -> None:
    before = int(time.time() * 1000)
    info = api.get("/fapi/v1/exchangeInfo").json()

    pinned(m.ExchangeInfo, info, EXCHANGE_INFO)
    assert info["timezone"] == "UTC"
    assert abs(info["serverTime"] - before) < 10_000
    limits = {r["rateLimitType"]: r for r in info["rateLimits"]}
    assert limits["REQUEST_WEIGHT"] == {
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": server.weight_limit,
        "rateLimitType": "REQUEST_WEIGHT",
    }
    assert limits["ORDERS"]["limit"] == 1200
    assert {"BTCUSDT", "ETHUSDT"} <= {s["symbol"] for s in info["symbols"]}
    btc = by_symbol(info["symbols"], "BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL"} <= set(filters)
    assert D(filters["PRICE_FILTER"]["tickSize"]) == D("0.1")
    assert D(filters["LOT_SIZE"]["stepSize"]) == D("0.001")
    assert (btc["marginAsset"], btc["quoteAsset"], btc["contractType"]) == (
        "USDT",
        "USDT",
        "PERPETUAL",
    )
    assert "USDT" in {a["asset"] for a in info["assets"]}


def test_spot_exchange_info_for_ccxt(api: Any) -> None:
    r = api.get("/api/v1/exchangeInfo")

    assert r.status_code == 200
    info = r.json()
    assert info["symbols"] == []
    assert isinstance(info["serverTime"], int)
    assert [x["rateLimitType"] for x in info["rateLimits"]] == ["REQUEST_WEIGHT"]


def test_openapi_lists_every_catalog_route(api: Any) -> None:
    r = api.get("/openapi.json")

    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    for ep in catalog.ENDPOINTS:
        assert ep.method.lower() in doc["paths"][ep.path], ep.route


def test_server_time_and_ping(api: Any) -> None:
    before = int(time.time() * 1000)
    assert api.get("/fapi/v1/ping").json() == {}
    server_time = api.get("/fapi/v1/time").json()["serverTime"]
    after = int(time.time() * 1000)
    assert before - 1000 <= server_time <= after + 1000


def test_listen_key_lifecycle(operator: Any) -> None:
    t = operator.create_account()

    first = t.ok("POST", "/fapi/v1/listenKey")["listenKey"]
    again = t.ok("POST", "/fapi/v1/listenKey")["listenKey"]
    assert again == first  # an active key is returned, not a second one
    assert t.ok("PUT", "/fapi/v1/listenKey") == {}
    assert t.ok("DELETE", "/fapi/v1/listenKey") == {}

    r = t.send("PUT", "/fapi/v1/listenKey")
    assert (r.status_code, r.json()) == (
        400,
        {"code": -1125, "msg": "This listenKey does not exist."},
    )
    fresh = t.ok("POST", "/fapi/v1/listenKey")["listenKey"]
    assert fresh != first
    other = operator.create_account()
    assert other.ok("POST", "/fapi/v1/listenKey")["listenKey"] not in (first, fresh)


MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


def test_listen_key_lives_60_minutes_and_keepalive_extends_it(operator: Any) -> None:
    t = operator.create_account()
    key = t.ok("POST", "/fapi/v1/listenKey")["listenKey"]

    with operator.shifted_clock(59 * MINUTE_MS, t):
        assert t.ok("PUT", "/fapi/v1/listenKey") == {}  # now valid until 59 + 60 minutes
    with operator.shifted_clock(118 * MINUTE_MS, t):
        assert t.ok("POST", "/fapi/v1/listenKey")["listenKey"] == key  # still active: extended
    with operator.shifted_clock(179 * MINUTE_MS, t):
        r = t.send("PUT", "/fapi/v1/listenKey")
        assert (r.status_code, r.json()["code"]) == (400, -1125)
        assert t.ok("POST", "/fapi/v1/listenKey")["listenKey"] != key


def test_income_without_times_covers_the_last_7_days(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "10"})
    [deposit] = t.get("/fapi/v1/income")

    with operator.shifted_clock(8 * DAY_MS, t):
        assert t.get("/fapi/v1/income") == []
        assert t.get("/fapi/v1/income", startTime=deposit["time"]) == [deposit]
        # only endTime: the 7 days before it
        assert t.get("/fapi/v1/income", endTime=deposit["time"] + 1) == [deposit]
    with operator.shifted_clock(6 * DAY_MS, t):
        assert t.get("/fapi/v1/income") == [deposit]


def test_orders_query_cancel_and_cancel_all(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    first = rest_btc_bid(t, operator, price="58000")
    second = rest_btc_bid(t, operator, price="57000")

    got = t.get("/fapi/v1/order", symbol="BTCUSDT", orderId=first)
    assert (got["orderId"], got["status"], D(got["price"])) == (first, "NEW", D("58000"))
    canceled = t.ok("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": first})
    assert (canceled["orderId"], canceled["status"]) == (first, "CANCELED")
    assert [o["orderId"] for o in t.get("/fapi/v1/openOrders")] == [second]
    done = t.ok("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"})
    assert done == {"code": "200", "msg": "The operation of cancel all open order is done."}
    assert t.get("/fapi/v1/openOrders", symbol="BTCUSDT") == []
    acct = t.get("/fapi/v4/account")
    assert D(acct["totalOpenOrderInitialMargin"]) == 0
    assert D(acct["availableBalance"]) == D("1000")


def test_isolated_liquidation_price_funding_and_isolated_margin(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    operator.set_mark("ETHUSDT", ETH_MARK, fundingRate="0.0001")
    isolated_eth(t, operator)  # 0.1 at 3000, isolated wallet 15, bracket 1 (mmr 0.004, cum 0)

    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    # isolated: LP = (IWB + cum - pos x ep) / (pos x mmr - pos) = (15 - 300) / (0.0004 - 0.1)
    assert D(risk["liquidationPrice"]) == D("2861.45")  # 2861.4457..., 2 decimals for ETHUSDT

    # funding on an isolated position is paid from its isolated wallet: 0.1 x 3000 x 0.0001
    operator.funding("ETHUSDT")
    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    assert D(risk["isolatedWallet"]) == D("14.97")
    assert D(risk["liquidationPrice"]) == D("2861.75")  # (14.97 - 300) / -0.0996 = 2861.7469
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["balance"]) == D("999.865")  # 1000 - 0.105 - 0.03
    assert D(bal["crossWalletBalance"]) == D("984.895")  # 999.865 - 14.97
    [fee] = t.get("/fapi/v1/income", incomeType="FUNDING_FEE")
    assert (fee["symbol"], D(fee["income"])) == ("ETHUSDT", D("-0.03"))

    # isolatedMargin = isolated wallet + uPnL: 14.97 + 0.1 x (3100 - 3000)
    operator.set_mark("ETHUSDT", "3100")
    [risk] = t.get("/fapi/v2/positionRisk", symbol="ETHUSDT")
    assert D(risk["unRealizedProfit"]) == D("10")
    assert D(risk["isolatedMargin"]) == D("24.97")
    assert D(risk["isolatedWallet"]) == D("14.97")
    # isolated profit is in no cross figure
    bal = usdt(t.get("/fapi/v2/balance"))
    assert D(bal["crossUnPnl"]) == 0
    assert D(bal["availableBalance"]) == D("984.895")


def test_hedge_mode_cross_positions_share_one_liquidation_price(operator: Any) -> None:
    t = operator.create_account(futures={"USDT": "1000"})
    t.post("/fapi/v1/positionSide/dual", dualSidePosition="true")
    operator.set_mark("BTCUSDT", BTC_MARK)

    for side, position_side, qty in (("BUY", "LONG", "0.01"), ("SELL", "SHORT", "0.02")):
        t.post(
            "/fapi/v1/order",
            symbol="BTCUSDT",
            side=side,
            positionSide=position_side,
            type="MARKET",
            quantity=qty,
        )

    rows = {r["positionSide"]: r for r in t.get("/fapi/v2/positionRisk", symbol="BTCUSDT")}
    assert set(rows) == {"LONG", "SHORT"}
    assert D(rows["LONG"]["positionAmt"]) == D("0.01")
    assert D(rows["SHORT"]["positionAmt"]) == D("-0.02")
    assert D(rows["SHORT"]["notional"]) == D("-1200")
    # WB = 1000 - 0.21 - 0.42 = 999.37. Bracket 1 gives
    #   LP = (999.37 - 600 + 1200) / (0.00004 + 0.00008 - 0.01 + 0.02) = 158040.5
    # where 0.02 x LP = 3160.8 is in bracket 2 (mmr 0.005, cum 1.25), so again with bracket 2:
    #   LP = (999.37 + 1.25 + 1.25 - 600 + 1200) / (0.00005 + 0.0001 + 0.01) = 157819.70
    assert D(rows["LONG"]["liquidationPrice"]) == D("157819.7")
    assert rows["SHORT"]["liquidationPrice"] == rows["LONG"]["liquidationPrice"]
    # cross positions in hedge mode: LONG and SHORT share one quantile, "HEDGE" replaces "BOTH"
    [adl] = t.get("/fapi/v1/adlQuantile", symbol="BTCUSDT")
    assert set(adl["adlQuantile"]) == {"LONG", "SHORT", "HEDGE"}
    assert adl["adlQuantile"]["LONG"] == adl["adlQuantile"]["SHORT"]
    acct = t.get("/fapi/v4/account")
    assert {p["positionSide"] for p in acct["positions"]} == {"LONG", "SHORT"}
    # IM = (600 + 1200) / 20; MM = 600 x 0.004 + 1200 x 0.004
    assert D(acct["totalPositionInitialMargin"]) == D("90")
    assert D(acct["totalMaintMargin"]) == D("7.2")
