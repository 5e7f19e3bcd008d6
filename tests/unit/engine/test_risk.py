"""Risk: liquidation at the bankruptcy price (cross one-way, isolated, hedge), force orders,
INSURANCE_CLEAR, ADL when the insurance fund cannot pay, funding, margin calls; and the stream
events operations and risk produce (ACCOUNT_UPDATE reasons, ACCOUNT_CONFIG_UPDATE `ac` / `ai`,
ORDER_TRADE_UPDATE).

Market: the shipped file (BTCUSDT bracket 2 1250-15000 / 0.005 / cum 1.25; taker 0.00035;
default leverage 20; margin call ratio 0.8; insurance fund 1,000,000 USDT unless set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from enginekit import (
    BOTH,
    BUY,
    LONG,
    MARKET,
    NOW,
    SELL,
    SHORT,
    T0,
    D,
    funded,
    incomes,
    limit,
    market,
    move_margin,
    set_isolated,
    transfer,
)

from aster_account.engine import account as ops
from aster_account.engine import views
from aster_account.engine.context import Outcome
from aster_account.engine.ledger import ForceOrderRecord
from aster_account.engine.state import Account
from aster_account.engine.venue import DEFAULT_INSURANCE_FUND, Venue
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    MarginType,
    PositionMarginChange,
    TransferKind,
)
from aster_account.protocol.models import (
    AccountConfigUpdate,
    AccountUpdate,
    MarginCall,
    OrderTradeUpdate,
)
from aster_account.protocol.wire import to_wire


def wires(out: Outcome | None, kind: type) -> list[dict[str, Any]]:
    return [] if out is None else [to_wire(e) for e in out.events if isinstance(e, kind)]


def force_orders(v: Venue, acct: Account) -> list[ForceOrderRecord]:
    return [r for r in v.ledger.force_orders if r.account_id == acct.account_id]


def cross_long(v: Venue) -> Account:
    """1000 USDT, long 0.1 BTC at 50000 cross 20x: wallet 1000 − 1.75 = 998.25.

    Liquidation price: (998.25 + 1.25 − 0.1 × 50000) / (0.1 × 0.005 − 0.1) = 40206.03.
    """
    acct = funded(v)
    market(v, acct, BUY, "0.1")
    return acct


# --- liquidation -----------------------------------------------------------------------------


def test_cross_position_survives_just_above_the_liquidation_price(venue: Venue) -> None:
    acct = cross_long(venue)

    # margin balance 998.25 + 0.1 × (40210 − 50000) = 19.25 > MM 4021 × 0.005 − 1.25 = 18.855
    venue.set_mark("BTCUSDT", D(40210), NOW)

    assert acct.positions[("BTCUSDT", BOTH)].amount == D("0.1")
    assert force_orders(venue, acct) == []


def test_cross_liquidation_closes_at_the_bankruptcy_price(venue: Venue) -> None:
    acct = cross_long(venue)
    limit(venue, acct, BUY, "0.01", "30000")  # cancelled with the position

    # margin balance 998.25 + 0.1 × (40200 − 50000) = 18.25 ≤ MM 4020 × 0.005 − 1.25 = 18.85
    results = venue.set_mark("BTCUSDT", D(40200), NOW)

    # bankruptcy price = 40200 − 18.25 / 0.1 = 40017.5: the loss takes the whole wallet
    assert acct.open_positions() == []
    assert acct.orders == {}
    assert acct.wallet("USDT") == 0
    [pnl] = incomes(venue, acct, IncomeType.REALIZED_PNL)
    assert pnl.income == D("-998.25")  # 0.1 × (40017.5 − 50000)
    assert len(incomes(venue, acct, IncomeType.COMMISSION)) == 1  # only the opening trade
    [force] = force_orders(venue, acct)
    assert force.client_order_id.startswith("autoclose-")
    assert (
        force.auto_close_type,
        force.side,
        force.position_side,
        force.price,
        force.quantity,
    ) == (AutoCloseType.LIQUIDATION, SELL, BOTH, D("40017.5"), D("0.1"))
    assert venue.fund("USDT") == DEFAULT_INSURANCE_FUND + D("18.25")  # the remaining margin
    assert venue.wallet_equals_ledger(acct.account_id)
    trade, cancel = wires(results[acct.account_id], OrderTradeUpdate)[-2:]
    assert {k: trade["o"][k] for k in ("c", "o", "x", "X", "S", "L", "R")} == {
        "c": force.client_order_id,
        "o": "LIQUIDATION",
        "x": "CALCULATED",
        "X": "FILLED",
        "S": "SELL",
        "L": "40017.5",
        "R": True,
    }
    assert (cancel["o"]["x"], cancel["o"]["X"]) == ("CANCELED", "CANCELED")


def test_cross_liquidation_cancels_every_cross_order(venue: Venue) -> None:
    acct = cross_long(venue)
    limit(venue, acct, BUY, "1", "2900", symbol="ETHUSDT")  # reserves 2900 / 20 = 145

    venue.set_mark("BTCUSDT", D(39000), NOW)  # the cross wallet goes to 0

    assert acct.orders == {}
    venue.set_mark("ETHUSDT", D(2890), NOW + 1)  # would fill the order with no margin
    assert acct.position("ETHUSDT", BOTH).realized == 0  # never opened
    assert incomes(venue, acct, IncomeType.COMMISSION)[-1].symbol == "BTCUSDT"


def test_force_order_view(venue: Venue) -> None:
    acct = cross_long(venue)
    venue.set_mark("BTCUSDT", D(40200), NOW)
    [force] = force_orders(venue, acct)

    row = to_wire(views.force_order(force, MARKET.symbol("BTCUSDT")))

    assert {
        k: row[k]
        for k in (
            "clientOrderId",
            "status",
            "type",
            "timeInForce",
            "side",
            "price",
            "avgPrice",
            "origQty",
            "executedQty",
            "cumQuote",
        )
    } == {
        "clientOrderId": force.client_order_id,
        "status": "FILLED",
        "type": "LIMIT",
        "timeInForce": "IOC",
        "side": "SELL",
        "price": "40017.5",
        "avgPrice": "40017.5",
        "origQty": "0.100",
        "executedQty": "0.100",
        "cumQuote": "4001.75000000",  # 0.1 × 40017.5
    }


def test_isolated_liquidation_takes_only_the_isolated_wallet(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "BTCUSDT", 10)
    market(venue, acct, SELL, "0.1")  # iw 500, wallet 998.25, cross 498.25
    market(venue, acct, BUY, "1", symbol="ETHUSDT")  # cross, fee 1.05: wallet 997.2

    # 54738: balance 500 − 473.8 = 26.2 > MM 5473.8 × 0.005 − 1.25 = 26.119
    venue.set_mark("BTCUSDT", D(54738), NOW)
    assert acct.positions[("BTCUSDT", BOTH)].amount == D("-0.1")
    # 54739: balance 500 − 473.9 = 26.1 ≤ MM 26.1195
    venue.set_mark("BTCUSDT", D(54739), NOW)

    # bankruptcy price = 54739 − 26.1 / (−0.1) = 55000; realized −0.1 × 5000 = −500 = −iw
    [force] = force_orders(venue, acct)
    assert (force.price, force.side) == (D(55000), BUY)
    assert acct.position("BTCUSDT", BOTH).amount == 0
    assert acct.wallet("USDT") == D("497.2")  # 997.2 − 500: the cross wallet is untouched
    assert acct.positions[("ETHUSDT", BOTH)].amount == 1
    assert venue.fund("USDT") == DEFAULT_INSURANCE_FUND + D("26.1")
    assert venue.wallet_equals_ledger(acct.account_id)


def test_hedge_liquidation_closes_both_legs_sharing_the_margin(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)
    venue.set_mark("BTCUSDT", D(51000), NOW)
    market(venue, acct, SELL, "0.04", position_side=SHORT)  # wallet 1000 − 1.75 − 0.714

    # M = 997.536 + 0.1 × (33000 − 50000) − 0.04 × (33000 − 51000) = 17.536
    # MM = (3300 × 0.005 − 1.25) + (1320 × 0.005 − 1.25) = 20.6 ≥ M
    venue.set_mark("BTCUSDT", D(33000), NOW)

    # shares of the notional: 3300 / 4620 = 5/7 and 1320 / 4620 = 2/7
    # LONG:  33000 − 17.536 × 5/7 / 0.1    = 32874.74285714
    # SHORT: 33000 − 17.536 × 2/7 / −0.04  = 33125.25714286
    long_force, short_force = force_orders(venue, acct)
    assert (long_force.position_side, long_force.side, long_force.price) == (
        LONG,
        SELL,
        D("32874.74285714"),
    )
    assert (short_force.position_side, short_force.side, short_force.price) == (
        SHORT,
        BUY,
        D("33125.25714286"),
    )
    assert acct.open_positions() == []
    assert acct.wallet("USDT") == 0
    assert venue.wallet_equals_ledger(acct.account_id)


def test_cross_liquidation_leaves_isolated_positions_alone(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "ETHUSDT", 10)
    market(venue, acct, BUY, "1", symbol="ETHUSDT")  # iw 300, fee 1.05
    market(venue, acct, BUY, "0.1")  # cross, fee 1.75: cross wallet 1000 − 2.8 − 300 = 697.2

    venue.set_mark("BTCUSDT", D(40000), NOW)  # 697.2 − 1000 < 0: cross is liquidated

    assert acct.position("BTCUSDT", BOTH).amount == 0
    assert acct.positions[("ETHUSDT", BOTH)].isolated_wallet == D(300)
    assert acct.wallet("USDT") == D(300)  # only the isolated wallet is left
    assert venue.wallet_equals_ledger(acct.account_id)


def test_insurance_clear_when_rounding_would_leave_the_wallet_negative(venue: Venue) -> None:
    # Two cross positions: each bankruptcy price is rounded to 8 decimals and each realized PnL
    # to 8 decimals, which here takes 1e-8 more than the wallet holds.
    acct = funded(venue, "301.13")
    market(venue, acct, BUY, "0.07")
    market(venue, acct, BUY, "0.7", symbol="ETHUSDT")
    venue.set_mark("ETHUSDT", D("2911.11"), NOW)

    results = venue.set_mark("BTCUSDT", D("45000.3"), NOW)

    [clear] = incomes(venue, acct, IncomeType.INSURANCE_CLEAR)
    assert clear.income == D("0.00000001")
    assert acct.wallet("USDT") == 0
    assert acct.open_positions() == []
    [event] = [
        w
        for w in wires(results[acct.account_id], AccountUpdate)
        if w["a"]["m"] == "INSURANCE_CLEAR"
    ]
    assert event["a"]["B"] == [
        {"a": "USDT", "wb": "0.00000000", "cw": "0.00000000", "bc": "0.00000001"}
    ]
    assert venue.wallet_equals_ledger(acct.account_id)


def test_insurance_fund_pays_a_gap(venue: Venue) -> None:
    acct = cross_long(venue)
    winner = funded(venue, "10000")
    market(venue, winner, SELL, "0.1")

    # a gap to 39000: M = 998.25 − 1100 = −101.75, bankruptcy = 39000 + 1017.5 = 40017.5
    venue.set_mark("BTCUSDT", D(39000), NOW)

    assert venue.fund("USDT") == DEFAULT_INSURANCE_FUND - D("101.75")
    assert force_orders(venue, acct)[0].price == D("40017.5")
    assert force_orders(venue, winner) == []  # no ADL while the fund can pay
    assert winner.positions[("BTCUSDT", BOTH)].amount == D("-0.1")


def test_adl_when_the_insurance_fund_cannot_pay(venue: Venue) -> None:
    acct = cross_long(venue)
    rich = funded(venue, "100000")
    lean = funded(venue, "2000")
    market(venue, rich, SELL, "0.1")
    market(venue, lean, SELL, "0.1")  # same profit, higher score: pnl% × MM / margin balance
    venue.insurance_fund["USDT"] = D(0)

    results = venue.set_mark("BTCUSDT", D(39000), NOW)

    # the bankrupt long's 0.1 is taken from the top-ranked short at the bankruptcy price
    [adl] = force_orders(venue, lean)
    assert (adl.client_order_id, adl.auto_close_type, adl.side, adl.price, adl.quantity) == (
        "adl_autoclose",
        AutoCloseType.ADL,
        BUY,
        D("40017.5"),
        D("0.1"),
    )
    assert lean.open_positions() == []
    [pnl] = incomes(venue, lean, IncomeType.REALIZED_PNL)
    assert pnl.income == D("998.25")  # 0.1 × (50000 − 40017.5)
    assert force_orders(venue, rich) == []
    assert rich.positions[("BTCUSDT", BOTH)].amount == D("-0.1")
    assert venue.fund("USDT") == 0
    [trade] = [w for w in wires(results[lean.account_id], OrderTradeUpdate)]
    assert (trade["o"]["c"], trade["o"]["x"], trade["o"]["X"]) == (
        "adl_autoclose",
        "CALCULATED",
        "FILLED",
    )
    row = to_wire(views.force_order(adl, MARKET.symbol("BTCUSDT")))
    assert (row["clientOrderId"], row["timeInForce"]) == ("adl_autoclose", "GTC")
    for a in (acct, rich, lean):
        assert venue.wallet_equals_ledger(a.account_id)


def test_adl_spreads_over_counterparties_when_one_is_too_small(venue: Venue) -> None:
    bankrupt = cross_long(venue)
    first = funded(venue, "2000")
    second = funded(venue, "100000")
    market(venue, first, SELL, "0.06")
    market(venue, second, SELL, "0.1")
    venue.insurance_fund["USDT"] = D(0)

    venue.set_mark("BTCUSDT", D(39000), NOW)

    assert [f.quantity for f in force_orders(venue, first)] == [D("0.06")]
    assert [f.quantity for f in force_orders(venue, second)] == [D("0.04")]  # 0.1 − 0.06
    assert second.positions[("BTCUSDT", BOTH)].amount == D("-0.06")
    assert [f.auto_close_type for f in force_orders(venue, bankrupt)] == [AutoCloseType.LIQUIDATION]


# --- funding ---------------------------------------------------------------------------------


def test_funding_longs_pay_shorts_receive(venue: Venue) -> None:
    payer = cross_long(venue)
    receiver = funded(venue)
    market(venue, receiver, SELL, "0.1")
    venue.set_mark("BTCUSDT", D(51000), NOW, funding_rate=D("0.0001"))

    results = venue.settle_funding("BTCUSDT", NOW)

    # fee = 0.1 × 51000 × 0.0001 = 0.51
    [paid] = incomes(venue, payer, IncomeType.FUNDING_FEE)
    [got] = incomes(venue, receiver, IncomeType.FUNDING_FEE)
    assert (paid.income, paid.symbol) == (D("-0.51"), "BTCUSDT")
    assert got.income == D("0.51")
    assert payer.wallet("USDT") == D("997.74")  # 998.25 − 0.51
    [event] = wires(results[payer.account_id], AccountUpdate)
    assert event["a"] == {
        "m": "FUNDING_FEE",
        "B": [{"a": "USDT", "wb": "997.74000000", "cw": "997.74000000", "bc": "-0.51000000"}],
        "P": [],  # cross: B only
    }
    assert venue.wallet_equals_ledger(payer.account_id)
    assert venue.wallet_equals_ledger(receiver.account_id)


def test_funding_negative_rate_pays_longs(venue: Venue) -> None:
    acct = cross_long(venue)
    venue.set_mark("BTCUSDT", D(50000), NOW, funding_rate=D("-0.0003"))

    venue.settle_funding("BTCUSDT", NOW)

    [fee] = incomes(venue, acct, IncomeType.FUNDING_FEE)
    assert fee.income == D("1.5")  # −(0.1 × 50000 × −0.0003)


def test_funding_of_an_isolated_position_moves_its_wallet(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "BTCUSDT", 10)
    market(venue, acct, BUY, "0.1")  # iw 500, wallet 998.25

    results = venue.settle_funding("BTCUSDT", NOW)  # rate 0.0001: fee 0.1 × 50000 × 0.0001

    assert acct.positions[("BTCUSDT", BOTH)].isolated_wallet == D("499.5")  # 500 − 0.5
    assert acct.wallet("USDT") == D("997.75")
    [event] = wires(results[acct.account_id], AccountUpdate)
    assert event["a"]["m"] == "FUNDING_FEE"
    assert event["a"]["B"] == [
        {"a": "USDT", "wb": "997.75000000", "cw": "498.25000000", "bc": "-0.50000000"}
    ]  # the cross wallet does not move
    [position] = event["a"]["P"]
    assert (position["s"], position["mt"], position["iw"]) == (
        "BTCUSDT",
        "isolated",
        "499.50000000",
    )
    assert venue.wallet_equals_ledger(acct.account_id)


def test_funding_of_hedge_cross_legs_is_one_balance_event(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)
    market(venue, acct, SELL, "0.04", position_side=SHORT)

    results = venue.settle_funding("BTCUSDT", NOW)

    # LONG pays 0.1 × 50000 × 0.0001 = 0.5, SHORT receives 0.04 × 50000 × 0.0001 = 0.2
    assert sorted(r.income for r in incomes(venue, acct, IncomeType.FUNDING_FEE)) == [
        D("-0.5"),
        D("0.2"),
    ]
    [event] = wires(results[acct.account_id], AccountUpdate)
    assert event["a"]["B"][0]["bc"] == "-0.30000000"
    assert event["a"]["P"] == []


def test_funding_skips_other_symbols_and_moves_the_next_funding_time(venue: Venue) -> None:
    acct = cross_long(venue)
    before = venue.marks["ETHUSDT"].next_funding_time

    results = venue.settle_funding("ETHUSDT", before)

    assert results == {}
    assert incomes(venue, acct, IncomeType.FUNDING_FEE) == []
    assert venue.marks["ETHUSDT"].next_funding_time == before + 8 * 3_600_000


def test_funding_income_view(venue: Venue) -> None:
    acct = cross_long(venue)
    venue.settle_funding("BTCUSDT", NOW)
    [fee] = incomes(venue, acct, IncomeType.FUNDING_FEE)

    row = to_wire(views.income(fee))

    assert row == {
        "symbol": "BTCUSDT",
        "incomeType": "FUNDING_FEE",
        "income": "-0.50000000",
        "asset": "USDT",
        "info": "FUNDING_FEE",
        "time": NOW,
        "tranId": str(fee.tran_id),
        "tradeId": "",
    }


# --- margin calls ----------------------------------------------------------------------------


def margin_calls(results: dict[int, Outcome], acct: Account) -> list[dict[str, Any]]:
    return wires(results.get(acct.account_id), MarginCall)


def test_margin_call_fires_once_per_crossing(venue: Venue) -> None:
    acct = cross_long(venue)
    # ratio MM / MB reaches 0.8 near 40253.5; the liquidation price is 40206.0

    first = venue.set_mark("BTCUSDT", D(40240), NOW)  # MB 22.25, MM 18.87: 0.848
    again = venue.set_mark("BTCUSDT", D(40230), NOW)  # still above 0.8: no second call
    venue.set_mark("BTCUSDT", D(41000), NOW)  # MB 98.25, MM 19.25: 0.196, re-armed
    second = venue.set_mark("BTCUSDT", D(40240), NOW)

    [call] = margin_calls(first, acct)
    assert call["cw"] == "998.25000000"  # a cross call carries the cross wallet
    assert call["p"] == [
        {
            "s": "BTCUSDT",
            "ps": "BOTH",
            "pa": "0.100",
            "mt": "CROSSED",
            "iw": "0.00000000",
            "mp": "40240",
            "up": "-976.00000000",  # 0.1 × (40240 − 50000)
            "mm": "18.87000000",  # 4024 × 0.005 − 1.25
        }
    ]
    assert margin_calls(again, acct) == []
    assert len(margin_calls(second, acct)) == 1


def test_margin_call_of_an_isolated_position(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "BTCUSDT", 10)
    market(venue, acct, SELL, "0.1")  # iw 500; liquidation price 54738.8

    # 54700: balance 500 − 470 = 30, MM 5470 × 0.005 − 1.25 = 26.1: ratio 0.87
    results = venue.set_mark("BTCUSDT", D(54700), NOW)

    [call] = margin_calls(results, acct)
    assert "cw" not in call  # only with a cross margin call
    assert [(p["mt"], p["iw"], p["mm"]) for p in call["p"]] == [
        ("ISOLATED", "500.00000000", "26.10000000")
    ]
    assert acct.margin_calls == {"BTCUSDT:BOTH"}


def test_no_margin_call_far_from_liquidation(venue: Venue) -> None:
    acct = cross_long(venue)

    results = venue.set_mark("BTCUSDT", D(45000), NOW)  # MB 498.25, MM 21.25: 0.04

    assert margin_calls(results, acct) == []
    assert acct.margin_calls == set()


# --- events ----------------------------------------------------------------------------------


def test_account_update_reasons_of_operations(venue: Venue) -> None:
    acct = venue.open_account(T0)
    venue.apply(acct.account_id, ops.deposit, T0, asset="USDT", amount=D(10), to_spot=True)
    i = acct.account_id

    reasons = [
        venue.apply(i, ops.deposit, NOW, asset="USDT", amount=D(1000)),
        transfer(venue, acct, "5", TransferKind.SPOT_FUTURE, client_tran_id="in"),
        transfer(venue, acct, "5", TransferKind.FUTURE_SPOT, client_tran_id="out"),
        venue.apply(i, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED),
        market(venue, acct, BUY, "0.1"),
        move_margin(venue, acct, "1", PositionMarginChange.ADD),
    ]

    assert [[w["a"]["m"] for w in wires(out, AccountUpdate)] for out in reasons] == [
        ["ADMIN_DEPOSIT"],
        ["DEPOSIT"],
        ["WITHDRAW"],
        ["MARGIN_TYPE_CHANGE"],
        ["ORDER"],
        ["MARGIN_TRANSFER"],
    ]


@pytest.mark.parametrize(
    ("op", "kw", "config"),
    [
        pytest.param(
            ops.set_leverage,
            {"symbol": "ETHUSDT", "leverage": 7},
            {"ac": {"s": "ETHUSDT", "l": 7}},
            id="leverage-pushes-ac",
        ),
        pytest.param(
            ops.set_position_mode,
            {"dual_side_position": True},
            {"ai": {"d": True}},
            id="position-mode-pushes-only-d",
        ),
        pytest.param(
            ops.set_multi_assets_mode,
            {"multi_assets_margin": True},
            {"ai": {"j": True}},
            id="multi-assets-pushes-only-j",
        ),
    ],
)
def test_config_change_pushes_one_account_config_update(
    venue: Venue, op: Callable[..., Outcome], kw: dict[str, Any], config: dict[str, Any]
) -> None:
    acct = funded(venue)

    out = venue.apply(acct.account_id, op, NOW, **kw)

    assert wires(out, AccountConfigUpdate) == [
        {"e": "ACCOUNT_CONFIG_UPDATE", "E": NOW, "T": NOW} | config
    ]


def test_order_trade_updates_of_a_market_order(venue: Venue) -> None:
    acct = funded(venue)

    out = market(venue, acct, BUY, "0.1", new_client_order_id="abc")

    new, trade = wires(out, OrderTradeUpdate)
    assert {k: new["o"][k] for k in ("c", "o", "x", "X", "z", "l")} == {
        "c": "abc",
        "o": "MARKET",
        "x": "NEW",
        "X": "NEW",
        "z": "0.000",
        "l": "0.000",
    }
    assert "n" not in new["o"]  # no commission before a fill
    assert {
        k: trade["o"][k] for k in ("c", "x", "X", "z", "l", "L", "ap", "n", "N", "m", "rp", "ps")
    } == {
        "c": "abc",
        "x": "TRADE",
        "X": "FILLED",
        "z": "0.100",
        "l": "0.100",
        "L": "50000",
        "ap": "50000",
        "n": "1.75000000",
        "N": "USDT",
        "m": False,
        "rp": "0.00000000",
        "ps": "BOTH",
    }
    assert trade["o"]["t"] == next(r.trade_id for r in venue.ledger.trades)


def test_order_trade_updates_of_a_resting_order(venue: Venue) -> None:
    acct = funded(venue)
    placed = limit(venue, acct, SELL, "0.1", "50500")

    results = venue.set_mark("BTCUSDT", D(50500), NOW)

    [new] = wires(placed, OrderTradeUpdate)
    assert (new["o"]["x"], new["o"]["X"], new["o"]["p"]) == ("NEW", "NEW", "50500")
    trade = wires(results[acct.account_id], OrderTradeUpdate)[0]
    assert (trade["o"]["x"], trade["o"]["m"], trade["o"]["L"], trade["o"]["n"]) == (
        "TRADE",
        True,
        "50500",
        "0.50500000",  # maker: 0.1 × 50500 × 0.0001
    )
    [update] = wires(results[acct.account_id], AccountUpdate)
    assert update["a"]["m"] == "ORDER"
    assert update["a"]["P"][0]["pa"] == "-0.100"


def test_closed_position_is_sent_once_with_zero_amount(venue: Venue) -> None:
    acct = cross_long(venue)
    venue.set_mark("BTCUSDT", D(51000), NOW)

    out = market(venue, acct, SELL, "0.1")

    [update] = wires(out, AccountUpdate)
    [position] = update["a"]["P"]
    assert (position["pa"], position["ep"], position["cr"]) == ("0.000", "0", "100.00000000")
    # wallet 998.25 + 100 − 0.1 × 51000 × 0.00035 = 1096.465
    assert update["a"]["B"][0]["wb"] == "1096.46500000"
