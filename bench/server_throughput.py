"""Server throughput on loopback: the ASGI ceiling vs the account endpoints.

    python bench/server_throughput.py [--seconds 5] [--connections 32] [--rounds 3] [--quick]

Same machine, same run, same server settings (uvicorn + httptools + uvloop, one process, logging
at warning): a static JSON response from the same ASGI stack (Starlette route, the ceiling), then
our server on a fresh SQLite file: signed GET /fapi/v2/balance, signed GET /fapi/v2/positionRisk
with 50 open positions (a 50-symbol market file made for the run), and POST
/fapi/v1/asset/wallet/transfer (durable: committed with synchronous=FULL before it answers).

The load comes from a raw asyncio HTTP/1.1 keep-alive client in this process (requests signed
ahead of time with recvWindow 60000, so the client spends no time on HMAC while measuring; the
server still verifies every one). Each figure is the median of the rounds; latency p50 / p99 are
over all requests of the median round. Targets: balance >= 40% of the ceiling's requests/s,
positionRisk(50) >= 20%, transfers >= 1,500/s. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aster_account.protocol.signing import signed_query
from aster_account.testing import LocalServer, free_port

CEILING_APP = textwrap.dedent(
    """
    import sys
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    BODY = b'{"serverTime":1700000000000}'

    async def static(request):
        return Response(BODY, media_type="application/json")

    app = Starlette(routes=[Route("/static", static)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, http="httptools", loop="uvloop")
    """
)


def wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


def signed(base: str, method: str, path: str, key: str, secret: str, **params: object) -> object:
    params.setdefault("timestamp", int(time.time() * 1000))
    query = signed_query(list(params.items()), secret)
    req = urllib.request.Request(
        f"{base}{path}?{query}", method=method, headers={"X-MBX-APIKEY": key}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {path} {params}: {err.read()!r}") from None


def fifty_symbol_market(path: Path) -> list[str]:
    """The shipped market file with 49 copies of BTCUSDT: 50 BTC-like symbols to hold."""
    shipped = json.loads(resources.files("aster_account.data").joinpath("market.json").read_text())
    btc = next(s for s in shipped["symbols"] if s["symbol"] == "BTCUSDT")
    for i in range(1, 50):
        copy = json.loads(json.dumps(btc))
        copy["symbol"] = copy["pair"] = f"BENCH{i:02d}USDT"
        copy["base_asset"] = f"BENCH{i:02d}"
        shipped["symbols"].append(copy)
    path.write_text(json.dumps(shipped))
    return ["BTCUSDT"] + [f"BENCH{i:02d}USDT" for i in range(1, 50)]


# -- the load generator --------------------------------------------------------------------


async def _connection(
    port: int, next_request: Callable[[], bytes], stop_at: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < stop_at:
            request = next_request()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            status = int(head.split(b" ", 2)[1])
            body = await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
            latencies.append(time.perf_counter() - started)
            done += 1
    finally:
        writer.close()
    return done


async def _load(
    port: int, next_request: Callable[[], bytes], seconds: float, connections: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    stop_at = started + seconds
    counts = await asyncio.gather(
        *(_connection(port, next_request, stop_at, latencies) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, latencies


def measure(
    name: str,
    port: int,
    make: Callable[[], Callable[[], bytes]],
    seconds: float,
    connections: int,
    rounds: int,
) -> dict[str, float]:
    results = []
    for _ in range(rounds):
        rate, latencies = asyncio.run(_load(port, make(), seconds, connections))
        latencies.sort()
        results.append(
            (
                rate,
                latencies[len(latencies) // 2] * 1000,
                latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            )
        )
    results.sort()
    rate, p50, p99 = results[len(results) // 2]
    all_rates = [round(r[0]) for r in results]
    print(f"{name:32s} {rate:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  rounds {all_rates}")
    return {"rps": rate, "p50_ms": p50, "p99_ms": p99}


def http_get(path_and_query: str, api_key: str | None = None) -> bytes:
    key = f"X-MBX-APIKEY: {api_key}\r\n" if api_key else ""
    return (f"GET {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n").encode()


def http_post(path: str, body: str, api_key: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: {api_key}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 s x 1 round (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 1.0, 1
    server = LocalServer(args=["--market", "market.json", "--weight-limit", "1000000000"])
    ceiling_port = free_port()
    ceiling_app = subprocess.Popen([sys.executable, "-c", CEILING_APP, str(ceiling_port)])
    try:
        symbols = fifty_symbol_market(server.workdir / "market.json")
        server.start()
        wait_ready(f"http://127.0.0.1:{ceiling_port}/static")
        base, port = server.base_url, server.port

        reader = server.create_account(futures={"USDT": "1000000"})
        trader = server.create_account(futures={"USDT": "10000000"})
        mover = server.create_account(futures={"USDT": "100000000"})
        for symbol in symbols:
            signed(
                base,
                "POST",
                "/fapi/v1/order",
                str(trader["apiKey"]),
                str(trader["apiSecret"]),
                symbol=symbol,
                side="BUY",
                type="MARKET",
                quantity="0.01",
            )
        rows = signed(
            base, "GET", "/fapi/v2/positionRisk", str(trader["apiKey"]), str(trader["apiSecret"])
        )
        open_positions = sum(1 for r in rows if float(r["positionAmt"]) != 0)  # type: ignore[union-attr,index]
        print(f"positionRisk account holds {open_positions} open positions")

        def fixed(request: bytes) -> Callable[[], Callable[[], bytes]]:
            return lambda: lambda: request

        def signed_get(path: str, account: dict[str, object]) -> bytes:
            query = signed_query(
                [("recvWindow", 60000), ("timestamp", int(time.time() * 1000))],
                str(account["apiSecret"]),
            )
            return http_get(f"{path}?{query}", str(account["apiKey"]))

        counter = iter(range(10**9))

        def transfers() -> Callable[[], bytes]:
            def one() -> bytes:
                body = signed_query(
                    [
                        ("asset", "USDT"),
                        ("amount", "0.01"),
                        ("kindType", "FUTURE_SPOT"),
                        ("clientTranId", f"b{next(counter)}"),
                        ("recvWindow", 60000),
                        ("timestamp", int(time.time() * 1000)),
                    ],
                    str(mover["apiSecret"]),
                )
                return http_post("/fapi/v1/asset/wallet/transfer", body, str(mover["apiKey"]))

            return one

        m = args.seconds, args.connections, args.rounds
        print(f"{m[1]} connections, {m[0]:.0f} s x {m[2]} rounds, median round shown")
        ceiling = measure("static JSON (ceiling)", ceiling_port, fixed(http_get("/static")), *m)
        balance = measure(
            "GET /fapi/v2/balance",
            port,
            fixed(signed_get("/fapi/v2/balance", reader)),
            *m,
        )
        risk = measure(
            "GET /fapi/v2/positionRisk (50)",
            port,
            fixed(signed_get("/fapi/v2/positionRisk", trader)),
            *m,
        )
        transfer = measure("POST transfer (durable)", port, transfers, *m)
        summary = {
            "ceiling_rps": round(ceiling["rps"]),
            "balance_rps": round(balance["rps"]),
            "position_risk_rps": round(risk["rps"]),
            "transfers_per_s": round(transfer["rps"]),
            "balance_ratio": round(balance["rps"] / ceiling["rps"], 3),
            "position_risk_ratio": round(risk["rps"] / ceiling["rps"], 3),
            "balance_p50_ms": round(balance["p50_ms"], 2),
            "balance_p99_ms": round(balance["p99_ms"], 2),
            "position_risk_p50_ms": round(risk["p50_ms"], 2),
            "position_risk_p99_ms": round(risk["p99_ms"], 2),
            "transfer_p50_ms": round(transfer["p50_ms"], 2),
            "transfer_p99_ms": round(transfer["p99_ms"], 2),
            "open_positions": open_positions,
            "connections": args.connections,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
        }
        print(json.dumps(summary))
    finally:
        ceiling_app.send_signal(signal.SIGTERM)
        try:
            ceiling_app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ceiling_app.kill()
            ceiling_app.wait(timeout=10)
        server.close()


if __name__ == "__main__":
    main()
