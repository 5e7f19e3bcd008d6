"""The exact JSON shape of every account-API response and user-data-stream event.

Each model's fields are in wire order and each declares its JSON key and `Kind` (see `wire`).
Shapes follow the official v1 docs' response examples, corrected where `FACTS.md` records what the
live exchange sends ([L]); the docs-example test (tests/interop/test_docs_examples.py) holds the
full list of places where we differ from the docs on purpose. In short:

- `BalanceRow.update_time` is sent as a string (FACTS [L]); every other updateTime is a number.
- `PositionRisk` carries `notional` and `isolatedWallet` before `updateTime` (FACTS [L]).
- `AccountConfig` (`ai` of ACCOUNT_CONFIG_UPDATE) has every key optional: a position-mode change
  sends only `d`, a multi-assets change only `j` (FACTS).

Order replies. The docs show three key orders for the same order object: the new-order reply
(`clientOrderId, cumQty, cumQuote, executedQty, orderId, avgPrice, ...`, no `time`), the
query / open-order / all-orders reply (alphabetical from `avgPrice`, with `time`, no `cumQty`) and
the cancel reply (no `avgPrice`, `origType` after `origQty`). `Order` uses the new-order order with
`time` after `symbol` where the query reply has it; `cumQty`, `avgPrice` and `time` are optional so
the client reads every variant, and our server always sends them.

Python names are the domain's (`cross_wallet_balance`, `maintenance_margin`); camelCase and the
one-letter stream keys live only in the wire names.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
    TransferStatus,
    WorkingType,
)
from aster_account.protocol.wire import Kind, WireError, field, from_wire, model

__all__ = [
    "EVENTS",
    "AccountAsset",
    "AccountConfig",
    "AccountConfigUpdate",
    "AccountInfo",
    "AccountPosition",
    "AccountUpdate",
    "AccountUpdateData",
    "AdlQuantile",
    "AssetInfo",
    "BalanceRow",
    "BalanceUpdate",
    "Bracket",
    "CancelAllResult",
    "CodeMsg",
    "CommissionRate",
    "CountdownCancelAll",
    "Empty",
    "Event",
    "ExchangeInfo",
    "ForceOrder",
    "Income",
    "LeverageConfig",
    "LeverageResult",
    "ListenKey",
    "ListenKeyExpired",
    "MarginCall",
    "MarginCallPosition",
    "MarginHistoryEntry",
    "MultiAssetsMode",
    "Order",
    "OrderTradeUpdate",
    "OrderUpdate",
    "PositionMarginResult",
    "PositionMode",
    "PositionRisk",
    "PositionUpdate",
    "PremiumIndex",
    "RateLimit",
    "RemainingOpenable",
    "ServerTime",
    "SymbolBrackets",
    "SymbolInfo",
    "Trade",
    "TransferResult",
    "parse_event",
]

DEC, NUM, INT, INT_STR = Kind.DEC_STR, Kind.DEC_NUM, Kind.INT, Kind.INT_STR
BOOL, STR, ENUM = Kind.BOOL, Kind.STR, Kind.ENUM


# -- general ----------------------------------------------------------------------------------


@model
class Empty:
    """`{}`: ping, listenKey keepalive and close."""


@model
class ServerTime:
    server_time: int = field("serverTime", INT)


@model
class ListenKey:
    listen_key: str = field("listenKey", STR)


@model
class CodeMsg:
    """Success body of the setters marginType, positionSide/dual, multiAssetsMargin.

    Clients treat any other code in a 2xx body as an error, so it is 200, never 0 (FACTS).
    """

    code: int = field("code", INT, default=200)
    msg: str = field("msg", STR, default="success")


@model
class CancelAllResult:
    """DELETE /fapi/v1/allOpenOrders: the docs send `code` as the string "200"."""

    code: int = field("code", INT_STR, default=200)
    msg: str = field("msg", STR, default="The operation of cancel all open order is done.")


# -- market data the clients need ---------------------------------------------------------------


@model
class RateLimit:
    interval: str = field("interval", STR)
    interval_num: int = field("intervalNum", INT)
    limit: int = field("limit", INT)
    rate_limit_type: str = field("rateLimitType", STR)


@model
class AssetInfo:
    asset: str = field("asset", STR)
    margin_available: bool = field("marginAvailable", BOOL)
    auto_asset_exchange: Decimal | None = field(
        "autoAssetExchange", NUM, nullable=True, default=None
    )


@model
class SymbolInfo:
    """One `symbols[]` entry of exchangeInfo; filters stay plain JSON objects."""

    symbol: str = field("symbol", STR)
    pair: str = field("pair", STR)
    contract_type: str = field("contractType", STR)
    delivery_date: int = field("deliveryDate", INT)
    onboard_date: int = field("onboardDate", INT)
    status: str = field("status", STR)
    maint_margin_percent: Decimal = field("maintMarginPercent", DEC)
    required_margin_percent: Decimal = field("requiredMarginPercent", DEC)
    base_asset: str = field("baseAsset", STR)
    quote_asset: str = field("quoteAsset", STR)
    margin_asset: str = field("marginAsset", STR)
    price_precision: int = field("pricePrecision", INT)
    quantity_precision: int = field("quantityPrecision", INT)
    base_asset_precision: int = field("baseAssetPrecision", INT)
    quote_precision: int = field("quotePrecision", INT)
    underlying_type: str = field("underlyingType", STR)
    underlying_sub_type: list[str] = field("underlyingSubType", Kind.RAW)
    settle_plan: int = field("settlePlan", INT)
    trigger_protect: Decimal = field("triggerProtect", DEC)
    filters: list[dict[str, Any]] = field("filters", Kind.RAW)
    order_types: list[str] = field("OrderType", Kind.RAW)  # sic: capitalised in the docs
    time_in_force: list[str] = field("timeInForce", Kind.RAW)
    liquidation_fee: Decimal = field("liquidationFee", DEC)
    market_take_bound: Decimal = field("marketTakeBound", DEC)


@model
class ExchangeInfo:
    exchange_filters: list[Any] = field("exchangeFilters", Kind.RAW)
    rate_limits: list[RateLimit] = field("rateLimits", Kind.LIST_MODEL, RateLimit)
    server_time: int = field("serverTime", INT)
    assets: list[AssetInfo] = field("assets", Kind.LIST_MODEL, AssetInfo)
    symbols: list[SymbolInfo] = field("symbols", Kind.LIST_MODEL, SymbolInfo)
    timezone: str = field("timezone", STR, default="UTC")


@model
class PremiumIndex:
    """GET /fapi/v1/premiumIndex: mark price and funding."""

    symbol: str = field("symbol", STR)
    mark_price: Decimal = field("markPrice", DEC)
    index_price: Decimal = field("indexPrice", DEC)
    estimated_settle_price: Decimal = field("estimatedSettlePrice", DEC)
    last_funding_rate: Decimal = field("lastFundingRate", DEC)
    next_funding_time: int = field("nextFundingTime", INT)
    interest_rate: Decimal = field("interestRate", DEC)
    time: int = field("time", INT)


# -- account ----------------------------------------------------------------------------------


@model
class BalanceRow:
    """One row of GET /fapi/v2/balance."""

    account_alias: str = field("accountAlias", STR)
    asset: str = field("asset", STR)
    wallet_balance: Decimal = field("balance", DEC)
    cross_wallet_balance: Decimal = field("crossWalletBalance", DEC)
    cross_unrealized_profit: Decimal = field("crossUnPnl", DEC)
    available_balance: Decimal = field("availableBalance", DEC)
    max_withdraw_amount: Decimal = field("maxWithdrawAmount", DEC)
    margin_available: bool = field("marginAvailable", BOOL)
    update_time: int = field("updateTime", INT_STR)  # a string in live captures (FACTS [L])


@model
class AccountAsset:
    """`assets[]` of GET /fapi/v4/account."""

    asset: str = field("asset", STR)
    wallet_balance: Decimal = field("walletBalance", DEC)
    unrealized_profit: Decimal = field("unrealizedProfit", DEC)
    margin_balance: Decimal = field("marginBalance", DEC)
    maintenance_margin: Decimal = field("maintMargin", DEC)
    initial_margin: Decimal = field("initialMargin", DEC)
    position_initial_margin: Decimal = field("positionInitialMargin", DEC)
    open_order_initial_margin: Decimal = field("openOrderInitialMargin", DEC)
    cross_wallet_balance: Decimal = field("crossWalletBalance", DEC)
    cross_unrealized_profit: Decimal = field("crossUnPnl", DEC)
    available_balance: Decimal = field("availableBalance", DEC)
    max_withdraw_amount: Decimal = field("maxWithdrawAmount", DEC)
    margin_available: bool = field("marginAvailable", BOOL)
    update_time: int = field("updateTime", INT)


@model
class AccountPosition:
    """`positions[]` of GET /fapi/v4/account."""

    symbol: str = field("symbol", STR)
    initial_margin: Decimal = field("initialMargin", DEC)
    maintenance_margin: Decimal = field("maintMargin", DEC)
    unrealized_profit: Decimal = field("unrealizedProfit", DEC)
    position_initial_margin: Decimal = field("positionInitialMargin", DEC)
    open_order_initial_margin: Decimal = field("openOrderInitialMargin", DEC)
    leverage: int = field("leverage", INT_STR)
    isolated: bool = field("isolated", BOOL)
    entry_price: Decimal = field("entryPrice", DEC)
    max_notional: Decimal = field("maxNotional", DEC)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)
    position_amount: Decimal = field("positionAmt", DEC)
    update_time: int = field("updateTime", INT)


@model
class AccountInfo:
    """GET /fapi/v4/account."""

    fee_tier: int = field("feeTier", INT)
    can_trade: bool = field("canTrade", BOOL)
    can_deposit: bool = field("canDeposit", BOOL)
    can_withdraw: bool = field("canWithdraw", BOOL)
    update_time: int = field("updateTime", INT)
    total_initial_margin: Decimal = field("totalInitialMargin", DEC)
    total_maintenance_margin: Decimal = field("totalMaintMargin", DEC)
    total_wallet_balance: Decimal = field("totalWalletBalance", DEC)
    total_unrealized_profit: Decimal = field("totalUnrealizedProfit", DEC)
    total_margin_balance: Decimal = field("totalMarginBalance", DEC)
    total_position_initial_margin: Decimal = field("totalPositionInitialMargin", DEC)
    total_open_order_initial_margin: Decimal = field("totalOpenOrderInitialMargin", DEC)
    total_cross_wallet_balance: Decimal = field("totalCrossWalletBalance", DEC)
    total_cross_unrealized_profit: Decimal = field("totalCrossUnPnl", DEC)
    available_balance: Decimal = field("availableBalance", DEC)
    max_withdraw_amount: Decimal = field("maxWithdrawAmount", DEC)
    assets: list[AccountAsset] = field("assets", Kind.LIST_MODEL, AccountAsset)
    positions: list[AccountPosition] = field("positions", Kind.LIST_MODEL, AccountPosition)


@model
class PositionRisk:
    """One row of GET /fapi/v2/positionRisk, in the docs' order plus the live extras."""

    entry_price: Decimal = field("entryPrice", DEC)
    margin_type: MarginType = field("marginType", Kind.MARGIN_TYPE_REPLY)
    auto_add_margin: bool = field("isAutoAddMargin", Kind.BOOL_STR, default=False)
    isolated_margin: Decimal = field("isolatedMargin", DEC)
    leverage: int = field("leverage", INT_STR)
    liquidation_price: Decimal = field("liquidationPrice", DEC)
    mark_price: Decimal = field("markPrice", DEC)
    max_notional_value: Decimal = field("maxNotionalValue", DEC)
    position_amount: Decimal = field("positionAmt", DEC)
    symbol: str = field("symbol", STR)
    unrealized_profit: Decimal = field("unRealizedProfit", DEC)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)
    notional: Decimal = field("notional", DEC)  # live capture extra (FACTS [L])
    isolated_wallet: Decimal = field("isolatedWallet", DEC)  # live capture extra (FACTS [L])
    update_time: int = field("updateTime", INT)


