from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aster_account.protocol.enums import MarginType, OrderSide, PositionMarginChange
from aster_account.protocol.wire import (
    Kind,
    WireError,
    decimal_number,
    decimal_str,
    field,
    from_wire,
    from_wire_list,
    model,
    parse_decimal,
    to_wire,
    to_wire_list,
    wire_fields,
)

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)


# -- decimal_str ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("5E+1", "50"),
        ("1E-8", "0.00000001"),
        ("-0", "0"),
        ("-0.00", "0.00"),
        ("0E-8", "0.00000000"),
        ("1.50", "1.50"),  # keeps the engine's display exponent
        ("-12.5", "-12.5"),
        ("1.2345E+3", "1234.5"),
        ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
    ],
)
def test_decimal_str_is_plain_fixed_point(value: str, text: str) -> None:
    assert decimal_str(Decimal(value)) == text


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), -Decimal("Inf")]
)
def test_decimal_str_rejects_non_finite(value: Decimal) -> None:
    with pytest.raises(WireError):
        decimal_str(value)


@pytest.mark.parametrize("value", [1.5, 1, "1.5", None])
def test_decimal_str_refuses_anything_but_a_decimal(value: Any) -> None:
    with pytest.raises(WireError):
        decimal_str(value)


@given(finite_decimals)
def test_decimal_str_round_trips_exactly(value: Decimal) -> None:
    text = decimal_str(value)
    assert "E" not in text and "e" not in text
    back = parse_decimal(text)
    assert back == value
    if value.as_tuple().exponent <= 0:  # type: ignore[operator]
        # same digits and exponent, so "1.50" stays "1.50"; only the sign of zero is dropped
        assert back.as_tuple() == (value.copy_abs() if value.is_zero() else value).as_tuple()


# -- parse_decimal -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("23.72469206", "23.72469206"),
        ("-0.37500000", "-0.37500000"),
        ("0", "0"),
        (".5", "0.5"),
        ("1e-8", "0.00000001"),
        (100, "100"),
        (0.0065, "0.0065"),  # through repr, not the float's binary expansion
        (100.0, "100.0"),
        (1e-8, "1E-8"),
    ],
)
def test_parse_decimal_reads_strings_and_json_numbers(raw: Any, value: str) -> None:
    parsed = parse_decimal(raw)
    assert parsed == Decimal(value)
    assert parsed.as_tuple() == Decimal(value).as_tuple()


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "sNaN",
        float("nan"),
        float("inf"),
        True,
        "",
        " 1",
        "1_000",
        "1.2.3",
        "abc",
        "0x10",
        None,
        [1],
    ],
)
def test_parse_decimal_rejects_non_numbers(raw: Any) -> None:
    with pytest.raises(WireError):
        parse_decimal(raw)


@given(finite_floats)
def test_a_json_float_keeps_its_shortest_text(number: float) -> None:
    assert parse_decimal(number) == Decimal(repr(number))
    assert float(parse_decimal(number)) == number


# -- decimal_number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [("21", 21), ("100.0", 100), ("1E+2", 100), ("-0", 0), ("0.0065", 0.0065), ("0.025", 0.025)],
)
def test_decimal_number_is_int_when_integral_else_float(value: str, number: int | float) -> None:
    out = decimal_number(Decimal(value))
    assert out == number
    assert type(out) is type(number)


@pytest.mark.parametrize(
    "value", ["0.12345678901234567890", "0.1000000000000000000001", "NaN", "Infinity"]
)
def test_decimal_number_refuses_values_a_float_would_change(value: str) -> None:
    with pytest.raises(WireError):
        decimal_number(Decimal(value))


def test_decimal_number_refuses_floats() -> None:
    with pytest.raises(WireError):
        decimal_number(0.5)  # type: ignore[arg-type]


@given(finite_floats)
def test_decimal_number_round_trips_every_float_sized_value(number: float) -> None:
    value = parse_decimal(number)  # the decimal the float's shortest text names
    out = decimal_number(value)
    assert parse_decimal(out) == value
    if isinstance(out, float):
        assert out == number
    else:  # integral: the exact int of that decimal (4.3e16 -> 43000000000000000)
        assert Decimal(out) == value


# -- field machinery -----------------------------------------------------------------------------


