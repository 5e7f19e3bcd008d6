"""What the interop tests share: peers in their own virtual environments, our server as a
subprocess, signed REST to read what our server says, and the record the compatibility table is
written from.

Peers
    Each peer (a PyPI distribution pinned to one version) lives in `.venv/interop/<name>-<version>/`
    (or under `ASTER_INTEROP_VENVS`), made once with `python -m venv` + pip and reused while its
    stamp names the same pin. They are never dependencies of this package, and the two Binance
    packages both claim the top-level name `binance`, so each has a venv of its own. `ensure`
    raises `PeerUnavailableError` when pip cannot install one; the fixtures skip on that, or fail
    when `CI` is set.

Driving a peer
    A scenario script (`scenarios/*.py`) runs in the peer's venv and answers one JSON line per
    request (see `scenarios/_driver.py`). `PeerDriver.call(client, method, *args)` calls one of the
    peer's own methods and returns a `Call`: the result or the error, and every HTTP exchange the
    peer made for it. Each call is also written to `LEDGER` under the running test.

Our side
    `ServerProcess` (an `aster_account.testing.LocalServer`) runs `aster-account serve` on a free
    loopback port; `Operator` uses its operator API; `Account.get/post/...` sign requests with
    `signed_query` exactly as the docs say, which is how a test learns what our REST answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from aster_account.protocol.signing import signed_query
from aster_account.testing import LocalServer

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
VENVS = Path(os.environ.get("ASTER_INTEROP_VENVS") or ROOT / ".venv" / "interop")
COMPATIBILITY_DOC = ROOT / "docs" / "compatibility.md"

INSTALL_TIMEOUT_S = 900.0
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 60.0
RECV_WINDOW = 10000


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def num(value: Any) -> Decimal:
    """A number as a peer or our server wrote it (float, int or decimal string), exactly."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


# -- peers and their virtual environments -------------------------------------------------------


class PeerUnavailableError(RuntimeError):
    """pip could not install the peer (no network, or the registry said no)."""


@dataclass(frozen=True)
class Peer:
    name: str  # the PyPI distribution
    version: str
    module: str  # imported once after install, as a check

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def venv(self) -> Path:
        return VENVS / f"{self.name}-{self.version}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


# ccxt 4.5.51 is the last release whose ccxt.aster signs with HMAC (v1) keys.
CCXT = Peer("ccxt", "4.5.51", "ccxt.pro")
BINANCE_FUTURES_CONNECTOR = Peer("binance-futures-connector", "4.2.0", "binance.um_futures")
PYTHON_BINANCE = Peer("python-binance", "1.0.37", "binance.client")
PEERS = (CCXT, BINANCE_FUTURES_CONNECTOR, PYTHON_BINANCE)

_STAMP = ".aster-interop-installed"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PeerUnavailableError(f"{what}: no answer in {INSTALL_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        said = [
            line
            for line in (done.stderr + done.stdout).splitlines()
            if line.strip() and "is ignored" not in line
        ]
        raise PeerUnavailableError(f"{what} failed: " + " | ".join(said[-3:]))


