"""Every account operation: its success path, every error with Aster's exact code, and that a
rejected operation leaves the account byte-for-byte as it was and writes nothing to the ledger.

The market is the shipped one (BTCUSDT brackets: 0-1250 at 125x / 0.004, 1250-15000 at 100x /
0.005 / cum 1.25, ...; maxNotional(20x) = 2,500,000; tick 0.1, step 0.001, min notional 5;
fees maker 0.0001, taker 0.00035; default leverage 20).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from enginekit import (
    BOTH,
    BUY,
    GTC,
    LIMIT,
    LONG,
    MARKET_ORDER,
    NOW,
    SELL,
    SHORT,
    T0,
    D,
    funded,
    incomes,
    ledger_size,
    limit,
    market,
    move_margin,
    raw_available,
    set_isolated,
    transfer,
)

from aster_account.engine import account as ops
from aster_account.engine import figures as fig
from aster_account.engine.context import Outcome
from aster_account.engine.ledger import IncomeRecord, MarginChangeRecord, TradeRecord
from aster_account.engine.state import Account
from aster_account.engine.venue import Venue
from aster_account.protocol.enums import (
    AccountUpdateReason,
    ExecutionType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
    TransferKind,
)
from aster_account.protocol.errors import AsterError
from aster_account.protocol.models import AccountConfigUpdate, AccountUpdate, OrderTradeUpdate
from aster_account.protocol.wire import to_wire

# --- helpers ---------------------------------------------------------------------------------


def refused(v: Venue, acct: Account, code: int, attempt: Callable[[], object]) -> AsterError:
    """Run `attempt`, expect Aster's `code`, and check nothing changed and nothing was written."""
    before = acct.to_dict()
    written = ledger_size(v)
    with pytest.raises(AsterError) as info:
        attempt()
    assert info.value.code == code, info.value.msg
    assert acct.to_dict() == before
    assert ledger_size(v) == written
    return info.value


def rejected(
    v: Venue, acct: Account, op: Callable[..., Outcome], code: int, **kw: Any
) -> AsterError:
    """`refused` for `op` applied with `kw`."""
    return refused(v, acct, code, lambda: v.apply(acct.account_id, op, NOW, **kw))


# `refused` for the enginekit helper of the same name; the arguments as that helper takes them


def rejected_market(
    v: Venue, acct: Account, code: int, side: OrderSide, qty: str, *args: Any, **kw: Any
) -> AsterError:
    return refused(v, acct, code, lambda: market(v, acct, side, qty, *args, **kw))


def rejected_limit(
    v: Venue, acct: Account, code: int, side: OrderSide, qty: str, price: str, **kw: Any
) -> AsterError:
    return refused(v, acct, code, lambda: limit(v, acct, side, qty, price, **kw))


def rejected_margin(
    v: Venue, acct: Account, code: int, amount: str, change: PositionMarginChange, **kw: Any
) -> AsterError:
    return refused(v, acct, code, lambda: move_margin(v, acct, amount, change, **kw))


def rejected_transfer(
    v: Venue, acct: Account, code: int, amount: str, kind: TransferKind, **kw: Any
) -> AsterError:
    return refused(v, acct, code, lambda: transfer(v, acct, amount, kind, **kw))


def figures(v: Venue, acct: Account) -> fig.AccountFigures:
    return fig.compute(acct, v.market, v.marks)


