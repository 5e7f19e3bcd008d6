"""Views: exactly what each read endpoint returns, as `protocol.models`, from state + figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from aster_account.engine import figures as fig
from aster_account.engine import margin
from aster_account.engine.display import (
    show_amount,
    show_liquidation_price,
    show_money,
    show_money_down,
    show_price,
)
from aster_account.engine.ledger import ForceOrderRecord, IncomeRecord, MarginChangeRecord
from aster_account.engine.market import LeverageBrackets, Market, SymbolSpec
from aster_account.engine.prices import Marks
from aster_account.engine.state import ZERO, Account, Order, Position
from aster_account.protocol import models as m
from aster_account.protocol.enums import (
    AutoCloseType,
    MarginType,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
    WorkingType,
)


def _sides(acct: Account) -> tuple[PositionSide, ...]:
    return (PositionSide.LONG, PositionSide.SHORT) if acct.dual_side else (PositionSide.BOTH,)


def _all_position_figures(
    acct: Account, market: Market, marks: Marks, figs: fig.AccountFigures, symbols: Iterable[str]
) -> list[fig.PositionFigures]:
    """One row per symbol and side of the account's mode, open or not (as Aster lists them)."""
    rows = []
    for symbol in symbols:
        for side in _sides(acct):
            pf = figs.position(symbol, side)
            if pf is None:
                pf = fig.position_figures(acct, market, marks, Position(symbol, side))
            rows.append(pf)
    return rows


def _asset_rows(
    acct: Account, market: Market, figs: fig.AccountFigures
) -> list[tuple[fig.AssetFigures, bool, int]]:
    """Per futures asset (the settle asset always): its figures, marginAvailable, updateTime."""
    rows = []
    for asset in sorted(set(acct.futures) | {market.settle_asset}):
        spec = market.assets.get(asset)
        rows.append(
            (
                figs.assets.get(asset) or fig.AssetFigures(asset, ZERO, ZERO),
                bool(spec and spec.margin_available),
                acct.asset_update_time.get(asset, 0),
            )
        )
    return rows


def balance(acct: Account, market: Market, marks: Marks) -> list[m.BalanceRow]:
    figs = fig.compute(acct, market, marks)
    return [
        m.BalanceRow(
            account_alias=acct.alias,
            asset=af.asset,
            wallet_balance=show_money(af.wallet_balance),
            cross_wallet_balance=show_money(af.cross_wallet_balance),
            cross_unrealized_profit=show_money(af.cross_unrealized_pnl),
            available_balance=show_money_down(af.available_balance),
            max_withdraw_amount=show_money_down(af.max_withdraw_amount),
            margin_available=margin_available,
            update_time=update_time,
        )
        for af, margin_available, update_time in _asset_rows(acct, market, figs)
    ]


