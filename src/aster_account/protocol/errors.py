"""Aster error codes and the one exception tree both faces use.

Every code of the docs' "Error Codes" section has a class here, plus the codes that Aster sends but
does not document (FACTS.md: -1131, -4168, -4171; and -4167, Binance's counterpart of -4168).
The server raises these classes and renders ``to_wire()``; the client turns every error response
back into the same class (``from_response``).

    AsterError                          code, name, msg, http_status, headers, details
    ├── ServerError                     -1000..-1099  general server or network issues
    │   ├── Unknown (-1000, HTTP 500), Disconnected (-1001, 503), ..., InvalidTimestamp (-1021), ...
    │   ├── TooManyRequests             -1003, HTTP 429; carries retry_after
    │   │   ├── RateLimitError          HTTP 429 as the client sees it
    │   │   └── IPBannedError           HTTP 418: banned after ignoring 429s; banned_until_ms
    │   └── UnknownOutcome              client: HTTP 503 or a lost response; may have been processed
    ├── RequestError                    -1100..-1199  request issues (BadSymbol, ...)
    ├── ProcessingError                 -2000..-2099  processing issues (RejectedMbxKey, ...)
    ├── FilterError                     -4000..-4999  filters and other issues
    └── TransportError                  client: no response at all (code 0, http_status 0)

    AsterError(msg=None, *, http_status=None, headers=None, **details)
        .code         Aster's code, e.g. -1021
        .name         the docs' NAME, e.g. "INVALID_TIMESTAMP" (spelt as the docs spell it)
        .msg          the message sent on the wire (default: ``default_msg``)
        .http_status  ``default_status`` unless given: 400, except -1000 (500), -1001 / -1006 /
                      -1007 / -1016 (503: execution status unknown), -1003 (429; 418 once banned),
                      -2014 / -2015 (401)
        .headers      response headers (client side) or headers to send (server side)
        .details      the numbers that caused it; never sent on the wire
        .to_wire()    {"code": code, "msg": msg}

    Class attributes: ``code``, ``name``, ``messages`` (every text the docs give for the code, in
    their order, with Java-style ``%s`` / ``%d`` / ``%b`` placeholders), ``default_msg`` (the text
    FACTS.md gives where it gives one without placeholders, else the docs' first text without
    placeholders, else -- as for -4020 -- the first text), ``default_status``.
    ``Cls.format(*args)`` fills the first text (``default_msg``, then ``messages``) with as many
    placeholders as args; ``Cls.formatted(*args, **kw)`` is an instance carrying that text.
    Backticks around placeholders in the docs' markdown are code spans, not characters of the
    message: "Leverage `%s` is not valid" is sent as "Leverage 200 is not valid" (FACTS.md).

Fallback for codes without a class: ``aster_error(code)`` returns the registered class for a known
code; for an unknown code inside a family's range an instance of that family (``ServerError``,
``RequestError``, ``ProcessingError``, ``FilterError``) whose ``.code`` is the code given and whose
``.name`` is "UNKNOWN"; for a code outside every range a plain ``AsterError`` with that code.

``from_response(status, body, headers)`` maps an HTTP error response (client side):
    429 -> RateLimitError, 418 -> IPBannedError, 503 -> UnknownOutcome (each keeping the body's
    code when it sends one, e.g. -1015 for the order-count limit);
    otherwise a JSON {"code", "msg"} body -> ``aster_error(code, msg)`` with that status;
    an unparsable 5xx -> UnknownOutcome (a gateway answered; the request may have run);
    an unparsable 4xx -> Unknown (-1000) with that status and the body in ``details["body"]``.
"""

# The class names follow Aster's code names (docs), not the "...Error" suffix convention.
# ruff: noqa: N818

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Self

# Java format specifiers as they appear in the docs' texts.
_PLACEHOLDER = re.compile(r"%[sdb]")

ERRORS: dict[int, type[AsterError]] = {}
"""Aster code -> its class: every documented code and the undocumented ones named above."""


def _placeholders(text: str) -> int:
    return len(_PLACEHOLDER.findall(text))


def _java_str(value: object) -> str:
    # How the Java engine prints an argument: booleans lowercase, decimals without exponent.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _fill(template: str, args: tuple[object, ...]) -> str:
    values = iter(args)
    return _PLACEHOLDER.sub(lambda _m: _java_str(next(values)), template)


