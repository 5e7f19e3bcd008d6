"""Decimal <-> wire text in one place, and the generic machinery that turns models into JSON.

Numbers. Money is `Decimal` everywhere in Python. On the wire Aster sends almost every decimal as
a JSON *string* ("23.72469206"); `decimal_str` writes those and `parse_decimal` reads them. A few
config-sized decimals are JSON *numbers* (bracket `notionalCap` / `notionalFloor` /
`maintMarginRatio` / `cum`, `remainingOpenableNotionalValue`, `amount` in the positionMargin
reply); `decimal_number` writes those and refuses any value a float cannot carry exactly.
Integers such as `leverage` in the leverage reply are plain `Kind.INT`.

Fields. Like stripe-python, each model field declares once what it is on the wire: its JSON key
and its `Kind`. `field()` stores that in the dataclass field's metadata, and two generic functions
do all the work:

    to_wire(obj) -> dict            keys in the dataclass field order, which is the wire order
    from_wire(cls, data) -> obj     lenient about JSON types (see below)

`from_wire` is written for a client that must survive a live venue: where a string is declared it
also takes a number and the reverse (`"1617939110373"` for an int, `100.0` for a decimal string,
`"true"` for a bool), a missing list reads as empty, and unknown keys are ignored (pass
`strict=True` to reject them, e.g. in tests that pin a shape). `to_wire` is strict: it writes
exactly the declared JSON type and refuses a float where a Decimal is declared.

Optional fields (present only sometimes, such as `activatePrice` or the commission `N` / `n` of an
order event) hold None and are left out of the output; nullable fields are always sent and hold
None for JSON null.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum
from typing import Any, Final, TypeVar, dataclass_transform

from aster_account.protocol.enums import MarginType

__all__ = [
    "Kind",
    "WireError",
    "WireField",
    "decimal_number",
    "decimal_str",
    "field",
    "from_wire",
    "from_wire_list",
    "model",
    "parse_decimal",
    "to_wire",
    "to_wire_list",
    "wire_fields",
]

T = TypeVar("T")

_METADATA_KEY: Final = "aster_wire"
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_TEXT = re.compile(r"[+-]?\d+")


class WireError(ValueError):
    """A value that cannot be written to, or read from, the wire shape declared for it."""


# -- numbers ----------------------------------------------------------------------------------


def decimal_str(value: Decimal) -> str:
    """Plain fixed-point text: `5E+1` -> "50", `1E-8` -> "0.00000001", `-0` -> "0".

    It keeps the value's exponent (`Decimal("1.50")` -> "1.50") and never rounds: the engine
    quantizes for display before it gets here.
    """
    if not isinstance(value, Decimal):
        raise WireError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
    if not value.is_finite():
        raise WireError(f"not a finite decimal: {value}")
    if value.is_zero():
        value = abs(value)  # "-0.00" reads as a short position of nothing; send "0.00"
    return format(value, "f")


def parse_decimal(text: str | int | float) -> Decimal:
    """A wire decimal: a string, or a JSON number (int, or a float read through its `repr`).

    Going through `repr` keeps the float's shortest round-trip text, so `0.0065` stays
    `Decimal("0.0065")` instead of `0.006500000000000000298...`. NaN and infinities are rejected.
    """
    if type(text) is str and _DECIMAL_TEXT.fullmatch(text):  # the usual case, first
        return Decimal(text)
    if isinstance(text, bool):
        raise WireError(f"expected a decimal, got a bool: {text!r}")
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise WireError(f"not a finite decimal: {text!r}")
        return Decimal(repr(text))
    if isinstance(text, str) and _DECIMAL_TEXT.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern only lets valid text through
            pass
    raise WireError(f"not a decimal: {text!r}")


def decimal_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when integral, else a float.

    Only for the few config-sized fields Aster sends as numbers (bracket caps, floors, ratios
    and cum, remaining openable notional, a margin amount). Such values have far fewer than
    15 significant digits, which a float holds exactly; anything a float would change raises
    instead of being sent rounded.
    """
    if not isinstance(value, Decimal):
        raise WireError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
    if not value.is_finite():
        raise WireError(f"not a finite decimal: {value}")
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise WireError(f"{value} cannot be sent as a JSON number without rounding")
    return number