def account_info(acct: Account, market: Market, marks: Marks) -> m.AccountInfo:
    figs = fig.compute(acct, market, marks)
    settle = figs.assets.get(market.settle_asset) or fig.AssetFigures(
        market.settle_asset, ZERO, ZERO
    )
    assets = [
        m.AccountAsset(
            asset=af.asset,
            wallet_balance=show_money(af.wallet_balance),
            unrealized_profit=show_money(af.unrealized_pnl),
            margin_balance=show_money(af.margin_balance),
            maintenance_margin=show_money(af.maint_margin),
            initial_margin=show_money(af.initial_margin),
            position_initial_margin=show_money(af.position_initial_margin),
            open_order_initial_margin=show_money(af.open_order_initial_margin),
            cross_wallet_balance=show_money(af.cross_wallet_balance),
            cross_unrealized_profit=show_money(af.cross_unrealized_pnl),
            available_balance=show_money_down(af.available_balance),
            max_withdraw_amount=show_money_down(af.max_withdraw_amount),
            margin_available=margin_available,
            update_time=update_time,
        )
        for af, margin_available, update_time in _asset_rows(acct, market, figs)
    ]
    positions = [
        m.AccountPosition(
            symbol=pf.position.symbol,
            initial_margin=show_money(pf.initial_margin + pf.open_order_margin),
            maintenance_margin=show_money(pf.maint_margin),
            unrealized_profit=show_money(pf.unrealized_pnl),
            position_initial_margin=show_money(pf.initial_margin),
            open_order_initial_margin=show_money(pf.open_order_margin),
            leverage=pf.leverage,
            isolated=pf.isolated,
            entry_price=show_price(pf.position.entry_price),
            max_notional=pf.max_notional,
            position_side=pf.position.side,
            position_amount=show_amount(pf.position.amount, pf.spec),
            update_time=pf.position.update_time,
        )
        for pf in _all_position_figures(acct, market, marks, figs, sorted(market.symbols))
    ]
    total_wallet = figs.cross_collateral if acct.multi_assets else settle.wallet_balance
    total_cross_wallet = figs.cross_collateral if acct.multi_assets else settle.cross_wallet_balance
    return m.AccountInfo(
        fee_tier=acct.fee_tier,
        can_trade=acct.can_trade,
        can_deposit=acct.can_deposit,
        can_withdraw=acct.can_withdraw,
        update_time=acct.update_time,
        total_initial_margin=show_money(settle.initial_margin),
        total_maintenance_margin=show_money(settle.maint_margin),
        total_wallet_balance=show_money(total_wallet),
        total_unrealized_profit=show_money(settle.unrealized_pnl),
        total_margin_balance=show_money(total_wallet + settle.unrealized_pnl),
        total_position_initial_margin=show_money(settle.position_initial_margin),
        total_open_order_initial_margin=show_money(settle.open_order_initial_margin),
        total_cross_wallet_balance=show_money(total_cross_wallet),
        total_cross_unrealized_profit=show_money(settle.cross_unrealized_pnl),
        available_balance=show_money_down(figs.available_balance),
        max_withdraw_amount=show_money_down(figs.max_withdraw_amount),
        assets=assets,
        positions=positions,
    )


def position_risk(
    acct: Account, market: Market, marks: Marks, symbol: str | None = None
) -> list[m.PositionRisk]:
    figs = fig.compute(acct, market, marks)
    symbols = [symbol] if symbol is not None else sorted(market.symbols)
    rows = []
    for pf in _all_position_figures(acct, market, marks, figs, symbols):
        pos = pf.position
        rows.append(
            m.PositionRisk(
                entry_price=show_price(pos.entry_price),
                margin_type=MarginType.ISOLATED if pf.isolated else MarginType.CROSSED,
                auto_add_margin=False,
                isolated_margin=show_money(
                    pos.isolated_wallet + pf.unrealized_pnl if pf.isolated else ZERO
                ),
                leverage=pf.leverage,
                liquidation_price=show_liquidation_price(fig.liquidation_price(figs, pf), pf.spec),
                mark_price=pf.mark,
                max_notional_value=pf.max_notional,
                position_amount=show_amount(pos.amount, pf.spec),
                symbol=pos.symbol,
                unrealized_profit=show_money(pf.unrealized_pnl),
                position_side=pos.side,
                notional=show_money(pos.amount * pf.mark),
                isolated_wallet=show_money(pos.isolated_wallet),
                update_time=pos.update_time,
            )
        )
    return rows


def brackets(spec: SymbolSpec) -> m.SymbolBrackets:
    return m.SymbolBrackets(symbol=spec.symbol, brackets=bracket_rows(spec.brackets))


def bracket_rows(table: LeverageBrackets) -> list[m.Bracket]:
    return [
        m.Bracket(
            bracket=b.bracket,
            initial_leverage=b.initial_leverage,
            notional_cap=b.notional_cap,
            notional_floor=b.notional_floor,
            maintenance_margin_ratio=b.maint_margin_ratio,
            cum=b.cum,
        )
        for b in table.brackets
    ]