class AsterError(Exception):
    """Base of every error either face raises; also the fallback for codes outside every range."""

    code: int = -1000
    name: str = "UNKNOWN"
    messages: ClassVar[tuple[str, ...]] = ()
    default_msg: ClassVar[str] = "An unknown error occured while processing the request."
    default_status: ClassVar[int] = 400
    # The range of codes a family owns (set on the four family classes only).
    codes: ClassVar[range | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class that declares its own ``messages`` is the class of its ``code``.
        if "messages" not in cls.__dict__:
            return
        if not cls.messages:
            raise TypeError(f"{cls.__name__}: messages must not be empty")
        if "default_msg" not in cls.__dict__:
            cls.default_msg = next(
                (m for m in cls.messages if not _placeholders(m)), cls.messages[0]
            )
        family = _family_of(cls.code)
        if family is not None and not issubclass(cls, family):
            raise TypeError(f"{cls.__name__} ({cls.code}) must subclass {family.__name__}")
        if cls.code in ERRORS:
            raise TypeError(f"{cls.code} is registered twice: {ERRORS[cls.code].__name__}")
        ERRORS[cls.code] = cls

    def __init__(
        self,
        msg: str | None = None,
        *,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> None:
        self.msg = msg if msg is not None else self.default_msg
        self.http_status = http_status if http_status is not None else self.default_status
        self.headers = dict(headers or {})
        self.details = details
        # args = (msg,) keeps the default pickling working: cls(msg) then __dict__ is restored.
        super().__init__(self.msg)

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.msg}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, msg={self.msg!r}, "
            f"http_status={self.http_status})"
        )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body Aster sends for this error."""
        return {"code": self.code, "msg": self.msg}

    @classmethod
    def format(cls, *args: object) -> str:
        """The first text (``default_msg``, then ``messages``) with len(args) placeholders, filled.

        >>> InvalidParameter.format("symbol")
        "Data sent for parameter 'symbol' is not valid."
        """
        for template in (cls.default_msg, *cls.messages):
            if _placeholders(template) == len(args):
                return _fill(template, args)
        raise ValueError(
            f"{cls.__name__} ({cls.code}) has no text with {len(args)} placeholder(s): "
            f"{cls.messages!r}"
        )

    @classmethod
    def formatted(
        cls,
        *args: object,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> Self:
        """An instance whose msg is ``format(*args)``: ``raise InvalidLeverage.formatted(200)``."""
        return cls(cls.format(*args), http_status=http_status, headers=headers, **details)

    def _adopt_code(self, code: int) -> None:
        # For an instance standing for a code other than its class's (fallbacks, and the client
        # classes that keep the code the server sent).
        self.code = code
        known = ERRORS.get(code)
        self.name = known.name if known is not None else "UNKNOWN"


class ServerError(AsterError):
    """10xx: general server or network issues."""

    codes = range(-1099, -999)


class RequestError(AsterError):
    """11xx: request issues."""

    codes = range(-1199, -1099)


class ProcessingError(AsterError):
    """20xx: processing issues."""

    codes = range(-2099, -1999)


class FilterError(AsterError):
    """40xx: filters and other issues."""

    codes = range(-4999, -3999)


_FAMILIES: tuple[type[AsterError], ...] = (ServerError, RequestError, ProcessingError, FilterError)


def _family_of(code: int) -> type[AsterError] | None:
    for family in _FAMILIES:
        if family.codes is not None and code in family.codes:
            return family
    return None


class Unknown(ServerError):
    code = -1000
    name = "UNKNOWN"
    messages = ("An unknown error occured while processing the request.",)
    default_status = 500


class Disconnected(ServerError):
    code = -1001
    name = "DISCONNECTED"
    messages = ("Internal error; unable to process your request. Please try again.",)
    default_status = 503  # docs: 503 means the execution status is unknown


class Unauthorized(ServerError):
    code = -1002
    name = "UNAUTHORIZED"
    messages = ("You are not authorized to execute this request.",)


class TooManyRequests(ServerError):
    code = -1003
    name = "TOO_MANY_REQUESTS"
    messages = (
        "Too many requests queued.",
        "Too many requests; please use the websocket for live updates.",
        (
            "Too many requests; current limit is %s requests per minute. "
            "Please use the websocket for live updates to avoid polling the API."
        ),
        (
            "Way too many requests; IP banned until %s. "
            "Please use the websocket for live updates to avoid bans."
        ),
    )
    default_status = 429  # 418 once the IP is banned (IPBannedError)
    # Two texts take one argument; ``format(n)`` gives the first, the ban text is by name.
    LIMIT_PER_MINUTE: ClassVar[str] = messages[2]
    BANNED_UNTIL: ClassVar[str] = messages[3]

    def __init__(
        self,
        msg: str | None = None,
        *,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        **details: Any,
    ) -> None:
        super().__init__(msg, http_status=http_status, headers=headers, **details)
        # Seconds to wait: given by the server side, or read from the Retry-After header.
        self.retry_after = retry_after if retry_after is not None else _retry_after_seconds(headers)


class DuplicateIp(ServerError):
    code = -1004
    name = "DUPLICATE_IP"
    messages = ("This IP is already on the white list",)


class NoSuchIp(ServerError):
    code = -1005
    name = "NO_SUCH_IP"
    messages = ("No such IP has been white listed",)


class UnexpectedResp(ServerError):
    code = -1006
    name = "UNEXPECTED_RESP"
    messages = (
        "An unexpected response was received from the message bus. Execution status unknown.",
    )
    default_status = 503  # docs: 503 means the execution status is unknown


class Timeout(ServerError):
    code = -1007
    name = "TIMEOUT"
    messages = (
        (
            "Timeout waiting for response from backend server. "
            "Send status unknown; execution status unknown."
        ),
    )
    default_status = 503  # docs: 503 means the execution status is unknown


class ErrorMsgReceived(ServerError):
    code = -1010
    name = "ERROR_MSG_RECEIVED"
    messages = ("ERROR_MSG_RECEIVED.",)


class NonWhiteList(ServerError):
    code = -1011
    name = "NON_WHITE_LIST"
    messages = ("This IP cannot access this route.",)


class InvalidMessage(ServerError):
    code = -1013
    name = "INVALID_MESSAGE"
    messages = ("INVALID_MESSAGE.",)


class UnknownOrderComposition(ServerError):
    code = -1014
    name = "UNKNOWN_ORDER_COMPOSITION"
    messages = ("Unsupported order combination.",)


class TooManyOrders(ServerError):
    code = -1015
    name = "TOO_MANY_ORDERS"
    messages = (
        "Too many new orders.",
        "Too many new orders; current limit is %s orders per %s.",
    )


class ServiceShuttingDown(ServerError):
    code = -1016
    name = "SERVICE_SHUTTING_DOWN"
    messages = ("This service is no longer available.",)
    default_status = 503  # docs: 503 means the execution status is unknown


class UnsupportedOperation(ServerError):
    code = -1020
    name = "UNSUPPORTED_OPERATION"
    messages = ("This operation is not supported.",)


class InvalidTimestamp(ServerError):
    code = -1021
    name = "INVALID_TIMESTAMP"
    messages = (
        "Timestamp for this request is outside of the recvWindow.",
        "Timestamp for this request was 1000ms ahead of the server's time.",
    )
    OUTSIDE_RECV_WINDOW: ClassVar[str] = messages[0]
    AHEAD_OF_SERVER: ClassVar[str] = messages[1]


class InvalidSignature(ServerError):
    code = -1022
    name = "INVALID_SIGNATURE"
    messages = ("Signature for this request is not valid.",)


class StartTimeGreaterThanEndTime(ServerError):
    code = -1023
    name = "START_TIME_GREATER_THAN_END_TIME"
    messages = ("Start time is greater than end time.",)


class IllegalChars(RequestError):
    code = -1100
    name = "ILLEGAL_CHARS"
    messages = (
        "Illegal characters found in a parameter.",
        "Illegal characters found in parameter '%s'; legal range is '%s'.",
    )


class TooManyParameters(RequestError):
    code = -1101
    name = "TOO_MANY_PARAMETERS"
    messages = (
        "Too many parameters sent for this endpoint.",
        "Too many parameters; expected '%s' and received '%s'.",
        "Duplicate values for a parameter detected.",
    )


class MandatoryParamEmptyOrMalformed(RequestError):
    code = -1102
    name = "MANDATORY_PARAM_EMPTY_OR_MALFORMED"
    messages = (
        "A mandatory parameter was not sent, was empty/null, or malformed.",
        "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
        "Param '%s' or '%s' must be sent, but both were empty/null!",
    )


class UnknownParam(RequestError):
    code = -1103
    name = "UNKNOWN_PARAM"
    messages = ("An unknown parameter was sent.",)


class UnreadParameters(RequestError):
    code = -1104
    name = "UNREAD_PARAMETERS"
    messages = (
        "Not all sent parameters were read.",
        "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'.",
    )


class ParamEmpty(RequestError):
    code = -1105
    name = "PARAM_EMPTY"
    messages = (
        "A parameter was empty.",
        "Parameter '%s' was empty.",
    )


class ParamNotRequired(RequestError):
    code = -1106
    name = "PARAM_NOT_REQUIRED"
    messages = (
        "A parameter was sent when not required.",
        "Parameter '%s' sent when not required.",
    )


class BadAsset(RequestError):
    code = -1108
    name = "BAD_ASSET"
    messages = ("Invalid asset.",)


class BadAccount(RequestError):
    code = -1109
    name = "BAD_ACCOUNT"
    messages = ("Invalid account.",)


class BadInstrumentType(RequestError):
    code = -1110
    name = "BAD_INSTRUMENT_TYPE"
    messages = ("Invalid symbolType.",)


class BadPrecision(RequestError):
    code = -1111
    name = "BAD_PRECISION"
    messages = ("Precision is over the maximum defined for this asset.",)


class NoDepth(RequestError):
    code = -1112
    name = "NO_DEPTH"
    messages = ("No orders on book for symbol.",)


class WithdrawNotNegative(RequestError):
    code = -1113
    name = "WITHDRAW_NOT_NEGATIVE"
    messages = ("Withdrawal amount must be negative.",)


class TifNotRequired(RequestError):
    code = -1114
    name = "TIF_NOT_REQUIRED"
    messages = ("TimeInForce parameter sent when not required.",)


class InvalidTif(RequestError):
    code = -1115
    name = "INVALID_TIF"
    messages = ("Invalid timeInForce.",)


class InvalidOrderType(RequestError):
    code = -1116
    name = "INVALID_ORDER_TYPE"
    messages = ("Invalid orderType.",)


class InvalidSide(RequestError):
    code = -1117
    name = "INVALID_SIDE"
    messages = ("Invalid side.",)


class EmptyNewClOrdId(RequestError):
    code = -1118
    name = "EMPTY_NEW_CL_ORD_ID"
    messages = ("New client order ID was empty.",)


class EmptyOrgClOrdId(RequestError):
    code = -1119
    name = "EMPTY_ORG_CL_ORD_ID"
    messages = ("Original client order ID was empty.",)


class BadInterval(RequestError):
    code = -1120
    name = "BAD_INTERVAL"
    messages = ("Invalid interval.",)


class BadSymbol(RequestError):
    code = -1121
    name = "BAD_SYMBOL"
    messages = ("Invalid symbol.",)


class InvalidListenKey(RequestError):
    code = -1125
    name = "INVALID_LISTEN_KEY"
    messages = ("This listenKey does not exist.",)


class MoreThanXxHours(RequestError):
    code = -1127
    name = "MORE_THAN_XX_HOURS"
    messages = (
        "Lookup interval is too big.",
        "More than %s hours between startTime and endTime.",
    )


class OptionalParamsBadCombo(RequestError):
    code = -1128
    name = "OPTIONAL_PARAMS_BAD_COMBO"
    messages = ("Combination of optional parameters invalid.",)


class InvalidParameter(RequestError):
    code = -1130
    name = "INVALID_PARAMETER"
    messages = (
        "Invalid data sent for a parameter.",
        "Data sent for parameter '%s' is not valid.",
    )


class BadRecvWindow(RequestError):
    # Not in the Aster docs; Binance's code and name, FACTS.md's text.
    code = -1131
    name = "BAD_RECV_WINDOW"
    messages = ("'recvWindow' must be less than 60000.",)


class InvalidNewOrderRespType(RequestError):
    code = -1136
    name = "INVALID_NEW_ORDER_RESP_TYPE"
    messages = ("Invalid newOrderRespType.",)


class NewOrderRejected(ProcessingError):
    code = -2010
    name = "NEW_ORDER_REJECTED"
    messages = ("NEW_ORDER_REJECTED",)


class CancelRejected(ProcessingError):
    code = -2011
    name = "CANCEL_REJECTED"
    messages = ("CANCEL_REJECTED",)


class NoSuchOrder(ProcessingError):
    code = -2013
    name = "NO_SUCH_ORDER"
    messages = ("Order does not exist.",)


class BadApiKeyFmt(ProcessingError):
    code = -2014
    name = "BAD_API_KEY_FMT"
    messages = ("API-key format invalid.",)
    default_status = 401  # FACTS.md


class RejectedMbxKey(ProcessingError):
    code = -2015
    name = "REJECTED_MBX_KEY"
    messages = ("Invalid API-key, IP, or permissions for action.",)
    default_status = 401  # FACTS.md


class NoTradingWindow(ProcessingError):
    code = -2016
    name = "NO_TRADING_WINDOW"
    messages = ("No trading window could be found for the symbol. Try ticker/24hrs instead.",)


class BalanceNotSufficient(ProcessingError):
    code = -2018
    name = "BALANCE_NOT_SUFFICIENT"
    messages = ("Balance is insufficient.",)


class MarginNotSufficient(ProcessingError):
    code = -2019
    name = "MARGIN_NOT_SUFFICIEN"
    messages = ("Margin is insufficient.",)


class UnableToFill(ProcessingError):
    code = -2020
    name = "UNABLE_TO_FILL"
    messages = ("Unable to fill.",)


class OrderWouldImmediatelyTrigger(ProcessingError):
    code = -2021
    name = "ORDER_WOULD_IMMEDIATELY_TRIGGER"
    messages = ("Order would immediately trigger.",)


class ReduceOnlyReject(ProcessingError):
    code = -2022
    name = "REDUCE_ONLY_REJECT"
    messages = ("ReduceOnly Order is rejected.",)


class UserInLiquidation(ProcessingError):
    code = -2023
    name = "USER_IN_LIQUIDATION"
    messages = ("User in liquidation mode now.",)


class PositionNotSufficient(ProcessingError):
    code = -2024
    name = "POSITION_NOT_SUFFICIENT"
    messages = ("Position is not sufficient.",)


class MaxOpenOrderExceeded(ProcessingError):
    code = -2025
    name = "MAX_OPEN_ORDER_EXCEEDED"
    messages = ("Reach max open order limit.",)


class ReduceOnlyOrderTypeNotSupported(ProcessingError):
    code = -2026
    name = "REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED"
    messages = ("This OrderType is not supported when reduceOnly.",)


class MaxLeverageRatio(ProcessingError):
    code = -2027
    name = "MAX_LEVERAGE_RATIO"
    messages = ("Exceeded the maximum allowable position at current leverage.",)


class MinLeverageRatio(ProcessingError):
    code = -2028
    name = "MIN_LEVERAGE_RATIO"
    messages = ("Leverage is smaller than permitted: insufficient margin balance.",)


class InvalidOrderStatus(FilterError):
    code = -4000
    name = "INVALID_ORDER_STATUS"
    messages = ("Invalid order status.",)


class PriceLessThanZero(FilterError):
    code = -4001
    name = "PRICE_LESS_THAN_ZERO"
    messages = ("Price less than 0.",)


class PriceGreaterThanMaxPrice(FilterError):
    code = -4002
    name = "PRICE_GREATER_THAN_MAX_PRICE"
    messages = ("Price greater than max price.",)


class QtyLessThanZero(FilterError):
    code = -4003
    name = "QTY_LESS_THAN_ZERO"
    messages = ("Quantity less than zero.",)


class QtyLessThanMinQty(FilterError):
    code = -4004
    name = "QTY_LESS_THAN_MIN_QTY"
    messages = ("Quantity less than min quantity.",)


class QtyGreaterThanMaxQty(FilterError):
    code = -4005
    name = "QTY_GREATER_THAN_MAX_QTY"
    messages = ("Quantity greater than max quantity.",)


class StopPriceLessThanZero(FilterError):
    code = -4006
    name = "STOP_PRICE_LESS_THAN_ZERO"
    messages = ("Stop price less than zero.",)


class StopPriceGreaterThanMaxPrice(FilterError):
    code = -4007
    name = "STOP_PRICE_GREATER_THAN_MAX_PRICE"
    messages = ("Stop price greater than max price.",)


class TickSizeLessThanZero(FilterError):
    code = -4008
    name = "TICK_SIZE_LESS_THAN_ZERO"
    messages = ("Tick size less than zero.",)


class MaxPriceLessThanMinPrice(FilterError):
    code = -4009
    name = "MAX_PRICE_LESS_THAN_MIN_PRICE"
    messages = ("Max price less than min price.",)


class MaxQtyLessThanMinQty(FilterError):
    code = -4010
    name = "MAX_QTY_LESS_THAN_MIN_QTY"
    messages = ("Max qty less than min qty.",)


class StepSizeLessThanZero(FilterError):
    code = -4011
    name = "STEP_SIZE_LESS_THAN_ZERO"
    messages = ("Step size less than zero.",)


class MaxNumOrdersLessThanZero(FilterError):
    code = -4012
    name = "MAX_NUM_ORDERS_LESS_THAN_ZERO"
    messages = ("Max mum orders less than zero.",)


class PriceLessThanMinPrice(FilterError):
    code = -4013
    name = "PRICE_LESS_THAN_MIN_PRICE"
    messages = ("Price less than min price.",)


class PriceNotIncreasedByTickSize(FilterError):
    code = -4014
    name = "PRICE_NOT_INCREASED_BY_TICK_SIZE"
    messages = ("Price not increased by tick size.",)


class InvalidClOrdIdLen(FilterError):
    code = -4015
    name = "INVALID_CL_ORD_ID_LEN"
    messages = (
        "Client order id is not valid.",
        "Client order id length should not be more than 36 chars",
    )


class PriceHigherThanMultiplierUp(FilterError):
    code = -4016
    name = "PRICE_HIGHTER_THAN_MULTIPLIER_UP"
    messages = ("Price is higher than mark price multiplier cap.",)


class MultiplierUpLessThanZero(FilterError):
    code = -4017
    name = "MULTIPLIER_UP_LESS_THAN_ZERO"
    messages = ("Multiplier up less than zero.",)


class MultiplierDownLessThanZero(FilterError):
    code = -4018
    name = "MULTIPLIER_DOWN_LESS_THAN_ZERO"
    messages = ("Multiplier down less than zero.",)


class CompositeScaleOverflow(FilterError):
    code = -4019
    name = "COMPOSITE_SCALE_OVERFLOW"
    messages = ("Composite scale too large.",)


class TargetStrategyInvalid(FilterError):
    code = -4020
    name = "TARGET_STRATEGY_INVALID"
    messages = ("Target strategy invalid for orderType '%s',reduceOnly '%b'.",)


class InvalidDepthLimit(FilterError):
    code = -4021
    name = "INVALID_DEPTH_LIMIT"
    messages = (
        "Invalid depth limit.",
        "'%s' is not valid depth limit.",
    )


class WrongMarketStatus(FilterError):
    code = -4022
    name = "WRONG_MARKET_STATUS"
    messages = ("market status sent is not valid.",)


class QtyNotIncreasedByStepSize(FilterError):
    code = -4023
    name = "QTY_NOT_INCREASED_BY_STEP_SIZE"
    messages = ("Qty not increased by step size.",)


class PriceLowerThanMultiplierDown(FilterError):
    code = -4024
    name = "PRICE_LOWER_THAN_MULTIPLIER_DOWN"
    messages = ("Price is lower than mark price multiplier floor.",)


class MultiplierDecimalLessThanZero(FilterError):
    code = -4025
    name = "MULTIPLIER_DECIMAL_LESS_THAN_ZERO"
    messages = ("Multiplier decimal less than zero.",)


class CommissionInvalid(FilterError):
    code = -4026
    name = "COMMISSION_INVALID"
    messages = (
        "Commission invalid.",
        "%s less than zero.",
        "%s absolute value greater than %s",
    )


class InvalidAccountType(FilterError):
    code = -4027
    name = "INVALID_ACCOUNT_TYPE"
    messages = ("Invalid account type.",)


class InvalidLeverage(FilterError):
    code = -4028
    name = "INVALID_LEVERAGE"
    messages = (
        "Invalid leverage",
        "Leverage %s is not valid",
        "Leverage %s already exist with %s",
    )


class InvalidTickSizePrecision(FilterError):
    code = -4029
    name = "INVALID_TICK_SIZE_PRECISION"
    messages = ("Tick size precision is invalid.",)


class InvalidStepSizePrecision(FilterError):
    code = -4030
    name = "INVALID_STEP_SIZE_PRECISION"
    messages = ("Step size precision is invalid.",)


class InvalidWorkingType(FilterError):
    code = -4031
    name = "INVALID_WORKING_TYPE"
    messages = (
        "Invalid parameter working type",
        "Invalid parameter working type: %s",
    )


class ExceedMaxCancelOrderSize(FilterError):
    code = -4032
    name = "EXCEED_MAX_CANCEL_ORDER_SIZE"
    messages = (
        "Exceed maximum cancel order size.",
        "Invalid parameter working type: %s",
    )


class InsuranceAccountNotFound(FilterError):
    code = -4033
    name = "INSURANCE_ACCOUNT_NOT_FOUND"
    messages = ("Insurance account not found.",)


class InvalidBalanceType(FilterError):
    code = -4044
    name = "INVALID_BALANCE_TYPE"
    messages = ("Balance Type is invalid.",)


class MaxStopOrderExceeded(FilterError):
    code = -4045
    name = "MAX_STOP_ORDER_EXCEEDED"
    messages = ("Reach max stop order limit.",)


class NoNeedToChangeMarginType(FilterError):
    code = -4046
    name = "NO_NEED_TO_CHANGE_MARGIN_TYPE"
    messages = ("No need to change margin type.",)


class ThereExistsOpenOrders(FilterError):
    code = -4047
    name = "THERE_EXISTS_OPEN_ORDERS"
    messages = ("Margin type cannot be changed if there exists open orders.",)


class ThereExistsQuantity(FilterError):
    code = -4048
    name = "THERE_EXISTS_QUANTITY"
    messages = ("Margin type cannot be changed if there exists position.",)


class AddIsolatedMarginReject(FilterError):
    code = -4049
    name = "ADD_ISOLATED_MARGIN_REJECT"
    messages = ("Add margin only support for isolated position.",)


class CrossBalanceInsufficient(FilterError):
    code = -4050
    name = "CROSS_BALANCE_INSUFFICIENT"
    messages = ("Cross balance insufficient.",)


class IsolatedBalanceInsufficient(FilterError):
    code = -4051
    name = "ISOLATED_BALANCE_INSUFFICIENT"
    messages = ("Isolated balance insufficient.",)


class NoNeedToChangeAutoAddMargin(FilterError):
    code = -4052
    name = "NO_NEED_TO_CHANGE_AUTO_ADD_MARGIN"
    messages = ("No need to change auto add margin.",)


class AutoAddCrossedMarginReject(FilterError):
    code = -4053
    name = "AUTO_ADD_CROSSED_MARGIN_REJECT"
    messages = ("Auto add margin only support for isolated position.",)


class AddIsolatedMarginNoPositionReject(FilterError):
    code = -4054
    name = "ADD_ISOLATED_MARGIN_NO_POSITION_REJECT"
    messages = ("Cannot add position margin: position is 0.",)


class AmountMustBePositive(FilterError):
    code = -4055
    name = "AMOUNT_MUST_BE_POSITIVE"
    messages = ("Amount must be positive.",)


class InvalidApiKeyType(FilterError):
    code = -4056
    name = "INVALID_API_KEY_TYPE"
    messages = ("Invalid api key type.",)


class InvalidRsaPublicKey(FilterError):
    code = -4057
    name = "INVALID_RSA_PUBLIC_KEY"
    messages = ("Invalid api public key",)


class MaxPriceTooLarge(FilterError):
    code = -4058
    name = "MAX_PRICE_TOO_LARGE"
    messages = ("maxPrice and priceDecimal too large,please check.",)


class NoNeedToChangePositionSide(FilterError):
    code = -4059
    name = "NO_NEED_TO_CHANGE_POSITION_SIDE"
    messages = ("No need to change position side.",)


class InvalidPositionSide(FilterError):
    code = -4060
    name = "INVALID_POSITION_SIDE"
    messages = ("Invalid position side.",)


class PositionSideNotMatch(FilterError):
    code = -4061
    name = "POSITION_SIDE_NOT_MATCH"
    messages = ("Order's position side does not match user's setting.",)


class ReduceOnlyConflict(FilterError):
    code = -4062
    name = "REDUCE_ONLY_CONFLICT"
    messages = ("Invalid or improper reduceOnly value.",)


class InvalidOptionsRequestType(FilterError):
    code = -4063
    name = "INVALID_OPTIONS_REQUEST_TYPE"
    messages = ("Invalid options request type",)


class InvalidOptionsTimeFrame(FilterError):
    code = -4064
    name = "INVALID_OPTIONS_TIME_FRAME"
    messages = ("Invalid options time frame",)


class InvalidOptionsAmount(FilterError):
    code = -4065
    name = "INVALID_OPTIONS_AMOUNT"
    messages = ("Invalid options amount",)


class InvalidOptionsEventType(FilterError):
    code = -4066
    name = "INVALID_OPTIONS_EVENT_TYPE"
    messages = ("Invalid options event type",)


class PositionSideChangeExistsOpenOrders(FilterError):
    code = -4067
    name = "POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS"
    messages = ("Position side cannot be changed if there exists open orders.",)


class PositionSideChangeExistsQuantity(FilterError):
    code = -4068
    name = "POSITION_SIDE_CHANGE_EXISTS_QUANTITY"
    messages = ("Position side cannot be changed if there exists position.",)


class InvalidOptionsPremiumFee(FilterError):
    code = -4069
    name = "INVALID_OPTIONS_PREMIUM_FEE"
    messages = ("Invalid options premium fee",)


class InvalidClOptionsIdLen(FilterError):
    code = -4070
    name = "INVALID_CL_OPTIONS_ID_LEN"
    messages = (
        "Client options id is not valid.",
        "Client options id length should be less than 32 chars",
    )


class InvalidOptionsDirection(FilterError):
    code = -4071
    name = "INVALID_OPTIONS_DIRECTION"
    messages = ("Invalid options direction",)


class OptionsPremiumNotUpdate(FilterError):
    code = -4072
    name = "OPTIONS_PREMIUM_NOT_UPDATE"
    messages = ("premium fee is not updated, reject order",)


class OptionsPremiumInputLessThanZero(FilterError):
    code = -4073
    name = "OPTIONS_PREMIUM_INPUT_LESS_THAN_ZERO"
    messages = ("input premium fee is less than 0, reject order",)


class OptionsAmountBiggerThanUpper(FilterError):
    code = -4074
    name = "OPTIONS_AMOUNT_BIGGER_THAN_UPPER"
    messages = ("Order amount is bigger than upper boundary or less than 0, reject order",)


class OptionsPremiumOutputZero(FilterError):
    code = -4075
    name = "OPTIONS_PREMIUM_OUTPUT_ZERO"
    messages = ("output premium fee is less than 0, reject order",)


class OptionsPremiumTooDiff(FilterError):
    code = -4076
    name = "OPTIONS_PREMIUM_TOO_DIFF"
    messages = ("original fee is too much higher than last fee",)


class OptionsPremiumReachLimit(FilterError):
    code = -4077
    name = "OPTIONS_PREMIUM_REACH_LIMIT"
    messages = ("place order amount has reached to limit, reject order",)


class OptionsCommonError(FilterError):
    code = -4078
    name = "OPTIONS_COMMON_ERROR"
    messages = ("options internal error",)


class InvalidOptionsId(FilterError):
    code = -4079
    name = "INVALID_OPTIONS_ID"
    messages = (
        "invalid options id",
        "invalid options id: %s",
        "duplicate options id %d for user %d",
    )


class OptionsUserNotFound(FilterError):
    code = -4080
    name = "OPTIONS_USER_NOT_FOUND"
    messages = (
        "user not found",
        "user not found with id: %s",
    )


class OptionsNotFound(FilterError):
    code = -4081
    name = "OPTIONS_NOT_FOUND"
    messages = (
        "options not found",
        "options not found with id: %s",
    )


class InvalidBatchPlaceOrderSize(FilterError):
    code = -4082
    name = "INVALID_BATCH_PLACE_ORDER_SIZE"
    messages = (
        "Invalid number of batch place orders.",
        "Invalid number of batch place orders: %s",
    )


class PlaceBatchOrdersFail(FilterError):
    code = -4083
    name = "PLACE_BATCH_ORDERS_FAIL"
    messages = ("Fail to place batch orders.",)


class UpcomingMethod(FilterError):
    code = -4084
    name = "UPCOMING_METHOD"
    messages = ("Method is not allowed currently. Upcoming soon.",)


class InvalidNotionalLimitCoef(FilterError):
    code = -4085
    name = "INVALID_NOTIONAL_LIMIT_COEF"
    messages = ("Invalid notional limit coefficient",)


class InvalidPriceSpreadThreshold(FilterError):
    code = -4086
    name = "INVALID_PRICE_SPREAD_THRESHOLD"
    messages = ("Invalid price spread threshold",)


class ReduceOnlyOrderPermission(FilterError):
    code = -4087
    name = "REDUCE_ONLY_ORDER_PERMISSION"
    messages = ("User can only place reduce only order",)


class NoPlaceOrderPermission(FilterError):
    code = -4088
    name = "NO_PLACE_ORDER_PERMISSION"
    messages = ("User can not place order currently",)


class InvalidContractType(FilterError):
    code = -4104
    name = "INVALID_CONTRACT_TYPE"
    messages = ("Invalid contract type",)


class InvalidClientTranIdLen(FilterError):
    code = -4114
    name = "INVALID_CLIENT_TRAN_ID_LEN"
    messages = (
        "clientTranId  is not valid",
        "Client tran id length should be less than 64 chars",
    )
    default_msg = "Client tran id length should be less than 64 chars"  # FACTS.md


class DuplicatedClientTranId(FilterError):
    code = -4115
    name = "DUPLICATED_CLIENT_TRAN_ID"
    messages = (
        "clientTranId  is duplicated",
        "Client tran id should be unique within 7 days",
    )
    default_msg = "Client tran id should be unique within 7 days"  # FACTS.md


class ReduceOnlyMarginCheckFailed(FilterError):
    code = -4118
    name = "REDUCE_ONLY_MARGIN_CHECK_FAILED"
    messages = ("ReduceOnly Order Failed. Please check your existing position and open orders",)


class MarketOrderReject(FilterError):
    code = -4131
    name = "MARKET_ORDER_REJECT"
    messages = ("The counterparty's best price does not meet the PERCENT_PRICE filter limit",)


class InvalidActivationPrice(FilterError):
    code = -4135
    name = "INVALID_ACTIVATION_PRICE"
    messages = ("Invalid activation price",)


class QuantityExistsWithClosePosition(FilterError):
    code = -4137
    name = "QUANTITY_EXISTS_WITH_CLOSE_POSITION"
    messages = ("Quantity must be zero with closePosition equals true",)


class ReduceOnlyMustBeTrue(FilterError):
    code = -4138
    name = "REDUCE_ONLY_MUST_BE_TRUE"
    messages = ("Reduce only must be true with closePosition equals true",)


class OrderTypeCannotBeMkt(FilterError):
    code = -4139
    name = "ORDER_TYPE_CANNOT_BE_MKT"
    messages = ("Order type can not be market if it's unable to cancel",)


class InvalidOpeningPositionStatus(FilterError):
    code = -4140
    name = "INVALID_OPENING_POSITION_STATUS"
    messages = ("Invalid symbol status for opening position",)


class SymbolAlreadyClosed(FilterError):
    code = -4141
    name = "SYMBOL_ALREADY_CLOSED"
    messages = ("Symbol is closed",)


class StrategyInvalidTriggerPrice(FilterError):
    code = -4142
    name = "STRATEGY_INVALID_TRIGGER_PRICE"
    messages = ("REJECT: take profit or stop order will be triggered immediately",)


class InvalidPair(FilterError):
    code = -4144
    name = "INVALID_PAIR"
    messages = ("Invalid pair",)


class IsolatedLeverageRejectWithPosition(FilterError):
    code = -4161
    name = "ISOLATED_LEVERAGE_REJECT_WITH_POSITION"
    messages = ("Leverage reduction is not supported in Isolated Margin Mode with open positions",)


class MinNotional(FilterError):
    code = -4164
    name = "MIN_NOTIONAL"
    messages = (
        "Order's notional must be no smaller than 5.0 (unless you choose reduce only)",
        "Order's notional must be no smaller than %s (unless you choose reduce only)",
    )


class InvalidTimeInterval(FilterError):
    code = -4165
    name = "INVALID_TIME_INTERVAL"
    messages = (
        "Invalid time interval",
        "Maximum time interval is %s days",
    )


class MultiAssetsRejectWithIsolatedMode(FilterError):
    # Not in the Aster docs; Binance's code and text, the counterpart of -4168. The NAME is ours.
    code = -4167
    name = "MULTI_ASSETS_REJECT_WITH_ISOLATED_MODE"
    messages = (
        "Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures "
        "under isolated-margin mode.",
    )


class IsolatedRejectWithMultiAssetsMode(FilterError):
    # Not in the Aster docs; Binance's code and FACTS.md's text. The NAME is ours.
    code = -4168
    name = "ISOLATED_REJECT_WITH_MULTI_ASSETS_MODE"
    messages = ("Unable to adjust to isolated-margin mode under the Multi-Assets mode.",)


class NoNeedToChangeMultiAssetsMode(FilterError):
    # Not in the Aster docs; Binance's code and FACTS.md's text. The NAME is ours.
    code = -4171
    name = "NO_NEED_TO_CHANGE_MULTI_ASSETS_MODE"
    messages = ("Adjusted asset mode is currently set and does not need to be adjusted repeatedly",)


class PriceHigherThanStopMultiplierUp(FilterError):
    code = -4183
    name = "PRICE_HIGHTER_THAN_STOP_MULTIPLIER_UP"
    messages = (
        "Price is higher than stop price multiplier cap.",
        "Limit price can't be higher than %s.",
    )


class PriceLowerThanStopMultiplierDown(FilterError):
    code = -4184
    name = "PRICE_LOWER_THAN_STOP_MULTIPLIER_DOWN"
    messages = (
        "Price is lower than stop price multiplier floor.",
        "Limit price can't be lower than %s.",
    )


# -- Client side ---------------------------------------------------------------------------------


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    # Retry-After as delta-seconds (what Aster and Binance send); an HTTP-date needs a clock, so
    # it is left to the caller and reads as None here.
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class RateLimitError(TooManyRequests):
    """HTTP 429: a rate limit was broken; back off for ``retry_after`` seconds when given.

    ``.code`` is the code the server sent: -1003 for request weight, -1015 for the order count.
    """

    default_status = 429


class IPBannedError(TooManyRequests):
    """HTTP 418: the IP is banned for sending on after 429s (2 minutes to 3 days, docs).

    ``banned_until_ms`` is read from the docs' text "IP banned until %s" when the server sends it.
    """

    default_status = 418

    def __init__(
        self,
        msg: str | None = None,
        *,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        **details: Any,
    ) -> None:
        super().__init__(
            msg, http_status=http_status, headers=headers, retry_after=retry_after, **details
        )
        match = re.search(r"banned until (\d+)", self.msg)
        self.banned_until_ms: int | None = int(match.group(1)) if match else None

    @classmethod
    def until(cls, banned_until_ms: int, **kw: Any) -> Self:
        """The ban as the server sends it: the docs' "IP banned until %s" text, HTTP 418."""
        return cls(_fill(cls.BANNED_UNTIL, (banned_until_ms,)), **kw)


