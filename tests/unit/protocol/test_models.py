from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aster_account.protocol import models as m
from aster_account.protocol.enums import (
    AccountUpdateReason,
    EventType,
    ExecutionType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
    WorkingType,
)
from aster_account.protocol.wire import (
    Kind,
    WireError,
    WireField,
    from_wire,
    parse_decimal,
    to_wire,
    wire_fields,
)

D = Decimal

MODELS = [
    obj
    for name in m.__all__
    if isinstance(obj := getattr(m, name), type) and dataclasses.is_dataclass(obj)
]


def test_all_lists_every_model_and_nothing_else() -> None:
    defined = {
        name
        for name, obj in vars(m).items()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == m.__name__
    }
    exported = set(m.__all__)
    assert defined <= exported
    assert all(hasattr(m, name) for name in exported)
    assert {cls.__name__ for cls in MODELS} == defined


def test_python_names_are_snake_case_and_wire_names_are_not_repeated() -> None:
    for cls in MODELS:
        for spec in wire_fields(cls):
            assert spec.name == spec.name.lower(), f"{cls.__name__}.{spec.name}"


# -- exact shapes: (model instance, the JSON the docs show), compared as JSON text so that key
#    order and JSON types (100 vs 100.0 vs "100", true vs 1) both count ----------------------------

BALANCE_ROW = m.BalanceRow(
    account_alias="SgsR",
    asset="USDT",
    wallet_balance=D("122607.35137903"),
    cross_wallet_balance=D("23.72469206"),
    cross_unrealized_profit=D("0.00000000"),
    available_balance=D("23.72469206"),
    max_withdraw_amount=D("23.72469206"),
    margin_available=True,
    update_time=1617939110373,
)
ACCOUNT_ASSET = m.AccountAsset(
    asset="USDT",
    wallet_balance=D("23.72469206"),
    unrealized_profit=D("0.00000000"),
    margin_balance=D("23.72469206"),
    maintenance_margin=D("0.00000000"),
    initial_margin=D("0.00000000"),
    position_initial_margin=D("0.00000000"),
    open_order_initial_margin=D("0.00000000"),
    cross_wallet_balance=D("23.72469206"),
    cross_unrealized_profit=D("0.00000000"),
    available_balance=D("23.72469206"),
    max_withdraw_amount=D("23.72469206"),
    margin_available=True,
    update_time=1625474304765,
)
ACCOUNT_POSITION = m.AccountPosition(
    symbol="BTCUSDT",
    initial_margin=D("0"),
    maintenance_margin=D("0"),
    unrealized_profit=D("0.00000000"),
    position_initial_margin=D("0"),
    open_order_initial_margin=D("0"),
    leverage=100,
    isolated=True,
    entry_price=D("0.00000"),
    max_notional=D("250000"),
    position_side=PositionSide.BOTH,
    position_amount=D("0"),
    update_time=0,
)
ORDER = m.Order(
    client_order_id="testOrder",
    cum_qty=D("0"),
    cum_quote=D("0"),
    executed_qty=D("0"),
    order_id=22542179,
    avg_price=D("0.00000"),
    orig_qty=D("10"),
    price=D("0"),
    reduce_only=False,
    side=OrderSide.BUY,
    position_side=PositionSide.SHORT,
    status=OrderStatus.NEW,
    stop_price=D("9300"),
    close_position=False,
    symbol="BTCUSDT",
    time_in_force=TimeInForce.GTC,
    order_type=OrderType.TRAILING_STOP_MARKET,
    orig_type=OrderType.TRAILING_STOP_MARKET,
    activation_price=D("9020"),
    callback_rate=D("0.3"),
    update_time=1566818724722,
    working_type=WorkingType.CONTRACT_PRICE,
    price_protect=False,
)

