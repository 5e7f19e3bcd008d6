"""What our SDK costs per call, against other clients and against the floor, on one local server.

    python bench/client_overhead.py [--rounds 15] [--calls 300] [--async-calls 1500]

Starts ``aster-account serve`` on a free loopback port (SQLite in a temp dir, a weight limit no
client reaches) and one funded account, then times sequential signed ``GET /fapi/v2/balance``:

    ours                   aster_account.Client, typed result (list[BalanceRow])
    ccxt 4.5.51            binanceusdm pointed at the server, enableRateLimit off,
                           implicit method fapiPrivateV2GetBalance
    python-binance         futures endpoint v2 "balance", signed
    binance-futures-conn.  UMFutures.sign_request("GET", "/fapi/v2/balance")
    floor                  http.client keep-alive loop, HMAC signed by hand, body not parsed
    urllib3                the same loop through a urllib3 HTTPConnectionPool (Client's
                           transport when a proxy is set), body read, not parsed

and then 32 calls in flight: ``AsyncClient`` against raw aiohttp (signed by hand, body read).
Without a proxy both clients send over their own keep-alive sockets with answers parsed by
httptools (``aster_account.client._httptools``).

Peers are installed into throwaway venvs under the temp dir (``python -m venv`` + pip); a peer
whose install fails is skipped with the reason printed. Every contender runs in its own process,
started once and warmed up; then each of ``--rounds`` rounds runs every contender in turn (so
load from elsewhere on the machine falls on all of them alike), and the report gives the median
round of each. The last line is one JSON object:

    sync_vs_ccxt       our calls/s over ccxt's                  (target >= 2.5)
    sync_vs_floor      our time per call over the floor's       (target <= 1.3)
    async_vs_aiohttp   our calls/s over aiohttp's, 32 in flight (target >= 0.8)
    sync_vs_urllib3    our time per call over raw urllib3's
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from aster_account.testing import LocalServer

PEERS = {
    "ccxt": "ccxt==4.5.51",
    "python-binance": "python-binance",
    "binance-futures-connector": "binance-futures-connector",
    "aiohttp": "aiohttp",
}

# -- the contenders: each a script run as `python script.py BASE KEY SECRET CALLS ROUNDS` ------
# Each prints one JSON line {"rates": [calls per second, one per round], "version": ...}.

COMMON = """
import json, sys, time
BASE, KEY, SECRET = sys.argv[1:4]
CALLS = int(sys.argv[4])
WARMUP = 100

def run(call, version):
    for _ in range(WARMUP):
        call()
    print(json.dumps({"version": version}), flush=True)
    for line in sys.stdin:  # one round per "run"
        if line.strip() != "run":
            break
        started = time.perf_counter()
        for _ in range(CALLS):
            call()
        print(CALLS / (time.perf_counter() - started), flush=True)
"""

OURS = """
import aster_account
from aster_account import Client
client = Client(KEY, SECRET, BASE)
client.get_exchange_info()  # learns the server's weight limit, as a real program would
assert client.get_balance()[0].asset == "USDT"
run(client.get_balance, aster_account.__version__)
"""

FLOOR = """
import hashlib, hmac, http.client, platform
from urllib.parse import urlsplit
url = urlsplit(BASE)
conn = http.client.HTTPConnection(url.hostname, url.port)
secret = SECRET.encode()
headers = {"X-MBX-APIKEY": KEY}

def call():
    query = f"recvWindow=5000&timestamp={int(time.time() * 1000)}"
    signature = hmac.new(secret, query.encode(), hashlib.sha256).hexdigest()
    conn.request("GET", f"/fapi/v2/balance?{query}&signature={signature}", headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 200

run(call, "http.client " + platform.python_version())
"""

URLLIB3 = """
import hashlib, hmac
from urllib.parse import urlsplit
import urllib3
url = urlsplit(BASE)
pool = urllib3.HTTPConnectionPool(url.hostname, url.port, maxsize=1)
secret = SECRET.encode()
headers = {"X-MBX-APIKEY": KEY}

def call():
    query = f"recvWindow=5000&timestamp={int(time.time() * 1000)}"
    signature = hmac.new(secret, query.encode(), hashlib.sha256).hexdigest()
    target = f"/fapi/v2/balance?{query}&signature={signature}"
    response = pool.urlopen("GET", target, headers=headers, retries=False, preload_content=True)
    assert response.status == 200

run(call, "urllib3 " + urllib3.__version__)
"""

CCXT = """
import ccxt
exchange = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET, "enableRateLimit": False})
for name, url in list(exchange.urls["api"].items()):
    if isinstance(url, str) and "://fapi.binance.com" in url:
        exchange.urls["api"][name] = url.replace("https://fapi.binance.com", BASE)
