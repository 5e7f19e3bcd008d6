"""``Client`` against the real server over loopback: every method, clock skew (-1021 recovery),
weight throttling without a 429, and a transfer that survives the server being killed."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from clientfixtures import AsterProcess, Keys, Recorder, running

from aster_account import Client, DuplicatedClientTranId, NoNeedToChangeMarginType
from aster_account.client import UserStream
from aster_account.protocol.catalog import ENDPOINTS
from aster_account.protocol.enums import (
    IncomeType,
    MarginType,
    OrderStatus,
    PositionMarginChange,
    TransferKind,
)
from aster_account.protocol.models import CodeMsg, TransferResult


@pytest.fixture(scope="module")
def aster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsterProcess]:
    with running(tmp_path_factory.mktemp("client-sync")) as server:
        yield server


@pytest.fixture
def keys(aster: AsterProcess) -> Keys:
    return aster.create_account()


def client_for(aster: AsterProcess, keys: Keys, **kw: Any) -> Client:
    return Client(keys.api_key, keys.api_secret, aster.base_url, **kw)


class Tracked:
    """Records which client methods a test used."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.used.add(name)
        return getattr(self.client, name)


def test_every_method(aster: AsterProcess, keys: Keys) -> None:
    with client_for(aster, keys) as plain:
        c = Tracked(plain)
        # public
        assert c.ping() is not None
        assert abs(c.get_server_time().server_time - time.time() * 1000) < 5000
        info = c.get_exchange_info()
        assert "BTCUSDT" in {s.symbol for s in info.symbols}
        assert plain.weight_limit == 1_000_000  # read from rateLimits
        marks = c.get_premium_index()
        assert isinstance(marks, list) and len(marks) >= 2
        btc = c.get_premium_index("BTCUSDT")
        assert not isinstance(btc, list) and btc.mark_price > 0
        # account reads
        (usdt,) = [b for b in c.get_balance() if b.asset == "USDT"]
        assert usdt.wallet_balance == Decimal("10000")
        assert c.get_account().total_wallet_balance == Decimal("10000")
        assert all(p.position_amount == 0 for p in c.get_position_risk())
        # modes
        assert c.get_position_mode().dual_side_position is False
        assert c.set_position_mode(True) == CodeMsg()
        assert c.set_position_mode(True, ok_if_unchanged=True).code == 200
        c.set_position_mode(False)
        assert c.get_multi_assets_mode().multi_assets_margin is False
        c.set_multi_assets_mode(True)
        assert c.get_multi_assets_mode().multi_assets_margin is True
        c.set_multi_assets_mode(False)
        c.set_multi_assets_mode(False, ok_if_unchanged=True)
        # per symbol
        assert c.set_leverage("BTCUSDT", 10).leverage == 10
        c.set_margin_type("BTCUSDT", MarginType.ISOLATED)
        with pytest.raises(NoNeedToChangeMarginType):
            c.set_margin_type("BTCUSDT", "ISOLATED")
        assert c.set_margin_type("BTCUSDT", "ISOLATED", ok_if_unchanged=True).code == 200
        brackets = c.get_leverage_brackets("BTCUSDT")
        assert not isinstance(brackets, list) and brackets.brackets[0].bracket == 1
        assert isinstance(c.get_leverage_brackets(), list)
        assert c.get_commission_rate("BTCUSDT").taker_commission_rate > 0
        openable = c.get_remaining_openable_notional("BTCUSDT", 10)
        assert openable.remaining_openable_notional_value > 0
        # a position, and its isolated margin
        filled = c.new_order("BTCUSDT", "BUY", "MARKET", quantity=Decimal("0.01"))
        assert filled.symbol == "BTCUSDT"
        (pos,) = [p for p in c.get_position_risk("BTCUSDT") if p.position_amount]
        assert pos.position_amount == Decimal("0.01") and pos.margin_type is MarginType.ISOLATED
        added = c.modify_position_margin("BTCUSDT", Decimal("10"), PositionMarginChange.ADD)
        assert added.amount == Decimal("10") and added.change is PositionMarginChange.ADD
        c.modify_position_margin("BTCUSDT", "4", 2)
        history = c.get_position_margin_history("BTCUSDT")
        assert [h.amount for h in history] == [Decimal("10"), Decimal("4")]
        assert [h.amount for h in c.iter_position_margin_history("BTCUSDT")] == [
            Decimal("10"),
            Decimal("4"),
        ]
        assert c.get_adl_quantile()[0].symbol == "BTCUSDT"
        assert c.get_force_orders() == [] and list(c.iter_force_orders()) == []
        # orders
        resting = c.new_order(
            "BTCUSDT", "BUY", "LIMIT", time_in_force="GTC", quantity="0.01", price="50000"
        )
        assert c.get_order("BTCUSDT", order_id=resting.order_id).status is OrderStatus.NEW
        assert [o.order_id for o in c.get_open_orders("BTCUSDT")] == [resting.order_id]
        assert c.cancel_order("BTCUSDT", order_id=resting.order_id).status is OrderStatus.CANCELED
        c.new_order("BTCUSDT", "SELL", "LIMIT", time_in_force="GTC", quantity="0.01", price="1e6")
        assert c.cancel_all_open_orders("BTCUSDT").code == 200
        assert c.get_open_orders() == []
        # transfer and income
        moved = c.transfer(asset="USDT", amount=Decimal("25"), kind_type=TransferKind.FUTURE_SPOT)
        assert isinstance(moved, TransferResult)
        transfers = c.get_income(income_type=IncomeType.TRANSFER)
        assert str(moved.tran_id) in {t.tran_id for t in transfers}
        assert [r.tran_id for r in c.iter_income(income_type="TRANSFER")] == [
            t.tran_id for t in transfers
        ]
        # user data stream keys
        key = c.new_listen_key().listen_key
        assert c.new_listen_key().listen_key == key
        c.keepalive_listen_key()
        c.close_listen_key()
        # the raw view
        raw = plain.raw.get_balance()
        assert raw.status_code == 200 and raw.json()[0]["asset"] == "USDT"
        assert raw.used_weight is not None
    endpoints = {e.name for e in ENDPOINTS}
    assert endpoints <= c.used, f"not exercised: {sorted(endpoints - c.used)}"