@model
class LeverageResult:
    """POST /fapi/v1/leverage: `leverage` is a JSON number here."""

    leverage: int = field("leverage", INT)
    max_notional_value: Decimal = field("maxNotionalValue", DEC)
    symbol: str = field("symbol", STR)


@model
class PositionMarginResult:
    """POST /fapi/v1/positionMargin: `amount` is a JSON number."""

    amount: Decimal = field("amount", NUM)
    code: int = field("code", INT, default=200)
    msg: str = field("msg", STR, default="Successfully modify position margin.")
    change: PositionMarginChange = field("type", ENUM, PositionMarginChange)


@model
class MarginHistoryEntry:
    """One row of GET /fapi/v1/positionMargin/history."""

    amount: Decimal = field("amount", DEC)
    asset: str = field("asset", STR)
    symbol: str = field("symbol", STR)
    time: int = field("time", INT)
    change: PositionMarginChange = field("type", ENUM, PositionMarginChange)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)


@model
class TransferResult:
    """POST /fapi/v1/asset/wallet/transfer."""

    tran_id: int = field("tranId", INT)
    status: TransferStatus = field("status", ENUM, TransferStatus, default=TransferStatus.SUCCESS)


@model
class PositionMode:
    """GET /fapi/v1/positionSide/dual: true is hedge mode."""

    dual_side_position: bool = field("dualSidePosition", BOOL)


