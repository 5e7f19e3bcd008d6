"""Market config: bracket tables (lookup, cum, max notional, validation), the shipped file."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from aster_account.engine.market import (
    AssetSpec,
    LeverageBrackets,
    Market,
    SymbolSpec,
    Tier,
    derive_cum,
)

D = Decimal

# A small table with round numbers: cum = 0, 10000 × (0.025 − 0.01) = 150,
# 150 + 100000 × (0.05 − 0.025) = 2650.
SMALL: list[Tier] = [
    (D(0), D(10000), 50, D("0.01")),
    (D(10000), D(100000), 20, D("0.025")),
    (D(100000), D(1000000), 10, D("0.05")),
]

VECTORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "vectors" / "margin.json"


def shipped_data() -> dict[str, Any]:
    text = resources.files("aster_account.data").joinpath("market.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def symbol_block(data: dict[str, Any], name: str) -> dict[str, Any]:
    block: dict[str, Any] = next(s for s in data["symbols"] if s["symbol"] == name)
    return block


# --- derive_cum and LeverageBrackets --------------------------------------------------------


def test_derive_cum_follows_the_faq_recurrence() -> None:
    tiers = [(D(0), D("0.01")), (D(10000), D("0.025")), (D(100000), D("0.05"))]

    assert derive_cum(tiers) == [D(0), D(150), D(2650)]
    assert derive_cum([]) == []


def test_brackets_derive_cum_and_number_from_one() -> None:
    table = LeverageBrackets(SMALL)

    assert [b.bracket for b in table.brackets] == [1, 2, 3]
    assert [b.cum for b in table.brackets] == [D(0), D(150), D(2650)]
    assert table.max_leverage == 50


@pytest.mark.parametrize(
    ("amount", "bracket"),
    [
        ("0", 1),
        ("9999.99", 1),
        ("10000", 2),  # a floor belongs to the bracket it opens
        ("99999.999", 2),
        ("100000", 3),
        ("1000000", 3),  # the last cap
        ("5000000", 3),  # past the last cap: still the last bracket
    ],
)
def test_for_notional_at_the_edges(amount: str, bracket: int) -> None:
    assert LeverageBrackets(SMALL).for_notional(D(amount)).bracket == bracket


def test_for_notional_refuses_a_negative_notional() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        LeverageBrackets(SMALL).for_notional(D("-1"))


def test_maintenance_margin_uses_the_bracket_and_its_cum() -> None:
    table = LeverageBrackets(SMALL)

    assert table.maintenance_margin(D(0)) == D(0)
    assert table.maintenance_margin(D(5000)) == D(50)  # 5000 × 0.01
    assert table.maintenance_margin(D(20000)) == D(350)  # 20000 × 0.025 − 150
    assert table.maintenance_margin(D(200000)) == D(7350)  # 200000 × 0.05 − 2650


@pytest.mark.parametrize(
    ("leverage", "cap"),
    [(50, "10000"), (21, "10000"), (20, "100000"), (11, "100000"), (10, "1000000"), (1, "1000000")],
)
def test_max_notional_is_the_largest_cap_the_leverage_allows(leverage: int, cap: str) -> None:
    assert LeverageBrackets(SMALL).max_notional(leverage) == D(cap)


@pytest.mark.parametrize("leverage", [0, -1, 51])
def test_max_notional_refuses_leverage_outside_the_table(leverage: int) -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.50"):
        LeverageBrackets(SMALL).max_notional(leverage)


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([], "at least one tier"),
        ([(D(1), D(10), 10, D("0.01"))], "first notional_floor must be 0"),
        (
            [(D(0), D(10), 10, D("0.01")), (D(11), D(20), 5, D("0.02"))],
            "tier 2: notional_floor 11 must equal the previous notional_cap 10",
        ),
        (
            [(D(0), D(10), 10, D("0.01")), (D(10), D(20), 20, D("0.02"))],
            "tier 2: initial_leverage 20 is above",
        ),
        (
            [(D(0), D(10), 10, D("0.02")), (D(10), D(20), 5, D("0.01"))],
            "tier 2: maint_margin_ratio 0.01 is below",
        ),
        ([(D(0), D(0), 10, D("0.01"))], "notional_cap 0 must be above notional_floor 0"),
        ([(D(0), D(10), 0, D("0.01"))], "initial_leverage must be at least 1"),
        ([(D(0), D(10), 100, D("0.01"))], "below 1/initial_leverage"),
        ([(D(0), D(10), 10, D("-0.01"))], "must be >= 0"),
    ],
)
def test_bad_tables_are_refused_with_the_reason(tiers: list[Tier], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LeverageBrackets(tiers)


def test_brackets_are_immutable_values() -> None:
    table = LeverageBrackets(SMALL)

    with pytest.raises(dataclasses.FrozenInstanceError):
        table.max_leverage = 100  # type: ignore[misc]
    assert table == LeverageBrackets(SMALL)
    assert hash(table) == hash(LeverageBrackets(SMALL))


# --- the shipped market file ----------------------------------------------------------------


def test_shipped_market_loads_with_its_symbols_and_assets() -> None:
    market = Market.load()

    assert {"BTCUSDT", "ETHUSDT", "ARBUSDT", "ASTERUSDT", "TRUTHUSDT"} <= set(market.symbols)
    assert {"USDT", "USDC", "BTC"} <= set(market.assets)
    assert market.default_leverage == 20
    assert market.margin_call_ratio == D("0.8")
    assert market.settle_asset == "USDT"
    for spec in market.symbols.values():
        assert spec.margin_asset == "USDT"
        # FACTS.md: Aster's default fees, maker 0.0001 / taker 0.00035.
        assert (spec.maker_commission, spec.taker_commission) == (D("0.0001"), D("0.00035"))


def test_shipped_market_names_a_source_for_every_block_and_lists_no_cum() -> None:
    data = shipped_data()

    assert data["sources"]
    assert set(data["defaults"]["sources"]) >= {k for k in data["defaults"] if k != "sources"}
    for asset in data["assets"]:
        assert asset["source"].strip()
    for block in data["symbols"]:
        assert {"identity_and_filters", "commission_and_funding", "brackets"} <= set(
            block["sources"]
        )
        assert all(text.strip() for text in block["sources"].values())
        assert all("cum" not in tier for tier in block["brackets"]["tiers"])


def test_shipped_btc_table_allows_2_5m_at_20x_as_aster_live() -> None:
    btc = Market.load().symbol("BTCUSDT").brackets

    assert btc.max_notional(20) == D(2500000)  # the live Aster capture (FACTS.md)
    assert btc.max_leverage == 125
    assert btc.max_notional(125) == D(1250)  # Binance's 50,000 / 40


def test_shipped_truth_table_is_the_aster_capture() -> None:
    truth = Market.load().symbol("TRUTHUSDT").brackets

    assert [(b.notional_floor, b.notional_cap, b.initial_leverage) for b in truth.brackets] == [
        (D(0), D(5000), 50),
        (D(5000), D(10000), 20),
    ]
    assert [b.cum for b in truth.brackets] == [D(0), D(75)]  # as captured: 5000 × 0.015


@pytest.mark.skipif(not VECTORS.exists(), reason="shared vectors not available")
@pytest.mark.parametrize(
    ("symbol", "table", "scale"),
    [
        ("BTCUSDT", "BTCUSDT_binance_2024", 40),
        ("ETHUSDT", "ETHUSDT_binance_2024", 1),
        ("ARBUSDT", "ARBUSDT_binance_2024", 1),
        ("ASTERUSDT", "ARBUSDT_binance_2024", 1),
        ("TRUTHUSDT", "TRUTHUSDT_aster_capture_partial", 1),
    ],
)
def test_shipped_tables_are_the_sourced_ones(symbol: str, table: str, scale: int) -> None:
    rows = json.loads(VECTORS.read_text("utf-8"))["brackets"][table]
    shipped = Market.load().symbol(symbol).brackets.brackets

    assert [
        (b.notional_floor, b.notional_cap, b.initial_leverage, b.maint_margin_ratio, b.cum)
        for b in shipped
    ] == [
        (
            D(r["notionalFloor"]) / scale,
            D(r["notionalCap"]) / scale,
            r["initialLeverage"],
            D(r["maintMarginRatio"]),
            D(r["cum"]) / scale,  # cum is linear in the floors, so it scales with them
        )
        for r in rows
    ]


def test_maintenance_margin_is_continuous_at_every_shipped_floor() -> None:
    for spec in Market.load().symbols.values():
        table = spec.brackets
        for lower, upper in zip(table.brackets, table.brackets[1:], strict=False):
            at = upper.notional_floor
            assert at * lower.maint_margin_ratio - lower.cum == table.maintenance_margin(at)


def test_symbol_lookup_raises_keyerror_for_unknown_symbols() -> None:
    market = Market.load()

    assert market.symbol("BTCUSDT").symbol == "BTCUSDT"
    with pytest.raises(KeyError, match="NOPEUSDT"):
        market.symbol("NOPEUSDT")


def test_market_is_immutable() -> None:
    market = Market.load()

    with pytest.raises(TypeError):
        market.symbols["X"] = market.symbol("BTCUSDT")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        market.default_leverage = 5  # type: ignore[misc]


def test_initial_leverage_is_the_default_capped_by_the_table() -> None:
    data = shipped_data()
    symbol_block(data, "TRUTHUSDT")["brackets"]["tiers"] = [
        {
            "notional_floor": "0",
            "notional_cap": "5000",
            "initial_leverage": 10,
            "maint_margin_ratio": "0.05",
        }
    ]
    market = Market.from_dict(data)

    assert market.initial_leverage("BTCUSDT") == 20
    assert market.initial_leverage("TRUTHUSDT") == 10


def test_asset_collateral_rate_applies_the_haircut() -> None:
    market = Market.load()

    assert market.assets["USDT"].collateral_rate == D(1)
    assert market.assets["BTC"].collateral_rate == D(95000)  # 100000 × (1 − 0.05)
    assert AssetSpec("XYZ", False, D(0), D(3)).collateral_rate == D(0)


# --- loading and validating files -----------------------------------------------------------


def test_load_reads_a_file_path(tmp_path: Path) -> None:
    data = shipped_data()
    data["symbols"] = [symbol_block(data, "ETHUSDT")]
    path = tmp_path / "market.json"
    path.write_text(json.dumps(data, default=str), "utf-8")

    market = Market.load(path)

    assert list(market.symbols) == ["ETHUSDT"]


def test_load_names_the_file_and_the_entry_on_a_bad_table(tmp_path: Path) -> None:
    data = shipped_data()
    symbol_block(data, "ETHUSDT")["brackets"]["tiers"][1]["notional_floor"] = "60000"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, default=str), "utf-8")

    with pytest.raises(ValueError, match=r"broken\.json") as caught:
        Market.load(path)

    assert "symbols[ETHUSDT].brackets" in str(caught.value)
    assert "notional_floor 60000 must equal the previous notional_cap 50000" in str(caught.value)


def test_load_refuses_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "market.json"
    path.write_text("{not json", "utf-8")

    with pytest.raises(ValueError, match="not valid JSON"):
        Market.load(path)


def _mutated(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(shipped_data())
    change(data)
    return data


def _set(block: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        block(data)[key] = value

    return change


def _btc(data: dict[str, Any]) -> dict[str, Any]:
    return symbol_block(data, "BTCUSDT")


def _btc_tier0(data: dict[str, Any]) -> dict[str, Any]:
    tier: dict[str, Any] = symbol_block(data, "BTCUSDT")["brackets"]["tiers"][0]
    return tier


def _defaults(data: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = data["defaults"]
    return block


def _asset(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def block(data: dict[str, Any]) -> dict[str, Any]:
        asset: dict[str, Any] = data["assets"][index]
        return asset

    return block


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(_btc_tier0, "cum", "0"), "'cum' is derived"),
        (_set(_btc, "tick_size", 0.1), r"tick_size: expected a decimal string, got 0\.1"),
        (_set(_btc, "tick_size", "0"), r"symbols\[BTCUSDT\]\.tick_size must be > 0"),
        (_set(_btc, "tick_size", "abc"), "not a decimal number"),
        (_set(_btc, "tick_size", "NaN"), "not a finite number"),
        (_set(_btc, "tick", "0.1"), r"unknown field\(s\) tick"),
        (_set(_btc, "margin_asset", "DAI"), "margin_asset DAI is not in assets"),
        (_set(_btc, "price_precision", "1"), "expected an integer"),
        (_set(_btc, "max_qty", "0.0001"), "max_qty 0.0001 is below min_qty"),
        (_set(_btc, "multiplier_up", "0.9"), "multiplier_down < 1 < multiplier_up"),
        (_set(_btc, "taker_commission", "-0.0001"), r"must be in \[0, 1\)"),
        (_set(_defaults, "margin_call_ratio", "1.5"), r"must be in \(0, 1\]"),
        (_set(_defaults, "default_leverage", 0), "default_leverage must be >= 1"),
        (_set(_defaults, "settle_asset", "DAI"), "settle_asset DAI must be"),
        (_set(_asset(1), "haircut", "1"), r"assets\[USDC\]\.haircut must be in \[0, 1\)"),
        (_set(_asset(0), "margin_available", "yes"), "expected true or false"),
        (lambda d: d["symbols"].append(copy.deepcopy(d["symbols"][0])), "listed twice"),
        (lambda d: d.pop("symbols"), r"missing field\(s\) symbols"),
        (lambda d: d["symbols"][0].pop("brackets"), r"missing field\(s\) brackets"),
        (lambda d: d.__setitem__("assets", []), "assets must be a non-empty list"),
    ],
)
def test_from_dict_refuses_bad_files_with_a_useful_message(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Market.from_dict(_mutated(change))


def test_maker_commission_may_be_a_rebate() -> None:
    data = _mutated(_set(_btc, "maker_commission", "-0.0001"))

    assert Market.from_dict(data).symbol("BTCUSDT").maker_commission == D("-0.0001")
    assert Market.from_dict(data).symbol("ETHUSDT").maker_commission == D("0.0001")


# --- rounding to the filters ----------------------------------------------------------------


@pytest.fixture
def btc() -> SymbolSpec:
    return Market.load().symbol("BTCUSDT")  # tick 0.1, step 0.001


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("100.04", "100.0"),
        ("100.05", "100.1"),
        ("100.06", "100.1"),
        ("100.1", "100.1"),
        ("7", "7.0"),
    ],
)
def test_round_price_goes_to_the_nearest_tick_half_up(
    btc: SymbolSpec, price: str, expected: str
) -> None:
    rounded = btc.round_price(D(price))

    assert rounded == D(expected)
    assert str(rounded) == expected  # carries the tick's exponent


@pytest.mark.parametrize(
    ("qty", "expected"),
    [("0.0019", "0.001"), ("1.2345", "1.234"), ("0.0009", "0.000"), ("2", "2.000")],
)
def test_round_qty_goes_down_to_the_step(btc: SymbolSpec, qty: str, expected: str) -> None:
    rounded = btc.round_qty(D(qty))

    assert rounded == D(expected)
    assert str(rounded) == expected


def test_rounding_follows_each_symbols_own_filters() -> None:
    aster = Market.load().symbol("ASTERUSDT")  # tick 0.00010, step 0.01

    assert aster.round_price(D("1.23456")) == D("1.2346")
    assert aster.round_price(D("1.23454")) == D("1.2345")
    assert aster.round_qty(D("10.019")) == D("10.01")
