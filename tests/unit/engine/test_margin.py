"""Margin functions: hand-checked examples (arithmetic beside each number) and invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aster_account.engine import margin
from aster_account.engine.margin import Leg
from aster_account.engine.market import LeverageBrackets, Market

D = Decimal

# cum: 0; 10000 × (0.025 − 0.01) = 150; 150 + 100000 × (0.05 − 0.025) = 2650;
# 2650 + 1000000 × (0.25 − 0.05) = 202650.
SMALL = LeverageBrackets(
    [
        (D(0), D(10000), 50, D("0.01")),
        (D(10000), D(100000), 20, D("0.025")),
        (D(100000), D(1000000), 10, D("0.05")),
        (D(1000000), D(5000000), 2, D("0.25")),
    ]
)
SHIPPED = Market.load()


def liq(
    wallet: Decimal | int,
    *,
    both: Leg | None = None,
    long: Leg | None = None,
    short: Leg | None = None,
    other_mm: Decimal | int = 0,
    other_upnl: Decimal | int = 0,
    brackets: LeverageBrackets = SMALL,
) -> Decimal:
    return margin.liquidation_price(
        wallet_balance=D(wallet),
        other_maint_margin=D(other_mm),
        other_unrealized_pnl=D(other_upnl),
        both=both,
        long=long,
        short=short,
        brackets=brackets,
    )


def balance_minus_maintenance(
    price: Decimal, wallet: Decimal, legs: list[Leg], brackets: LeverageBrackets
) -> Decimal:
    """Margin balance − maintenance margin at ``price`` (0 at the liquidation price)."""
    balance = wallet + sum((leg.amount * (price - leg.entry) for leg in legs), D(0))
    maintenance = sum((brackets.maintenance_margin(abs(leg.amount) * price) for leg in legs), D(0))
    return balance - maintenance


# --- position values ------------------------------------------------------------------------


def test_notional_and_unrealized_pnl_signs() -> None:
    assert margin.notional(D("-2"), D(1500)) == D(3000)
    assert margin.unrealized_pnl(D(2), D(1000), D(1100)) == D(200)  # 2 × (1100 − 1000)
    assert margin.unrealized_pnl(D(-2), D(1000), D(1100)) == D(-200)  # a short loses on a rise
    flat = margin.unrealized_pnl(D(-2), D(1000), D(1000))
    assert flat == 0
    assert str(flat) == "0"  # not "-0"


def test_initial_margin_is_notional_over_leverage() -> None:
    assert margin.initial_margin(D("9253.3"), 20) == D("462.665")
    assert margin.initial_margin(D(100), 3) == D("33.33333333333333333333333333")  # 28 digits
    with pytest.raises(ValueError, match="leverage must be at least 1"):
        margin.initial_margin(D(100), 0)


def test_open_loss_only_when_the_order_is_worse_than_the_mark() -> None:
    # buy 2 at 105 with mark 100: 2 × |min(0, +1 × (100 − 105))| = 10
    assert margin.open_loss(D(2), 1, D(100), D(105)) == D(10)
    assert margin.open_loss(D(2), 1, D(100), D(95)) == D(0)
    # sell 2 at 95 with mark 100: 2 × |min(0, −1 × (100 − 95))| = 10
    assert margin.open_loss(D(2), -1, D(100), D(95)) == D(10)
    assert str(margin.open_loss(D(2), -1, D(100), D(105))) == "0"
    with pytest.raises(ValueError, match="direction"):
        margin.open_loss(D(1), 0, D(100), D(100))


def test_order_margin_is_initial_margin_at_order_price_plus_open_loss() -> None:
    # 2 × 105 / 10 = 21, plus the open loss 10
    assert margin.order_margin(D(2), 1, D(100), D(105), 10) == D(31)
    assert margin.order_margin(D(2), 1, D(100), D(95), 10) == D(19)  # 2 × 95 / 10


# --- liquidation price ----------------------------------------------------------------------


def test_isolated_long_one_way() -> None:
    # 1 @ 1000 with 100 isolated (10x), bracket 1 (notional 1000):
    # LP = (100 + 0 − 1 × 1000) / (1 × 0.01 − 1) = −900 / −0.99 = 909.09...
    price = liq(100, both=Leg(D(1), D(1000)))

    assert price == D(-900) / D("-0.99")
    # the quotient is rounded to 28 digits, so the balance matches to about 1e-25
    assert abs(balance_minus_maintenance(price, D(100), [Leg(D(1), D(1000))], SMALL)) < D("1e-20")


def test_isolated_short_one_way() -> None:
    # −1 @ 1000 with 100: LP = (100 + 0 + 1 × 1000) / (1 × 0.01 + 1) = 1100 / 1.01 = 1089.10...
    price = liq(100, both=Leg(D(-1), D(1000)))

    assert price == D(1100) / D("1.01")


def test_long_moves_down_a_bracket_when_its_liquidation_notional_is_lower() -> None:
    # 11 @ 1000 (notional 11000, bracket 2) with 1200:
    # bracket 2: (1200 + 150 − 11000) / (11 × 0.025 − 11) = −9650 / −10.725 = 899.77
    #   -> 11 × 899.77 = 9897.4 is in bracket 1, so recompute there:
    # bracket 1: (1200 + 0 − 11000) / (11 × 0.01 − 11) = −9800 / −10.89 = 899.908...
    #   -> 9898.99 stays in bracket 1.
    price = liq(1200, both=Leg(D(11), D(1000)))

    assert price == D(-9800) / D("-10.89")
    assert SMALL.for_notional(11 * price).bracket == 1


def test_short_moves_up_a_bracket_when_its_liquidation_notional_is_higher() -> None:
    # −9 @ 1000 (notional 9000, bracket 1) with 1200:
    # bracket 1: (1200 + 0 + 9000) / (9 × 0.01 + 9) = 10200 / 9.09 = 1122.1 -> 10099, bracket 2
    # bracket 2: (1200 + 150 + 9000) / (9 × 0.025 + 9) = 10350 / 9.225 = 1121.95 -> stays
    price = liq(1200, both=Leg(D(-9), D(1000)))

    assert price == D(10350) / D("9.225")
    assert SMALL.for_notional(9 * price).bracket == 2


def test_hedge_legs_in_isolated_mode_each_have_their_own_price() -> None:
    long_price = liq(100, long=Leg(D(1), D(1000)))
    short_price = liq(100, short=Leg(D(-1), D(1000)))

    assert long_price == D(-900) / D("-0.99")
    assert short_price == D(1100) / D("1.01")


def test_cross_counts_the_other_symbols_margin_and_pnl() -> None:
    # 10 @ 1000, cross wallet 10000, other symbols: MM 500, uPnL −1000.
    # bracket 2 (entry notional 10000): (10000 − 500 − 1000 + 150 − 10000) / (0.25 − 10) = 138.46
    #   -> 1384.6 is bracket 1: (10000 − 500 − 1000 + 0 − 10000) / (0.1 − 10) = −1500 / −9.9
    price = liq(10000, both=Leg(D(10), D(1000)), other_mm=500, other_upnl=-1000)

    assert price == D(-1500) / D("-9.9")
    assert price == margin.liquidation_price_single(
        wallet_balance=D(10000),
        maint_amount_cum=D(0),
        side=1,
        position=D(10),
        entry=D(1000),
        mmr=D("0.01"),
        tmm=D(500),
        upnl=D(-1000),
    )


def test_cross_hedge_legs_share_one_price() -> None:
    # long 10 @ 1000 (notional 10000: bracket 2), short 4 @ 1100 (4400: bracket 1), wallet 2000
    # start: (2000 + 150 + 0 − 10000 + 4400) / (0.25 + 0.04 − 10 + 4) = −3450 / −5.71 = 604.2
    #   -> notionals 6042 and 2417, both bracket 1:
    # (2000 − 10000 + 4400) / (0.1 + 0.04 − 6) = −3600 / −5.86 = 614.33 -> stays
    legs = [Leg(D(10), D(1000)), Leg(D(-4), D(1100))]
    price = liq(2000, long=legs[0], short=legs[1])

    assert price == D(-3600) / D("-5.86")
    assert abs(balance_minus_maintenance(price, D(2000), legs, SMALL)) < D("1e-20")


def test_hedge_finds_a_liquidation_far_above_when_the_formula_says_below_zero() -> None:
    # long 3 @ 100, short 2 @ 500, wallet 100: balance − MM = 800 + P − MM(3P) − MM(2P).
    # In bracket 1 that rises with P (slope 1 − 5 × 0.01), so the formula gives a price < 0;
    # but in bracket 4 (ratio 0.25) it falls: 800 + P − (1.25 P − 2 × 202650) = 406100 − 0.25 P,
    # zero at P = 1,624,400 (notionals 4,873,200 and 3,248,800: both bracket 4).
    legs = [Leg(D(3), D(100)), Leg(D(-2), D(500))]
    price = liq(100, long=legs[0], short=legs[1])

    assert price == D(1624400)
    assert balance_minus_maintenance(price, D(100), legs, SMALL) == 0


def test_hedge_that_no_price_can_save_reports_zero() -> None:
    # long 16 @ 1000, short 15 @ 500, wallet 1000: 1000 − 16000 + 7500 + P − MM = −7500 + P − MM,
    # and P − MM(16P) − MM(15P) ≤ 0.69 P only reaches 7500 past P = 10870, where 16P is already
    # in bracket 2 and the ratios eat the slope: the balance is below maintenance at every price.
    assert liq(1000, long=Leg(D(16), D(1000)), short=Leg(D(-15), D(500))) == 0


def test_no_position_or_over_collateralised_long_reports_zero() -> None:
    assert liq(100) == 0
    assert liq(100, both=Leg(D(0), D(1000))) == 0
    # 1 @ 1000 fully paid (1x): (1000 − 1000) / −0.99 = 0; with more margin it would be < 0.
    assert liq(1000, both=Leg(D(1), D(1000))) == 0
    assert liq(5000, both=Leg(D(1), D(1000))) == 0


def test_legs_must_match_their_side() -> None:
    with pytest.raises(ValueError, match="LONG leg"):
        liq(100, long=Leg(D(-1), D(1000)))
    with pytest.raises(ValueError, match="SHORT leg"):
        liq(100, short=Leg(D(1), D(1000)))


def test_single_formula_edges() -> None:
    # a ratio of 1 makes the denominator 0: balance and maintenance move together
    assert (
        margin.liquidation_price_single(
            wallet_balance=D(100),
            maint_amount_cum=D(0),
            side=1,
            position=D(1),
            entry=D(1000),
            mmr=D(1),
        )
        == 0
    )
    with pytest.raises(ValueError, match="size"):
        margin.liquidation_price_single(
            wallet_balance=D(100),
            maint_amount_cum=D(0),
            side=1,
            position=D(-1),
            entry=D(1000),
            mmr=D("0.01"),
        )


amounts = st.integers(min_value=1, max_value=10**9).map(lambda n: D(n) / 1000)
prices = st.integers(min_value=1, max_value=10**8).map(lambda n: D(n) / 100)
tables = st.sampled_from(
    [SMALL, *(SHIPPED.symbol(s).brackets for s in ("BTCUSDT", "ETHUSDT", "TRUTHUSDT"))]
)


@settings(max_examples=400, deadline=None)
@given(
    amount=amounts,
    entry=prices,
    short=st.booleans(),
    leverage=st.integers(min_value=1, max_value=125),
    extra=st.integers(min_value=0, max_value=100),
    table=tables,
)
def test_isolated_margin_balance_equals_maintenance_at_the_liquidation_price(
    *,
    amount: Decimal,
    entry: Decimal,
    short: bool,
    leverage: int,
    extra: int,
    table: LeverageBrackets,
) -> None:
    # Positions up to 10^6 units at up to 10^6: notionals far past every table's last cap.
    signed = -amount if short else amount
    wallet = amount * entry / leverage * (1 + D(extra) / 100)

    price = liq(wallet, both=Leg(signed, entry), brackets=table)

    if price > 0:
        gap = balance_minus_maintenance(price, wallet, [Leg(signed, entry)], table)
        assert abs(gap) <= D("1e-12") * max(wallet, amount * price, D(1))
    else:
        # Only a long can be safe at any price: the wallet covers the whole entry value.
        assert not short
        assert wallet - amount * entry >= 0


@settings(max_examples=300, deadline=None)
@given(
    long_amount=amounts,
    short_amount=amounts,
    long_entry=prices,
    short_entry=prices,
    wallet=st.integers(min_value=0, max_value=10**9).map(D),
    table=tables,
)
def test_cross_hedge_price_is_a_root_of_the_margin_equation(
    *,
    long_amount: Decimal,
    short_amount: Decimal,
    long_entry: Decimal,
    short_entry: Decimal,
    wallet: Decimal,
    table: LeverageBrackets,
) -> None:
    legs = [Leg(long_amount, long_entry), Leg(-short_amount, short_entry)]

    price = liq(wallet, long=legs[0], short=legs[1], brackets=table)

    if price > 0:
        gap = balance_minus_maintenance(price, wallet, legs, table)
        scale = max(wallet, (long_amount + short_amount) * price, D(1))
        assert abs(gap) <= D("1e-12") * scale


# --- funding and ADL ------------------------------------------------------------------------


def test_funding_longs_pay_and_shorts_receive_when_the_rate_is_positive() -> None:
    # 3 × 2000 × 0.0001 = 0.6
    assert margin.funding_payment(D(3), D(2000), D("0.0001")) == D("-0.6")
    assert margin.funding_payment(D(-3), D(2000), D("0.0001")) == D("0.6")
    assert margin.funding_payment(D(3), D(2000), D("-0.0001")) == D("0.6")
    assert str(margin.funding_payment(D(-3), D(2000), D(0))) == "0"


def test_adl_score_parts() -> None:
    # pnlPct = 200 / 1000, marginRatio = 60 / (1000 + 200)
    assert margin.adl_score(D(1000), D(200), D(60)) == D("0.01")
    assert margin.adl_score(D(1000), D(-200), D(60)) == 0  # losing: pnlPct = 0
    assert margin.adl_pnl_ratio(D("0.5"), D(2)) == D(2)  # WB below 1 counts as 1
    assert margin.adl_margin_ratio(D(100), D(-100), D(5)) == 0  # margin balance ≤ 0


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], []),
        (["0", "-1"], [0, 0]),
        (["0.5"], [4]),
        (["0.1", "0.2", "0.3", "0.4"], [1, 2, 3, 4]),
        (["0.4", "0", "0.1", "0.3", "0.2"], [4, 0, 1, 3, 2]),
        # five positive: ceil(4 × r / 5) for r = 1..5 -> 1, 2, 3, 4, 4
        (["1", "2", "3", "4", "5"], [1, 2, 3, 4, 4]),
        # ties share the higher rank: r = 2, 2, 3 of 3 -> ceil(8/3) = 3, 3, 4
        (["0.2", "0.2", "0.9"], [3, 3, 4]),
        (["0.7", "0.7"], [4, 4]),
    ],
)
def test_adl_quantiles(scores: list[str], expected: list[int]) -> None:
    assert margin.adl_quantiles([D(s) for s in scores]) == expected


@given(st.lists(st.integers(min_value=-5, max_value=50).map(D), max_size=40))
def test_adl_quantiles_are_ordered_and_in_range(scores: list[Decimal]) -> None:
    quantiles = margin.adl_quantiles(scores)

    assert len(quantiles) == len(scores)
    for score, quantile in zip(scores, quantiles, strict=True):
        assert (quantile == 0) == (score <= 0)
        assert 0 <= quantile <= 4
    for a, qa in zip(scores, quantiles, strict=True):
        for b, qb in zip(scores, quantiles, strict=True):
            if a <= b:
                assert qa <= qb
    if any(s > 0 for s in scores):
        assert quantiles[scores.index(max(scores))] == 4


# --- balances -------------------------------------------------------------------------------


def test_available_counts_profit_and_withdrawable_does_not() -> None:
    # 1000 + 300 − 200 − 50 = 1050; withdrawable: 1000 + min(0, 300) − 200 − 50 = 750
    assert margin.available_balance(D(1000), D(300), D(200), D(50)) == D(1050)
    assert margin.max_withdraw_amount(D(1000), D(300), D(200), D(50)) == D(750)
    # losses count in both: 1000 − 300 − 200 − 50 = 450
    assert margin.available_balance(D(1000), D(-300), D(200), D(50)) == D(450)
    assert margin.max_withdraw_amount(D(1000), D(-300), D(200), D(50)) == D(450)
    # never negative
    assert margin.available_balance(D(100), D(-300), D(200), D(0)) == 0
    assert margin.max_withdraw_amount(D(100), D(-300), D(200), D(0)) == 0


def test_isolated_reducible() -> None:
    # 1 @ 1000, mark 1000, 20x, wallet 100, MM 5: min(100 − 5, 100 + 0 − 1000/20) = 50
    assert margin.isolated_reducible(D(100), D(5), D(1), D(1000), D(1000), 20) == D(50)
    # mark 1100 (profit 100), MM 5.5: min(100 − 5.5, 100 + 100 − 1100/20) = 94.5
    assert margin.isolated_reducible(D(100), D("5.5"), D(1), D(1000), D(1100), 20) == D("94.5")
    # short −1 @ 1000, mark 1040: min(95, 100 − 40 − 52) = 8
    assert margin.isolated_reducible(D(100), D(5), D(-1), D(1000), D(1040), 20) == D(8)
    # deep loss: nothing
    assert margin.isolated_reducible(D(100), D(5), D(1), D(1000), D(900), 20) == 0


def test_remaining_openable_notional() -> None:
    # min(2,500,000 − 1,000,000, 10,000 × 20) = 200,000
    assert margin.remaining_openable_notional(D(2500000), D(1000000), D(10000), 20) == D(200000)
    # the cap binds: min(2,500,000 − 2,400,000, 1,000,000) = 100,000; a short's sign is ignored
    assert margin.remaining_openable_notional(D(2500000), D(-2400000), D(50000), 20) == D(100000)
    # over the cap (after a leverage change): 0, never negative
    assert margin.remaining_openable_notional(D(2500000), D(3000000), D(50000), 20) == 0
    assert margin.remaining_openable_notional(D(2500000), D(0), D(-5), 20) == 0