@model
class MultiAssetsMode:
    """GET /fapi/v1/multiAssetsMargin."""

    multi_assets_margin: bool = field("multiAssetsMargin", BOOL)


@model
class Income:
    """One row of GET /fapi/v1/income. The docs send tranId and tradeId as strings, "" if none."""

    symbol: str = field("symbol", STR)
    income_type: IncomeType = field("incomeType", ENUM, IncomeType)
    income: Decimal = field("income", DEC)
    asset: str = field("asset", STR)
    info: str = field("info", STR)
    time: int = field("time", INT)
    tran_id: str = field("tranId", STR)
    trade_id: str = field("tradeId", STR, default="")


@model
class Bracket:
    """One leverage bracket: every value is a JSON number."""

    bracket: int = field("bracket", INT)
    initial_leverage: int = field("initialLeverage", INT)
    notional_cap: Decimal = field("notionalCap", NUM)
    notional_floor: Decimal = field("notionalFloor", NUM)
    maintenance_margin_ratio: Decimal = field("maintMarginRatio", NUM)
    cum: Decimal = field("cum", NUM)


@model
class SymbolBrackets:
    """GET /fapi/v1/leverageBracket: one per symbol (a list without `symbol`, one object with)."""

    symbol: str = field("symbol", STR)
    brackets: list[Bracket] = field("brackets", Kind.LIST_MODEL, Bracket)


