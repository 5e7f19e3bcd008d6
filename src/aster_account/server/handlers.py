"""One function per catalog endpoint: typed parameters in, a `protocol.models` reply out.

Handlers run in a worker thread (the store is synchronous); they know nothing about HTTP. The
catalog has already validated the parameters and the auth layer has found the account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aster_account.engine import account as ops
from aster_account.engine import views
from aster_account.protocol import models as m
from aster_account.protocol.enums import MarginType, PositionMarginChange, TransferKind
from aster_account.protocol.errors import aster_error
from aster_account.server.render import render
from aster_account.server.service import Service

Handler = Callable[[Service, "int | None", dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def _spec(svc: Service, symbol: str) -> Any:
    try:
        return svc.market.symbol(symbol)
    except KeyError:
        raise aster_error(-1121, "Invalid symbol.") from None


def _check_window(p: dict[str, Any]) -> None:
    start, end = p.get("start_time"), p.get("end_time")
    if start is not None and end is not None and start > end:
        raise aster_error(-1023, "Start time is greater than end time.")


# -- public ------------------------------------------------------------------------------------


@handler("ping")
def ping(svc: Service, _a: int | None, _p: dict[str, Any]) -> Any:
    return m.Empty()


@handler("get_server_time")
def server_time(svc: Service, _a: int | None, _p: dict[str, Any]) -> Any:
    return m.ServerTime(server_time=svc.clock())


@handler("get_exchange_info")
def exchange_info(svc: Service, _a: int | None, _p: dict[str, Any]) -> Any:
    return views.exchange_info(svc.market, svc.clock(), svc.weight_limit)


@handler("get_premium_index")
def premium_index(svc: Service, _a: int | None, p: dict[str, Any]) -> Any:
    marks = svc.marks()
    symbol = p.get("symbol")
    if symbol is not None:
        _spec(svc, symbol)
    rows = [
        m.PremiumIndex(
            symbol=mp.symbol,
            mark_price=mp.mark_price,
            index_price=mp.index_price,
            estimated_settle_price=mp.index_price,
            last_funding_rate=mp.funding_rate,
            next_funding_time=mp.next_funding_time,
            interest_rate=mp.interest_rate,
            time=mp.time,
        )
        for s, mp in sorted(marks.items())
        if symbol is None or s == symbol
    ]
    if symbol is not None:
        if not rows:
            raise aster_error(-1121, "Invalid symbol.")
        return rows[0]
    return rows


# -- account reads -----------------------------------------------------------------------------


@handler("get_balance")
def balance(svc: Service, a: int | None, _p: dict[str, Any]) -> Any:
    assert a is not None
    return svc.view(a, "balance", lambda acct: render(views.balance(acct, svc.market, svc.marks())))


@handler("get_account")
def account(svc: Service, a: int | None, _p: dict[str, Any]) -> Any:
    assert a is not None
    return svc.view(
        a, "account", lambda acct: render(views.account_info(acct, svc.market, svc.marks()))
    )


@handler("get_position_risk")
def position_risk(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    symbol = p.get("symbol")
    if symbol is not None:
        _spec(svc, symbol)
    return svc.view(
        a,
        f"positionRisk:{symbol or ''}",
        lambda acct: render(views.position_risk(acct, svc.market, svc.marks(), symbol)),
    )


@handler("get_position_mode")
def position_mode(svc: Service, a: int | None, _p: dict[str, Any]) -> Any:
    assert a is not None
    return m.PositionMode(dual_side_position=svc.read(a).dual_side)


@handler("get_multi_assets_mode")
def multi_assets_mode(svc: Service, a: int | None, _p: dict[str, Any]) -> Any:
    assert a is not None
    return m.MultiAssetsMode(multi_assets_margin=svc.read(a).multi_assets)


@handler("get_leverage_brackets")
def leverage_brackets(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    symbol = p.get("symbol")
    if symbol is not None:
        return views.brackets(_spec(svc, symbol))
    return [views.brackets(svc.market.symbols[s]) for s in sorted(svc.market.symbols)]


@handler("get_commission_rate")
def commission_rate(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    return views.commission_rate(_spec(svc, p["symbol"]))


@handler("get_remaining_openable_notional")
def remaining_openable(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    spec = _spec(svc, p["symbol"])
    leverage = p["leverage"]
    if not 1 <= leverage <= spec.brackets.max_leverage:
        raise aster_error(-4028, f"Leverage {leverage} is not valid")
    return views.remaining_openable(svc.read(a), svc.market, svc.marks(), spec, leverage)


@handler("get_adl_quantile")
def adl_quantile(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    symbol = p.get("symbol")
    if symbol is not None:
        _spec(svc, symbol)
    rows = views.adl_quantile(svc.read(a), svc.market, svc.adl_quantiles())
    return [r for r in rows if symbol is None or r.symbol == symbol]


@handler("get_income")
def income(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    _check_window(p)
    if p.get("symbol") is not None:
        _spec(svc, p["symbol"])
    rows = svc.store.income(
        a,
        now_ms=svc.clock(),
        symbol=p.get("symbol"),
        income_type=p.get("income_type"),
        start_time=p.get("start_time"),
        end_time=p.get("end_time"),
        limit=p["limit"],
    )
    return [views.income(r) for r in rows]


@handler("get_position_margin_history")
def margin_history(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    _check_window(p)
    _spec(svc, p["symbol"])
    rows = svc.store.margin_history(
        a,
        now_ms=svc.clock(),
        symbol=p["symbol"],
        type=p.get("type"),
        start_time=p.get("start_time"),
        end_time=p.get("end_time"),
        limit=p["limit"],
    )
    return [views.margin_history(r) for r in rows]


@handler("get_force_orders")
def force_orders(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    _check_window(p)
    symbol = p.get("symbol")
    if symbol is not None:
        _spec(svc, symbol)
    rows = svc.store.force_orders(
        a,
        now_ms=svc.clock(),
        symbol=symbol,
        auto_close_type=p.get("auto_close_type"),
        start_time=p.get("start_time"),
        end_time=p.get("end_time"),
        limit=p["limit"],
    )
    return [views.force_order(r, svc.market.symbols[r.symbol]) for r in rows]


# -- account writes ----------------------------------------------------------------------------


@handler("set_leverage")
def set_leverage(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    out = svc.mutate(a, ops.set_leverage, symbol=p["symbol"], leverage=p["leverage"])
    leverage, max_notional = out.result
    return m.LeverageResult(leverage=leverage, max_notional_value=max_notional, symbol=p["symbol"])


@handler("set_margin_type")
def set_margin_type(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    margin_type: MarginType = p["margin_type"]
    svc.mutate(a, ops.set_margin_type, symbol=p["symbol"], margin_type=margin_type)
    return m.CodeMsg()


@handler("modify_position_margin")
def modify_position_margin(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    change = PositionMarginChange(p["type"])
    out = svc.mutate(
        a,
        ops.modify_position_margin,
        symbol=p["symbol"],
        amount=p["amount"],
        type=change,
        position_side=p.get("position_side"),
    )
    amount, _ = out.result
    return m.PositionMarginResult(amount=amount, change=change)


@handler("transfer")
def transfer(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    kind: TransferKind = p["kind_type"]
    amount: Decimal = p["amount"]
    out = svc.mutate(
        a,
        ops.transfer,
        asset=p["asset"],
        amount=amount,
        kind=kind,
        client_tran_id=p["client_tran_id"],
    )
    return m.TransferResult(tran_id=out.result.tran_id)


@handler("set_position_mode")
def set_position_mode(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    svc.mutate(a, ops.set_position_mode, dual_side_position=p["dual_side_position"])
    return m.CodeMsg()


@handler("set_multi_assets_mode")
def set_multi_assets_mode(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    svc.mutate(a, ops.set_multi_assets_mode, multi_assets_margin=p["multi_assets_margin"])
    return m.CodeMsg()


# -- user data stream keys -------------------------------------------------------------------

LISTEN_KEY_TTL_MS = 60 * 60 * 1000  # docs: valid for 60 minutes, PUT extends by 60 minutes


@handler("new_listen_key")
def new_listen_key(svc: Service, a: int | None, _p: dict[str, Any]) -> Any:
    """An account's active key is returned (and extended) rather than a second one made."""
    assert a is not None
    now = svc.clock()
    row = svc.store.listen_key_for_account(a)
    key = row.key if row is not None and row.expires_ms > now else secrets.token_urlsafe(48)
    svc.store.put_listen_key(a, key, now + LISTEN_KEY_TTL_MS)
    return m.ListenKey(listen_key=key)


