"""Risk: liquidation, ADL, funding settlement and margin calls (policy, apart from the state).

Liquidation (FACTS.md "Account math"): a position is liquidated when its margin balance (cross: the
account's cross margin balance, over all cross positions) falls to its maintenance margin. The
liquidated positions close at their *bankruptcy* prices, the prices at which the margin balance
would be exactly zero: with M the group's margin balance at the marks, position i closes at
`mark_i - M * w_i / amt_i`, w_i its share of the group's notional, so the realized losses add up to
the whole collateral. The insurance fund takes the other side at those prices and closes at the
marks: it gains M (the remaining margin) or, after a gap (M < 0), pays -M. When it cannot pay, the
opposite side's most profitable positions (by ADL score) are closed at the bankrupt price instead
(clientOrderId `adl_autoclose`). A wallet left below zero by rounding is cleared by INSURANCE_CLEAR.

Funding: `fee = |positionAmt| × mark × rate`, longs pay shorts when the rate is positive.
Margin call: the margin ratio MM / margin balance reaches `market.margin_call_ratio`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from aster_account.engine import account as ops
from aster_account.engine import events as ev
from aster_account.engine import figures as fig
from aster_account.engine import margin
from aster_account.engine.context import Ctx, Outcome
from aster_account.engine.ledger import ForceOrderRecord
from aster_account.engine.market import Market
from aster_account.engine.prices import Marks
from aster_account.engine.state import ZERO, Account, Order
from aster_account.protocol.enums import (
    AccountUpdateReason,
    AutoCloseType,
    ExecutionType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)

BANKRUPT_PLACES = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Bankruptcy:
    """One liquidated position, as the insurance fund (and ADL) see it."""

    account_id: int
    symbol: str
    position_side: PositionSide
    amount: Decimal  # signed amount that was closed
    price: Decimal  # bankruptcy price it closed at
    mark: Decimal
    fund_pnl: Decimal  # what the insurance fund gains (negative: what it must pay)


# -- detection ---------------------------------------------------------------------------------


def cross_margin_balance(figs: fig.AccountFigures) -> Decimal:
    return figs.cross_collateral + sum(
        (pf.unrealized_pnl for pf in figs.positions if not pf.isolated), ZERO
    )


def liquidation_groups(figs: fig.AccountFigures) -> list[list[fig.PositionFigures]]:
    """Positions to liquidate now: the whole cross book when the cross margin balance is at or
    below its maintenance margin; each isolated position at or below its own."""
    groups: list[list[fig.PositionFigures]] = []
    cross = [pf for pf in figs.positions if not pf.isolated and pf.position.amount != 0]
    if cross:
        cross_mm = sum((pf.maint_margin for pf in cross), ZERO)
        if cross_margin_balance(figs) <= cross_mm:
            groups.append(cross)
    for pf in figs.positions:
        if (
            pf.isolated
            and pf.position.amount != 0
            and pf.position.isolated_wallet + pf.unrealized_pnl <= pf.maint_margin
        ):
            groups.append([pf])
    return groups


# -- liquidation -------------------------------------------------------------------------------


def liquidate(
    acct: Account, ctx: Ctx, group: Sequence[fig.PositionFigures], figs: fig.AccountFigures
) -> tuple[Outcome, list[Bankruptcy]]:
    """Close every position of `group` at its bankruptcy price (see the module docstring)."""
    out = Outcome()
    isolated = group[0].isolated
    if isolated:
        pf0 = group[0]
        balance = pf0.position.isolated_wallet + pf0.unrealized_pnl
    else:
        balance = cross_margin_balance(figs)
    total = sum((pf.notional for pf in group), ZERO)
    bankrupt: list[Bankruptcy] = []
    for pf in group:
        pos = pf.position
        amount = pos.amount
        share = pf.notional / total if total else Decimal(1) / len(group)
        price = (pf.mark - balance * share / amount).quantize(BANKRUPT_PLACES)
        price = max(price, ZERO)
        force_close(
            acct, ctx, pos.symbol, pos.side, abs(amount), price, AutoCloseType.LIQUIDATION, out
        )
        bankrupt.append(
            Bankruptcy(
                acct.account_id,
                pos.symbol,
                pos.side,
                amount,
                price,
                pf.mark,
                amount * (pf.mark - price),
            )
        )
    # the margin behind resting orders is gone: a cross liquidation cancels every cross order,
    # an isolated one the orders of its symbol
    liquidated = {pf.position.symbol for pf in group}
    for order in sorted(acct.orders.values(), key=lambda o: o.order_id):
        cfg = fig.symbol_config(acct, ctx.market, order.symbol)
        cross_order = cfg.margin_type is MarginType.CROSSED
        if (not isolated and cross_order) or (isolated and order.symbol in liquidated):
            del acct.orders[order.order_id]
            ops.finish_order(acct, order, ctx, OrderStatus.CANCELED, out, ExecutionType.CANCELED)
    cleared = _clear_negative(acct, ctx, out, group[0].margin_asset)
    if cleared and bankrupt:
        last = bankrupt[-1]
        bankrupt[-1] = replace(last, fund_pnl=last.fund_pnl - cleared)
    return out, bankrupt


def _clear_negative(acct: Account, ctx: Ctx, out: Outcome, asset: str) -> Decimal:
    """INSURANCE_CLEAR: the insurance fund brings a cross wallet left below zero back to zero.
    Returns what the fund paid."""
    after = fig.compute(acct, ctx.market, ctx.marks)
    af = after.assets.get(asset)
    if af is None or af.cross_wallet_balance >= 0:
        return ZERO
    if acct.multi_assets and after.cross_collateral >= 0:
        return ZERO
    clear = -af.cross_wallet_balance if not acct.multi_assets else -after.cross_collateral
    clear = min(clear, -af.cross_wallet_balance)
    rec = ops._book(acct, ctx, asset, ops.money(clear), IncomeType.INSURANCE_CLEAR)
    out.records.append(rec)
    out.events.append(
        ev.balance_update(acct, ctx, AccountUpdateReason.INSURANCE_CLEAR, {asset: rec.income})
    )
    return rec.income


def adl_close(
    acct: Account, ctx: Ctx, symbol: str, side: PositionSide, qty: Decimal, price: Decimal
) -> Outcome:
    """Close `qty` of a counterparty's position at the bankrupt `price` (auto-deleveraging)."""
    out = Outcome()
    force_close(acct, ctx, symbol, side, qty, price, AutoCloseType.ADL, out)
    return out


