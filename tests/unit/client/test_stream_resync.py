"""The user stream's resync after a gap, against a real local server over real sockets: a
snapshot refused for good is raised (not retried forever), a snapshot that fails for now is
retried with the websocket closed meanwhile, and nothing is handed out after close()."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from websockets.protocol import State

from aster_account.client import Client, StreamNotice, StreamResync, UserStream
from aster_account.protocol.errors import AsterError, TransportError
from aster_account.protocol.models import AccountConfigUpdate
from aster_account.testing import LocalServer

SNAPSHOT_FAILED = "REST snapshot failed"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(args=["--weight-limit", "100000"]) as srv:
        yield srv


def _clients(server: LocalServer, made: dict[str, Any], **kwargs: Any) -> tuple[Client, Client]:
    stream_client = Client(made["apiKey"], made["apiSecret"], server.base_url, **kwargs)
    other = Client(made["apiKey"], made["apiSecret"], server.base_url)
    return stream_client, other


def test_a_snapshot_refused_for_good_is_not_retried_forever(server: LocalServer) -> None:
    made = server.create_account(futures={"USDT": "100"}, permissions=["TRADE"])
    failures: list[str] = []
    streams: list[UserStream] = []
    c, other = _clients(server, made, sleep=lambda _s: None)

    def on_notice(notice: StreamNotice) -> None:
        if notice.kind == "connected":  # an event on every connection
            other.set_leverage("BTCUSDT", 5 + notice.reconnects % 10)
        if notice.kind == "disconnected" and notice.reason.startswith(SNAPSHOT_FAILED):
            failures.append(notice.reason)
            if len(failures) >= 5:
                streams[0].close()  # what a caller would do: give up on the stream

    with c, other:
        stream = c.user_stream(on_notice=on_notice)
        stream.policy.max_age_s = 1.0  # a renewal (the 24-hour one, sooner): a gap, same key
        streams.append(stream)
        try:
            assert isinstance(next(stream), AccountConfigUpdate)
            try:
                after_gap: object = next(stream, None)
            except AsterError as exc:  # the refusal surfaced: acceptable
                after_gap = exc
        finally:
            stream.close()
    assert failures == []  # not taken for a failure that passes
    assert isinstance(after_gap, AsterError) and after_gap.code == -2015, after_gap


def test_after_a_failed_snapshot_the_websocket_is_closed_before_the_wait(
    server: LocalServer,
) -> None:
    """The first snapshot fails as a network failure would (it can pass): the new websocket is
    closed before the backoff, and the next connection's snapshot is handed out."""
    made = server.create_account(futures={"USDT": "100"})
    streams: list[UserStream] = []
    states_while_waiting: list[State] = []

    def sleep(_seconds: float) -> None:
        ws = streams[0]._ws
        if ws is not None:
            states_while_waiting.append(ws.state)

    def on_notice(notice: StreamNotice) -> None:
        if notice.kind == "connected" and notice.reconnects == 0:
            other.set_leverage("BTCUSDT", 7)

    c, other = _clients(server, made, sleep=sleep)
    real_get_balance = c.get_balance
    failed: list[bool] = []

    def get_balance_failing_once() -> Any:
        if not failed:
            failed.append(True)
            raise TransportError("GET /fapi/v2/balance: could not connect (test).")
        return real_get_balance()

    with c, other:
        stream = c.user_stream(on_notice=on_notice)
        stream.policy.max_age_s = 1.0  # a renewal: a gap on a live key
        streams.append(stream)
        try:
            assert isinstance(next(stream), AccountConfigUpdate)
            c.get_balance = get_balance_failing_once  # type: ignore[method-assign]
            resync = next(stream)
        finally:
            stream.close()
    assert failed and states_while_waiting[:1] == [State.CLOSED]
    assert isinstance(resync, StreamResync) and resync.balances[0].asset == "USDT"


def test_no_resync_is_handed_out_after_close(server: LocalServer) -> None:
    made = server.create_account(futures={"USDT": "100"})
    streams: list[UserStream] = []
    kinds: list[str] = []

    def on_notice(notice: StreamNotice) -> None:
        kinds.append(notice.kind)
        if notice.kind == "connected" and notice.reconnects == 0:
            other.set_leverage("BTCUSDT", 9)
        elif notice.kind == "connected":
            streams[0].close()  # e.g. from another thread, as the snapshot is being read

    c, other = _clients(server, made)
    with c, other:
        stream = c.user_stream(on_notice=on_notice)
        streams.append(stream)
        try:
            assert isinstance(next(stream), AccountConfigUpdate)
            other.close_listen_key()
            after_close = next(stream, None)
        finally:
            stream.close()
    assert "connected" in kinds[1:]
    assert after_close is None, after_close
    assert "resynced" not in kinds
