"""An account's margin figures at the current marks: what every view and every check reads.

Formulas are FACTS.md "Account math" (the Binance futures FAQ, which Aster follows); the single
formulas live in `engine.margin`, this module adds them up per position, per asset and per account.

Single-asset mode: each position is margined in its symbol's margin asset only. Multi-assets mode:
every margin-available asset counts toward cross margin at its index price less its haircut, and the
account-level figures are in USD (USDT = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aster_account.engine import margin
from aster_account.engine.market import Market, SymbolSpec
from aster_account.engine.prices import Marks
from aster_account.engine.state import ZERO, Account, Order, Position, SymbolConfig
from aster_account.protocol.enums import MarginType, PositionSide


def symbol_config(account: Account, market: Market, symbol: str) -> SymbolConfig:
    return account.configs.get(symbol) or SymbolConfig(market.initial_leverage(symbol))


def mark_of(marks: Marks, spec: SymbolSpec) -> Decimal:
    mp = marks.get(spec.symbol)
    if mp is None:
        raise KeyError(f"no mark price for {spec.symbol}")
    return mp.mark_price


@dataclass(slots=True)
class PositionFigures:
    position: Position
    spec: SymbolSpec
    leverage: int
    isolated: bool
    mark: Decimal
    notional: Decimal
    unrealized_pnl: Decimal
    initial_margin: Decimal  # position initial margin: notional / leverage
    maint_margin: Decimal
    open_order_margin: Decimal  # initial margin of this side's open orders
    max_notional: Decimal

    @property
    def margin_asset(self) -> str:
        return self.spec.margin_asset


@dataclass(slots=True)
class AssetFigures:
    """Per margin asset, as `/fapi/v2/balance` and the v4 account's assets[] show it."""

    asset: str
    wallet_balance: Decimal
    cross_wallet_balance: Decimal
    cross_unrealized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    maint_margin: Decimal = ZERO
    position_initial_margin: Decimal = ZERO
    open_order_initial_margin: Decimal = ZERO
    cross_initial_margin: Decimal = ZERO  # cross positions + cross open orders
    isolated_order_margin: Decimal = ZERO
    cross_maint_margin: Decimal = ZERO
    available_balance: Decimal = ZERO
    max_withdraw_amount: Decimal = ZERO
    margin_available: bool = False

    @property
    def margin_balance(self) -> Decimal:
        return self.wallet_balance + self.unrealized_pnl

    @property
    def initial_margin(self) -> Decimal:
        return self.position_initial_margin + self.open_order_initial_margin


@dataclass(slots=True)
class AccountFigures:
    positions: list[PositionFigures] = field(default_factory=list)
    assets: dict[str, AssetFigures] = field(default_factory=dict)
    # account level (USD in multi-assets mode, the margin asset's units otherwise)
    available_balance: Decimal = ZERO
    max_withdraw_amount: Decimal = ZERO
    cross_collateral: Decimal = ZERO  # cross wallet value that backs cross positions
    # available balance before the view's clamp at 0: what an operation must not push below 0
    raw_available: Decimal = ZERO

    _index: dict[tuple[str, PositionSide], PositionFigures] | None = None
    _cross: dict[str, tuple[Decimal, Decimal, dict[PositionSide, margin.Leg]]] | None = None
    _cross_totals: tuple[Decimal, Decimal] | None = None

    def position(self, symbol: str, side: PositionSide) -> PositionFigures | None:
        if self._index is None:
            self._index = {(pf.position.symbol, pf.position.side): pf for pf in self.positions}
        return self._index.get((symbol, side))

    def cross_by_symbol(self) -> dict[str, tuple[Decimal, Decimal, dict[PositionSide, margin.Leg]]]:
        """Per symbol, its open cross positions' (maintenance margin, uPnL, legs): what the
        liquidation formula needs as "this symbol" and, summed over the others, "other"."""
        if self._cross is None:
            cross: dict[str, tuple[Decimal, Decimal, dict[PositionSide, margin.Leg]]] = {}
            for pf in self.positions:
                pos = pf.position
                if pf.isolated or pos.amount == 0:
                    continue
                mm, upnl, legs = cross.get(pos.symbol, (ZERO, ZERO, {}))
                legs[pos.side] = margin.Leg(pos.amount, pos.entry_price)
                cross[pos.symbol] = (mm + pf.maint_margin, upnl + pf.unrealized_pnl, legs)
            self._cross = cross
        return self._cross

    def cross_totals(self) -> tuple[Decimal, Decimal]:
        """Maintenance margin and uPnL of every open cross position."""
        if self._cross_totals is None:
            cross = self.cross_by_symbol().values()
            self._cross_totals = (
                sum((c[0] for c in cross), ZERO),
                sum((c[1] for c in cross), ZERO),
            )
        return self._cross_totals


