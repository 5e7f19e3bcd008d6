"""Market configuration: symbols, leverage brackets, assets — immutable, loaded from a data file.

The shipped file is ``aster_account/data/market.json``; every number in it names its source.
Operators replace it with their own (``Market.load(path)``). ``cum`` (the maintenance amount)
is never read from a file: it is derived from the floors and ratios, so a table cannot disagree
with itself.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "AssetSpec",
    "Bracket",
    "LeverageBrackets",
    "Market",
    "SymbolSpec",
    "Tier",
    "derive_cum",
]

ZERO = Decimal(0)
ONE = Decimal(1)

Tier = tuple[Decimal, Decimal, int, Decimal]
"""A bracket as configured: (notional_floor, notional_cap, initial_leverage, maint_margin_ratio)."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """One notional bracket, as ``GET /fapi/v1/leverageBracket`` reports it."""

    bracket: int
    initial_leverage: int
    notional_floor: Decimal
    notional_cap: Decimal
    maint_margin_ratio: Decimal
    cum: Decimal


def derive_cum(tiers: Sequence[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """Maintenance amounts of a bracket table from its ``(notional_floor, mmr)`` pairs.

    ``cum_1 = 0``; ``cum_n = cum_{n-1} + notionalFloor_n × (mmr_n − mmr_{n-1})``
    (Binance futures FAQ "Leverage and Margin", FACTS.md "Account math"). This is what makes
    maintenance margin continuous at every floor.
    """
    cums: list[Decimal] = []
    previous_mmr = ZERO
    for index, (floor, mmr) in enumerate(tiers):
        cums.append(ZERO if index == 0 else cums[-1] + floor * (mmr - previous_mmr))
        previous_mmr = mmr
    return cums


@dataclass(frozen=True, slots=True, init=False)
class LeverageBrackets:
    """A symbol's bracket table, validated, with ``cum`` derived.

    Built from tiers ``(notional_floor, notional_cap, initial_leverage, maint_margin_ratio)``.
    Rules (ValueError otherwise): at least one tier; the first floor is 0 and every floor equals
    the previous cap; cap > floor; leverages are ≥ 1 and non-increasing; ratios are
    non-decreasing, ≥ 0, and below the bracket's initial margin rate (mmr × leverage < 1), since a
    position opened at full leverage must not start below its maintenance margin.
    """

    brackets: tuple[Bracket, ...]
    max_leverage: int
    _floors: tuple[Decimal, ...] = field(repr=False, compare=False)

    def __init__(self, tiers: Iterable[Tier]) -> None:
        rows = list(tiers)
        if not rows:
            raise ValueError("a bracket table needs at least one tier")
        for index, (floor, cap, leverage, mmr) in enumerate(rows):
            where = f"tier {index + 1}"
            if index == 0 and floor != ZERO:
                raise ValueError(f"{where}: the first notional_floor must be 0, got {floor}")
            if index > 0:
                _, prev_cap, prev_leverage, prev_mmr = rows[index - 1]
                if floor != prev_cap:
                    raise ValueError(
                        f"{where}: notional_floor {floor} must equal the previous "
                        f"notional_cap {prev_cap} (brackets are contiguous)"
                    )
                if leverage > prev_leverage:
                    raise ValueError(
                        f"{where}: initial_leverage {leverage} is above the previous "
                        f"bracket's {prev_leverage} (leverages must not increase)"
                    )
                if mmr < prev_mmr:
                    raise ValueError(
                        f"{where}: maint_margin_ratio {mmr} is below the previous "
                        f"bracket's {prev_mmr} (ratios must not decrease)"
                    )
            if cap <= floor:
                raise ValueError(
                    f"{where}: notional_cap {cap} must be above notional_floor {floor}"
                )
            if leverage < 1:
                raise ValueError(f"{where}: initial_leverage must be at least 1, got {leverage}")
            if mmr < ZERO or mmr * leverage >= ONE:
                raise ValueError(
                    f"{where}: maint_margin_ratio {mmr} must be >= 0 and below "
                    f"1/initial_leverage = 1/{leverage}"
                )
        cums = derive_cum([(floor, mmr) for floor, _, _, mmr in rows])
        brackets = tuple(
            Bracket(
                bracket=index + 1,
                initial_leverage=leverage,
                notional_floor=floor,
                notional_cap=cap,
                maint_margin_ratio=mmr,
                cum=cum,
            )
            for index, ((floor, cap, leverage, mmr), cum) in enumerate(zip(rows, cums, strict=True))
        )
        object.__setattr__(self, "brackets", brackets)
        object.__setattr__(self, "max_leverage", brackets[0].initial_leverage)
        object.__setattr__(self, "_floors", tuple(b.notional_floor for b in brackets))

    def for_notional(self, notional: Decimal) -> Bracket:
        """The last bracket with ``notional_floor ≤ notional`` (past the last cap: the last one)."""
        if notional < ZERO:
            raise ValueError(f"notional must be >= 0, got {notional}")
        return self.brackets[bisect.bisect_right(self._floors, notional) - 1]

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        """``MM = notional × mmr_b − cum_b``, ``b = for_notional(notional)`` (FACTS.md).

        Independent of leverage. ``notional`` is ``|positionAmt| × mark`` (never negative).
        """
        bracket = self.for_notional(notional)
        return notional * bracket.maint_margin_ratio - bracket.cum

    def max_notional(self, leverage: int) -> Decimal:
        """``maxNotionalValue(L) = max(notionalCap of brackets with initialLeverage ≥ L)``.

        FACTS.md "Account math". ValueError when ``L < 1`` or ``L > max_leverage`` (Aster
        answers -4028 there).
        """
        if leverage < 1 or leverage > self.max_leverage:
            raise ValueError(
                f"leverage {leverage} is outside 1..{self.max_leverage} for this bracket table"
            )
        return max(b.notional_cap for b in self.brackets if b.initial_leverage >= leverage)


def _round_to(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    """``value`` to a multiple of ``increment``, written with the increment's decimal places."""
    steps = (value / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One perpetual contract: identity, order filters, commission, funding, brackets.

    Field meanings follow ``GET /fapi/v1/exchangeInfo``: ``PRICE_FILTER`` gives tick_size,
    min_price, max_price; ``LOT_SIZE`` step_size, min_qty, max_qty; ``MARKET_LOT_SIZE``
    market_max_qty; ``MIN_NOTIONAL`` min_notional; ``PERCENT_PRICE`` multiplier_up/down.
    """

    symbol: str
    pair: str
    base_asset: str
    quote_asset: str
    margin_asset: str
    price_precision: int
    quantity_precision: int
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    min_price: Decimal
    max_price: Decimal
    multiplier_up: Decimal
    multiplier_down: Decimal
    maker_commission: Decimal
    taker_commission: Decimal
    funding_interval_hours: int
    liquidation_fee: Decimal
    onboard_date: int
    brackets: LeverageBrackets

    def round_price(self, p: Decimal) -> Decimal:
        """``p`` to the nearest multiple of ``tick_size``, ties away from zero (ROUND_HALF_UP).

        A price is a target, not an amount of anything: the nearest tick is the least surprising
        correction, and neither direction favours one side of the book.
        """
        return _round_to(p, self.tick_size, ROUND_HALF_UP)

    def round_qty(self, q: Decimal) -> Decimal:
        """``q`` down to a multiple of ``step_size`` (ROUND_DOWN, towards zero).

        Rounding a quantity up would open more than was asked for (and could need more margin
        than was checked) or close more than the position holds; down never does either.
        """
        return _round_to(q, self.step_size, ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """A wallet asset; in multi-assets mode it counts as margin at ``index × (1 − haircut)``."""

    asset: str
    margin_available: bool
    haircut: Decimal
    index_price: Decimal
    """Price in USDT used for multi-assets valuation (USDT itself: 1)."""

    @property
    def collateral_rate(self) -> Decimal:
        """USDT value of one unit as margin: ``index_price × (1 − haircut)``; 0 if not margin."""
        if not self.margin_available:
            return ZERO
        return self.index_price * (ONE - self.haircut)


@dataclass(frozen=True, slots=True)
class Market:
    """The immutable market configuration the account engine reads."""

    symbols: Mapping[str, SymbolSpec]
    assets: Mapping[str, AssetSpec]
    default_leverage: int = 20
    margin_call_ratio: Decimal = Decimal("0.8")
    settle_asset: str = "USDT"
    """The asset account-level totals are expressed in (``totalWalletBalance`` & co.)."""

    @classmethod
    def load(cls, path: str | Path | None = None) -> Market:
        """Read a market file; ``None`` reads the one shipped in ``aster_account.data``.

        JSON numbers with a fraction are read as ``Decimal`` (never float).
        """
        if path is None:
            text = resources.files("aster_account.data").joinpath("market.json").read_text("utf-8")
            origin = "aster_account/data/market.json"
        else:
            text = Path(path).read_text("utf-8")
            origin = str(path)
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{origin}: not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{origin}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Market:
        """Build and validate a market from the data file's structure.

        Top level: ``defaults`` (``default_leverage``, ``margin_call_ratio``, ``settle_asset``,
        ``maker_commission``, ``taker_commission``, ``funding_interval_hours``), ``assets``
        (list), ``symbols`` (list).
        Decimals are strings or integers (floats are refused: money never passes through a
        float). ``source`` / ``sources`` / ``note`` entries are documentation and are ignored.
        A symbol's ``brackets`` is ``{"tiers": [{notional_floor, notional_cap, initial_leverage,
        maint_margin_ratio}, ...]}``; ``cum`` is refused because it is derived.
        Raises ValueError naming the offending entry.
        """
        data = _mapping(data, "market")
        _check_keys(data, "market", {"defaults", "assets", "symbols"}, {"defaults"})
        defaults = _mapping(data.get("defaults", {}), "defaults")
        _check_keys(
            defaults,
            "defaults",
            set(),
            {
                "default_leverage",
                "margin_call_ratio",
                "maker_commission",
                "taker_commission",
                "funding_interval_hours",
                "settle_asset",
            },
        )
        default_leverage = _int(defaults.get("default_leverage", 20), "defaults.default_leverage")
        if default_leverage < 1:
            raise ValueError(f"defaults.default_leverage must be >= 1, got {default_leverage}")
        margin_call_ratio = _decimal(
            defaults.get("margin_call_ratio", "0.8"), "defaults.margin_call_ratio"
        )
        if not ZERO < margin_call_ratio <= ONE:
            raise ValueError(
                f"defaults.margin_call_ratio must be in (0, 1], got {margin_call_ratio}"
            )

        assets = _parse_assets(data["assets"])
        symbols: dict[str, SymbolSpec] = {}
        raw_symbols = data["symbols"]
        if not isinstance(raw_symbols, list) or not raw_symbols:
            raise ValueError("symbols must be a non-empty list")
        for index, raw in enumerate(raw_symbols):
            spec = _parse_symbol(raw, index, defaults)
            if spec.symbol in symbols:
                raise ValueError(f"symbols: {spec.symbol} is listed twice")
            margin = assets.get(spec.margin_asset)
            if margin is None:
                raise ValueError(
                    f"symbols[{spec.symbol}]: margin_asset {spec.margin_asset} is not in assets"
                )
            symbols[spec.symbol] = spec
        settle_asset = _str(defaults.get("settle_asset", "USDT"), "defaults.settle_asset")
        settle = assets.get(settle_asset)
        if settle is None or not settle.margin_available:
            raise ValueError(
                f"defaults.settle_asset {settle_asset} must be a margin-available asset in assets"
            )
        return cls(
            symbols=MappingProxyType(symbols),
            assets=MappingProxyType(assets),
            default_leverage=default_leverage,
            margin_call_ratio=margin_call_ratio,
            settle_asset=settle_asset,
        )

    def symbol(self, name: str) -> SymbolSpec:
        """The symbol's spec; KeyError if the market does not list it (Aster: -1121)."""
        try:
            return self.symbols[name]
        except KeyError:
            raise KeyError(f"unknown symbol {name!r}") from None

    def initial_leverage(self, name: str) -> int:
        """Leverage a symbol starts at: ``min(default_leverage, max_leverage)``."""
        return min(self.default_leverage, self.symbol(name).brackets.max_leverage)


