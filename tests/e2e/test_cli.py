"""The `aster-account` client commands against the real server: tables, --json, profiles,
CSV export, and errors that print the Aster code and a hint."""

from __future__ import annotations

import csv
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result
from clientfixtures import AsterProcess, Keys, running

from aster_account import Client
from aster_account.cli import main


@pytest.fixture(scope="module")
def aster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsterProcess]:
    with running(tmp_path_factory.mktemp("cli")) as server:
        yield server


@pytest.fixture
def keys(aster: AsterProcess) -> Keys:
    return aster.create_account()


@pytest.fixture
def cli(aster: AsterProcess, keys: Keys, tmp_path: Path) -> Any:
    """Run a command with the account's keys in the environment and no config file."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        base = {
            "ASTER_API_KEY": keys.api_key,
            "ASTER_API_SECRET": keys.api_secret,
            "ASTER_BASE_URL": aster.base_url,
            "ASTER_ACCOUNT_CONFIG": str(tmp_path / "none.toml"),
            "ASTER_PROFILE": "",
            "COLUMNS": "220",
        }
        return CliRunner().invoke(main, list(args), env={**base, **(env or {})})

    return run


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_balance_table_and_json(cli: Any) -> None:
    table = cli("balance")
    assert table.exit_code == 0, table.output
    assert "USDT" in table.stdout and "10000" in table.stdout
    (row,) = ok_json(cli("balance", "--json"))
    assert row["asset"] == "USDT" and row["balance"] == "10000.00000000"
    # written to a pipe, even a narrow one, the table keeps every amount on one line
    narrow = cli("balance", env={"COLUMNS": "40"})
    assert narrow.exit_code == 0, narrow.output
    (line,) = [line for line in narrow.stdout.splitlines() if "USDT" in line]
    assert line.count("10000.00000000") == 4, narrow.stdout


def test_account_positions_and_reference_data(cli: Any, aster: AsterProcess, keys: Keys) -> None:
    with Client(keys.api_key, keys.api_secret, aster.base_url) as client:
        client.new_order("BTCUSDT", "BUY", "MARKET", quantity="0.01")
    assert "Assets" in cli("account").stdout
    assert ok_json(cli("account", "--json"))["totalWalletBalance"]
    positions = cli("positions")
    assert "BTCUSDT" in positions.stdout and "0.010" in positions.stdout
    rows = ok_json(cli("positions", "BTCUSDT", "--json"))
    assert [r["positionAmt"] for r in rows] == ["0.010"]
    assert ok_json(cli("brackets", "BTCUSDT", "--json"))["symbol"] == "BTCUSDT"
    assert "ETHUSDT" in cli("brackets").stdout
    assert ok_json(cli("adl", "--json"))[0]["symbol"] == "BTCUSDT"
    assert "BTCUSDT" in cli("adl").stdout
    assert "taker" in cli("commission", "btcusdt").stdout
    assert ok_json(cli("commission", "BTCUSDT", "--json"))["symbol"] == "BTCUSDT"
    assert (
        Decimal(
            str(
                ok_json(cli("openable", "BTCUSDT", "10", "--json"))[
                    "remainingOpenableNotionalValue"
                ]
            )
        )
        > 0
    )
    assert "notional" in cli("openable", "BTCUSDT", "10").stdout
    assert ok_json(cli("force-orders", "--json")) == []
    assert "nothing" in cli("force-orders", "--since", "30d").stdout


def test_settings_commands_are_idempotent(cli: Any) -> None:
    assert "20" in cli("leverage", "ETHUSDT", "20").stdout
    assert ok_json(cli("leverage", "ETHUSDT", "10", "--json"))["leverage"] == 10
    assert cli("margin-type", "ETHUSDT", "isolated").stdout.strip() == (
        "ETHUSDT margin type: ISOLATED"
    )
    again = cli("margin-type", "ETHUSDT", "isolated")
    assert again.exit_code == 0 and "already" in again.stdout
    assert cli("position-mode").stdout.strip() == "one-way"
    assert cli("position-mode", "hedge").exit_code == 0
    assert ok_json(cli("position-mode", "--json")) == {"dualSidePosition": True}
    assert "already" in cli("position-mode", "hedge").stdout
    cli("position-mode", "one-way")
    assert cli("multi-assets").stdout.strip() == "off"
    cli("margin-type", "ETHUSDT", "crossed")
    assert cli("multi-assets", "on").exit_code == 0
    assert cli("multi-assets").stdout.strip() == "on"
    assert ok_json(cli("multi-assets", "off", "--json")) == {"code": 200, "msg": "success"}


def test_isolated_margin_commands(cli: Any, aster: AsterProcess, keys: Keys) -> None:
    with Client(keys.api_key, keys.api_secret, aster.base_url) as client:
        client.set_margin_type("ARBUSDT", "ISOLATED")
        client.new_order("ARBUSDT", "BUY", "MARKET", quantity="100")
    added = cli("margin", "add", "ARBUSDT", "15")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "15 added to ARBUSDT BOTH"
    assert ok_json(cli("margin", "reduce", "ARBUSDT", "5", "--json"))["amount"] == 5.0
    history = ok_json(cli("margin-history", "ARBUSDT", "--json"))
    assert [(h["type"], Decimal(h["amount"])) for h in history] == [(1, 15), (2, 5)]
    assert all(isinstance(h["amount"], str) for h in history)  # decimals stay strings
    assert "reduce" in cli("margin-history", "ARBUSDT", "--type", "reduce").stdout


def test_transfer_and_income_csv(cli: Any, aster: AsterProcess, keys: Keys, tmp_path: Path) -> None:
    moved = cli("transfer", "25.5", "--to", "spot")
    assert moved.exit_code == 0, moved.output
    back = ok_json(cli("transfer", "0.5", "--to", "futures", "--id", "cli-1", "--json"))
    assert back["status"] == "SUCCESS"
    assert aster.wallets(keys.account_id) == (Decimal("9975.0"), Decimal("1025.0"))
    # the same id again: refused, nothing moves, and the hint says it was done already
    again = cli("transfer", "0.5", "--to", "futures", "--id", "cli-1")
    assert again.exit_code == 1
    assert "error -4115" in again.stderr and "done already" in again.stderr
    assert aster.wallets(keys.account_id) == (Decimal("9975.0"), Decimal("1025.0"))
    rows = ok_json(cli("income", "--type", "transfer", "--since", "1d", "--json"))
    assert [r["income"] for r in rows] == ["10000.00000000", "-25.50000000", "0.50000000"]
    path = tmp_path / "income.csv"
    written = cli("income", "--since", "2d", "--csv", str(path))
    assert written.exit_code == 0, written.output
    assert "3 rows written" in written.stderr
    with path.open() as f:
        table = list(csv.DictReader(f))
    assert [r["income"] for r in table] == ["10000.00000000", "-25.50000000", "0.50000000"]
    assert table[0]["incomeType"] == "TRANSFER" and table[0]["time"].endswith("+00:00")
    assert "TRANSFER" in cli("income").stdout


def test_profiles_from_the_config_file(
    cli: Any, aster: AsterProcess, keys: Keys, tmp_path: Path
) -> None:
    other = aster.create_account(futures={"USDT": "42"})
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
default_profile = "mine"

[profiles.mine]
base_url = "{aster.base_url}"
api_key = "{keys.api_key}"
api_secret = "{keys.api_secret}"

[profiles.other]
base_url = "{aster.base_url}"
api_key = "{other.api_key}"
api_secret = "{other.api_secret}"
recv_window = 10000
"""
    )
    no_env = {"ASTER_API_KEY": "", "ASTER_API_SECRET": "", "ASTER_BASE_URL": ""}
    env = {**no_env, "ASTER_ACCOUNT_CONFIG": str(config)}
    assert ok_json(cli("balance", "--json", env=env))[0]["balance"] == "10000.00000000"
    named = cli("balance", "--json", "--profile", "other", env=env)
    assert ok_json(named)[0]["balance"] == "42.00000000"
    # without a named profile the environment wins over the default profile; a named one wins
    by_env = cli("balance", "--json", "--config", str(config))
    assert ok_json(by_env)[0]["balance"] == "10000.00000000"
    with_profile = cli("balance", "--json", "--config", str(config), "--profile", "other")
    assert ok_json(with_profile)[0]["balance"] == "42.00000000"
    missing = cli("balance", "--profile", "nope", env=env)
    assert missing.exit_code == 2 and "no profile 'nope'" in missing.output


