"""One typed function per catalog endpoint: Python arguments in, a :class:`Call` out.

Each is a few lines naming the catalog entry and its result model (stripe / openai style); the
catalog supplies the method, path, weight, security and wire names. ``Client`` and
``AsyncClient`` turn every function here into a method of the same name and signature
(``Client.get_balance = sync_method(get_balance)``), so a signature is written once.

Arguments are the snake_case of Aster's parameters. Enumerated values take the
``protocol.enums`` member or its wire text; money takes ``Decimal`` (or ``str`` / ``int``), never
``float``; times take milliseconds or an aware ``datetime``. None means "not sent".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeAlias

from aster_account.client._core import Call, make_call, new_client_tran_id
from aster_account.protocol.catalog import BY_NAME
from aster_account.protocol.enums import (
    AutoCloseType,
    IncomeType,
    MarginType,
    OrderSide,
    OrderType,
    PositionMarginChange,
    PositionSide,
    TimeInForce,
    TransferKind,
    WorkingType,
)
from aster_account.protocol.models import (
    AccountInfo,
    AdlQuantile,
    BalanceRow,
    CancelAllResult,
    CodeMsg,
    CommissionRate,
    Empty,
    ExchangeInfo,
    ForceOrder,
    Income,
    LeverageResult,
    ListenKey,
    MarginHistoryEntry,
    MultiAssetsMode,
    Order,
    PositionMarginResult,
    PositionMode,
    PositionRisk,
    PremiumIndex,
    RemainingOpenable,
    ServerTime,
    SymbolBrackets,
    TransferResult,
)

Amount: TypeAlias = Decimal | str | int
Time: TypeAlias = int | datetime

# ok_if_unchanged: the codes that mean "it is already so".
_MARGIN_TYPE_UNCHANGED: Final = frozenset({-4046})
_POSITION_MODE_UNCHANGED: Final = frozenset({-4059})
_MULTI_ASSETS_UNCHANGED: Final = frozenset({-4171})
_NONE: Final[frozenset[int]] = frozenset()


def _ok(flag: bool, codes: frozenset[int]) -> frozenset[int]:
    return codes if flag else _NONE


# -- account -----------------------------------------------------------------------------------


def get_balance() -> Call[list[BalanceRow]]:
    return make_call("get_balance")


def get_account() -> Call[AccountInfo]:
    return make_call("get_account")


def get_position_risk(symbol: str | None = None) -> Call[list[PositionRisk]]:
    return make_call("get_position_risk", symbol=symbol)


def set_leverage(
    symbol: str, leverage: int, *, ok_if_unchanged: bool = False
) -> Call[LeverageResult]:
    # ok_if_unchanged is accepted for symmetry: Aster answers a change to the current leverage
    # with success, so there is no "unchanged" error to forgive.
    return make_call("set_leverage", symbol=symbol, leverage=leverage)


def set_margin_type(
    symbol: str, margin_type: MarginType | str, *, ok_if_unchanged: bool = False
) -> Call[CodeMsg]:
    return make_call(
        "set_margin_type",
        _ok(ok_if_unchanged, _MARGIN_TYPE_UNCHANGED),
        symbol=symbol,
        margin_type=margin_type,
    )


def modify_position_margin(
    symbol: str,
    amount: Amount,
    type: PositionMarginChange | int,
    position_side: PositionSide | str | None = None,
) -> Call[PositionMarginResult]:
    return make_call(
        "modify_position_margin",
        symbol=symbol,
        amount=amount,
        type=type,
        position_side=position_side,
    )


def get_position_margin_history(
    symbol: str,
    type: PositionMarginChange | int | None = None,
    start_time: Time | None = None,
    end_time: Time | None = None,
    limit: int | None = None,
) -> Call[list[MarginHistoryEntry]]:
    return make_call(
        "get_position_margin_history",
        symbol=symbol,
        type=type,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
    )


def transfer(
    asset: str,
    amount: Amount,
    kind_type: TransferKind | str,
    client_tran_id: str | None = None,
) -> Call[TransferResult]:
    # The id is fixed here, once per call, so that every retry of this call reuses it.
    return make_call(
        "transfer",
        amount=amount,
        asset=asset,
        client_tran_id=client_tran_id or new_client_tran_id(),
        kind_type=kind_type,
    )


def get_position_mode() -> Call[PositionMode]:
    return make_call("get_position_mode")


def set_position_mode(dual_side_position: bool, *, ok_if_unchanged: bool = False) -> Call[CodeMsg]:
    return make_call(
        "set_position_mode",
        _ok(ok_if_unchanged, _POSITION_MODE_UNCHANGED),
        dual_side_position=dual_side_position,
    )


def get_multi_assets_mode() -> Call[MultiAssetsMode]:
    return make_call("get_multi_assets_mode")


def set_multi_assets_mode(
    multi_assets_margin: bool, *, ok_if_unchanged: bool = False
) -> Call[CodeMsg]:
    return make_call(
        "set_multi_assets_mode",
        _ok(ok_if_unchanged, _MULTI_ASSETS_UNCHANGED),
        multi_assets_margin=multi_assets_margin,
    )


def get_income(
    symbol: str | None = None,
    income_type: IncomeType | str | None = None,
    start_time: Time | None = None,
    end_time: Time | None = None,
    limit: int | None = None,
) -> Call[list[Income]]:
    return make_call(
        "get_income",
        symbol=symbol,
        income_type=income_type,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
    )


def get_leverage_brackets(
    symbol: str | None = None,
) -> Call[list[SymbolBrackets] | SymbolBrackets]:
    return make_call("get_leverage_brackets", symbol=symbol)


def get_adl_quantile(symbol: str | None = None) -> Call[list[AdlQuantile]]:
    return make_call("get_adl_quantile", symbol=symbol)


def get_force_orders(
    symbol: str | None = None,
    auto_close_type: AutoCloseType | str | None = None,
    start_time: Time | None = None,
    end_time: Time | None = None,
    limit: int | None = None,
) -> Call[list[ForceOrder]]:
    return make_call(
        "get_force_orders",
        symbol=symbol,
        auto_close_type=auto_close_type,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
    )


def get_commission_rate(symbol: str) -> Call[CommissionRate]:
    return make_call("get_commission_rate", symbol=symbol)


def get_remaining_openable_notional(symbol: str, leverage: int) -> Call[RemainingOpenable]:
    return make_call("get_remaining_openable_notional", symbol=symbol, leverage=leverage)


# -- user data stream keys ---------------------------------------------------------------------


def new_listen_key() -> Call[ListenKey]:
    return make_call("new_listen_key")


def keepalive_listen_key() -> Call[Empty]:
    return make_call("keepalive_listen_key")


def close_listen_key() -> Call[Empty]:
    return make_call("close_listen_key")


# -- public ------------------------------------------------------------------------------------


def ping() -> Call[Empty]:
    return make_call("ping")


def get_server_time() -> Call[ServerTime]:
    return make_call("get_server_time")


def get_exchange_info() -> Call[ExchangeInfo]:
    return make_call("get_exchange_info")


def get_premium_index(symbol: str | None = None) -> Call[list[PremiumIndex] | PremiumIndex]:
    return make_call("get_premium_index", symbol=symbol)


# -- orders ------------------------------------------------------------------------------------


def new_order(
    symbol: str,
    side: OrderSide | str,
    type: OrderType | str,
    position_side: PositionSide | str | None = None,
    time_in_force: TimeInForce | str | None = None,
    quantity: Amount | None = None,
    reduce_only: bool | None = None,
    price: Amount | None = None,
    new_client_order_id: str | None = None,
    stop_price: Amount | None = None,
    close_position: bool | None = None,
    activation_price: Amount | None = None,
    callback_rate: Amount | None = None,
    working_type: WorkingType | str | None = None,
    price_protect: bool | None = None,
    new_order_resp_type: str | None = None,
) -> Call[Order]:
    return make_call(
        "new_order",
        symbol=symbol,
        side=side,
        type=type,
        position_side=position_side,
        time_in_force=time_in_force,
        quantity=quantity,
        reduce_only=reduce_only,
        price=price,
        new_client_order_id=new_client_order_id,
        stop_price=stop_price,
        close_position=close_position,
        activation_price=activation_price,
        callback_rate=callback_rate,
        working_type=working_type,
        price_protect=price_protect,
        new_order_resp_type=new_order_resp_type,
    )


def get_order(
    symbol: str, order_id: int | None = None, orig_client_order_id: str | None = None
) -> Call[Order]:
    return make_call(
        "get_order", symbol=symbol, order_id=order_id, orig_client_order_id=orig_client_order_id
    )


def cancel_order(
    symbol: str, order_id: int | None = None, orig_client_order_id: str | None = None
) -> Call[Order]:
    return make_call(
        "cancel_order",
        symbol=symbol,
        order_id=order_id,
        orig_client_order_id=orig_client_order_id,
    )


def cancel_all_open_orders(symbol: str) -> Call[CancelAllResult]:
    return make_call("cancel_all_open_orders", symbol=symbol)


def get_open_orders(symbol: str | None = None) -> Call[list[Order]]:
    return make_call("get_open_orders", symbol=symbol)


# -- the table the faces are built from --------------------------------------------------------

BUILDERS: Final[dict[str, Any]] = {name: globals()[name] for name in BY_NAME}
"""Catalog name -> builder; a KeyError at import means an endpoint has no function here."""


def _document() -> None:
    # Each builder's docstring comes from the catalog, so a method's help() says what the
    # docs say, once.
    for name, fn in BUILDERS.items():
        ep = BY_NAME[name]
        doc = (
            f"{ep.summary}\n\n``{ep.method} {ep.path}`` (weight {ep.weight.describe()}, "
            f"{ep.security.value}) -> ``{ep.result}``."
        )
        fn.__doc__ = doc + _NOTES.get(name, "")


_UNCHANGED_NOTE = (
    '\n\nWith ``ok_if_unchanged=True`` the answer "no need to change" ({codes}) is a '
    "success: ``CodeMsg(code=200, msg=<the server's message>)``."
)
_NOTES: Final = {
    "set_leverage": "\n\n``ok_if_unchanged`` changes nothing: Aster accepts the current leverage.",
    "set_margin_type": _UNCHANGED_NOTE.format(codes="-4046"),
    "set_position_mode": _UNCHANGED_NOTE.format(codes="-4059"),
    "set_multi_assets_mode": _UNCHANGED_NOTE.format(codes="-4171"),
    "transfer": (
        "\n\nWithout ``client_tran_id`` a fresh one is generated; every retry of this call "
        "(after a lost response or a 5xx) reuses it, so the money moves at most once. If a "
        "retry is refused with -4115, the first attempt did the transfer: its tranId is read "
        "from the income history and returned, or ``AlreadyApplied`` is raised when it cannot "
        "be told apart. When every attempt is lost, ``UnknownOutcome`` carries "
        "``details['client_tran_id']``: call again with it; the transfer is then done, or "
        "refused with -4115 (``DuplicatedClientTranId``) because it was done already."
    ),
}


_document()
