"""``AsyncClient`` against the real server over loopback: every method, clock skew (-1021
recovery), many requests in flight under a small weight limit without a 429, and a transfer that
survives the server being killed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from clientfixtures import AsterProcess, AsyncRecorder, Keys, running

from aster_account import AsyncClient, NoNeedToChangeMarginType
from aster_account.protocol.catalog import ENDPOINTS
from aster_account.protocol.enums import IncomeType, OrderStatus, PositionMarginChange
from aster_account.protocol.models import CodeMsg, TransferResult


@pytest.fixture(scope="module")
def aster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsterProcess]:
    with running(tmp_path_factory.mktemp("client-async")) as server:
        yield server


@pytest.fixture
def keys(aster: AsterProcess) -> Keys:
    return aster.create_account()


def client_for(aster: AsterProcess, keys: Keys, **kw: Any) -> AsyncClient:
    return AsyncClient(keys.api_key, keys.api_secret, aster.base_url, **kw)


class Tracked:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.used.add(name)
        return getattr(self.client, name)


async def test_every_method(aster: AsterProcess, keys: Keys) -> None:
    async with client_for(aster, keys) as plain:
        c = Tracked(plain)
        await c.ping()
        assert abs((await c.get_server_time()).server_time - time.time() * 1000) < 5000
        assert (await c.get_exchange_info()).rate_limits
        assert isinstance(await c.get_premium_index(), list)
        assert (await c.get_premium_index("ETHUSDT")).symbol == "ETHUSDT"  # type: ignore[union-attr]
        balance, account, risk, mode, multi = await asyncio.gather(
            c.get_balance(),
            c.get_account(),
            c.get_position_risk(),
            c.get_position_mode(),
            c.get_multi_assets_mode(),
        )
        assert balance[0].wallet_balance == Decimal("10000")
        assert account.total_wallet_balance == Decimal("10000")
        assert all(p.position_amount == 0 for p in risk)
        assert mode.dual_side_position is False and multi.multi_assets_margin is False
        assert await c.set_position_mode(True) == CodeMsg()
        await c.set_position_mode(False)
        await c.set_position_mode(False, ok_if_unchanged=True)
        await c.set_multi_assets_mode(True)
        await c.set_multi_assets_mode(False)
        assert (await c.set_leverage("ETHUSDT", 5)).leverage == 5
        await c.set_margin_type("ETHUSDT", "ISOLATED")
        with pytest.raises(NoNeedToChangeMarginType):
            await c.set_margin_type("ETHUSDT", "ISOLATED")
        await c.set_margin_type("ETHUSDT", "ISOLATED", ok_if_unchanged=True)
        assert isinstance(await c.get_leverage_brackets(), list)
        assert (await c.get_leverage_brackets("ETHUSDT")).symbol == "ETHUSDT"  # type: ignore[union-attr]
        assert (await c.get_commission_rate("ETHUSDT")).maker_commission_rate >= 0
        openable = await c.get_remaining_openable_notional("ETHUSDT", 5)
        assert openable.remaining_openable_notional_value > 0
        await c.new_order("ETHUSDT", "BUY", "MARKET", quantity="0.5")
        await c.modify_position_margin("ETHUSDT", "20", PositionMarginChange.ADD)
        await c.modify_position_margin("ETHUSDT", "5", PositionMarginChange.REDUCE)
        history = await c.get_position_margin_history("ETHUSDT")
        assert [h.change for h in history] == [
            PositionMarginChange.ADD,
            PositionMarginChange.REDUCE,
        ]
        walked = [h async for h in c.iter_position_margin_history("ETHUSDT")]
        assert walked == history
        assert (await c.get_adl_quantile("ETHUSDT"))[0].symbol == "ETHUSDT"
        assert await c.get_force_orders("ETHUSDT") == []
        assert [f async for f in c.iter_force_orders()] == []
        order = await c.new_order(
            "ETHUSDT", "SELL", "LIMIT", time_in_force="GTC", quantity="0.1", price="9000"
        )
        assert (await c.get_order("ETHUSDT", order_id=order.order_id)).status is OrderStatus.NEW
        assert len(await c.get_open_orders()) == 1
        await c.cancel_order("ETHUSDT", orig_client_order_id=order.client_order_id)
        await c.new_order(
            "ETHUSDT", "SELL", "LIMIT", time_in_force="GTC", quantity="0.1", price="9000"
        )
        await c.cancel_all_open_orders("ETHUSDT")
        assert await c.get_open_orders("ETHUSDT") == []
        moved = await c.transfer(asset="USDT", amount="12.5", kind_type="FUTURE_SPOT")
        rows = await c.get_income(income_type=IncomeType.TRANSFER)
        assert str(moved.tran_id) in {r.tran_id for r in rows}
        assert [r async for r in c.iter_income(income_type="TRANSFER")] == rows
        key = (await c.new_listen_key()).listen_key
        assert key
        await c.keepalive_listen_key()
        await c.close_listen_key()
        raw = await plain.raw.get_account()
        assert raw.status_code == 200 and "assets" in raw.json()
    endpoints = {e.name for e in ENDPOINTS}
    assert endpoints <= c.used, f"not exercised: {sorted(endpoints - c.used)}"


@pytest.mark.parametrize("skew_ms", [30_000, -15_000], ids=["server-ahead", "server-behind"])
async def test_clock_skew_is_recovered(aster: AsterProcess, keys: Keys, skew_ms: int) -> None:
    recorder = AsyncRecorder()
    async with client_for(aster, keys, transport=recorder) as c:
        try:
            await c.get_balance()
            await asyncio.to_thread(aster.set_clock_offset, skew_ms)
            await asyncio.gather(*(c.get_balance() for _ in range(5)))
            assert abs(c.time_offset_ms - skew_ms) < 1000
        finally:
            await asyncio.to_thread(aster.set_clock_offset, 0)
    times = [e for e in recorder.exchanges if e.path == "/fapi/v1/time"]
    refused = [e for e in recorder.exchanges if e.code == -1021]
    assert len(times) == 2  # five refusals, one new measurement
    assert len(refused) == 5
    assert recorder.statuses()[-5:] == [200] * 5


async def test_many_in_flight_under_a_small_limit_never_get_a_429(tmp_path: Path) -> None:
    with running(tmp_path, weight_limit=100) as small:
        keys = small.create_account()
        now = small.set_clock_offset(0)
        small.set_clock_offset(60_000 - now % 60_000 - 2_000)
        recorder = AsyncRecorder()
        async with client_for(small, keys, transport=recorder) as c:
            await c.get_exchange_info()
            started = time.monotonic()
            await asyncio.gather(*(c.get_balance() for _ in range(32)))  # 160 weight
            elapsed = time.monotonic() - started
        assert set(recorder.statuses()) == {200}, recorder.codes()
        assert recorder.statuses().count(200) == 1 + 1 + 32
        assert 0.2 < elapsed < 5  # one wait for the next server minute


class KillAfterTransferCommits(httpx.AsyncBaseTransport):
    def __init__(self, server: AsterProcess) -> None:
        self.server = server
        self.inner = httpx.AsyncHTTPTransport()
        self.transfers: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/fapi/v1/asset/wallet/transfer":
            return await self.inner.handle_async_request(request)
        self.transfers.append(request.url.params["clientTranId"])
        answer = await self.inner.handle_async_request(request)
        await answer.aread()
        if len(self.transfers) == 1:
            assert answer.status_code == 200
            await asyncio.to_thread(self.server.restart)
            raise httpx.ReadError("connection reset by peer")
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_transfer_moves_money_once_across_a_server_kill(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        keys = server.create_account(futures={"USDT": "500"}, spot={})
        transport = KillAfterTransferCommits(server)
        async with client_for(server, keys, transport=transport, retry_backoff=0.2) as c:
            result = await c.transfer(asset="USDT", amount="200", kind_type="FUTURE_SPOT")
            assert isinstance(result, TransferResult)
        assert len(transport.transfers) == 2 and len(set(transport.transfers)) == 1
        assert server.wallets(keys.account_id) == (Decimal("300"), Decimal("200"))


async def test_user_stream_delivers_typed_events(aster: AsterProcess, keys: Keys) -> None:
    from aster_account.protocol.models import AccountConfigUpdate, AccountUpdate

    async with client_for(aster, keys) as c:
        events: asyncio.Queue[Any] = asyncio.Queue()
        stream = c.user_stream()

        async def listen() -> None:
            async for event in stream:
                await events.put(event)

        task = asyncio.create_task(listen())
        try:
            async with asyncio.timeout(10):
                while not stream.policy.connected:
                    await asyncio.sleep(0.02)
            await c.set_leverage("ETHUSDT", 6)
            await c.transfer(asset="USDT", amount="2", kind_type="FUTURE_SPOT")
            seen: list[Any] = []
            async with asyncio.timeout(10):
                while not (
                    any(isinstance(e, AccountConfigUpdate) for e in seen)
                    and any(isinstance(e, AccountUpdate) for e in seen)
                ):
                    seen.append(await events.get())
            (config,) = [e for e in seen if isinstance(e, AccountConfigUpdate)]
            assert config.leverage is not None and config.leverage.leverage == 6
            (update,) = [e for e in seen if isinstance(e, AccountUpdate)]
            assert update.update.balances[0].balance_change == Decimal("-2")
        finally:
            await stream.close()
            async with asyncio.timeout(10):
                await task


async def test_after_a_gap_the_stream_hands_out_the_rest_snapshot(
    aster: AsterProcess, keys: Keys
) -> None:
    """As the sync test: the stream is cut, a transfer happens in the gap (inside the
    "disconnected" notice), and the first thing after the reconnection is a StreamResync with
    the transfer in its balance."""
    from aster_account import Client
    from aster_account.client import StreamNotice, StreamResync

    kinds: list[str] = []
    moved: list[bool] = []
    other = Client(keys.api_key, keys.api_secret, aster.base_url)

    def on_notice(notice: StreamNotice) -> None:
        kinds.append(notice.kind)
        if notice.kind == "disconnected" and not moved:
            other.transfer(asset="USDT", amount="1.25", kind_type="FUTURE_SPOT")
            moved.append(True)

    async with client_for(aster, keys) as c:
        before = next(b for b in await c.get_balance() if b.asset == "USDT").wallet_balance
        stream = c.user_stream(on_notice=on_notice)
        items: asyncio.Queue[Any] = asyncio.Queue()

        async def listen() -> None:
            async for item in stream:
                await items.put(item)

        task = asyncio.create_task(listen())
        try:
            async with asyncio.timeout(10):
                while not stream.policy.connected:
                    await asyncio.sleep(0.02)
            await c.close_listen_key()  # the server closes the stream's connection
            async with asyncio.timeout(15):
                resync = await items.get()
            assert isinstance(resync, StreamResync), resync
            assert moved and kinds.index("disconnected") < kinds.index("resynced")
            usdt = next(b for b in resync.balances if b.asset == "USDT")
            assert usdt.wallet_balance == before - Decimal("1.25")
        finally:
            other.close()
            await stream.close()
            async with asyncio.timeout(10):
                await task