@model
class AdlQuantile:
    """GET /fapi/v1/adlQuantile: keys LONG / SHORT / BOTH, or LONG / SHORT / HEDGE (cross hedge)."""

    symbol: str = field("symbol", STR)
    adl_quantile: dict[str, int] = field("adlQuantile", Kind.MAP_INT)


@model
class CommissionRate:
    symbol: str = field("symbol", STR)
    maker_commission_rate: Decimal = field("makerCommissionRate", DEC)
    taker_commission_rate: Decimal = field("takerCommissionRate", DEC)


@model
class RemainingOpenable:
    """GET /fapi/v1/remainingOpenableNotionalValue: a JSON number."""

    remaining_openable_notional_value: Decimal = field("remainingOpenableNotionalValue", NUM)


# -- orders and trades ------------------------------------------------------------------------


@model
class Order:
    """An order as new order, query, cancel and (all/open) orders answer it (see module doc)."""

    client_order_id: str = field("clientOrderId", STR)
    cum_qty: Decimal | None = field("cumQty", DEC, optional=True, default=None)
    cum_quote: Decimal = field("cumQuote", DEC)
    executed_qty: Decimal = field("executedQty", DEC)
    order_id: int = field("orderId", INT)
    avg_price: Decimal | None = field("avgPrice", DEC, optional=True, default=None)
    orig_qty: Decimal = field("origQty", DEC)
    price: Decimal = field("price", DEC)
    reduce_only: bool = field("reduceOnly", BOOL)
    side: OrderSide = field("side", ENUM, OrderSide)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)
    status: OrderStatus = field("status", ENUM, OrderStatus)
    stop_price: Decimal = field("stopPrice", DEC)
    close_position: bool = field("closePosition", BOOL)
    symbol: str = field("symbol", STR)
    time: int | None = field("time", INT, optional=True, default=None)
    time_in_force: TimeInForce = field("timeInForce", ENUM, TimeInForce)
    order_type: OrderType = field("type", ENUM, OrderType)
    orig_type: OrderType = field("origType", ENUM, OrderType)
    # only with TRAILING_STOP_MARKET
    activation_price: Decimal | None = field("activatePrice", DEC, optional=True, default=None)
    callback_rate: Decimal | None = field("priceRate", DEC, optional=True, default=None)
    update_time: int = field("updateTime", INT)
    working_type: WorkingType = field("workingType", ENUM, WorkingType)
    price_protect: bool = field("priceProtect", BOOL, default=False)


