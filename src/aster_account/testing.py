"""A throwaway local server for tests: `aster-account serve` in a subprocess on a free port.

`LocalServer` starts the real server (the same code as `aster-account serve`) on a free loopback
port, over a fresh SQLite file in a temporary directory of its own, and waits until it answers
`GET /fapi/v1/ping`. Point the SDK (or any other client) at `base_url`, make accounts through the
operator API, and everything is thrown away at the end of the `with` block::

    from decimal import Decimal

    from aster_account import Client
    from aster_account.testing import LocalServer


    def test_my_bot_moves_money_to_spot() -> None:
        with LocalServer() as server:
            made = server.create_account(futures={"USDT": "1000"})
            server.operator("POST", "markPrice", {"symbol": "BTCUSDT", "markPrice": "60000"})
            with Client(made["apiKey"], made["apiSecret"], server.base_url) as client:
                run_my_bot(client)  # the code under test
                usdt = next(b for b in client.get_balance() if b.asset == "USDT")
                assert usdt.wallet_balance == Decimal("900")

With pytest, a module-scoped fixture pays the start (about a second) once per module::

    @pytest.fixture(scope="module")
    def server() -> Iterator[LocalServer]:
        with LocalServer(args=["--weight-limit", "100000"]) as server:
            yield server

Other databases and settings: `LocalServer(db="postgresql://...")` runs on PostgreSQL (several
servers may share one database); `args` are passed to `aster-account serve` as they are
(`--weight-limit`, `--market`, `--prices`, ...); `config` runs the server from
`aster_account.server.main.ServerConfig` fields instead, for settings the command line has no
option for. `kill()` (SIGKILL) then `start()` restarts the server on the same port and database,
e.g. to see that what was acknowledged survives a crash.

Only the standard library is used here (and psycopg by `pg_schema`, when called): importing
this module adds no dependency.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "LocalServer",
    "LocalServerError",
    "OperatorError",
    "free_port",
    "pg_schema",
    "with_search_path",
]

# runs the server from ServerConfig fields (JSON in argv[1]) instead of the command line
_SERVE_CONFIG = (
    "import json, os, sys\n"
    "from aster_account.server.main import ServerConfig, serve\n"
    "token = os.environ['ASTER_OPERATOR_TOKEN']\n"
    "serve(ServerConfig(**json.loads(sys.argv[1]), operator_token=token))\n"
)
_PORT_TAKEN = "address already in use"
_PORT_ATTEMPTS = 3
_POLL_S = 0.02
# local requests never go through a proxy named in the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalServerError(RuntimeError):
    """The server did not start: it exited, or it did not answer in time. The message ends with
    the tail of the server's log."""


