"""The store contract, run on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from aster_account.engine.ledger import (
    DAY_MS,
    ForceOrderRecord,
    IncomeRecord,
    MarginChangeRecord,
    MemoryLedger,
    OrderRecord,
    TradeRecord,
    TransferRecord,
)
from aster_account.engine.prices import MarkPrice
from aster_account.engine.state import Account, Order, Position, SymbolConfig
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderStatus,
    OrderType,
    Permission,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
    TransferKind,
    WorkingType,
)
from aster_account.protocol.errors import AsterError
from aster_account.store import (
    AccountTx,
    ApiKey,
    ListenKeyRow,
    SqliteStore,
    Store,
    UnknownAccountError,
    open_store,
)
from aster_account.store import __all__ as store_all
from aster_account.store.schema import SCHEMA_VERSION

NOW = 1_760_000_000_000  # a fixed "now" in ms; history tests place records around it
USDT = "USDT"


def rich_account(account_id: int) -> Account:
    """Every kind of state an account holds, with decimals that a float would not keep."""
    return Account(
        account_id=account_id,
        alias="desk-1",
        fee_tier=2,
        permissions=frozenset({Permission.USER_DATA, Permission.TRADE}),
        can_withdraw=False,
        futures={USDT: Decimal("1000.123456789012345678"), "USDC": Decimal("-0.1")},
        spot={USDT: Decimal("5.00")},
        dual_side=True,
        multi_assets=True,
        configs={
            "BTCUSDT": SymbolConfig(20, MarginType.ISOLATED),
            "ETHUSDT": SymbolConfig(5),
        },
        positions={
            ("BTCUSDT", PositionSide.LONG): Position(
                "BTCUSDT",
                PositionSide.LONG,
                amount=Decimal("0.010"),
                entry_price=Decimal("60123.4"),
                isolated_wallet=Decimal("30.0617"),
                realized=Decimal("-1.25"),
                update_time=NOW - 5,
            ),
            ("ETHUSDT", PositionSide.SHORT): Position(
                "ETHUSDT", PositionSide.SHORT, amount=Decimal("-2"), entry_price=Decimal("3000")
            ),
        },
        orders={
            7: Order(
                order_id=7,
                client_order_id="my-order",
                symbol="BTCUSDT",
                side=OrderSide.BUY,
                position_side=PositionSide.LONG,
                type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                quantity=Decimal("0.005"),
                price=Decimal("59000.1"),
                reduce_only=False,
                time=NOW - 10,
                update_time=NOW - 9,
                status=OrderStatus.PARTIALLY_FILLED,
                executed_qty=Decimal("0.001"),
                cum_quote=Decimal("59.0001"),
                stop_price=Decimal("0"),
                working_type=WorkingType.MARK_PRICE,
                close_position=False,
                price_protect=True,
            )
        },
        update_time=NOW,
        asset_update_time={USDT: NOW - 1},
    )


def plain_account(account_id: int) -> Account:
    return Account(account_id)


def income(
    account_id: int,
    tran_id: int,
    amount: str,
    time: int,
    *,
    income_type: IncomeType = IncomeType.TRANSFER,
    symbol: str = "",
    asset: str = USDT,
    trade_id: int | None = None,
) -> IncomeRecord:
    return IncomeRecord(
        account_id=account_id,
        tran_id=tran_id,
        asset=asset,
        income_type=income_type,
        income=Decimal(amount),
        time=time,
        symbol=symbol,
        info=income_type.value,
        trade_id=trade_id,
    )


def transfer_in(
    tx: AccountTx, client_tran_id: str, amount: str, at: int = NOW
) -> list[IncomeRecord | TransferRecord]:
    """What the engine's SPOT_FUTURE transfer writes: the wallet change and the transfer."""
    tran_id = tx.ids("tran")
    account_id = tx.account_id
    return [
        income(account_id, tran_id, amount, at),
        TransferRecord(
            account_id,
            tran_id,
            client_tran_id,
            USDT,
            Decimal(amount),
            TransferKind.SPOT_FUTURE,
            at,
        ),
    ]


