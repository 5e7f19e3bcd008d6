"""Every endpoint of the API as data, and the one function that checks request parameters.

The server builds its routes, the client its methods, and ``scripts/gen_docs.py`` writes
``docs/api.md`` and ``docs/openapi.json`` by looping over :data:`ENDPOINTS`; nothing else
lists endpoints.

Sources: paths, weights, parameter tables and security types come from the official v1 docs
(``reference/aster-finance-futures-api-v1.md``, one heading per endpoint); the weights agree with
``reference/FACTS.md``. Where the docs name a parameter's type ``STRING`` but list its values
(``incomeType``, ``kindType``) the catalog says ENUM; where they say ``STRING`` "true"/"false"
it says BOOL.

    Param      one parameter: wire name, kind, required, enum / range / length / pattern, default
    Weight     request weight, possibly depending on which params were sent
    Endpoint   name, method, path, weight, security, params, result type name, summary
    validate   raw wire strings -> typed values keyed by snake_case name, or an AsterError
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Final, TypeAlias

from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderType,
    Permission,
    PositionMarginChange,
    PositionSide,
    Security,
    TimeInForce,
    TransferKind,
    WorkingType,
)
from aster_account.protocol.errors import AsterError, aster_error

__all__ = [
    "AUTH_PARAMS",
    "BY_NAME",
    "BY_ROUTE",
    "DECIMAL_MAX_CHARS",
    "DECIMAL_PATTERN",
    "ENDPOINTS",
    "INTEGER_PATTERN",
    "Endpoint",
    "Param",
    "ParamKind",
    "ParamValue",
    "RequiredWhen",
    "Weight",
    "snake_case",
    "validate",
    "validate_auth",
]


class ParamKind(StrEnum):
    """How a parameter's wire text is read. BOOL is the docs' STRING "true"/"false"."""

    STRING = "STRING"
    INT = "INT"
    LONG = "LONG"
    DECIMAL = "DECIMAL"
    ENUM = "ENUM"
    BOOL = "BOOL"


# What Java's Long/Integer parsing accepts, capped at 18 digits so every value fits a long.
INTEGER_PATTERN: Final = r"-?[0-9]{1,18}"
# What Java's BigDecimal accepts without an exponent: "0.001", "-5", "100.50", ".5", "5.".
DECIMAL_PATTERN: Final = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
DECIMAL_MAX_CHARS: Final = 40
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_INTEGER_RE: Final = re.compile(INTEGER_PATTERN)
_DECIMAL_RE: Final = re.compile(DECIMAL_PATTERN)
_CAMEL_HUMP: Final = re.compile(r"(?<!^)(?=[A-Z])")

ParamValue: TypeAlias = str | int | Decimal | bool | Enum


def snake_case(wire_name: str) -> str:
    """``clientTranId`` -> ``client_tran_id``: the name a parameter has in Python."""
    return _CAMEL_HUMP.sub("_", wire_name).lower()


def _wire_text(member: Enum) -> str:
    # MarginType carries two spellings; parameters use the uppercase one.
    if isinstance(member, MarginType):
        return member.param
    return str(member.value)


def _mandatory(name: str) -> AsterError:
    return aster_error(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _invalid(name: str) -> AsterError:
    return aster_error(-1130, f"Data sent for parameter '{name}' is not valid.")


@dataclass(frozen=True)
class Param:
    """One request parameter.

    ``default`` is the wire text the server assumes when the parameter is absent, as the docs
    state it (``limit`` "500", ``reduceOnly`` "false"); :attr:`default_value` is that text parsed.
    ``enum`` lists the accepted wire texts; ``enum_type``, when set, is the enums-module class
    whose member :meth:`parse` returns. ``pattern`` is matched against the whole text.
    """

    name: str
    kind: ParamKind
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    default: str | None = None
    max_length: int | None = None
    description: str = ""
    pattern: str | None = None
    enum_type: type[Enum] | None = None
    # the (code, message) Aster answers for a value outside `enum`, where it is not -1130
    # (positionSide: -4060 "Invalid position side.", FACTS.md)
    unknown_value: tuple[int, str] | None = None
    py_name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "py_name", snake_case(self.name))
        if self.required and self.default is not None:
            raise ValueError(f"{self.name}: a required parameter has no default")
        if self.kind is ParamKind.ENUM and not self.enum:
            raise ValueError(f"{self.name}: an ENUM parameter lists its values")
        if self.enum_type is not None and self.enum is not None:
            known = {_wire_text(member) for member in self.enum_type}
            if not set(self.enum) <= known:
                raise ValueError(f"{self.name}: {set(self.enum) - known} not in {self.enum_type}")
        if self.default is not None:
            self.parse(self.default)  # a catalog typo fails at import, not on a request

    @property
    def default_value(self) -> ParamValue | None:
        return None if self.default is None else self.parse(self.default)

    def parse(self, text: str) -> ParamValue:
        """Read one non-empty wire value; raise -1130 (-1100 for a pattern) naming the param."""
        if self.max_length is not None and len(text) > self.max_length:
            raise _invalid(self.name)
        if self.pattern is not None and re.fullmatch(self.pattern, text) is None:
            raise aster_error(
                -1100,
                f"Illegal characters found in parameter '{self.name}'; "
                f"legal range is '{self.pattern}'.",
            )
        number: int | Decimal | None = None
        value: ParamValue
        if self.kind in (ParamKind.INT, ParamKind.LONG):
            if _INTEGER_RE.fullmatch(text) is None:
                raise _invalid(self.name)
            number = int(text)
            if self.kind is ParamKind.INT and not _INT32_MIN <= number <= _INT32_MAX:
                raise _invalid(self.name)
            value = number
            wire = str(number)
        elif self.kind is ParamKind.DECIMAL:
            if len(text) > DECIMAL_MAX_CHARS or _DECIMAL_RE.fullmatch(text) is None:
                raise _invalid(self.name)
            value = number = Decimal(text)
            wire = text
        elif self.kind is ParamKind.BOOL:
            wire = text.lower()
            if wire not in ("true", "false"):
                raise _invalid(self.name)
            value = wire == "true"
        else:
            value = wire = text
        if self.enum is not None and wire not in self.enum:
            if self.unknown_value is not None:
                raise aster_error(*self.unknown_value)
            raise _invalid(self.name)
        if number is not None and (
            (self.minimum is not None and number < self.minimum)
            or (self.maximum is not None and number > self.maximum)
        ):
            raise _invalid(self.name)
        if self.enum_type is not None:
            return next(m for m in self.enum_type if _wire_text(m) == wire)
        return value


@dataclass(frozen=True)
class Weight:
    """Request weight: ``base``, or the weight in ``without`` when that param is not sent.

    ``Weight(20, (("symbol", 50),))`` is forceOrders: 20 with symbol, 50 without.
    """

    base: int
    without: tuple[tuple[str, int], ...] = ()

    def for_params(self, params: Mapping[str, str]) -> int:
        missing = [weight for name, weight in self.without if not params.get(name)]
        return max([self.base, *missing])

    def describe(self) -> str:
        """The rule in words, e.g. ``20 with symbol, 50 without``."""
        if not self.without:
            return str(self.base)
        rules = [f"{weight} without {name}" for name, weight in self.without]
        if len(self.without) == 1:
            return f"{self.base} with {self.without[0][0]}, {self.without[0][1]} without"
        return f"{self.base}; " + "; ".join(rules)


@dataclass(frozen=True)
class RequiredWhen:
    """When ``param`` is sent with one of ``values``, every name in ``requires`` is mandatory.

    The docs' New Order table ("Additional mandatory parameters based on type").
    """

    param: str
    values: tuple[str, ...]
    requires: tuple[str, ...]


# Signed endpoints take these two besides their own (docs: "Timing Security"). recvWindow is
# documented to default to 5000; its upper bound (-1131 above 60000) is the signing layer's rule.
AUTH_PARAMS: Final = (
    Param(
        "recvWindow",
        ParamKind.LONG,
        default="5000",
        description="Milliseconds after timestamp the request is valid for.",
    ),
    Param(
        "timestamp",
        ParamKind.LONG,
        required=True,
        description="Millisecond time the request was created.",
    ),
)

_PERMISSIONS: Final = {
    Security.USER_DATA: Permission.USER_DATA,
    Security.TRADE: Permission.TRADE,
    Security.TRANSFER: Permission.TRANSFER,
}


@dataclass(frozen=True)
class Endpoint:
    """One endpoint. Signed endpoints get :data:`AUTH_PARAMS` appended to ``params``.

    ``result`` names the response type (``list[BalanceRow]``, ``CodeMsg``); ``one_of`` lists
    groups of which at least one must be sent; ``required_when`` the conditional requirements.
    """

    name: str
    method: str
    path: str
    weight: Weight
    security: Security
    params: tuple[Param, ...]
    result: str
    summary: str
    one_of: tuple[tuple[str, ...], ...] = ()
    required_when: tuple[RequiredWhen, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in ("GET", "POST", "PUT", "DELETE"):
            raise ValueError(f"{self.name}: method {self.method!r}")
        if self.security.signed:
            declared = {p.name for p in self.params}
            extra = tuple(p for p in AUTH_PARAMS if p.name not in declared)
            object.__setattr__(self, "params", self.params + extra)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate parameter in {names}")
        referenced = [n for n, _ in self.weight.without]
        referenced += [n for group in self.one_of for n in group]
        referenced += [n for rule in self.required_when for n in (rule.param, *rule.requires)]
        if unknown := set(referenced) - set(names):
            raise ValueError(f"{self.name}: rules name unknown parameters {unknown}")

    @property
    def signed(self) -> bool:
        return self.security.signed

    @property
    def permission(self) -> Permission | None:
        """The API-key permission the endpoint needs; None when any key (or none) will do."""
        return _PERMISSIONS.get(self.security)

    @property
    def route(self) -> tuple[str, str]:
        return (self.method, self.path)

    def param(self, name: str) -> Param:
        """The parameter with this wire name (KeyError if the endpoint has none)."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def weight_for(self, params: Mapping[str, str]) -> int:
        return self.weight.for_params(params)


