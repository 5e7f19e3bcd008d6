"""The user stream policy: keepalive and renewal times, backoff, new keys when needed."""

from __future__ import annotations

import orjson
import pytest

from aster_account.client._stream import (
    LIVE_STREAM_URL,
    StreamNotice,
    StreamPolicy,
    StreamResync,
    stream_base,
)
from aster_account.protocol.errors import (
    AsterError,
    RateLimitError,
    TransportError,
    UnknownOutcome,
    aster_error,
)
from aster_account.protocol.models import AccountConfigUpdate, ListenKeyExpired


def test_stream_base_follows_the_rest_base() -> None:
    assert stream_base("https://fapi.asterdex.com") == LIVE_STREAM_URL
    assert stream_base("http://127.0.0.1:8080") == "ws://127.0.0.1:8080"
    assert stream_base("https://aster.example") == "wss://aster.example"


def test_keepalive_every_thirty_minutes_and_renewal_before_a_day() -> None:
    policy = StreamPolicy()
    policy.key_made("k1", now=0)
    policy.opened(now=0)
    assert policy.url("ws://h") == "ws://h/ws/k1"
    assert policy.wait(now=0) == 1800
    assert policy.due(now=1799) is None
    assert policy.due(now=1800) == "keepalive"
    policy.kept_alive(now=1800)
    assert policy.wait(now=1800) == 1800
    day = 23 * 3600 + 50 * 60
    assert policy.due(now=day) == "renew"
    assert policy.wait(now=day + 5) == 0.01


def test_frames_become_events_and_unknown_ones_are_skipped() -> None:
    policy = StreamPolicy()
    policy.key_made("k", 0)
    frame = orjson.dumps({"e": "ACCOUNT_CONFIG_UPDATE", "E": 1, "T": 1, "ac": {"s": "X", "l": 3}})
    event = policy.read(frame)
    assert isinstance(event, AccountConfigUpdate) and event.leverage is not None
    assert policy.read(b'{"e": "SOMETHING_NEW", "E": 1}') is None
    assert policy.read(b"not json") is None
    assert policy.key == "k"
    assert isinstance(policy.read(b'{"e": "listenKeyExpired", "E": 5}'), ListenKeyExpired)
    assert policy.key is None  # a new key is made before the next connection


def test_backoff_doubles_to_a_cap_and_a_frame_resets_it() -> None:
    policy = StreamPolicy(backoff_s=0.5, max_backoff_s=4)
    policy.key_made("k", 0)
    assert [policy.ended(None, "refused") for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert policy.reconnects == 6
    policy.read(b'{"e": "listenKeyExpired", "E": 5}')
    assert policy.ended(1006, "") == 0.5


@pytest.mark.parametrize(
    ("code", "reason", "keeps_key"),
    [
        (1008, '{"code":-1125,"msg":"This listenKey does not exist."}', False),
        (1000, "", True),
        (1011, "internal error", True),
        (None, "connection refused", True),
    ],
)
def test_a_close_for_a_missing_key_drops_the_key(
    code: int | None, reason: str, keeps_key: bool
) -> None:
    policy = StreamPolicy()
    policy.key_made("k", 0)
    policy.opened(0)
    policy.ended(code, reason)
    assert (policy.key == "k") is keeps_key


def test_the_policy_tells_of_keys_connections_gaps_and_renewals() -> None:
    heard: list[StreamNotice] = []
    policy = StreamPolicy(backoff_s=0.5, on_notice=heard.append)
    policy.key_made("k1", 0)
    policy.opened(0)
    policy.ended(1006, "")
    policy.opened(1)
    policy.read(b'{"e": "listenKeyExpired", "E": 5}')
    policy.renewing()
    policy.key_made("k2", 2)
    assert heard == [
        StreamNotice("key", 0),
        StreamNotice("connected", 0),
        StreamNotice("disconnected", 1, 1006, "", 0.5),
        StreamNotice("connected", 1),
        StreamNotice("renewing", 2),
        StreamNotice("key", 2),
    ]


def test_after_a_gap_the_rest_snapshot_is_due_before_the_events() -> None:
    heard: list[StreamNotice] = []
    policy = StreamPolicy(on_notice=heard.append)
    policy.key_made("k", 0)
    assert policy.opened(0) is False  # the first connection: nothing was missed
    policy.ended(1006, "")
    assert policy.opened(1) is True  # after a gap: the snapshot first
    resync = policy.resynced([], [])
    assert resync == StreamResync(1, [], [])
    assert heard[-1] == StreamNotice("resynced", 1)
    policy.renewing()  # a renewal leaves a gap too (the old connection closes first)
    assert policy.opened(2) is True


def test_resync_can_be_left_to_the_caller() -> None:
    policy = StreamPolicy(resync=False)
    policy.key_made("k", 0)
    policy.opened(0)
    policy.ended(1006, "")
    assert policy.opened(1) is False


def test_a_first_connection_that_never_opened_leaves_no_gap_to_resync() -> None:
    policy = StreamPolicy()
    policy.key_made("k", 0)
    policy.ended(None, "refused")  # the first try failed: nothing was received, nothing missed
    assert policy.opened(1) is False


@pytest.mark.parametrize(
    ("error", "passes"),
    [
        (TransportError("could not connect"), True),
        (UnknownOutcome("no response", http_status=0), True),
        (aster_error(-1001, "Internal error", http_status=503), True),
        (RateLimitError("too many", http_status=429, retry_after=3), True),
        (aster_error(-2015, "Invalid API-key, IP, or permissions for action."), False),
        (aster_error(-1022, "Signature for this request is not valid."), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_a_failed_snapshot_is_retried_only_when_the_failure_can_pass(
    error: AsterError, passes: bool
) -> None:
    policy = StreamPolicy(backoff_s=0.5)
    policy.key_made("k", 0)
    policy.opened(0)
    policy.ended(1006, "")
    assert policy.opened(1) is True
    if passes:
        assert policy.snapshot_failed(error) == 1.0  # a failed connection: the next backoff
        assert policy.reconnects == 2
    else:
        with pytest.raises(type(error)):
            policy.snapshot_failed(error)
