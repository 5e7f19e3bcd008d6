"""Rate-limit abuse: 429, then 418 bans that grow; a client on another IP is untouched.

A server with a small weight limit (`--weight-limit 600`). The abuser, on 127.0.0.1, sends
`/fapi/v1/ping` as fast as it can until it is banned (418), keeps sending as fast for a few seconds
while banned, then the operator clock is moved past the ban and it offends again -- several times.
Expected of every offence: 429s (with Retry-After) before the first 418, only 418s while banned, and
a ban (Retry-After of the first 418) longer than the one before: the docs' "2 minutes to 3 days",
doubling. Every 429/418 body is `{"code": -1003, "msg"}`.

Meanwhile a well-behaved client on 127.0.0.2 sends a signed weight-1 request or a ping four times a
second (240 weight a minute, well under the limit), its timestamps following the operator clock.
It must never get anything but 200; its latency (p50, p99) is reported.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from reliability.harness import Http, Key, Part, Server, now_ms, percentile, say, sqlite_url

WEIGHT_LIMIT = 600
GOOD_IP = "127.0.0.2"


class GoodClient:
    def __init__(self, server: Server, key: Key, clock_lock: threading.Lock, offset: list[int]):
        self.http = Http(server.base_url, local_address=GOOD_IP)
        self.key = key
        self.clock_lock = clock_lock
        self.offset = offset
        self.latencies_ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.bad: list[str] = []
        self.max_weight = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            with self.clock_lock:
                started = time.perf_counter()
                if n % 2:
                    r = self.http.http.get("/fapi/v1/ping")
                else:
                    r = self.http.signed(
                        self.key,
                        "GET",
                        "/fapi/v1/leverageBracket",
                        {"symbol": "BTCUSDT"},
                        timestamp=now_ms() + self.offset[0],
                    )
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.statuses[r.status_code] += 1
            used = r.headers.get("X-MBX-USED-WEIGHT-1M")
            if used is not None:
                self.max_weight = max(self.max_weight, int(used))
            if r.status_code != 200 and len(self.bad) < 5:
                self.bad.append(f"{r.status_code} {r.text[:120]}")
            n += 1
            self._stop.wait(0.25)

    def __enter__(self) -> GoodClient:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.http.close()


def offend(http: Http, part: Part, number: int, hammer_s: float) -> dict[str, Any]:
    """Send pings until banned, then keep sending for `hammer_s`; what came back."""
    statuses: list[int] = []
    retry_after_429: list[int] = []
    ban_s = None
    bodies_ok = True
    deadline = time.monotonic() + 60
    while ban_s is None and time.monotonic() < deadline:
        r = http.http.get("/fapi/v1/ping")
        statuses.append(r.status_code)
        if r.status_code in (418, 429):
            body = r.json()
            bodies_ok = bodies_ok and set(body) == {"code", "msg"} and body["code"] == -1003
        if r.status_code == 429:
            retry_after_429.append(int(r.headers.get("Retry-After", "0")))
        elif r.status_code == 418:
            ban_s = int(r.headers.get("Retry-After", "0"))
    while_banned: Counter[int] = Counter()
    until = time.monotonic() + hammer_s
    while time.monotonic() < until or not while_banned:
        while_banned[http.http.get("/fapi/v1/ping").status_code] += 1
    first_418 = statuses.index(418) if 418 in statuses else len(statuses)
    got_429_first = 429 in statuses[:first_418]
    label = f"offence {number}"
    part.check(ban_s is not None, f"{label}: never banned")
    part.check(got_429_first, f"{label}: no 429 before the 418")
    part.check(all(s > 0 for s in retry_after_429), f"{label}: a 429 without Retry-After")
    part.check(set(while_banned) == {418}, f"{label}: answers while banned {dict(while_banned)}")
    part.check(bodies_ok, f"{label}: a 429/418 body is not {{-1003, msg}}")
    return {
        "ok_before_429": statuses.count(200),
        "429s": statuses.count(429),
        "ban_seconds": ban_s,
        "while_banned": dict(while_banned),
    }


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    part = Part("ratelimit")
    server = Server(
        db=sqlite_url(workdir), workdir=workdir, weight_limit=WEIGHT_LIMIT, log_level="warning"
    )
    server.start()
    offences = []
    clock_lock = threading.Lock()
    offset = [0]
    try:
        with Http(server.base_url, token=server.token) as abuser:
            key = abuser.create_account(futures={"USDT": "100"})
            say(f"ratelimit: limit {WEIGHT_LIMIT}/min, {sizes.rate_limit_bans} offences")
            with GoodClient(server, key, clock_lock, offset) as good:
                time.sleep(1.0)
                for number in range(1, sizes.rate_limit_bans + 1):
                    offence = offend(abuser, part, number, sizes.rate_limit_hammer_s)
                    offences.append(offence)
                    with clock_lock:  # past the ban: the operator clock moves on
                        offset[0] += ((offence["ban_seconds"] or 0) + 61) * 1000
                        abuser.operator_ok("POST", "/operator/v1/clock", {"offsetMs": offset[0]})
                    r = abuser.http.get("/fapi/v1/ping")
                    offence["after_ban"] = r.status_code
                    part.check(r.status_code == 200, f"offence {number}: still banned after it")
                    time.sleep(0.5)
                time.sleep(1.0)
    finally:
        server.stop()
    bans = [o["ban_seconds"] or 0 for o in offences]
    growing = all(b > a for a, b in itertools.pairwise(bans))
    part.check(growing, f"bans do not grow: {bans}")
    part.check(
        set(good.statuses) == {200},
        f"the well-behaved client got {dict(good.statuses)}: {good.bad}",
    )
    part.figures.update(
        weight_limit=WEIGHT_LIMIT,
        offences=offences,
        ban_seconds=bans,
        bans_grow=growing,
        good_client={
            "ip": GOOD_IP,
            "requests": sum(good.statuses.values()),
            "statuses": dict(good.statuses),
            "max_used_weight": good.max_weight,
            "p50_ms": round(percentile(good.latencies_ms, 50), 2),
            "p99_ms": round(percentile(good.latencies_ms, 99), 2),
        },
        server_errors=sum(n for s, n in good.statuses.items() if s >= 500),
    )
    return part
