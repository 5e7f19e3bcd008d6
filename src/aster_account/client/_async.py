"""``AsyncClient``: the asyncio face of the core. Only the I/O lines live here (see ``_core``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from aster_account.client import _endpoints as api
from aster_account.client._base import BaseClient, method_signature, proxy_for
from aster_account.client._core import Call, Flow, RawResponse, Send, Walk
from aster_account.client._httptools import AsyncHttptoolsTransport
from aster_account.client._stream import StreamNotice, StreamPolicy, StreamResync, stream_base
from aster_account.client._transport import AsyncHttpxTransport
from aster_account.protocol.enums import AutoCloseType, IncomeType, PositionMarginChange
from aster_account.protocol.errors import AsterError, InvalidListenKey
from aster_account.protocol.models import Event, ForceOrder, Income, MarginHistoryEntry

if TYPE_CHECKING:
    from aster_account.client._aiohttp import AiohttpTransport

__all__ = ["AsyncClient", "AsyncUserStream"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class _Method(Generic[P, T]):
    """Makes a builder of ``_endpoints`` a method: same signature, returns a coroutine."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.name = build.__name__
        self.signature = method_signature(build)

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, client: AsyncClient | None, owner: type[Any]
    ) -> Self | Callable[P, Coroutine[Any, Any, T]]:
        if client is None:
            return self
        build, run = self.build, client._drive
        flow = client._core.flow

        @functools.wraps(build)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await run(flow(build(*args, **kwargs)))

        method.__signature__ = self.signature  # type: ignore[attr-defined]
        method.__qualname__ = f"{type(client).__name__}.{self.name}"
        client.__dict__[self.name] = method  # later lookups skip the descriptor
        return method


