"""User data stream: event latency with 1,000 connected streams, and what the streams cost REST.

    python bench/stream_latency.py [--streams 1000] [--seconds 5] [--clients 4] [--samples 1000]
                                   [--rounds 3]

One server process (`aster-account serve`, uvicorn + uvloop, SQLite on a fresh file, logging at
warning) on loopback. `--streams` accounts are made through the operator API, each with its own
listenKey and one websocket on it (so 1,000 streams are 1,000 accounts, one stream each).

The streams live in a consumer process (this script with `--consumer`), which reads every frame
and notes when each arrives (`time.perf_counter_ns`, CLOCK_MONOTONIC, the same clock in every
process of the machine). The driver (this process) measures:

- latency: `--samples` signed `POST /fapi/v1/leverage`, one at a time, each to a different
  stream's account with a leverage no other request uses; for each, the time from the REST
  response to the event's arrival on its stream. An event that arrives before the response (the
  server publishes after commit, before it writes the reply) counts as 0. p50 / p99 also from the
  request's start, for reference.
- REST throughput: `--clients` concurrent keep-alive connections (a small raw HTTP/1.1 client,
  requests signed as they go) changing leverage (10 <-> 11) on all accounts round-robin for
  `--seconds`; `--rounds` times without the streams connected and as many times with them
  (interleaved, so drift on the machine hits both). rest_ratio = median(with) / median(without).
  While the streams are connected every change is one event on one of them; the consumer counts
  them, and `targets_met` also requires that none was missed. The server's CPU time per request
  (from /proc) is reported for both, a figure that other load on the machine disturbs less.

Targets: p99 <= 20 ms, rest_ratio >= 0.8. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aster_account.protocol.signing import signed_query
from aster_account.testing import LocalServer

OPERATOR_TOKEN = "bench-operator"
LATENCY_LEVERAGE = 50  # latency samples use 50, 51, ...; the throughput phase 10 and 11
SYMBOL = "BTCUSDT"


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < need:
            print(f"warning: open files limited to {target} (hard limit)", file=sys.stderr)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# -- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------------


class Http:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Http:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def call(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class Account:
    def __init__(self, index: int, api_key: str, secret: str) -> None:
        self.index = index
        self.api_key = api_key
        self.secret = secret
        self.leverage = 20
        self.listen_key = ""

    def leverage_request(self, leverage: int) -> tuple[str, dict[str, str]]:
        query = signed_query(
            [
                ("symbol", SYMBOL),
                ("leverage", leverage),
                ("recvWindow", 60000),
                ("timestamp", time.time_ns() // 1_000_000),
            ],
            self.secret,
        )
        return f"/fapi/v1/leverage?{query}", {"X-MBX-APIKEY": self.api_key}


# -- setup -----------------------------------------------------------------------------------------


async def make_accounts(port: int, count: int) -> list[Account]:
    accounts: list[Account] = [None] * count  # type: ignore[list-item]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        http = await Http.open(port)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                body = json.dumps({"futures": {"USDT": "10000"}}).encode()
                status, data = await http.call(
                    "POST",
                    "/operator/v1/accounts",
                    {"X-Operator-Token": OPERATOR_TOKEN, "Content-Type": "application/json"},
                    body,
                )
                assert status == 200, data
                made = json.loads(data)
                acct = Account(i, made["apiKey"], made["apiSecret"])
                status, data = await http.call(
                    "POST", "/fapi/v1/listenKey", {"X-MBX-APIKEY": acct.api_key}
                )
                assert status == 200, data
                acct.listen_key = json.loads(data)["listenKey"]
                accounts[i] = acct
        finally:
            await http.close()

    await asyncio.gather(*(worker() for _ in range(16)))
    return accounts


# -- the consumer process --------------------------------------------------------------------------


async def consume(port: int, keys: list[str]) -> None:
    import orjson
    import websockets

    arrivals: list[tuple[int, int, int]] = []
    counts = [0]
    closed = [0]
    stop = asyncio.Event()

    async def one(index: int, ws: Any) -> None:
        try:
            async for text in ws:
                now = time.perf_counter_ns()
                counts[0] += 1
                event = orjson.loads(text)
                leverage = event.get("ac", {}).get("l", 0)
                if leverage >= LATENCY_LEVERAGE:
                    arrivals.append((index, leverage, now))
        except websockets.ConnectionClosed:
            pass
        if not stop.is_set():
            closed[0] += 1

    sockets: list[Any] = []
    for start in range(0, len(keys), 100):
        batch = keys[start : start + 100]
        sockets += await asyncio.gather(
            *(
                websockets.connect(f"ws://127.0.0.1:{port}/ws/{k}", ping_interval=None)
                for k in batch
            )
        )
    readers = [asyncio.create_task(one(i, ws)) for i, ws in enumerate(sockets)]
    print(f"ready {len(sockets)}", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await asyncio.sleep(0.2)  # the last events in flight
    stop.set()
    result = {"arrivals": arrivals, "events": counts[0], "closed_by_server": closed[0]}
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    print(json.dumps(result), flush=True)


class Consumer:
    def __init__(self, port: int, keys_file: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--consumer", "--port", str(port), "--keys", str(keys_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.proc.kill()
            raise RuntimeError(f"consumer did not connect: {line!r}")
        self.connected = int(line.split()[1])

    def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.read()
        self.proc.wait(timeout=30)
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result


# -- measurements ----------------------------------------------------------------------------------


async def latency(port: int, accounts: list[Account], samples: int) -> list[dict[str, Any]]:
    http = await Http.open(port)
    out = []
    try:
        for i in range(samples):
            acct = accounts[i % len(accounts)]
            leverage = LATENCY_LEVERAGE + i // len(accounts)
            target, headers = acct.leverage_request(leverage)
            sent = time.perf_counter_ns()
            status, data = await http.call("POST", target, headers)
            answered = time.perf_counter_ns()
            assert status == 200, data
            out.append({"index": acct.index, "leverage": leverage, "sent": sent, "at": answered})
    finally:
        await http.close()
    return out


async def throughput(port: int, accounts: list[Account], seconds: float, clients: int) -> int:
    """Leverage changes answered 200 in `seconds` by `clients` concurrent connections."""
    done = [0]
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        http = await Http.open(port)
        try:
            i = offset
            while time.perf_counter() < deadline:
                acct = accounts[i % len(accounts)]
                i += clients
                acct.leverage = 11 if acct.leverage == 10 else 10
                target, headers = acct.leverage_request(acct.leverage)
                status, data = await http.call("POST", target, headers)
                if status != 200:
                    raise RuntimeError(f"{status} {data!r}")
                done[0] += 1
        finally:
            await http.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    return done[0]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(args.streams * 2 + 256)
    server = LocalServer(
        operator_token=OPERATOR_TOKEN, args=["--weight-limit", "100000000"], stop_timeout=15.0
    )
    try:
        server.start()
        port, workdir = server.port, server.workdir
        started = time.perf_counter()
        accounts = await make_accounts(port, args.streams)
        print(f"{len(accounts)} accounts with listen keys in {time.perf_counter() - started:.1f}s")
        keys_file = workdir / "keys.json"
        keys_file.write_text(json.dumps([a.listen_key for a in accounts]))

        without: list[float] = []
        with_streams: list[float] = []
        cpu_without: list[float] = []
        cpu_with: list[float] = []
        samples: list[dict[str, Any]] = []
        arrivals: dict[tuple[int, int], int] = {}
        expected_events = 0
        got_events = 0
        closed = 0
        for round_no in range(args.rounds):
            cpu = cpu_seconds(server.pid)
            n = await throughput(port, accounts, args.seconds, args.clients)
            cpu_without.append((cpu_seconds(server.pid) - cpu) / max(1, n) * 1e6)
            without.append(n / args.seconds)
            print(
                f"round {round_no + 1}: without streams {n / args.seconds:8.0f} req/s,"
                f" server CPU {cpu_without[-1]:5.0f} us/req"
            )

            consumer = Consumer(port, keys_file)
            if consumer.connected != len(accounts):
                raise RuntimeError(f"only {consumer.connected} streams connected")
            if round_no == 0:
                samples = await latency(port, accounts, args.samples)
                expected_events += len(samples)
            cpu = cpu_seconds(server.pid)
            n = await throughput(port, accounts, args.seconds, args.clients)
            cpu_with.append((cpu_seconds(server.pid) - cpu) / max(1, n) * 1e6)
            expected_events += n
            with_streams.append(n / args.seconds)
            print(
                f"round {round_no + 1}: with {consumer.connected} streams"
                f" {n / args.seconds:5.0f} req/s, server CPU {cpu_with[-1]:5.0f} us/req"
            )
            result = consumer.stop()
            got_events += result["events"]
            closed += result["closed_by_server"]
            for index, leverage, at in result["arrivals"]:
                arrivals[(index, leverage)] = at
    finally:
        server.close()

    from_response = []
    from_request = []
    missing = 0
    for s in samples:
        at = arrivals.get((s["index"], s["leverage"]))
        if at is None:
            missing += 1
            continue
        from_response.append(max(0, at - s["at"]) / 1e6)
        from_request.append((at - s["sent"]) / 1e6)
    before = sum(
        1 for s in samples if arrivals.get((s["index"], s["leverage"]), 1 << 62) <= s["at"]
    )
    ratio = statistics.median(with_streams) / statistics.median(without)
    report = {
        "streams": len(accounts),
        "accounts": len(accounts),
        "streams_per_account": 1,
        "samples": len(samples),
        "p50_ms": round(percentile(from_response, 50), 3),
        "p99_ms": round(percentile(from_response, 99), 3),
        "max_ms": round(max(from_response, default=float("nan")), 3),
        "p50_from_request_ms": round(percentile(from_request, 50), 3),
        "p99_from_request_ms": round(percentile(from_request, 99), 3),
        "events_before_response": round(before / max(1, len(samples)), 3),
        "latency_events_missing": missing,
        "rest_clients": args.clients,
        "rest_seconds": args.seconds,
        "rest_rounds": args.rounds,
        "rest_without_streams_rps": round(statistics.median(without)),
        "rest_with_streams_rps": round(statistics.median(with_streams)),
        "rest_ratio": round(ratio, 3),
        "server_cpu_us_per_req_without": round(statistics.median(cpu_without)),
        "server_cpu_us_per_req_with": round(statistics.median(cpu_with)),
        "events_expected": expected_events,
        "events_received": got_events,
        "closed_by_server": closed,
    }
    report["targets_met"] = bool(
        report["p99_ms"] <= 20
        and ratio >= 0.8
        and missing == 0
        and got_events == expected_events
        and closed == 0
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--consumer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    if args.consumer:
        keys = json.loads(Path(args.keys).read_text())
        raise_fd_limit(len(keys) + 256)
        runner(consume(args.port, keys))
        return
    report = runner(run(args))
    print(
        f"latency from response: p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms "
        f"(from request: p50 {report['p50_from_request_ms']}, p99 {report['p99_from_request_ms']})"
    )
    print(
        f"REST: {report['rest_without_streams_rps']} req/s without streams, "
        f"{report['rest_with_streams_rps']} with; ratio {report['rest_ratio']}"
    )
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
