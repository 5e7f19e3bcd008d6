"""Soak: mixed traffic at half the measured capacity for a long while; memory must stay flat.

One server (SQLite, `--log-level info`: one log line per request, as deployed), eight funded
accounts with an isolated and a cross position each. The traffic is what a desk of bots sends:
balance, account, positionRisk, premiumIndex, income, open orders, brackets; transfers both ways,
isolated margin added and taken, leverage set, listen keys made and kept alive; and a few requests
that must fail, each with its one code (margin type unchanged -4046, bad signature -1022,
transfer beyond the balance -2018).

First the capacity: 16 client threads send back to back for a few seconds; requests per second
completed is the capacity of this server with this client on this machine. Then 16 threads send
at half that rate, paced, for the soak time, while the server's RSS is sampled every 5 seconds.

Checked: no answer other than the intended one (no 5xx, no unexpected 4xx, no transport error);
RSS at the end within max(16 MiB, 10 %) of RSS at the start of the soak. Reported: capacity,
rate, requests, latency p50/p99, RSS start/end/max and its slope.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aster_account.protocol import signing
from reliability.harness import Http, Key, Part, Server, now_ms, percentile, say, sqlite_url

THREADS = 16
ACCOUNTS = 8

Send = Callable[[Http, Key, random.Random, str], httpx.Response]


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int
    send: Send
    code: int = 0  # the intended Aster code; 0: a 200 is intended


def _get(path: str, **params: object) -> Send:
    return lambda h, k, _r, _t: h.signed(k, "GET", path, params)


def _public(path: str, **params: object) -> Send:
    return lambda h, _k, _r, _t: h.raw("GET", path, query=signing.encode_params(params.items()))


def _transfer(h: Http, k: Key, r: random.Random, tag: str) -> httpx.Response:
    kind = r.choice(["FUTURE_SPOT", "SPOT_FUTURE"])
    params = {"asset": "USDT", "amount": "1", "kindType": kind, "clientTranId": tag}
    return h.signed(k, "POST", "/fapi/v1/asset/wallet/transfer", params)


def _too_much(h: Http, k: Key, _r: random.Random, tag: str) -> httpx.Response:
    params = {"asset": "USDT", "amount": "1000000000", "kindType": "FUTURE_SPOT"}
    params["clientTranId"] = tag
    return h.signed(k, "POST", "/fapi/v1/asset/wallet/transfer", params)


def _margin(h: Http, k: Key, r: random.Random, _t: str) -> httpx.Response:
    params = {"symbol": "BTCUSDT", "type": r.choice([1, 2]), "amount": "1"}
    return h.signed(k, "POST", "/fapi/v1/positionMargin", params)


def _leverage(h: Http, k: Key, r: random.Random, _t: str) -> httpx.Response:
    return h.signed(
        k, "POST", "/fapi/v1/leverage", {"symbol": "ETHUSDT", "leverage": r.randint(5, 20)}
    )


def _same_margin_type(h: Http, k: Key, _r: random.Random, _t: str) -> httpx.Response:
    return h.signed(
        k, "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}
    )


def _bad_signature(h: Http, k: Key, _r: random.Random, _t: str) -> httpx.Response:
    query = signing.encode_params([("timestamp", now_ms())])
    sig = signing.sign(k.secret + "x", query)
    return h.raw(
        "GET",
        "/fapi/v2/balance",
        query=f"{query}&signature={sig}",
        headers={"X-MBX-APIKEY": k.api_key},
    )


def _listen_key(method: str) -> Send:
    return lambda h, k, _r, _t: h.raw(
        method, "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": k.api_key}
    )


MIX = (
    Kind("balance", 15, _get("/fapi/v2/balance")),
    Kind("account", 10, _get("/fapi/v4/account")),
    Kind("positionRisk", 10, _get("/fapi/v2/positionRisk")),
    Kind("openOrders", 4, _get("/fapi/v1/openOrders", symbol="BTCUSDT")),
    Kind("income", 4, _get("/fapi/v1/income", limit=20)),
    Kind("leverageBracket", 3, _get("/fapi/v1/leverageBracket", symbol="BTCUSDT")),
    Kind("positionSide", 2, _get("/fapi/v1/positionSide/dual")),
    Kind("ping", 4, _public("/fapi/v1/ping")),
    Kind("time", 4, _public("/fapi/v1/time")),
    Kind("premiumIndex", 4, _public("/fapi/v1/premiumIndex", symbol="BTCUSDT")),
    Kind("transfer", 8, _transfer),
    Kind("positionMargin", 8, _margin),
    Kind("leverage", 3, _leverage),
    Kind("listenKey POST", 2, _listen_key("POST")),
    Kind("listenKey PUT", 1, _listen_key("PUT")),
    Kind("marginType unchanged", 3, _same_margin_type, code=-4046),
    Kind("bad signature", 2, _bad_signature, code=-1022),
    Kind("transfer too much", 1, _too_much, code=-2018),
)


class Traffic:
    def __init__(self, server: Server, keys: list[Key], seed: int) -> None:
        self.server = server
        self.keys = keys
        self.seed = seed
        self.lock = threading.Lock()
        self.count = 0
        self.by_kind: Counter[str] = Counter()
        self.intended_errors = 0
        self.unexpected: Counter[str] = Counter()
        self.examples: list[str] = []
        self.server_errors = 0
        self.latencies_ms: list[float] = []
        self.transfers = 0

    def one(self, http: Http, rnd: random.Random, thread: int) -> None:
        kind = rnd.choices(MIX, weights=[k.weight for k in MIX])[0]
        key = rnd.choice(self.keys)
        with self.lock:
            self.transfers += 1
            tag = f"soak-{self.seed}-{thread}-{self.transfers}"
        started = time.perf_counter()
        try:
            r = kind.send(http, key, rnd, tag)
        except httpx.TransportError as exc:
            with self.lock:
                self.count += 1
                self.unexpected[f"{kind.name}: {type(exc).__name__}"] += 1
            return
        elapsed = (time.perf_counter() - started) * 1000
        code = 0
        if r.status_code != 200:
            try:
                code = int(r.json()["code"])
            except (ValueError, KeyError, TypeError):
                code = -1
        with self.lock:
            self.count += 1
            self.by_kind[kind.name] += 1
            self.latencies_ms.append(elapsed)
            if r.status_code >= 500:
                self.server_errors += 1
            if code == kind.code and (code != 0) == (r.status_code != 200):
                self.intended_errors += code != 0
            else:
                self.unexpected[f"{kind.name}: HTTP {r.status_code} {code}"] += 1
                if len(self.examples) < 5:
                    self.examples.append(f"{kind.name}: {r.status_code} {r.text[:160]}")

    def run(self, seconds: float, rate: float | None) -> None:
        """THREADS threads for `seconds`: back to back when `rate` is None, else paced."""
        stop_at = time.monotonic() + seconds

        def worker(thread: int) -> None:
            rnd = random.Random(f"{self.seed}-{thread}-{rate}")
            interval = THREADS / rate if rate else 0.0
            next_at = time.monotonic() + rnd.uniform(0, interval)
            with Http(self.server.base_url) as http:
                while True:
                    now = time.monotonic()
                    if now >= stop_at:
                        return
                    if rate:
                        if next_at > now:
                            time.sleep(min(next_at - now, stop_at - now))
                            continue
                        next_at = max(next_at + interval, now - 1.0)  # late: no burst
                    self.one(http, rnd, thread)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def setup(http: Http) -> list[Key]:
    http.set_mark("BTCUSDT", "100000")
    http.set_mark("ETHUSDT", "3500")
    keys = []
    for _ in range(ACCOUNTS):
        key = http.create_account(futures={"USDT": "1000000"}, spot={"USDT": "1000000"})
        http.open_isolated(key, "BTCUSDT", "0.1", leverage=10, add="2000")
        order = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
        http.ok(key, "POST", "/fapi/v1/order", order)
        made = http.raw("POST", "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key.api_key})
        if made.status_code != 200:
            raise RuntimeError(f"listenKey: {made.text}")
        keys.append(key)
    return keys


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    part = Part("soak")
    server = Server(db=sqlite_url(workdir), workdir=workdir, log_level="info")
    server.start()
    samples: list[tuple[float, int]] = []
    try:
        with Http(server.base_url, token=server.token) as http:
            keys = setup(http)
        rss_before_load = server.rss_kb()
        capacity_traffic = Traffic(server, keys, seed)
        say(f"soak: capacity, {THREADS} threads back to back for {sizes.soak_capacity_s} s")
        cpu_before = server.cpu_seconds()
        capacity_traffic.run(sizes.soak_capacity_s, None)
        capacity = capacity_traffic.count / sizes.soak_capacity_s
        server_cpu = (server.cpu_seconds() - cpu_before) / sizes.soak_capacity_s
        rate = capacity / 2
        traffic = Traffic(server, keys, seed + 1)
        say(f"soak: capacity {capacity:.0f} req/s; {rate:.0f} req/s for {sizes.soak_s} s")
        started = time.monotonic()
        sampler_stop = threading.Event()

        def sample() -> None:
            while True:
                samples.append((time.monotonic() - started, server.rss_kb()))
                if sampler_stop.wait(5.0):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        traffic.run(sizes.soak_s, rate)
        sampler_stop.set()
        sampler.join()
        samples.append((time.monotonic() - started, server.rss_kb()))
        elapsed = time.monotonic() - started
        alive = server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()
    mib = [kb / 1024 for _, kb in samples]
    start_mib, end_mib = mib[0], mib[-1]
    slope = _slope([t / 60 for t, _ in samples], mib)
    allowed = max(16.0, start_mib * 0.10)
    f = part.figures
    f.update(
        capacity_rps=round(capacity, 1),
        server_cpu_at_capacity=f"{server_cpu:.0%}",
        rate_rps=round(rate, 1),
        seconds=round(elapsed, 1),
        requests=traffic.count,
        achieved_rps=round(traffic.count / elapsed, 1),
        intended_errors=traffic.intended_errors,
        unexpected_answers=sum(traffic.unexpected.values()),
        server_errors=traffic.server_errors + capacity_traffic.server_errors,
        p50_ms=round(percentile(traffic.latencies_ms, 50), 2),
        p99_ms=round(percentile(traffic.latencies_ms, 99), 2),
        rss_before_load_mib=round(rss_before_load / 1024, 1),
        rss_start_mib=round(start_mib, 1),
        rss_end_mib=round(end_mib, 1),
        rss_max_mib=round(max(mib), 1),
        rss_slope_mib_per_min=round(slope, 3),
        rss_samples=len(samples),
        by_kind=dict(traffic.by_kind),
    )
    if traffic.unexpected or capacity_traffic.unexpected:
        f["unexpected"] = dict(traffic.unexpected + capacity_traffic.unexpected)
        f["examples"] = traffic.examples + capacity_traffic.examples
    part.check(alive, "the server died during the soak")
    part.check(not traffic.unexpected, f"unexpected answers: {dict(traffic.unexpected)}")
    part.check(
        not capacity_traffic.unexpected,
        f"unexpected answers while measuring capacity: {dict(capacity_traffic.unexpected)}",
    )
    part.check(
        end_mib - start_mib <= allowed,
        f"RSS grew {end_mib - start_mib:.1f} MiB (from {start_mib:.1f}), more than {allowed:.1f}",
    )
    part.check(traffic.count >= 0.8 * rate * sizes.soak_s, "the soak did not reach its rate")
    return part


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