class UnknownOutcome(ServerError):
    """The request may have been processed: HTTP 503 (docs: "execution status is UNKNOWN and
    could have been a success"), or a response lost after the request was sent.

    Never retry a write on this error without first reading back what happened. ``.code`` is the
    code the server sent, else -1007 (TIMEOUT, the docs' "execution status unknown").
    """

    code = Timeout.code
    name = Timeout.name
    default_msg = "No response was received; the request may have been processed."
    default_status = 503


class TransportError(AsterError):
    """No HTTP response at all, and the request never reached the server (connect, DNS, TLS).

    Safe to retry. ``code`` 0 and ``http_status`` 0 stand for "none": no Aster code, no HTTP status.
    """

    code = 0
    name = "TRANSPORT_ERROR"
    default_msg = "The request could not be sent."
    default_status = 0


def aster_error(code: int, msg: str | None = None, **kw: Any) -> AsterError:
    """An instance of the class registered for ``code``, else of its family (see module doc)."""
    cls = ERRORS.get(code)
    if cls is not None:
        return cls(msg, **kw)
    family = _family_of(code) or AsterError
    err = family(msg, **kw)
    err._adopt_code(code)
    return err


def _parse_body(body: bytes | str | Mapping[str, Any] | None) -> tuple[int | None, str | None, str]:
    """(code, msg, text) of an error body; code and msg are None where the body has none."""
    if body is None:
        return None, None, ""
    if isinstance(body, Mapping):
        data: object = body
        text = ""
    else:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            return None, None, text
    if not isinstance(data, Mapping):
        return None, None, text
    code = data.get("code")
    msg = data.get("msg")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        msg if isinstance(msg, str) else None,
        text,
    )


