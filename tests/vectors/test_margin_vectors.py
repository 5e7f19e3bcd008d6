"""Every worked example in shared/vectors/margin.json, with exact Decimal equality.

Float inputs in the file are read through ``repr`` (the shortest string that round-trips), so
``1535443.01`` is ``Decimal("1535443.01")``, not the binary float's expansion. Results are
quantized only where a vector says ``round``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from aster_account.engine import margin
from aster_account.engine.market import LeverageBrackets, derive_cum

VECTORS_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors" / "margin.json"

if not VECTORS_PATH.exists():
    pytest.skip(f"published vectors not found at {VECTORS_PATH}", allow_module_level=True)

DATA: dict[str, Any] = json.loads(VECTORS_PATH.read_text("utf-8"))
# The table the FAQ-derived vectors (cum derivation, 500k maintenance, max notional) are built on.
BTC_BINANCE = "BTCUSDT_binance_capture_pre2023"


def dec(value: object) -> Decimal:
    """A vector number as Decimal: strings and ints as written, floats through their repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def table(name: str) -> LeverageBrackets:
    return LeverageBrackets(
        (
            dec(row["notionalFloor"]),
            dec(row["notionalCap"]),
            int(row["initialLeverage"]),
            dec(row["maintMarginRatio"]),
        )
        for row in DATA["brackets"][name]
    )


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# --- one checker per vector kind ------------------------------------------------------------


def check_cum(vector: dict[str, Any]) -> None:
    tiers = [
        (dec(t["notionalFloor"]), dec(t["maintMarginRatio"])) for t in vector["input"]["brackets"]
    ]

    cums = derive_cum(tiers)

    assert cums == [dec(c) for c in vector["expected"]["cum"]]


def check_maint_margin(vector: dict[str, Any]) -> None:
    brackets = table(BTC_BINANCE)
    amount = dec(vector["input"]["notional"])
    expected = vector["expected"]

    if vector["id"] == "maint_margin_continuity":
        # At the 50,000 floor both tiers give the same margin because of cum:
        # 50000 × 0.004 − 0 = 200 and 50000 × 0.005 − 50 = 200.
        tier1, tier2 = brackets.brackets[0], brackets.brackets[1]
        assert amount * tier1.maint_margin_ratio - tier1.cum == dec(expected["mm_tier1"])
        assert amount * tier2.maint_margin_ratio - tier2.cum == dec(expected["mm_tier2"])
        assert brackets.maintenance_margin(amount) == dec(expected["mm_tier2"])
        return

    bracket = brackets.for_notional(amount)
    assert bracket.maint_margin_ratio == dec(expected["maintMarginRatio"])
    assert bracket.cum == dec(expected["cum"])
    # 500000 × 0.01 − 1300 = 3700
    assert brackets.maintenance_margin(amount) == dec(expected["maintMargin"])


def check_max_notional(vector: dict[str, Any]) -> None:
    brackets = table(BTC_BINANCE)
    leverages = vector["input"]["leverages"]

    got = [brackets.max_notional(int(lev)) for lev in leverages]

    assert got == [dec(v) for v in vector["expected"]["maxNotionalValue"]]


def check_liquidation_price(vector: dict[str, Any]) -> None:
    given = vector["input"]
    expected = vector["expected"]

    for other in given.get("other_positions", []):
        # The cross vectors' TMM and UPNL are the other position's MM and uPnL at its mark.
        amt, mark = dec(other["position"]), dec(other["mark"])
        mm = margin.notional(amt, mark) * dec(other["mmr"]) - dec(other["cum"])
        assert mm == dec(given["tmm"])
        assert margin.unrealized_pnl(amt, dec(other["entry"]), mark) == dec(given["upnl"])

    price = margin.liquidation_price_single(
        wallet_balance=dec(given["wb"]),
        maint_amount_cum=dec(given["cum"]),
        side=int(given["side"]),
        position=dec(given["position"]),
        entry=dec(given["entry"]),
        mmr=dec(given["mmr"]),
        tmm=dec(given["tmm"]),
        upnl=dec(given["upnl"]),
    )

    assert rounded(price, int(expected["round"])) == dec(expected["liquidationPrice"])


def check_initial_margin(vector: dict[str, Any]) -> None:
    given, expected = vector["input"], vector["expected"]
    qty, price, mark = dec(given["qty"]), dec(given["orderPrice"]), dec(given["mark"])
    leverage = int(given["leverage"])

    im = margin.initial_margin(qty * price, leverage)

    assert im == dec(expected["initialMargin"])  # 1 × 9253.3 / 20 = 462.665
    # The FAQ shows 462.66: truncation to cents reproduces it (half-up would give 462.67).
    assert im.quantize(Decimal("0.01"), rounding=ROUND_DOWN) == dec(
        expected["initialMargin_displayed"]
    )
    # A buy at 9253.3 under a mark of 9259.84 books no loss; a sell there loses 6.54.
    assert margin.open_loss(qty, 1, mark, price) == dec(expected["openLoss_long"])
    assert margin.open_loss(qty, -1, mark, price) == dec(expected["openLoss_short"])
    assert margin.order_margin(qty, -1, mark, price, leverage) == im + dec(
        expected["openLoss_short"]
    )


def check_funding(vector: dict[str, Any]) -> None:
    cases = vector["input"]["cases"]
    incomes = vector["expected"]["income"]
    assert len(cases) == len(incomes)

    for case, income in zip(cases, incomes, strict=True):
        size, mark, rate = dec(case["size"]), dec(case["mark"]), dec(case["rate"])
        # The vector's income is the SHORT's: it receives size × mark × rate when rate > 0.
        assert case["side"] == "SHORT"
        assert margin.funding_payment(-size, mark, rate) == dec(income)
        # ... and the long on the other side pays exactly that.
        assert margin.funding_payment(size, mark, rate) == -dec(income)


def check_adl(vector: dict[str, Any]) -> None:
    given, expected = vector["input"], vector["expected"]
    wb, upnl, mm = (
        dec(given["walletBalance"]),
        dec(given["unrealizedProfit"]),
        dec(given["maintMargin"]),
    )

    assert margin.adl_pnl_ratio(wb, upnl) == dec(expected["pnlPct"])  # 200 / 1000
    assert margin.adl_margin_ratio(wb, upnl, mm) == dec(expected["marginRatio"])  # 60 / 1200
    assert margin.adl_score(wb, upnl, mm) == dec(expected["leveragePnl"])  # 0.2 × 0.05


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "cum": check_cum,
    "maint_margin": check_maint_margin,
    "max_notional": check_max_notional,
    "liquidation_price": check_liquidation_price,
    "initial_margin": check_initial_margin,
    "funding": check_funding,
    "adl": check_adl,
}


@pytest.mark.parametrize("vector", DATA["vectors"], ids=[v["id"] for v in DATA["vectors"]])
def test_vector(vector: dict[str, Any]) -> None:
    # A vector of a kind nobody checks fails here rather than passing unnoticed.
    assert vector["kind"] in CHECKS, f"no check for vector kind {vector['kind']!r}"
    CHECKS[vector["kind"]](vector)


@pytest.mark.parametrize("name", sorted(DATA["brackets"]))
def test_bracket_table_derives_the_cum_it_lists(name: str) -> None:
    rows = DATA["brackets"][name]

    brackets = table(name)  # also validates the table (contiguous, monotone)

    assert [b.cum for b in brackets.brackets] == [dec(row["cum"]) for row in rows]
    assert [b.bracket for b in brackets.brackets] == [int(row["bracket"]) for row in rows]