def commission_rate(spec: SymbolSpec) -> m.CommissionRate:
    return m.CommissionRate(
        symbol=spec.symbol,
        maker_commission_rate=spec.maker_commission,
        taker_commission_rate=spec.taker_commission,
    )


def remaining_openable(
    acct: Account, market: Market, marks: Marks, spec: SymbolSpec, leverage: int
) -> m.RemainingOpenable:
    """FACTS.md: min(maxNotional(L) - |notional|, available * L), never negative."""
    figs = fig.compute(acct, market, marks)
    current = sum((pf.notional for pf in figs.positions if pf.position.symbol == spec.symbol), ZERO)
    value = margin.remaining_openable_notional(
        spec.brackets.max_notional(leverage), current, figs.available_balance, leverage
    )
    return m.RemainingOpenable(remaining_openable_notional_value=show_money_down(value).normalize())


def adl_quantile(
    acct: Account, market: Market, quantiles: Mapping[tuple[int, str, PositionSide], int]
) -> list[m.AdlQuantile]:
    """Per symbol the account trades: LONG/SHORT/BOTH, or LONG/SHORT/HEDGE for cross hedge mode
    (docs: "HEDGE" is only a sign; LONG and SHORT then carry one shared value)."""
    out = []
    for symbol in sorted({p.symbol for p in acct.positions.values() if p.amount != 0}):
        cfg = fig.symbol_config(acct, market, symbol)
        q = {
            side.value: quantiles.get((acct.account_id, symbol, side), 0)
            for side in (PositionSide.LONG, PositionSide.SHORT, PositionSide.BOTH)
        }
        if acct.dual_side and cfg.margin_type is MarginType.CROSSED:
            shared = max(q["LONG"], q["SHORT"])
            q = {"LONG": shared, "SHORT": shared, "HEDGE": 0}
        out.append(m.AdlQuantile(symbol=symbol, adl_quantile=q))
    return out


def income(rec: IncomeRecord) -> m.Income:
    return m.Income(
        symbol=rec.symbol,
        income_type=rec.income_type,
        income=show_money(rec.income),
        asset=rec.asset,
        info=rec.info,
        time=rec.time,
        tran_id=str(rec.tran_id),
        trade_id="" if rec.trade_id is None else str(rec.trade_id),
    )


def margin_history(rec: MarginChangeRecord) -> m.MarginHistoryEntry:
    return m.MarginHistoryEntry(
        amount=rec.amount,
        asset=rec.asset,
        symbol=rec.symbol,
        time=rec.time,
        change=rec.type,
        position_side=rec.position_side,
    )


def force_order(rec: ForceOrderRecord, spec: SymbolSpec) -> m.ForceOrder:
    liquidation = rec.auto_close_type is AutoCloseType.LIQUIDATION
    qty = show_amount(rec.quantity, spec)
    return m.ForceOrder(
        order_id=rec.order_id,
        symbol=rec.symbol,
        status=OrderStatus.FILLED,
        client_order_id=rec.client_order_id,
        price=show_price(rec.price),
        avg_price=show_price(rec.avg_price),
        orig_qty=qty,
        executed_qty=qty,
        cum_quote=show_money(rec.quantity * rec.avg_price),
        time_in_force=TimeInForce.IOC if liquidation else TimeInForce.GTC,
        order_type=OrderType.LIMIT,
        reduce_only=False,
        close_position=False,
        side=rec.side,
        position_side=rec.position_side,
        stop_price=Decimal(0),
        working_type=WorkingType.CONTRACT_PRICE,
        orig_type=OrderType.LIMIT,
        time=rec.time,
        update_time=rec.update_time,
    )