def assert_contains(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert {key: actual.get(key) for key in expected} == expected


def account_updates(out: Outcome) -> list[AccountUpdate]:
    return [e for e in out.events if isinstance(e, AccountUpdate)]


def order_updates(out: Outcome) -> list[OrderTradeUpdate]:
    return [e for e in out.events if isinstance(e, OrderTradeUpdate)]


def isolated_short(v: Venue, leverage: int = 10) -> Account:
    """1000 USDT, BTCUSDT isolated at `leverage`, short 0.1 at 50000.

    isolated wallet = 0.1 × 50000 / 10 = 500; wallet = 1000 − 0.1 × 50000 × 0.00035 = 998.25.
    """
    acct = funded(v)
    set_isolated(v, acct, "BTCUSDT", leverage)
    market(v, acct, SELL, "0.1")
    return acct


# --- deposit ---------------------------------------------------------------------------------


def test_deposit_books_transfer_income_and_pushes_admin_deposit(venue: Venue) -> None:
    acct = venue.open_account(T0)

    out = venue.apply(acct.account_id, ops.deposit, NOW, asset="USDT", amount=D("250.5"))

    assert acct.wallet("USDT") == D("250.5")
    [rec] = out.records
    assert isinstance(rec, IncomeRecord)
    assert (rec.income_type, rec.income, rec.info) == (
        IncomeType.TRANSFER,
        D("250.5"),
        "ADMIN_DEPOSIT",
    )
    [event] = out.events
    assert to_wire(event)["a"] == {
        "m": "ADMIN_DEPOSIT",
        "B": [{"a": "USDT", "wb": "250.50000000", "cw": "250.50000000", "bc": "250.50000000"}],
        "P": [],
    }
    assert venue.wallet_equals_ledger(acct.account_id)


def test_deposit_to_spot_changes_only_the_spot_wallet(venue: Venue) -> None:
    acct = venue.open_account(T0)

    out = venue.apply(acct.account_id, ops.deposit, NOW, asset="USDT", amount=D(70), to_spot=True)

    assert acct.spot == {"USDT": D(70)}
    assert acct.futures == {}
    assert out.records == []


@pytest.mark.parametrize(
    ("asset", "amount", "code"),
    [
        ("DOGE", "1", -1130),  # not an asset of the market
        ("USDT", "0", -4055),
        ("USDT", "-5", -4055),
        ("USDT", "0.000000001", -1111),  # 9 decimals: wallets keep 8
    ],
)
def test_deposit_errors(venue: Venue, asset: str, amount: str, code: int) -> None:
    acct = funded(venue)

    rejected(venue, acct, ops.deposit, code, asset=asset, amount=D(amount))


# --- transfer --------------------------------------------------------------------------------


def test_transfer_futures_to_spot(venue: Venue) -> None:
    acct = funded(venue)

    out = transfer(venue, acct, "400", TransferKind.FUTURE_SPOT, client_tran_id="t-1")

    assert acct.wallet("USDT") == D(600)  # 1000 − 400
    assert acct.spot["USDT"] == D(400)
    income, record = out.records
    assert isinstance(income, IncomeRecord)
    assert (income.income_type, income.income, income.info) == (
        IncomeType.TRANSFER,
        D(-400),
        "FUTURE_SPOT",
    )
    assert record is out.result
    assert (record.tran_id, record.client_tran_id, record.amount) == (income.tran_id, "t-1", D(400))
    assert venue.ledger.has_client_tran_id(acct.account_id, "t-1")
    [event] = account_updates(out)
    assert to_wire(event)["a"]["m"] == "WITHDRAW"
    assert to_wire(event)["a"]["B"][0]["bc"] == "-400.00000000"
    assert venue.wallet_equals_ledger(acct.account_id)


def test_transfer_spot_to_futures(venue: Venue) -> None:
    acct = venue.open_account(T0)
    venue.apply(acct.account_id, ops.deposit, T0, asset="USDT", amount=D(300), to_spot=True)

    out = transfer(venue, acct, "120", TransferKind.SPOT_FUTURE, client_tran_id="in-1")

    assert acct.spot["USDT"] == D(180)  # 300 − 120
    assert acct.wallet("USDT") == D(120)
    [event] = account_updates(out)
    assert to_wire(event)["a"]["m"] == "DEPOSIT"
    assert incomes(venue, acct, IncomeType.TRANSFER)[-1].income == D(120)
    assert venue.wallet_equals_ledger(acct.account_id)


def test_transfer_out_is_limited_by_max_withdraw_which_ignores_unrealized_profit(
    venue: Venue,
) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")  # wallet 1000 − 1.75 = 998.25
    venue.set_mark("BTCUSDT", D(51000), NOW)  # uPnL +100, IM 5100 / 20 = 255
    # available = 998.25 + 100 − 255 = 843.25; maxWithdraw = 998.25 + min(0, 100) − 255 = 743.25
    assert figures(venue, acct).available_balance == D("843.25")

    err = rejected_transfer(
        venue, acct, -2018, "743.26", TransferKind.FUTURE_SPOT, client_tran_id="too-much"
    )
    transfer(venue, acct, "743.25", TransferKind.FUTURE_SPOT, client_tran_id="just-enough")

    assert err.msg == "Balance is insufficient."
    assert acct.wallet("USDT") == D(255)  # 998.25 − 743.25


def test_transfer_in_is_limited_by_the_spot_balance(venue: Venue) -> None:
    acct = venue.open_account(T0)
    venue.apply(acct.account_id, ops.deposit, T0, asset="USDT", amount=D(50), to_spot=True)

    rejected_transfer(
        venue, acct, -2018, "50.00000001", TransferKind.SPOT_FUTURE, client_tran_id="x"
    )


def test_transfer_client_tran_id_is_unique(venue: Venue) -> None:
    acct = funded(venue)
    transfer(venue, acct, "1", TransferKind.FUTURE_SPOT, client_tran_id="same")

    err = rejected_transfer(
        venue, acct, -4115, "1", TransferKind.SPOT_FUTURE, client_tran_id="same"
    )

    assert err.msg == "Client tran id should be unique within 7 days"


def test_transfer_client_tran_id_of_another_account_is_not_a_reuse(venue: Venue) -> None:
    first, second = funded(venue), funded(venue)
    transfer(venue, first, "1", TransferKind.FUTURE_SPOT, client_tran_id="shared")

    transfer(venue, second, "1", TransferKind.FUTURE_SPOT, client_tran_id="shared")

    assert second.spot["USDT"] == D(1)


def test_transfer_client_tran_id_of_64_chars_is_too_long(venue: Venue) -> None:
    acct = funded(venue)

    err = rejected_transfer(
        venue, acct, -4114, "1", TransferKind.FUTURE_SPOT, client_tran_id="a" * 64
    )
    transfer(venue, acct, "1", TransferKind.FUTURE_SPOT, client_tran_id="a" * 63)

    assert err.msg == "Client tran id length should be less than 64 chars"
    assert acct.spot["USDT"] == D(1)


@pytest.mark.parametrize(
    ("asset", "amount", "code"),
    [("USDT", "0", -4055), ("USDT", "-1", -4055), ("XYZ", "1", -1130)],
)
def test_transfer_bad_amount_or_asset(venue: Venue, asset: str, amount: str, code: int) -> None:
    acct = funded(venue)

    rejected_transfer(
        venue, acct, code, amount, TransferKind.FUTURE_SPOT, client_tran_id="bad", asset=asset
    )


def test_transfer_needs_the_account_permission(venue: Venue) -> None:
    acct = funded(venue, can_withdraw=False)

    rejected_transfer(venue, acct, -2015, "1", TransferKind.FUTURE_SPOT, client_tran_id="nope")


# --- leverage --------------------------------------------------------------------------------


def test_set_leverage_replies_max_notional_and_pushes_ac(venue: Venue) -> None:
    acct = funded(venue)

    out = venue.apply(acct.account_id, ops.set_leverage, NOW, symbol="BTCUSDT", leverage=10)

    # maxNotional(10) = largest cap among brackets with initialLeverage ≥ 10 = 5,750,000
    assert out.result == (10, D(5750000))
    assert acct.configs["BTCUSDT"].leverage == 10
    [event] = out.events
    assert isinstance(event, AccountConfigUpdate)
    assert to_wire(event)["ac"] == {"s": "BTCUSDT", "l": 10}
    assert "ai" not in to_wire(event)


@pytest.mark.parametrize(
    ("symbol", "leverage", "max_notional"),
    [("BTCUSDT", 125, "1250"), ("BTCUSDT", 1, "45000000"), ("TRUTHUSDT", 50, "5000")],
)
def test_set_leverage_bounds_are_valid(
    venue: Venue, symbol: str, leverage: int, max_notional: str
) -> None:
    acct = funded(venue)

    out = venue.apply(acct.account_id, ops.set_leverage, NOW, symbol=symbol, leverage=leverage)

    assert out.result == (leverage, D(max_notional))


@pytest.mark.parametrize(
    ("symbol", "leverage"), [("BTCUSDT", 0), ("BTCUSDT", 126), ("TRUTHUSDT", 51), ("ETHUSDT", -3)]
)
def test_set_leverage_out_of_range(venue: Venue, symbol: str, leverage: int) -> None:
    acct = funded(venue)

    err = rejected(venue, acct, ops.set_leverage, -4028, symbol=symbol, leverage=leverage)

    assert err.msg == f"Leverage {leverage} is not valid"


def test_set_leverage_unknown_symbol(venue: Venue) -> None:
    acct = funded(venue)

    rejected(venue, acct, ops.set_leverage, -1121, symbol="NOPEUSDT", leverage=5)


def test_set_leverage_above_the_position_notional_cap(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")  # notional 0.1 × 50000 = 5000

    # maxNotional(101) = 1250 (only the first bracket allows 101x) < 5000
    rejected(venue, acct, ops.set_leverage, -2027, symbol="BTCUSDT", leverage=101)
    # maxNotional(100) = 15000 ≥ 5000
    out = venue.apply(acct.account_id, ops.set_leverage, NOW, symbol="BTCUSDT", leverage=100)

    assert out.result == (100, D(15000))


def test_lowering_cross_leverage_needs_the_margin(venue: Venue) -> None:
    acct = funded(venue, "300")
    market(venue, acct, BUY, "0.1")  # wallet 298.25, IM 5000 / 20 = 250

    # at 5x: IM 5000 / 5 = 1000 > 298.25
    rejected(venue, acct, ops.set_leverage, -2028, symbol="BTCUSDT", leverage=5)
    # at 10x: IM 500 > 298.25 as well; at 15x: 333.33 > 298.25; at 17x: 294.12 ≤ 298.25
    rejected(venue, acct, ops.set_leverage, -2028, symbol="BTCUSDT", leverage=15)
    venue.apply(acct.account_id, ops.set_leverage, NOW, symbol="BTCUSDT", leverage=17)

    assert acct.configs["BTCUSDT"].leverage == 17


def test_lowering_leverage_with_only_open_orders_needs_the_margin(venue: Venue) -> None:
    acct = funded(venue, "100")
    limit(venue, acct, BUY, "0.04", "49000")  # reserves 0.04 × 49000 / 20 = 98 of 100

    # at 2x the order would reserve 0.04 × 49000 / 2 = 980 > 100
    rejected(venue, acct, ops.set_leverage, -2028, symbol="BTCUSDT", leverage=2)


def test_isolated_leverage_cannot_be_lowered_with_a_position(venue: Venue) -> None:
    acct = isolated_short(venue, leverage=10)

    rejected(venue, acct, ops.set_leverage, -4161, symbol="BTCUSDT", leverage=5)
    out = venue.apply(acct.account_id, ops.set_leverage, NOW, symbol="BTCUSDT", leverage=20)

    assert out.result == (20, D(2500000))


# --- margin type -----------------------------------------------------------------------------


def test_set_margin_type_to_isolated(venue: Venue) -> None:
    acct = funded(venue)

    out = venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )

    assert acct.configs["BTCUSDT"].margin_type is MarginType.ISOLATED
    assert acct.configs["BTCUSDT"].leverage == 20  # the default leverage is kept
    [event] = out.events
    assert to_wire(event)["a"] == {
        "m": "MARGIN_TYPE_CHANGE",
        "B": [{"a": "USDT", "wb": "1000.00000000", "cw": "1000.00000000", "bc": "0.00000000"}],
        "P": [],
    }
    assert out.records == []


def test_set_margin_type_unchanged(venue: Venue) -> None:
    acct = funded(venue)

    err = rejected(
        venue, acct, ops.set_margin_type, -4046, symbol="BTCUSDT", margin_type=MarginType.CROSSED
    )

    assert err.msg == "No need to change margin type."


def test_set_margin_type_isolated_under_multi_assets(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_multi_assets_mode, NOW, multi_assets_margin=True)
    limit(venue, acct, BUY, "0.01", "49000")  # -4168 comes before -4047

    rejected(
        venue, acct, ops.set_margin_type, -4168, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )


@pytest.mark.parametrize(
    ("margin_type", "code"),
    [
        # unchanged (-4046) is checked before the orders and the position
        pytest.param(MarginType.CROSSED, -4046, id="unchanged-first"),
        # open orders (-4047) come before the position (-4048)
        pytest.param(MarginType.ISOLATED, -4047, id="open-orders"),
    ],
)
def test_set_margin_type_with_open_orders_and_a_position(
    venue: Venue, margin_type: MarginType, code: int
) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.01")
    limit(venue, acct, BUY, "0.01", "49000")

    rejected(venue, acct, ops.set_margin_type, code, symbol="BTCUSDT", margin_type=margin_type)


def test_set_margin_type_with_a_position(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, SELL, "0.01")

    rejected(
        venue, acct, ops.set_margin_type, -4048, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )


def test_set_margin_type_ignores_other_symbols(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, SELL, "1", symbol="ETHUSDT")
    limit(venue, acct, BUY, "1", "2900", symbol="ETHUSDT")

    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )

    assert acct.configs["BTCUSDT"].margin_type is MarginType.ISOLATED