assert exchange.fapiPrivateV2GetBalance()[0]["asset"] == "USDT"
run(exchange.fapiPrivateV2GetBalance, ccxt.__version__)
"""

PYTHON_BINANCE = """
from importlib.metadata import version
from binance.client import Client
client = Client(KEY, SECRET, ping=False)
client.FUTURES_URL = BASE + "/fapi"

def call():
    return client._request_futures_api("get", "balance", True, 2, data={})

assert call()[0]["asset"] == "USDT"
run(call, version("python-binance"))
"""

CONNECTOR = """
from importlib.metadata import version
from binance.um_futures import UMFutures
client = UMFutures(key=KEY, secret=SECRET, base_url=BASE)

def call():
    return client.sign_request("GET", "/fapi/v2/balance")

assert call()[0]["asset"] == "USDT"
run(call, version("binance-futures-connector"))
"""

ASYNC_COMMON = """
import asyncio, json, sys, time
BASE, KEY, SECRET = sys.argv[1:4]
CALLS = int(sys.argv[4])
IN_FLIGHT = 32

async def measure(call, version):
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one():
        async with slots:
            await call()

    await asyncio.gather(*(one() for _ in range(300)))
    print(json.dumps({"version": version}), flush=True)
    while (await asyncio.to_thread(sys.stdin.readline)).strip() == "run":
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CALLS)))
        print(CALLS / (time.perf_counter() - started), flush=True)
"""

OURS_ASYNC = """
import aster_account
from aster_account import AsyncClient

async def main():
    async with AsyncClient(KEY, SECRET, BASE) as client:
        await client.get_exchange_info()
        await measure(client.get_balance, aster_account.__version__)

asyncio.run(main())
"""

AIOHTTP = """
import hashlib, hmac
import aiohttp
secret = SECRET.encode()

async def main():
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def call():
            query = f"recvWindow=5000&timestamp={int(time.time() * 1000)}"
            signature = hmac.new(secret, query.encode(), hashlib.sha256).hexdigest()
            url = f"{BASE}/fapi/v2/balance?{query}&signature={signature}"
            async with session.get(url, headers={"X-MBX-APIKEY": KEY}) as response:
                await response.read()
                assert response.status == 200

        await measure(call, aiohttp.__version__)