def hedge_closing(order: Order) -> bool:
    """SELL on a LONG leg or BUY on a SHORT leg: in hedge mode such an order only ever closes."""
    return (order.position_side is PositionSide.LONG and order.side.direction < 0) or (
        order.position_side is PositionSide.SHORT and order.side.direction > 0
    )


def order_initial_margin(order: Order, mark: Decimal, leverage: int, opening: Decimal) -> Decimal:
    """A resting order's margin: IM at its price plus its open loss (FACTS.md "Order cost") on
    the part of it that would open a position; reduce-only and closing parts reserve nothing."""
    if order.reduce_only or opening <= 0:
        return ZERO
    return margin.order_margin(opening, order.side.direction, mark, order.price, leverage)


def opening_quantities(account: Account) -> dict[int, Decimal]:
    """Per resting order, the quantity that would open a position if it filled now: orders
    against a position use up its size, oldest first; hedge closing orders never open."""
    used: dict[tuple[str, PositionSide], Decimal] = {}
    out: dict[int, Decimal] = {}
    for order in sorted(account.orders.values(), key=lambda o: o.order_id):
        if hedge_closing(order):
            out[order.order_id] = ZERO
            continue
        key = (order.symbol, order.position_side)
        pos = account.positions.get(key)
        against = pos is not None and order.side.direction * pos.amount < 0
        capacity = abs(pos.amount) if pos is not None and against else ZERO
        closes = min(order.remaining, max(ZERO, capacity - used.get(key, ZERO)))
        used[key] = used.get(key, ZERO) + closes
        out[order.order_id] = order.remaining - closes
    return out


def position_figures(
    account: Account,
    market: Market,
    marks: Marks,
    pos: Position,
    order_margin: Decimal = ZERO,
) -> PositionFigures:
    spec = market.symbol(pos.symbol)
    cfg = symbol_config(account, market, pos.symbol)
    mark = mark_of(marks, spec)
    notional = margin.notional(pos.amount, mark)
    return PositionFigures(
        position=pos,
        spec=spec,
        leverage=cfg.leverage,
        isolated=cfg.margin_type is MarginType.ISOLATED,
        mark=mark,
        notional=notional,
        unrealized_pnl=margin.unrealized_pnl(pos.amount, pos.entry_price, mark),
        initial_margin=margin.initial_margin(notional, cfg.leverage),
        maint_margin=spec.brackets.maintenance_margin(notional),
        open_order_margin=order_margin,
        max_notional=spec.brackets.max_notional(cfg.leverage),
    )


def asset_unit_value(market: Market, asset: str) -> Decimal:
    """What one unit of `asset` counts for as multi-assets collateral: index * (1 - haircut)."""
    spec = market.assets.get(asset)
    if spec is None or not spec.margin_available:
        return ZERO
    return spec.index_price * (1 - spec.haircut)