SHAPES: list[tuple[Any, dict[str, Any]]] = [
    (m.Empty(), {}),
    (m.ServerTime(server_time=1499827319559), {"serverTime": 1499827319559}),
    (m.ListenKey(listen_key="pqia91"), {"listenKey": "pqia91"}),
    (m.CodeMsg(), {"code": 200, "msg": "success"}),
    (
        m.CancelAllResult(),
        {"code": "200", "msg": "The operation of cancel all open order is done."},
    ),
    (
        BALANCE_ROW,
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": "122607.35137903",
            "crossWalletBalance": "23.72469206",
            "crossUnPnl": "0.00000000",
            "availableBalance": "23.72469206",
            "maxWithdrawAmount": "23.72469206",
            "marginAvailable": True,
            "updateTime": "1617939110373",  # a string, as live captures show (FACTS [L])
        },
    ),
    (
        m.AccountInfo(
            fee_tier=0,
            can_trade=True,
            can_deposit=True,
            can_withdraw=True,
            update_time=0,
            total_initial_margin=D("0.00000000"),
            total_maintenance_margin=D("0.00000000"),
            total_wallet_balance=D("23.72469206"),
            total_unrealized_profit=D("0.00000000"),
            total_margin_balance=D("23.72469206"),
            total_position_initial_margin=D("0.00000000"),
            total_open_order_initial_margin=D("0.00000000"),
            total_cross_wallet_balance=D("23.72469206"),
            total_cross_unrealized_profit=D("0.00000000"),
            available_balance=D("23.72469206"),
            max_withdraw_amount=D("23.72469206"),
            assets=[ACCOUNT_ASSET],
            positions=[ACCOUNT_POSITION],
        ),
        {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "updateTime": 0,
            "totalInitialMargin": "0.00000000",
            "totalMaintMargin": "0.00000000",
            "totalWalletBalance": "23.72469206",
            "totalUnrealizedProfit": "0.00000000",
            "totalMarginBalance": "23.72469206",
            "totalPositionInitialMargin": "0.00000000",
            "totalOpenOrderInitialMargin": "0.00000000",
            "totalCrossWalletBalance": "23.72469206",
            "totalCrossUnPnl": "0.00000000",
            "availableBalance": "23.72469206",
            "maxWithdrawAmount": "23.72469206",
            "assets": [
                {
                    "asset": "USDT",
                    "walletBalance": "23.72469206",
                    "unrealizedProfit": "0.00000000",
                    "marginBalance": "23.72469206",
                    "maintMargin": "0.00000000",
                    "initialMargin": "0.00000000",
                    "positionInitialMargin": "0.00000000",
                    "openOrderInitialMargin": "0.00000000",
                    "crossWalletBalance": "23.72469206",
                    "crossUnPnl": "0.00000000",
                    "availableBalance": "23.72469206",
                    "maxWithdrawAmount": "23.72469206",
                    "marginAvailable": True,
                    "updateTime": 1625474304765,
                }
            ],
            "positions": [
                {
                    "symbol": "BTCUSDT",
                    "initialMargin": "0",
                    "maintMargin": "0",
                    "unrealizedProfit": "0.00000000",
                    "positionInitialMargin": "0",
                    "openOrderInitialMargin": "0",
                    "leverage": "100",
                    "isolated": True,
                    "entryPrice": "0.00000",
                    "maxNotional": "250000",
                    "positionSide": "BOTH",
                    "positionAmt": "0",
                    "updateTime": 0,
                }
            ],
        },
    ),
    (
        m.PositionRisk(
            entry_price=D("6563.66500"),
            margin_type=MarginType.ISOLATED,
            auto_add_margin=False,
            isolated_margin=D("15517.54150468"),
            leverage=10,
            liquidation_price=D("5930.78"),
            mark_price=D("6679.50671178"),
            max_notional_value=D("20000000"),
            position_amount=D("20.000"),
            symbol="BTCUSDT",
            unrealized_profit=D("2316.83423560"),
            position_side=PositionSide.LONG,
            notional=D("133590.13423560"),
            isolated_wallet=D("13200.70726908"),
            update_time=1625474304765,
        ),
        {
            "entryPrice": "6563.66500",
            "marginType": "isolated",
            "isAutoAddMargin": "false",
            "isolatedMargin": "15517.54150468",
            "leverage": "10",
            "liquidationPrice": "5930.78",
            "markPrice": "6679.50671178",
            "maxNotionalValue": "20000000",
            "positionAmt": "20.000",
            "symbol": "BTCUSDT",
            "unRealizedProfit": "2316.83423560",
            "positionSide": "LONG",
            "notional": "133590.13423560",
            "isolatedWallet": "13200.70726908",
            "updateTime": 1625474304765,
        },
    ),
    (
        m.LeverageResult(leverage=21, max_notional_value=D("1000000"), symbol="BTCUSDT"),
        {"leverage": 21, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"},
    ),
    (
        m.PositionMarginResult(amount=D("100.5"), change=PositionMarginChange.ADD),
        {"amount": 100.5, "code": 200, "msg": "Successfully modify position margin.", "type": 1},
    ),
    (
        m.MarginHistoryEntry(
            amount=D("23.36332311"),
            asset="USDT",
            symbol="BTCUSDT",
            time=1578047897183,
            change=PositionMarginChange.ADD,
            position_side=PositionSide.BOTH,
        ),
        {
            "amount": "23.36332311",
            "asset": "USDT",
            "symbol": "BTCUSDT",
            "time": 1578047897183,
            "type": 1,
            "positionSide": "BOTH",
        },
    ),
    (m.TransferResult(tran_id=21841), {"tranId": 21841, "status": "SUCCESS"}),
    (m.PositionMode(dual_side_position=True), {"dualSidePosition": True}),
    (m.MultiAssetsMode(multi_assets_margin=False), {"multiAssetsMargin": False}),
    (
        m.Income(
            symbol="",
            income_type=IncomeType.TRANSFER,
            income=D("-0.37500000"),
            asset="USDT",
            info="TRANSFER",
            time=1570608000000,
            tran_id="9689322392",
        ),
        {
            "symbol": "",
            "incomeType": "TRANSFER",
            "income": "-0.37500000",
            "asset": "USDT",
            "info": "TRANSFER",
            "time": 1570608000000,
            "tranId": "9689322392",
            "tradeId": "",
        },
    ),
    (
        m.SymbolBrackets(
            symbol="ETHUSDT",
            brackets=[
                m.Bracket(
                    bracket=1,
                    initial_leverage=75,
                    notional_cap=D("10000"),
                    notional_floor=D("0"),
                    maintenance_margin_ratio=D("0.0065"),
                    cum=D("0"),
                ),
                m.Bracket(
                    bracket=2,
                    initial_leverage=50,
                    notional_cap=D("50000"),
                    notional_floor=D("10000"),
                    maintenance_margin_ratio=D("0.01"),
                    # cum_2 = cum_1 + floor_2 × (mmr_2 − mmr_1) = 0 + 10000 × 0.0035 = 35
                    cum=D("35.0"),
                ),
            ],
        ),
        {
            "symbol": "ETHUSDT",
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 75,
                    "notionalCap": 10000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.0065,
                    "cum": 0,
                },
                {
                    "bracket": 2,
                    "initialLeverage": 50,
                    "notionalCap": 50000,
                    "notionalFloor": 10000,
                    "maintMarginRatio": 0.01,
                    "cum": 35,
                },
            ],
        },
    ),
    (
        m.AdlQuantile(symbol="ETHUSDT", adl_quantile={"LONG": 3, "SHORT": 3, "HEDGE": 0}),
        {"symbol": "ETHUSDT", "adlQuantile": {"LONG": 3, "SHORT": 3, "HEDGE": 0}},
    ),
    (
        ORDER,
        {
            "clientOrderId": "testOrder",
            "cumQty": "0",
            "cumQuote": "0",
            "executedQty": "0",
            "orderId": 22542179,
            "avgPrice": "0.00000",
            "origQty": "10",
            "price": "0",
            "reduceOnly": False,
            "side": "BUY",
            "positionSide": "SHORT",
            "status": "NEW",
            "stopPrice": "9300",
            "closePosition": False,
            "symbol": "BTCUSDT",
            "timeInForce": "GTC",
            "type": "TRAILING_STOP_MARKET",
            "origType": "TRAILING_STOP_MARKET",
            "activatePrice": "9020",
            "priceRate": "0.3",
            "updateTime": 1566818724722,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
        },
    ),
    (
        dataclasses.replace(
            ORDER,
            time=1579276756075,
            order_type=OrderType.LIMIT,
            orig_type=OrderType.LIMIT,
            activation_price=None,
            callback_rate=None,
        ),
        {
            "clientOrderId": "testOrder",
            "cumQty": "0",
            "cumQuote": "0",
            "executedQty": "0",
            "orderId": 22542179,
            "avgPrice": "0.00000",
            "origQty": "10",
            "price": "0",
            "reduceOnly": False,
            "side": "BUY",
            "positionSide": "SHORT",
            "status": "NEW",
            "stopPrice": "9300",
            "closePosition": False,
            "symbol": "BTCUSDT",
            "time": 1579276756075,  # queried orders carry their creation time here
            "timeInForce": "GTC",
            "type": "LIMIT",
            "origType": "LIMIT",
            "updateTime": 1566818724722,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
        },
    ),
    (
        m.ForceOrder(
            order_id=6071832819,
            symbol="BTCUSDT",
            status=OrderStatus.FILLED,
            client_order_id="autoclose-1596107620040000020",
            price=D("10871.09"),
            avg_price=D("10913.21000"),
            orig_qty=D("0.001"),
            executed_qty=D("0.001"),
            cum_quote=D("10.91321"),
            time_in_force=TimeInForce.IOC,
            order_type=OrderType.LIMIT,
            reduce_only=False,
            close_position=False,
            side=OrderSide.SELL,
            position_side=PositionSide.BOTH,
            stop_price=D("0"),
            working_type=WorkingType.CONTRACT_PRICE,
            orig_type=OrderType.LIMIT,
            time=1596107620044,
            update_time=1596107620087,
        ),
        {
            "orderId": 6071832819,
            "symbol": "BTCUSDT",
            "status": "FILLED",
            "clientOrderId": "autoclose-1596107620040000020",
            "price": "10871.09",
            "avgPrice": "10913.21000",
            "origQty": "0.001",
            "executedQty": "0.001",
            "cumQuote": "10.91321",
            "timeInForce": "IOC",
            "type": "LIMIT",
            "reduceOnly": False,
            "closePosition": False,
            "side": "SELL",
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "origType": "LIMIT",
            "time": 1596107620044,
            "updateTime": 1596107620087,
        },
    ),
    (
        m.CommissionRate(
            symbol="BTCUSDT",
            maker_commission_rate=D("0.0001"),
            taker_commission_rate=D("0.00035"),
        ),
        {"symbol": "BTCUSDT", "makerCommissionRate": "0.0001", "takerCommissionRate": "0.00035"},
    ),
    (
        m.RemainingOpenable(remaining_openable_notional_value=D("200")),
        {"remainingOpenableNotionalValue": 200},
    ),
    (
        m.PremiumIndex(
            symbol="BTCUSDT",
            mark_price=D("11793.63104562"),
            index_price=D("11781.80495970"),
            estimated_settle_price=D("11781.16138815"),
            last_funding_rate=D("0.00038246"),
            next_funding_time=1597392000000,
            interest_rate=D("0.00010000"),
            time=1597370495002,
        ),
        {
            "symbol": "BTCUSDT",
            "markPrice": "11793.63104562",
            "indexPrice": "11781.80495970",
            "estimatedSettlePrice": "11781.16138815",
            "lastFundingRate": "0.00038246",
            "nextFundingTime": 1597392000000,
            "interestRate": "0.00010000",
            "time": 1597370495002,
        },
    ),
    (
        m.AssetInfo(asset="BTC", margin_available=False),
        {"asset": "BTC", "marginAvailable": False, "autoAssetExchange": None},
    ),
    (
        m.AccountUpdate(
            event_time=1564745798939,
            transaction_time=1564745798938,
            update=m.AccountUpdateData(
                reason=AccountUpdateReason.ORDER,
                balances=[
                    m.BalanceUpdate(
                        asset="USDT",
                        wallet_balance=D("122624.12345678"),
                        cross_wallet_balance=D("100.12345678"),
                        balance_change=D("50.12345678"),
                    )
                ],
                positions=[
                    m.PositionUpdate(
                        symbol="BTCUSDT",
                        position_amount=D("20"),
                        entry_price=D("6563.66500"),
                        accumulated_realized=D("0"),
                        unrealized_profit=D("2850.21200"),
                        margin_type=MarginType.ISOLATED,
                        isolated_wallet=D("13200.70726908"),
                        position_side=PositionSide.LONG,
                    )
                ],
            ),
        ),
        {
            "e": "ACCOUNT_UPDATE",
            "E": 1564745798939,
            "T": 1564745798938,
            "a": {
                "m": "ORDER",
                "B": [
                    {
                        "a": "USDT",
                        "wb": "122624.12345678",
                        "cw": "100.12345678",
                        "bc": "50.12345678",
                    }
                ],
                "P": [
                    {
                        "s": "BTCUSDT",
                        "pa": "20",
                        "ep": "6563.66500",
                        "cr": "0",
                        "up": "2850.21200",
                        "mt": "isolated",
                        "iw": "13200.70726908",
                        "ps": "LONG",
                    }
                ],
            },
        },
    ),
    (
        m.OrderTradeUpdate(
            event_time=1568879465651,
            transaction_time=1568879465650,
            order=m.OrderUpdate(
                symbol="BTCUSDT",
                client_order_id="TEST",
                side=OrderSide.SELL,
                order_type=OrderType.MARKET,
                time_in_force=TimeInForce.GTC,
                orig_qty=D("0.001"),
                price=D("0"),
                avg_price=D("7103.04"),
                stop_price=D("0"),
                execution_type=ExecutionType.TRADE,
                status=OrderStatus.FILLED,
                order_id=8886774,
                last_filled_qty=D("0.001"),
                executed_qty=D("0.001"),
                last_filled_price=D("7103.04"),
                commission_asset="USDT",
                commission=D("0.00248606"),
                trade_time=1568879465651,
                trade_id=12,
                bids_notional=D("0"),
                asks_notional=D("0"),
                is_maker=False,
                reduce_only=False,
                working_type=WorkingType.CONTRACT_PRICE,
                orig_type=OrderType.MARKET,
                position_side=PositionSide.BOTH,
                close_position=False,
                realized_profit=D("0"),
            ),
        ),
        {
            "e": "ORDER_TRADE_UPDATE",
            "E": 1568879465651,
            "T": 1568879465650,
            "o": {
                "s": "BTCUSDT",
                "c": "TEST",
                "S": "SELL",
                "o": "MARKET",
                "f": "GTC",
                "q": "0.001",
                "p": "0",
                "ap": "7103.04",
                "sp": "0",
                "x": "TRADE",
                "X": "FILLED",
                "i": 8886774,
                "l": "0.001",
                "z": "0.001",
                "L": "7103.04",
                "N": "USDT",
                "n": "0.00248606",
                "T": 1568879465651,
                "t": 12,
                "b": "0",
                "a": "0",
                "m": False,
                "R": False,
                "wt": "CONTRACT_PRICE",
                "ot": "MARKET",
                "ps": "BOTH",
                "cp": False,
                "rp": "0",
            },
        },
    ),
    (
        m.AccountConfigUpdate(
            event_time=1611646737479,
            transaction_time=1611646737476,
            leverage=m.LeverageConfig(symbol="BTCUSDT", leverage=25),
        ),
        {
            "e": "ACCOUNT_CONFIG_UPDATE",
            "E": 1611646737479,
            "T": 1611646737476,
            "ac": {"s": "BTCUSDT", "l": 25},
        },
    ),
    (
        m.AccountConfigUpdate(
            event_time=1611646737479,
            transaction_time=1611646737476,
            account=m.AccountConfig(dual_side_position=True),
        ),
        {"e": "ACCOUNT_CONFIG_UPDATE", "E": 1611646737479, "T": 1611646737476, "ai": {"d": True}},
    ),
    (
        m.MarginCall(
            event_time=1587727187525,
            cross_wallet_balance=D("3.16812045"),
            positions=[
                m.MarginCallPosition(
                    symbol="ETHUSDT",
                    position_side=PositionSide.LONG,
                    position_amount=D("1.327"),
                    margin_type=MarginType.CROSSED,
                    isolated_wallet=D("0"),
                    mark_price=D("187.17127"),
                    unrealized_profit=D("-1.166074"),
                    maintenance_margin=D("1.614445"),
                )
            ],
        ),
        {
            "e": "MARGIN_CALL",
            "E": 1587727187525,
            "cw": "3.16812045",
            "p": [
                {
                    "s": "ETHUSDT",
                    "ps": "LONG",
                    "pa": "1.327",
                    "mt": "CROSSED",
                    "iw": "0",
                    "mp": "187.17127",
                    "up": "-1.166074",
                    "mm": "1.614445",
                }
            ],
        },
    ),
    (
        m.ListenKeyExpired(event_time=1576653824250),
        {"e": "listenKeyExpired", "E": 1576653824250},
    ),
]