def append(store: Store, account_id: int, records: list[object]) -> None:
    with store.account(account_id) as tx:
        tx.save(tx.account, records)  # type: ignore[arg-type]


# -- opening ------------------------------------------------------------------------------------


def test_exports_are_complete() -> None:
    import aster_account.store as module

    public = {n for n in vars(module) if not n.startswith("_")} - {"annotations"}
    submodules = {"base", "schema", "sqlite", "postgres"}
    assert set(store_all) == public - submodules


def test_reopening_keeps_data_and_schema_version(store_url: str) -> None:
    # Arrange: a store with one account, closed.
    first = open_store(store_url)
    account = first.create_account(rich_account)
    first.close()

    # Act: open again (the schema creation must be idempotent).
    again = open_store(store_url)
    try:
        # Assert
        assert again.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert again.load_account(account.account_id) == account
    finally:
        again.close()


def test_open_store_rejects_unknown_schemes_without_echoing_the_url() -> None:
    with pytest.raises(ValueError, match="'mysql'") as caught:
        open_store("mysql://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError, match="no database path"):
        open_store("sqlite:///")


# -- accounts -----------------------------------------------------------------------------------


def test_account_state_round_trips_exactly(store: Store) -> None:
    created = store.create_account(rich_account)

    loaded = store.load_account(created.account_id)

    assert loaded == created
    # Equal Decimals can differ in text ("5.00" vs "5"); the stored form keeps the text too.
    assert loaded is not None and loaded.to_dict() == created.to_dict()


def test_create_account_allocates_fresh_ids(store: Store) -> None:
    ids = [store.create_account(plain_account).account_id for _ in range(3)]

    assert len(set(ids)) == 3
    assert store.account_ids() == sorted(ids)
    assert store.load_account(max(ids) + 1000) is None


def test_create_account_rejects_a_build_with_another_id(store: Store) -> None:
    with pytest.raises(ValueError, match="built account"):
        store.create_account(lambda _id: Account(999_999))
    assert store.account_ids() == []


def test_unknown_account_transaction_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError), store.account(424242):
        pass
    with pytest.raises(UnknownAccountError, match="no account 424242"), store.account(424242):
        pass


