"""Crash recovery: concurrent money moves while the server is SIGKILLed, on SQLite and PostgreSQL.

Eight shared accounts, each with futures and spot USDT and an isolated BTCUSDT long. 32 client
threads run a fixed list of operations (seeded): transfers (either direction, each with its own
clientTranId) and isolated-margin changes (add or reduce). Every amount carries the operation's
number in its last decimals, so each row of the ledger names the operation that wrote it.

At random points of the run (after a random number of answers, then a random 0-50 ms) the server
gets SIGKILL and is started again on the same database; once more after the last answer. A client
that cannot connect waits and sends the same operation again (nothing reached the server); an answer
decides the operation (200: acknowledged, 4xx: rejected); a request that was sent but got no answer
is "unknown": it may or may not have happened, and either is fine as long as it happened whole.

Then, from the store:
- every acknowledged operation is there exactly once (transfers: the transfers row with the
  answered tranId and its TRANSFER income entry; margin changes: the margin_changes row);
- no rejected operation is there; every unknown one is there whole or not at all; no row is there
  that no operation explains (a duplicate);
- every futures wallet equals the sum of its income entries, every spot wallet its starting amount
  plus its transfers, every isolated wallet its starting margin plus its margin changes, and futures
  plus spot is what it was (transfers and margin changes move money, they never make or lose it;
  only a funding payment, should a funding time pass during the run, may be booked besides);
- no wallet is negative.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from reliability.harness import Http, Key, Part, Server, StoreReader, pg_schema, say, sqlite_url

ACCOUNTS = 8
START_FUTURES = Decimal("100000")
START_SPOT = Decimal("100000")
SYMBOL = "BTCUSDT"
MARK = Decimal("100000")
TAG = Decimal("0.00000001")  # the operation's number rides in the last 8 decimals


@dataclass
class Operation:
    number: int
    account: int  # index into the accounts
    kind: str  # "transfer" | "margin"
    amount: Decimal
    direction: str  # FUTURE_SPOT / SPOT_FUTURE, or "1" (add) / "2" (reduce)
    client_tran_id: str = ""
    outcome: str = "pending"  # acked | rejected | unknown
    code: int | None = None
    tran_id: int | None = None
    attempts: int = 0


def plan(count: int, rng: random.Random, run_tag: str) -> list[Operation]:
    ops = []
    for n in range(1, count + 1):
        account = rng.randrange(ACCOUNTS)
        if rng.random() < 0.55:
            amount = rng.randint(1, 40) + n * TAG
            direction = rng.choice(["FUTURE_SPOT", "SPOT_FUTURE"])
            ops.append(Operation(n, account, "transfer", amount, direction, f"crash-{run_tag}-{n}"))
        else:
            amount = rng.randint(1, 15) + n * TAG
            ops.append(Operation(n, account, "margin", amount, rng.choice(["1", "2"])))
    return ops


class Run:
    def __init__(
        self,
        server: Server,
        keys: list[Key],
        ops: list[Operation],
        kills: int,
        seed: int,
        clients: int,
    ):
        self.server = server
        self.clients = clients
        self.keys = keys
        self.ops = ops
        self.todo: queue.Queue[Operation] = queue.Queue()
        for op in ops:
            self.todo.put(op)
        self.done = 0
        self.done_lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.transport_errors: Counter[str] = Counter()
        rng = random.Random(seed)
        lo, hi = max(1, len(ops) // 10), max(2, len(ops) * 8 // 10)
        self.kill_points = sorted(rng.sample(range(lo, hi), kills))
        self.kill_delays = [rng.uniform(0, 0.05) for _ in self.kill_points]
        self.kills_done = 0  # kills in the middle of the run
        self.next_kill = 0  # index of the kill point to come
        self.restart_seconds: list[float] = []

    def send(self, http: Http, op: Operation) -> httpx.Response:
        key = self.keys[op.account]
        if op.kind == "transfer":
            params: dict[str, object] = {
                "asset": "USDT",
                "amount": op.amount,
                "kindType": op.direction,
                "clientTranId": op.client_tran_id,
            }
            return http.signed(key, "POST", "/fapi/v1/asset/wallet/transfer", params)
        params = {"symbol": SYMBOL, "type": op.direction, "amount": op.amount}
        return http.signed(key, "POST", "/fapi/v1/positionMargin", params)

    def client(self) -> None:
        http = Http(self.server.base_url, timeout=20.0)
        try:
            while True:
                self._hold()
                try:
                    op = self.todo.get_nowait()
                except queue.Empty:
                    return
                while True:
                    op.attempts += 1
                    try:
                        r = self.send(http, op)
                    except httpx.ConnectError:
                        time.sleep(0.02)  # nothing was sent: the same operation again
                        continue
                    except httpx.TransportError as exc:
                        self.transport_errors[type(exc).__name__] += 1
                        op.outcome = "unknown"
                        http.close()
                        http = Http(self.server.base_url, timeout=20.0)
                        break
                    self.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        op.outcome = "acked"
                        if op.kind == "transfer":
                            op.tran_id = int(r.json()["tranId"])
                    elif r.status_code >= 500:
                        op.outcome = "unknown"
                    else:
                        op.outcome = "rejected"
                        op.code = r.json().get("code")
                    break
                with self.done_lock:
                    self.done += 1
        finally:
            http.close()

    def _hold(self) -> None:
        """No new operation more than one round of clients past a kill point that has not been
        reached by the killer yet: every kill lands in the middle of the run, requests in flight
        (a restart can take long enough under load for the run to end otherwise)."""
        while (
            self.next_kill < len(self.kill_points)
            and self.done >= self.kill_points[self.next_kill] + self.clients
        ):
            time.sleep(0.001)

    def killer(self) -> None:
        for index, (point, delay) in enumerate(
            zip(self.kill_points, self.kill_delays, strict=True)
        ):
            while self.done < point:
                time.sleep(0.001)
            time.sleep(delay)
            self.restart()
            self.kills_done += 1
            self.next_kill = index + 1

    def restart(self) -> None:
        self.server.kill()
        started = time.monotonic()
        self.server.start()
        self.restart_seconds.append(round(time.monotonic() - started, 2))

    def go(self, clients: int) -> float:
        started = time.monotonic()
        killer = threading.Thread(target=self.killer, daemon=True)
        killer.start()
        threads = [threading.Thread(target=self.client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        killer.join()
        elapsed = time.monotonic() - started
        self.restart()  # and once more after the last answer: acknowledged means durable
        return elapsed


def setup(http: Http) -> tuple[list[Key], dict[int, dict[str, Decimal]]]:
    """The shared accounts and, per account id, its wallets before the run."""
    http.set_mark(SYMBOL, MARK)
    keys = []
    for _ in range(ACCOUNTS):
        key = http.create_account(futures={"USDT": START_FUTURES}, spot={"USDT": START_SPOT})
        http.open_isolated(key, SYMBOL, "0.1", leverage=10, add="1000")
        keys.append(key)
    return keys, {k.account_id: wallets(http.state(k.account_id)) for k in keys}


def wallets(state: dict[str, Any]) -> dict[str, Decimal]:
    isolated = sum(
        (Decimal(p[4]) for p in state["positions"] if p[0] == SYMBOL and p[1] == "BOTH"),
        Decimal(0),
    )
    return {
        "futures": Decimal(state["futures"].get("USDT", "0")),
        "spot": Decimal(state["spot"].get("USDT", "0")),
        "isolated": isolated,
    }


def verify(
    part: Part,
    states: dict[int, dict[str, Any]],
    reader: StoreReader,
    keys: list[Key],
    ops: list[Operation],
    before: dict[int, dict[str, Decimal]],
    marks: tuple[int, int, int],
) -> dict[str, int]:
    """The checks of the module docstring; counts of what went wrong (all zero when sound)."""
    tran_mark, margin_mark, income_mark = marks
    ids = [k.account_id for k in keys]
    marks_sql = ",".join("?" for _ in ids)
    transfers = reader.rows(
        "SELECT tran_id, account_id, client_tran_id, amount, kind FROM transfers"
        f" WHERE account_id IN ({marks_sql}) AND tran_id > ?",
        (*ids, tran_mark),
    )
    income = reader.rows(
        "SELECT tran_id, account_id, asset, income_type, income, symbol FROM income"
        f" WHERE account_id IN ({marks_sql})",
        ids,
    )
    margins = reader.rows(
        "SELECT id, account_id, amount, type FROM margin_changes"
        f" WHERE account_id IN ({marks_sql}) AND id > ?",
        (*ids, margin_mark),
    )
    by_client: dict[str, list[tuple[Any, ...]]] = {}
    for row in transfers:
        by_client.setdefault(row[2], []).append(row)
    income_by_tran: dict[int, list[tuple[Any, ...]]] = {}
    for row in income:
        income_by_tran.setdefault(int(row[0]), []).append(row)
    margin_by_key: dict[tuple[int, Decimal, int], list[tuple[Any, ...]]] = {}
    for row in margins:
        margin_by_key.setdefault((int(row[1]), Decimal(row[2]), int(row[3])), []).append(row)

    bad: Counter[str] = Counter()
    examples: list[str] = []

    def wrong(kind: str, text: str) -> None:
        bad[kind] += 1
        if len(examples) < 10:
            examples.append(f"{kind}: {text}")

    explained_transfers: set[int] = set()
    explained_margins: set[int] = set()
    for op in ops:
        account_id = keys[op.account].account_id
        if op.kind == "transfer":
            rows = by_client.get(op.client_tran_id, [])
            explained_transfers.update(int(r[0]) for r in rows)
            complete = [
                r
                for r in rows
                if int(r[1]) == account_id
                and Decimal(r[3]) == op.amount
                and r[4] == op.direction
                and _income_matches(income_by_tran.get(int(r[0]), []), op)
            ]
            if len(rows) > 1:
                wrong("duplicated", f"transfer {op.client_tran_id}: {len(rows)} rows")
            elif rows and not complete:
                wrong("half_applied", f"transfer {op.client_tran_id}: {rows} without its income")
            if op.outcome == "acked" and not rows:
                wrong("acked_missing", f"transfer {op.client_tran_id} (tranId {op.tran_id})")
            elif op.outcome == "acked" and rows and int(rows[0][0]) != op.tran_id:
                wrong("acked_missing", f"transfer {op.client_tran_id}: tranId {rows[0][0]}")
            elif op.outcome == "rejected" and rows:
                wrong("rejected_applied", f"transfer {op.client_tran_id} ({op.code})")
        else:
            key = (account_id, op.amount, int(op.direction))
            rows = margin_by_key.get(key, [])
            explained_margins.update(int(r[0]) for r in rows)
            if len(rows) > 1:
                wrong("duplicated", f"margin change {op.number}: {len(rows)} rows")
            if op.outcome == "acked" and not rows:
                wrong("acked_missing", f"margin change {op.number} {op.amount}")
            elif op.outcome == "rejected" and rows:
                wrong("rejected_applied", f"margin change {op.number} ({op.code})")
    for row in transfers:
        if int(row[0]) not in explained_transfers:
            wrong("phantom", f"transfer row {row}")
    for row in margins:
        if int(row[0]) not in explained_margins:
            wrong("phantom", f"margin change row {row}")
    transfer_income = {int(r[0]) for r in income if r[3] == "TRANSFER" and int(r[0]) > income_mark}
    for tran_id in transfer_income - explained_transfers:
        wrong("phantom", f"TRANSFER income {tran_id} without its transfer")

    # wallets against the ledger
    for key in keys:
        account_id = key.account_id
        now = wallets(states[account_id])
        ledger_futures = sum(
            (Decimal(r[4]) for r in income if int(r[1]) == account_id and r[2] == "USDT"),
            Decimal(0),
        )
        moved = sum(
            (
                Decimal(r[3]) * (1 if r[4] == "FUTURE_SPOT" else -1)
                for r in transfers
                if int(r[1]) == account_id
            ),
            Decimal(0),
        )
        margin_moved = sum(
            (
                Decimal(r[2]) * (1 if int(r[3]) == 1 else -1)
                for r in margins
                if int(r[1]) == account_id
            ),
            Decimal(0),
        )
        was = before[account_id]
        if now["futures"] != ledger_futures:
            wrong(
                "ledger_mismatch",
                f"account {account_id} futures {now['futures']} != {ledger_futures}",
            )
        if now["spot"] != was["spot"] + moved:
            wrong(
                "ledger_mismatch",
                f"account {account_id} spot {now['spot']} != {was['spot'] + moved}",
            )
        funding = sum(
            (
                Decimal(r[4])
                for r in income
                if int(r[1]) == account_id
                and r[3] == "FUNDING_FEE"
                and r[5] == SYMBOL
                and int(r[0]) > income_mark
            ),
            Decimal(0),
        )
        margin_moved += funding  # an isolated position pays its funding from its own margin
        if now["isolated"] != was["isolated"] + margin_moved:
            wrong(
                "ledger_mismatch",
                f"account {account_id} isolated {now['isolated']}"
                f" != {was['isolated'] + margin_moved}",
            )
        # what the venue itself booked meanwhile (funding, should a funding time pass)
        booked = sum(
            (
                Decimal(r[4])
                for r in income
                if int(r[1]) == account_id
                and r[2] == "USDT"
                and r[3] != "TRANSFER"
                and int(r[0]) > income_mark
            ),
            Decimal(0),
        )
        if now["futures"] + now["spot"] != was["futures"] + was["spot"] + booked:
            wrong("ledger_mismatch", f"account {account_id}: money made or lost")
        for name, value in now.items():
            if value < 0:
                wrong("overdraft", f"account {account_id} {name} {value}")
    if examples:
        part.figures.setdefault("examples", []).extend(examples)
    return dict(bad)


def _income_matches(rows: list[tuple[Any, ...]], op: Operation) -> bool:
    sign = -1 if op.direction == "FUTURE_SPOT" else 1
    return len(rows) == 1 and rows[0][3] == "TRANSFER" and Decimal(rows[0][4]) == sign * op.amount


def run_backend(
    part: Part, name: str, db: str, workdir: Path, sizes: Any, seed: int
) -> dict[str, Any]:
    # The store is read only while no server runs: another process's connection must not
    # take part in the run (see `reader_then_kill`).
    server = Server(db=db, workdir=workdir, log_level="warning")
    server.start()
    try:
        with Http(server.base_url, token=server.token) as http:
            keys, before = setup(http)
        server.stop()
        with StoreReader(db) as reader:
            marks = tuple(
                int(reader.rows(sql)[0][0])
                for sql in (
                    "SELECT coalesce(max(tran_id), 0) FROM transfers",
                    "SELECT coalesce(max(id), 0) FROM margin_changes",
                    "SELECT coalesce(max(tran_id), 0) FROM income",
                )
            )
        server.start()
        ops = plan(sizes.crash_operations, random.Random(seed), f"{name}{seed}")
        run = Run(server, keys, ops, sizes.crash_kills, seed, sizes.crash_clients)
        say(
            f"crash/{name}: {sizes.crash_clients} clients, {len(ops)} operations,"
            f" SIGKILL after {run.kill_points} answers"
        )
        elapsed = run.go(sizes.crash_clients)
        with Http(server.base_url, token=server.token) as http:
            states = {k.account_id: http.state(k.account_id) for k in keys}
        server.stop()
        with StoreReader(db) as reader:
            bad = verify(part, states, reader, keys, ops, before, marks)  # type: ignore[arg-type]
    finally:
        server.stop()
    outcomes = Counter(op.outcome for op in ops)
    lost_or_duplicated = sum(
        bad.get(k, 0) for k in ("acked_missing", "duplicated", "phantom", "rejected_applied")
    )
    figures = {
        "operations": len(ops),
        "clients": sizes.crash_clients,
        "kills": run.kills_done,
        "kill_points": run.kill_points,
        "restart_seconds": run.restart_seconds,
        "seconds": round(elapsed, 1),
        "acknowledged": outcomes["acked"],
        "rejected": outcomes["rejected"],
        "unknown": outcomes["unknown"],
        "rejection_codes": dict(Counter(op.code for op in ops if op.outcome == "rejected")),
        "transport_errors": dict(run.transport_errors),
        "server_errors": sum(n for s, n in run.statuses.items() if s >= 500),
        "lost_or_duplicated": lost_or_duplicated,
        "half_applied": bad.get("half_applied", 0),
        "ledger_mismatches": bad.get("ledger_mismatch", 0),
        "overdrafts": bad.get("overdraft", 0),
    }
    checks = [
        (run.kills_done == sizes.crash_kills, f"{run.kills_done} kills during the run"),
        (outcomes["pending"] == 0, f"{outcomes['pending']} operations never ran"),
        (figures["server_errors"] == 0, f"{figures['server_errors']} 5xx answers"),
        (lost_or_duplicated == 0, f"{lost_or_duplicated} operations lost or duplicated"),
        (figures["half_applied"] == 0, f"{figures['half_applied']} half-applied operations"),
        (
            figures["ledger_mismatches"] == 0,
            f"{figures['ledger_mismatches']} wallets off the ledger",
        ),
        (figures["overdrafts"] == 0, f"{figures['overdrafts']} negative wallets"),
    ]
    for ok, failure in checks:
        part.check(ok, f"{name}: {failure}")
    return figures


def reader_then_kill(part: Part, workdir: Path) -> int:
    """Acknowledged transfers that a SIGKILL loses after another process has read the SQLite
    file (a backup, the sqlite3 shell, a monitoring query): 0 when the store is durable."""
    db = sqlite_url(workdir)
    server = Server(db=db, workdir=workdir, log_level="warning")
    server.start()
    try:
        with Http(server.base_url, token=server.token) as http:
            key = http.create_account(futures={"USDT": "1000"})
            acked = 0
            for n in range(20):
                if n == 10:  # another process reads the file, then closes it
                    with StoreReader(db) as reader:
                        reader.rows("SELECT count(*) FROM transfers")
                params = {"asset": "USDT", "amount": "1", "kindType": "FUTURE_SPOT"}
                params["clientTranId"] = f"reader-{n}"
                r = http.signed(key, "POST", "/fapi/v1/asset/wallet/transfer", params)
                acked += r.status_code == 200
        server.kill()
        server.start()
        server.stop()
        with StoreReader(db) as reader:
            kept = int(reader.rows("SELECT count(*) FROM transfers")[0][0])
    finally:
        server.stop()
    lost = acked - kept
    part.check(
        lost == 0,
        f"sqlite: {lost} of {acked} acknowledged transfers lost to SIGKILL after another"
        " process had read the database file",
    )
    return lost


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    part = Part("crash")
    per_backend: dict[str, Any] = {}
    lost_after_reader = reader_then_kill(part, workdir / "reader")
    per_backend["sqlite"] = run_backend(
        part, "sqlite", sqlite_url(workdir / "sqlite"), workdir / "sqlite", sizes, seed
    )
    if with_postgres:
        with pg_schema("crash") as db:
            per_backend["postgres"] = run_backend(
                part, "postgres", db, workdir / "postgres", sizes, seed + 1
            )
    f = part.figures
    for key in (
        "server_errors",
        "lost_or_duplicated",
        "half_applied",
        "ledger_mismatches",
        "overdrafts",
    ):
        f[key] = sum(b[key] for b in per_backend.values())
    f["operations"] = sum(b["operations"] for b in per_backend.values())
    f["sqlite_lost_after_outside_reader"] = lost_after_reader
    f.update(per_backend)
    return part