@pytest.mark.parametrize(("obj", "wire"), SHAPES, ids=lambda x: type(x).__name__)
def test_to_wire_is_the_documented_shape(obj: Any, wire: dict[str, Any]) -> None:
    assert json.dumps(to_wire(obj)) == json.dumps(wire)


@pytest.mark.parametrize(("obj", "wire"), SHAPES, ids=lambda x: type(x).__name__)
def test_from_wire_reads_the_documented_shape(obj: Any, wire: dict[str, Any]) -> None:
    assert from_wire(type(obj), wire, strict=True) == obj


def test_every_model_has_an_exact_shape_test_or_a_docs_example() -> None:
    covered = {type(obj) for obj, _ in SHAPES} | {
        type(child)
        for obj, _ in SHAPES
        for child in _children(obj)
        if dataclasses.is_dataclass(child)
    }
    # exchangeInfo, batch/trade/countdown replies are pinned by tests/interop/test_docs_examples.py
    by_docs = {m.ExchangeInfo, m.RateLimit, m.SymbolInfo, m.Trade, m.CountdownCancelAll}
    assert set(MODELS) - covered - by_docs == set()


def _children(obj: Any) -> list[Any]:
    out: list[Any] = []
    for spec in wire_fields(type(obj)):
        value = getattr(obj, spec.name)
        for child in value if isinstance(value, list) else [value]:
            if dataclasses.is_dataclass(child):
                out += [child, *_children(child)]
    return out


