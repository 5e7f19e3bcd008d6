"""`aster_account.testing.LocalServer`: a real `aster-account serve` subprocess on a free port."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aster_account.testing import LocalServer, LocalServerError, OperatorError


def get(server: LocalServer, path: str) -> Any:
    with urllib.request.urlopen(server.base_url + path, timeout=10) as answer:
        return json.loads(answer.read())


def weight_limit(server: LocalServer) -> int:
    limits = get(server, "/fapi/v1/exchangeInfo")["rateLimits"]
    return int(next(r["limit"] for r in limits if r["rateLimitType"] == "REQUEST_WEIGHT"))


def test_starts_answers_and_makes_accounts() -> None:
    with LocalServer(args=["--weight-limit", "4321"]) as server:
        assert server.running
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.ws_url == f"ws://127.0.0.1:{server.port}"
        assert server.db == f"sqlite:///{server.workdir / 'aster.db'}"
        assert get(server, "/fapi/v1/ping") == {}
        assert weight_limit(server) == 4321  # the extra args reach the command line

        made = server.create_account(futures={"USDT": 1000}, spot={"USDT": "25.5"})
        assert set(made) == {"accountId", "apiKey", "apiSecret"}
        state = server.operator("GET", f"accounts/{made['accountId']}")
        assert state["futures"] == {"USDT": "1000"}
        assert state["spot"] == {"USDT": "25.5"}
        read_only = server.create_account(permissions=["USER_DATA"], alias="bot")
        assert read_only["accountId"] != made["accountId"]

        with pytest.raises(OperatorError) as refused:
            server.create_account(futures={"NOPE": "1"})
        assert refused.value.status == 400
        assert refused.value.body["code"] == -1130
        workdir = server.workdir
    assert not server.running
    assert not workdir.exists()  # its own temporary directory is gone


def test_kill_and_start_again_keep_the_sqlite_data(tmp_path: Path) -> None:
    server = LocalServer(workdir=tmp_path / "srv", operator_token="secret-token")
    try:
        server.start()
        port = server.port
        made = server.create_account(futures={"USDT": "500"})
        server.operator("POST", "markPrice", {"symbol": "BTCUSDT", "markPrice": "60000"})
        first_pid = server.pid

        server.kill()
        assert not server.running
        assert server.proc is not None and server.proc.returncode == -9
        server.start()
        assert server.pid != first_pid
        assert server.port == port
        assert server.operator("GET", f"accounts/{made['accountId']}")["futures"] == {"USDT": "500"}

        server.restart()  # graceful: SIGTERM, then start
        server.restart(graceful=False)  # SIGKILL, then start
        assert server.starts == 4
        marks = get(server, "/fapi/v1/premiumIndex?symbol=BTCUSDT")
        assert marks["markPrice"].startswith("60000")
    finally:
        server.close()
    assert (tmp_path / "srv" / "aster.db").exists()  # a given workdir stays
    assert server.log_path.parent == tmp_path / "srv"


def test_a_server_that_cannot_start_raises_with_its_log_tail(tmp_path: Path) -> None:
    server = LocalServer(workdir=tmp_path, args=["--prices", "no-such-file.csv"])
    with pytest.raises(LocalServerError) as failed:
        server.start()
    message = str(failed.value)
    assert "exited with code 2" in message
    assert "no-such-file.csv" in message and "does not exist" in message
    assert not server.running
    assert server.starts == 0


def test_a_taken_port_moves_the_first_start_to_another() -> None:
    server = LocalServer()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", server.port))
        squatter.listen()
        taken = server.port
        with server:
            assert server.port != taken
            assert get(server, "/fapi/v1/ping") == {}
            assert "address already in use" in server.log_text()


def test_config_runs_the_server_from_server_config_fields() -> None:
    with LocalServer(config={"weight_limit": 1234, "stream_queue_size": 2}) as server:
        assert server.command()[1] == "-c"
        assert weight_limit(server) == 1234
    with pytest.raises(ValueError, match="not both"):
        LocalServer(args=["--weight-limit", "1"], config={"weight_limit": 1})