# --- isolated position margin ----------------------------------------------------------------


def test_add_isolated_margin(venue: Venue) -> None:
    acct = isolated_short(venue)

    out = move_margin(venue, acct, "100", PositionMarginChange.ADD)

    assert acct.positions[("BTCUSDT", BOTH)].isolated_wallet == D(600)  # 500 + 100
    assert acct.wallet("USDT") == D("998.25")  # moving margin is not income
    assert out.result == (D(100), PositionMarginChange.ADD)
    [record] = out.records
    assert isinstance(record, MarginChangeRecord)
    assert (record.symbol, record.position_side, record.asset, record.amount, record.type) == (
        "BTCUSDT",
        BOTH,
        "USDT",
        D(100),
        PositionMarginChange.ADD,
    )
    assert venue.ledger.margin_changes == [record]
    [event] = out.events
    wire = to_wire(event)["a"]
    assert wire["m"] == "MARGIN_TRANSFER"
    assert wire["B"] == [
        {"a": "USDT", "wb": "998.25000000", "cw": "398.25000000", "bc": "0.00000000"}
    ]  # cross = 998.25 − 600
    assert wire["P"][0]["iw"] == "600.00000000"


def test_reduce_isolated_margin_up_to_the_formula(venue: Venue) -> None:
    acct = isolated_short(venue)
    move_margin(venue, acct, "100", PositionMarginChange.ADD)
    venue.set_mark("BTCUSDT", D(49000), NOW)
    # IWB 600, size −0.1, entry 50000, mark 49000, leverage 10
    # MM = 4900 × 0.005 − 1.25 = 23.25
    # min(600 − 23.25, 600 + (−0.1) × (49000 − 50000) − 49000 × 0.1 / 10) = min(576.75, 210) = 210

    rejected_margin(venue, acct, -4051, "210.00000001", PositionMarginChange.REDUCE)
    out = move_margin(venue, acct, "210", PositionMarginChange.REDUCE)

    assert acct.positions[("BTCUSDT", BOTH)].isolated_wallet == D(390)  # 600 − 210
    assert out.result == (D(210), PositionMarginChange.REDUCE)
    assert venue.ledger.margin_changes[-1].type is PositionMarginChange.REDUCE