# -- field declarations -----------------------------------------------------------------------


class Kind(Enum):
    """What a field is on the wire, and therefore how it is written and read."""

    DEC_STR = "decimal as a JSON string"
    DEC_NUM = "decimal as a JSON number"
    INT = "integer as a JSON number"
    INT_STR = "integer as a JSON string"
    BOOL = "JSON boolean"
    BOOL_STR = 'boolean as the string "true" / "false"'
    STR = "JSON string"
    ENUM = "enum member sent as its value (string or integer)"
    MARGIN_TYPE_REPLY = 'MarginType as "isolated" / "cross" (GET replies, ACCOUNT_UPDATE)'
    MARGIN_TYPE_PARAM = 'MarginType as "ISOLATED" / "CROSSED" (request params, MARGIN_CALL)'
    MODEL = "nested model (JSON object)"
    LIST_MODEL = "list of nested models (JSON array of objects)"
    MAP_INT = "JSON object of string -> integer"
    RAW = "any JSON, passed through untouched"


_JSON_TYPES: Final[dict[Kind, str | None]] = {
    Kind.DEC_STR: "string",
    Kind.DEC_NUM: "number",
    Kind.INT: "integer",
    Kind.INT_STR: "string",
    Kind.BOOL: "boolean",
    Kind.BOOL_STR: "string",
    Kind.STR: "string",
    Kind.MARGIN_TYPE_REPLY: "string",
    Kind.MARGIN_TYPE_PARAM: "string",
    Kind.MODEL: "object",
    Kind.LIST_MODEL: "array",
    Kind.MAP_INT: "object",
    Kind.RAW: None,
}


@dataclasses.dataclass(frozen=True, slots=True)
class WireField:
    """One model field as the wire sees it. `name` is the Python attribute."""

    name: str
    wire: str
    kind: Kind
    of: type[Any] | None = None
    optional: bool = False
    nullable: bool = False

    @property
    def json_type(self) -> str | None:
        """JSON Schema type of the value ("string", "integer"...), None for RAW."""
        if self.kind is Kind.ENUM:
            return "integer" if self.of is not None and issubclass(self.of, int) else "string"
        return _JSON_TYPES[self.kind]


def field(
    wire: str,
    kind: Kind,
    of: type[Any] | None = None,
    *,
    optional: bool = False,
    nullable: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """Declare a model field: its JSON key, its `Kind`, and for ENUM / MODEL / LIST_MODEL its class.

    `optional`: sometimes absent on the wire; None means "leave the key out".
    `nullable`: always sent; None is JSON null.
    Give optional and nullable fields `default=None` so they need not be passed.
    """
    if kind in (Kind.ENUM, Kind.MODEL, Kind.LIST_MODEL) and of is None:
        raise TypeError(f"field {wire!r}: kind {kind.name} needs `of`")
    if kind is Kind.ENUM and not (isinstance(of, type) and issubclass(of, Enum)):
        raise TypeError(f"field {wire!r}: `of` must be an Enum class")
    if optional and nullable:
        raise TypeError(f"field {wire!r}: a field is optional (omitted) or nullable (null)")
    meta = {_METADATA_KEY: (wire, kind, of, optional, nullable)}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def model(cls: type[T]) -> type[T]:
    """Make `cls` a wire model: a frozen, slotted, keyword-only dataclass.

    Keyword-only lets an optional field sit at its wire position in the middle of the class.
    """
    made: type[T] = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
    wire_fields(made)  # fail at import time on a field that was not declared with field()
    return made


_FIELDS: dict[type[Any], tuple[WireField, ...]] = {}


def wire_fields(cls: type[Any]) -> tuple[WireField, ...]:
    """The declared fields of a model, in wire order (computed once per class)."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a wire model")
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_METADATA_KEY)
        if meta is None:
            raise TypeError(f"{cls.__name__}.{f.name} was not declared with wire.field()")
        wire, kind, of, optional, nullable = meta
        out.append(WireField(f.name, wire, kind, of, optional, nullable))
    wires = [w.wire for w in out]
    if len(set(wires)) != len(wires):
        raise TypeError(f"{cls.__name__} declares a wire key twice: {wires}")
    _FIELDS[cls] = result = tuple(out)
    return result


# -- writing ----------------------------------------------------------------------------------


_Plan = tuple[tuple[str, str, Callable[[Any], Any], WireField], ...]
_PLANS: dict[type[Any], _Plan] = {}


def _plan(cls: type[Any]) -> _Plan:
    """Per class, once: each field's attribute, wire key and encoder (replies are rendered on
    every request, so the kind is resolved here rather than per value)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (spec.name, spec.wire, _encoder(spec), spec) for spec in wire_fields(cls)
        )
    return plan