@model
class ForceOrder:
    """One row of GET /fapi/v1/forceOrders (liquidation and ADL closes), in the docs' order."""

    order_id: int = field("orderId", INT)
    symbol: str = field("symbol", STR)
    status: OrderStatus = field("status", ENUM, OrderStatus)
    client_order_id: str = field("clientOrderId", STR)
    price: Decimal = field("price", DEC)
    avg_price: Decimal = field("avgPrice", DEC)
    orig_qty: Decimal = field("origQty", DEC)
    executed_qty: Decimal = field("executedQty", DEC)
    cum_quote: Decimal = field("cumQuote", DEC)
    time_in_force: TimeInForce = field("timeInForce", ENUM, TimeInForce)
    order_type: OrderType = field("type", ENUM, OrderType)
    reduce_only: bool = field("reduceOnly", BOOL)
    close_position: bool = field("closePosition", BOOL)
    side: OrderSide = field("side", ENUM, OrderSide)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)
    stop_price: Decimal = field("stopPrice", DEC)
    working_type: WorkingType = field("workingType", ENUM, WorkingType)
    orig_type: OrderType = field("origType", ENUM, OrderType)
    time: int = field("time", INT)
    update_time: int = field("updateTime", INT)


@model
class Trade:
    """One row of GET /fapi/v1/userTrades."""

    buyer: bool = field("buyer", BOOL)
    commission: Decimal = field("commission", DEC)
    commission_asset: str = field("commissionAsset", STR)
    trade_id: int = field("id", INT)
    maker: bool = field("maker", BOOL)
    order_id: int = field("orderId", INT)
    price: Decimal = field("price", DEC)
    qty: Decimal = field("qty", DEC)
    quote_qty: Decimal = field("quoteQty", DEC)
    realized_pnl: Decimal = field("realizedPnl", DEC)
    side: OrderSide = field("side", ENUM, OrderSide)
    position_side: PositionSide = field("positionSide", ENUM, PositionSide)
    symbol: str = field("symbol", STR)
    time: int = field("time", INT)