# -- round trips of arbitrary values -----------------------------------------------------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
_float_exact = st.floats(allow_nan=False, allow_infinity=False).map(parse_decimal)


def _strategy(spec: WireField) -> st.SearchStrategy[Any]:
    kind = spec.kind
    strategies: dict[Kind, st.SearchStrategy[Any]] = {
        Kind.DEC_STR: st.decimals(allow_nan=False, allow_infinity=False),
        Kind.DEC_NUM: _float_exact,
        Kind.INT: st.integers(),
        Kind.INT_STR: st.integers(),
        Kind.BOOL: st.booleans(),
        Kind.BOOL_STR: st.booleans(),
        Kind.STR: st.text(max_size=8),
        Kind.MARGIN_TYPE_REPLY: st.sampled_from(MarginType),
        Kind.MARGIN_TYPE_PARAM: st.sampled_from(MarginType),
        Kind.MAP_INT: st.dictionaries(
            st.sampled_from(["LONG", "SHORT", "BOTH", "HEDGE"]), st.integers(0, 4)
        ),
        Kind.RAW: _json,
    }
    if kind is Kind.ENUM:
        enum_cls: Any = spec.of
        members = list(enum_cls)
        strategy: st.SearchStrategy[Any] = st.sampled_from(members)
    elif kind is Kind.MODEL:
        strategy = instances(spec.of)
    elif kind is Kind.LIST_MODEL:
        strategy = st.lists(instances(spec.of), max_size=2)
    else:
        strategy = strategies[kind]
    return st.none() | strategy if spec.optional or spec.nullable else strategy


