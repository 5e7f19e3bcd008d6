"""The short mode of `scripts/reliability.py`, part by part, with its figures asserted.

Each part runs once per module (a fixture) against real `aster-account serve` subprocesses; the
tests read its figures. PostgreSQL runs where reachable (ASTER_TEST_PG_URL); when it is not, its
cases are skipped, except under CI, where they fail.

Four of these checks found server bugs when they were written (fixed since, see the commit
"fix: the SQLite file is created once ..."): a 500 text page from the operator API on an
out-of-range account id, an account left half made by a rejected POST /operator/v1/accounts,
acknowledged SQLite writes lost to a crash after another process had read the file, and a disabled
key accepted for up to a second. A check the server fails again is marked
`xfail(strict=True, reason="server bug: ...")` until it is fixed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from reliability.harness import Part, pg_available

from reliability import run

SIZES = run.SHORT


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def with_postgres() -> bool:
    reason = pg_available()
    if reason and _in_ci():
        pytest.fail(f"CI must run the PostgreSQL reliability cases: {reason}")
    return reason is None


def _run(name: str, tmp: pytest.TempPathFactory, with_postgres: bool) -> Part:
    part: Part = run.run_part(name, tmp.mktemp(name), SIZES, None if with_postgres else "no")
    assert "traceback" not in part.figures, "\n".join(part.figures["traceback"])
    return part


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("fuzz", tmp_path_factory, with_postgres)


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("crash", tmp_path_factory, with_postgres)


@pytest.fixture(scope="module")
def races(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("races", tmp_path_factory, with_postgres)


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("auth", tmp_path_factory, with_postgres)


@pytest.fixture(scope="module")
def ratelimit(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("ratelimit", tmp_path_factory, with_postgres)


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory, with_postgres: bool) -> Part:
    return _run("soak", tmp_path_factory, with_postgres)


def _problems(part: Part, face: str) -> dict[str, Any]:
    found: dict[str, Any] = part.figures["by_api"][face]
    return {k: v for k, v in found.items() if k != "requests"}


# -- fuzz ------------------------------------------------------------------------------------------


def test_fuzz_covers_every_operation_of_openapi(fuzz: Part) -> None:
    assert fuzz.figures["operations"] == 30
    assert fuzz.figures["requests_fuzzed"] >= SIZES.fuzz_requests
    assert fuzz.figures["accepted"] > 0, "no fuzzed request got through: the fuzz is not signing"


def test_fuzz_public_api_has_no_5xx_bad_body_or_state_change_from_a_rejection(fuzz: Part) -> None:
    # 5xx, answers that are not {"code","msg"}, undocumented codes, a status not its code's,
    # and any change to the store by a rejected request
    assert _problems(fuzz, "public") == {}, fuzz.figures.get("examples")


def test_fuzz_malformed_http_never_gets_a_5xx(fuzz: Part) -> None:
    assert _problems(fuzz, "http") == {}, fuzz.figures.get("examples")


def test_fuzz_operator_api_has_no_5xx_or_bad_body(fuzz: Part) -> None:
    # GET /operator/v1/accounts/99999999999999999999999 was a 500 text page
    found = _problems(fuzz, "operator")
    assert "5xx" not in found and "shape" not in found, fuzz.figures.get("examples")


def test_fuzz_operator_api_rejections_change_nothing(fuzz: Part) -> None:
    # POST /operator/v1/accounts {"futures": {"BTC": "1", "USDC": "1e26"}} was a 400 that left
    # the account made, with its BTC
    assert "state change" not in _problems(fuzz, "operator"), fuzz.figures.get("examples")


def test_fuzz_leaks_no_secret_into_the_log(fuzz: Part) -> None:
    assert fuzz.figures["secrets_in_server_output"] == 0


# -- crash -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_crash_loses_nothing_and_applies_nothing_twice(
    crash: Part, backend: str, with_postgres: bool
) -> None:
    if backend == "postgres" and not with_postgres:
        pytest.skip("PostgreSQL unreachable")
    figures = crash.figures[backend]
    assert figures["kills"] >= SIZES.crash_kills
    assert figures["acknowledged"] > SIZES.crash_operations // 2
    assert figures["server_errors"] == 0
    assert figures["lost_or_duplicated"] == 0, crash.figures.get("examples")
    assert figures["half_applied"] == 0, crash.figures.get("examples")
    assert figures["ledger_mismatches"] == 0, crash.figures.get("examples")
    assert figures["overdrafts"] == 0


def test_sqlite_keeps_acknowledged_writes_after_another_process_read_the_file(
    crash: Part,
) -> None:
    # the server's os.close() of a descriptor of the database dropped its POSIX locks, so that
    # another process closing the file deleted the WAL under it
    assert crash.figures["sqlite_lost_after_outside_reader"] == 0


# -- races -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        "sqlite x1",
        pytest.param("postgres x1", marks=pytest.mark.postgres),
        pytest.param("postgres x2", marks=pytest.mark.postgres),
    ],
)
def test_races_pay_exactly_the_affordable_subset(
    races: Part, config: str, with_postgres: bool
) -> None:
    if config.startswith("postgres") and not with_postgres:
        pytest.skip("PostgreSQL unreachable")
    for name, race in races.figures[config].items():
        assert not race["overdraft"], (name, race)
        assert race["succeeded"] == race["affordable"], (name, race)
        assert race["no_answer_or_5xx"] == {}, (name, race)
    assert not races.failures


# -- auth ------------------------------------------------------------------------------------------


def _case(auth: Part, name: str) -> dict[str, Any]:
    return next(r for r in auth.figures["results"] if r["case"] == name)


def test_auth_abuse_gets_the_right_code_and_changes_nothing(auth: Part) -> None:
    assert [r for r in auth.figures["results"] if not r["ok"]] == []


def test_auth_a_disabled_key_is_refused_at_once(auth: Part) -> None:
    # the process that disabled the key kept it in its 1 s key cache
    assert _case(auth, "disabled key, at once")["ok"]


def test_auth_signature_check_is_constant_time(auth: Part) -> None:
    assert auth.figures["timing"]["verify_uses_hmac_compare_digest"]


def test_auth_no_secret_in_logs_errors_or_metrics(auth: Part) -> None:
    leaks = auth.figures["leaks"]
    assert leaks["log_lines"] > 20, "the server logged nothing: the check would prove nothing"
    assert {k: v for k, v in leaks.items() if k != "log_lines" and v} == {}


def test_auth_database_and_demo_key_files_are_private(auth: Part) -> None:
    modes = auth.figures["file_modes"]
    assert modes["aster-account.db"] == "0o600"
    assert modes["aster-account-demo-key.json"] == "0o600"
    assert modes["aster-account.db-wal"] in ("0o600", "absent")
    assert modes["aster-account.db-shm"] in ("0o600", "absent")


# -- rate limit ------------------------------------------------------------------------------------


def test_rate_limit_429_then_growing_418_bans(ratelimit: Part) -> None:
    bans = ratelimit.figures["ban_seconds"]
    assert len(bans) == SIZES.rate_limit_bans
    assert bans == [120 * 2**i for i in range(len(bans))]  # docs: 2 minutes, doubling
    for offence in ratelimit.figures["offences"]:
        assert offence["429s"] > 0
        assert offence["while_banned"] == {418: offence["while_banned"][418]}
    assert not ratelimit.failures


def test_rate_limit_spares_a_client_on_another_ip(ratelimit: Part) -> None:
    good = ratelimit.figures["good_client"]
    assert good["requests"] > 10
    assert good["statuses"] == {200: good["requests"]}


# -- soak ------------------------------------------------------------------------------------------


def test_soak_answers_only_what_was_intended_and_memory_stays_flat(soak: Part) -> None:
    f = soak.figures
    assert f["server_errors"] == 0
    assert f["unexpected_answers"] == 0, f.get("examples")
    assert f["intended_errors"] > 0
    assert f["rss_end_mib"] - f["rss_start_mib"] <= max(16.0, f["rss_start_mib"] * 0.10)
    assert not soak.failures