def test_reduce_isolated_margin_right_after_opening_is_refused(venue: Venue) -> None:
    acct = isolated_short(venue)
    # IWB 500 = IM 5000 / 10: min(500 − 23.75, 500 + 0 − 500) = 0

    err = rejected_margin(venue, acct, -4051, "0.01", PositionMarginChange.REDUCE)

    assert err.msg == "Isolated balance insufficient."


def test_add_isolated_margin_above_available(venue: Venue) -> None:
    acct = isolated_short(venue)
    # available = cross wallet 998.25 − 500 = 498.25

    err = rejected_margin(venue, acct, -4050, "498.25000001", PositionMarginChange.ADD)
    move_margin(venue, acct, "498.25", PositionMarginChange.ADD)

    assert err.msg == "Cross balance insufficient."
    assert figures(venue, acct).available_balance == 0


def test_position_margin_on_a_cross_position(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")

    err = rejected_margin(venue, acct, -4049, "10", PositionMarginChange.ADD)

    assert err.msg == "Add margin only support for isolated position."


def test_add_margin_to_a_zero_position(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )

    rejected_margin(venue, acct, -4054, "10", PositionMarginChange.ADD)


@pytest.mark.parametrize("amount", ["0", "-10"])
def test_position_margin_amount_must_be_positive(venue: Venue, amount: str) -> None:
    acct = isolated_short(venue)

    for change in PositionMarginChange:
        rejected_margin(venue, acct, -4055, amount, change)


@pytest.mark.parametrize(
    ("dual_side", "side"), [(False, LONG), (False, SHORT), (True, BOTH), (True, None)]
)
def test_position_margin_bad_position_side(
    venue: Venue, dual_side: bool, side: PositionSide | None
) -> None:
    acct = funded(venue)
    if dual_side:
        venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )

    rejected_margin(venue, acct, -4060, "10", PositionMarginChange.ADD, position_side=side)


def test_position_margin_in_hedge_mode_targets_one_side(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )
    market(venue, acct, BUY, "0.1", position_side=LONG)  # LONG iw 250

    rejected_margin(venue, acct, -4054, "10", PositionMarginChange.ADD, position_side=SHORT)
    move_margin(venue, acct, "10", PositionMarginChange.ADD, position_side=LONG)

    assert acct.positions[("BTCUSDT", LONG)].isolated_wallet == D(260)  # 250 + 10
    assert venue.ledger.margin_changes[-1].position_side is LONG


# --- position mode and multi-assets mode -----------------------------------------------------


def test_set_position_mode(venue: Venue) -> None:
    acct = funded(venue)

    out = venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)

    assert acct.dual_side is True
    [event] = out.events
    assert isinstance(event, AccountConfigUpdate)
    assert to_wire(event)["ai"]["d"] is True
    assert "ac" not in to_wire(event)


def test_set_position_mode_unchanged(venue: Venue) -> None:
    acct = funded(venue)

    err = rejected(venue, acct, ops.set_position_mode, -4059, dual_side_position=False)

    assert err.msg == "No need to change position side."