@model
class CountdownCancelAll:
    """POST /fapi/v1/countdownCancelAll: the docs send countdownTime as a string."""

    symbol: str = field("symbol", STR)
    countdown_time: int = field("countdownTime", INT_STR)


# -- user data stream events ------------------------------------------------------------------


@model
class BalanceUpdate:
    """`a.B[]` of ACCOUNT_UPDATE."""

    asset: str = field("a", STR)
    wallet_balance: Decimal = field("wb", DEC)
    cross_wallet_balance: Decimal = field("cw", DEC)
    balance_change: Decimal = field("bc", DEC)  # except PnL and commission


@model
class PositionUpdate:
    """`a.P[]` of ACCOUNT_UPDATE; margin type in lowercase as in the GET replies."""

    symbol: str = field("s", STR)
    position_amount: Decimal = field("pa", DEC)
    entry_price: Decimal = field("ep", DEC)
    accumulated_realized: Decimal = field("cr", DEC)  # pre-fee
    unrealized_profit: Decimal = field("up", DEC)
    margin_type: MarginType = field("mt", Kind.MARGIN_TYPE_REPLY)
    isolated_wallet: Decimal = field("iw", DEC)
    position_side: PositionSide = field("ps", ENUM, PositionSide)


@model
class AccountUpdateData:
    """`a` of ACCOUNT_UPDATE.

    A cross funding fee carries no position; the docs say "without any position P", so a missing
    `P` reads as []. We always send `"P": []` then, since some clients index `a["P"]` directly.
    """

    reason: AccountUpdateReason = field("m", ENUM, AccountUpdateReason)
    balances: list[BalanceUpdate] = field("B", Kind.LIST_MODEL, BalanceUpdate)
    positions: list[PositionUpdate] = field("P", Kind.LIST_MODEL, PositionUpdate)


@model
class AccountUpdate:
    event_type: EventType = field("e", ENUM, EventType, default=EventType.ACCOUNT_UPDATE)
    event_time: int = field("E", INT)
    transaction_time: int = field("T", INT)
    update: AccountUpdateData = field("a", Kind.MODEL, AccountUpdateData)


@model
class OrderUpdate:
    """`o` of ORDER_TRADE_UPDATE."""

    symbol: str = field("s", STR)
    client_order_id: str = field("c", STR)
    side: OrderSide = field("S", ENUM, OrderSide)
    order_type: OrderType = field("o", ENUM, OrderType)
    time_in_force: TimeInForce = field("f", ENUM, TimeInForce)
    orig_qty: Decimal = field("q", DEC)
    price: Decimal = field("p", DEC)
    avg_price: Decimal = field("ap", DEC)
    stop_price: Decimal = field("sp", DEC)
    execution_type: ExecutionType = field("x", ENUM, ExecutionType)
    status: OrderStatus = field("X", ENUM, OrderStatus)
    order_id: int = field("i", INT)
    last_filled_qty: Decimal = field("l", DEC)
    executed_qty: Decimal = field("z", DEC)
    last_filled_price: Decimal = field("L", DEC)
    # not pushed when there is no commission
    commission_asset: str | None = field("N", STR, optional=True, default=None)
    commission: Decimal | None = field("n", DEC, optional=True, default=None)
    trade_time: int = field("T", INT)
    trade_id: int = field("t", INT)
    bids_notional: Decimal = field("b", DEC)
    asks_notional: Decimal = field("a", DEC)
    is_maker: bool = field("m", BOOL)
    reduce_only: bool = field("R", BOOL)
    working_type: WorkingType = field("wt", ENUM, WorkingType)
    orig_type: OrderType = field("ot", ENUM, OrderType)
    position_side: PositionSide = field("ps", ENUM, PositionSide)
    close_position: bool = field("cp", BOOL)
    # only with TRAILING_STOP_MARKET
    activation_price: Decimal | None = field("AP", DEC, optional=True, default=None)
    callback_rate: Decimal | None = field("cr", DEC, optional=True, default=None)
    realized_profit: Decimal = field("rp", DEC)


