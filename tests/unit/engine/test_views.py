"""Read views (`/fapi/v2/balance`, the v4 account, positionRisk, brackets, commission rate,
remaining openable notional, ADL quantiles) against hand-computed figures.

Formulas: FACTS.md "Account math". Market: the shipped file (BTCUSDT bracket 1 0-1250 / 0.004 /
cum 0, bracket 2 1250-15000 / 0.005 / cum 1.25; ETHUSDT bracket 1 0-50000 / 0.004; taker fee
0.00035, maker 0.0001; default leverage 20; BTC as collateral: index 100000, haircut 0.05).
"""

from __future__ import annotations

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
    limit,
    market,
    move_margin,
    set_isolated,
)

from aster_account.engine import account as ops
from aster_account.engine import views
from aster_account.engine.state import Account, Order
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import (
    OrderType,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
)
from aster_account.protocol.wire import to_wire, to_wire_list


def balance_row(v: Venue, acct: Account, asset: str = "USDT") -> dict[str, Any]:
    rows = to_wire_list(views.balance(acct, v.market, v.marks))
    return next(r for r in rows if r["asset"] == asset)


def account(v: Venue, acct: Account) -> dict[str, Any]:
    return to_wire(views.account_info(acct, v.market, v.marks))


def account_asset(v: Venue, acct: Account, asset: str = "USDT") -> dict[str, Any]:
    return next(a for a in account(v, acct)["assets"] if a["asset"] == asset)


def account_position(
    v: Venue, acct: Account, symbol: str, side: PositionSide = BOTH
) -> dict[str, Any]:
    rows = account(v, acct)["positions"]
    return next(p for p in rows if p["symbol"] == symbol and p["positionSide"] == side.value)


def risk_row(v: Venue, acct: Account, symbol: str, side: PositionSide = BOTH) -> dict[str, Any]:
    rows = to_wire_list(views.position_risk(acct, v.market, v.marks, symbol))
    return next(r for r in rows if r["positionSide"] == side.value)


def pick(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: row[key] for key in keys}


def cross_book(v: Venue) -> Account:
    """10000 USDT; long 0.2 BTC at 50000, short 2 ETH at 3000; marks then 51000 and 3050.

    wallet = 10000 − 0.2 × 50000 × 0.00035 − 2 × 3000 × 0.00035 = 10000 − 3.5 − 2.1 = 9994.4
    BTC: notional 10200, uPnL +200, IM 510, MM 10200 × 0.005 − 1.25 = 49.75
    ETH: notional 6100, uPnL −100, IM 305, MM 6100 × 0.004 = 24.4
    """
    acct = funded(v, "10000")
    market(v, acct, BUY, "0.2")
    market(v, acct, SELL, "2", symbol="ETHUSDT")
    v.set_mark("BTCUSDT", D(51000), NOW)
    v.set_mark("ETHUSDT", D(3050), NOW)
    return acct


# --- balance and the v4 account --------------------------------------------------------------


def test_balance_of_a_fresh_account(venue: Venue) -> None:
    acct = funded(venue, "123.45")

    row = balance_row(venue, acct)

    assert row == {
        "accountAlias": acct.alias,
        "asset": "USDT",
        "balance": "123.45000000",
        "crossWalletBalance": "123.45000000",
        "crossUnPnl": "0.00000000",
        "availableBalance": "123.45000000",
        "maxWithdrawAmount": "123.45000000",
        "marginAvailable": True,
        "updateTime": str(T0),  # a string, as in live captures
    }


def test_balance_of_an_account_without_wallet_lists_the_settle_asset(venue: Venue) -> None:
    acct = venue.open_account(T0)

    rows = to_wire_list(views.balance(acct, venue.market, venue.marks))

    assert [(r["asset"], r["balance"], r["updateTime"]) for r in rows] == [
        ("USDT", "0.00000000", "0")
    ]