def compute(account: Account, market: Market, marks: Marks) -> AccountFigures:
    """Every figure of the account at the current marks."""
    figs = AccountFigures()
    order_margins: dict[tuple[str, PositionSide], Decimal] = {}
    opening = opening_quantities(account) if account.orders else {}
    for order in account.orders.values():
        spec = market.symbol(order.symbol)
        lev = symbol_config(account, market, order.symbol).leverage
        key = (order.symbol, order.position_side)
        order_margins[key] = order_margins.get(key, ZERO) + order_initial_margin(
            order, mark_of(marks, spec), lev, opening[order.order_id]
        )
    keys = set(order_margins)
    keys.update(k for k, p in account.positions.items() if p.amount != 0 or p.isolated_wallet)
    for key in sorted(keys):
        pos = account.positions.get(key) or Position(key[0], key[1])
        figs.positions.append(
            position_figures(account, market, marks, pos, order_margins.get(key, ZERO))
        )

    for asset, wallet in account.futures.items():
        asset_spec = market.assets.get(asset)
        figs.assets[asset] = AssetFigures(
            asset=asset,
            wallet_balance=wallet,
            cross_wallet_balance=wallet,
            margin_available=bool(asset_spec and asset_spec.margin_available),
        )
    for pf in figs.positions:
        af = figs.assets.get(pf.margin_asset)
        if af is None:
            af = figs.assets[pf.margin_asset] = AssetFigures(pf.margin_asset, ZERO, ZERO)
        af.unrealized_pnl += pf.unrealized_pnl
        af.maint_margin += pf.maint_margin
        af.position_initial_margin += pf.initial_margin
        af.open_order_initial_margin += pf.open_order_margin
        if pf.isolated:
            af.cross_wallet_balance -= pf.position.isolated_wallet
            af.isolated_order_margin += pf.open_order_margin
        else:
            af.cross_unrealized_pnl += pf.unrealized_pnl
            af.cross_initial_margin += pf.initial_margin + pf.open_order_margin
            af.cross_maint_margin += pf.maint_margin

    if account.multi_assets:
        _multi_asset_totals(figs, market)
    else:
        for af in figs.assets.values():
            af.available_balance = margin.available_balance(
                af.cross_wallet_balance,
                af.cross_unrealized_pnl,
                af.cross_initial_margin,
                af.isolated_order_margin,
            )
            af.max_withdraw_amount = margin.max_withdraw_amount(
                af.cross_wallet_balance,
                af.cross_unrealized_pnl,
                af.cross_initial_margin,
                af.isolated_order_margin,
            )
        usdt = figs.assets.get(market.settle_asset)
        if usdt is not None:
            figs.available_balance = usdt.available_balance
            figs.max_withdraw_amount = usdt.max_withdraw_amount
            figs.cross_collateral = usdt.cross_wallet_balance
            figs.raw_available = (
                usdt.cross_wallet_balance
                + usdt.cross_unrealized_pnl
                - usdt.cross_initial_margin
                - usdt.isolated_order_margin
            )
    return figs


def _multi_asset_totals(figs: AccountFigures, market: Market) -> None:
    collateral = ZERO
    upnl = im = order_im = ZERO
    for af in figs.assets.values():
        unit = asset_unit_value(market, af.asset)
        collateral += af.cross_wallet_balance * unit
        # positions are all margined in margin-available assets priced at 1 (USDT) or their unit
        upnl += af.cross_unrealized_pnl
        im += af.cross_initial_margin
        order_im += af.isolated_order_margin
    figs.cross_collateral = collateral
    figs.raw_available = collateral + upnl - im - order_im
    figs.available_balance = margin.available_balance(collateral, upnl, im, order_im)
    figs.max_withdraw_amount = margin.max_withdraw_amount(collateral, upnl, im, order_im)
    for af in figs.assets.values():
        unit = asset_unit_value(market, af.asset)
        if unit == 0:
            af.available_balance = max(ZERO, af.cross_wallet_balance)
            af.max_withdraw_amount = max(ZERO, af.cross_wallet_balance)
            continue
        af.available_balance = figs.available_balance / unit
        af.max_withdraw_amount = max(
            ZERO, min(af.cross_wallet_balance, figs.max_withdraw_amount / unit)
        )


def liquidation_price(figs: AccountFigures, pf: PositionFigures) -> Decimal:
    """FACTS.md's one formula. Cross: the cross collateral and the *other* symbols' cross MM and
    uPnL, hedge LONG and SHORT sharing one price; isolated: the position's own wallet."""
    pos = pf.position
    if pos.amount == 0:
        return ZERO
    brackets = pf.spec.brackets
    if pf.isolated:
        leg = margin.Leg(pos.amount, pos.entry_price)
        return margin.liquidation_price(
            wallet_balance=pos.isolated_wallet,
            other_maint_margin=ZERO,
            other_unrealized_pnl=ZERO,
            both=leg if pos.side is PositionSide.BOTH else None,
            long=leg if pos.side is PositionSide.LONG else None,
            short=leg if pos.side is PositionSide.SHORT else None,
            brackets=brackets,
        )
    own_mm, own_upnl, legs = figs.cross_by_symbol()[pos.symbol]
    total_mm, total_upnl = figs.cross_totals()
    other_mm, other_upnl = total_mm - own_mm, total_upnl - own_upnl
    return margin.liquidation_price(
        wallet_balance=figs.cross_collateral,
        other_maint_margin=other_mm,
        other_unrealized_pnl=other_upnl,
        both=legs.get(PositionSide.BOTH),
        long=legs.get(PositionSide.LONG),
        short=legs.get(PositionSide.SHORT),
        brackets=brackets,
    )
