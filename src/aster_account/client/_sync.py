"""``Client``: the blocking face of the core. Only the I/O lines live here (see ``_core``)."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from aster_account.client import _endpoints as api
from aster_account.client._base import (
    WRAPPER_ASSIGNMENTS,
    BaseClient,
    method_signature,
    proxy_for,
)
from aster_account.client._core import Call, Flow, RawResponse, Send, Walk
from aster_account.client._httptools import HttptoolsTransport
from aster_account.client._stream import StreamNotice, StreamPolicy, StreamResync, stream_base
from aster_account.client._transport import HttpxTransport
from aster_account.client._urllib3 import Urllib3Transport
from aster_account.protocol.enums import AutoCloseType, IncomeType, PositionMarginChange
from aster_account.protocol.errors import AsterError, InvalidListenKey
from aster_account.protocol.models import Event, ForceOrder, Income, MarginHistoryEntry

__all__ = ["Client", "UserStream"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class _Method(Generic[P, T]):
    """Makes a builder of ``_endpoints`` a method: same signature, returns the result."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.name = build.__name__
        self.signature = method_signature(build)

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, client: Client | None, owner: type[Any]) -> Self | Callable[P, T]:
        if client is None:
            return self
        build, run = self.build, client._drive
        flow = client._core.flow

        @functools.wraps(build, assigned=WRAPPER_ASSIGNMENTS)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return run(flow(build(*args, **kwargs)))

        method.__signature__ = self.signature  # type: ignore[attr-defined]
        method.__qualname__ = f"{type(client).__name__}.{self.name}"
        client.__dict__[self.name] = method  # later lookups skip the descriptor
        return method