class OperatorError(RuntimeError):
    """The operator API answered with an error: `status` is the HTTP status, `body` the parsed
    JSON answer (`{"code", "msg"}`) or its text."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"operator {method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


def with_search_path(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use `schema` (the server's store reads it from the
    URL as `options=-csearch_path=...`)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.contextmanager
def pg_schema(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """A fresh schema in the PostgreSQL database of `admin_url`, dropped on exit: yields a URL
    whose connections live in it, e.g. for `LocalServer(db=...)`. (Needs psycopg, which the
    server's PostgreSQL store uses; nothing else in this module does.)"""
    import psycopg
    from psycopg import sql

    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield with_search_path(admin_url, schema)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (another process may take it before use)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _connect_host(host: str) -> str:
    """The address a client uses to reach a server listening on `host`, as written in a URL."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class LocalServer:
    """`aster-account serve` as a subprocess on a free port, for tests.

    Use it as a context manager (`with LocalServer() as server:` starts it and, at the end, stops
    it and removes its temporary directory), or call `start()` and `close()` yourself.

    db
        Database URL. Default: `sqlite:///<workdir>/aster.db`, a fresh file. A PostgreSQL URL
        (`postgresql://...`) works too; the database is the caller's to create and drop.
    operator_token
        Token of the operator API (`X-Operator-Token`). Default: a random one.
    args
        More `aster-account serve` options, as they are: `["--weight-limit", "100000"]`,
        `["--market", "market.json"]`, `["--prices", "marks.csv", "--prices-speed", "10"]`.
    config
        `ServerConfig` fields (see `aster_account.server.main`) for settings the command line
        has no option for, e.g. `{"stream_queue_size": 2, "ws_ping_interval": 0.2}`. With it,
        the subprocess runs `serve(ServerConfig(...))` instead of the command line; host, port,
        db, operator token, demo and log level are filled in as for the command line, and
        `args` must be empty.
    env
        Environment variables for the server, on top of this process's environment.
    workdir
        The server's working directory, where relative paths in `db` and `args` point and where
        the log goes by default; created on start. Default: a temporary directory that this
        object owns and `close()` removes.
    log_path
        File that receives the server's stdout and stderr, appended over all its starts.
        Default: `<workdir>/server-<port>.log`.
    host, port
        Where the server listens. Default: 127.0.0.1 and a free port (a first start that finds
        the port taken meanwhile moves to another one; restarts keep the port).
    demo
        Let the server make its demo account on the first start (`--demo`). Default: no.
    log_level
        The server's log level. Default: `warning`.
    umask
        The server process's umask (default: this process's).
    start_timeout
        Seconds `start()` waits for the server to answer `GET /fapi/v1/ping`.
    stop_timeout
        Seconds `stop()` waits after SIGTERM before it sends SIGKILL.
    """

    def __init__(
        self,
        db: str | None = None,
        *,
        operator_token: str | None = None,
        args: Sequence[str] = (),
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        demo: bool = False,
        log_level: str = "warning",
        umask: int | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if config is not None and args:
            raise ValueError("give either args (command line) or config (ServerConfig), not both")
        self._owned_dir: Path | None = None
        if workdir is None:
            self._owned_dir = Path(tempfile.mkdtemp(prefix="aster-local-server-"))
            workdir = self._owned_dir
        self.workdir = Path(workdir)
        self.host = host
        self._auto_port = port is None
        self.port = free_port(host or "0.0.0.0") if port is None else port
        self.db = db if db is not None else f"sqlite:///{self.workdir / 'aster.db'}"
        self.operator_token = operator_token or secrets.token_hex(16)
        self.args = list(args)
        self.config = dict(config) if config is not None else None
        self.env = dict(env) if env is not None else {}
        self.log_path = (
            Path(log_path) if log_path is not None else self.workdir / f"server-{self.port}.log"
        )
        self.demo = demo
        self.log_level = log_level
        self.umask = umask
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        """How many times the server has started and answered."""

    # -- where it is ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: the REST base URL for a client."""
        return f"http://{_connect_host(self.host)}:{self.port}"

    @property
    def ws_url(self) -> str:
        """`ws://127.0.0.1:<port>`: the user data stream's base (`/ws/<listenKey>`)."""
        return f"ws://{_connect_host(self.host)}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        """The process id of the server (the last one started)."""
        if self.proc is None:
            raise RuntimeError("the server was never started")
        return self.proc.pid

    def command(self) -> list[str]:
        """The command line the server is started with (the operator token goes in its
        environment, as ASTER_OPERATOR_TOKEN)."""
        if self.config is not None:
            config = {
                "host": self.host,
                "port": self.port,
                "db": self.db,
                "demo": self.demo,
                "log_level": self.log_level,
                **self.config,
            }
            return [sys.executable, "-c", _SERVE_CONFIG, json.dumps(config)]
        return [
            sys.executable,
            "-m",
            "aster_account.cli",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--demo" if self.demo else "--no-demo",
            "--log-level",
            self.log_level,
            *self.args,
        ]

    # -- the process ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server and wait until it answers `GET /fapi/v1/ping`; returns `self`.

        Raises `LocalServerError` (with the log's tail) when it exits first or does not answer
        within `start_timeout` (it is stopped then)."""
        if self.running:
            raise RuntimeError("the server is already running")
        attempts = _PORT_ATTEMPTS if self._auto_port and self.starts == 0 else 1
        for attempt in range(attempts):
            log_from = self._log_size()
            self._spawn()
            if self._wait_ready():
                self.starts += 1
                return self
            port_taken = _PORT_TAKEN in self._log_bytes(log_from).decode(errors="replace").lower()
            if not port_taken or attempt == attempts - 1:
                break
            self.port = free_port(self.host or "0.0.0.0")
        code = None if self.proc is None else self.proc.returncode
        raise LocalServerError(f"the server exited with code {code}:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if the server has not exited after `stop_timeout` seconds.
        The database and the log stay: `start()` again runs on them."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: the server dies on the spot, no shutdown code runs; only what it committed
        survives. For durability tests; `start()` brings it back on the same port."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self, *, graceful: bool = True) -> Self:
        """`stop()` (or `kill()` when not `graceful`), then `start()`."""
        if graceful:
            self.stop()
        else:
            self.kill()
        return self.start()

    def close(self) -> None:
        """`stop()`, and remove the temporary directory if this object made it."""
        self.stop()
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _spawn(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                # the token in the environment, not on the command line that `ps` shows
                env={**os.environ, **self.env, "ASTER_OPERATOR_TOKEN": self.operator_token},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                umask=-1 if self.umask is None else self.umask,
            )

    def _wait_ready(self) -> bool:
        """True once the server answers the ping; False if it exited first."""
        assert self.proc is not None
        url = f"{self.base_url}/fapi/v1/ping"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with _OPENER.open(url, timeout=2.0) as answer:
                    if answer.status == 200:
                        return True
            except (OSError, ValueError):  # refused, reset, not HTTP yet
                pass
            time.sleep(_POLL_S)
        self.stop()
        raise LocalServerError(
            f"the server did not answer GET /fapi/v1/ping in {self.start_timeout:g} s:\n"
            f"{self.log_tail()}"
        )

    # -- its log -------------------------------------------------------------------------------

    def log_text(self) -> str:
        """Everything the server wrote (stdout and stderr) over all its starts."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the log."""
        text = self.log_text()
        return "\n".join(text.splitlines()[-lines:]) if text else "(empty log)"

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _log_bytes(self, start: int) -> bytes:
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                return log.read()
        except FileNotFoundError:
            return b""

    # -- the operator API ----------------------------------------------------------------------

    def operator(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Call the operator API (see `aster_account.server.operator`) and return its JSON answer.

        `path` is `/operator/v1/...` or the part after `/operator/v1/` (`"markPrice"`); `body`
        is sent as JSON. Raises `OperatorError` on an error answer."""
        if not path.startswith("/"):
            path = f"/operator/v1/{path}"
        request = urllib.request.Request(
            self.base_url + path,
            data=None if body is None else json.dumps(dict(body)).encode(),
            headers={"X-Operator-Token": self.operator_token, "Content-Type": "application/json"},
            method=method,
        )
        try:
            with _OPENER.open(request, timeout=30.0) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:
            with err:
                text = err.read().decode(errors="replace")
            parsed: Any = text
            with contextlib.suppress(ValueError):
                parsed = json.loads(text)
            raise OperatorError(method, path, err.code, parsed) from None

    def create_account(
        self,
        futures: Mapping[str, object] | None = None,
        spot: Mapping[str, object] | None = None,
        *,
        permissions: Iterable[str] | None = None,
        alias: str | None = None,
    ) -> dict[str, Any]:
        """A new account with an API key: `{"accountId", "apiKey", "apiSecret"}`.

        `futures` and `spot` are the opening balances per asset (`{"USDT": "1000"}`; amounts as
        strings or numbers); `permissions` the key's permissions (default: all)."""
        body: dict[str, Any] = {}
        if futures is not None:
            body["futures"] = {asset: str(amount) for asset, amount in futures.items()}
        if spot is not None:
            body["spot"] = {asset: str(amount) for asset, amount in spot.items()}
        if permissions is not None:
            body["permissions"] = list(permissions)
        if alias is not None:
            body["alias"] = alias
        made: dict[str, Any] = self.operator("POST", "/operator/v1/accounts", body)
        return made

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalServer {self.base_url} {state} db={self.db!r}>"