def order(o: Order, spec: SymbolSpec, *, with_time: bool = True) -> m.Order:
    return m.Order(
        client_order_id=o.client_order_id,
        cum_qty=show_amount(o.executed_qty, spec),
        cum_quote=show_money(o.cum_quote),
        executed_qty=show_amount(o.executed_qty, spec),
        order_id=o.order_id,
        avg_price=show_price(o.avg_price),
        orig_qty=show_amount(o.quantity, spec),
        price=show_price(o.price),
        reduce_only=o.reduce_only,
        side=o.side,
        position_side=o.position_side,
        status=o.status,
        stop_price=show_price(o.stop_price),
        close_position=o.close_position,
        symbol=o.symbol,
        time=o.time if with_time else None,
        time_in_force=o.time_in_force,
        order_type=o.type,
        orig_type=o.type,
        update_time=o.update_time,
        working_type=o.working_type,
        price_protect=o.price_protect,
    )


def _plain(value: Decimal) -> Decimal:
    """A config decimal without trailing zeros or exponent noise, for exchangeInfo filters."""
    return value.normalize() if value != value.to_integral_value() else value.quantize(Decimal(1))


def exchange_info(market: Market, now_ms: int, weight_limit: int = 2400) -> m.ExchangeInfo:
    """GET /fapi/v1/exchangeInfo from the market file (docs: "Exchange Information")."""
    symbols = []
    for name in sorted(market.symbols):
        s = market.symbols[name]
        filters: list[dict[str, object]] = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": str(_plain(s.min_price)),
                "maxPrice": str(_plain(s.max_price)),
                "tickSize": str(_plain(s.tick_size)),
            },
            {
                "filterType": "LOT_SIZE",
                "stepSize": str(_plain(s.step_size)),
                "maxQty": str(_plain(s.max_qty)),
                "minQty": str(_plain(s.min_qty)),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "stepSize": str(_plain(s.step_size)),
                "maxQty": str(_plain(s.market_max_qty)),
                "minQty": str(_plain(s.min_qty)),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 100},
            {"filterType": "MIN_NOTIONAL", "notional": str(_plain(s.min_notional))},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": str(s.multiplier_up),
                "multiplierDown": str(s.multiplier_down),
                "multiplierDecimal": 4,
            },
        ]
        first = s.brackets.brackets[0]
        symbols.append(
            m.SymbolInfo(
                symbol=s.symbol,
                pair=s.pair,
                contract_type="PERPETUAL",
                delivery_date=4133404800000,
                onboard_date=s.onboard_date,
                status="TRADING",
                maint_margin_percent=(first.maint_margin_ratio * 100).quantize(Decimal("0.0001")),
                required_margin_percent=(Decimal(100) / first.initial_leverage).quantize(
                    Decimal("0.0001")
                ),
                base_asset=s.base_asset,
                quote_asset=s.quote_asset,
                margin_asset=s.margin_asset,
                price_precision=s.price_precision,
                quantity_precision=s.quantity_precision,
                base_asset_precision=8,
                quote_precision=8,
                underlying_type="COIN",
                underlying_sub_type=[],
                settle_plan=0,
                trigger_protect=Decimal("0.0500"),
                filters=filters,
                order_types=[t.value for t in OrderType if t is not OrderType.LIQUIDATION],
                time_in_force=[t.value for t in TimeInForce],
                liquidation_fee=s.liquidation_fee,
                market_take_bound=Decimal("0.05"),
            )
        )
    return m.ExchangeInfo(
        exchange_filters=[],
        rate_limits=[
            m.RateLimit(
                interval="MINUTE",
                interval_num=1,
                limit=weight_limit,
                rate_limit_type="REQUEST_WEIGHT",
            ),
            m.RateLimit(interval="MINUTE", interval_num=1, limit=1200, rate_limit_type="ORDERS"),
        ],
        server_time=now_ms,
        assets=[
            m.AssetInfo(
                asset=a.asset,
                margin_available=a.margin_available,
                auto_asset_exchange=Decimal(0) if a.margin_available else None,
            )
            for a in (market.assets[k] for k in sorted(market.assets))
        ],
        symbols=symbols,
    )
