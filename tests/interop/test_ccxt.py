"""ccxt 4.5.51 (`ccxt.aster`, its last HMAC release) and ccxt pro, unmodified, against our server.

Each test makes its own account through the operator API and a ccxt client for it (in the ccxt
venv, see peers.py); it then calls ccxt's own methods and checks what they return against what our
REST answers for that account at that moment.

ccxt 4.5.51 lists `v1/adlQuantile` and `v1/forceOrders` under `fapiPublic`, so its implicit
methods for them go out without key or signature. Aster answers those with an auth error and so
must we; the test says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from peers import CCXT, Account, Call, Operator, PeerDriver, RestError, ServerProcess, num

SYMBOL = "BTC/USDT:USDT"
SYMBOL_ID = "BTCUSDT"
ETH = "ETH/USDT:USDT"
MARKS = {"BTCUSDT": "100000", "ETHUSDT": "3500"}


@dataclass
class Trader:
    """One account, seen both through ccxt (`call`) and through our REST (`rest`)."""

    rest: Account
    peer: PeerDriver
    name: str
    markets: Call

    def call(self, method: str, *args: Any, label: str | None = None, **kwargs: Any) -> Call:
        return self.peer.call(self.name, method, *args, label=label, **kwargs)

    def buy(self, symbol: str, quantity: str) -> Any:
        """A market order through REST: the position the ccxt calls then look at."""
        return self.rest.post(
            "/fapi/v1/order", symbol=symbol, side="BUY", type="MARKET", quantity=quantity
        )


@pytest.fixture(scope="module")
def ccxt(driver: Callable[..., PeerDriver]) -> PeerDriver:
    return driver(CCXT, "ccxt_rest.py")


@pytest.fixture(autouse=True)
def marks(operator: Operator) -> None:
    for symbol, price in MARKS.items():
        operator.mark(symbol, price, funding_rate="0.0001")


@pytest.fixture
def trader(operator: Operator, ccxt: PeerDriver, server: ServerProcess) -> Trader:
    account = operator.create_account(futures="10000", spot="1000")
    name = f"account-{account.account_id}"
    ccxt.open(
        name,
        {"base_url": server.base_url, "apiKey": account.api_key, "secret": account.secret},
    )
    markets = ccxt.call(name, "load_markets")
    return Trader(account, ccxt, name, markets)


def test_load_markets(trader: Trader) -> None:
    markets = trader.markets.value()
    info = trader.rest.request("GET", "/fapi/v1/exchangeInfo", signed=False)
    assert {m["id"] for m in markets.values()} == {s["symbol"] for s in info["symbols"]}
    for row in info["symbols"]:
        filters = {f["filterType"]: f for f in row["filters"]}
        market = markets[f"{row['baseAsset']}/{row['quoteAsset']}:{row['marginAsset']}"]
        assert market["id"] == row["symbol"]
        assert (market["type"], market["swap"], market["linear"]) == ("swap", True, True)
        assert market["settle"] == row["marginAsset"]
        assert market["active"] is (row["status"] == "TRADING")
        assert num(market["precision"]["amount"]) == num(filters["LOT_SIZE"]["stepSize"])
        assert num(market["precision"]["price"]) == num(filters["PRICE_FILTER"]["tickSize"])
        assert num(market["limits"]["amount"]["min"]) == num(filters["LOT_SIZE"]["minQty"])
        assert num(market["limits"]["amount"]["max"]) == num(filters["LOT_SIZE"]["maxQty"])
        assert num(market["limits"]["price"]["min"]) == num(filters["PRICE_FILTER"]["minPrice"])
        assert num(market["limits"]["cost"]["min"]) == num(filters["MIN_NOTIONAL"]["notional"])
    trader.markets.note("every symbol's id, precision and limits = exchangeInfo filters")


def test_fetch_time(trader: Trader) -> None:
    before = trader.rest.request("GET", "/fapi/v1/time", signed=False)["serverTime"]
    call = trader.call("fetch_time")
    after = trader.rest.request("GET", "/fapi/v1/time", signed=False)["serverTime"]
    assert before <= call.value() <= after
    call.note("between two serverTime reads")


def test_fetch_balance(trader: Trader, operator: Operator) -> None:
    trader.buy(SYMBOL_ID, "0.01")
    operator.mark(SYMBOL_ID, "99000")  # a loss, so that free < total
    call = trader.call("fetch_balance")
    usdt = trader.rest.usdt()
    balance = call.value()
    assert num(balance["USDT"]["total"]) == num(usdt["walletBalance"])
    assert num(balance["USDT"]["free"]) == num(usdt["maxWithdrawAmount"])
    assert num(balance["USDT"]["used"]) == num(usdt["walletBalance"]) - num(
        usdt["maxWithdrawAmount"]
    )
    assert num(balance["USDT"]["free"]) < num(balance["USDT"]["total"])
    call.note("USDT total = walletBalance, free = maxWithdrawAmount (v4 account)")


def test_create_fetch_and_cancel_orders(trader: Trader) -> None:
    placed = trader.call(
        "create_order", SYMBOL, "limit", "buy", 0.01, 90000, label="create_order limit"
    )
    order = placed.value()
    rest = trader.rest.get("/fapi/v1/order", symbol=SYMBOL_ID, orderId=order["id"])
    assert (rest["status"], order["status"]) == ("NEW", "open")
    assert num(order["price"]) == num(rest["price"]) == Decimal("90000")
    assert num(order["amount"]) == num(rest["origQty"]) == Decimal("0.01")
    assert num(order["filled"]) == num(rest["executedQty"]) == 0
    assert order["clientOrderId"] == rest["clientOrderId"]
    assert (order["side"], order["type"], order["timeInForce"]) == ("buy", "limit", "GTC")
    placed.note("a resting LIMIT: id, status, price, amount = GET order")

    fetched = trader.call("fetch_order", order["id"], SYMBOL)
    assert fetched.value()["id"] == order["id"]
    assert fetched.value()["status"] == "open"
    assert fetched.value()["timestamp"] == rest["time"]
    fetched.note("id, status, timestamp = GET order")

    listed = trader.call("fetch_open_orders", SYMBOL)
    rest_open = trader.rest.get("/fapi/v1/openOrders", symbol=SYMBOL_ID)
    assert [o["id"] for o in listed.value()] == [str(o["orderId"]) for o in rest_open]
    listed.note("ids = GET openOrders")

    cancelled = trader.call("cancel_order", order["id"], SYMBOL)
    assert cancelled.value()["status"] == "canceled"
    assert cancelled.value()["id"] == order["id"]
    assert trader.rest.get("/fapi/v1/openOrders", symbol=SYMBOL_ID) == []
    cancelled.note("status canceled; gone from GET openOrders")

    trader.call(
        "create_order", SYMBOL, "limit", "sell", 0.01, 110000, label="create_order limit"
    ).value()
    cancel_all = trader.call("cancel_all_orders", SYMBOL)
    cancel_all.value()
    assert trader.rest.get("/fapi/v1/openOrders", symbol=SYMBOL_ID) == []
    cancel_all.note("GET openOrders empty after")

    filled = trader.call("create_order", SYMBOL, "market", "buy", 0.01, label="create_order market")
    order = filled.value()
    position = trader.rest.position(SYMBOL_ID)
    assert (order["status"], order["type"], order["side"]) == ("closed", "market", "buy")
    assert num(order["filled"]) == num(order["amount"]) == Decimal("0.01")
    assert num(position["positionAmt"]) == Decimal("0.01")
    assert num(order["average"]) == num(position["entryPrice"])
    filled.note("a MARKET fill: status closed, filled = positionAmt, average = entryPrice")


@pytest.mark.parametrize("state", ["canceled", "closed"])
def test_fetch_order_no_longer_open(trader: Trader, state: str) -> None:
    if state == "canceled":
        order = trader.call(
            "create_order", SYMBOL, "limit", "buy", 0.01, 90000, label="create_order limit"
        ).value()
        trader.call("cancel_order", order["id"], SYMBOL).value()
    else:
        order = trader.call(
            "create_order", SYMBOL, "market", "buy", 0.01, label="create_order market"
        ).value()
    fetched = trader.call("fetch_order", order["id"], SYMBOL, label=f"fetch_order ({state})")
    fetched.note(f"status {state} = GET order")
    assert fetched.value()["status"] == state
    rest = trader.rest.get("/fapi/v1/order", symbol=SYMBOL_ID, orderId=order["id"])
    assert rest["status"] == {"canceled": "CANCELED", "closed": "FILLED"}[state]


def test_fetch_positions(trader: Trader, operator: Operator) -> None:
    # a small wallet, so that the position has a liquidation price
    trader.rest.post(
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="9800",
        kindType="FUTURE_SPOT",
        clientTranId="small-wallet",
    )
    trader.buy(SYMBOL_ID, "0.01")
    operator.mark(SYMBOL_ID, "101000")
    call = trader.call("fetch_positions", [SYMBOL])
    rest = trader.rest.position(SYMBOL_ID)
    account = trader.rest.get("/fapi/v4/account")
    held = next(p for p in account["positions"] if p["symbol"] == SYMBOL_ID)
    [position] = call.value()
    assert position["symbol"] == SYMBOL
    assert (position["side"], position["hedged"], position["marginMode"]) == (
        "long",
        False,
        rest["marginType"],
    )
    assert num(position["contracts"]) == abs(num(rest["positionAmt"]))
    assert num(position["entryPrice"]) == num(rest["entryPrice"])
    assert num(position["markPrice"]) == num(rest["markPrice"])
    assert num(position["unrealizedPnl"]) == num(rest["unRealizedProfit"])
    assert num(position["notional"]) == abs(num(rest["notional"]))
    assert num(position["leverage"]) == num(rest["leverage"])
    assert num(position["liquidationPrice"]) == num(rest["liquidationPrice"])
    assert num(position["initialMargin"]) == num(held["positionInitialMargin"])
    # ccxt's own maintenance figure is notional x the bracket's rate (no cum): bracket 1 here
    assert num(position["maintenanceMargin"]) == num(held["maintMargin"])
    call.note(
        "contracts, side, entry, mark, uPnL, notional, leverage, liquidation price = positionRisk;"
        " initial and maintenance margin = v4 account"
    )


def test_set_leverage(trader: Trader) -> None:
    call = trader.call("set_leverage", 5, SYMBOL)
    rest = trader.rest.position(SYMBOL_ID)
    assert call.value()["symbol"] == SYMBOL_ID
    assert int(call.value()["leverage"]) == 5 == int(rest["leverage"])
    assert num(call.value()["maxNotionalValue"]) == num(rest["maxNotionalValue"])
    call.note("leverage and maxNotionalValue = positionRisk")

    leverages = trader.call("fetch_leverages", [SYMBOL])
    assert leverages.value()[SYMBOL]["longLeverage"] == 5
    assert leverages.value()[SYMBOL]["marginMode"] == rest["marginType"]
    leverages.note("leverage and margin mode = positionRisk")


def test_set_margin_mode_both_ways(trader: Trader) -> None:
    success = {"code": "200", "msg": "success"}  # ccxt keeps a JSON number's text
    isolated = trader.call("set_margin_mode", "isolated", SYMBOL, label="set_margin_mode isolated")
    assert isolated.value() == success
    assert trader.rest.position(SYMBOL_ID)["marginType"] == "isolated"
    isolated.note("positionRisk marginType isolated")

    modes = trader.call("fetch_margin_modes", [SYMBOL])
    assert modes.value()[SYMBOL]["marginMode"] == "isolated"
    modes.note("= positionRisk marginType")

    again = trader.call(
        "set_margin_mode", "isolated", SYMBOL, label="set_margin_mode isolated (already set)"
    )
    assert again.raised("NoChange") and again.last_code == -4046
    again.note("ccxt raises NoChange on -4046")

    cross = trader.call("set_margin_mode", "cross", SYMBOL, label="set_margin_mode cross")
    assert cross.value() == success
    assert trader.rest.position(SYMBOL_ID)["marginType"] == "cross"
    cross.note("positionRisk marginType cross")

    again = trader.call(
        "set_margin_mode", "cross", SYMBOL, label="set_margin_mode cross (already set)"
    )
    assert again.raised("NoChange") and again.last_code == -4046
    again.note("ccxt raises NoChange on -4046")


def test_add_and_reduce_margin(trader: Trader) -> None:
    trader.call("set_margin_mode", "isolated", SYMBOL, label="set_margin_mode isolated").value()
    trader.buy(SYMBOL_ID, "0.01")
    start = num(trader.rest.position(SYMBOL_ID)["isolatedWallet"])

    added = trader.call("add_margin", SYMBOL, 10)
    assert num(trader.rest.position(SYMBOL_ID)["isolatedWallet"]) == start + 10
    result = added.value()
    assert (result["type"], result["marginMode"], result["status"]) == ("add", "isolated", "ok")
    assert (num(result["amount"]), result["code"], result["symbol"]) == (10, "USDT", SYMBOL)
    added.note("positionRisk isolatedWallet +10")

    reduced = trader.call("reduce_margin", SYMBOL, 4)
    assert num(trader.rest.position(SYMBOL_ID)["isolatedWallet"]) == start + 6
    result = reduced.value()
    assert (result["type"], result["status"], num(result["amount"])) == ("reduce", "ok", 4)
    reduced.note("positionRisk isolatedWallet -4")

    history = trader.call("fetch_margin_adjustment_history", SYMBOL)
    rest = trader.rest.get("/fapi/v1/positionMargin/history", symbol=SYMBOL_ID)
    assert len(rest) == 2
    assert [(h["type"], num(h["amount"]), h["timestamp"], h["code"]) for h in history.value()] == [
        ("add" if r["type"] == 1 else "reduce", num(r["amount"]), r["time"], r["asset"])
        for r in rest
    ]
    history.note("type, amount, time, asset = GET positionMargin/history")

    adds = trader.call(
        "fetch_margin_adjustment_history",
        SYMBOL,
        "add",
        label="fetch_margin_adjustment_history add",
    )
    assert [num(h["amount"]) for h in adds.value()] == [Decimal(10)]
    adds.note("type=1 entries only")


def test_transfer_between_spot_and_swap(trader: Trader, operator: Operator) -> None:
    wallet = num(trader.rest.usdt()["walletBalance"])
    out = trader.call("transfer", "USDT", 100, "swap", "spot", label="transfer swap→spot")
    assert num(trader.rest.usdt()["walletBalance"]) == wallet - 100
    assert operator.state(trader.rest)["spot"]["USDT"] == "1100"
    back = trader.call("transfer", "USDT", 40, "spot", "swap", label="transfer spot→swap")
    assert num(trader.rest.usdt()["walletBalance"]) == wallet - 60
    assert operator.state(trader.rest)["spot"]["USDT"] == "1060"

    income = trader.rest.get("/fapi/v1/income", incomeType="TRANSFER")
    by_id = {str(row["tranId"]): num(row["income"]) for row in income}
    assert by_id[out.value()["id"]] == Decimal(-100)
    assert by_id[back.value()["id"]] == Decimal(40)
    out.note("FUTURE_SPOT: walletBalance -100, spot +100, id = income tranId")
    back.note("SPOT_FUTURE: walletBalance +40, spot -40, id = income tranId")


def test_position_mode(trader: Trader) -> None:
    fetched = trader.call("fetch_position_mode", label="fetch_position_mode")
    rest = trader.rest.get("/fapi/v1/positionSide/dual")
    assert fetched.value()["hedged"] is rest["dualSidePosition"] is False
    fetched.note("hedged = dualSidePosition")

    hedge = trader.call("set_position_mode", True, label="set_position_mode hedged")
    assert hedge.value() == {"code": "200", "msg": "success"}
    assert trader.rest.get("/fapi/v1/positionSide/dual")["dualSidePosition"] is True
    assert trader.call("fetch_position_mode").value()["hedged"] is True
    hedge.note("dualSidePosition true after")

    again = trader.call("set_position_mode", True, label="set_position_mode hedged (already set)")
    assert again.raised("NoChange") and again.last_code == -4059
    again.note("ccxt raises NoChange on -4059")

    one_way = trader.call("set_position_mode", False, label="set_position_mode one-way")
    assert one_way.value() == {"code": "200", "msg": "success"}
    assert trader.rest.get("/fapi/v1/positionSide/dual")["dualSidePosition"] is False
    one_way.note("dualSidePosition false after")


LEDGER_TYPES = {
    "TRANSFER": "transfer",
    "COMMISSION": "commission",
    "FUNDING_FEE": "fee",
    "REALIZED_PNL": "trade",
}


def test_fetch_ledger_and_funding_history(trader: Trader, operator: Operator) -> None:
    eth = "ETHUSDT"
    trader.call("transfer", "USDT", 25, "swap", "spot", label="transfer swap→spot").value()
    trader.buy(eth, "0.1")
    operator.mark(eth, "3600")
    trader.rest.post("/fapi/v1/order", symbol=eth, side="SELL", type="MARKET", quantity="0.05")
    operator.funding(eth)

    funding = trader.call("fetch_funding_history", ETH)
    rest = trader.rest.get("/fapi/v1/income", symbol=eth, incomeType="FUNDING_FEE")
    assert rest  # one settlement here (and another if a funding time passes meanwhile)
    assert [
        (f["id"], num(f["amount"]), f["timestamp"], f["symbol"], f["code"]) for f in funding.value()
    ] == [(str(r["tranId"]), num(r["income"]), r["time"], ETH, r["asset"]) for r in rest]
    funding.note("id, amount, time, symbol = income FUNDING_FEE")

    ledger = trader.call("fetch_ledger", "USDT")
    rest = trader.rest.get("/fapi/v1/income")
    kinds = {r["incomeType"] for r in rest}
    assert {"TRANSFER", "COMMISSION", "FUNDING_FEE", "REALIZED_PNL"} <= kinds
    assert sorted(
        (e["id"], e["type"], e["direction"], num(e["amount"]), e["timestamp"], e["currency"])
        for e in ledger.value()
    ) == sorted(
        (
            str(r["tranId"]),
            LEDGER_TYPES[r["incomeType"]],
            "out" if num(r["income"]) <= 0 else "in",
            abs(num(r["income"])),
            r["time"],
            r["asset"],
        )
        for r in rest
    )
    ledger.note("every income row: id, type, direction, amount, time, asset")


def test_fetch_trading_fee(trader: Trader) -> None:
    call = trader.call("fetch_trading_fee", SYMBOL)
    rest = trader.rest.get("/fapi/v1/commissionRate", symbol=SYMBOL_ID)
    assert num(call.value()["maker"]) == num(rest["makerCommissionRate"])
    assert num(call.value()["taker"]) == num(rest["takerCommissionRate"])
    call.note("maker, taker = commissionRate")


def test_fetch_funding_rate(trader: Trader) -> None:
    call = trader.call("fetch_funding_rate", SYMBOL)
    rest = trader.rest.request("GET", "/fapi/v1/premiumIndex", signed=False, symbol=SYMBOL_ID)
    rate = call.value()
    assert num(rate["markPrice"]) == num(rest["markPrice"])
    assert num(rate["indexPrice"]) == num(rest["indexPrice"])
    assert num(rate["fundingRate"]) == num(rest["lastFundingRate"])
    assert rate["nextFundingTimestamp"] == rest["nextFundingTime"]
    assert rate["timestamp"] == rest["time"]
    call.note("mark, index, rate, next funding time, time = premiumIndex")


# -- implicit methods: the raw answers must be our REST answers ---------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("fapiPrivateGetV2Balance", "/fapi/v2/balance", {}),
        ("fapiPrivateGetV4Account", "/fapi/v4/account", {}),
        ("fapiPrivateGetV2PositionRisk", "/fapi/v2/positionRisk", {"symbol": SYMBOL_ID}),
        ("fapiPrivateGetV1MultiAssetsMargin", "/fapi/v1/multiAssetsMargin", {}),
        ("fapiPrivateGetV1LeverageBracket", "/fapi/v1/leverageBracket", {}),
        ("fapiPrivateGetV1LeverageBracket", "/fapi/v1/leverageBracket", {"symbol": SYMBOL_ID}),
        ("fapiPrivateGetV1Income", "/fapi/v1/income", {}),
        ("fapiPrivateGetV1CommissionRate", "/fapi/v1/commissionRate", {"symbol": SYMBOL_ID}),
    ],
)
def test_implicit_reads(trader: Trader, method: str, path: str, params: dict[str, Any]) -> None:
    trader.buy(SYMBOL_ID, "0.01")
    label = f"{method}({', '.join(f'{k}={v}' for k, v in params.items())})"
    call = trader.call(method, params, label=label)
    # ccxt parses JSON numbers to their text; so does the REST read here
    assert call.value() == trader.rest.request("GET", path, numbers_as_text=True, **params)
    call.note(f"= GET {path}, exactly")


def test_implicit_listen_key(trader: Trader) -> None:
    opened = trader.call("fapiPrivatePostV1ListenKey")
    key = opened.value()["listenKey"]
    # POST with an active key answers that key (and extends it)
    assert trader.rest.request("POST", "/fapi/v1/listenKey", signed=False) == {"listenKey": key}
    opened.note("listenKey = the account's active key (REST POST answers it)")

    kept = trader.call("fapiPrivatePutV1ListenKey", {"listenKey": key})
    assert kept.value() == {}
    kept.note("{}")

    closed = trader.call("fapiPrivateDeleteV1ListenKey", {"listenKey": key})
    assert closed.value() == {}
    with pytest.raises(RestError) as gone:
        trader.rest.request("PUT", "/fapi/v1/listenKey", signed=False, listenKey=key)
    assert gone.value.code == -1125
    closed.note("{}; PUT afterwards answers -1125")


def test_generic_request_remaining_openable(trader: Trader) -> None:
    trader.buy(SYMBOL_ID, "0.01")
    params = {"symbol": SYMBOL_ID, "leverage": 10}
    call = trader.call(
        "request",
        "v1/remainingOpenableNotionalValue",
        "fapiPrivate",
        "GET",
        params,
        label="request('v1/remainingOpenableNotionalValue', 'fapiPrivate', 'GET')",
    )
    assert call.value() == trader.rest.request(
        "GET", "/fapi/v1/remainingOpenableNotionalValue", numbers_as_text=True, **params
    )
    call.note("= GET remainingOpenableNotionalValue, exactly")


@pytest.mark.parametrize("method", ["fapiPublicGetV1AdlQuantile", "fapiPublicGetV1ForceOrders"])
def test_unsigned_known_bug(trader: Trader, method: str) -> None:
    """ccxt 4.5.51 sends these as public calls: no key, no signature. Aster answers 401 -2014."""
    call = trader.call(method, label=f"{method} (ccxt bug: sent unsigned)")
    [sent] = call.http
    assert not sent["has_key"] and "signature" not in sent["query"]
    call.note("AuthenticationError: -2014, as Aster answers a request with no API key")
    assert (sent["status"], call.last_code) == (401, -2014)
    assert call.raised("AuthenticationError")


# -- ccxt pro: the user data stream --------------------------------------------------------------


@pytest.fixture(scope="module")
def ccxt_pro(driver: Callable[..., PeerDriver]) -> PeerDriver:
    return driver(CCXT, "ccxt_pro.py", title="ccxt.pro 4.5.51")


@pytest.fixture
def streamer(operator: Operator, ccxt_pro: PeerDriver, server: ServerProcess) -> Trader:
    account = operator.create_account(futures="10000", spot="1000")
    name = f"account-{account.account_id}"
    ccxt_pro.open(
        name,
        {"base_url": server.base_url, "apiKey": account.api_key, "secret": account.secret},
    )
    markets = ccxt_pro.call(name, "load_markets")
    markets.value()
    return Trader(account, ccxt_pro, name, markets)


def watch(streamer: Trader, method: str, label: str) -> int:
    """Start a watch in the peer and return once its websocket is connected."""
    started = streamer.call(method, label=f"{label} (subscribe)", op="start", timeout=10)
    started.note("listenKey, then the websocket")
    return int(started.value()["task"])


def test_watch_balance(streamer: Trader) -> None:
    task = watch(streamer, "watch_balance", "watch_balance")
    streamer.rest.post(
        "/fapi/v1/asset/wallet/transfer",
        asset="USDT",
        amount="100",
        kindType="FUTURE_SPOT",
        clientTranId="watched",
    )
    update = streamer.peer.wait(task, "watch_balance")
    update.note("USDT total = walletBalance after a transfer (ACCOUNT_UPDATE)")
    balance = update.value()
    assert num(balance["USDT"]["total"]) == num(streamer.rest.usdt()["walletBalance"])
    assert num(balance["USDT"]["total"]) == Decimal("9900")


def test_watch_positions(streamer: Trader) -> None:
    streamer.buy(SYMBOL_ID, "0.01")
    # ccxt.pro 4.5.51 handles an ACCOUNT_UPDATE's positions only after its balance handler, which
    # needs the cache that watch_balance makes (see test_watch_positions_alone): watch both
    balance_task = watch(streamer, "watch_balance", "watch_balance")
    snapshot = streamer.call("watch_positions", label="watch_positions (snapshot)")
    snapshot.note("first answer: the REST snapshot, contracts = positionRisk")
    [held] = snapshot.value()
    assert num(held["contracts"]) == num(streamer.rest.position(SYMBOL_ID)["positionAmt"])

    task = watch(streamer, "watch_positions", "watch_positions")
    streamer.buy(SYMBOL_ID, "0.01")
    update = streamer.peer.wait(task, "watch_positions")
    update.note("contracts, entry price, side, margin mode = positionRisk after a fill")
    [position] = [p for p in update.value() if p["symbol"] == SYMBOL]
    rest = streamer.rest.position(SYMBOL_ID)
    assert num(position["contracts"]) == num(rest["positionAmt"]) == Decimal("0.02")
    assert num(position["entryPrice"]) == num(rest["entryPrice"])
    assert (position["side"], position["marginMode"]) == ("long", rest["marginType"])
    balance = streamer.peer.wait(balance_task, "watch_balance").value()
    assert num(balance["USDT"]["total"]) == num(streamer.rest.usdt()["walletBalance"])


def test_watch_positions_alone(streamer: Trader) -> None:
    """A ccxt.pro 4.5.51 bug, not ours: without a watch_balance on the same client, its
    handle_balance raises KeyError('swap') on every ACCOUNT_UPDATE before the positions handler
    runs, so watch_positions never answers although the event arrives."""
    streamer.buy(SYMBOL_ID, "0.01")
    streamer.call("watch_positions", label="watch_positions (snapshot)").value()
    task = watch(streamer, "watch_positions", "watch_positions alone (ccxt bug)")
    streamer.buy(SYMBOL_ID, "0.01")
    stuck = streamer.peer.wait(task, "watch_positions alone (ccxt bug)", timeout=2)
    stuck.note("no answer: ccxt.pro 4.5.51's handle_balance raises KeyError('swap')")
    assert stuck.error_type == "TimeoutError"