asyncio.run(main())
"""


@dataclass
class Contender:
    name: str
    script: str
    python: str
    mode: str  # "sync" or "async"
    rates: list[float] = field(default_factory=list)
    version: str = ""

    def median(self) -> float:
        return statistics.median(self.rates)


# -- peers in throwaway venvs -----------------------------------------------------------------


def install(workdir: Path, name: str, requirement: str) -> str | None:
    """The python of a fresh venv with ``requirement`` installed, or None (reason printed)."""
    home = workdir / "venvs" / name
    python = home / "bin" / "python"
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(home)], check=True, capture_output=True, timeout=300
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                requirement,
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        print(f"skip {name}: install of {requirement} failed: {last[0]}", flush=True)
        return None
    return str(python)


def importable(module: str) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}"], check=False, capture_output=True
    )
    return probe.returncode == 0


# -- running ----------------------------------------------------------------------------------


def start(contender: Contender, workdir: Path, args: list[str]) -> subprocess.Popen[str] | None:
    """Start a contender's process; it warms up and waits for "run" lines."""
    common = COMMON if contender.mode == "sync" else ASYNC_COMMON
    # not named after a module: a script called ccxt.py would shadow ccxt itself
    path = workdir / f"contender_{len(list(workdir.glob('contender_*')))}.py"
    path.write_text(textwrap.dedent(common) + textwrap.dedent(contender.script))
    errors = (workdir / f"{path.stem}.err").open("w")
    proc = subprocess.Popen(
        [contender.python, str(path), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first:
        proc.wait()
        tail = Path(errors.name).read_text().strip().splitlines()[-1:] or ["(no output)"]
        print(f"  {contender.name}: failed: {tail[0]}", flush=True)
        return None
    contender.version = json.loads(first)["version"]
    return proc


def label(name: str) -> str:
    short = {"ours (Client)": "ours", "floor (http.client)": "floor", "urllib3 (pool)": "urllib3"}
    return short.get(name, "ours-async" if name == "ours (AsyncClient)" else name)


def one_round(contender: Contender, proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("run\n")
    proc.stdin.flush()
    contender.rates.append(float(proc.stdout.readline()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--no-peers", action="store_true", help="only ours and the floor (no installs)"
    )
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per round")
    parser.add_argument("--async-calls", type=int, default=1500, help="async calls per round")
    options = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs", flush=True)

    with tempfile.TemporaryDirectory(prefix="aster-bench-") as tmp:
        workdir = Path(tmp)
        pythons: dict[str, str | None] = {}
        for name, requirement in PEERS.items():
            if options.no_peers:
                break
            if name == "aiohttp" and importable("aiohttp"):
                pythons[name] = sys.executable  # measure in-process venv: already there
                continue
            print(f"installing {requirement} into a throwaway venv...", flush=True)
            pythons[name] = install(workdir, name, requirement)

        sync = [
            Contender("ours (Client)", OURS, sys.executable, "sync"),
            Contender("floor (http.client)", FLOOR, sys.executable, "sync"),
            Contender("urllib3 (pool)", URLLIB3, sys.executable, "sync"),
        ]
        for name, script in (
            ("ccxt", CCXT),
            ("python-binance", PYTHON_BINANCE),
            ("binance-futures-connector", CONNECTOR),
        ):
            python = pythons.get(name)
            if python:
                sync.append(Contender(name, script, python, "sync"))
        concurrent = [Contender("ours (AsyncClient)", OURS_ASYNC, sys.executable, "async")]
        if pythons.get("aiohttp"):
            concurrent.append(Contender("aiohttp", AIOHTTP, str(pythons["aiohttp"]), "async"))

        with LocalServer(args=["--weight-limit", str(10**12)]) as server:
            base = server.base_url
            made = server.create_account(futures={"USDT": "100000"})
            key, secret = made["apiKey"], made["apiSecret"]
            # every contender stays up, warm; each round runs each of them once, in turn, so
            # that load from elsewhere on the machine falls on all of them alike
            running: list[tuple[Contender, subprocess.Popen[str]]] = []
            for contender in sync + concurrent:
                calls = options.calls if contender.mode == "sync" else options.async_calls
                proc = start(contender, workdir, [base, key, secret, str(calls)])
                if proc is not None:
                    running.append((contender, proc))
            for number in range(options.rounds):
                for contender, proc in running:
                    one_round(contender, proc)
                line = "  ".join(f"{label(c.name)} {c.rates[-1]:.0f}" for c, _ in running)
                print(f"round {number + 1:>2}/{options.rounds}: {line}", flush=True)
            for _, proc in running:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=30)

    print("\nmedian over all rounds:")
    for contender in sync + concurrent:
        if contender.rates:
            per_call = 1e6 / contender.median()
            print(
                f"  {contender.name:<26} {contender.version:<14} {contender.median():8.0f} calls/s"
                f"  {per_call:7.0f} us/call"
            )
    measured = {c.name: c for c in sync + concurrent if c.rates}
    ours = measured["ours (Client)"].median()
    summary: dict[str, float | None] = {
        "sync_vs_ccxt": None,
        "sync_vs_floor": None,
        "async_vs_aiohttp": None,
    }
    if "ccxt" in measured:
        summary["sync_vs_ccxt"] = round(ours / measured["ccxt"].median(), 2)
    if "floor (http.client)" in measured:
        # time per call is 1 / rate: ours over the floor's
        summary["sync_vs_floor"] = round(measured["floor (http.client)"].median() / ours, 2)
    if "urllib3 (pool)" in measured:
        summary["sync_vs_urllib3"] = round(measured["urllib3 (pool)"].median() / ours, 2)
    for name, key_name in (
        ("python-binance", "sync_vs_python_binance"),
        ("binance-futures-connector", "sync_vs_binance_futures_connector"),
    ):
        if name in measured:
            summary[key_name] = round(ours / measured[name].median(), 2)
    if "aiohttp" in measured and "ours (AsyncClient)" in measured:
        summary["async_vs_aiohttp"] = round(
            measured["ours (AsyncClient)"].median() / measured["aiohttp"].median(), 2
        )
    summary["sync_calls_per_s"] = round(ours)
    if "ours (AsyncClient)" in measured:
        summary["async_calls_per_s"] = round(measured["ours (AsyncClient)"].median())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
