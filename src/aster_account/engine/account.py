"""Account operations: every mutating endpoint's rules, checks first, then the change.

Each operation takes the account, a `Ctx` (market, marks, time, ids) and typed arguments, raises an
`AsterError` with the code Aster answers (the numbers that caused it in `.details`) *before*
touching the account, and otherwise mutates it and returns an `Outcome`: the reply, the stream
events and the ledger records (income, transfers, margin changes, trades) the store must append.

Check order follows FACTS.md ("parameters, key, timestamp, signature, business rules"; -4046 before
-4047 / -4048, and so on).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NoReturn

from aster_account.engine import events as ev
from aster_account.engine import figures as fig
from aster_account.engine import margin
from aster_account.engine.context import CountingIds, Ctx, Outcome
from aster_account.engine.ledger import (
    IncomeRecord,
    LedgerRecord,
    MarginChangeRecord,
    OrderRecord,
    TradeRecord,
    TransferRecord,
)
from aster_account.engine.market import SymbolSpec
from aster_account.engine.state import ZERO, Account, Order, Position, SymbolConfig
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
from aster_account.protocol.errors import aster_error

MONEY_PLACES = Decimal("0.00000001")
CLIENT_TRAN_ID_MAX = 64
MAX_OPEN_ORDERS_PER_SYMBOL = 200
CLIENT_ORDER_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def money(value: Decimal) -> Decimal:
    """Amounts booked to a wallet have 8 decimals, so a wallet is exactly the sum of its ledger."""
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def fail(code: int, msg: str | None = None, **details: object) -> NoReturn:
    raise aster_error(code, msg, **details)


def symbol_spec(ctx: Ctx, symbol: str) -> SymbolSpec:
    try:
        return ctx.market.symbol(symbol)
    except KeyError:
        fail(-1121, "Invalid symbol.", symbol=symbol)


def _check_money_amount(amount: Decimal) -> None:
    if amount <= 0:
        fail(-4055, "Amount must be positive.", amount=amount)
    try:
        exact = amount.quantize(MONEY_PLACES)
    except InvalidOperation:
        fail(-1130, "Data sent for parameter 'amount' is not valid.", amount=amount)
    if exact != amount:
        fail(-1111, "Precision is over the maximum defined for this asset.", amount=amount)


def _book(
    acct: Account,
    ctx: Ctx,
    asset: str,
    amount: Decimal,
    income_type: IncomeType,
    *,
    symbol: str = "",
    info: str = "",
    trade_id: int | None = None,
) -> IncomeRecord:
    """Change a futures wallet and write the income entry that explains it."""
    acct.futures[asset] = acct.wallet(asset) + amount
    acct.asset_update_time[asset] = ctx.now_ms
    acct.update_time = ctx.now_ms
    return IncomeRecord(
        account_id=acct.account_id,
        tran_id=ctx.ids("tran"),
        asset=asset,
        income_type=income_type,
        income=amount,
        time=ctx.now_ms,
        symbol=symbol,
        info=info or income_type.value,
        trade_id=trade_id,
    )


# -- wallets -----------------------------------------------------------------------------------


def deposit(
    acct: Account,
    ctx: Ctx,
    *,
    asset: str,
    amount: Decimal,
    to_spot: bool = False,
    reason: AccountUpdateReason = AccountUpdateReason.ADMIN_DEPOSIT,
) -> Outcome:
    """Operator deposit into the futures or the spot wallet."""
    if asset not in ctx.market.assets:
        fail(-1130, "Data sent for parameter 'asset' is not valid.", asset=asset)
    _check_money_amount(amount)
    if to_spot:
        acct.spot[asset] = acct.spot.get(asset, ZERO) + amount
        acct.update_time = ctx.now_ms
        return Outcome(result=None)
    rec = _book(acct, ctx, asset, amount, IncomeType.TRANSFER, info=reason.value)
    out = Outcome(result=None, records=[rec])
    out.events.append(ev.balance_update(acct, ctx, reason, {asset: amount}))
    return out


def transfer(
    acct: Account,
    ctx: Ctx,
    *,
    asset: str,
    amount: Decimal,
    kind: TransferKind,
    client_tran_id: str,
    seen: Callable[[str], bool] = lambda _cid: False,
) -> Outcome:
    """POST /fapi/v1/asset/wallet/transfer. Futures -> spot is limited by maxWithdrawAmount."""
    if len(client_tran_id) >= CLIENT_TRAN_ID_MAX:
        fail(-4114, "Client tran id length should be less than 64 chars")
    if seen(client_tran_id):
        fail(-4115, "Client tran id should be unique within 7 days", client_tran_id=client_tran_id)
    if asset not in ctx.market.assets:
        fail(-1130, "Data sent for parameter 'asset' is not valid.", asset=asset)
    _check_money_amount(amount)
    if kind is TransferKind.FUTURE_SPOT:
        if not acct.can_withdraw:
            fail(-2015, "Invalid API-key, IP, or permissions for action.")
        figs = fig.compute(acct, ctx.market, ctx.marks)
        af = figs.assets.get(asset)
        limit = af.max_withdraw_amount if af else ZERO
        if amount > limit:
            fail(-2018, "Balance is insufficient.", required=amount, available=limit)
        delta, reason = -amount, AccountUpdateReason.WITHDRAW
        acct.spot[asset] = acct.spot.get(asset, ZERO) + amount
    else:
        if not acct.can_deposit:
            fail(-2015, "Invalid API-key, IP, or permissions for action.")
        have = acct.spot.get(asset, ZERO)
        if amount > have:
            fail(-2018, "Balance is insufficient.", required=amount, available=have)
        acct.spot[asset] = have - amount
        delta, reason = amount, AccountUpdateReason.DEPOSIT
    income = _book(acct, ctx, asset, delta, IncomeType.TRANSFER, info=kind.value)
    record = TransferRecord(
        account_id=acct.account_id,
        tran_id=income.tran_id,
        client_tran_id=client_tran_id,
        asset=asset,
        amount=amount,
        kind=kind,
        time=ctx.now_ms,
    )
    out = Outcome(result=record, records=[income, record])
    out.events.append(ev.balance_update(acct, ctx, reason, {asset: delta}))
    return out


# -- per-symbol configuration ------------------------------------------------------------------


def set_leverage(acct: Account, ctx: Ctx, *, symbol: str, leverage: int) -> Outcome:
    """POST /fapi/v1/leverage -> (leverage, maxNotionalValue)."""
    spec = symbol_spec(ctx, symbol)
    if not 1 <= leverage <= spec.brackets.max_leverage:
        fail(-4028, f"Leverage {leverage} is not valid", leverage=leverage)
    cfg = fig.symbol_config(acct, ctx.market, symbol)
    max_notional = spec.brackets.max_notional(leverage)
    mark = fig.mark_of(ctx.marks, spec)
    for pos in acct.open_positions(symbol):
        current = margin.notional(pos.amount, mark)
        if current > max_notional:
            fail(
                -2027,
                "Exceeded the maximum allowable position at current leverage.",
                notional=current,
                max_notional=max_notional,
            )
        if cfg.margin_type is MarginType.ISOLATED and pos.amount != 0 and leverage < cfg.leverage:
            fail(
                -4161,
                "Leverage reduction is not supported in Isolated Margin Mode with open positions",
                leverage=leverage,
                current=cfg.leverage,
            )
    new_cfg = SymbolConfig(leverage, cfg.margin_type)
    if leverage < cfg.leverage and (acct.open_positions(symbol) or acct.open_orders(symbol)):
        # less leverage means more initial margin for the positions and orders already there
        before = fig.compute(acct, ctx.market, ctx.marks).raw_available
        trial = replace(acct, configs={**acct.configs, symbol: new_cfg})
        after = fig.compute(trial, ctx.market, ctx.marks).raw_available
        if after < 0 and after < before:
            fail(
                -2028,
                "Leverage is smaller than permitted: insufficient margin balance.",
                available_after=after,
            )
    acct.configs[symbol] = new_cfg
    acct.update_time = ctx.now_ms
    out = Outcome(result=(leverage, max_notional))
    out.events.append(ev.leverage_update(ctx, symbol, leverage))
    return out


def set_margin_type(acct: Account, ctx: Ctx, *, symbol: str, margin_type: MarginType) -> Outcome:
    """POST /fapi/v1/marginType. -4046 is checked first, then -4168, -4047, -4048."""
    spec = symbol_spec(ctx, symbol)
    cfg = fig.symbol_config(acct, ctx.market, symbol)
    if cfg.margin_type is margin_type:
        fail(-4046, "No need to change margin type.")
    if margin_type is MarginType.ISOLATED and acct.multi_assets:
        fail(-4168, "Unable to adjust to isolated-margin mode under the Multi-Assets mode.")
    if acct.open_orders(symbol):
        fail(-4047, "Margin type cannot be changed if there exists open orders.")
    if any(p.amount != 0 for p in acct.open_positions(symbol)):
        fail(-4048, "Margin type cannot be changed if there exists position.")
    acct.configs[symbol] = SymbolConfig(cfg.leverage, margin_type)
    acct.update_time = ctx.now_ms
    out = Outcome(result=None)
    out.events.append(
        ev.balance_update(
            acct, ctx, AccountUpdateReason.MARGIN_TYPE_CHANGE, {spec.margin_asset: ZERO}
        )
    )
    return out


def resolve_position_side(acct: Account, position_side: PositionSide | None) -> PositionSide:
    """BOTH in one-way mode (the default), LONG / SHORT required in hedge mode (-4060)."""
    if acct.dual_side:
        if position_side not in (PositionSide.LONG, PositionSide.SHORT):
            fail(-4060, "Invalid position side.", position_side=position_side)
        return position_side
    if position_side not in (None, PositionSide.BOTH):
        fail(-4060, "Invalid position side.", position_side=position_side)
    return PositionSide.BOTH


def modify_position_margin(
    acct: Account,
    ctx: Ctx,
    *,
    symbol: str,
    amount: Decimal,
    type: PositionMarginChange,
    position_side: PositionSide | None = None,
) -> Outcome:
    """POST /fapi/v1/positionMargin: move margin between the cross wallet and an isolated
    position."""
    spec = symbol_spec(ctx, symbol)
    side = resolve_position_side(acct, position_side)
    _check_money_amount(amount)
    cfg = fig.symbol_config(acct, ctx.market, symbol)
    if cfg.margin_type is not MarginType.ISOLATED:
        fail(-4049, "Add margin only support for isolated position.")
    pos = acct.position(symbol, side)
    figs = fig.compute(acct, ctx.market, ctx.marks)
    if type is PositionMarginChange.ADD:
        if pos.amount == 0:
            fail(-4054, "Cannot add position margin: position is 0.")
        available = figs.available_balance
        af = figs.assets.get(spec.margin_asset)
        if af is not None and not acct.multi_assets:
            available = af.available_balance
        if amount > available:
            fail(-4050, "Cross balance insufficient.", required=amount, available=available)
        pos.isolated_wallet += amount
    else:
        pf = figs.position(symbol, side)
        reducible = ZERO
        if pf is not None and pos.amount != 0:
            reducible = margin.isolated_reducible(
                pos.isolated_wallet,
                pf.maint_margin,
                pos.amount,
                pos.entry_price,
                pf.mark,
                pf.leverage,
            )
        elif pos.amount == 0:
            reducible = pos.isolated_wallet
        if amount > reducible:
            fail(-4051, "Isolated balance insufficient.", required=amount, available=reducible)
        pos.isolated_wallet -= amount
    pos.update_time = ctx.now_ms
    acct.store_position(pos)
    acct.update_time = ctx.now_ms
    record = MarginChangeRecord(
        account_id=acct.account_id,
        symbol=symbol,
        position_side=side,
        asset=spec.margin_asset,
        amount=amount,
        type=type,
        time=ctx.now_ms,
    )
    out = Outcome(result=(amount, type), records=[record])
    out.events.append(
        ev.balance_update(
            acct,
            ctx,
            AccountUpdateReason.MARGIN_TRANSFER,
            {spec.margin_asset: ZERO},
            positions=[pos],
        )
    )
    return out


# -- account-wide modes ------------------------------------------------------------------------


def set_position_mode(acct: Account, ctx: Ctx, *, dual_side_position: bool) -> Outcome:
    """POST /fapi/v1/positionSide/dual: -4059 unchanged, -4067 open orders, -4068 positions."""
    if acct.dual_side == dual_side_position:
        fail(-4059, "No need to change position side.")
    if acct.orders:
        fail(-4067, "Position side cannot be changed if there exists open orders.")
    if any(p.amount != 0 for p in acct.positions.values()):
        fail(-4068, "Position side cannot be changed if there exists position.")
    acct.dual_side = dual_side_position
    acct.update_time = ctx.now_ms
    return Outcome(result=None, events=[ev.config_update(ctx, dual_side=dual_side_position)])


def set_multi_assets_mode(acct: Account, ctx: Ctx, *, multi_assets_margin: bool) -> Outcome:
    """POST /fapi/v1/multiAssetsMargin: -4171 unchanged; refused while a symbol is isolated."""
    if acct.multi_assets == multi_assets_margin:
        fail(
            -4171,
            "Adjusted asset mode is currently set and does not need to be adjusted repeatedly",
        )
    if multi_assets_margin:
        isolated = sorted(
            s for s, c in acct.configs.items() if c.margin_type is MarginType.ISOLATED
        )
        if isolated:
            fail(
                -4167,
                "Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures "
                "under isolated-margin mode.",
                symbols=isolated,
            )
    if not multi_assets_margin and (acct.open_positions() or acct.orders):
        # back to single-asset: only the settle asset itself may carry the positions
        after = fig.compute(replace(acct, multi_assets=False), ctx.market, ctx.marks)
        if after.raw_available < 0:
            fail(-2019, "Margin is insufficient.", available_after=after.raw_available)
    acct.multi_assets = multi_assets_margin
    acct.update_time = ctx.now_ms
    return Outcome(result=None, events=[ev.config_update(ctx, multi_assets=multi_assets_margin)])


# -- orders and fills --------------------------------------------------------------------------


def _position_side_for_order(
    acct: Account, position_side: PositionSide | None, reduce_only: bool | None
) -> PositionSide:
    if acct.dual_side:
        if position_side not in (PositionSide.LONG, PositionSide.SHORT):
            fail(-4061, "Order's position side does not match user's setting.")
        if reduce_only:
            fail(-1106, "Parameter 'reduceOnly' sent when not required.")
        return position_side
    if position_side not in (None, PositionSide.BOTH):
        fail(-4061, "Order's position side does not match user's setting.")
    return PositionSide.BOTH


def _check_filters(
    spec: SymbolSpec,
    side: OrderSide,
    qty: Decimal,
    price: Decimal | None,
    mark: Decimal,
    market_order: bool,
) -> None:
    if qty <= 0:
        fail(-4003, "Quantity less than zero.")
    if qty < spec.min_qty:
        fail(-4004, "Quantity less than min quantity.")
    if qty > (spec.market_max_qty if market_order else spec.max_qty):
        fail(-4005, "Quantity greater than max quantity.")
    if (qty - spec.min_qty) % spec.step_size != 0:
        fail(-4023, "Qty not increased by step size.")
    if price is None:
        return
    if price <= 0:
        fail(-4001, "Price less than 0.")
    if price < spec.min_price:
        fail(-4013, "Price less than min price.")
    if price > spec.max_price:
        fail(-4002, "Price greater than max price.")
    if (price - spec.min_price) % spec.tick_size != 0:
        fail(-4014, "Price not increased by tick size.")
    if side is OrderSide.BUY and price > mark * spec.multiplier_up:
        fail(-4016, "Price is higher than mark price multiplier cap.")
    if side is OrderSide.SELL and price < mark * spec.multiplier_down:
        fail(-4024, "Price is lower than mark price multiplier floor.")


def _reducible_qty(pos: Position, side: OrderSide) -> Decimal:
    """How much of an order on `side` closes the position rather than opening one."""
    if pos.amount > 0 and side is OrderSide.SELL:
        return pos.amount
    if pos.amount < 0 and side is OrderSide.BUY:
        return -pos.amount
    return ZERO


def new_order(
    acct: Account,
    ctx: Ctx,
    *,
    symbol: str,
    side: OrderSide,
    type: OrderType,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    position_side: PositionSide | None = None,
    time_in_force: TimeInForce | None = None,
    reduce_only: bool | None = None,
    new_client_order_id: str | None = None,
) -> Outcome:
    """POST /fapi/v1/order (simulated): MARKET fills at the mark as taker; LIMIT rests and
    reserves margin, or fills at once as taker when it already crosses the mark."""
    spec = symbol_spec(ctx, symbol)
    if not acct.can_trade:
        fail(-2015, "Invalid API-key, IP, or permissions for action.")
    if type not in (OrderType.LIMIT, OrderType.MARKET):
        fail(-1020, "This operation is not supported.", type=type)
    ps = _position_side_for_order(acct, position_side, reduce_only)
    if quantity is None:
        fail(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
    if type is OrderType.LIMIT:
        if price is None:
            fail(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
        if time_in_force is None:
            fail(
                -1102,
                "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
            )
    elif price is not None:
        fail(-1106, "Parameter 'price' sent when not required.")
    elif time_in_force is not None:
        fail(-1106, "Parameter 'timeInForce' sent when not required.")
    cid = new_client_order_id
    if cid is not None:
        if not CLIENT_ORDER_ID.match(cid):
            fail(-4015, "Client order id is not valid.")
        if any(o.client_order_id == cid for o in acct.orders.values()):
            fail(-4015, "Client order id is not valid.", duplicate=cid)
    mark = fig.mark_of(ctx.marks, spec)
    _check_filters(spec, side, quantity, price, mark, type is OrderType.MARKET)
    pos = acct.position(symbol, ps)
    # hedge mode: SELL on LONG and BUY on SHORT close; they may never exceed the position
    closing_side = (ps is PositionSide.LONG and side is OrderSide.SELL) or (
        ps is PositionSide.SHORT and side is OrderSide.BUY
    )
    reducible = _reducible_qty(pos, side)
    if reduce_only and reducible == 0:
        fail(-2022, "ReduceOnly Order is rejected.")
    if closing_side:
        # hedge legs never flip: what resting closing orders already claim is not closable again
        claimed = sum(
            (
                o.remaining
                for o in acct.open_orders(symbol)
                if o.position_side is ps and fig.hedge_closing(o)
            ),
            ZERO,
        )
        if quantity > reducible - claimed:
            fail(
                -2022,
                "ReduceOnly Order is rejected.",
                quantity=quantity,
                position=reducible,
                claimed=claimed,
            )
    opening = ZERO if (reduce_only or closing_side) else max(ZERO, quantity - reducible)
    order_price = price if price is not None else mark
    if not reduce_only and not closing_side and quantity * order_price < spec.min_notional:
        fail(
            -4164,
            f"Order's notional must be no smaller than {spec.min_notional} (unless you "
            "choose reduce only)",
        )
    if len(acct.open_orders(symbol)) >= MAX_OPEN_ORDERS_PER_SYMBOL:
        fail(-2025, "Reach max open order limit.")
    cfg = fig.symbol_config(acct, ctx.market, symbol)
    if opening > 0:
        signed_after = pos.amount + side.direction * quantity
        max_notional = spec.brackets.max_notional(cfg.leverage)
        if abs(signed_after) * order_price > max_notional:
            fail(
                -2027,
                "Exceeded the maximum allowable position at current leverage.",
                notional=abs(signed_after) * order_price,
                max_notional=max_notional,
            )

    order = Order(
        order_id=0,  # drawn once the order is accepted
        client_order_id=cid or f"sim_{ctx.now_ms}_{acct.account_id}",
        symbol=symbol,
        side=side,
        position_side=ps,
        type=type,
        time_in_force=time_in_force or TimeInForce.GTC,
        quantity=quantity,
        price=price if price is not None else ZERO,
        reduce_only=bool(reduce_only),
        time=ctx.now_ms,
        update_time=ctx.now_ms,
    )
    if opening > 0:
        # -2019, first as FACTS.md prices an order (initial margin at the order price plus its
        # open loss), then by trying the order on a copy: with its commission and whatever it
        # does to the position, nothing may leave the available balance below 0
        before = fig.compute(acct, ctx.market, ctx.marks).raw_available
        cost = margin.order_margin(opening, side.direction, mark, order_price, cfg.leverage)
        if cost > before:
            fail(-2019, "Margin is insufficient.", required=cost, available=before)
        trial = Account.from_dict(acct.to_dict())
        _execute(
            trial,
            Ctx(ctx.market, ctx.marks, ctx.now_ms, CountingIds()),
            replace(order),
            mark,
            reducible,
            Outcome(),
        )
        after = fig.compute(trial, ctx.market, ctx.marks).raw_available
        if after < 0:
            fail(-2019, "Margin is insufficient.", required=before - after, available=before)
    order.order_id = ctx.ids("order")
    out = Outcome(result=order)
    out.events.append(ev.order_update(ctx, order, ExecutionType.NEW))
    _execute(acct, ctx, order, mark, reducible, out)
    return out


def _execute(
    acct: Account, ctx: Ctx, order: Order, mark: Decimal, reducible: Decimal, out: Outcome
) -> None:
    """An accepted order meets the mark: MARKET and crossing LIMIT orders fill as taker at the
    mark, GTX (post-only) that would cross and IOC/FOK that would not expire, others rest."""
    crosses = order.type is OrderType.MARKET or (
        (order.side is OrderSide.BUY and order.price >= mark)
        or (order.side is OrderSide.SELL and order.price <= mark)
    )
    if crosses and order.time_in_force is TimeInForce.GTX:
        finish_order(acct, order, ctx, OrderStatus.EXPIRED, out, ExecutionType.EXPIRED)
    elif crosses:
        qty = min(order.quantity, reducible) if order.reduce_only else order.quantity
        fill(acct, ctx, order, qty, mark, maker=False, out=out)
    elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        finish_order(acct, order, ctx, OrderStatus.EXPIRED, out, ExecutionType.EXPIRED)
    else:
        acct.orders[order.order_id] = order
        acct.update_time = ctx.now_ms


def finish_order(
    acct: Account,
    order: Order,
    ctx: Ctx,
    status: OrderStatus,
    out: Outcome,
    exec_type: ExecutionType,
) -> None:
    """An order leaves the book without (more) fills: its event and its history record."""
    order.status = status
    order.update_time = ctx.now_ms
    out.events.append(ev.order_update(ctx, order, exec_type))
    out.records.append(OrderRecord(acct.account_id, replace(order)))


def find_order(
    acct: Account, symbol: str, order_id: int | None, orig_client_order_id: str | None
) -> Order:
    if order_id is None and orig_client_order_id is None:
        fail(
            -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
        )
    for order in acct.orders.values():
        if order.symbol != symbol:
            continue
        if order_id is not None and order.order_id != order_id:
            continue
        if orig_client_order_id is not None and order.client_order_id != orig_client_order_id:
            continue
        return order
    fail(-2011, "Unknown order sent.")


def cancel_order(
    acct: Account,
    ctx: Ctx,
    *,
    symbol: str,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
) -> Outcome:
    symbol_spec(ctx, symbol)
    order = find_order(acct, symbol, order_id, orig_client_order_id)
    del acct.orders[order.order_id]
    acct.update_time = ctx.now_ms
    out = Outcome(result=order)
    finish_order(acct, order, ctx, OrderStatus.CANCELED, out, ExecutionType.CANCELED)
    return out


def cancel_all_open_orders(acct: Account, ctx: Ctx, *, symbol: str) -> Outcome:
    symbol_spec(ctx, symbol)
    out = Outcome(result=None)
    for order in acct.open_orders(symbol):
        del acct.orders[order.order_id]
        finish_order(acct, order, ctx, OrderStatus.CANCELED, out, ExecutionType.CANCELED)
    acct.update_time = ctx.now_ms
    return out


def match_resting_orders(acct: Account, ctx: Ctx, symbol: str) -> Outcome:
    """After a mark move: LIMIT orders the mark has crossed fill at their price as maker."""
    out = Outcome()
    spec = symbol_spec(ctx, symbol)
    mark = fig.mark_of(ctx.marks, spec)
    for order in sorted(acct.open_orders(symbol), key=lambda o: o.order_id):
        crossed = (order.side is OrderSide.BUY and mark <= order.price) or (
            order.side is OrderSide.SELL and mark >= order.price
        )
        if not crossed:
            continue
        del acct.orders[order.order_id]
        qty = order.remaining
        if order.reduce_only or fig.hedge_closing(order):
            # never more than the position it closes (the position may have shrunk meanwhile)
            qty = min(qty, _reducible_qty(acct.position(symbol, order.position_side), order.side))
            if qty == 0:
                finish_order(acct, order, ctx, OrderStatus.EXPIRED, out, ExecutionType.EXPIRED)
                continue
        fill(acct, ctx, order, qty, order.price, maker=True, out=out)
    return out


def fill(
    acct: Account,
    ctx: Ctx,
    order: Order,
    qty: Decimal,
    price: Decimal,
    *,
    maker: bool,
    out: Outcome,
    commission_rate: Decimal | None = None,
    reason: AccountUpdateReason = AccountUpdateReason.ORDER,
    exec_type: ExecutionType = ExecutionType.TRADE,
) -> Decimal:
    """Apply one execution: average the entry, realize PnL on reduction, flip through zero in
    one-way mode, move isolated margin, book REALIZED_PNL and COMMISSION income. Returns the
    realized PnL."""
    spec = ctx.market.symbol(order.symbol)
    cfg = fig.symbol_config(acct, ctx.market, order.symbol)
    isolated = cfg.margin_type is MarginType.ISOLATED
    pos = acct.position(order.symbol, order.position_side)
    signed = order.side.direction * qty
    old = pos.amount
    realized = ZERO
    closing = ZERO
    if old != 0 and (old > 0) != (signed > 0):
        closing = min(abs(signed), abs(old))
        realized = money(closing * (price - pos.entry_price) * (1 if old > 0 else -1))
        if isolated:
            released = pos.isolated_wallet * closing / abs(old)
            pos.isolated_wallet = (
                money(pos.isolated_wallet - released) if closing < abs(old) else ZERO
            )
    opening = abs(signed) - closing
    new_amount = old + signed
    if opening > 0:
        base = abs(old) if closing == 0 else ZERO
        base_entry = pos.entry_price if closing == 0 else ZERO
        pos.entry_price = (base * base_entry + opening * price) / (base + opening)
        if isolated:
            pos.isolated_wallet += money(opening * price / cfg.leverage)
    elif new_amount == 0:
        pos.entry_price = ZERO
    pos.amount = new_amount
    pos.realized += realized
    pos.update_time = ctx.now_ms

    rate = commission_rate
    if rate is None:
        rate = spec.maker_commission if maker else spec.taker_commission
    commission = money(qty * price * rate)
    trade_id = ctx.ids("trade")
    asset = spec.margin_asset
    records: list[LedgerRecord] = []
    if realized:
        records.append(
            _book(
                acct,
                ctx,
                asset,
                realized,
                IncomeType.REALIZED_PNL,
                symbol=order.symbol,
                trade_id=trade_id,
            )
        )
    if commission:
        records.append(
            _book(
                acct,
                ctx,
                asset,
                -commission,
                IncomeType.COMMISSION,
                symbol=order.symbol,
                trade_id=trade_id,
            )
        )
    records.append(
        TradeRecord(
            account_id=acct.account_id,
            trade_id=trade_id,
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            position_side=order.position_side,
            price=price,
            quantity=qty,
            realized_pnl=realized,
            commission=commission,
            commission_asset=asset,
            maker=maker,
            time=ctx.now_ms,
        )
    )
    acct.store_position(pos)
    acct.update_time = ctx.now_ms

    order.executed_qty += qty
    order.cum_quote += qty * price
    order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
    order.update_time = ctx.now_ms
    if order.status is OrderStatus.FILLED:
        acct.orders.pop(order.order_id, None)
        records.append(OrderRecord(acct.account_id, replace(order)))
    out.records.extend(records)
    # Aster pushes the order's execution first, then the balance and position it changed
    out.events.append(
        ev.order_update(
            ctx,
            order,
            exec_type,
            last_qty=qty,
            last_price=price,
            commission=commission,
            commission_asset=asset,
            trade_id=trade_id,
            maker=maker,
            realized=realized,
        )
    )
    out.events.append(ev.balance_update(acct, ctx, reason, {asset: ZERO}, positions=[pos]))
    return realized