def test_set_position_mode_with_open_orders_anywhere(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.01")
    limit(venue, acct, BUY, "1", "2900", symbol="ETHUSDT")  # -4067 comes before -4068

    rejected(venue, acct, ops.set_position_mode, -4067, dual_side_position=True)


def test_set_position_mode_with_a_position(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, SELL, "0.01")

    rejected(venue, acct, ops.set_position_mode, -4068, dual_side_position=True)


def test_set_multi_assets_mode(venue: Venue) -> None:
    acct = funded(venue)

    out = venue.apply(acct.account_id, ops.set_multi_assets_mode, NOW, multi_assets_margin=True)

    assert acct.multi_assets is True
    [event] = out.events
    assert to_wire(event)["ai"]["j"] is True


def test_set_multi_assets_mode_unchanged(venue: Venue) -> None:
    acct = funded(venue)

    rejected(venue, acct, ops.set_multi_assets_mode, -4171, multi_assets_margin=False)


def test_multi_assets_mode_is_refused_while_a_symbol_is_isolated(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="ETHUSDT", margin_type=MarginType.ISOLATED
    )

    err = rejected(venue, acct, ops.set_multi_assets_mode, -4167, multi_assets_margin=True)

    assert err.details["symbols"] == ["ETHUSDT"]


def test_multi_assets_mode_off_is_refused_when_usdt_cannot_carry_the_positions(
    venue: Venue,
) -> None:
    acct = venue.open_account(T0)
    venue.apply(acct.account_id, ops.deposit, T0, asset="BTC", amount=D(1))
    venue.apply(acct.account_id, ops.set_multi_assets_mode, NOW, multi_assets_margin=True)
    # collateral 1 × 100000 × 0.95 = 95000 carries IM 50000 / 20 = 2500; USDT wallet −17.5
    market(venue, acct, BUY, "1")

    before = acct.to_dict()
    with pytest.raises(AsterError):
        venue.apply(acct.account_id, ops.set_multi_assets_mode, NOW, multi_assets_margin=False)
    assert acct.to_dict() == before


# --- orders: market fills --------------------------------------------------------------------


def test_market_buy_fills_at_the_mark_as_taker(venue: Venue) -> None:
    acct = funded(venue)

    out = market(venue, acct, BUY, "0.1", new_client_order_id="my-1")

    pos = acct.positions[("BTCUSDT", BOTH)]
    assert (pos.amount, pos.entry_price) == (D("0.1"), D(50000))
    commission = D("1.75")  # 0.1 × 50000 × 0.00035
    assert acct.wallet("USDT") == D(1000) - commission
    [fee] = incomes(venue, acct, IncomeType.COMMISSION)
    trade = next(r for r in out.records if isinstance(r, TradeRecord))
    assert (fee.income, fee.symbol, fee.trade_id) == (-commission, "BTCUSDT", trade.trade_id)
    assert (trade.price, trade.quantity, trade.commission, trade.maker) == (
        D(50000),
        D("0.1"),
        commission,
        False,
    )
    assert out.result.status is OrderStatus.FILLED
    assert out.result.client_order_id == "my-1"
    new, traded = order_updates(out)
    assert new.order.execution_type is ExecutionType.NEW
    assert_contains(
        to_wire(traded)["o"],
        {
            "x": "TRADE",
            "X": "FILLED",
            "l": "0.100",
            "L": "50000",
            "n": "1.75000000",
            "N": "USDT",
            "m": False,
        },
    )
    [update] = account_updates(out)
    assert update.update.reason is AccountUpdateReason.ORDER
    assert_contains(to_wire(update)["a"]["P"][0], {"pa": "0.100", "ep": "50000"})
    assert out.events.index(traded) < out.events.index(update)  # the order first
    assert venue.wallet_equals_ledger(acct.account_id)


def test_fills_average_the_entry_price(venue: Venue) -> None:
    acct = funded(venue, "10000")
    market(venue, acct, BUY, "0.1")
    venue.set_mark("BTCUSDT", D(52000), NOW)

    market(venue, acct, BUY, "0.1")

    # (0.1 × 50000 + 0.1 × 52000) / 0.2 = 51000
    assert acct.positions[("BTCUSDT", BOTH)].entry_price == D(51000)
    assert acct.positions[("BTCUSDT", BOTH)].amount == D("0.2")


def test_reduction_realizes_pnl_with_the_trade_id(venue: Venue) -> None:
    acct = funded(venue, "10000")
    market(venue, acct, BUY, "0.2")
    venue.set_mark("BTCUSDT", D(53000), NOW)

    out = market(venue, acct, SELL, "0.05")

    # realized = 0.05 × (53000 − 50000) = 150; commission = 0.05 × 53000 × 0.00035 = 0.9275
    trade = next(r for r in out.records if isinstance(r, TradeRecord))
    [pnl] = incomes(venue, acct, IncomeType.REALIZED_PNL)
    assert (pnl.income, pnl.trade_id) == (D(150), trade.trade_id)
    assert incomes(venue, acct, IncomeType.COMMISSION)[-1].income == D("-0.9275")
    pos = acct.positions[("BTCUSDT", BOTH)]
    assert (pos.amount, pos.entry_price, pos.realized) == (D("0.15"), D(50000), D(150))
    assert to_wire(order_updates(out)[-1])["o"]["rp"] == "150.00000000"
    # 10000 − 0.2 × 50000 × 0.00035 + 150 − 0.9275 = 10145.5725
    assert acct.wallet("USDT") == D("10145.5725")
    assert venue.wallet_equals_ledger(acct.account_id)


def test_one_way_fill_flips_through_zero(venue: Venue) -> None:
    acct = funded(venue, "10000")
    market(venue, acct, BUY, "0.1")
    venue.set_mark("BTCUSDT", D(49000), NOW)

    market(venue, acct, SELL, "0.3")

    pos = acct.positions[("BTCUSDT", BOTH)]
    assert (pos.amount, pos.entry_price) == (D("-0.2"), D(49000))  # the rest opens at the fill
    [pnl] = incomes(venue, acct, IncomeType.REALIZED_PNL)
    assert pnl.income == D(-100)  # 0.1 × (49000 − 50000)


def test_closing_to_zero_resets_the_entry(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")

    market(venue, acct, SELL, "0.1")

    pos = acct.position("BTCUSDT", BOTH)
    assert (pos.amount, pos.entry_price) == (0, 0)
    assert acct.open_positions() == []


def test_hedge_mode_keeps_long_and_short_apart(venue: Venue) -> None:
    acct = funded(venue, "10000")
    venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)

    market(venue, acct, BUY, "0.1", position_side=LONG)
    market(venue, acct, SELL, "0.04", position_side=SHORT)
    market(venue, acct, SELL, "0.03", position_side=LONG)

    assert acct.positions[("BTCUSDT", LONG)].amount == D("0.07")  # 0.1 − 0.03
    assert acct.positions[("BTCUSDT", SHORT)].amount == D("-0.04")
    assert ("BTCUSDT", BOTH) not in acct.positions


def test_isolated_fill_moves_margin_into_the_position(venue: Venue) -> None:
    acct = isolated_short(venue)

    assert acct.positions[("BTCUSDT", BOTH)].isolated_wallet == D(500)  # 0.1 × 50000 / 10
    assert acct.wallet("USDT") == D("998.25")  # 1000 − 1.75 commission
    assert figures(venue, acct).assets["USDT"].cross_wallet_balance == D("498.25")


def test_isolated_close_returns_the_margin(venue: Venue) -> None:
    acct = isolated_short(venue)
    venue.set_mark("BTCUSDT", D(49000), NOW)

    market(venue, acct, BUY, "0.1")

    # realized 0.1 × (50000 − 49000) = 100; commission 0.1 × 49000 × 0.00035 = 1.715
    assert acct.open_positions() == []
    assert acct.wallet("USDT") == D("1096.535")  # 998.25 + 100 − 1.715
    assert figures(venue, acct).assets["USDT"].cross_wallet_balance == D("1096.535")


# --- orders: limit orders --------------------------------------------------------------------


def test_limit_order_rests_and_reserves_margin(venue: Venue) -> None:
    acct = funded(venue)

    out = limit(venue, acct, BUY, "0.1", "49000")

    order = out.result
    assert order.status is OrderStatus.NEW
    assert acct.orders == {order.order_id: order}
    assert out.records == []
    [new] = order_updates(out)
    assert new.order.execution_type is ExecutionType.NEW
    figs = figures(venue, acct)
    assert figs.assets["USDT"].open_order_initial_margin == D(245)  # 0.1 × 49000 / 20
    assert figs.available_balance == D(755)  # 1000 − 245


def test_resting_limit_fills_as_maker_when_the_mark_crosses(venue: Venue) -> None:
    acct = funded(venue)
    order = limit(venue, acct, BUY, "0.1", "49000").result

    results = venue.set_mark("BTCUSDT", D("48900"), NOW)

    pos = acct.positions[("BTCUSDT", BOTH)]
    assert (pos.amount, pos.entry_price) == (D("0.1"), D(49000))  # at its own price
    assert acct.orders == {}
    [fee] = incomes(venue, acct, IncomeType.COMMISSION)
    assert fee.income == D("-0.49")  # 0.1 × 49000 × 0.0001 maker
    traded = order_updates(results[acct.account_id])[0]
    assert_contains(
        to_wire(traded)["o"], {"i": order.order_id, "x": "TRADE", "m": True, "L": "49000"}
    )
    assert venue.wallet_equals_ledger(acct.account_id)


def test_resting_limit_does_not_fill_before_the_mark_crosses(venue: Venue) -> None:
    acct = funded(venue)
    limit(venue, acct, SELL, "0.1", "51000")

    venue.set_mark("BTCUSDT", D("50999.9"), NOW)

    assert len(acct.orders) == 1
    assert acct.open_positions() == []


def test_crossing_limit_fills_at_once_as_taker(venue: Venue) -> None:
    acct = funded(venue)

    out = limit(venue, acct, SELL, "0.1", "49500")

    assert out.result.status is OrderStatus.FILLED
    assert acct.positions[("BTCUSDT", BOTH)].entry_price == D(50000)  # at the mark
    assert incomes(venue, acct, IncomeType.COMMISSION)[0].income == D("-1.75")  # taker


def test_crossing_limit_buy_pays_its_open_loss_in_the_margin_check(venue: Venue) -> None:
    # cost = 0.1 × 50500 / 20 + 0.1 × |min(0, 50000 − 50500)| = 252.5 + 50 = 302.5
    short = funded(venue, "302.49")
    enough = funded(venue, "302.5")

    err = rejected_limit(venue, short, -2019, BUY, "0.1", "50500")
    limit(venue, enough, BUY, "0.1", "50500")

    assert (err.details["required"], err.details["available"]) == (D("302.5"), D("302.49"))
    assert enough.positions[("BTCUSDT", BOTH)].amount == D("0.1")


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_immediate_limit_that_does_not_cross_expires(venue: Venue, tif: TimeInForce) -> None:
    acct = funded(venue)
    before = acct.to_dict()

    out = limit(venue, acct, BUY, "0.1", "49000", time_in_force=tif)

    assert out.result.status is OrderStatus.EXPIRED
    assert acct.to_dict() == before


def test_post_only_limit_that_would_cross_expires(venue: Venue) -> None:
    acct = funded(venue)
    before = acct.to_dict()

    out = limit(venue, acct, BUY, "0.1", "50000", time_in_force=TimeInForce.GTX)

    assert out.result.status is OrderStatus.EXPIRED
    assert acct.to_dict() == before
    # only the order's history row: it can still be queried (GET /fapi/v1/order)
    assert [(type(r).__name__, r.order.status) for r in out.records] == [
        ("OrderRecord", OrderStatus.EXPIRED)
    ]


def test_reduce_only_fills_at_most_the_position(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")

    out = market(venue, acct, SELL, "0.5", reduce_only=True)

    assert out.result.executed_qty == D("0.1")
    assert acct.open_positions() == []


def test_resting_reduce_only_without_a_position_expires_when_crossed(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")
    order = limit(venue, acct, SELL, "0.1", "51000", reduce_only=True).result
    market(venue, acct, SELL, "0.1")  # the position is gone, the order still rests
    written = ledger_size(venue)

    results = venue.set_mark("BTCUSDT", D(51000), NOW)

    assert acct.orders == {}
    assert acct.open_positions() == []
    [expired] = order_updates(results[acct.account_id])
    assert (expired.order.order_id, expired.order.execution_type, expired.order.status) == (
        order.order_id,
        ExecutionType.EXPIRED,
        OrderStatus.EXPIRED,
    )
    assert ledger_size(venue) == written


def test_resting_reduce_only_fills_at_most_what_is_left(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")
    limit(venue, acct, SELL, "0.1", "51000", reduce_only=True)
    market(venue, acct, SELL, "0.04")  # 0.06 left

    venue.set_mark("BTCUSDT", D(51000), NOW)

    assert acct.open_positions() == []
    assert venue.ledger.trades[-1].quantity == D("0.06")


def test_reduce_only_limit_reserves_nothing(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")  # available 998.25 − 250 = 748.25

    limit(venue, acct, SELL, "0.1", "52000", reduce_only=True)

    assert figures(venue, acct).available_balance == D("748.25")


# --- orders: errors --------------------------------------------------------------------------


def test_order_position_side_must_match_the_mode(venue: Venue) -> None:
    one_way = funded(venue)
    hedge = funded(venue)
    venue.apply(hedge.account_id, ops.set_position_mode, NOW, dual_side_position=True)

    rejected_market(venue, one_way, -4061, BUY, "0.01", position_side=LONG)
    rejected_market(venue, hedge, -4061, BUY, "0.01")
    err = rejected_market(venue, hedge, -4061, BUY, "0.01", position_side=BOTH)

    assert err.msg == "Order's position side does not match user's setting."


def test_order_margin_insufficient(venue: Venue) -> None:
    acct = funded(venue, "100")

    # IM 0.021 × 50000 / 20 = 52.5 each; the second leaves 47.5 − 0.3675 < 52.5
    market(venue, acct, BUY, "0.021")
    err = rejected_market(venue, acct, -2019, BUY, "0.021")

    assert err.msg == "Margin is insufficient."


def test_isolated_order_margin_comes_from_the_cross_balance(venue: Venue) -> None:
    acct = funded(venue, "100")
    venue.apply(
        acct.account_id, ops.set_margin_type, NOW, symbol="BTCUSDT", margin_type=MarginType.ISOLATED
    )
    market(venue, acct, BUY, "0.019")  # iw 0.019 × 50000 / 20 = 47.5

    rejected_market(venue, acct, -2019, BUY, "0.021")  # 52.5 > 100 − 47.5 − 0.3325


def test_order_closing_part_needs_no_margin(venue: Venue) -> None:
    acct = funded(venue, "300")
    market(venue, acct, BUY, "0.1")  # available 298.25 − 250 = 48.25
    # uPnL −240: margin balance 58.25 > MM 4760 × 0.005 − 1.25 = 22.55, available 0
    venue.set_mark("BTCUSDT", D(47600), NOW)
    assert figures(venue, acct).available_balance == 0

    out = market(venue, acct, SELL, "0.1")

    assert out.result.status is OrderStatus.FILLED
    assert acct.open_positions() == []


def test_order_flip_needs_margin_for_the_opening_part(venue: Venue) -> None:
    acct = funded(venue, "300")
    market(venue, acct, BUY, "0.1")  # available 48.25

    # opening part 0.2 − 0.1 = 0.1: 250 > 48.25
    rejected_market(venue, acct, -2019, SELL, "0.2")


def test_reduce_only_without_a_position(venue: Venue) -> None:
    acct = funded(venue)

    err = rejected_market(venue, acct, -2022, SELL, "0.01", reduce_only=True)

    assert err.msg == "ReduceOnly Order is rejected."


def test_reduce_only_in_the_position_direction(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "0.1")

    rejected_market(venue, acct, -2022, BUY, "0.01", reduce_only=True)


def test_hedge_close_larger_than_the_side(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)

    rejected_market(venue, acct, -2022, SELL, "0.101", position_side=LONG)
    rejected_market(venue, acct, -2022, BUY, "0.01", position_side=SHORT)


def test_hedge_mode_refuses_the_reduce_only_parameter(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)

    rejected_market(venue, acct, -1106, SELL, "0.05", position_side=LONG, reduce_only=True)


def test_hedge_closing_orders_never_turn_a_long_leg_short(venue: Venue) -> None:
    acct = funded(venue)
    venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=LONG)
    limit(venue, acct, SELL, "0.1", "50500", position_side=LONG)
    try:
        limit(venue, acct, SELL, "0.1", "50500", position_side=LONG)
    except AsterError as err:  # refusing the second close is as good as capping its fill
        assert err.code == -2022

    venue.set_mark("BTCUSDT", D(50600), NOW)

    assert acct.position("BTCUSDT", LONG).amount == 0  # not −0.1


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"type": MARKET_ORDER, "quantity": "0"}, -4003),
        ({"type": MARKET_ORDER, "quantity": "-0.1"}, -4003),
        ({"type": MARKET_ORDER, "quantity": "0.0005"}, -4004),  # min qty 0.001
        ({"type": MARKET_ORDER, "quantity": "10.001"}, -4005),  # market max qty 10
        ({"type": LIMIT, "quantity": "100.001", "price": "49000"}, -4005),  # max qty 100
        ({"type": MARKET_ORDER, "quantity": "0.0015"}, -4023),  # step 0.001
        ({"type": LIMIT, "quantity": "0.01", "price": "0"}, -4001),
        ({"type": LIMIT, "quantity": "0.01", "price": "-5"}, -4001),
        ({"type": LIMIT, "quantity": "0.01", "price": "0.5"}, -4013),  # min price 1
        ({"type": LIMIT, "quantity": "0.01", "price": "1000000.1"}, -4002),  # max 1000000
        ({"type": LIMIT, "quantity": "0.01", "price": "49000.05"}, -4014),  # tick 0.1
        ({"type": LIMIT, "quantity": "0.01", "price": "51000.1"}, -4016),  # > 50000 × 1.02
        # below 50000 × 0.98
        ({"type": LIMIT, "quantity": "0.01", "price": "48999.9", "side": SELL}, -4024),
    ],
)
def test_order_filters(venue: Venue, kw: dict[str, Any], code: int) -> None:
    acct = funded(venue)
    params: dict[str, Any] = {"symbol": "BTCUSDT", "side": BUY} | kw
    params["quantity"] = D(params["quantity"])
    if "price" in params:
        params["price"] = D(params["price"])
        params["time_in_force"] = GTC

    rejected(venue, acct, ops.new_order, code, **params)


