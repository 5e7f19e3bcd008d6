"""Two server processes with one Redis (`serve --redis`): an IP's request weight is counted
across both, as one venue behind a load balancer should count it, and the limit holds across
them. Each process hears of the other's requests within its flush interval (10 ms) after its
own next request, so the test spaces its requests. (Each process has its own SQLite file here:
the weights are what is shared.)

Redis comes from the `redis_url` fixture (tests/conftest.py).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from aster_account.testing import LocalServer

Pair = tuple[LocalServer, LocalServer, str, str]


@pytest.fixture
def pair(tmp_path: Path, redis_url: str) -> Iterator[Pair]:
    prefix = f"test-{uuid.uuid4().hex}"
    args = ["--redis", redis_url, "--redis-prefix", prefix, "--weight-limit", "20"]
    if time.time() % 60 > 50:  # the counts are per minute: start in a fresh one
        time.sleep(61 - time.time() % 60)
    with (
        LocalServer(workdir=tmp_path / "a", args=args) as a,
        LocalServer(workdir=tmp_path / "b", args=args) as b,
    ):
        yield a, b, prefix, redis_url


def get(server: LocalServer, path: str) -> tuple[int, Message, object]:
    """Status, headers (any case) and JSON body of an unsigned GET."""
    try:
        with urllib.request.urlopen(f"{server.base_url}{path}", timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.load(err)


def used(server: LocalServer) -> int:
    """Send GET /fapi/v1/time (weight 1); the X-MBX-USED-WEIGHT-1M it answers with (or -429)."""
    status, headers, _ = get(server, "/fapi/v1/time")
    time.sleep(0.05)  # past the flush interval: Redis has heard of it
    return int(headers["X-MBX-USED-WEIGHT-1M"]) if status == 200 else -status


def shared_count(redis_url: str, prefix: str) -> int:
    """The IP's count this minute as Redis holds it."""
    import redis

    with redis.Redis.from_url(redis_url) as r:
        counts = r.hvals(f"{prefix}:w:127.0.0.1:{int(time.time() * 1000) // 60_000}")
    return sum(int(v) for v in counts)  # one count a process


def test_two_processes_count_an_ip_together(pair: Pair) -> None:
    a, b, prefix, redis_url = pair
    time.sleep(0.1)
    base = shared_count(redis_url, prefix)  # the start-up pings of both
    assert base >= 2
    sent = 0
    for server in (a, b, a, a, b, b, a):
        seen = used(server)
        sent += 1
        # a process knows its own requests, and the other's up to its own last flush: here
        # at most two behind
        assert base + sent - 2 <= seen <= base + sent, (base, sent, seen)
    assert shared_count(redis_url, prefix) == base + sent  # Redis has every request, none twice
    answers = [used(server) for server in (a, b) * 10]
    assert -429 in answers  # the limit of 20 holds across the two
    limited_at = answers.index(-429)
    assert base + sent + limited_at <= 20 + 1  # at most one request past it, here
    # whichever process refused first, the other refuses too once it has heard
    assert answers[limited_at + 1 : limited_at + 4].count(-429) >= 2, answers
