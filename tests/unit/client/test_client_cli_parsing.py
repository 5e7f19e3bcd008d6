"""The CLI's pure parts: time arguments, where settings come from, and error hints."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from aster_account.cli import HINTS, config_path, hint_for, parse_time, resolve_settings
from aster_account.client import MissingCredentials
from aster_account.protocol.errors import (
    ERRORS,
    BadSymbol,
    RateLimitError,
    TransportError,
    UnknownOutcome,
    aster_error,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("1767225600000", 1767225600000),
        ("2026-01-01", 1767225600000),
        ("2026-01-01T06:00", 1767225600000 + 6 * 3600_000),
        ("2026-01-01T06:00+02:00", 1767225600000 + 4 * 3600_000),
        ("30d", NOW_MS - 30 * 86_400_000),
        ("12h", NOW_MS - 12 * 3_600_000),
        ("90m", NOW_MS - 90 * 60_000),
        ("2w", NOW_MS - 14 * 86_400_000),
    ],
)
def test_time_arguments(given: str | None, expected: int | None) -> None:
    assert parse_time(given, now=NOW) == expected


def test_a_time_that_does_not_parse_is_a_usage_error() -> None:
    with pytest.raises(click.BadParameter):
        parse_time("last tuesday")


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'default_profile = "a"\n'
        '[profiles.a]\nbase_url = "http://a"\napi_key = "ka"\napi_secret = "sa"\n'
        '[profiles.b]\nbase_url = "http://b"\napi_key = "kb"\napi_secret = "sb"\n'
        "recv_window = 10000\n"
    )
    return path


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(_config(tmp_path))
    for name in ("ASTER_API_KEY", "ASTER_API_SECRET", "ASTER_BASE_URL", "ASTER_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    default = resolve_settings(profile=None, base_url=None, config=path, as_json=False)
    assert (default.base_url, default.api_key, default.recv_window) == ("http://a", "ka", 5000)
    monkeypatch.setenv("ASTER_API_KEY", "k-env")
    monkeypatch.setenv("ASTER_API_SECRET", "s-env")
    by_env = resolve_settings(profile=None, base_url=None, config=path, as_json=False)
    assert (by_env.base_url, by_env.api_key) == ("http://a", "k-env")
    named = resolve_settings(profile="b", base_url=None, config=path, as_json=True)
    assert (named.base_url, named.api_key, named.recv_window, named.json) == (
        "http://b",
        "kb",
        10000,
        True,
    )
    flag = resolve_settings(profile="b", base_url="http://flag", config=path, as_json=False)
    assert flag.base_url == "http://flag"
    monkeypatch.setenv("ASTER_PROFILE", "b")
    assert resolve_settings(profile=None, base_url=None, config=path, as_json=False).api_key == "kb"


def test_config_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASTER_ACCOUNT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path(None) == tmp_path / "aster-account" / "config.toml"
    assert config_path("~/x.toml") == Path.home() / "x.toml"


def test_a_broken_config_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("profiles = [")
    with pytest.raises(click.UsageError, match="cannot read"):
        resolve_settings(profile=None, base_url=None, config=str(path), as_json=False)


def test_every_hint_names_a_known_code_and_every_error_gets_a_hint() -> None:
    assert set(HINTS) <= set(ERRORS)
    for code in ERRORS:
        assert hint_for(aster_error(code))
    assert "--id abc" in hint_for(UnknownOutcome("lost", client_tran_id="abc"))
    assert "may have been processed" in hint_for(UnknownOutcome("lost"))
    assert "--base-url" in hint_for(TransportError())
    assert "wait 30s" in hint_for(RateLimitError(retry_after=30))
    assert "ASTER_API_KEY" in hint_for(MissingCredentials())
    assert hint_for(BadSymbol()) == HINTS[-1121]


# -- the stream command's lines ----------------------------------------------------------------


def test_stream_lines_name_the_event_its_time_and_what_changed() -> None:
    from aster_account.cli import event_line
    from aster_account.protocol.models import parse_event

    update = parse_event(
        {
            "e": "ACCOUNT_UPDATE",
            "E": NOW_MS + 7,
            "T": NOW_MS,
            "a": {
                "m": "ORDER",
                "B": [{"a": "USDT", "wb": "990.5", "cw": "990.5", "bc": "0"}],
                "P": [
                    {
                        "s": "BTCUSDT",
                        "pa": "0.010",
                        "ep": "50000",
                        "cr": "0",
                        "up": "1.25",
                        "mt": "isolated",
                        "iw": "50",
                        "ps": "BOTH",
                    }
                ],
            },
        }
    )
    assert event_line(update) == (
        "2026-03-01 12:00:00.007 ACCOUNT_UPDATE  reason=ORDER  "
        "USDT wallet=990.5 cross=990.5 change=0  "
        "BTCUSDT BOTH amount=0.010 entry=50000 uPnL=1.25 margin=isolated"
    )
    config = parse_event(
        {"e": "ACCOUNT_CONFIG_UPDATE", "E": NOW_MS, "T": NOW_MS, "ai": {"j": True}}
    )
    assert event_line(config) == "2026-03-01 12:00:00.000 ACCOUNT_CONFIG_UPDATE  multiAssets=yes"
    expired = parse_event({"e": "listenKeyExpired", "E": NOW_MS})
    assert event_line(expired) == "2026-03-01 12:00:00.000 listenKeyExpired"


def test_stream_notices_say_what_happened_to_the_connection() -> None:
    from aster_account.cli import notice_line
    from aster_account.client import StreamNotice

    assert notice_line(StreamNotice("connected", 0)).endswith(
        "stream: connected; waiting for events (Ctrl-C to stop)"
    )
    back = notice_line(StreamNotice("connected", 2))
    assert "reconnected after 2 disconnection(s)" in back and "were not received" in back
    gone = notice_line(StreamNotice("disconnected", 1, 1006, "", 0.5))
    assert gone.endswith("stream: disconnected (1006 connection dropped); trying again in 0.5s")
    closed = notice_line(StreamNotice("disconnected", 1, 1001, "going away", 1.0))
    assert closed.endswith("stream: disconnected (1001 going away); trying again in 1.0s")
    refused = notice_line(StreamNotice("disconnected", 3, None, "Connection refused", 2.0))
    assert refused.endswith("could not connect (Connection refused); trying again in 2.0s")
    assert notice_line(StreamNotice("key", 4)).endswith("new listenKey (the old one ended)")
