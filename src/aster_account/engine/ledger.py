"""What an account's history is made of: income entries, transfers, margin changes, force orders.

Operations return these records; the store appends them (with database constraints for the
uniqueness money depends on). `MemoryLedger` is the same contract in memory, for tests and
benchmarks, and the reference for the income query rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from aster_account.engine.state import Order
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    OrderSide,
    PositionMarginChange,
    PositionSide,
    TransferKind,
)

DAY_MS = 86_400_000
INCOME_DEFAULT_WINDOW_MS = 7 * DAY_MS
CLIENT_TRAN_ID_UNIQUE_MS = 7 * DAY_MS


@dataclass(frozen=True, slots=True)
class IncomeRecord:
    """One wallet change. Summing an account's records per asset gives its futures wallet."""

    account_id: int
    tran_id: int
    asset: str
    income_type: IncomeType
    income: Decimal
    time: int
    symbol: str = ""
    info: str = ""
    trade_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransferRecord:
    account_id: int
    tran_id: int
    client_tran_id: str
    asset: str
    amount: Decimal
    kind: TransferKind
    time: int


@dataclass(frozen=True, slots=True)
class MarginChangeRecord:
    account_id: int
    symbol: str
    position_side: PositionSide
    asset: str
    amount: Decimal
    type: PositionMarginChange
    time: int


@dataclass(frozen=True, slots=True)
class ForceOrderRecord:
    account_id: int
    order_id: int
    symbol: str
    client_order_id: str
    auto_close_type: AutoCloseType
    side: OrderSide
    position_side: PositionSide
    price: Decimal
    avg_price: Decimal
    quantity: Decimal
    time: int
    update_time: int


@dataclass(frozen=True, slots=True)
class TradeRecord:
    account_id: int
    trade_id: int
    order_id: int
    symbol: str
    side: OrderSide
    position_side: PositionSide
    price: Decimal
    quantity: Decimal
    realized_pnl: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    time: int


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as it left the book (FILLED, CANCELED, EXPIRED), so it can still be queried."""

    account_id: int
    order: Order


LedgerRecord = (
    IncomeRecord
    | TransferRecord
    | MarginChangeRecord
    | ForceOrderRecord
    | TradeRecord
    | OrderRecord
)


def query_window(
    start_time: int | None, end_time: int | None, now_ms: int, window_ms: int
) -> tuple[int, int]:
    """Inclusive [start, end] of a history query: both given as sent; one missing -> a window of
    `window_ms` next to the given one; none -> the last `window_ms` up to now."""
    if start_time is None and end_time is None:
        return now_ms - window_ms, now_ms
    if start_time is None:
        assert end_time is not None
        return end_time - window_ms, end_time
    if end_time is None:
        return start_time, max(now_ms, start_time)
    return start_time, end_time


@dataclass(slots=True)
class MemoryLedger:
    """In-memory history of accounts (tests, benchmarks). Queries answer oldest first."""

    income: list[IncomeRecord] = field(default_factory=list)
    transfers: dict[tuple[int, str], TransferRecord] = field(default_factory=dict)
    margin_changes: list[MarginChangeRecord] = field(default_factory=list)
    force_orders: list[ForceOrderRecord] = field(default_factory=list)
    trades: list[TradeRecord] = field(default_factory=list)
    orders: dict[int, OrderRecord] = field(default_factory=dict)

    def has_client_tran_id(self, account_id: int, client_tran_id: str) -> bool:
        return (account_id, client_tran_id) in self.transfers

    def append(self, records: Iterable[LedgerRecord]) -> None:
        for r in records:
            if isinstance(r, IncomeRecord):
                self.income.append(r)
            elif isinstance(r, TransferRecord):
                key = (r.account_id, r.client_tran_id)
                if key in self.transfers:
                    raise ValueError(f"duplicate clientTranId {r.client_tran_id!r}")
                self.transfers[key] = r
            elif isinstance(r, MarginChangeRecord):
                self.margin_changes.append(r)
            elif isinstance(r, ForceOrderRecord):
                self.force_orders.append(r)
            elif isinstance(r, OrderRecord):
                self.orders[r.order.order_id] = r
            else:
                self.trades.append(r)

    def wallet_sum(self, account_id: int, asset: str) -> Decimal:
        return sum(
            (r.income for r in self.income if r.account_id == account_id and r.asset == asset),
            Decimal(0),
        )

    def query_income(
        self,
        account_id: int,
        *,
        now_ms: int,
        symbol: str | None = None,
        income_type: IncomeType | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 100,
    ) -> list[IncomeRecord]:
        start, end = query_window(start_time, end_time, now_ms, INCOME_DEFAULT_WINDOW_MS)
        rows = [
            r
            for r in self.income
            if r.account_id == account_id
            and start <= r.time <= end
            and (symbol is None or r.symbol == symbol)
            and (income_type is None or r.income_type == income_type)
        ]
        return rows[:limit]