@model
class OrderTradeUpdate:
    event_type: EventType = field("e", ENUM, EventType, default=EventType.ORDER_TRADE_UPDATE)
    event_time: int = field("E", INT)
    transaction_time: int = field("T", INT)
    order: OrderUpdate = field("o", Kind.MODEL, OrderUpdate)


@model
class LeverageConfig:
    """`ac` of ACCOUNT_CONFIG_UPDATE: a symbol's new leverage."""

    symbol: str = field("s", STR)
    leverage: int = field("l", INT)


@model
class AccountConfig:
    """`ai` of ACCOUNT_CONFIG_UPDATE: only the keys that changed are sent (FACTS)."""

    multi_assets_margin: bool | None = field("j", BOOL, optional=True, default=None)
    fee_deduction: bool | None = field("f", BOOL, optional=True, default=None)
    dual_side_position: bool | None = field("d", BOOL, optional=True, default=None)


@model
class AccountConfigUpdate:
    event_type: EventType = field("e", ENUM, EventType, default=EventType.ACCOUNT_CONFIG_UPDATE)
    event_time: int = field("E", INT)
    transaction_time: int = field("T", INT)
    leverage: LeverageConfig | None = field(
        "ac", Kind.MODEL, LeverageConfig, optional=True, default=None
    )
    account: AccountConfig | None = field(
        "ai", Kind.MODEL, AccountConfig, optional=True, default=None
    )


@model
class MarginCallPosition:
    """`p[]` of MARGIN_CALL; margin type in uppercase, as the docs show it here."""

    symbol: str = field("s", STR)
    position_side: PositionSide = field("ps", ENUM, PositionSide)
    position_amount: Decimal = field("pa", DEC)
    margin_type: MarginType = field("mt", Kind.MARGIN_TYPE_PARAM)
    isolated_wallet: Decimal = field("iw", DEC)
    mark_price: Decimal = field("mp", DEC)
    unrealized_profit: Decimal = field("up", DEC)
    maintenance_margin: Decimal = field("mm", DEC)


@model
class MarginCall:
    event_type: EventType = field("e", ENUM, EventType, default=EventType.MARGIN_CALL)
    event_time: int = field("E", INT)
    # only pushed with a crossed position margin call
    cross_wallet_balance: Decimal | None = field("cw", DEC, optional=True, default=None)
    positions: list[MarginCallPosition] = field("p", Kind.LIST_MODEL, MarginCallPosition)


@model
class ListenKeyExpired:
    event_type: EventType = field("e", ENUM, EventType, default=EventType.LISTEN_KEY_EXPIRED)
    event_time: int = field("E", INT)


Event = AccountUpdate | OrderTradeUpdate | AccountConfigUpdate | MarginCall | ListenKeyExpired

EVENTS: dict[EventType, type[Event]] = {
    EventType.ACCOUNT_UPDATE: AccountUpdate,
    EventType.ORDER_TRADE_UPDATE: OrderTradeUpdate,
    EventType.ACCOUNT_CONFIG_UPDATE: AccountConfigUpdate,
    EventType.MARGIN_CALL: MarginCall,
    EventType.LISTEN_KEY_EXPIRED: ListenKeyExpired,
}


def parse_event(data: Mapping[str, Any]) -> Event:
    """A user-data-stream payload as the model its `e` names."""
    if not isinstance(data, Mapping):
        raise WireError(f"event: expected a JSON object, got {type(data).__name__}")
    name = data.get("e")
    try:
        cls = EVENTS[EventType(name)] if isinstance(name, str) else None
    except ValueError:
        cls = None
    if cls is None:
        raise WireError(f"unknown event type {name!r}")
    return from_wire(cls, data)