class _Raw:
    """``client.raw.<endpoint>(...)``: the same calls, answering a :class:`RawResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse]]:
        build = api.BUILDERS.get(name)
        if build is None:
            raise AttributeError(name)
        client = self._client

        @functools.wraps(build)
        async def method(*args: Any, **kwargs: Any) -> RawResponse:
            return await client._drive(client._core.raw_flow(build(*args, **kwargs)))

        setattr(self, name, method)
        return method


class AsyncUserStream:
    """The account's events as they happen: ``async for event in client.user_stream(): ...``.

    Keeps the listenKey alive, reconnects, renews the key (see ``_stream``). ``await close()``
    (or leaving an ``async with`` block) ends the iteration and closes the key.
    """

    def __init__(self, client: AsyncClient, policy: StreamPolicy, base: str) -> None:
        self._client = client
        self.policy = policy
        self._base = base
        self._ws: ClientConnection | None = None
        self._closed = False
        self._events = self._run()

    def __aiter__(self) -> AsyncIterator[Event | StreamResync]:
        return self

    async def __anext__(self) -> Event | StreamResync:
        return await anext(self._events)

    async def _run(self) -> AsyncGenerator[Event | StreamResync, None]:
        client, policy, now = self._client, self.policy, self._client._core.now
        while not self._closed:
            if policy.key is None:
                policy.key_made((await client.new_listen_key()).listen_key, now())
            try:
                ws = await connect(policy.url(self._base), open_timeout=10, close_timeout=2)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                await client._sleep(policy.ended(None, str(exc)))
                continue
            self._ws = ws
            async with ws:
                if policy.opened(now()):  # after a gap: the REST snapshot, then the events
                    try:
                        balances = await client.get_balance()
                        positions = await client.get_position_risk()
                    except AsterError as exc:
                        await ws.close()  # not held open through the wait
                        await client._sleep(policy.snapshot_failed(exc))
                        continue
                    if self._closed:
                        return
                    yield policy.resynced(balances, positions)
                while not self._closed:
                    try:
                        async with asyncio.timeout(policy.wait(now())):
                            frame = await ws.recv()
                    except TimeoutError:
                        due = policy.due(now())
                        if due == "renew":
                            policy.renewing()
                            break
                        if due == "keepalive":
                            try:
                                await client.keepalive_listen_key()
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
                        await client._sleep(policy.ended(code, reason))
                        break
                    event = policy.read(frame)
                    if event is not None:
                        yield event
                    if policy.key is None:  # listenKeyExpired: a new key, a new connection
                        policy.renewing()
                        break

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
        if self.policy.key is not None:
            with contextlib.suppress(AsterError):
                await self._client.close_listen_key()
            self.policy.key = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncClient(BaseClient):
    """The Aster account API for asyncio: :class:`Client` with ``await``.

    ``AsyncClient(api_key, api_secret, base_url)``: credentials default to ``ASTER_API_KEY`` /
    ``ASTER_API_SECRET``, the URL to ``ASTER_BASE_URL`` and then ``https://fapi.asterdex.com``.
    One method per catalog endpoint, named as in the catalog, returning ``protocol.models``
    (Decimal money, enums); ``client.raw.<method>(...)`` returns the answer as it came
    (:class:`RawResponse`: status, headers, bytes, ``json()``). Errors raise their
    ``protocol.errors`` class. See ``aster_account.client`` for clock, weight and retry rules.

    Requests go over keep-alive connections answered through httptools (up to 100 at once,
    opened in the running loop, closed by ``aclose()`` / ``async with``), or through one aiohttp
    session when HTTP(S)_PROXY names a proxy for the URL; ``transport`` is any
    ``httpx.AsyncBaseTransport`` to use instead (``httpx.MockTransport`` in tests). ``now`` and
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
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        retry_backoff: float = 0.25,
        max_wait: float = 60.0,
        weight_limit: int | None = None,
        clock_refresh: float = 600.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
        self._transport: AsyncHttpxTransport | AiohttpTransport | AsyncHttptoolsTransport
        if transport is not None:
            self._transport = AsyncHttpxTransport(transport)
        elif proxy_for(self.base_url) is not None:
            # aiohttp loads here, not with the package: only a proxy needs it
            from aster_account.client._aiohttp import AiohttpTransport

            self._transport = AiohttpTransport(trust_env=True)
        else:
            self._transport = AsyncHttptoolsTransport()
        self.raw = _Raw(self)

    # -- the I/O: the only lines Client writes differently --------------------------------

    async def _drive(self, flow: Flow[T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, Send):
                    try:
                        reply = await self._transport.exchange(action)
                    except httpx.RequestError as exc:
                        action = flow.throw(exc)
                    else:
                        action = flow.send(reply)
                else:
                    await self._sleep(action.seconds)
                    action = flow.send(None)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            flow.close()

    async def _walk(self, walk: Walk[R]) -> AsyncIterator[R]:
        while (call := walk.next_call()) is not None:
            for row in walk.feed(await self._drive(self._core.flow(call))):
                yield row

    # -- lifecycle -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connections (also on leaving ``async with AsyncClient(...)``); a later call
        opens new ones, in the event loop that makes it."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def user_stream(
        self,
        *,
        keepalive: float = 30 * 60,
        stream_url: str | None = None,
        on_notice: Callable[[StreamNotice], None] | None = None,
        resync: bool = True,
    ) -> AsyncUserStream:
        """The account's user data stream as an async iterator of ``protocol.models`` events.

        ``stream_url`` defaults to Aster's stream host for Aster, else this server (ws://).
        ``on_notice`` is called with a ``StreamNotice`` when a key is made and when the
        connection opens, ends (events may be lost until it is back) or is renewed. After every
        reconnection the stream first hands out a ``StreamResync``: balances and positions read
        over REST, holding whatever was missed (``resync=False``: leave that to the caller).
        """
        policy = StreamPolicy(keepalive_s=keepalive, on_notice=on_notice, resync=resync)
        return AsyncUserStream(self, policy, stream_url or stream_base(self.base_url))

    async def sync_clock(self) -> int:
        """Measure the server clock offset now; returns it (ms)."""
        return await self._drive(self._core.sync_flow())

    # -- history over any range ----------------------------------------------------------------

    def iter_income(
        self,
        symbol: str | None = None,
        income_type: IncomeType | str | None = None,
        start_time: int | datetime | None = None,
        end_time: int | datetime | None = None,
        *,
        page_size: int = 1000,
    ) -> AsyncIterator[Income]:
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
    ) -> AsyncIterator[MarginHistoryEntry]:
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
    ) -> AsyncIterator[ForceOrder]:
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