@model
class Inner:
    name: str = field("n", Kind.STR)


@model
class Sample:
    amount: Decimal = field("amount", Kind.DEC_STR)
    cap: Decimal = field("cap", Kind.DEC_NUM)
    count: int = field("count", Kind.INT)
    stamp: int = field("stamp", Kind.INT_STR)
    flag: bool = field("flag", Kind.BOOL)
    auto: bool = field("auto", Kind.BOOL_STR)
    label: str = field("label", Kind.STR)
    side: OrderSide = field("side", Kind.ENUM, OrderSide)
    change: PositionMarginChange = field("type", Kind.ENUM, PositionMarginChange)
    reply_mt: MarginType = field("mt", Kind.MARGIN_TYPE_REPLY)
    param_mt: MarginType = field("MT", Kind.MARGIN_TYPE_PARAM)
    inner: Inner = field("inner", Kind.MODEL, Inner)
    inners: list[Inner] = field("inners", Kind.LIST_MODEL, Inner)
    quantiles: dict[str, int] = field("q", Kind.MAP_INT)
    raw: Any = field("raw", Kind.RAW)
    maybe: Decimal | None = field("maybe", Kind.DEC_STR, optional=True, default=None)
    nullable: Decimal | None = field("null", Kind.DEC_NUM, nullable=True, default=None)


SAMPLE = Sample(
    amount=Decimal("1.50"),
    cap=Decimal("0.0065"),
    count=3,
    stamp=1617939110373,
    flag=True,
    auto=False,
    label="x",
    side=OrderSide.SELL,
    change=PositionMarginChange.REDUCE,
    reply_mt=MarginType.CROSSED,
    param_mt=MarginType.ISOLATED,
    inner=Inner(name="a"),
    inners=[Inner(name="b"), Inner(name="c")],
    quantiles={"LONG": 1, "SHORT": 2},
    raw=[{"filterType": "X"}],
)

SAMPLE_WIRE = {
    "amount": "1.50",
    "cap": 0.0065,
    "count": 3,
    "stamp": "1617939110373",
    "flag": True,
    "auto": "false",
    "label": "x",
    "side": "SELL",
    "type": 2,
    "mt": "cross",
    "MT": "ISOLATED",
    "inner": {"n": "a"},
    "inners": [{"n": "b"}, {"n": "c"}],
    "q": {"LONG": 1, "SHORT": 2},
    "raw": [{"filterType": "X"}],
    "null": None,
}


def test_to_wire_writes_each_kind_in_field_order() -> None:
    out = to_wire(SAMPLE)
    assert out == SAMPLE_WIRE
    assert list(out) == list(SAMPLE_WIRE)  # "maybe" is optional and None: left out
    assert json.loads(json.dumps(out)) == out


def test_from_wire_reads_back_what_to_wire_wrote() -> None:
    assert from_wire(Sample, json.loads(json.dumps(to_wire(SAMPLE)))) == SAMPLE


def test_optional_present_and_nullable_set() -> None:
    full = Sample(**{**_kwargs(SAMPLE), "maybe": Decimal("2"), "nullable": Decimal("0")})
    out = to_wire(full)
    assert out["maybe"] == "2"
    assert out["null"] == 0
    assert list(out)[-2:] == ["maybe", "null"]
    assert from_wire(Sample, out) == full


def test_from_wire_is_lenient_about_json_types() -> None:
    quirky = {
        **SAMPLE_WIRE,
        "amount": 1.5,  # number where a string is declared
        "cap": "0.0065",  # string where a number is declared
        "count": "3",
        "stamp": 1617939110373,
        "flag": "true",
        "auto": False,
        "type": "2",
        "mt": "CROSSED",  # either spelling of the margin type
        "MT": "isolated",
        "q": {"LONG": "1", "SHORT": 2.0},
        "label": 7,  # ids sometimes arrive as numbers
        "unknown": "ignored",
    }
    obj = from_wire(Sample, quirky)
    assert obj.amount == Decimal("1.5")
    assert obj.cap == Decimal("0.0065")
    assert (obj.count, obj.stamp, obj.flag, obj.auto) == (3, 1617939110373, True, False)
    assert obj.change is PositionMarginChange.REDUCE
    assert (obj.reply_mt, obj.param_mt) == (MarginType.CROSSED, MarginType.ISOLATED)
    assert obj.quantiles == {"LONG": 1, "SHORT": 2}
    assert obj.label == "7"