def test_order_price_at_the_percent_price_limits_is_accepted(venue: Venue) -> None:
    acct = funded(venue)

    limit(venue, acct, BUY, "0.01", "51000")  # 50000 × 1.02, crosses and fills
    limit(venue, acct, SELL, "0.02", "49000")  # 50000 × 0.98, crosses and fills

    assert acct.positions[("BTCUSDT", BOTH)].amount == D("-0.01")


def test_order_min_notional(venue: Venue) -> None:
    acct = funded(venue)

    # TRUTHUSDT at mark 1: 4 × 1 = 4 < 5
    err = rejected_market(venue, acct, -4164, BUY, "4", symbol="TRUTHUSDT")
    market(venue, acct, BUY, "5", symbol="TRUTHUSDT")  # 5 × 1 = 5

    assert "no smaller than 5" in err.msg
    assert acct.positions[("TRUTHUSDT", BOTH)].amount == 5


def test_reduce_only_is_exempt_from_min_notional(venue: Venue) -> None:
    acct = funded(venue)
    market(venue, acct, BUY, "5", symbol="TRUTHUSDT")

    market(venue, acct, SELL, "1", symbol="TRUTHUSDT", reduce_only=True)

    assert acct.positions[("TRUTHUSDT", BOTH)].amount == 4


