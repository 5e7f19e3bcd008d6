"""How figures are rounded for display: the engine keeps exact values, replies show these.

Money (balances, margins, PnL) has 8 decimals like Aster's replies; what a user may take out
(available balance, max withdraw) rounds down so that the shown amount is always accepted.
Amounts show the symbol's quantity precision; prices at most 8 decimals without trailing zeros.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from aster_account.engine.market import SymbolSpec

EIGHT = Decimal("0.00000001")


def show_money(value: Decimal) -> Decimal:
    return value.quantize(EIGHT, rounding=ROUND_HALF_UP)


def show_money_down(value: Decimal) -> Decimal:
    return value.quantize(EIGHT, rounding=ROUND_DOWN)


def show_price(value: Decimal) -> Decimal:
    if value == 0:
        return Decimal(0)
    return value.quantize(EIGHT, rounding=ROUND_HALF_UP).normalize()


def show_amount(value: Decimal, spec: SymbolSpec) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-spec.quantity_precision), rounding=ROUND_HALF_UP)


def show_liquidation_price(value: Decimal, spec: SymbolSpec) -> Decimal:
    """FACTS.md: a liquidation price at or below zero reports "0"."""
    if value <= 0:
        return Decimal(0)
    return value.quantize(Decimal(1).scaleb(-spec.price_precision), rounding=ROUND_HALF_UP)