def from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> AsterError:
    """The error an HTTP error response stands for (the branches are in the module docstring)."""
    code, msg, text = _parse_body(body)
    err: AsterError
    if status == 429:
        err = RateLimitError(msg, http_status=status, headers=headers)
    elif status == 418:
        err = IPBannedError(msg, http_status=status, headers=headers)
    elif status == 503:
        err = UnknownOutcome(msg, http_status=status, headers=headers)
    elif code is not None:
        return aster_error(code, msg, http_status=status, headers=headers)
    elif status >= 500:
        return UnknownOutcome(
            f"HTTP {status}; the request may have been processed.",
            http_status=status,
            headers=headers,
            body=text[:_BODY_KEPT],
        )
    else:
        return Unknown(
            f"HTTP {status} without an Aster error body.",
            http_status=status,
            headers=headers,
            body=text[:_BODY_KEPT],
        )
    if code is not None:
        err._adopt_code(code)
    return err


# Enough of an unparsable body to recognise a gateway or WAF page in a log.
_BODY_KEPT = 500


__all__ = [
    "ERRORS",
    "AddIsolatedMarginNoPositionReject",
    "AddIsolatedMarginReject",
    "AmountMustBePositive",
    "AsterError",
    "AutoAddCrossedMarginReject",
    "BadAccount",
    "BadApiKeyFmt",
    "BadAsset",
    "BadInstrumentType",
    "BadInterval",
    "BadPrecision",
    "BadRecvWindow",
    "BadSymbol",
    "BalanceNotSufficient",
    "CancelRejected",
    "CommissionInvalid",
    "CompositeScaleOverflow",
    "CrossBalanceInsufficient",
    "Disconnected",
    "DuplicateIp",
    "DuplicatedClientTranId",
    "EmptyNewClOrdId",
    "EmptyOrgClOrdId",
    "ErrorMsgReceived",
    "ExceedMaxCancelOrderSize",
    "FilterError",
    "IPBannedError",
    "IllegalChars",
    "InsuranceAccountNotFound",
    "InvalidAccountType",
    "InvalidActivationPrice",
    "InvalidApiKeyType",
    "InvalidBalanceType",
    "InvalidBatchPlaceOrderSize",
    "InvalidClOptionsIdLen",
    "InvalidClOrdIdLen",
    "InvalidClientTranIdLen",
    "InvalidContractType",
    "InvalidDepthLimit",
    "InvalidLeverage",
    "InvalidListenKey",
    "InvalidMessage",
    "InvalidNewOrderRespType",
    "InvalidNotionalLimitCoef",
    "InvalidOpeningPositionStatus",
    "InvalidOptionsAmount",
    "InvalidOptionsDirection",
    "InvalidOptionsEventType",
    "InvalidOptionsId",
    "InvalidOptionsPremiumFee",
    "InvalidOptionsRequestType",
    "InvalidOptionsTimeFrame",
    "InvalidOrderStatus",
    "InvalidOrderType",
    "InvalidPair",
    "InvalidParameter",
    "InvalidPositionSide",
    "InvalidPriceSpreadThreshold",
    "InvalidRsaPublicKey",
    "InvalidSide",
    "InvalidSignature",
    "InvalidStepSizePrecision",
    "InvalidTickSizePrecision",
    "InvalidTif",
    "InvalidTimeInterval",
    "InvalidTimestamp",
    "InvalidWorkingType",
    "IsolatedBalanceInsufficient",
    "IsolatedLeverageRejectWithPosition",
    "IsolatedRejectWithMultiAssetsMode",
    "MandatoryParamEmptyOrMalformed",
    "MarginNotSufficient",
    "MarketOrderReject",
    "MaxLeverageRatio",
    "MaxNumOrdersLessThanZero",
    "MaxOpenOrderExceeded",
    "MaxPriceLessThanMinPrice",
    "MaxPriceTooLarge",
    "MaxQtyLessThanMinQty",
    "MaxStopOrderExceeded",
    "MinLeverageRatio",
    "MinNotional",
    "MoreThanXxHours",
    "MultiAssetsRejectWithIsolatedMode",
    "MultiplierDecimalLessThanZero",
    "MultiplierDownLessThanZero",
    "MultiplierUpLessThanZero",
    "NewOrderRejected",
    "NoDepth",
    "NoNeedToChangeAutoAddMargin",
    "NoNeedToChangeMarginType",
    "NoNeedToChangeMultiAssetsMode",
    "NoNeedToChangePositionSide",
    "NoPlaceOrderPermission",
    "NoSuchIp",
    "NoSuchOrder",
    "NoTradingWindow",
    "NonWhiteList",
    "OptionalParamsBadCombo",
    "OptionsAmountBiggerThanUpper",
    "OptionsCommonError",
    "OptionsNotFound",
    "OptionsPremiumInputLessThanZero",
    "OptionsPremiumNotUpdate",
    "OptionsPremiumOutputZero",
    "OptionsPremiumReachLimit",
    "OptionsPremiumTooDiff",
    "OptionsUserNotFound",
    "OrderTypeCannotBeMkt",
    "OrderWouldImmediatelyTrigger",
    "ParamEmpty",
    "ParamNotRequired",
    "PlaceBatchOrdersFail",
    "PositionNotSufficient",
    "PositionSideChangeExistsOpenOrders",
    "PositionSideChangeExistsQuantity",
    "PositionSideNotMatch",
    "PriceGreaterThanMaxPrice",
    "PriceHigherThanMultiplierUp",
    "PriceHigherThanStopMultiplierUp",
    "PriceLessThanMinPrice",
    "PriceLessThanZero",
    "PriceLowerThanMultiplierDown",
    "PriceLowerThanStopMultiplierDown",
    "PriceNotIncreasedByTickSize",
    "ProcessingError",
    "QtyGreaterThanMaxQty",
    "QtyLessThanMinQty",
    "QtyLessThanZero",
    "QtyNotIncreasedByStepSize",
    "QuantityExistsWithClosePosition",
    "RateLimitError",
    "ReduceOnlyConflict",
    "ReduceOnlyMarginCheckFailed",
    "ReduceOnlyMustBeTrue",
    "ReduceOnlyOrderPermission",
    "ReduceOnlyOrderTypeNotSupported",
    "ReduceOnlyReject",
    "RejectedMbxKey",
    "RequestError",
    "ServerError",
    "ServiceShuttingDown",
    "StartTimeGreaterThanEndTime",
    "StepSizeLessThanZero",
    "StopPriceGreaterThanMaxPrice",
    "StopPriceLessThanZero",
    "StrategyInvalidTriggerPrice",
    "SymbolAlreadyClosed",
    "TargetStrategyInvalid",
    "ThereExistsOpenOrders",
    "ThereExistsQuantity",
    "TickSizeLessThanZero",
    "TifNotRequired",
    "Timeout",
    "TooManyOrders",
    "TooManyParameters",
    "TooManyRequests",
    "TransportError",
    "UnableToFill",
    "Unauthorized",
    "UnexpectedResp",
    "Unknown",
    "UnknownOrderComposition",
    "UnknownOutcome",
    "UnknownParam",
    "UnreadParameters",
    "UnsupportedOperation",
    "UpcomingMethod",
    "UserInLiquidation",
    "WithdrawNotNegative",
    "WrongMarketStatus",
    "aster_error",
    "from_response",
]
