"""Every enumerated value of the account API, named as Aster names it on the wire."""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum


class Security(StrEnum):
    """Endpoint security types (docs: "Endpoint Security Type"); TRANSFER is signed like TRADE."""

    NONE = "NONE"
    MARKET_DATA = "MARKET_DATA"
    USER_STREAM = "USER_STREAM"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"
    TRANSFER = "TRANSFER"

    @property
    def signed(self) -> bool:
        return self in (Security.USER_DATA, Security.TRADE, Security.TRANSFER)

    @property
    def needs_key(self) -> bool:
        return self is not Security.NONE


class Permission(StrEnum):
    """What an API key may do. USER_DATA is read access; keys get all three by default."""

    USER_DATA = "USER_DATA"
    TRADE = "TRADE"
    TRANSFER = "TRANSFER"


class MarginType(Enum):
    """Margin type: uppercase in POST params, lowercase in GET replies (FACTS.md, live captures)."""

    ISOLATED = ("ISOLATED", "isolated")
    CROSSED = ("CROSSED", "cross")

    @property
    def param(self) -> str:
        return self.value[0]

    @property
    def reply(self) -> str:
        return self.value[1]

    @classmethod
    def from_param(cls, text: str) -> MarginType:
        for member in cls:
            if member.param == text:
                return member
        raise ValueError(text)

    @classmethod
    def from_reply(cls, text: str) -> MarginType:
        for member in cls:
            if text in (member.reply, member.param):
                return member
        raise ValueError(text)


class PositionSide(StrEnum):
    BOTH = "BOTH"
    LONG = "LONG"
    SHORT = "SHORT"


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def direction(self) -> int:
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP = "STOP"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"
    LIQUIDATION = "LIQUIDATION"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"
    HIDDEN = "HIDDEN"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    NEW_INSURANCE = "NEW_INSURANCE"
    NEW_ADL = "NEW_ADL"


class ExecutionType(StrEnum):
    NEW = "NEW"
    CANCELED = "CANCELED"
    CALCULATED = "CALCULATED"
    EXPIRED = "EXPIRED"
    TRADE = "TRADE"


class WorkingType(StrEnum):
    MARK_PRICE = "MARK_PRICE"
    CONTRACT_PRICE = "CONTRACT_PRICE"


class IncomeType(StrEnum):
    TRANSFER = "TRANSFER"
    WELCOME_BONUS = "WELCOME_BONUS"
    REALIZED_PNL = "REALIZED_PNL"
    FUNDING_FEE = "FUNDING_FEE"
    COMMISSION = "COMMISSION"
    INSURANCE_CLEAR = "INSURANCE_CLEAR"
    MARKET_MERCHANT_RETURN_REWARD = "MARKET_MERCHANT_RETURN_REWARD"


class TransferKind(StrEnum):
    FUTURE_SPOT = "FUTURE_SPOT"
    SPOT_FUTURE = "SPOT_FUTURE"


class TransferStatus(StrEnum):
    SUCCESS = "SUCCESS"


class AutoCloseType(StrEnum):
    LIQUIDATION = "LIQUIDATION"
    ADL = "ADL"


class PositionMarginChange(IntEnum):
    """`type` of POST /fapi/v1/positionMargin and its history."""

    ADD = 1
    REDUCE = 2


class AccountUpdateReason(StrEnum):
    """`m` of ACCOUNT_UPDATE (docs: "Event: Balance and Position Update")."""

    DEPOSIT = "DEPOSIT"
    WITHDRAW = "WITHDRAW"
    ORDER = "ORDER"
    FUNDING_FEE = "FUNDING_FEE"
    WITHDRAW_REJECT = "WITHDRAW_REJECT"
    ADJUSTMENT = "ADJUSTMENT"
    INSURANCE_CLEAR = "INSURANCE_CLEAR"
    ADMIN_DEPOSIT = "ADMIN_DEPOSIT"
    ADMIN_WITHDRAW = "ADMIN_WITHDRAW"
    MARGIN_TRANSFER = "MARGIN_TRANSFER"
    MARGIN_TYPE_CHANGE = "MARGIN_TYPE_CHANGE"
    ASSET_TRANSFER = "ASSET_TRANSFER"
    OPTIONS_PREMIUM_FEE = "OPTIONS_PREMIUM_FEE"
    OPTIONS_SETTLE_PROFIT = "OPTIONS_SETTLE_PROFIT"
    AUTO_EXCHANGE = "AUTO_EXCHANGE"


class EventType(StrEnum):
    ACCOUNT_UPDATE = "ACCOUNT_UPDATE"
    ACCOUNT_CONFIG_UPDATE = "ACCOUNT_CONFIG_UPDATE"
    ORDER_TRADE_UPDATE = "ORDER_TRADE_UPDATE"
    MARGIN_CALL = "MARGIN_CALL"
    LISTEN_KEY_EXPIRED = "listenKeyExpired"
