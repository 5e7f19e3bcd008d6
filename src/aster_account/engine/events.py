"""The user-data-stream events an operation causes, built when it happens so the stream never
recomputes. Shapes are `protocol.models` (docs: "User Data Streams")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from aster_account.engine import figures as fig
from aster_account.engine import margin
from aster_account.engine.context import Ctx
from aster_account.engine.display import show_amount, show_money, show_price
from aster_account.engine.state import ZERO, Account, Order, Position
from aster_account.protocol.enums import (
    AccountUpdateReason,
    ExecutionType,
    MarginType,
    OrderType,
)
from aster_account.protocol.models import (
    AccountConfig,
    AccountConfigUpdate,
    AccountUpdate,
    AccountUpdateData,
    BalanceUpdate,
    LeverageConfig,
    MarginCall,
    MarginCallPosition,
    OrderTradeUpdate,
    OrderUpdate,
    PositionUpdate,
)


def _cross_wallet(acct: Account, ctx: Ctx, asset: str) -> Decimal:
    isolated = sum(
        (
            p.isolated_wallet
            for p in acct.positions.values()
            if ctx.market.symbols[p.symbol].margin_asset == asset
        ),
        ZERO,
    )
    return acct.wallet(asset) - isolated


def position_update(acct: Account, ctx: Ctx, pos: Position) -> PositionUpdate:
    spec = ctx.market.symbol(pos.symbol)
    cfg = fig.symbol_config(acct, ctx.market, pos.symbol)
    mark = fig.mark_of(ctx.marks, spec)
    return PositionUpdate(
        symbol=pos.symbol,
        position_amount=show_amount(pos.amount, spec),
        entry_price=show_price(pos.entry_price),
        accumulated_realized=show_money(pos.realized),
        unrealized_profit=show_money(margin.unrealized_pnl(pos.amount, pos.entry_price, mark)),
        margin_type=cfg.margin_type,
        isolated_wallet=show_money(pos.isolated_wallet),
        position_side=pos.side,
    )


def balance_update(
    acct: Account,
    ctx: Ctx,
    reason: AccountUpdateReason,
    changes: Mapping[str, Decimal],
    *,
    positions: Iterable[Position] = (),
) -> AccountUpdate:
    """ACCOUNT_UPDATE: `B` for the assets in `changes` (`bc` = the change other than PnL and
    commission), `P` for the given positions — only those with a non-zero amount or isolated
    wallet, except that a position that just closed is sent once with its zero amount."""
    balances = [
        BalanceUpdate(
            asset=asset,
            wallet_balance=show_money(acct.wallet(asset)),
            cross_wallet_balance=show_money(_cross_wallet(acct, ctx, asset)),
            balance_change=show_money(change),
        )
        for asset, change in changes.items()
    ]
    return AccountUpdate(
        event_time=ctx.now_ms,
        transaction_time=ctx.now_ms,
        update=AccountUpdateData(
            reason=reason,
            balances=balances,
            positions=[position_update(acct, ctx, p) for p in positions],
        ),
    )


def leverage_update(ctx: Ctx, symbol: str, leverage: int) -> AccountConfigUpdate:
    return AccountConfigUpdate(
        event_time=ctx.now_ms,
        transaction_time=ctx.now_ms,
        leverage=LeverageConfig(symbol=symbol, leverage=leverage),
    )


def config_update(
    ctx: Ctx, *, multi_assets: bool | None = None, dual_side: bool | None = None
) -> AccountConfigUpdate:
    """`ai` with only the key that changed: `j` multi-assets mode, `d` position mode (FACTS.md)."""
    return AccountConfigUpdate(
        event_time=ctx.now_ms,
        transaction_time=ctx.now_ms,
        account=AccountConfig(multi_assets_margin=multi_assets, dual_side_position=dual_side),
    )


def order_update(
    ctx: Ctx,
    order: Order,
    exec_type: ExecutionType,
    *,
    last_qty: Decimal = ZERO,
    last_price: Decimal = ZERO,
    commission: Decimal | None = None,
    commission_asset: str | None = None,
    trade_id: int = 0,
    maker: bool = False,
    realized: Decimal = ZERO,
) -> OrderTradeUpdate:
    spec = ctx.market.symbol(order.symbol)
    liquidation = order.client_order_id.startswith("autoclose-")
    return OrderTradeUpdate(
        event_time=ctx.now_ms,
        transaction_time=ctx.now_ms,
        order=OrderUpdate(
            symbol=order.symbol,
            client_order_id=order.client_order_id,
            side=order.side,
            order_type=OrderType.LIQUIDATION if liquidation else order.type,
            time_in_force=order.time_in_force,
            orig_qty=show_amount(order.quantity, spec),
            price=show_price(order.price),
            avg_price=show_price(order.avg_price),
            stop_price=show_price(order.stop_price),
            execution_type=exec_type,
            status=order.status,
            order_id=order.order_id,
            last_filled_qty=show_amount(last_qty, spec),
            executed_qty=show_amount(order.executed_qty, spec),
            last_filled_price=show_price(last_price),
            commission_asset=commission_asset if commission else None,
            commission=show_money(commission) if commission else None,
            trade_time=ctx.now_ms,
            trade_id=trade_id,
            bids_notional=ZERO,
            asks_notional=ZERO,
            is_maker=maker,
            reduce_only=order.reduce_only,
            working_type=order.working_type,
            orig_type=order.type,
            position_side=order.position_side,
            close_position=order.close_position,
            realized_profit=show_money(realized),
        ),
    )


def margin_call(
    acct: Account, ctx: Ctx, figs: fig.AccountFigures, flagged: Iterable[fig.PositionFigures]
) -> MarginCall:
    flagged = list(flagged)
    cross = any(not pf.isolated for pf in flagged)
    return MarginCall(
        event_time=ctx.now_ms,
        cross_wallet_balance=show_money(figs.cross_collateral) if cross else None,
        positions=[
            MarginCallPosition(
                symbol=pf.position.symbol,
                position_side=pf.position.side,
                position_amount=show_amount(pf.position.amount, pf.spec),
                margin_type=MarginType.ISOLATED if pf.isolated else MarginType.CROSSED,
                isolated_wallet=show_money(pf.position.isolated_wallet),
                mark_price=pf.mark,
                unrealized_profit=show_money(pf.unrealized_pnl),
                maintenance_margin=show_money(pf.maint_margin),
            )
            for pf in flagged
        ],
    )