_AUTH_NAMES: Final = frozenset(p.name for p in AUTH_PARAMS)


def validate(
    endpoint: Endpoint, raw: Mapping[str, str], *, auth: bool = True
) -> dict[str, ParamValue | None]:
    """Check ``raw`` wire parameters against ``endpoint`` and return them typed.

    The result has one key per declared parameter, its ``py_name``: the parsed value when sent,
    the parsed ``default`` when absent and the docs give one (income ``limit`` -> 100,
    ``recvWindow`` -> 5000), else None. Values are ``int`` for INT/LONG, ``Decimal`` for
    DECIMAL, ``bool`` for BOOL, the enums-module member when the param has an ``enum_type``
    (``MarginType.ISOLATED``, ``PositionMarginChange.ADD``, ``IncomeType.FUNDING_FEE``; the
    member of an IntEnum is also an int), and ``str`` otherwise (``newOrderRespType``).

    Parameters are checked in declared order and the first problem is raised:
    a required param missing, or any param sent empty -> -1102 naming it; a value that does not
    parse for its kind, is not in ``enum``, is out of ``[minimum, maximum]`` or longer than
    ``max_length`` -> -1130 naming it; a ``pattern`` mismatch -> -1100. Then ``one_of`` groups
    (-1102 "Param 'a' or 'b' must be sent, but both were empty/null!") and ``required_when``
    rules (-1102 naming the missing param). Unknown params, ``signature`` among them, are ignored.

    ``auth=False`` leaves ``timestamp`` / ``recvWindow`` out (FACTS.md's check order puts the
    endpoint's own parameters before the API key, and the timestamp after it: the server
    checks those with :func:`validate_auth` once the key is known).
    """
    values = {
        param.py_name: _read(param, raw)
        for param in endpoint.params
        if auth or param.name not in _AUTH_NAMES
    }
    for group in endpoint.one_of:
        if all(raw.get(name) is None for name in group):
            names = "' or '".join(group)
            raise aster_error(-1102, f"Param '{names}' must be sent, but both were empty/null!")
    for rule in endpoint.required_when:
        sent = raw.get(rule.param)
        if sent is None or sent not in rule.values:
            continue
        for name in rule.requires:
            if raw.get(name) is None:
                raise _mandatory(name)
    return values