# --- parsing helpers (data file -> typed values, every error names its location) ---------------

_DOC_KEYS = frozenset({"source", "sources", "note", "notes", "about"})


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an object, got {type(value).__name__}")
    return value


def _check_keys(
    block: Mapping[str, Any], where: str, required: set[str], optional: set[str]
) -> None:
    missing = sorted(required - block.keys())
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(block.keys()) - required - optional - _DOC_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError(f"{where}: expected a decimal string, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{where}: {value!r} is not a decimal number") from None
    else:
        raise ValueError(f"{where}: expected a decimal string, got {value!r}")
    if not result.is_finite():
        raise ValueError(f"{where}: {value!r} is not a finite number")
    return result


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _parse_assets(raw_assets: object) -> dict[str, AssetSpec]:
    if not isinstance(raw_assets, list) or not raw_assets:
        raise ValueError("assets must be a non-empty list")
    assets: dict[str, AssetSpec] = {}
    for index, raw_asset in enumerate(raw_assets):
        where = f"assets[{index}]"
        raw = _mapping(raw_asset, where)
        _check_keys(raw, where, {"asset", "margin_available", "haircut", "index_price"}, set())
        name = _str(raw["asset"], f"{where}.asset")
        where = f"assets[{name}]"
        available = raw["margin_available"]
        if not isinstance(available, bool):
            raise ValueError(f"{where}.margin_available: expected true or false")
        haircut = _decimal(raw["haircut"], f"{where}.haircut")
        if not ZERO <= haircut < ONE:
            raise ValueError(f"{where}.haircut must be in [0, 1), got {haircut}")
        index_price = _decimal(raw["index_price"], f"{where}.index_price")
        if index_price <= ZERO:
            raise ValueError(f"{where}.index_price must be > 0, got {index_price}")
        if name in assets:
            raise ValueError(f"assets: {name} is listed twice")
        assets[name] = AssetSpec(name, available, haircut, index_price)
    return assets