def test_order_above_the_leverage_notional_cap(venue: Venue) -> None:
    acct = funded(venue, "1000000")

    # 51 × 49000 = 2,499,000 ≤ 2,500,000 at 20x; 52 × 49000 = 2,548,000 >
    limit(venue, acct, BUY, "51", "49000")
    rejected_limit(venue, acct, -2027, BUY, "52", "49000")


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"type": MARKET_ORDER}, -1102),  # no quantity
        ({"type": LIMIT, "quantity": "0.01", "time_in_force": GTC}, -1102),  # no price
        ({"type": LIMIT, "quantity": "0.01", "price": "49000"}, -1102),  # no timeInForce
        ({"type": MARKET_ORDER, "quantity": "0.01", "price": "49000"}, -1106),
        ({"type": MARKET_ORDER, "quantity": "0.01", "time_in_force": GTC}, -1106),
        ({"type": OrderType.STOP_MARKET, "quantity": "0.01"}, -1020),
        ({"type": MARKET_ORDER, "quantity": "0.01", "new_client_order_id": "bad id!"}, -4015),
    ],
)
def test_order_parameter_errors(venue: Venue, kw: dict[str, Any], code: int) -> None:
    acct = funded(venue)
    params: dict[str, Any] = {"symbol": "BTCUSDT", "side": BUY} | kw
    for name in ("quantity", "price"):
        if name in params:
            params[name] = D(params[name])

    rejected(venue, acct, ops.new_order, code, **params)