def ensure(peer: Peer) -> Path:
    """The peer's venv python, installing the pinned peer first when it is not there yet."""
    VENVS.mkdir(parents=True, exist_ok=True)
    stamp = peer.venv / _STAMP
    with _locked(VENVS / f".{peer.name}.lock"):
        if (
            stamp.is_file()
            and stamp.read_text().strip() == peer.requirement
            and peer.python.exists()
        ):
            return peer.python
        shutil.rmtree(peer.venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(peer.venv)], f"venv for {peer.title}")
        _run(
            [
                str(peer.python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                peer.requirement,
            ],
            f"pip install {peer.requirement}",
        )
        _run([str(peer.python), "-c", f"import {peer.module}"], f"import {peer.module}")
        stamp.write_text(peer.requirement + "\n")
    return peer.python


# -- the record behind docs/compatibility.md ----------------------------------------------------

_AUTH_PARAMS = ("timestamp", "recvWindow", "signature")


def _names(text: str | None) -> list[str]:
    if not text:
        return []
    return [key for key, _ in parse_qsl(text, keep_blank_values=True)]


def describe_http(exchange: dict[str, Any]) -> str:
    """One line for one HTTP exchange, the same every run: method, path, parameter names (values
    change from run to run), how it was authenticated, and what came back."""
    path = exchange["path"]
    if path.startswith("/ws/"):
        path = "/ws/<listenKey>"
    method = "WS" if exchange["status"] == 101 else exchange["method"]
    parts = [method, path]
    query, body = _names(exchange["query"]), _names(exchange["body"])
    for where, names in (("query", query), ("body", body)):
        shown = [n for n in names if n not in _AUTH_PARAMS]
        if shown:
            parts.append(f"{where}({', '.join(shown)})")
    if "signature" in query + body:
        parts.append("signed")
    elif exchange["has_key"]:
        parts.append("key")
    else:
        parts.append("no key")
    status = exchange["status"]
    answer = f"→ {status}" if status is not None else "→ no answer"
    code = aster_code(exchange)
    if code is not None and code != 200:
        answer += f" {code}"
    parts.append(answer)
    return " ".join(parts)


def aster_code(exchange: dict[str, Any]) -> int | None:
    try:
        body = json.loads(exchange.get("text") or "")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return int(body["code"])
    return None


@dataclass
class Entry:
    peer: str
    label: str
    nodeid: str
    requests: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """Every peer call of the session, and each test's outcome, for the compatibility table."""

    current: str = ""
    entries: list[Entry] = field(default_factory=list)
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)

    def add(self, peer: str, label: str, requests: list[str]) -> Entry:
        entry = Entry(peer, label, self.current, requests)
        self.entries.append(entry)
        return entry


LEDGER = Ledger()


# -- driving a peer ----------------------------------------------------------------------------


@dataclass
class Call:
    """One peer method call: what the peer returned or raised, and what it sent."""

    label: str
    ok: bool
    result: Any
    error: dict[str, Any] | None
    http: list[dict[str, Any]]
    entry: Entry | None = None

    def value(self) -> Any:
        if not self.ok:
            raise AssertionError(f"{self.label} raised {self.error} after {self.sent()}")
        return self.result

    def note(self, text: str) -> Call:
        """What the test checked, for the table's result column."""
        if self.entry is not None and text not in self.entry.notes:
            self.entry.notes.append(text)
        return self

    def sent(self) -> list[str]:
        return [describe_http(h) for h in self.http]

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else self.error["type"]

    def raised(self, kind: str) -> bool:
        return self.error is not None and kind in self.error["mro"]

    @property
    def last_code(self) -> int | None:
        """The Aster code of the last HTTP answer (None when it carried none)."""
        return aster_code(self.http[-1]) if self.http else None