_TIER_KEYS = {"notional_floor", "notional_cap", "initial_leverage", "maint_margin_ratio"}


def _parse_brackets(raw_brackets: object, where: str) -> LeverageBrackets:
    raw = _mapping(raw_brackets, where)
    _check_keys(raw, where, {"tiers"}, set())
    raw_tiers = raw["tiers"]
    if not isinstance(raw_tiers, list):
        raise ValueError(f"{where}.tiers must be a list")
    tiers: list[Tier] = []
    for index, raw_tier in enumerate(raw_tiers):
        at = f"{where}.tiers[{index}]"
        tier = _mapping(raw_tier, at)
        if "cum" in tier:
            raise ValueError(f"{at}: 'cum' is derived from floors and ratios; remove it")
        _check_keys(tier, at, _TIER_KEYS, set())
        tiers.append(
            (
                _decimal(tier["notional_floor"], f"{at}.notional_floor"),
                _decimal(tier["notional_cap"], f"{at}.notional_cap"),
                _int(tier["initial_leverage"], f"{at}.initial_leverage"),
                _decimal(tier["maint_margin_ratio"], f"{at}.maint_margin_ratio"),
            )
        )
    try:
        return LeverageBrackets(tiers)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


_SYMBOL_REQUIRED = {
    "symbol",
    "pair",
    "base_asset",
    "quote_asset",
    "margin_asset",
    "price_precision",
    "quantity_precision",
    "tick_size",
    "step_size",
    "min_qty",
    "max_qty",
    "market_max_qty",
    "min_notional",
    "min_price",
    "max_price",
    "multiplier_up",
    "multiplier_down",
    "liquidation_fee",
    "onboard_date",
    "brackets",
}
_SYMBOL_DEFAULTED = {"maker_commission", "taker_commission", "funding_interval_hours"}


