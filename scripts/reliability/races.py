"""Races: 64 requests at once that together would overdraw one account.

Three races, each on SQLite with one server process, on PostgreSQL with one, and on PostgreSQL
with two processes sharing the database (the requests alternate between them):

    futures -> spot     futures wallet 1000, no position, so maxWithdrawAmount is 1000:
                        64 transfers of 30 FUTURE_SPOT; exactly 33 can be paid (1000 // 30)
    spot -> futures     spot wallet 1000: 64 transfers of 30 SPOT_FUTURE; exactly 33
    isolated reduce     an isolated BTCUSDT long whose reducible margin R is computed from the
                        account's own figures (FACTS.md: max(0, min(IWB - MM, IWB + size x
                        (mark - entry) - mark x |size| / leverage))); 64 reductions of a, with
                        64 a > R: exactly floor(R / a) succeed

The 64 client threads connect first, then wait on one barrier and send together. While they run
a watcher reads the account through the operator API as fast as it can: the wallet must never be
seen below zero (nor the isolated wallet below IWB - R). Afterwards: the number of successes is
exactly the affordable count, every failure is the insufficient-balance code (-2018 / -4051), and
the wallet is its start minus the successes -- also as the sum of its ledger.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from reliability.harness import Http, Key, Part, Server, StoreReader, pg_schema, say, sqlite_url

SYMBOL = "BTCUSDT"
MARK = Decimal("100000")
WALLET = Decimal("1000")
TRANSFER = Decimal("30")
REDUCE = Decimal("12")


@dataclass
class Race:
    name: str
    successes: int = 0
    failures: Counter[int] | None = None
    expected: int = 0
    lowest_seen: Decimal | None = None
    floor: Decimal = Decimal(0)  # the watcher must never see the watched value below this
    final_ok: bool = True
    ledger_ok: bool = True
    other: Counter[str] | None = None

    @property
    def overdraft(self) -> bool:
        below = self.lowest_seen is not None and self.lowest_seen < self.floor
        return self.successes > self.expected or below or not self.final_ok


def fire(
    servers: list[Server], requests: int, send: Callable[[Http, int], httpx.Response]
) -> tuple[int, Counter[int], Counter[str]]:
    """`requests` threads, connected beforehand, sending at one barrier; (ok, codes, other)."""
    barrier = threading.Barrier(requests)
    lock = threading.Lock()
    ok = 0
    codes: Counter[int] = Counter()
    other: Counter[str] = Counter()

    def one(i: int) -> None:
        nonlocal ok
        server = servers[i % len(servers)]
        with Http(server.base_url, timeout=60.0) as http:
            http.http.get("/fapi/v1/ping")  # the connection exists before the barrier
            barrier.wait()
            try:
                r = send(http, i)
            except httpx.TransportError as exc:
                with lock:
                    other[type(exc).__name__] += 1
                return
        with lock:
            if r.status_code == 200:
                ok += 1
            elif r.status_code < 500:
                codes[int(r.json()["code"])] += 1
            else:
                other[f"HTTP {r.status_code}"] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, codes, other


class Watcher:
    """Reads one value of an account through the operator API until stopped; keeps the lowest."""

    def __init__(self, server: Server, account_id: int, read: Callable[[dict[str, Any]], Decimal]):
        self.http = Http(server.base_url, token=server.token)
        self.account_id = account_id
        self.read = read
        self.lowest: Decimal | None = None
        self.reads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.read(self.http.state(self.account_id))
            self.reads += 1
            if self.lowest is None or value < self.lowest:
                self.lowest = value

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.http.close()


def _futures(state: dict[str, Any]) -> Decimal:
    return Decimal(state["futures"].get("USDT", "0"))


def _spot(state: dict[str, Any]) -> Decimal:
    return Decimal(state["spot"].get("USDT", "0"))


def _isolated(state: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(p[4]) for p in state["positions"] if p[0] == SYMBOL and p[1] == "BOTH"),
        Decimal(0),
    )


def transfer_race(
    servers: list[Server], http: Http, requests: int, kind: str, tag: str
) -> tuple[Race, Key]:
    if kind == "FUTURE_SPOT":
        key = http.create_account(futures={"USDT": WALLET})
        read = _futures
    else:
        key = http.create_account(futures={"USDT": "1"}, spot={"USDT": WALLET})
        read = _spot
    race = Race(f"transfer {kind}", expected=int(WALLET // TRANSFER))

    def send(h: Http, i: int) -> httpx.Response:
        params = {
            "asset": "USDT",
            "amount": TRANSFER,
            "kindType": kind,
            "clientTranId": f"race-{tag}-{kind}-{i}",
        }
        return h.signed(key, "POST", "/fapi/v1/asset/wallet/transfer", params)

    with Watcher(servers[0], key.account_id, read) as watcher:
        race.successes, race.failures, race.other = fire(servers, requests, send)
    race.lowest_seen = watcher.lowest
    final = read(http.state(key.account_id))
    race.final_ok = final == WALLET - race.successes * TRANSFER and final >= 0
    return race, key


def reducible(http: Http, key: Key) -> tuple[Decimal, Decimal]:
    """(isolated wallet, most margin that may be taken from it), from the account's figures."""
    state = http.state(key.account_id)
    iwb = _isolated(state)
    account = http.ok(key, "GET", "/fapi/v4/account")
    pos = next(p for p in account["positions"] if p["symbol"] == SYMBOL)
    size, entry = Decimal(pos["positionAmt"]), Decimal(pos["entryPrice"])
    mm, leverage = Decimal(pos["maintMargin"]), Decimal(pos["leverage"])
    mark = Decimal(
        http.http.get("/fapi/v1/premiumIndex", params={"symbol": SYMBOL}).json()["markPrice"]
    )
    keep_initial = iwb + size * (mark - entry) - mark * abs(size) / leverage
    return iwb, max(Decimal(0), min(iwb - mm, keep_initial))