class PeerDriver:
    """A scenario script running in a peer's venv, answering one JSON line per request."""

    def __init__(
        self, peer: Peer, python: Path, script: str, log_dir: Path, title: str | None = None
    ) -> None:
        self.peer = peer
        self.title = title or peer.title
        self.log_path = log_dir / f"{Path(script).stem}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [str(python), str(SCENARIOS / script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=SCENARIOS,
            env=env,
        )
        self._sent = 0
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        try:
            self.hello = self._read(START_TIMEOUT_S)["result"]
            if self.hello.get("version") != peer.version:
                raise AssertionError(f"{script} runs {self.hello}, not {peer.title}")
        except BaseException:
            self.close()
            raise

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"{self.peer.title} gave no answer in {timeout:.0f} s; see {self.log_path}"
            ) from None
        if not line:
            raise AssertionError(f"{self.peer.title} exited; see {self.log_path}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def send(self, message: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self._sent += 1
        self.proc.stdin.write(json.dumps({**message, "id": self._sent}).encode() + b"\n")
        self.proc.stdin.flush()
        while True:
            answer = self._read(timeout)
            if answer.get("id") == self._sent:
                return answer
            # otherwise: the late answer to a request that timed out before; skip it

    def open(self, name: str, config: dict[str, Any]) -> None:
        answer = self.send({"op": "open", "name": name, "config": config})
        if not answer["ok"]:
            raise AssertionError(f"{self.peer.title}: could not make a client: {answer['error']}")

    def call(
        self,
        client: str,
        method: str,
        *args: Any,
        label: str | None = None,
        op: str = "call",
        timeout: float = CALL_TIMEOUT_S,
        **kwargs: Any,
    ) -> Call:
        answer = self.send(
            {
                "op": op,
                "name": client,
                "method": method,
                "args": list(args),
                "kwargs": kwargs,
                "timeout": timeout,
            },
            timeout=timeout + 5,
        )
        return self._record(label or method, answer)

    def wait(self, task: int, label: str, timeout: float = 10.0) -> Call:
        answer = self.send({"op": "wait", "task": task, "timeout": timeout}, timeout=timeout + 5)
        return self._record(label, answer)

    def _record(self, label: str, answer: dict[str, Any]) -> Call:
        call = Call(
            label=label,
            ok=answer["ok"],
            result=answer.get("result"),
            error=answer.get("error"),
            http=answer.get("http", []),
        )
        call.entry = LEDGER.add(self.title, label, call.sent())
        return call

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._pump_thread.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# -- our server --------------------------------------------------------------------------------


class ServerProcess(LocalServer):
    """`aster-account serve` on a fresh SQLite file and a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        # the interop suites make a few hundred requests from one IP in a minute
        roomy = ["--weight-limit", "1000000"]
        super().__init__(f"sqlite:///{workdir / 'interop.db'}", workdir=workdir, args=roomy)


class RestError(Exception):
    """Our server answered with an error body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body

    @property
    def code(self) -> int | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Account:
    """One account and its API key; `get`/`post`/`put`/`delete` are signed REST calls."""

    http: httpx.Client
    account_id: int
    api_key: str
    secret: str

    def request(
        self,
        method: str,
        path: str,
        signed: bool = True,
        numbers_as_text: bool = False,
        **params: Any,
    ) -> Any:
        """The parsed answer; `numbers_as_text` parses JSON numbers to their text, as ccxt does."""
        pairs: list[tuple[str, object]] = list(params.items())
        if signed:
            pairs += [("recvWindow", RECV_WINDOW), ("timestamp", time.time_ns() // 1_000_000)]
            query = signed_query(pairs, self.secret)
        else:
            query = str(httpx.QueryParams([(k, str(v)) for k, v in pairs]))
        answer = self.http.request(
            method,
            path + ("?" + query if query else ""),
            headers={"X-MBX-APIKEY": self.api_key},
        )
        if numbers_as_text:
            body = json.loads(answer.text, parse_float=str, parse_int=str)
        else:
            body = answer.json()
        if answer.status_code != 200:
            raise RestError(answer.status_code, body)
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def post(self, path: str, **params: Any) -> Any:
        return self.request("POST", path, **params)

    def put(self, path: str, **params: Any) -> Any:
        return self.request("PUT", path, **params)

    def delete(self, path: str, **params: Any) -> Any:
        return self.request("DELETE", path, **params)

    def credentials(self) -> dict[str, str]:
        return {"key": self.api_key, "secret": self.secret}

    # what tests read often

    def usdt(self) -> dict[str, Any]:
        """The USDT row of /fapi/v4/account's assets."""
        return next(a for a in self.get("/fapi/v4/account")["assets"] if a["asset"] == "USDT")

    def position(self, symbol: str, side: str = "BOTH") -> dict[str, Any]:
        rows = self.get("/fapi/v2/positionRisk", symbol=symbol)
        return next(r for r in rows if r["positionSide"] == side)


@dataclass
class Operator:
    """The operator API of one server: accounts, deposits, marks, funding."""

    server: ServerProcess
    http: httpx.Client

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self.http.post(
            path, content=json.dumps(body), headers={"X-Operator-Token": self.server.operator_token}
        )
        if answer.status_code != 200:
            raise RestError(answer.status_code, answer.json())
        return answer.json()

    def create_account(self, futures: str | None = "10000", spot: str | None = "1000") -> Account:
        made = self.server.create_account(
            {"USDT": futures} if futures else None, {"USDT": spot} if spot else None
        )
        return Account(self.http, made["accountId"], made["apiKey"], made["apiSecret"])

    def state(self, account: Account) -> Any:
        answer = self.http.get(
            f"/operator/v1/accounts/{account.account_id}",
            headers={"X-Operator-Token": self.server.operator_token},
        )
        return answer.json()

    def mark(self, symbol: str, price: str, funding_rate: str | None = None) -> Any:
        body: dict[str, Any] = {"symbol": symbol, "markPrice": price}
        if funding_rate is not None:
            body["fundingRate"] = funding_rate
        return self._post("/operator/v1/markPrice", body)

    def funding(self, symbol: str | None = None) -> Any:
        return self._post("/operator/v1/funding", {"symbol": symbol} if symbol else {})


# -- docs/compatibility.md ---------------------------------------------------------------------

_HEADER = """\
# Compatibility: other people's clients against this server

Generated by `tests/interop` from the calls the peers made and the outcome of the tests that made
them: do not edit it by hand. `pytest tests/interop` (without `CI` set) rewrites it after a run of
every peer test with none skipped or failed; under `CI=true` the run fails when it is stale.

Each peer is pinned and runs unmodified in a virtual environment of its own, aimed at the server by
its ordinary configuration (ccxt: `urls['api']`; binance-futures-connector: `base_url`;
python-binance: `FUTURES_URL`). Results are checked against what our own REST answers for the same
account at the same moment, not only for the absence of an exception.

*requests* lists every HTTP exchange the call made, in order: method, path, the parameter names
it sent in the query or the body (values change from run to run; `timestamp`, `recvWindow` and
`signature` are left out), how it authenticated (`signed`: HMAC signature; `key`: API-key header
only; `no key`), and the HTTP status with the Aster code of an error answer. *result* is `pass`
with what was checked, or `xfail` with the reason: `server:` marks a difference of this server
from Aster that is still open.

Not covered: the paths Aster shares with Binance that this account service does not serve
(market data such as depth and klines, `openOrder`, `allOrders`, `userTrades`, `batchOrders`,
`countdownCancelAll`).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _result(outcomes: list[tuple[str, str]], notes: list[str]) -> str:
    kinds = [kind for kind, _ in outcomes]
    reasons = "; ".join(sorted({reason for _, reason in outcomes if reason}))
    if "failed" in kinds:
        return "**fail**"
    if "xfailed" in kinds:
        return f"xfail: {reasons}"
    if "xfail-loose" in kinds:
        return f"xfail (not strict: passes once it is there): {reasons}; checks: " + "; ".join(
            notes
        )
    return "pass: " + "; ".join(notes)


def render_compatibility(ledger: Ledger) -> str:
    """The table: one row per peer and method label, in the order the tests first made them.

    A row's result comes from the tests that checked that call (`Call.note`); a call a test only
    used as a step towards another check adds its requests to the row, not its outcome. Requests
    made under a non-strict xfail are left out: they change when the missing piece arrives."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in ledger.entries:
        row = rows.setdefault(
            (entry.peer, entry.label), {"requests": [], "notes": [], "checked_by": []}
        )
        loose = ledger.outcomes.get(entry.nodeid, ("", ""))[0] == "xfail-loose"
        row["loose"] = row.get("loose", False) or loose
        for line in [] if loose else entry.requests:
            if line not in row["requests"]:
                row["requests"].append(line)
        for note in entry.notes:
            if note not in row["notes"]:
                row["notes"].append(note)
        if entry.notes and entry.nodeid not in row["checked_by"]:
            row["checked_by"].append(entry.nodeid)
    out = [_HEADER]
    for peer in PEERS:
        for title in sorted({p for p, _ in rows if p.startswith(peer.name)}):
            out.append(f"\n## {title}\n")
            out.append("| method | requests | result |")
            out.append("|---|---|---|")
            for (row_peer, label), row in rows.items():
                if row_peer != title:
                    continue
                outcomes = [ledger.outcomes.get(n, ("failed", "")) for n in row["checked_by"]]
                result = _result(outcomes, row["notes"]) if outcomes else "used as a step only"
                requests = "<br>".join(f"`{_cell(r)}`" for r in row["requests"]) or (
                    "(left out while marked xfail, not strict)" if row["loose"] else "(none)"
                )
                out.append(f"| `{_cell(label)}` | {requests} | {_cell(result)} |")
    return "\n".join(out) + "\n"