def _active_key(svc: Service, a: int, p: dict[str, Any]) -> Any:
    row = svc.store.listen_key_for_account(a)
    if row is None or row.expires_ms <= svc.clock():
        raise aster_error(-1125, "This listenKey does not exist.")
    return row


@handler("keepalive_listen_key")
def keepalive_listen_key(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    row = _active_key(svc, a, p)
    svc.store.put_listen_key(a, row.key, svc.clock() + LISTEN_KEY_TTL_MS)
    return m.Empty()


@handler("close_listen_key")
def close_listen_key(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    row = _active_key(svc, a, p)
    svc.store.delete_listen_key(row.key)
    svc.close_streams(row.key)
    return m.Empty()


# -- simulated orders --------------------------------------------------------------------------


@handler("new_order")
def new_order(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    spec = _spec(svc, p["symbol"])
    out = svc.mutate(
        a,
        ops.new_order,
        symbol=p["symbol"],
        side=p["side"],
        type=p["type"],
        quantity=p.get("quantity"),
        price=p.get("price"),
        position_side=p.get("position_side"),
        time_in_force=p.get("time_in_force"),
        reduce_only=p.get("reduce_only"),
        new_client_order_id=p.get("new_client_order_id"),
    )
    return views.order(out.result, spec, with_time=False)


@handler("get_order")
def get_order(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    """Open orders from the account, the rest from the order history (docs: Query Order)."""
    assert a is not None
    spec = _spec(svc, p["symbol"])
    order_id, client_id = p.get("order_id"), p.get("orig_client_order_id")
    for order in svc.read(a).open_orders(p["symbol"]):
        if (order_id is None or order.order_id == order_id) and (
            client_id is None or order.client_order_id == client_id
        ):
            return views.order(order, spec)
    done = svc.store.order(
        a, p["symbol"], now_ms=svc.clock(), order_id=order_id, client_order_id=client_id
    )
    if done is None:
        raise aster_error(-2013, "Order does not exist.")
    return views.order(done, spec)


@handler("cancel_order")
def cancel_order(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    spec = _spec(svc, p["symbol"])
    out = svc.mutate(
        a,
        ops.cancel_order,
        symbol=p["symbol"],
        order_id=p.get("order_id"),
        orig_client_order_id=p.get("orig_client_order_id"),
    )
    return views.order(out.result, spec, with_time=False)


@handler("cancel_all_open_orders")
def cancel_all(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    svc.mutate(a, ops.cancel_all_open_orders, symbol=p["symbol"])
    return m.CancelAllResult()


@handler("get_open_orders")
def open_orders(svc: Service, a: int | None, p: dict[str, Any]) -> Any:
    assert a is not None
    symbol = p.get("symbol")
    if symbol is not None:
        _spec(svc, symbol)
    acct = svc.read(a)
    return [
        views.order(o, svc.market.symbols[o.symbol])
        for o in sorted(acct.open_orders(symbol), key=lambda o: o.order_id)
    ]