def reduce_race(servers: list[Server], http: Http, requests: int) -> tuple[Race, Key]:
    key = http.create_account(futures={"USDT": "100000"})
    http.open_isolated(key, SYMBOL, "0.1", leverage=10, add="500")
    iwb, most = reducible(http, key)
    race = Race("isolated reduce", expected=int(most // REDUCE), floor=iwb - most)
    if requests * REDUCE <= most:
        raise RuntimeError(f"the race would not overdraw: {requests} x {REDUCE} <= {most}")

    def send(h: Http, _i: int) -> httpx.Response:
        params = {"symbol": SYMBOL, "type": 2, "amount": REDUCE}
        return h.signed(key, "POST", "/fapi/v1/positionMargin", params)

    with Watcher(servers[0], key.account_id, _isolated) as watcher:
        race.successes, race.failures, race.other = fire(servers, requests, send)
    race.lowest_seen = watcher.lowest
    final = _isolated(http.state(key.account_id))
    race.final_ok = final == iwb - race.successes * REDUCE and final >= iwb - most
    return race, key


def run_config(
    part: Part, name: str, db: str, processes: int, workdir: Path, requests: int
) -> dict[str, Any]:
    servers = [Server(db=db, workdir=workdir, log_level="warning") for _ in range(processes)]
    for server in servers:
        server.start()
    try:
        with Http(servers[0].base_url, token=servers[0].token) as http:
            http.set_mark(SYMBOL, MARK)
            time.sleep(1.1)  # every process reloads marks within a second
            played = [
                transfer_race(servers, http, requests, "FUTURE_SPOT", name),
                transfer_race(servers, http, requests, "SPOT_FUTURE", name),
                reduce_race(servers, http, requests),
            ]
            states = {key.account_id: http.state(key.account_id) for _, key in played}
    finally:
        for server in servers:
            server.stop()
    with StoreReader(db) as reader:  # the ledger, read once no server runs
        for race, key in played:
            income = reader.rows(
                "SELECT income FROM income WHERE account_id = ? AND asset = 'USDT'",
                (key.account_id,),
            )
            race.ledger_ok = sum((Decimal(r[0]) for r in income), Decimal(0)) == _futures(
                states[key.account_id]
            )
    figures: dict[str, Any] = {}
    for race, _ in played:
        insufficient = {-2018} if race.name.startswith("transfer") else {-4051}
        codes = race.failures or Counter()
        figures[race.name] = {
            "requests": requests,
            "succeeded": race.successes,
            "affordable": race.expected,
            "failures": dict(codes),
            "no_answer_or_5xx": dict(race.other or {}),
            "lowest_seen": str(race.lowest_seen),
            "overdraft": race.overdraft,
        }
        label = f"{name}: {race.name}"
        part.check(not race.overdraft, f"{label}: overdraft ({figures[race.name]})")
        part.check(
            race.successes == race.expected,
            f"{label}: {race.successes} succeeded, {race.expected} affordable",
        )
        part.check(
            set(codes) <= insufficient and not race.other,
            f"{label}: unexpected failures {dict(codes)} {dict(race.other or {})}",
        )
        part.check(race.ledger_ok, f"{label}: futures wallet is not the sum of its ledger")
    return figures


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    part = Part("races")
    requests = sizes.race_requests
    configs: dict[str, Any] = {}
    say(f"races: {requests} concurrent requests per race, SQLite x1")
    configs["sqlite x1"] = run_config(
        part, "sqlite x1", sqlite_url(workdir / "sqlite"), 1, workdir / "sqlite", requests
    )
    if with_postgres:
        for processes in (1, 2):
            name = f"postgres x{processes}"
            say(f"races: {name}")
            with pg_schema("races") as db:
                configs[name] = run_config(part, name, db, processes, workdir / name, requests)
    part.figures["overdrafts"] = sum(
        race["overdraft"] for config in configs.values() for race in config.values()
    )
    part.figures["server_errors"] = sum(
        n
        for config in configs.values()
        for race in config.values()
        for what, n in race["no_answer_or_5xx"].items()
        if what.startswith("HTTP 5")
    )
    part.figures.update(configs)
    return part