def _read(param: Param, raw: Mapping[str, str]) -> ParamValue | None:
    """One parameter's value: parsed, its default when absent, -1102 when required or empty."""
    text = raw.get(param.name)
    if text is None:
        if param.required:
            raise _mandatory(param.name)
        return param.default_value
    if text == "":
        raise _mandatory(param.name)
    return param.parse(text)


def validate_auth(raw: Mapping[str, str]) -> tuple[int, int]:
    """``(timestamp, recvWindow)`` of a signed request, checked like any other parameter."""
    values = {param.name: _read(param, raw) for param in AUTH_PARAMS}
    timestamp, recv_window = values["timestamp"], values["recvWindow"]
    assert isinstance(timestamp, int) and isinstance(recv_window, int)
    return timestamp, recv_window


# --- building blocks --------------------------------------------------------------------------


def _choice(
    name: str,
    enum_type: type[Enum],
    *,
    values: tuple[str, ...] | None = None,
    required: bool = False,
    default: str | None = None,
    description: str = "",
) -> Param:
    """A parameter whose values are an enums-module class (or a subset of it)."""
    accepted = values or tuple(_wire_text(member) for member in enum_type)
    kind = ParamKind.INT if issubclass(enum_type, IntEnum) else ParamKind.ENUM
    return Param(
        name,
        kind,
        required=required,
        enum=accepted,
        default=default,
        description=description,
        enum_type=enum_type,
    )


