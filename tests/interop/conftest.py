"""Fixtures for running other people's clients against our server, and the compatibility table.

    server      `aster-account serve` as a subprocess on a fresh SQLite file (module scope)
    http        an httpx client on that server
    operator    its operator API: create_account(futures=, spot=) -> Account, mark, funding
    driver(peer, script)
                a factory for scenario scripts running in a peer's own venv (see peers.py);
                skipped when the peer cannot be installed, failed instead when `CI` is set;
                the first use installs every missing peer, in parallel

`docs/compatibility.md` is written from the calls the peers made (`peers.LEDGER`) and the tests'
outcomes, at the end of a session that ran every peer test, none skipped and none failed. A test
marked xfail(strict=False) reads the same in the table whether it passes yet or not. Under
`CI` it is not written but compared, and the session fails when the committed file is stale.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import peers
import pytest
from peers import LEDGER, Operator, Peer, PeerDriver, ServerProcess

PEER_MODULES = ("interop/test_ccxt.py", "interop/test_binance_connectors.py")


def _is_peer_test(nodeid: str) -> bool:
    return nodeid.split("::", 1)[0].endswith(PEER_MODULES)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("interop-server"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def operator(server: ServerProcess, http: httpx.Client) -> Operator:
    return Operator(server, http)


@pytest.fixture(scope="session")
def peer_venvs() -> dict[str, Path | peers.PeerUnavailableError]:
    """Every peer's venv python, made in parallel the first time (each is a pip install)."""
    with ThreadPoolExecutor(len(peers.PEERS)) as pool:
        made = {peer.name: pool.submit(peers.ensure, peer) for peer in peers.PEERS}
    venvs: dict[str, Path | peers.PeerUnavailableError] = {}
    for name, future in made.items():
        try:
            venvs[name] = future.result()
        except peers.PeerUnavailableError as exc:
            venvs[name] = exc
    return venvs


def require(peer: Peer, venvs: dict[str, Path | peers.PeerUnavailableError]) -> Path:
    """The peer's venv python; a skip (or, under CI, a failure) when it cannot be installed."""
    python = venvs[peer.name]
    if isinstance(python, Path):
        return python
    if peers.in_ci():
        pytest.fail(f"{peer.title} is needed under CI: {python}")
    pytest.skip(f"{peer.title} unavailable: {python}")


@pytest.fixture(scope="module")
def driver(
    tmp_path_factory: pytest.TempPathFactory,
    peer_venvs: dict[str, Path | peers.PeerUnavailableError],
) -> Iterator[Callable[..., PeerDriver]]:
    started: list[PeerDriver] = []
    logs = tmp_path_factory.mktemp("interop-peers")

    def start(peer: Peer, script: str, title: str | None = None) -> PeerDriver:
        made = PeerDriver(peer, require(peer, peer_venvs), script, logs, title)
        started.append(made)
        return made

    yield start
    for made in started:
        made.close()


@pytest.fixture(autouse=True)
def _ledger_test(request: pytest.FixtureRequest) -> Iterator[None]:
    LEDGER.current = request.node.nodeid
    yield
    LEDGER.current = ""


# -- outcomes and the table ----------------------------------------------------------------------


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.passed and report.nodeid.endswith(PEER_MODULES):
        LEDGER.expected.update(
            item.nodeid for item in report.result if isinstance(item, pytest.Item)
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    if not _is_peer_test(item.nodeid):
        return report
    wasxfail = getattr(report, "wasxfail", None)
    if report.when == "call" or report.outcome != "passed":
        if wasxfail is not None:
            marker = item.get_closest_marker("xfail")
            strict = bool(marker and marker.kwargs.get("strict", True))
            # a non-strict xfail waits on someone else's work: whether it passes yet must not
            # change the table, so both outcomes are one kind
            kind = "xfailed" if strict else "xfail-loose"
            LEDGER.outcomes[item.nodeid] = (kind, str(wasxfail).removeprefix("reason: "))
        elif report.when != "teardown" or report.failed:
            LEDGER.outcomes[item.nodeid] = (report.outcome, "")
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ran = set(LEDGER.outcomes)
    if not LEDGER.expected or not LEDGER.expected <= ran:
        return  # only part of the peer tests ran: the table would be partial
    kinds = {outcome for outcome, _ in LEDGER.outcomes.values()}
    if kinds & {"skipped", "failed"}:
        return
    text = peers.render_compatibility(LEDGER)
    path = peers.COMPATIBILITY_DOC
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not peers.in_ci():
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(f"interop: wrote {path.relative_to(peers.ROOT)}")
        return
    committed = path.read_text() if path.is_file() else ""
    if committed != text:
        diff = difflib.unified_diff(
            committed.splitlines(), text.splitlines(), "committed", "generated", lineterm=""
        )
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                "interop: docs/compatibility.md is stale; run `pytest tests/interop` without CI "
                "set to rewrite it, and commit it:",
                red=True,
            )
            for line in diff:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