def test_cross_figures(venue: Venue) -> None:
    acct = cross_book(venue)

    info = account(venue, acct)

    assert pick(
        info,
        "totalInitialMargin",
        "totalMaintMargin",
        "totalWalletBalance",
        "totalUnrealizedProfit",
        "totalMarginBalance",
        "totalPositionInitialMargin",
        "totalOpenOrderInitialMargin",
        "totalCrossWalletBalance",
        "totalCrossUnPnl",
        "availableBalance",
        "maxWithdrawAmount",
    ) == {
        "totalInitialMargin": "815.00000000",  # 510 + 305
        "totalMaintMargin": "74.15000000",  # 49.75 + 24.4
        "totalWalletBalance": "9994.40000000",
        "totalUnrealizedProfit": "100.00000000",  # 200 − 100
        "totalMarginBalance": "10094.40000000",  # 9994.4 + 100
        "totalPositionInitialMargin": "815.00000000",
        "totalOpenOrderInitialMargin": "0.00000000",
        "totalCrossWalletBalance": "9994.40000000",
        "totalCrossUnPnl": "100.00000000",
        "availableBalance": "9279.40000000",  # 9994.4 + 100 − 815
        "maxWithdrawAmount": "9179.40000000",  # 9994.4 + min(0, 100) − 815: profit stays
    }
    assert pick(
        account_asset(venue, acct),
        "walletBalance",
        "marginBalance",
        "maintMargin",
        "initialMargin",
        "availableBalance",
        "maxWithdrawAmount",
    ) == {
        "walletBalance": "9994.40000000",
        "marginBalance": "10094.40000000",
        "maintMargin": "74.15000000",
        "initialMargin": "815.00000000",
        "availableBalance": "9279.40000000",
        "maxWithdrawAmount": "9179.40000000",
    }
    assert pick(
        balance_row(venue, acct), "crossUnPnl", "availableBalance", "maxWithdrawAmount"
    ) == {
        "crossUnPnl": "100.00000000",
        "availableBalance": "9279.40000000",
        "maxWithdrawAmount": "9179.40000000",
    }


def test_account_position_rows(venue: Venue) -> None:
    acct = cross_book(venue)

    btc = account_position(venue, acct, "BTCUSDT")
    eth = account_position(venue, acct, "ETHUSDT")
    arb = account_position(venue, acct, "ARBUSDT")

    assert btc == {
        "symbol": "BTCUSDT",
        "initialMargin": "510.00000000",
        "maintMargin": "49.75000000",
        "unrealizedProfit": "200.00000000",
        "positionInitialMargin": "510.00000000",
        "openOrderInitialMargin": "0.00000000",
        "leverage": "20",
        "isolated": False,
        "entryPrice": "50000",
        "maxNotional": "2500000",
        "positionSide": "BOTH",
        "positionAmt": "0.200",
        "updateTime": NOW,
    }
    assert pick(eth, "unrealizedProfit", "maintMargin", "positionAmt") == {
        "unrealizedProfit": "-100.00000000",
        "maintMargin": "24.40000000",
        "positionAmt": "-2.000",
    }
    assert pick(arb, "positionAmt", "initialMargin", "entryPrice") == {
        "positionAmt": "0.0",
        "initialMargin": "0.00000000",
        "entryPrice": "0",
    }
    # one row per listed symbol in one-way mode
    assert len(account(venue, acct)["positions"]) == len(MARKET.symbols)