def _symbol(*, required: bool) -> Param:
    return Param("symbol", ParamKind.STRING, required=required, description="e.g. BTCUSDT")


def _window(limit_default: str, limit_max: int | None, note: str = "") -> tuple[Param, ...]:
    limit_text = f"Default {limit_default}" + (f"; max {limit_max}." if limit_max else ".")
    return (
        Param("startTime", ParamKind.LONG, description="Timestamp in ms, inclusive." + note),
        Param("endTime", ParamKind.LONG, description="Timestamp in ms, inclusive."),
        Param(
            "limit",
            ParamKind.INT,
            minimum=1,
            maximum=limit_max,
            default=limit_default,
            description=limit_text,
        ),
    )


def _flag(
    name: str, description: str, *, required: bool = False, default: str | None = None
) -> Param:
    return Param(name, ParamKind.BOOL, required=required, default=default, description=description)


_POSITION_SIDE = replace(
    _choice(
        "positionSide",
        PositionSide,
        description="Default BOTH in One-way Mode; LONG or SHORT, and must be sent, in Hedge Mode.",
    ),
    unknown_value=(-4060, "Invalid position side."),
)
_ORDER_ID = Param("orderId", ParamKind.LONG, description="Either orderId or origClientOrderId.")
_ORIG_CLIENT_ORDER_ID = Param(
    "origClientOrderId", ParamKind.STRING, description="Either orderId or origClientOrderId."
)
_CLIENT_ORDER_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"  # docs, New Order
_ORDER_TYPES = tuple(t.value for t in OrderType if t is not OrderType.LIQUIDATION)
_PUBLIC: Final = (Weight(1), Security.NONE)
_STREAM: Final = (Weight(1), Security.USER_STREAM)

_NEW_ORDER_PARAMS = (
    _symbol(required=True),
    _choice("side", OrderSide, required=True),
    _POSITION_SIDE,
    _choice("type", OrderType, values=_ORDER_TYPES, required=True),
    _choice("timeInForce", TimeInForce),
    Param("quantity", ParamKind.DECIMAL, description="Cannot be sent with closePosition=true."),
    _flag(
        "reduceOnly", "Cannot be sent in Hedge Mode or with closePosition=true.", default="false"
    ),
    Param("price", ParamKind.DECIMAL),
    Param(
        "newClientOrderId",
        ParamKind.STRING,
        max_length=36,
        pattern=_CLIENT_ORDER_ID_PATTERN,
        description="Unique among open orders; generated when not sent.",
    ),
    Param(
        "stopPrice",
        ParamKind.DECIMAL,
        description="For STOP/STOP_MARKET and TAKE_PROFIT/TAKE_PROFIT_MARKET.",
    ),
    _flag("closePosition", "Close-All, with STOP_MARKET or TAKE_PROFIT_MARKET."),
    Param(
        "activationPrice",
        ParamKind.DECIMAL,
        description="For TRAILING_STOP_MARKET; default the latest price.",
    ),
    Param(
        "callbackRate",
        ParamKind.DECIMAL,
        minimum=Decimal("0.1"),
        maximum=Decimal("5"),
        description="For TRAILING_STOP_MARKET; 1 for 1%.",
    ),
    _choice(
        "workingType", WorkingType, default="CONTRACT_PRICE", description="What triggers stopPrice."
    ),
    _flag(
        "priceProtect",
        "Protect conditional order triggers (docs spell it TRUE/FALSE).",
        default="false",
    ),
    Param(
        "newOrderRespType",
        ParamKind.ENUM,
        enum=("ACK", "RESULT"),
        default="ACK",
        description="RESULT returns the final state of a MARKET or IOC/FOK order.",
    ),
)
_NEW_ORDER_RULES = (
    RequiredWhen("type", ("LIMIT",), ("timeInForce", "quantity", "price")),
    RequiredWhen("type", ("MARKET",), ("quantity",)),
    RequiredWhen("type", ("STOP", "TAKE_PROFIT"), ("quantity", "price", "stopPrice")),
    RequiredWhen("type", ("STOP_MARKET", "TAKE_PROFIT_MARKET"), ("stopPrice",)),
    RequiredWhen("type", ("TRAILING_STOP_MARKET",), ("callbackRate",)),
)
_ORDER_LOOKUP = (_symbol(required=True), _ORDER_ID, _ORIG_CLIENT_ORDER_ID)
_EITHER_ORDER_ID = (("orderId", "origClientOrderId"),)