def instances(cls: Any) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{spec.name: _strategy(spec) for spec in wire_fields(cls)})


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_from_wire_inverts_to_wire_through_json(cls: Any, data: st.DataObject) -> None:
    obj = data.draw(instances(cls))
    wire = json.loads(json.dumps(to_wire(obj)))
    assert from_wire(cls, wire, strict=True) == obj
    assert list(wire) == [
        s.wire for s in wire_fields(cls) if getattr(obj, s.name) is not None or not s.optional
    ]


# -- what the client meets in the wild ------------------------------------------------------------


def shape(cls: type[Any], nth: int = 0) -> tuple[Any, dict[str, Any]]:
    """The nth (model instance, wire) pair of SHAPES for `cls`."""
    return [pair for pair in SHAPES if type(pair[0]) is cls][nth]


def test_balance_update_time_is_read_as_number_or_string() -> None:
    wire = to_wire(BALANCE_ROW)
    assert from_wire(m.BalanceRow, {**wire, "updateTime": 1617939110373}) == BALANCE_ROW
    assert from_wire(m.BalanceRow, wire) == BALANCE_ROW


def test_numbers_and_strings_are_interchangeable_when_reading() -> None:
    bracket = from_wire(
        m.Bracket,
        {
            "bracket": "1",
            "initialLeverage": "75",
            "notionalCap": "10000",
            "notionalFloor": 0,
            "maintMarginRatio": "0.0065",
            "cum": 0.0,
        },
    )
    assert bracket.maintenance_margin_ratio == D("0.0065")
    assert bracket.initial_leverage == 75
    risk = dict(shape(m.PositionRisk)[1], isAutoAddMargin=False, leverage=10, positionAmt=20.0)
    parsed = from_wire(m.PositionRisk, risk)
    assert (parsed.auto_add_margin, parsed.leverage, parsed.position_amount) == (
        False,
        10,
        D("20.0"),
    )
    income = from_wire(m.Income, dict(shape(m.Income)[1], tranId=9689322392, tradeId=2059192))
    assert (income.tran_id, income.trade_id) == ("9689322392", "2059192")