def to_wire(obj: Any) -> dict[str, Any]:
    """The JSON object for a model, keys in field order, each value of its declared JSON type."""
    out: dict[str, Any] = {}
    for name, wire, encode, spec in _plan(type(obj)):
        value = getattr(obj, name)
        if value is None:
            if spec.optional:
                continue
            if spec.nullable or spec.kind is Kind.RAW:
                out[wire] = None
                continue
            raise WireError(f"{type(obj).__name__}.{name} ({wire!r}) is required")
        try:
            out[wire] = encode(value)
        except WireError as exc:
            raise WireError(f"{type(obj).__name__}.{name} ({wire!r}): {exc}") from None
    return out


def _encoder(spec: WireField) -> Callable[[Any], Any]:
    kind = spec.kind
    fixed: dict[Kind, Callable[[Any], Any]] = {
        Kind.DEC_STR: decimal_str,
        Kind.DEC_NUM: decimal_number,
        Kind.INT: _check_int,
        Kind.BOOL: _check_bool,
        Kind.STR: _check_str,
    }
    if kind in fixed:
        return fixed[kind]
    return lambda value: _encode(spec, value)


def to_wire_list(objs: Iterable[Any]) -> list[dict[str, Any]]:
    return [to_wire(obj) for obj in objs]


def _encode(spec: WireField, value: Any) -> Any:
    kind = spec.kind
    if kind is Kind.DEC_STR:
        return decimal_str(value)
    if kind is Kind.DEC_NUM:
        return decimal_number(value)
    if kind is Kind.INT:
        return _check_int(value)
    if kind is Kind.INT_STR:
        return str(_check_int(value))
    if kind is Kind.BOOL:
        return _check_bool(value)
    if kind is Kind.BOOL_STR:
        return "true" if _check_bool(value) else "false"
    if kind is Kind.STR:
        return _check_str(value)
    if kind is Kind.ENUM:
        assert spec.of is not None
        try:
            return spec.of(value).value
        except ValueError:
            raise WireError(f"not a {spec.of.__name__}: {value!r}") from None
    if kind in (Kind.MARGIN_TYPE_REPLY, Kind.MARGIN_TYPE_PARAM):
        if not isinstance(value, MarginType):
            raise WireError(f"expected a MarginType, got {value!r}")
        return value.reply if kind is Kind.MARGIN_TYPE_REPLY else value.param
    if kind is Kind.MODEL:
        return to_wire(value)
    if kind is Kind.LIST_MODEL:
        return [to_wire(item) for item in value]
    if kind is Kind.MAP_INT:
        return {str(key): _check_int(item) for key, item in value.items()}
    return value  # Kind.RAW


def _check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise WireError(f"expected a str, got {type(value).__name__}: {value!r}")
    return str(value)


def _check_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"expected an int, got {type(value).__name__}: {value!r}")
    return int(value)


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise WireError(f"expected a bool, got {type(value).__name__}: {value!r}")
    return value


# -- reading ----------------------------------------------------------------------------------


_Reader = Callable[[Any, bool], Any]
_ReadPlan = tuple[tuple[str, str, _Reader, WireField], ...]
_READ_PLANS: dict[type[Any], _ReadPlan] = {}


def _read_plan(cls: type[Any]) -> _ReadPlan:
    """Per class, once: each field's attribute, wire key and decoder (the reading twin of
    `_plan`: a client reads every reply, so the kind is resolved here rather than per value)."""
    plan = _READ_PLANS.get(cls)
    if plan is None:
        plan = _READ_PLANS[cls] = tuple(
            (spec.name, spec.wire, _decoder(spec), spec) for spec in wire_fields(cls)
        )
    return plan


