"""Account state: what an account holds, and nothing about how it changes.

Operations (`engine.account`) check everything first and only then mutate this state, so a rejected
operation leaves it exactly as it was. `to_dict` / `from_dict` give the store one canonical,
lossless form (Decimals as strings) to persist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aster_account.protocol.enums import (
    MarginType,
    OrderSide,
    OrderStatus,
    OrderType,
    Permission,
    PositionSide,
    TimeInForce,
    WorkingType,
)

ZERO = Decimal(0)
ALL_PERMISSIONS = frozenset(Permission)


@dataclass(slots=True)
class Position:
    """One side of one symbol: BOTH in one-way mode, LONG or SHORT in hedge mode."""

    symbol: str
    side: PositionSide
    amount: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    isolated_wallet: Decimal = ZERO  # margin held by an isolated position (0 when cross)
    realized: Decimal = ZERO  # pre-fee accumulated realized PnL ("cr" in ACCOUNT_UPDATE)
    update_time: int = 0

    @property
    def is_open(self) -> bool:
        return self.amount != 0


@dataclass(slots=True)
class SymbolConfig:
    leverage: int
    margin_type: MarginType = MarginType.CROSSED


@dataclass(slots=True)
class Order:
    """A resting (simulated) order. Fills happen against the mark price."""

    order_id: int
    client_order_id: str
    symbol: str
    side: OrderSide
    position_side: PositionSide
    type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal
    reduce_only: bool
    time: int
    update_time: int
    status: OrderStatus = OrderStatus.NEW
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    stop_price: Decimal = ZERO
    working_type: WorkingType = WorkingType.CONTRACT_PRICE
    close_position: bool = False
    price_protect: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


@dataclass(slots=True)
class Account:
    account_id: int
    alias: str = ""
    fee_tier: int = 0
    permissions: frozenset[Permission] = ALL_PERMISSIONS
    can_trade: bool = True
    can_deposit: bool = True
    can_withdraw: bool = True
    futures: dict[str, Decimal] = field(default_factory=dict)  # wallet balance per asset
    spot: dict[str, Decimal] = field(default_factory=dict)
    dual_side: bool = False
    multi_assets: bool = False
    configs: dict[str, SymbolConfig] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    update_time: int = 0
    asset_update_time: dict[str, int] = field(default_factory=dict)
    # margin calls in force ("CROSS" or "SYMBOL:SIDE"), so that one fires once per crossing
    margin_calls: set[str] = field(default_factory=set)

    def wallet(self, asset: str) -> Decimal:
        return self.futures.get(asset, ZERO)

    def position(self, symbol: str, side: PositionSide) -> Position:
        """The position, or a new empty one when absent (not stored until something changes)."""
        pos = self.positions.get((symbol, side))
        if pos is None:
            pos = Position(symbol, side)
        return pos

    def open_positions(self, symbol: str | None = None) -> list[Position]:
        return [
            p
            for p in self.positions.values()
            if (p.amount != 0 or p.isolated_wallet != 0) and (symbol is None or p.symbol == symbol)
        ]

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if symbol is None or o.symbol == symbol]

    def store_position(self, pos: Position) -> None:
        key = (pos.symbol, pos.side)
        if pos.amount == 0 and pos.isolated_wallet == 0 and pos.realized == 0:
            self.positions.pop(key, None)
        else:
            self.positions[key] = pos

    # -- canonical form for the store ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "alias": self.alias,
            "fee_tier": self.fee_tier,
            "permissions": sorted(p.value for p in self.permissions),
            "can_trade": self.can_trade,
            "can_deposit": self.can_deposit,
            "can_withdraw": self.can_withdraw,
            "futures": {a: str(v) for a, v in sorted(self.futures.items())},
            "spot": {a: str(v) for a, v in sorted(self.spot.items())},
            "dual_side": self.dual_side,
            "multi_assets": self.multi_assets,
            "configs": {
                s: [c.leverage, c.margin_type.param] for s, c in sorted(self.configs.items())
            },
            "positions": [
                [
                    p.symbol,
                    p.side.value,
                    str(p.amount),
                    str(p.entry_price),
                    str(p.isolated_wallet),
                    str(p.realized),
                    p.update_time,
                ]
                for _, p in sorted(self.positions.items())
            ],
            "orders": [order_to_list(o) for _, o in sorted(self.orders.items())],
            "update_time": self.update_time,
            "asset_update_time": dict(sorted(self.asset_update_time.items())),
            "margin_calls": sorted(self.margin_calls),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        positions = {}
        for sym, side, amt, entry, iw, realized, ut in data["positions"]:
            pos = Position(
                sym,
                PositionSide(side),
                Decimal(amt),
                Decimal(entry),
                Decimal(iw),
                Decimal(realized),
            )
            pos.update_time = ut
            positions[(sym, pos.side)] = pos
        orders = {o.order_id: o for o in (order_from_list(x) for x in data["orders"])}
        return cls(
            account_id=data["account_id"],
            alias=data["alias"],
            fee_tier=data["fee_tier"],
            permissions=frozenset(Permission(p) for p in data["permissions"]),
            can_trade=data["can_trade"],
            can_deposit=data["can_deposit"],
            can_withdraw=data["can_withdraw"],
            futures={a: Decimal(v) for a, v in data["futures"].items()},
            spot={a: Decimal(v) for a, v in data["spot"].items()},
            dual_side=data["dual_side"],
            multi_assets=data["multi_assets"],
            configs={
                s: SymbolConfig(lev, MarginType.from_param(mt))
                for s, (lev, mt) in data["configs"].items()
            },
            positions=positions,
            orders=orders,
            update_time=data["update_time"],
            asset_update_time=dict(data["asset_update_time"]),
            margin_calls=set(data.get("margin_calls", ())),
        )


def order_to_list(o: Order) -> list[Any]:
    return [
        o.order_id,
        o.client_order_id,
        o.symbol,
        o.side.value,
        o.position_side.value,
        o.type.value,
        o.time_in_force.value,
        str(o.quantity),
        str(o.price),
        o.reduce_only,
        o.time,
        o.update_time,
        o.status.value,
        str(o.executed_qty),
        str(o.cum_quote),
        str(o.stop_price),
        o.working_type.value,
        o.close_position,
        o.price_protect,
    ]


def order_from_list(x: list[Any]) -> Order:
    return Order(
        order_id=x[0],
        client_order_id=x[1],
        symbol=x[2],
        side=OrderSide(x[3]),
        position_side=PositionSide(x[4]),
        type=OrderType(x[5]),
        time_in_force=TimeInForce(x[6]),
        quantity=Decimal(x[7]),
        price=Decimal(x[8]),
        reduce_only=x[9],
        time=x[10],
        update_time=x[11],
        status=OrderStatus(x[12]),
        executed_qty=Decimal(x[13]),
        cum_quote=Decimal(x[14]),
        stop_price=Decimal(x[15]),
        working_type=WorkingType(x[16]),
        close_position=x[17],
        price_protect=x[18],
    )