# The table: one entry per endpoint, in the order of the skill, then streams, public, orders.
_E = Endpoint
_D = Security.USER_DATA
_T = Security.TRADE
_P = ParamKind

# fmt: off
ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    # --- account (the aster-api-account-v1 skill) ---
    _E("get_balance", "GET", "/fapi/v2/balance", Weight(5), _D, (), "list[BalanceRow]",
       "Futures account balance V2."),
    _E("get_account", "GET", "/fapi/v4/account", Weight(5), _D, (), "AccountInfo",
       "Account information V4: totals, assets and positions."),
    _E("get_position_risk", "GET", "/fapi/v2/positionRisk", Weight(5), _D,
       (_symbol(required=False),), "list[PositionRisk]",
       "Position information V2, one row per symbol and position side."),
    _E("set_leverage", "POST", "/fapi/v1/leverage", Weight(1), _T,
       (_symbol(required=True),
        # no range here: outside 1..the symbol's max, Aster answers -4028 (FACTS.md)
        Param("leverage", _P.INT, required=True,
              description="Target initial leverage: 1 to the symbol's maximum (125 at most).")),
       "LeverageResult", "Change initial leverage of a symbol."),
    _E("set_margin_type", "POST", "/fapi/v1/marginType", Weight(1), _T,
       (_symbol(required=True), _choice("marginType", MarginType, required=True)),
       "CodeMsg", "Change margin type of a symbol."),
    _E("modify_position_margin", "POST", "/fapi/v1/positionMargin", Weight(1), _T,
       (_symbol(required=True), _POSITION_SIDE,
        Param("amount", _P.DECIMAL, required=True),
        _choice("type", PositionMarginChange, required=True,
                description="1: add position margin, 2: reduce position margin.")),
       "PositionMarginResult", "Modify isolated position margin."),
    _E("get_position_margin_history", "GET", "/fapi/v1/positionMargin/history", Weight(1), _T,
       (_symbol(required=True),
        _choice("type", PositionMarginChange,
                description="1: add position margin, 2: reduce position margin."),
        *_window("500", None)),
       "list[MarginHistoryEntry]", "Position margin change history."),
    _E("transfer", "POST", "/fapi/v1/asset/wallet/transfer", Weight(5), Security.TRANSFER,
       (Param("amount", _P.DECIMAL, required=True),
        Param("asset", _P.STRING, required=True, description="e.g. USDT"),
        Param("clientTranId", _P.STRING, required=True,
              description="Unique within 7 days; shorter than 64 characters (-4114)."),
        _choice("kindType", TransferKind, required=True,
                description="FUTURE_SPOT: futures to spot; SPOT_FUTURE: spot to futures.")),
       "TransferResult", "Transfer between futures and spot."),
    _E("get_position_mode", "GET", "/fapi/v1/positionSide/dual", Weight(30), _D, (),
       "PositionMode", "Current position mode (Hedge or One-way) on every symbol."),
    _E("set_position_mode", "POST", "/fapi/v1/positionSide/dual", Weight(1), _T,
       (_flag("dualSidePosition", '"true": Hedge Mode; "false": One-way Mode.', required=True),),
       "CodeMsg", "Change position mode (Hedge or One-way) on every symbol."),
    _E("get_multi_assets_mode", "GET", "/fapi/v1/multiAssetsMargin", Weight(30), _D, (),
       "MultiAssetsMode", "Current Multi-Assets mode on every symbol."),
    _E("set_multi_assets_mode", "POST", "/fapi/v1/multiAssetsMargin", Weight(1), _T,
       (_flag("multiAssetsMargin", '"true": Multi-Assets Mode; "false": Single-Asset Mode.',
              required=True),),
       "CodeMsg", "Change Multi-Assets mode on every symbol."),
    _E("get_income", "GET", "/fapi/v1/income", Weight(30), _D,
       (_symbol(required=False),
        _choice("incomeType", IncomeType,
                description="All types when not sent."),
        *_window("100", 1000, " The last 7 days when neither time is sent.")),
       "list[Income]", "Income history."),
    _E("get_leverage_brackets", "GET", "/fapi/v1/leverageBracket", Weight(1), _D,
       (_symbol(required=False),), "list[SymbolBrackets] | SymbolBrackets",
       "Notional and leverage brackets; one object when symbol is sent."),
    _E("get_adl_quantile", "GET", "/fapi/v1/adlQuantile", Weight(5), _D,
       (_symbol(required=False),), "list[AdlQuantile]",
       "Position ADL quantile estimation (0 to 4)."),
    _E("get_force_orders", "GET", "/fapi/v1/forceOrders", Weight(20, (("symbol", 50),)), _D,
       (_symbol(required=False),
        _choice("autoCloseType", AutoCloseType,
                description="LIQUIDATION or ADL orders; both when not sent."),
        *_window("50", 100, " When not sent, the 7 days before endTime.")),
       "list[ForceOrder]", "User's force orders (liquidations and ADL)."),
    _E("get_commission_rate", "GET", "/fapi/v1/commissionRate", Weight(20), _D,
       (_symbol(required=True),), "CommissionRate", "User commission rate of a symbol."),
    _E("get_remaining_openable_notional", "GET", "/fapi/v1/remainingOpenableNotionalValue",
       Weight(20), _D,
       (_symbol(required=True),
        Param("leverage", _P.INT, required=True,
              description="1 to the symbol's maximum; others answer -4028.")),
       "RemainingOpenable", "Remaining openable notional value (USDT) at a leverage."),
    # --- user data stream ---
    _E("new_listen_key", "POST", "/fapi/v1/listenKey", *_STREAM, (), "ListenKey",
       "Start a user data stream, or extend and return the active one."),
    _E("keepalive_listen_key", "PUT", "/fapi/v1/listenKey", *_STREAM, (), "Empty",
       "Keep the user data stream alive for another 60 minutes."),
    _E("close_listen_key", "DELETE", "/fapi/v1/listenKey", *_STREAM, (), "Empty",
       "Close the user data stream."),
    # --- public: what clients call before anything else ---
    _E("ping", "GET", "/fapi/v1/ping", *_PUBLIC, (), "Empty", "Test connectivity."),
    _E("get_server_time", "GET", "/fapi/v1/time", *_PUBLIC, (), "ServerTime",
       "Current server time."),
    _E("get_exchange_info", "GET", "/fapi/v1/exchangeInfo", *_PUBLIC, (), "ExchangeInfo",
       "Rate limits, assets and symbols."),
    _E("get_premium_index", "GET", "/fapi/v1/premiumIndex", *_PUBLIC,
       (_symbol(required=False),), "list[PremiumIndex] | PremiumIndex",
       "Mark price and funding rate; one object when symbol is sent."),
    # --- simulated order entry, so that positions and open orders exist ---
    _E("new_order", "POST", "/fapi/v1/order", Weight(1), _T, _NEW_ORDER_PARAMS, "Order",
       "Send in a new order.", required_when=_NEW_ORDER_RULES),
    _E("get_order", "GET", "/fapi/v1/order", Weight(1), _D, _ORDER_LOOKUP, "Order",
       "Check an order's status.", one_of=_EITHER_ORDER_ID),
    _E("cancel_order", "DELETE", "/fapi/v1/order", Weight(1), _T, _ORDER_LOOKUP, "Order",
       "Cancel an active order.", one_of=_EITHER_ORDER_ID),
    _E("cancel_all_open_orders", "DELETE", "/fapi/v1/allOpenOrders", Weight(1), _T,
       (_symbol(required=True),), "CancelAllResult",
       "Cancel all open orders of a symbol."),
    _E("get_open_orders", "GET", "/fapi/v1/openOrders", Weight(1, (("symbol", 40),)), _D,
       (_symbol(required=False),), "list[Order]",
       "Current open orders of a symbol, or of all symbols."),
)
# fmt: on

BY_NAME: Final[dict[str, Endpoint]] = {e.name: e for e in ENDPOINTS}
BY_ROUTE: Final[dict[tuple[str, str], Endpoint]] = {e.route: e for e in ENDPOINTS}

if len(BY_NAME) != len(ENDPOINTS) or len(BY_ROUTE) != len(ENDPOINTS):
    raise ValueError("endpoint names and routes must be unique")