def test_money_moves_as_the_server_says(aster: AsterProcess, keys: Keys) -> None:
    with client_for(aster, keys) as c:
        c.transfer(asset="USDT", amount="123.45", kind_type="FUTURE_SPOT")
        c.transfer(asset="USDT", amount="0.05", kind_type="SPOT_FUTURE")
    assert aster.wallets(keys.account_id) == (Decimal("9876.6"), Decimal("1123.4"))


def test_errors_are_typed_with_code_status_and_headers(aster: AsterProcess, keys: Keys) -> None:
    from aster_account import BadApiKeyFmt, RejectedMbxKey
    from aster_account.protocol.errors import BadSymbol, BalanceNotSufficient

    with client_for(aster, keys) as c:
        with pytest.raises(BadSymbol) as caught:
            c.get_commission_rate("NOPEUSDT")
        assert caught.value.http_status == 400
        assert int(caught.value.headers["x-mbx-used-weight-1m"]) > 0
        with pytest.raises(BalanceNotSufficient):
            c.transfer(asset="USDT", amount="1000000", kind_type="FUTURE_SPOT")
    with Client("a" * 64, "x", aster.base_url) as stranger, pytest.raises(RejectedMbxKey):
        stranger.get_balance()  # well formed, unknown
    with Client("not-a-key", "x", aster.base_url) as odd, pytest.raises(BadApiKeyFmt):
        odd.get_balance()


# -- the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [45_000, -20_000], ids=["server-ahead", "server-behind"])
def test_clock_skew_is_recovered_after_one_minus_1021(
    aster: AsterProcess, keys: Keys, skew_ms: int
) -> None:
    recorder = Recorder()
    with client_for(aster, keys, transport=recorder) as c:
        try:
            c.get_balance()  # measures the offset (about 0 on loopback)
            assert abs(c.time_offset_ms) < 1000
            aster.set_clock_offset(skew_ms)
            c.get_balance()
            assert abs(c.time_offset_ms - skew_ms) < 1000
        finally:
            aster.set_clock_offset(0)
    paths = [(e.path, e.status, e.code) for e in recorder.exchanges]
    assert paths == [
        ("/fapi/v1/time", 200, None),
        ("/fapi/v2/balance", 200, None),
        ("/fapi/v2/balance", 400, -1021),
        ("/fapi/v1/time", 200, None),
        ("/fapi/v2/balance", 200, None),
    ]


# -- request weight ----------------------------------------------------------------------------


def test_throttle_engages_before_the_limit_and_no_429_comes_back(tmp_path: Path) -> None:
    with running(tmp_path, weight_limit=60) as small:
        keys = small.create_account()
        now = small.set_clock_offset(0)
        # put the server 2.5 s before the end of one of its minutes, so the wait is short
        small.set_clock_offset(60_000 - now % 60_000 - 2_500)
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)

        recorder = Recorder()
        with client_for(small, keys, transport=recorder, sleep=sleep) as c:
            started = time.monotonic()
            c.get_exchange_info()  # the limit, 60, is learnt from rateLimits
            assert c.weight_limit == 60
            for _ in range(14):  # 1 + 1 (time) + 14 x 5 = 72 > 60: must cross a minute
                c.get_balance()
            elapsed = time.monotonic() - started
        assert set(recorder.statuses()) == {200}, recorder.codes()
        assert len(slept) == 1 and 0 < slept[0] <= 3.0
        assert elapsed >= slept[0]