def _decoder(spec: WireField) -> _Reader:
    kind = spec.kind
    if kind in (Kind.DEC_STR, Kind.DEC_NUM):
        return lambda raw, _strict: parse_decimal(raw)
    if kind in (Kind.INT, Kind.INT_STR):
        return lambda raw, _strict: _read_int(raw)
    if kind in (Kind.BOOL, Kind.BOOL_STR):
        return lambda raw, _strict: _read_bool(raw)
    if kind is Kind.STR:
        return lambda raw, strict: raw if type(raw) is str else _decode(spec, raw, strict)
    return lambda raw, strict: _decode(spec, raw, strict)


def from_wire(cls: type[T], data: Mapping[str, Any], *, strict: bool = False) -> T:
    """Read a JSON object into `cls`, accepting a number where a string is declared and vice versa.

    A missing required key raises `WireError`; a missing optional key reads as None and a missing
    list as empty. Unknown keys are ignored unless `strict`.
    """
    if not isinstance(data, Mapping):
        raise WireError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    plan = _read_plan(cls)
    kwargs: dict[str, Any] = {}
    for name, wire, decode, spec in plan:
        raw = data.get(wire)
        if raw is None:
            if spec.optional or spec.nullable:
                kwargs[name] = None
            elif spec.kind is Kind.LIST_MODEL and wire not in data:
                kwargs[name] = []
            elif spec.kind is Kind.RAW and wire in data:
                kwargs[name] = None
            else:
                raise WireError(f"{cls.__name__}: {wire!r} is missing or null")
            continue
        try:
            kwargs[name] = decode(raw, strict)
        except WireError as exc:
            raise WireError(f"{cls.__name__}.{wire}: {exc}") from None
    if strict:
        unknown = set(data) - {wire for _, wire, _, _ in plan}
        if unknown:
            raise WireError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**kwargs)


def from_wire_list(cls: type[T], data: Sequence[Any], *, strict: bool = False) -> list[T]:
    if isinstance(data, str | bytes | Mapping):
        raise WireError(f"{cls.__name__}: expected a JSON array, got {type(data).__name__}")
    return [from_wire(cls, item, strict=strict) for item in data]


def _decode(spec: WireField, raw: Any, strict: bool) -> Any:
    kind = spec.kind
    if kind in (Kind.DEC_STR, Kind.DEC_NUM):
        return parse_decimal(raw)
    if kind in (Kind.INT, Kind.INT_STR):
        return _read_int(raw)
    if kind in (Kind.BOOL, Kind.BOOL_STR):
        return _read_bool(raw)
    if kind is Kind.STR:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)  # ids such as tranId arrive as numbers from some venues
        raise WireError(f"expected a string, got {raw!r}")
    if kind is Kind.ENUM:
        assert spec.of is not None
        value = _read_int(raw) if issubclass(spec.of, IntEnum) else raw
        try:
            return spec.of(value)
        except ValueError:
            raise WireError(f"not a {spec.of.__name__}: {raw!r}") from None
    if kind in (Kind.MARGIN_TYPE_REPLY, Kind.MARGIN_TYPE_PARAM):
        try:
            return MarginType.from_reply(raw)  # takes either spelling
        except ValueError:
            raise WireError(f"not a margin type: {raw!r}") from None
    if kind is Kind.MODEL:
        assert spec.of is not None
        return from_wire(spec.of, raw, strict=strict)
    if kind is Kind.LIST_MODEL:
        assert spec.of is not None
        return from_wire_list(spec.of, raw, strict=strict)
    if kind is Kind.MAP_INT:
        if not isinstance(raw, Mapping):
            raise WireError(f"expected a JSON object, got {raw!r}")
        return {str(key): _read_int(item) for key, item in raw.items()}
    return raw  # Kind.RAW


def _read_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise WireError(f"expected an integer, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INT_TEXT.fullmatch(raw.strip()):
        return int(raw)
    raise WireError(f"expected an integer, got {raw!r}")


def _read_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"  # priceProtect is sent as "TRUE" / "FALSE" in params
    raise WireError(f"expected a boolean, got {raw!r}")