def force_close(
    acct: Account,
    ctx: Ctx,
    symbol: str,
    side: PositionSide,
    qty: Decimal,
    price: Decimal,
    kind: AutoCloseType,
    out: Outcome,
) -> None:
    """A forced, fee-free close of `qty` at `price`: a liquidation (IOC, clientOrderId
    `autoclose-<time><id>`) or an ADL (GTC, `adl_autoclose`), as the docs' forceOrders show."""
    pos = acct.position(symbol, side)
    order_side = OrderSide.SELL if pos.amount > 0 else OrderSide.BUY
    order_id = ctx.ids("order")
    liquidation = kind is AutoCloseType.LIQUIDATION
    order = Order(
        order_id=order_id,
        client_order_id=f"autoclose-{ctx.now_ms}{order_id}" if liquidation else "adl_autoclose",
        symbol=symbol,
        side=order_side,
        position_side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.IOC if liquidation else TimeInForce.GTC,
        quantity=qty,
        price=price,
        reduce_only=True,
        time=ctx.now_ms,
        update_time=ctx.now_ms,
    )
    ops.fill(
        acct,
        ctx,
        order,
        qty,
        price,
        maker=False,
        out=out,
        commission_rate=ZERO,
        exec_type=ExecutionType.CALCULATED,
    )
    out.records.append(
        ForceOrderRecord(
            account_id=acct.account_id,
            order_id=order_id,
            symbol=symbol,
            client_order_id=order.client_order_id,
            auto_close_type=kind,
            side=order_side,
            position_side=side,
            price=price,
            avg_price=price,
            quantity=qty,
            time=ctx.now_ms,
            update_time=ctx.now_ms,
        )
    )


def adl_scores(
    accounts: Iterable[Account], market: Market, marks: Marks, symbol: str
) -> list[tuple[Decimal, int, PositionSide, Decimal]]:
    """(score, account_id, side, amount) of every open position in `symbol`, by FACTS.md's
    `pnlPct × marginRatio` (cross: the account's cross collateral; isolated: the position's
    wallet)."""
    out = []
    for acct in accounts:
        if not any(p.symbol == symbol and p.amount for p in acct.positions.values()):
            continue
        figs = fig.compute(acct, market, marks)
        for pf in figs.positions:
            if pf.position.symbol != symbol or pf.position.amount == 0:
                continue
            wallet = pf.position.isolated_wallet if pf.isolated else figs.cross_collateral
            score = margin.adl_score(wallet, pf.unrealized_pnl, pf.maint_margin)
            out.append((score, acct.account_id, pf.position.side, pf.position.amount))
    return out