# -- a transfer that survives the server being killed --------------------------------------------


class KillOnTransfer(httpx.BaseTransport):
    """Forwards to the server; on the first transfer, SIGKILLs and restarts the server either
    after its answer came back (the client never sees it) or before the request is sent."""

    def __init__(self, server: AsterProcess, *, after_commit: bool) -> None:
        self.server = server
        self.after_commit = after_commit
        self.inner = httpx.HTTPTransport()
        self.struck = False
        self.transfers: list[str] = []
        self.restarter: threading.Timer | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_transfer = request.url.path == "/fapi/v1/asset/wallet/transfer"
        if is_transfer:
            self.transfers.append(request.url.params["clientTranId"])
        if not is_transfer or self.struck:
            return self.inner.handle_request(request)
        self.struck = True
        if self.after_commit:
            answer = self.inner.handle_request(request)
            answer.read()
            assert answer.status_code == 200, answer.text  # applied and committed...
            self.server.restart()  # ...and the answer is lost with the server
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        # before: the server dies first and comes back a moment later
        self.server.kill()
        self.restarter = threading.Timer(0.3, self.server.start)
        self.restarter.start()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("after_commit", [True, False], ids=["answer-lost", "server-down"])
def test_a_transfer_moves_money_once_across_a_server_kill(
    tmp_path: Path, after_commit: bool
) -> None:
    with running(tmp_path) as server:
        keys = server.create_account(futures={"USDT": "1000"}, spot={})
        transport = KillOnTransfer(server, after_commit=after_commit)
        with client_for(server, keys, transport=transport, retry_backoff=0.2, max_retries=8) as c:
            result = c.transfer(asset="USDT", amount="300", kind_type="FUTURE_SPOT")
            rows = [r for r in c.get_income(income_type="TRANSFER") if r.income < 0]
        if transport.restarter is not None:
            transport.restarter.join()
        assert len(set(transport.transfers)) == 1 and len(transport.transfers) >= 2
        assert server.wallets(keys.account_id) == (Decimal("700"), Decimal("300"))
        assert [(r.income, r.tran_id) for r in rows] == [(Decimal("-300"), str(result.tran_id))]