def test_max_withdraw_counts_unrealized_loss(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")  # wallet 998.25
    venue.set_mark("BTCUSDT", D(49000), NOW)  # uPnL −100, IM 4900 / 20 = 245

    row = balance_row(venue, acct)

    assert row["availableBalance"] == "653.25000000"  # 998.25 − 100 − 245
    assert row["maxWithdrawAmount"] == "653.25000000"  # a loss counts in both


def test_open_orders_reserve_initial_margin_and_open_loss(venue: Venue) -> None:
    acct = funded(venue)
    limit(venue, acct, BUY, "0.1", "49000")  # IM 0.1 × 49000 / 20 = 245, no open loss
    # A sell resting below the mark (on a real book the last price can sit below the mark):
    # IM 0.1 × 49500 / 20 = 247.5, open loss 0.1 × |min(0, −1 × (50000 − 49500))| = 50
    acct.orders[999] = Order(
        order_id=999,
        client_order_id="below-mark",
        symbol="BTCUSDT",
        side=SELL,
        position_side=BOTH,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=D("0.1"),
        price=D(49500),
        reduce_only=False,
        time=NOW,
        update_time=NOW,
    )

    info = account(venue, acct)
    row = account_position(venue, acct, "BTCUSDT")

    assert info["totalOpenOrderInitialMargin"] == "542.50000000"  # 245 + 247.5 + 50
    assert info["totalInitialMargin"] == "542.50000000"
    assert info["availableBalance"] == "457.50000000"  # 1000 − 542.5
    assert info["maxWithdrawAmount"] == "457.50000000"
    assert pick(row, "openOrderInitialMargin", "positionInitialMargin", "initialMargin") == {
        "openOrderInitialMargin": "542.50000000",
        "positionInitialMargin": "0.00000000",
        "initialMargin": "542.50000000",
    }


def test_isolated_open_orders_reduce_the_available_balance(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "ETHUSDT")
    limit(venue, acct, BUY, "1", "2900", symbol="ETHUSDT")  # IM 2900 / 20 = 145

    row = balance_row(venue, acct)

    assert row["crossWalletBalance"] == "1000.00000000"  # nothing moved yet
    assert row["availableBalance"] == "855.00000000"  # 1000 − 145
    assert row["maxWithdrawAmount"] == "855.00000000"


def test_isolated_position_figures(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "BTCUSDT", leverage=10)
    market(venue, acct, SELL, "0.1")  # iw 5000 / 10 = 500, wallet 998.25
    venue.set_mark("BTCUSDT", D(51000), NOW)  # uPnL 0.1 × (50000 − 51000) = −100

    row = risk_row(venue, acct, "BTCUSDT")
    info = account(venue, acct)

    assert pick(
        row,
        "marginType",
        "isolatedMargin",
        "isolatedWallet",
        "leverage",
        "liquidationPrice",
        "unRealizedProfit",
        "notional",
        "maxNotionalValue",
    ) == {
        "marginType": "isolated",
        "isolatedMargin": "400.00000000",  # isolated wallet + uPnL = 500 − 100
        "isolatedWallet": "500.00000000",
        "leverage": "10",
        # (500 + 1.25 + 0.1 × 50000) / (0.1 × 0.005 + 0.1) = 5501.25 / 0.1005 = 54738.806
        "liquidationPrice": "54738.8",
        "unRealizedProfit": "-100.00000000",
        "notional": "-5100.00000000",
        "maxNotionalValue": "5750000",
    }
    assert pick(
        balance_row(venue, acct),
        "balance",
        "crossWalletBalance",
        "crossUnPnl",
        "availableBalance",
        "maxWithdrawAmount",
    ) == {
        "balance": "998.25000000",
        "crossWalletBalance": "498.25000000",  # 998.25 − 500
        "crossUnPnl": "0.00000000",  # the isolated loss stays in the position
        "availableBalance": "498.25000000",
        "maxWithdrawAmount": "498.25000000",
    }
    assert pick(
        info,
        "totalUnrealizedProfit",
        "totalMarginBalance",
        "totalCrossWalletBalance",
        "totalPositionInitialMargin",
        "totalMaintMargin",
    ) == {
        "totalUnrealizedProfit": "-100.00000000",
        "totalMarginBalance": "898.25000000",  # 998.25 − 100
        "totalCrossWalletBalance": "498.25000000",
        "totalPositionInitialMargin": "510.00000000",  # 5100 / 10
        "totalMaintMargin": "24.25000000",  # 5100 × 0.005 − 1.25
    }
    assert account_position(venue, acct, "BTCUSDT")["isolated"] is True


def test_isolated_liquidation_price_follows_added_margin(venue: Venue) -> None:
    acct = funded(venue)
    set_isolated(venue, acct, "BTCUSDT", leverage=10)
    market(venue, acct, SELL, "0.1")
    move_margin(venue, acct, "100", PositionMarginChange.ADD)

    row = risk_row(venue, acct, "BTCUSDT")

    # (600 + 1.25 + 5000) / 0.1005 = 55733.83
    assert row["liquidationPrice"] == "55733.8"
    assert row["isolatedWallet"] == "600.00000000"


def test_cross_liquidation_price_counts_the_other_symbols(venue: Venue) -> None:
    acct = cross_book(venue)

    btc = risk_row(venue, acct, "BTCUSDT")
    eth = risk_row(venue, acct, "ETHUSDT")

    # BTC long: (9994.4 − 24.4 + (−100) + 0 − 0.2 × 50000) / (0.2 × 0.004 − 0.2)
    #         = −130 / −0.1992 = 652.61; 0.2 × 652.61 = 130.5 is in bracket 1
    assert btc["liquidationPrice"] == "652.6"
    # ETH short: (9994.4 − 49.75 + 200 + 0 + 2 × 3000) / (2 × 0.004 + 2) = 16144.65 / 2.008
    #          = 8040.164; 2 × 8040.16 = 16080 is in bracket 1
    assert eth["liquidationPrice"] == "8040.16"


def test_liquidation_price_at_or_below_zero_reports_zero(venue: Venue) -> None:
    acct = funded(venue, "100000")
    venue.apply(acct.account_id, ops.set_leverage, T0, symbol="BTCUSDT", leverage=1)
    market(venue, acct, BUY, "0.1")  # the wallet covers the whole notional

    row = risk_row(venue, acct, "BTCUSDT")

    assert row["liquidationPrice"] == "0"


def test_position_risk_of_an_empty_symbol(venue: Venue) -> None:
    acct = funded(venue)

    row = risk_row(venue, acct, "ETHUSDT")

    assert pick(
        row,
        "positionAmt",
        "entryPrice",
        "liquidationPrice",
        "markPrice",
        "unRealizedProfit",
        "marginType",
        "leverage",
        "notional",
    ) == {
        "positionAmt": "0.000",
        "entryPrice": "0",
        "liquidationPrice": "0",
        "markPrice": "3000",
        "unRealizedProfit": "0.00000000",
        "marginType": "cross",
        "leverage": "20",
        "notional": "0.00000000",
    }


def test_hedge_mode_figures_and_shared_liquidation_price(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)  # fee 1.75
    venue.set_mark("BTCUSDT", D(51000), NOW)
    market(venue, acct, SELL, "0.04", position_side=SHORT)  # fee 0.04 × 51000 × 0.00035 = 0.714

    long_row = risk_row(venue, acct, "BTCUSDT", LONG)
    short_row = risk_row(venue, acct, "BTCUSDT", SHORT)

    assert pick(long_row, "positionAmt", "entryPrice", "unRealizedProfit") == {
        "positionAmt": "0.100",
        "entryPrice": "50000",
        "unRealizedProfit": "100.00000000",
    }
    assert pick(short_row, "positionAmt", "entryPrice", "unRealizedProfit") == {
        "positionAmt": "-0.040",
        "entryPrice": "51000",
        "unRealizedProfit": "0.00000000",
    }
    # WB = 1000 − 1.75 − 0.714 = 997.536; both legs in bracket 2 at the LP
    # (997.536 + 1.25 + 1.25 − 0.1 × 50000 + 0.04 × 51000) / (0.1 × 0.005 + 0.04 × 0.005 − 0.1
    # + 0.04) = −1959.964 / −0.0593 = 33051.67
    assert long_row["liquidationPrice"] == short_row["liquidationPrice"] == "33051.7"
    info = account(venue, acct)
    # MM = (5100 × 0.005 − 1.25) + (2040 × 0.005 − 1.25) = 24.25 + 8.95
    assert info["totalMaintMargin"] == "33.20000000"
    assert info["availableBalance"] == "740.53600000"  # 997.536 + 100 − 255 − 102
    assert {p["positionSide"] for p in info["positions"]} == {"LONG", "SHORT"}


def test_hedge_isolated_sides_have_their_own_liquidation_price(venue: Venue) -> None:
    acct = funded(venue, "2000")
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    set_isolated(venue, acct, "BTCUSDT", leverage=10)
    market(venue, acct, BUY, "0.1", position_side=LONG)  # iw 500
    market(venue, acct, SELL, "0.1", position_side=SHORT)  # iw 500

    long_row = risk_row(venue, acct, "BTCUSDT", LONG)
    short_row = risk_row(venue, acct, "BTCUSDT", SHORT)

    # long: (500 + 1.25 − 5000) / (0.0005 − 0.1) = 4498.75 / 0.0995 = 45213.57
    assert long_row["liquidationPrice"] == "45213.6"
    # short: (500 + 1.25 + 5000) / (0.0005 + 0.1) = 54738.81
    assert short_row["liquidationPrice"] == "54738.8"


def test_multi_assets_mode_values_collateral_after_haircut(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.deposit, T0, asset="BTC", amount=D(1))
    venue.apply(acct.account_id, ops.set_multi_assets_mode, T0, multi_assets_margin=True)
    market(venue, acct, BUY, "1")  # fee 50000 × 0.00035 = 17.5, IM 50000 / 20 = 2500

    info = account(venue, acct)
    usdt = account_asset(venue, acct, "USDT")
    btc = account_asset(venue, acct, "BTC")

    # collateral = 982.5 + 1 × 100000 × (1 − 0.05) = 95982.5
    assert info["totalWalletBalance"] == "95982.50000000"
    assert info["availableBalance"] == "93482.50000000"  # 95982.5 − 2500
    assert info["maxWithdrawAmount"] == "93482.50000000"
    assert pick(usdt, "walletBalance", "availableBalance", "maxWithdrawAmount") == {
        "walletBalance": "982.50000000",
        "availableBalance": "93482.50000000",
        "maxWithdrawAmount": "982.50000000",  # never more than the asset's own wallet
    }
    # 93482.5 / 95000 = 0.984026315..., shown rounded down
    assert pick(btc, "walletBalance", "availableBalance", "maxWithdrawAmount") == {
        "walletBalance": "1.00000000",
        "availableBalance": "0.98402631",
        "maxWithdrawAmount": "0.98402631",
    }


def test_multi_assets_max_withdraw_ignores_unrealized_profit(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.deposit, T0, asset="BTC", amount=D(1))
    venue.apply(acct.account_id, ops.set_multi_assets_mode, T0, multi_assets_margin=True)
    market(venue, acct, BUY, "1")
    venue.set_mark("BTCUSDT", D(51000), NOW)  # uPnL +1000, IM 2550

    info = account(venue, acct)

    assert info["availableBalance"] == "94432.50000000"  # 95982.5 + 1000 − 2550
    assert info["maxWithdrawAmount"] == "93432.50000000"  # 95982.5 − 2550


def test_single_asset_mode_ignores_other_collateral(venue: Venue) -> None:
    acct = funded(venue, "100")
    venue.apply(acct.account_id, ops.deposit, T0, asset="BTC", amount=D(1))

    info = account(venue, acct)

    assert info["availableBalance"] == "100.00000000"
    assert info["totalWalletBalance"] == "100.00000000"
    assert account_asset(venue, acct, "BTC")["availableBalance"] == "1.00000000"


# --- remaining openable notional, brackets, commission ---------------------------------------


@pytest.mark.parametrize(
    ("leverage", "expected"),
    [
        (20, "20000"),  # min(2500000 − 0, 1000 × 20)
        (125, "1250"),  # min(1250 − 0, 1000 × 125)
    ],
)
def test_remaining_openable_without_a_position(venue: Venue, leverage: int, expected: str) -> None:
    acct = funded(venue)

    value = views.remaining_openable(
        acct, venue.market, venue.marks, MARKET.symbol("BTCUSDT"), leverage
    )

    assert to_wire(value) == {"remainingOpenableNotionalValue": int(expected)}


@pytest.mark.parametrize(
    ("leverage", "expected"),
    [
        (20, "14965"),  # min(2500000 − 5000, 748.25 × 20)
        (100, "10000"),  # min(15000 − 5000, 748.25 × 100)
    ],
)
def test_remaining_openable_with_a_position(venue: Venue, leverage: int, expected: str) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")  # notional 5000, available 998.25 − 250 = 748.25

    value = views.remaining_openable(
        acct, venue.market, venue.marks, MARKET.symbol("BTCUSDT"), leverage
    )

    assert value.remaining_openable_notional_value == D(expected)


def test_remaining_openable_is_never_negative(venue: Venue) -> None:
    acct = funded(venue, "100000")
    market(venue, acct, BUY, "0.1")  # notional 5000 > maxNotional(125) = 1250

    value = views.remaining_openable(acct, venue.market, venue.marks, MARKET.symbol("BTCUSDT"), 125)

    assert value.remaining_openable_notional_value == 0


def test_brackets_view() -> None:
    rows = to_wire(views.brackets(MARKET.symbol("TRUTHUSDT")))

    assert rows == {
        "symbol": "TRUTHUSDT",
        "brackets": [
            {
                "bracket": 1,
                "initialLeverage": 50,
                "notionalCap": 5000,
                "notionalFloor": 0,
                "maintMarginRatio": 0.01,
                "cum": 0,
            },
            # cum = 0 + 5000 × (0.025 − 0.01) = 75
            {
                "bracket": 2,
                "initialLeverage": 20,
                "notionalCap": 10000,
                "notionalFloor": 5000,
                "maintMarginRatio": 0.025,
                "cum": 75,
            },
        ],
    }


def test_commission_rate_view() -> None:
    row = to_wire(views.commission_rate(MARKET.symbol("BTCUSDT")))

    assert row == {
        "symbol": "BTCUSDT",
        "makerCommissionRate": "0.0001",
        "takerCommissionRate": "0.00035",
    }


# --- ADL quantiles ---------------------------------------------------------------------------


def quantiles(v: Venue, acct: Account) -> dict[str, dict[str, int]]:
    rows = views.adl_quantile(acct, v.market, v.adl_quantiles())
    return {r["symbol"]: r["adlQuantile"] for r in to_wire_list(rows)}


def test_adl_quantile_one_way_keys_and_ranking(venue: Venue) -> None:
    high = funded(venue, "1000")
    low = funded(venue, "100000")
    loser = funded(venue)
    market(venue, high, BUY, "0.1")
    market(venue, low, BUY, "0.1")
    market(venue, loser, SELL, "0.1")
    venue.set_mark("BTCUSDT", D(51000), NOW)
    # same uPnL +100; pnl% × MM / margin balance is far higher on the 1000 wallet

    assert quantiles(venue, high) == {"BTCUSDT": {"LONG": 0, "SHORT": 0, "BOTH": 4}}
    assert quantiles(venue, low) == {"BTCUSDT": {"LONG": 0, "SHORT": 0, "BOTH": 2}}
    assert quantiles(venue, loser) == {"BTCUSDT": {"LONG": 0, "SHORT": 0, "BOTH": 0}}


def test_adl_quantile_lists_only_symbols_with_a_position(venue: Venue) -> None:
    acct = funded(venue)

    assert quantiles(venue, acct) == {}


def test_adl_quantile_cross_hedge_mode_uses_hedge_and_one_value(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)
    market(venue, acct, SELL, "0.04", position_side=SHORT)
    venue.set_mark("BTCUSDT", D(51000), NOW)  # LONG in profit, SHORT in loss

    q = quantiles(venue, acct)["BTCUSDT"]

    assert set(q) == {"LONG", "SHORT", "HEDGE"}
    assert q["LONG"] == q["SHORT"] == 4  # the only profitable long of the venue
    assert q["HEDGE"] == 0


def test_adl_quantile_isolated_hedge_mode_keeps_both(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, T0, dual_side_position=True)
    set_isolated(venue, acct, "BTCUSDT", leverage=10)
    market(venue, acct, BUY, "0.1", position_side=LONG)
    market(venue, acct, SELL, "0.04", position_side=SHORT)
    venue.set_mark("BTCUSDT", D(51000), NOW)

    q = quantiles(venue, acct)["BTCUSDT"]

    assert q == {"LONG": 4, "SHORT": 0, "BOTH": 0}