def test_position_risk_accepts_either_margin_type_spelling() -> None:
    wire = dict(shape(m.PositionRisk)[1], marginType="CROSSED")
    assert from_wire(m.PositionRisk, wire).margin_type is MarginType.CROSSED
    assert to_wire(from_wire(m.PositionRisk, wire))["marginType"] == "cross"


def test_order_reads_every_documented_variant() -> None:
    query = {k: v for k, v in shape(m.Order, 1)[1].items() if k != "cumQty"}
    cancel = {k: v for k, v in shape(m.Order)[1].items() if k != "avgPrice"}
    assert from_wire(m.Order, query).cum_qty is None
    assert from_wire(m.Order, cancel).avg_price is None
    assert "cumQty" not in to_wire(from_wire(m.Order, query))


def test_funding_fee_account_update_without_positions() -> None:
    payload = {
        "e": "ACCOUNT_UPDATE",
        "E": 1,
        "T": 1,
        "a": {"m": "FUNDING_FEE", "B": [{"a": "USDT", "wb": "1", "cw": "1", "bc": "0"}]},
    }
    event = m.parse_event(payload)
    assert isinstance(event, m.AccountUpdate)
    assert event.update.positions == []
    assert to_wire(event)["a"]["P"] == []


def test_parse_event_dispatches_on_e() -> None:
    for obj, wire in SHAPES:
        if isinstance(obj, tuple(m.EVENTS.values())):
            assert m.parse_event(wire) == obj
    assert set(m.EVENTS) == set(EventType)


@pytest.mark.parametrize("payload", [{"e": "tradepro", "E": 1}, {"E": 1}, {"e": 5}, [1]])
def test_parse_event_rejects_unknown_events(payload: Any) -> None:
    with pytest.raises(WireError):
        m.parse_event(payload)


def test_bracket_ratio_that_a_float_cannot_carry_is_refused() -> None:
    bracket = dataclasses.replace(
        shape(m.SymbolBrackets)[0].brackets[0], maintenance_margin_ratio=D("0.00650000000000000001")
    )
    with pytest.raises(WireError, match="maintMarginRatio"):
        to_wire(bracket)