def test_strict_rejects_unknown_keys() -> None:
    with pytest.raises(WireError, match="unknown"):
        from_wire(Sample, {**SAMPLE_WIRE, "extra": 1}, strict=True)


def test_missing_keys() -> None:
    without_optional = {k: v for k, v in SAMPLE_WIRE.items() if k != "null"}
    assert from_wire(Sample, without_optional).nullable is None
    without_list = {k: v for k, v in SAMPLE_WIRE.items() if k != "inners"}
    assert from_wire(Sample, without_list).inners == []
    without_required = {k: v for k, v in SAMPLE_WIRE.items() if k != "amount"}
    with pytest.raises(WireError, match="'amount' is missing"):
        from_wire(Sample, without_required)
    with pytest.raises(WireError, match="missing or null"):
        from_wire(Sample, {**SAMPLE_WIRE, "count": None})


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("amount", "1,5"),
        ("amount", True),
        ("count", 1.5),
        ("count", True),
        ("count", "x"),
        ("flag", 1),
        ("flag", "yes"),
        ("side", "UP"),
        ("type", 3),
        ("mt", "both"),
        ("label", 1.5),
        ("inner", "a"),
        ("inners", {"n": "a"}),
        ("q", [1]),
    ],
)
def test_from_wire_rejects_values_of_the_wrong_shape(key: str, bad: Any) -> None:
    with pytest.raises(WireError, match=key):
        from_wire(Sample, {**SAMPLE_WIRE, key: bad})


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("amount", 1.5),  # a float never carries money
        ("cap", Decimal("0.12345678901234567890")),
        ("count", "3"),
        ("count", True),
        ("flag", 1),
        ("label", 1),
        ("side", "UP"),
        ("reply_mt", "cross"),
        ("amount", None),
    ],
)
def test_to_wire_refuses_values_of_the_wrong_type(name: str, bad: Any) -> None:
    with pytest.raises(WireError, match=name):
        to_wire(Sample(**{**_kwargs(SAMPLE), name: bad}))


def test_enum_fields_accept_their_raw_value_on_output() -> None:
    assert to_wire(Sample(**{**_kwargs(SAMPLE), "side": "BUY"}))["side"] == "BUY"


def test_lists() -> None:
    data = [{"n": "a"}, {"n": "b"}]
    assert to_wire_list(from_wire_list(Inner, data)) == data
    with pytest.raises(WireError):
        from_wire_list(Inner, {"n": "a"})  # type: ignore[arg-type]
    with pytest.raises(WireError):
        from_wire(Inner, [{"n": "a"}])  # type: ignore[arg-type]


def test_wire_fields_describe_the_shape() -> None:
    specs = {spec.name: spec for spec in wire_fields(Sample)}
    assert [spec.wire for spec in wire_fields(Sample)][:3] == ["amount", "cap", "count"]
    assert specs["amount"].json_type == "string"
    assert specs["cap"].json_type == "number"
    assert specs["stamp"].json_type == "string"
    assert specs["change"].json_type == "integer"
    assert specs["side"].json_type == "string"
    assert specs["raw"].json_type is None
    assert specs["maybe"].optional and not specs["maybe"].nullable


def test_field_declarations_are_checked() -> None:
    with pytest.raises(TypeError, match="needs `of`"):
        field("x", Kind.ENUM)
    with pytest.raises(TypeError, match="Enum"):
        field("x", Kind.ENUM, Inner)
    with pytest.raises(TypeError, match="optional"):
        field("x", Kind.STR, optional=True, nullable=True)
    with pytest.raises(TypeError, match="not declared"):

        @model
        class Undeclared:
            x: int = 0

    with pytest.raises(TypeError, match="twice"):

        @model
        class Twice:
            a: int = field("k", Kind.INT)
            b: int = field("k", Kind.INT)

    with pytest.raises(TypeError, match="not a wire model"):
        to_wire(object())


def test_models_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SAMPLE.count = 4  # type: ignore[misc]


def _kwargs(obj: Any) -> dict[str, Any]:
    return {spec.name: getattr(obj, spec.name) for spec in wire_fields(type(obj))}
