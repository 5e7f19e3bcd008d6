"""Mark prices, index prices and funding rates: the market's moving part, set by the operator or a
price feed. Time is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

HOUR_MS = 3_600_000


@dataclass(slots=True)
class MarkPrice:
    symbol: str
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal
    next_funding_time: int
    time: int
    interest_rate: Decimal = Decimal("0.0001")


def next_funding_time(now_ms: int, interval_hours: int) -> int:
    """The next funding settlement strictly after `now_ms`, on the UTC grid of the interval."""
    step = interval_hours * HOUR_MS
    return (now_ms // step + 1) * step


Marks = dict[str, MarkPrice]