def test_errors_print_the_code_and_a_hint(cli: Any, aster: AsterProcess) -> None:
    bad = cli("commission", "NOPEUSDT")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "error -1121 BAD_SYMBOL: Invalid symbol.",
        "hint: Unknown symbol: `aster-account brackets` lists the symbols.",
    ]
    as_json = cli("commission", "NOPEUSDT", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stderr)["code"] == -1121
    stranger = cli("balance", env={"ASTER_API_KEY": "b" * 64})
    assert stranger.exit_code == 1 and "-2015" in stranger.stderr
    assert "permission" in stranger.stderr
    malformed = cli("balance", env={"ASTER_API_KEY": "not-a-key"})
    assert malformed.exit_code == 1 and "-2014" in malformed.stderr
    keyless = cli("balance", env={"ASTER_API_KEY": "", "ASTER_API_SECRET": ""})
    assert keyless.exit_code == 1 and "MISSING_CREDENTIALS" in keyless.stderr
    assert "ASTER_API_KEY" in keyless.stderr
    poor = cli("transfer", "1000000", "--to", "spot")
    assert poor.exit_code == 1 and "-2018" in poor.stderr and "maxWithdrawAmount" in poor.stderr


def test_usage_errors_exit_2(cli: Any) -> None:
    assert cli("leverage", "BTCUSDT", "0").exit_code == 2
    assert cli("transfer", "5").exit_code == 2  # --to is required
    assert cli("income", "--since", "yesterday-ish").exit_code == 2


