"""Two server processes with one Redis (`serve --redis`): an IP's request weight is counted
across both, as one venue behind a load balancer should count it, and the limit holds across
them. (Each process has its own SQLite file here: the weights are what is shared.)

Redis comes from ASTER_TEST_REDIS_URL (default redis://127.0.0.1:6379/0); without it the test is
skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from aster_account.testing import LocalServer

REDIS_URL = os.environ.get("ASTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_reachable() -> bool:
    host_port = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[LocalServer, LocalServer]]:
    if not _redis_reachable():
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"Redis at {REDIS_URL} is required under CI")
        pytest.skip(f"no Redis at {REDIS_URL}")
    args = ["--redis", REDIS_URL, "--redis-prefix", f"test-{uuid.uuid4().hex}"]
    args += ["--weight-limit", "20"]
    with (
        LocalServer(workdir=tmp_path / "a", args=args) as a,
        LocalServer(workdir=tmp_path / "b", args=args) as b,
    ):
        yield a, b


def get(server: LocalServer, path: str) -> tuple[int, Message, object]:
    """Status, headers (any case) and JSON body of an unsigned GET."""
    try:
        with urllib.request.urlopen(f"{server.base_url}{path}", timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.load(err)


def test_two_processes_count_an_ip_together(pair: tuple[LocalServer, LocalServer]) -> None:
    a, b = pair
    # the servers' own start-up pings are counted too: read where the count stands
    _, headers, _ = get(a, "/fapi/v1/time")
    start = int(headers["X-MBX-USED-WEIGHT-1M"])
    seen = [start]
    for server in (b, a, b, a):
        status, headers, _ = get(server, "/fapi/v1/time")
        assert status == 200
        seen.append(int(headers["X-MBX-USED-WEIGHT-1M"]))
    assert seen == list(range(start, start + 5))  # one count across both processes
    while True:  # up to the limit of 20, on whichever process
        status, headers, body = get(b if seen[-1] % 2 else a, "/fapi/v1/time")
        if status != 200:
            break
        seen.append(int(headers["X-MBX-USED-WEIGHT-1M"]))
        assert seen[-1] <= 20
    assert seen[-1] == 20
    assert status == 429 and isinstance(body, dict) and body["code"] == -1003
    assert int(headers["Retry-After"]) >= 1
    status, _, _ = get(a, "/fapi/v1/time")
    assert status == 429  # the other process refuses it too