def test_a_transfer_killed_at_a_random_moment_moves_money_once(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        keys = server.create_account(futures={"USDT": "1000"}, spot={})
        for n, delay in enumerate((0.0, 0.001, 0.003, 0.01, 0.05)):
            before = server.wallets(keys.account_id)
            cid = f"kill-{n}"
            killer = threading.Timer(delay, server.kill)
            with client_for(server, keys, max_retries=0) as c:
                c.get_balance()  # connection and clock ready
                killer.start()
                try:
                    first: object = c.transfer(
                        asset="USDT", amount="1", kind_type="FUTURE_SPOT", client_tran_id=cid
                    )
                except Exception as exc:  # the kill lands before, during or after it
                    first = exc
                killer.join()
                server.start()
                if not isinstance(first, TransferResult):
                    # what UnknownOutcome tells the caller: send it again with the same id;
                    # it is then done now, or refused with -4115 because it was done already
                    with contextlib.suppress(DuplicatedClientTranId):
                        c.transfer(
                            asset="USDT", amount="1", kind_type="FUTURE_SPOT", client_tran_id=cid
                        )
            futures, spot = server.wallets(keys.account_id)
            assert (futures, spot) == (before[0] - 1, before[1] + 1), (delay, first)


# -- the user data stream ------------------------------------------------------------------------


class Listener:
    """Iterates a user stream in a thread, collecting events."""

    def __init__(self, stream: UserStream) -> None:
        self.stream = stream
        self.events: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not stream.policy.connected:
            assert time.monotonic() < deadline, "the stream did not connect"
            time.sleep(0.02)

    def _run(self) -> None:
        for event in self.stream:
            self.events.put(event)

    def next(self, kind: type, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(event, kind):
                return event

    def stop(self) -> None:
        self.stream.close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def test_user_stream_delivers_typed_events(aster: AsterProcess, keys: Keys) -> None:
    from aster_account.protocol.models import AccountConfigUpdate, AccountUpdate

    with client_for(aster, keys) as c:
        listener = Listener(c.user_stream())
        try:
            c.set_leverage("ETHUSDT", 7)
            config = listener.next(AccountConfigUpdate)
            assert config.leverage is not None
            assert (config.leverage.symbol, config.leverage.leverage) == ("ETHUSDT", 7)
            c.transfer(asset="USDT", amount="3", kind_type="FUTURE_SPOT")
            update = listener.next(AccountUpdate)
            assert update.update.balances[0].balance_change == Decimal("-3")
        finally:
            key = listener.stream.policy.key
            listener.stop()
        # closing the stream closed its key
        assert key is not None
        assert c.new_listen_key().listen_key != key


def test_user_stream_reconnects_after_the_server_restarts(tmp_path: Path) -> None:
    from aster_account.protocol.models import AccountConfigUpdate

    with running(tmp_path) as server:
        keys = server.create_account()
        with client_for(server, keys) as c:
            listener = Listener(c.user_stream())
            try:
                server.restart()
                deadline = time.monotonic() + 15
                while listener.stream.policy.reconnects == 0 or (
                    not listener.stream.policy.connected
                ):
                    assert time.monotonic() < deadline, "no reconnect"
                    time.sleep(0.05)
                c.set_leverage("BTCUSDT", 9)
                event = listener.next(AccountConfigUpdate)
                assert event.leverage is not None and event.leverage.leverage == 9
            finally:
                listener.stop()


def test_user_stream_makes_a_new_key_after_listen_key_expired(tmp_path: Path) -> None:
    from aster_account.protocol.models import AccountConfigUpdate, ListenKeyExpired

    with running(tmp_path) as server:
        keys = server.create_account()
        with client_for(server, keys) as c:
            listener = Listener(c.user_stream())
            try:
                first_key = listener.stream.policy.key
                server.set_clock_offset(61 * 60 * 1000)  # past the key's 60 minutes
                listener.next(ListenKeyExpired, timeout=15)
                deadline = time.monotonic() + 15
                while listener.stream.policy.key in (None, first_key) or (
                    not listener.stream.policy.connected
                ):
                    assert time.monotonic() < deadline, "no new key"
                    time.sleep(0.05)
                c.set_leverage("BTCUSDT", 11)  # signed: the client resyncs its clock first
                event = listener.next(AccountConfigUpdate)
                assert event.leverage is not None and event.leverage.leverage == 11
            finally:
                listener.stop()


def test_after_a_gap_the_stream_hands_out_the_rest_snapshot_with_what_was_missed(
    aster: AsterProcess, keys: Keys
) -> None:
    """The stream is cut (its key closed by another client); a transfer happens while it is down
    (inside the "disconnected" notice, so surely in the gap); the next thing the stream hands
    out is a StreamResync whose balance has the transfer, and the notices say so."""
    from aster_account.client import StreamNotice, StreamResync
    from aster_account.protocol.models import AccountConfigUpdate, AccountUpdate

    notices: list[StreamNotice] = []
    moved = threading.Event()

    with client_for(aster, keys) as c, client_for(aster, keys) as other:
        before = next(b for b in c.get_balance() if b.asset == "USDT").wallet_balance

        def on_notice(notice: StreamNotice) -> None:
            notices.append(notice)
            if notice.kind == "disconnected" and not moved.is_set():
                other.transfer(asset="USDT", amount="2.5", kind_type="FUTURE_SPOT")
                moved.set()

        listener = Listener(c.user_stream(on_notice=on_notice))
        first_key = listener.stream.policy.key
        try:
            other.close_listen_key()  # the server closes the stream's connection
            resync = listener.events.get(timeout=15)
            assert isinstance(resync, StreamResync), resync
            assert moved.is_set() and resync.reconnects >= 1
            usdt = next(b for b in resync.balances if b.asset == "USDT")
            assert usdt.wallet_balance == before - Decimal("2.5")
            assert isinstance(resync.positions, list)
            kinds = [n.kind for n in notices]
            assert kinds.index("disconnected") < kinds.index("resynced")
            # the old key is gone: the stream settles on a new one (-1125, then a new key)
            deadline = time.monotonic() + 15
            policy = listener.stream.policy
            while policy.key in (None, first_key) or not policy.connected:
                assert time.monotonic() < deadline, "no new key"
                time.sleep(0.05)
            time.sleep(0.2)  # the resync of the new connection is read before the next event
            seen = []
            while not listener.events.empty():
                seen.append(listener.events.get_nowait())
            # the transfer's own ACCOUNT_UPDATE was sent while the stream was down: not received
            assert not any(isinstance(e, AccountUpdate) for e in seen)
            for later in (e for e in seen if isinstance(e, StreamResync)):
                assert any(b.wallet_balance == usdt.wallet_balance for b in later.balances)
            # the events that follow apply on top of it
            c.set_leverage("BTCUSDT", 13)
            event = listener.next(AccountConfigUpdate)
            assert event.leverage is not None and event.leverage.leverage == 13
        finally:
            listener.stop()