def test_order_unknown_symbol(venue: Venue) -> None:
    acct = funded(venue)

    rejected_market(venue, acct, -1121, BUY, "1", symbol="FOOUSDT")


def test_order_client_order_id_must_be_unique_among_open_orders(venue: Venue) -> None:
    acct = funded(venue)
    limit(venue, acct, BUY, "0.01", "49000", new_client_order_id="dup")

    rejected_limit(venue, acct, -4015, BUY, "0.01", "48000", new_client_order_id="dup")


def test_order_needs_trading_permission(venue: Venue) -> None:
    acct = funded(venue, can_trade=False)

    rejected_market(venue, acct, -2015, BUY, "0.01")


def test_open_order_limit_per_symbol(venue: Venue) -> None:
    acct = funded(venue, "100000")
    for _ in range(ops.MAX_OPEN_ORDERS_PER_SYMBOL):
        limit(venue, acct, BUY, "0.001", "40000")

    rejected_limit(venue, acct, -2025, BUY, "0.001", "40000")


def test_an_accepted_order_never_leaves_the_available_balance_negative(venue: Venue) -> None:
    acct = funded(venue, "100")

    # IM 0.04 × 50000 / 20 = 100 = available; the fee 0.04 × 50000 × 0.00035 = 0.7 on top
    try:
        market(venue, acct, BUY, "0.04")
    except AsterError as err:
        assert err.code == -2019

    assert raw_available(venue, acct) >= 0  # accepted as is: 100 − 0.7 − 100 = −0.7


@pytest.mark.parametrize("dual_side", [False, True])
def test_a_closing_limit_order_reserves_no_margin(venue: Venue, dual_side: bool) -> None:
    acct = funded(venue, "300")
    side = LONG if dual_side else None
    if dual_side:
        venue.apply(acct.account_id, ops.set_position_mode, NOW, dual_side_position=True)
    market(venue, acct, BUY, "0.1", position_side=side)  # available 298.25 − 250 = 48.25

    limit(venue, acct, SELL, "0.1", "51000", position_side=side)

    af = figures(venue, acct).assets["USDT"]
    assert af.open_order_initial_margin == 0
    assert af.available_balance == D("48.25")  # not 48.25 − 0.1 × 51000 / 20 < 0


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_order_releases_its_margin(venue: Venue) -> None:
    acct = funded(venue)
    order = limit(venue, acct, BUY, "0.1", "49000").result

    out = venue.apply(
        acct.account_id, ops.cancel_order, NOW, symbol="BTCUSDT", order_id=order.order_id
    )

    assert acct.orders == {}
    assert out.result.status is OrderStatus.CANCELED
    [event] = order_updates(out)
    assert (event.order.execution_type, event.order.status) == (
        ExecutionType.CANCELED,
        OrderStatus.CANCELED,
    )
    assert figures(venue, acct).available_balance == D(1000)
    # only the order's history row: it can still be queried (GET /fapi/v1/order)
    assert [(type(r).__name__, r.order.status) for r in out.records] == [
        ("OrderRecord", OrderStatus.CANCELED)
    ]


def test_cancel_order_by_client_order_id(venue: Venue) -> None:
    acct = funded(venue)
    limit(venue, acct, BUY, "0.1", "49000", new_client_order_id="keep")
    limit(venue, acct, BUY, "0.1", "48000", new_client_order_id="drop")

    venue.apply(
        acct.account_id, ops.cancel_order, NOW, symbol="BTCUSDT", orig_client_order_id="drop"
    )

    assert [o.client_order_id for o in acct.orders.values()] == ["keep"]


def test_cancel_order_errors(venue: Venue) -> None:
    acct = funded(venue)
    order = limit(venue, acct, BUY, "0.1", "49000").result

    rejected(venue, acct, ops.cancel_order, -2011, symbol="BTCUSDT", order_id=order.order_id + 99)
    rejected(venue, acct, ops.cancel_order, -2011, symbol="ETHUSDT", order_id=order.order_id)
    rejected(venue, acct, ops.cancel_order, -1102, symbol="BTCUSDT")
    rejected(venue, acct, ops.cancel_order, -1121, symbol="NOUSDT", order_id=order.order_id)


def test_cancel_all_open_orders_of_one_symbol(venue: Venue) -> None:
    acct = funded(venue)
    limit(venue, acct, BUY, "0.01", "49000")
    limit(venue, acct, SELL, "0.01", "51000")
    eth = limit(venue, acct, BUY, "1", "2900", symbol="ETHUSDT").result

    out = venue.apply(acct.account_id, ops.cancel_all_open_orders, NOW, symbol="BTCUSDT")

    assert list(acct.orders) == [eth.order_id]
    assert [e.order.status for e in order_updates(out)] == [OrderStatus.CANCELED] * 2


def test_cancel_all_open_orders_unknown_symbol(venue: Venue) -> None:
    acct = funded(venue)

    rejected(venue, acct, ops.cancel_all_open_orders, -1121, symbol="NOUSDT")