def test_save_writes_state_and_bumps_version(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id

    with store.account(account_id) as tx:
        assert tx.version == 1
        tx.account.alias = "renamed"
        tx.save(tx.account, [])
        assert tx.version == 2

    with store.account(account_id) as tx:
        assert tx.version == 2
        assert tx.account.alias == "renamed"


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    # Arrange
    account_id = store.create_account(plain_account).account_id
    before = store.load_account(account_id)

    # Act: save state, history and a transfer, then fail before the block ends.
    with pytest.raises(RuntimeError, match="boom"), store.account(account_id) as tx:
        account = tx.account
        account.futures[USDT] = Decimal("100")
        tx.save(account, transfer_in(tx, "cid-1", "100"))
        raise RuntimeError("boom")

    # Assert: not a trace (ids drawn may be consumed; nothing else is).
    assert store.load_account(account_id) == before
    assert store.income(account_id, now_ms=NOW) == []
    assert store.transfer(account_id, "cid-1") is None
    assert store.ledger_sum(account_id, USDT) == 0
    with store.account(account_id) as tx:
        assert tx.version == 1
        assert not tx.client_tran_id_seen("cid-1", NOW)


def test_the_transaction_is_unusable_after_the_block(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        pass

    with pytest.raises(RuntimeError, match="has ended"):
        tx.ids("tran")
    with pytest.raises(RuntimeError, match="has ended"):
        tx.save(tx.account, [])


def test_save_refuses_other_accounts_state_or_records(store: Store) -> None:
    a = store.create_account(plain_account).account_id
    b = store.create_account(plain_account).account_id

    with store.account(a) as tx:
        with pytest.raises(ValueError):
            tx.save(Account(b), [])
        with pytest.raises(ValueError):
            tx.save(tx.account, [income(b, tx.ids("tran"), "1", NOW)])


def test_a_nested_write_on_the_same_thread_is_refused(store: Store) -> None:
    a = store.create_account(plain_account).account_id
    b = store.create_account(plain_account).account_id

    with store.account(a):
        with pytest.raises(RuntimeError, match="already open"), store.account(b):
            pass
        with pytest.raises(RuntimeError, match="already open"):
            store.set_meta("k", "v")
    # The refusal left nothing behind: writes work again.
    store.set_meta("k", "v")
    assert store.get_meta("k") == "v"


def test_ids_are_fresh_per_kind(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id

    drawn: dict[str, list[int]] = {"tran": [], "trade": [], "order": []}
    for _ in range(2):
        with store.account(account_id) as tx:
            for kind, values in drawn.items():
                values += [tx.ids(kind), tx.ids(kind)]

    for values in drawn.values():
        assert len(set(values)) == len(values) == 4
        assert values == sorted(values)
    with store.account(account_id) as tx, pytest.raises(ValueError, match="unknown id kind"):
        tx.ids("account")


# -- history ------------------------------------------------------------------------------------


def test_every_record_type_round_trips(store: Store) -> None:
    # Arrange: one record of each type, with the optional fields set.
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        tran_id, trade_id, order_id = tx.ids("tran"), tx.ids("trade"), tx.ids("order")
        records = [
            income(
                account_id,
                tran_id,
                "-0.00012345",
                NOW - 3,
                income_type=IncomeType.COMMISSION,
                symbol="BTCUSDT",
                trade_id=trade_id,
            ),
            TransferRecord(
                account_id, tran_id, "cid", USDT, Decimal("12.5"), TransferKind.FUTURE_SPOT, NOW - 3
            ),
            MarginChangeRecord(
                account_id,
                "BTCUSDT",
                PositionSide.LONG,
                USDT,
                Decimal("7.25"),
                PositionMarginChange.REDUCE,
                NOW - 2,
            ),
            ForceOrderRecord(
                account_id=account_id,
                order_id=order_id,
                symbol="BTCUSDT",
                client_order_id="autoclose-1",
                auto_close_type=AutoCloseType.ADL,
                side=OrderSide.SELL,
                position_side=PositionSide.LONG,
                price=Decimal("58000.10"),
                avg_price=Decimal("58001.123"),
                quantity=Decimal("0.010"),
                time=NOW - 1,
                update_time=NOW,
            ),
            TradeRecord(
                account_id=account_id,
                trade_id=trade_id,
                order_id=order_id,
                symbol="BTCUSDT",
                side=OrderSide.SELL,
                position_side=PositionSide.LONG,
                price=Decimal("58001.123"),
                quantity=Decimal("0.010"),
                realized_pnl=Decimal("-21.22"),
                commission=Decimal("0.00012345"),
                commission_asset=USDT,
                maker=True,
                time=NOW - 1,
            ),
        ]
        tx.save(tx.account, records)

    # Act
    found = [
        *store.income(account_id, now_ms=NOW),
        store.transfer(account_id, "cid"),
        *store.margin_history(account_id, now_ms=NOW, symbol="BTCUSDT"),
        *store.force_orders(account_id, now_ms=NOW),
        *store.trades(account_id, symbol="BTCUSDT"),
    ]

    # Assert: equal, including the decimal text.
    assert found == records
    assert [str(getattr(r, "income", "")) for r in found[:1]] == ["-0.00012345"]


def test_income_query_answers_as_the_memory_ledger(store: Store) -> None:
    # Arrange: the same income in the store and in the reference MemoryLedger.
    account_id = store.create_account(plain_account).account_id
    other_id = store.create_account(plain_account).account_id
    times = [NOW - 10 * DAY_MS, NOW - 7 * DAY_MS - 1, NOW - 7 * DAY_MS, NOW - DAY_MS, NOW, NOW + 5]
    reference = MemoryLedger()
    for acct in (account_id, other_id):
        with store.account(acct) as tx:
            records = []
            for i, t in enumerate(times):
                for symbol, kind in (
                    ("BTCUSDT", IncomeType.FUNDING_FEE),
                    ("", IncomeType.TRANSFER),
                    ("ETHUSDT", IncomeType.REALIZED_PNL),
                ):
                    records.append(
                        income(acct, tx.ids("tran"), f"{i}.5", t, income_type=kind, symbol=symbol)
                    )
            tx.save(tx.account, records)
            reference.append(records)

    # Act / Assert: window defaults, inclusive bounds, filters and limit agree everywhere.
    cases: list[dict[str, object]] = [
        {},
        {"limit": 2},
        {"limit": 0},
        {"symbol": "BTCUSDT"},
        {"income_type": IncomeType.TRANSFER},
        {"symbol": "ETHUSDT", "income_type": IncomeType.REALIZED_PNL},
        {"symbol": "ETHUSDT", "income_type": IncomeType.TRANSFER},
        {"start_time": NOW - 7 * DAY_MS},  # end defaults to now
        {"end_time": NOW - DAY_MS},  # start defaults to 7 days before end
        {"start_time": NOW - 10 * DAY_MS, "end_time": NOW + 5},
        {"start_time": NOW - 10 * DAY_MS, "end_time": NOW + 5, "limit": 1000},
        {"start_time": NOW + 1, "end_time": NOW + 4},  # nothing inside
    ]
    for case in cases:
        expected = reference.query_income(account_id, now_ms=NOW, **case)  # type: ignore[arg-type]
        assert store.income(account_id, now_ms=NOW, **case) == expected, case  # type: ignore[arg-type]
    # The default window is [now - 7 days, now]: 3 instants x 3 records.
    assert len(store.income(account_id, now_ms=NOW)) == 9


def test_income_sorts_by_time_then_tran_id(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        late, early_b, early_a = tx.ids("tran"), tx.ids("tran"), tx.ids("tran")
        tx.save(
            tx.account,
            [
                income(account_id, late, "1", NOW),
                income(account_id, early_b, "2", NOW - 1),
                income(account_id, early_a, "3", NOW - 1),
            ],
        )

    found = [r.tran_id for r in store.income(account_id, now_ms=NOW)]

    assert found == [*sorted([early_a, early_b]), late]


def test_margin_history_filters(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id

    def change(symbol: str, kind: PositionMarginChange, t: int) -> MarginChangeRecord:
        return MarginChangeRecord(
            account_id, symbol, PositionSide.BOTH, USDT, Decimal("1.5"), kind, t
        )

    add_old = change("BTCUSDT", PositionMarginChange.ADD, NOW - 8 * DAY_MS)
    add = change("BTCUSDT", PositionMarginChange.ADD, NOW - 2)
    reduce = change("BTCUSDT", PositionMarginChange.REDUCE, NOW - 1)
    eth = change("ETHUSDT", PositionMarginChange.ADD, NOW - 1)
    append(store, account_id, [add_old, add, reduce, eth])

    def query(**kw: object) -> list[MarginChangeRecord]:
        return store.margin_history(account_id, now_ms=NOW, symbol="BTCUSDT", **kw)  # type: ignore[arg-type]

    assert query() == [add, reduce]
    assert query(type=PositionMarginChange.REDUCE) == [reduce]
    assert query(start_time=NOW - 9 * DAY_MS) == [add_old, add, reduce]
    assert query(start_time=NOW - 9 * DAY_MS, limit=1) == [add_old]
    assert query(end_time=NOW - 2) == [add]


def test_force_orders_filters(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id

    def force(order_id: int, symbol: str, kind: AutoCloseType, t: int) -> ForceOrderRecord:
        return ForceOrderRecord(
            account_id=account_id,
            order_id=order_id,
            symbol=symbol,
            client_order_id=f"autoclose-{order_id}",
            auto_close_type=kind,
            side=OrderSide.SELL,
            position_side=PositionSide.BOTH,
            price=Decimal("100"),
            avg_price=Decimal("100"),
            quantity=Decimal("1"),
            time=t,
            update_time=t,
        )

    liq_old = force(1, "BTCUSDT", AutoCloseType.LIQUIDATION, NOW - 8 * DAY_MS)
    liq = force(2, "BTCUSDT", AutoCloseType.LIQUIDATION, NOW - 3)
    adl = force(3, "ETHUSDT", AutoCloseType.ADL, NOW - 2)
    append(store, account_id, [liq_old, liq, adl])

    assert store.force_orders(account_id, now_ms=NOW) == [liq, adl]
    assert store.force_orders(account_id, now_ms=NOW, symbol="ETHUSDT") == [adl]
    assert store.force_orders(
        account_id, now_ms=NOW, auto_close_type=AutoCloseType.LIQUIDATION
    ) == [liq]
    assert store.force_orders(account_id, now_ms=NOW, end_time=NOW - 8 * DAY_MS) == [liq_old]
    assert store.force_orders(account_id, now_ms=NOW, limit=1) == [liq]


def test_trades_queries(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id

    def trade(trade_id: int, symbol: str, t: int) -> TradeRecord:
        return TradeRecord(
            account_id=account_id,
            trade_id=trade_id,
            order_id=trade_id,
            symbol=symbol,
            side=OrderSide.BUY,
            position_side=PositionSide.BOTH,
            price=Decimal("100"),
            quantity=Decimal("1"),
            realized_pnl=Decimal(0),
            commission=Decimal("0.04"),
            commission_asset=USDT,
            maker=False,
            time=t,
        )

    btc = [trade(i, "BTCUSDT", NOW - 10 * DAY_MS + i * DAY_MS) for i in range(1, 6)]
    append(store, account_id, [*btc, trade(99, "ETHUSDT", NOW)])

    # No bounds: the most recent `limit`, still oldest first.
    assert store.trades(account_id, symbol="BTCUSDT") == btc
    assert store.trades(account_id, symbol="BTCUSDT", limit=2) == btc[-2:]
    # Bounds as sent, inclusive; oldest first within them.
    assert store.trades(account_id, symbol="BTCUSDT", start_time=btc[1].time, limit=2) == btc[1:3]
    assert store.trades(account_id, symbol="BTCUSDT", end_time=btc[1].time) == btc[:2]
    assert store.trades(account_id, symbol="BTCUSDT", from_id=4) == btc[3:]
    # With now: the last 7 days by default (days -9 .. -5 place trades 3, 4 and 5 inside).
    assert store.trades(account_id, symbol="BTCUSDT", now_ms=NOW) == btc[2:]


def test_ledger_sum_adds_in_decimal(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        amounts = ["0.1", "0.2", "-0.3", "1e-18", "123456789.000000001"]
        records = [income(account_id, tx.ids("tran"), a, NOW) for a in amounts]
        records.append(income(account_id, tx.ids("tran"), "1000", NOW, asset="USDC"))
        tx.save(tx.account, records)

    # 0.1 + 0.2 - 0.3 + 1e-18 + 123456789.000000001 = 123456789.000000001000000001
    assert store.ledger_sum(account_id, USDT) == Decimal("123456789.000000001000000001")
    assert store.ledger_sum(account_id, "USDC") == Decimal(1000)
    assert store.ledger_sum(account_id, "BNB") == Decimal(0)


# -- clientTranId -------------------------------------------------------------------------------


def test_a_duplicate_client_tran_id_is_refused_by_the_database(store: Store) -> None:
    # Arrange: one committed transfer.
    account_id = store.create_account(plain_account).account_id
    other_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        tx.save(tx.account, transfer_in(tx, "cid-1", "10"))

    # Act: the same id again, skipping the engine's `seen` check.
    with pytest.raises(AsterError) as caught, store.account(account_id) as tx:
        assert tx.client_tran_id_seen("cid-1", NOW)
        tx.account.spot[USDT] = Decimal("-1")
        tx.save(tx.account, transfer_in(tx, "cid-1", "10"))

    # Assert: -4115, and the whole transaction was rolled back.
    assert caught.value.code == -4115
    assert caught.value.msg == "Client tran id should be unique within 7 days"
    assert store.ledger_sum(account_id, USDT) == Decimal(10)
    account = store.load_account(account_id)
    assert account is not None and USDT not in account.spot
    # The id is per account: another account may use it.
    with store.account(other_id) as tx:
        assert not tx.client_tran_id_seen("cid-1", NOW)
        tx.save(tx.account, transfer_in(tx, "cid-1", "10"))


def test_a_client_tran_id_is_free_again_after_seven_days(store: Store) -> None:
    # Arrange: a transfer under "cid-1" at NOW.
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        tx.save(tx.account, transfer_in(tx, "cid-1", "10"))
    week = 7 * 24 * 3600 * 1000

    # Act + Assert: still taken one millisecond before the 7 days are over ...
    with pytest.raises(AsterError) as caught, store.account(account_id) as tx:
        assert tx.client_tran_id_seen("cid-1", NOW + week - 1)
        tx.save(tx.account, transfer_in(tx, "cid-1", "10", NOW + week - 1))
    assert caught.value.code == -4115
    # ... and free at 7 days: both transfers are kept, the newer one is found by id.
    with store.account(account_id) as tx:
        assert not tx.client_tran_id_seen("cid-1", NOW + week)
        tx.save(tx.account, transfer_in(tx, "cid-1", "20", NOW + week))
    assert store.ledger_sum(account_id, USDT) == Decimal(30)  # 10 + 20
    latest = store.transfer(account_id, "cid-1")
    assert latest is not None and latest.amount == Decimal(20)


# -- concurrency --------------------------------------------------------------------------------


def run_threads(count: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert errors == []


def test_concurrent_increments_of_one_account_are_serialised(store: Store) -> None:
    # Arrange: 1 USDT booked with its income entry.
    account_id = store.create_account(plain_account).account_id
    with store.account(account_id) as tx:
        tx.account.futures[USDT] = Decimal(1)
        tx.save(tx.account, [income(account_id, tx.ids("tran"), "1", NOW)])

    def increment_50_times(_n: int) -> None:
        for _ in range(50):
            with store.account(account_id) as tx:
                account = tx.account
                account.futures[USDT] = account.wallet(USDT) + 1
                tx.save(account, [income(account_id, tx.ids("tran"), "1", NOW)])

    # Act: 8 threads x 50 increments.
    run_threads(8, increment_50_times)

    # Assert: 1 + 8 x 50 = 401, and the wallet equals its ledger.
    account = store.load_account(account_id)
    assert account is not None
    assert account.wallet(USDT) == Decimal(401)
    assert store.ledger_sum(account_id, USDT) == Decimal(401)
    with store.account(account_id) as tx:
        assert tx.version == 1 + 1 + 400


def test_two_stores_racing_one_client_tran_id_commit_once(store_url: str) -> None:
    # Two Store objects on one database, as two server processes would be.
    stores = [open_store(store_url), open_store(store_url)]
    try:
        account_id = stores[0].create_account(plain_account).account_id
        start = threading.Barrier(2)
        outcomes: list[str] = []
        outcomes_lock = threading.Lock()

        def transfer(n: int) -> None:
            start.wait()
            try:
                with stores[n].account(account_id) as tx:
                    # No `seen` check: the database constraint alone has to decide.
                    account = tx.account
                    account.futures[USDT] = account.wallet(USDT) + 10
                    tx.save(account, transfer_in(tx, "same-cid", "10"))
                result = "committed"
            except AsterError as exc:
                result = str(exc.code)
            with outcomes_lock:
                outcomes.append(result)

        run_threads(2, transfer)

        assert sorted(outcomes) == ["-4115", "committed"]
        account = stores[1].load_account(account_id)
        assert account is not None and account.wallet(USDT) == Decimal(10)
        assert stores[1].ledger_sum(account_id, USDT) == Decimal(10)
    finally:
        for s in stores:
            s.close()


def test_two_stores_draw_distinct_ids(store_url: str) -> None:
    stores = [open_store(store_url), open_store(store_url)]
    try:
        account_ids = [stores[0].create_account(plain_account).account_id]
        account_ids.append(stores[1].create_account(plain_account).account_id)
        drawn: list[list[int]] = [[], []]

        def draw(n: int) -> None:
            for _ in range(20):
                with stores[n].account(account_ids[n]) as tx:
                    drawn[n].append(tx.ids("order"))

        run_threads(2, draw)

        assert len(set(drawn[0]) | set(drawn[1])) == 40
        assert len(set(account_ids)) == 2
    finally:
        for s in stores:
            s.close()


# -- API keys -----------------------------------------------------------------------------------


def test_api_keys(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id
    perms = frozenset({Permission.USER_DATA, Permission.TRANSFER})

    store.add_api_key(account_id, "key-1", "s3cr3t-value", perms, "bot", created_ms=NOW)

    assert store.api_key("key-1") == ApiKey(
        api_key="key-1",
        account_id=account_id,
        secret="s3cr3t-value",
        permissions=perms,
        enabled=True,
        label="bot",
        created_ms=NOW,
    )
    assert store.api_key("nope") is None
    assert store.set_api_key_enabled("key-1", False)
    key = store.api_key("key-1")
    assert key is not None and not key.enabled
    assert not store.set_api_key_enabled("nope", True)

    store.add_api_key(account_id, "key-2", "x", frozenset())
    key2 = store.api_key("key-2")
    assert key2 is not None and key2.permissions == frozenset() and key2.created_ms > NOW - DAY_MS


def test_api_key_errors(store: Store) -> None:
    account_id = store.create_account(plain_account).account_id
    store.add_api_key(account_id, "key-1", "s", frozenset(Permission))

    with pytest.raises(ValueError, match="already registered"):
        store.add_api_key(account_id, "key-1", "other", frozenset(Permission))
    with pytest.raises(UnknownAccountError):
        store.add_api_key(account_id + 100, "key-2", "s", frozenset(Permission))
    key = store.api_key("key-1")
    assert key is not None and key.secret == "s"


def test_api_key_repr_hides_the_secret() -> None:
    key = ApiKey("public-key", 1, "very-secret-secret", frozenset(Permission), True, "", 0)

    assert "very-secret-secret" not in repr(key)
    assert "very-secret-secret" not in str(key)
    assert "public-key" in repr(key)


# -- marks, meta, listen keys -------------------------------------------------------------------


def test_marks_round_trip_and_update(store: Store) -> None:
    btc = MarkPrice(
        "BTCUSDT",
        Decimal("60000.12345678"),
        Decimal("60001.5"),
        Decimal("-0.00012500"),
        NOW + 3_600_000,
        NOW,
    )
    eth = MarkPrice(
        "ETHUSDT", Decimal("3000"), Decimal("3001"), Decimal("0.0001"), NOW, NOW, Decimal(0)
    )
    store.save_marks([btc, eth])
    assert store.load_marks() == {"BTCUSDT": btc, "ETHUSDT": eth}

    newer = MarkPrice(
        "BTCUSDT", Decimal("61000"), Decimal("61001"), Decimal("0.0002"), NOW, NOW + 1
    )
    store.save_marks([newer])
    store.save_marks([])

    assert store.load_marks() == {"BTCUSDT": newer, "ETHUSDT": eth}
    assert str(store.load_marks()["ETHUSDT"].mark_price) == "3000"


def test_meta(store: Store) -> None:
    assert store.get_meta("clock_offset") is None
    store.set_meta("clock_offset", "15")
    store.set_meta("clock_offset", "-3")
    assert store.get_meta("clock_offset") == "-3"


def test_listen_keys_one_per_account(store: Store) -> None:
    a = store.create_account(plain_account).account_id
    b = store.create_account(plain_account).account_id

    store.put_listen_key(a, "lk-a1", NOW + 60_000)
    store.put_listen_key(b, "lk-b", NOW + 60_000)
    assert store.listen_key("lk-a1") == ListenKeyRow("lk-a1", a, NOW + 60_000)

    # Keepalive: the same key, a later expiry.
    store.put_listen_key(a, "lk-a1", NOW + 120_000)
    assert store.listen_key_for_account(a) == ListenKeyRow("lk-a1", a, NOW + 120_000)

    # A new key replaces the account's old one.
    store.put_listen_key(a, "lk-a2", NOW + 180_000)
    assert store.listen_key("lk-a1") is None
    assert store.listen_key_for_account(a) == ListenKeyRow("lk-a2", a, NOW + 180_000)
    assert store.listen_key_for_account(b) == ListenKeyRow("lk-b", b, NOW + 60_000)

    assert store.delete_listen_key("lk-a2")
    assert not store.delete_listen_key("lk-a2")
    assert store.listen_key_for_account(a) is None


# -- SQLite specifics ---------------------------------------------------------------------------


def test_sqlite_file_is_private_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    old_umask = os.umask(0o002)  # a permissive umask must not leak into the files
    try:
        store = open_store(f"sqlite:///{path}")
    finally:
        os.umask(old_umask)
    try:
        store.create_account(plain_account)
        assert isinstance(store, SqliteStore)
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        with store._read() as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    finally:
        store.close()


def test_sqlite_relative_path_and_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as store:
        store.create_account(plain_account)
    assert (tmp_path / "relative.db").exists()

    with open_store("sqlite:///:memory:") as memory:
        account_id = memory.create_account(plain_account).account_id

        def bump(_n: int) -> None:
            for _ in range(10):
                with memory.account(account_id) as tx:
                    tx.account.futures[USDT] = tx.account.wallet(USDT) + 1
                    tx.save(tx.account, [income(account_id, tx.ids("tran"), "1", NOW)])
                assert memory.load_account(account_id) is not None

        run_threads(4, bump)
        assert memory.ledger_sum(account_id, USDT) == Decimal(40)
        account = memory.load_account(account_id)
        assert account is not None and account.wallet(USDT) == Decimal(40)


def test_closed_sqlite_store_refuses_work(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/closed.db")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.account_ids()


def _order(order_id: int, status: OrderStatus, executed: str) -> Order:
    return Order(
        order_id=order_id,
        client_order_id=f"c{order_id}",
        symbol="BTCUSDT",
        side=OrderSide.BUY,
        position_side=PositionSide.BOTH,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=Decimal("0.1"),
        price=Decimal(50000),
        reduce_only=False,
        time=NOW,
        update_time=NOW,
        status=status,
        executed_qty=Decimal(executed),
        cum_quote=Decimal(executed) * 50000,
    )


def test_orders_that_left_the_book_stay_queryable(store: Store) -> None:
    # Arrange: a filled order and an unfilled canceled one, saved as the engine writes them.
    account_id = store.create_account(plain_account).account_id
    filled, canceled = _order(7, OrderStatus.FILLED, "0.1"), _order(8, OrderStatus.CANCELED, "0")
    with store.account(account_id) as tx:
        tx.save(tx.account, [OrderRecord(account_id, filled), OrderRecord(account_id, canceled)])
    week = 7 * 24 * 3600 * 1000

    # Act + Assert: by id and by client id, round-tripped exactly
    assert store.order(account_id, "BTCUSDT", now_ms=NOW, order_id=7) == filled
    assert store.order(account_id, "BTCUSDT", now_ms=NOW, client_order_id="c8") == canceled
    assert store.order(account_id, "ETHUSDT", now_ms=NOW, order_id=7) is None
    # docs (Query Order): unfilled CANCELED orders are not found once 7 days old; fills stay
    assert store.order(account_id, "BTCUSDT", now_ms=NOW + week + 1, order_id=8) is None
    assert store.order(account_id, "BTCUSDT", now_ms=NOW + week + 1, order_id=7) == filled