class _Raw:
    """``client.raw.<endpoint>(...)``: the same calls, answering a :class:`RawResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., RawResponse]:
        build = api.BUILDERS.get(name)
        if build is None:
            raise AttributeError(name)
        client = self._client

        @functools.wraps(build)
        def method(*args: Any, **kwargs: Any) -> RawResponse:
            return client._drive(client._core.raw_flow(build(*args, **kwargs)))

        setattr(self, name, method)
        return method


class UserStream:
    """The account's events as they happen: ``for event in client.user_stream(): ...``.

    Keeps the listenKey alive, reconnects, renews the key (see ``_stream``). ``close()`` (or
    leaving a ``with`` block) ends the iteration and closes the key; it may be called from
    another thread.
    """

    def __init__(self, client: Client, policy: StreamPolicy, base: str) -> None:
        self._client = client
        self.policy = policy
        self._base = base
        self._ws: ClientConnection | None = None
        self._closed = False
        self._events = self._run()

    def __iter__(self) -> Iterator[Event | StreamResync]:
        return self

    def __next__(self) -> Event | StreamResync:
        return next(self._events)

    def _run(self) -> Iterator[Event | StreamResync]:
        client, policy, now = self._client, self.policy, self._client._core.now
        while not self._closed:
            if policy.key is None:
                policy.key_made(client.new_listen_key().listen_key, now())
            try:
                ws = connect(policy.url(self._base), open_timeout=10, close_timeout=2)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                client._sleep(policy.ended(None, str(exc)))
                continue
            self._ws = ws
            with ws:
                if policy.opened(now()):  # after a gap: the REST snapshot, then the events
                    try:
                        balances, positions = client.get_balance(), client.get_position_risk()
                    except AsterError as exc:
                        ws.close()  # not held open through the wait
                        client._sleep(policy.snapshot_failed(exc))
                        continue
                    if self._closed:
                        return
                    yield policy.resynced(balances, positions)
                while not self._closed:
                    try:
                        frame = ws.recv(timeout=policy.wait(now()))
                    except TimeoutError:
                        due = policy.due(now())
                        if due == "renew":
                            policy.renewing()
                            break
                        if due == "keepalive":
                            try:
                                client.keepalive_listen_key()
                            except InvalidListenKey:
                                policy.key = None
                                policy.renewing()
                                break
                            policy.kept_alive(now())
                        continue
                    except ConnectionClosed as exc:
                        if self._closed:
                            return
                        # no close frame: 1006, "closed abnormally" (RFC 6455 7.1.5)
                        code, reason = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")
                        client._sleep(policy.ended(code, reason))
                        break
                    event = policy.read(frame)
                    if event is not None:
                        yield event
                    if policy.key is None:  # listenKeyExpired: a new key, a new connection
                        policy.renewing()
                        break

    def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            self._ws.close()
        if self.policy.key is not None:
            with contextlib.suppress(AsterError):
                self._client.close_listen_key()
            self.policy.key = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Client(BaseClient):
    """The Aster account API, blocking.

    ``Client(api_key, api_secret, base_url)``: credentials default to ``ASTER_API_KEY`` /
    ``ASTER_API_SECRET``, the URL to ``ASTER_BASE_URL`` and then ``https://fapi.asterdex.com``.
    One method per catalog endpoint, named as in the catalog, returning ``protocol.models``
    (Decimal money, enums); ``client.raw.<method>(...)`` returns the answer as it came
    (:class:`RawResponse`: status, headers, bytes, ``json()``). Errors raise their
    ``protocol.errors`` class. See ``aster_account.client`` for clock, weight and retry rules.

    Requests go over keep-alive connections answered through httptools (``_httptools``), or
    through urllib3 when HTTP(S)_PROXY names a proxy for the URL; ``transport`` is any
    ``httpx.BaseTransport`` to use instead (``httpx.MockTransport`` in tests). ``now`` and
    ``sleep`` replace the wall clock and the pause (simulations, tests).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        *,
        recv_window: int = 5000,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
        retry_backoff: float = 0.25,
        max_wait: float = 60.0,
        weight_limit: int | None = None,
        clock_refresh: float = 600.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            api_key,
            api_secret,
            base_url,
            recv_window=recv_window,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            max_wait=max_wait,
            weight_limit=weight_limit,
            clock_refresh=clock_refresh,
            now=now,
        )
        self._sleep = sleep
        # The transport is driven directly: the core builds complete requests, and a client
        # library's cookies, redirects, retries and auth hooks are nothing Aster needs.
        proxy = proxy_for(self.base_url)
        self._transport: HttpxTransport | Urllib3Transport | HttptoolsTransport
        if transport is not None:
            self._transport = HttpxTransport(transport)
        elif proxy:
            self._transport = Urllib3Transport(proxy=proxy)
        else:
            self._transport = HttptoolsTransport()
        self.raw = _Raw(self)

    # -- the I/O: the only lines AsyncClient writes differently --------------------------------

    def _drive(self, flow: Flow[T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, Send):
                    try:
                        reply = self._transport.exchange(action)
                    except httpx.RequestError as exc:
                        action = flow.throw(exc)
                    else:
                        action = flow.send(reply)
                else:
                    self._sleep(action.seconds)
                    action = flow.send(None)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            flow.close()

    def _walk(self, walk: Walk[R]) -> Iterator[R]:
        while (call := walk.next_call()) is not None:
            yield from walk.feed(self._drive(self._core.flow(call)))

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections (also on leaving ``with Client(...)``); a later call
        opens new ones."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def user_stream(
        self,
        *,
        keepalive: float = 30 * 60,
        stream_url: str | None = None,
        on_notice: Callable[[StreamNotice], None] | None = None,
        resync: bool = True,
    ) -> UserStream:
        """The account's user data stream as an iterator of ``protocol.models`` events.

        ``stream_url`` defaults to Aster's stream host for Aster, else this server (ws://).
        ``on_notice`` is called with a ``StreamNotice`` when a key is made and when the
        connection opens, ends (events may be lost until it is back) or is renewed. After every
        reconnection the stream first hands out a ``StreamResync``: balances and positions read
        over REST, holding whatever was missed (``resync=False``: leave that to the caller).
        """
        policy = StreamPolicy(keepalive_s=keepalive, on_notice=on_notice, resync=resync)
        return UserStream(self, policy, stream_url or stream_base(self.base_url))

    def sync_clock(self) -> int:
        """Measure the server clock offset now; returns it (ms)."""
        return self._drive(self._core.sync_flow())

    # -- history over any range ----------------------------------------------------------------

    def iter_income(
        self,
        symbol: str | None = None,
        income_type: IncomeType | str | None = None,
        start_time: int | datetime | None = None,
        end_time: int | datetime | None = None,
        *,
        page_size: int = 1000,
    ) -> Iterator[Income]:
        """Every income row from ``start_time`` (default: 7 days before the end) to ``end_time``
        (default: now), oldest first, across 7-day windows and pages, without gaps or repeats."""
        walk = self._core.income_walk(symbol, income_type, start_time, end_time, page_size)
        return self._walk(walk)

    def iter_position_margin_history(
        self,
        symbol: str,
        type: PositionMarginChange | int | None = None,
        start_time: int | datetime | None = None,
        end_time: int | datetime | None = None,
        *,
        page_size: int = 500,
    ) -> Iterator[MarginHistoryEntry]:
        """Every isolated-margin change of ``symbol`` in the range (as :meth:`iter_income`)."""
        walk = self._core.margin_history_walk(symbol, type, start_time, end_time, page_size)
        return self._walk(walk)

    def iter_force_orders(
        self,
        symbol: str | None = None,
        auto_close_type: AutoCloseType | str | None = None,
        start_time: int | datetime | None = None,
        end_time: int | datetime | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[ForceOrder]:
        """Every liquidation / ADL order in the range (as :meth:`iter_income`)."""
        walk = self._core.force_orders_walk(
            symbol, auto_close_type, start_time, end_time, page_size
        )
        return self._walk(walk)

    # -- one method per catalog endpoint (signatures and docs: _endpoints) ---------------------

    get_balance = _Method(api.get_balance)
    get_account = _Method(api.get_account)
    get_position_risk = _Method(api.get_position_risk)
    set_leverage = _Method(api.set_leverage)
    set_margin_type = _Method(api.set_margin_type)
    modify_position_margin = _Method(api.modify_position_margin)
    get_position_margin_history = _Method(api.get_position_margin_history)
    transfer = _Method(api.transfer)
    get_position_mode = _Method(api.get_position_mode)
    set_position_mode = _Method(api.set_position_mode)
    get_multi_assets_mode = _Method(api.get_multi_assets_mode)
    set_multi_assets_mode = _Method(api.set_multi_assets_mode)
    get_income = _Method(api.get_income)
    get_leverage_brackets = _Method(api.get_leverage_brackets)
    get_adl_quantile = _Method(api.get_adl_quantile)
    get_force_orders = _Method(api.get_force_orders)
    get_commission_rate = _Method(api.get_commission_rate)
    get_remaining_openable_notional = _Method(api.get_remaining_openable_notional)
    new_listen_key = _Method(api.new_listen_key)
    keepalive_listen_key = _Method(api.keepalive_listen_key)
    close_listen_key = _Method(api.close_listen_key)
    ping = _Method(api.ping)
    get_server_time = _Method(api.get_server_time)
    get_exchange_info = _Method(api.get_exchange_info)
    get_premium_index = _Method(api.get_premium_index)
    new_order = _Method(api.new_order)
    get_order = _Method(api.get_order)
    cancel_order = _Method(api.cancel_order)
    cancel_all_open_orders = _Method(api.cancel_all_open_orders)
    get_open_orders = _Method(api.get_open_orders)