def _parse_symbol(raw_symbol: object, index: int, defaults: Mapping[str, Any]) -> SymbolSpec:
    where = f"symbols[{index}]"
    raw = _mapping(raw_symbol, where)
    if isinstance(raw.get("symbol"), str):
        where = f"symbols[{raw['symbol']}]"
    _check_keys(raw, where, _SYMBOL_REQUIRED, _SYMBOL_DEFAULTED)

    def dec(name: str) -> Decimal:
        return _decimal(raw[name], f"{where}.{name}")

    def positive(name: str) -> Decimal:
        value = dec(name)
        if value <= ZERO:
            raise ValueError(f"{where}.{name} must be > 0, got {value}")
        return value

    def defaulted(name: str) -> object:
        if name in raw:
            return raw[name]
        if name in defaults:
            return defaults[name]
        raise ValueError(f"{where}: {name} is neither set nor in defaults")

    def rate(name: str, *, rebate_allowed: bool) -> Decimal:
        value = _decimal(defaulted(name), f"{where}.{name}")
        low_ok = value > -ONE if rebate_allowed else value >= ZERO
        if not low_ok or value >= ONE:
            bounds = "(-1, 1)" if rebate_allowed else "[0, 1)"
            raise ValueError(f"{where}.{name} must be in {bounds}, got {value}")
        return value

    precisions: dict[str, int] = {}
    for name in ("price_precision", "quantity_precision", "onboard_date"):
        value = _int(raw[name], f"{where}.{name}")
        if value < 0:
            raise ValueError(f"{where}.{name} must be >= 0, got {value}")
        precisions[name] = value

    min_qty, max_qty = positive("min_qty"), positive("max_qty")
    if max_qty < min_qty:
        raise ValueError(f"{where}: max_qty {max_qty} is below min_qty {min_qty}")
    min_price, max_price = positive("min_price"), positive("max_price")
    if max_price <= min_price:
        raise ValueError(f"{where}: max_price {max_price} must be above min_price {min_price}")
    multiplier_up, multiplier_down = positive("multiplier_up"), positive("multiplier_down")
    if not multiplier_down < ONE < multiplier_up:
        raise ValueError(
            f"{where}: PERCENT_PRICE needs multiplier_down < 1 < multiplier_up, "
            f"got {multiplier_down} / {multiplier_up}"
        )
    min_notional = dec("min_notional")
    if min_notional < ZERO:
        raise ValueError(f"{where}.min_notional must be >= 0, got {min_notional}")
    funding_hours = _int(defaulted("funding_interval_hours"), f"{where}.funding_interval_hours")
    if funding_hours < 1:
        raise ValueError(f"{where}.funding_interval_hours must be >= 1, got {funding_hours}")
    liquidation_fee = dec("liquidation_fee")
    if not ZERO <= liquidation_fee < ONE:
        raise ValueError(f"{where}.liquidation_fee must be in [0, 1), got {liquidation_fee}")

    return SymbolSpec(
        symbol=_str(raw["symbol"], f"{where}.symbol"),
        pair=_str(raw["pair"], f"{where}.pair"),
        base_asset=_str(raw["base_asset"], f"{where}.base_asset"),
        quote_asset=_str(raw["quote_asset"], f"{where}.quote_asset"),
        margin_asset=_str(raw["margin_asset"], f"{where}.margin_asset"),
        price_precision=precisions["price_precision"],
        quantity_precision=precisions["quantity_precision"],
        tick_size=positive("tick_size"),
        step_size=positive("step_size"),
        min_qty=min_qty,
        max_qty=max_qty,
        market_max_qty=positive("market_max_qty"),
        min_notional=min_notional,
        min_price=min_price,
        max_price=max_price,
        multiplier_up=multiplier_up,
        multiplier_down=multiplier_down,
        # Makers may earn a rebate (negative rate); takers always pay.
        maker_commission=rate("maker_commission", rebate_allowed=True),
        taker_commission=rate("taker_commission", rebate_allowed=False),
        funding_interval_hours=funding_hours,
        liquidation_fee=liquidation_fee,
        onboard_date=precisions["onboard_date"],
        brackets=_parse_brackets(raw["brackets"], f"{where}.brackets"),
    )