def test_serve_is_still_there() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--weight-limit" in result.output


# -- stream ------------------------------------------------------------------------------------


class Lines:
    """The lines of a pipe, read on a thread so that a test can wait for one with a deadline."""

    def __init__(self, pipe: IO[str]) -> None:
        self.seen: list[str] = []
        self._pipe = pipe
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._pipe:
            self._queue.put(line.rstrip("\n"))

    def close(self) -> None:
        """After the process has ended: the reader meets the end of the pipe, then it closes."""
        self._reader.join(timeout=10)
        self._pipe.close()

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {timeout}s; seen: {self.seen}")


@pytest.mark.parametrize("as_json", [False, True], ids=["lines", "json"])
def test_stream_prints_events_as_they_happen_until_ctrl_c(
    aster: AsterProcess, keys: Keys, tmp_path: Path, as_json: bool
) -> None:
    env = {
        **os.environ,
        "ASTER_API_KEY": keys.api_key,
        "ASTER_API_SECRET": keys.api_secret,
        "ASTER_BASE_URL": aster.base_url,
        "ASTER_ACCOUNT_CONFIG": str(tmp_path / "none.toml"),
        "ASTER_PROFILE": "",
    }
    command = [
        sys.executable,
        "-m",
        "aster_account.cli",
        "stream",
        *(["--json"] if as_json else []),
    ]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        err.wait_for('"connected"' if as_json else "stream: connected")
        with Client(keys.api_key, keys.api_secret, aster.base_url) as client:
            client.transfer(asset="USDT", amount=Decimal("12.5"), kind_type="FUTURE_SPOT")
        line = out.wait_for("ACCOUNT_UPDATE")
        if as_json:
            event = json.loads(line)  # the event as the server sends it
            assert event["a"]["m"] == "WITHDRAW"
            assert [(b["a"], Decimal(b["bc"])) for b in event["a"]["B"]] == [("USDT", -12.5)]
        else:
            assert "reason=WITHDRAW" in line and "USDT wallet=9987.5" in line
            assert "change=-12.5" in line
        # a gap: the stream's key is closed; after reconnecting it prints the REST snapshot
        with Client(keys.api_key, keys.api_secret, aster.base_url) as client:
            client.close_listen_key()
        line = out.wait_for('"resync"' if as_json else "RESYNC")
        if as_json:
            resync = json.loads(line)["resync"]
            assert resync["reconnects"] >= 1 and isinstance(resync["positions"], list)
            usdt = next(b for b in resync["balances"] if b["asset"] == "USDT")
            assert Decimal(usdt["balance"]) == Decimal("9987.5")
        else:
            assert "RESYNC  USDT" in line and "wallet=9987.5" in line
        err.wait_for('"resynced"' if as_json else "read over REST")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0, err.seen
        err.wait_for("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
        err.close()