def adl_quantile_table(
    accounts: Iterable[Account], market: Market, marks: Marks
) -> dict[tuple[int, str, PositionSide], int]:
    """ADL quantiles 0-4 per (account, symbol, side), ranked per symbol and per direction."""
    accounts = list(accounts)
    table: dict[tuple[int, str, PositionSide], int] = {}
    for symbol in market.symbols:
        scored = adl_scores(accounts, market, marks, symbol)
        for direction in (1, -1):
            rows = [r for r in scored if (r[3] > 0) == (direction > 0)]
            quantiles = margin.adl_quantiles([r[0] for r in rows])
            for (_, account_id, side, _), q in zip(rows, quantiles, strict=True):
                table[(account_id, symbol, side)] = q
    return table


# -- funding and margin calls ------------------------------------------------------------------


def settle_funding(acct: Account, ctx: Ctx, symbol: str) -> Outcome:
    """Book FUNDING_FEE for every open position of `symbol` at the current mark and rate.
    Isolated positions pay from (and receive into) their isolated wallet. Events: one
    ACCOUNT_UPDATE with `B` only for the cross positions, one with `B` + that `P` per isolated
    one."""
    out = Outcome()
    spec = ctx.market.symbol(symbol)
    mp = ctx.marks[symbol]
    cross_total = ZERO
    for pos in sorted(acct.open_positions(symbol), key=lambda p: p.side.value):
        if pos.amount == 0:
            continue
        fee = ops.money(margin.funding_payment(pos.amount, mp.mark_price, mp.funding_rate))
        if fee == 0:
            continue
        rec = ops._book(acct, ctx, spec.margin_asset, fee, IncomeType.FUNDING_FEE, symbol=symbol)
        out.records.append(rec)
        if fig.symbol_config(acct, ctx.market, symbol).margin_type is MarginType.ISOLATED:
            pos.isolated_wallet += fee
            pos.update_time = ctx.now_ms
            acct.store_position(pos)
            out.events.append(
                ev.balance_update(
                    acct,
                    ctx,
                    AccountUpdateReason.FUNDING_FEE,
                    {spec.margin_asset: fee},
                    positions=[pos],
                )
            )
        else:
            cross_total += fee
    if cross_total:
        out.events.insert(
            0,
            ev.balance_update(
                acct, ctx, AccountUpdateReason.FUNDING_FEE, {spec.margin_asset: cross_total}
            ),
        )
    return out


def margin_call_check(acct: Account, ctx: Ctx, figs: fig.AccountFigures) -> Outcome:
    """MARGIN_CALL once when a margin ratio reaches the threshold; re-armed when it falls back."""
    out = Outcome()
    ratio = ctx.market.margin_call_ratio
    flagged: list[fig.PositionFigures] = []
    now_on: set[str] = set()
    cross = [pf for pf in figs.positions if not pf.isolated and pf.position.amount != 0]
    if cross:
        balance = cross_margin_balance(figs)
        mm = sum((pf.maint_margin for pf in cross), ZERO)
        if mm > 0 and (balance <= 0 or mm / balance >= ratio):
            now_on.add("CROSS")
            if "CROSS" not in acct.margin_calls:
                flagged.extend(cross)
    for pf in figs.positions:
        if not pf.isolated or pf.position.amount == 0:
            continue
        balance = pf.position.isolated_wallet + pf.unrealized_pnl
        key = f"{pf.position.symbol}:{pf.position.side.value}"
        if pf.maint_margin > 0 and (balance <= 0 or pf.maint_margin / balance >= ratio):
            now_on.add(key)
            if key not in acct.margin_calls:
                flagged.append(pf)
    if now_on != acct.margin_calls:
        acct.margin_calls = now_on
    if flagged:
        out.events.append(ev.margin_call(acct, ctx, figs, flagged))
    return out


def check_account(acct: Account, ctx: Ctx) -> tuple[Outcome, list[Bankruptcy]]:
    """After marks moved: liquidate what must be, then fire margin calls for what is close."""
    out = Outcome()
    bankrupt: list[Bankruptcy] = []
    figs = fig.compute(acct, ctx.market, ctx.marks)
    for group in liquidation_groups(figs):
        figs = fig.compute(acct, ctx.market, ctx.marks)
        live = [
            pf
            for pf in figs.positions
            if any(
                g.position.symbol == pf.position.symbol and g.position.side == pf.position.side
                for g in group
            )
            and pf.position.amount != 0
        ]
        if not live:
            continue
        done, broke = liquidate(acct, ctx, live, figs)
        _merge(out, done)
        bankrupt.extend(broke)
    figs = fig.compute(acct, ctx.market, ctx.marks)
    _merge(out, margin_call_check(acct, ctx, figs))
    return out, bankrupt


def _merge(into: Outcome, other: Outcome) -> None:
    into.events.extend(other.events)
    into.records.extend(other.records)
