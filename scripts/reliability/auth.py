"""Auth abuse: every way in that must stay shut, and secrets that must never come out.

On one server (SQLite, `--log-level info`, so every request is logged), each case is one request
and the Aster code it must get:

    replayed transfer, same bytes, inside the window    -4115 (clientTranId is once only)
    replayed request after its recvWindow has passed    -1021
    timestamp older than recvWindow / 1 s ahead         -1021
    recvWindow above 60000                              -1131
    one parameter changed after signing                 -1022 (and nothing moves)
    a parameter added after signing                     -1022
    signature with one hex digit changed                -1022
    signed with another account's secret                -1022
    signed over query + "&" + body                      -1022
    no API key / an empty one                           -2014
    the API key in the query string instead             -2014
    an unknown key                                      -2015
    a USER_DATA-only key on transfer, leverage          -2015
    a key disabled by the operator: at once, after 1 s  -2015
    account flag canWithdraw off, futures -> spot       -2015
    signature in a header, not in the parameters        -1102 ('signature')
    no signature                                        -1102
    signature in the body of a GET (never read)         -1102

A rejected case must not change the account (its stored state is compared before and after).
Then:
- timing: `signing.verify` must compare with `hmac.compare_digest` (read from its source); how long
  a wrong signature takes, wrong in its first or its last hex digit, is measured in process and
  over HTTP and reported;
- secrets: no API secret (nor API key) of any account made here is in the server's stdout/stderr,
  in any error body received, or in `/metrics`;
- file modes: a server started with a permissive umask (022) on a fresh directory, with the demo
  account, creates the SQLite file (and its -wal / -shm) and the demo-key file 0600.
"""

from __future__ import annotations

import hmac
import inspect
import secrets
import stat
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from aster_account.protocol import signing
from reliability.harness import Http, Key, Part, Server, now_ms, say, sqlite_url

TRANSFER = "/fapi/v1/asset/wallet/transfer"
BALANCE = "/fapi/v2/balance"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _code(r: httpx.Response) -> int | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


class Cases:
    def __init__(self, part: Part, http: Http) -> None:
        self.part = part
        self.http = http
        self.rows: list[dict[str, Any]] = []
        self.bodies: list[str] = []

    def expect(
        self,
        name: str,
        r: httpx.Response,
        code: int,
        *,
        account: Key | None = None,
        before: dict[str, Any] | None = None,
    ) -> None:
        self.bodies.append(r.text)
        got = _code(r)
        ok = got == code
        row: dict[str, Any] = {"case": name, "expected": code, "got": got, "status": r.status_code}
        if account is not None and before is not None:
            unchanged = self.http.state(account.account_id) == before
            row["state_unchanged"] = unchanged
            ok = ok and unchanged
        row["ok"] = ok
        self.rows.append(row)
        self.part.check(ok, f"{name}: expected {code}, got {got} (HTTP {r.status_code})")


def _transfer_params(tag: str, amount: str = "1") -> list[tuple[str, object]]:
    return [
        ("asset", "USDT"),
        ("amount", amount),
        ("kindType", "FUTURE_SPOT"),
        ("clientTranId", f"auth-{tag}"),
    ]


def _signed_body(
    key: Key,
    params: list[tuple[str, object]],
    *,
    timestamp: int | None = None,
    recv_window: int | None = None,
) -> str:
    items = list(params)
    if recv_window is not None:
        items.append(("recvWindow", recv_window))
    items.append(("timestamp", timestamp if timestamp is not None else now_ms()))
    return signing.signed_query(items, key.secret)


def run_cases(
    c: Cases, full: Key, other: Key, read_only: Key, victim: Key, no_withdraw: Key
) -> None:
    http = c.http
    hdr = {"X-MBX-APIKEY": full.api_key}

    def post(body: str, key: Key = full, query: str = "") -> httpx.Response:
        return http.raw(
            "POST", TRANSFER, query=query, body=body, headers={"X-MBX-APIKEY": key.api_key}
        )

    # replays
    body = _signed_body(full, _transfer_params("replay"))
    first = post(body)
    c.part.check(
        first.status_code == 200, f"the replayed transfer's first send failed: {first.text}"
    )
    before = http.state(full.account_id)
    c.expect(
        "replay inside the window (same bytes)", post(body), -4115, account=full, before=before
    )
    late = _signed_body(full, _transfer_params("late"), recv_window=1000)
    time.sleep(1.2)
    c.expect("replay after recvWindow", post(late), -1021, account=full, before=before)
    old = _signed_body(full, _transfer_params("old"), timestamp=now_ms() - 6_000)
    c.expect("timestamp older than recvWindow", post(old), -1021, account=full, before=before)
    ahead = _signed_body(full, _transfer_params("ahead"), timestamp=now_ms() + 2_000)
    c.expect("timestamp 2 s ahead", post(ahead), -1021, account=full, before=before)
    wide = _signed_body(full, _transfer_params("wide"), recv_window=60_001)
    c.expect("recvWindow 60001", post(wide), -1131, account=full, before=before)

    # tampering
    body = _signed_body(full, _transfer_params("tamper", amount="1"))
    c.expect(
        "amount changed after signing",
        post(body.replace("amount=1&", "amount=9&")),
        -1022,
        account=full,
        before=before,
    )
    rest, sig = signing.split_signature(body)
    c.expect(
        "parameter added after signing",
        post(f"{rest}&recvWindow=60000&signature={sig}"),
        -1022,
        account=full,
        before=before,
    )
    assert sig is not None
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    c.expect(
        "signature with one digit changed",
        post(f"{rest}&signature={flipped}"),
        -1022,
        account=full,
        before=before,
    )
    c.expect(
        "signed with another account's secret",
        post(_signed_body(other, _transfer_params("other-secret"))),
        -1022,
        account=full,
        before=before,
    )
    query = signing.encode_params([("asset", "USDT"), ("amount", "1")])
    tail = signing.encode_params(
        [("kindType", "FUTURE_SPOT"), ("clientTranId", "auth-amp"), ("timestamp", now_ms())]
    )
    amp = signing.sign(full.secret, f"{query}&{tail}")
    c.expect(
        "signed over query + '&' + body",
        post(f"{tail}&signature={amp}", query=query),
        -1022,
        account=full,
        before=before,
    )

    # keys
    body = _signed_body(full, _transfer_params("nokey"))
    c.expect(
        "no API key",
        http.raw("POST", TRANSFER, body=body),
        -2014,
        account=full,
        before=before,
    )
    c.expect(
        "empty API key",
        http.raw("POST", TRANSFER, body=body, headers={"X-MBX-APIKEY": ""}),
        -2014,
        account=full,
        before=before,
    )
    c.expect(
        "API key in the query string",
        http.raw("POST", TRANSFER, query=f"X-MBX-APIKEY={full.api_key}", body=body),
        -2014,
        account=full,
        before=before,
    )
    c.expect(
        "unknown API key",
        http.raw("POST", TRANSFER, body=body, headers={"X-MBX-APIKEY": secrets.token_hex(32)}),
        -2015,
        account=full,
        before=before,
    )
    ro_before = http.state(read_only.account_id)
    c.expect(
        "USER_DATA-only key: transfer",
        post(_signed_body(read_only, _transfer_params("ro")), key=read_only),
        -2015,
        account=read_only,
        before=ro_before,
    )
    c.expect(
        "USER_DATA-only key: leverage",
        http.raw(
            "POST",
            "/fapi/v1/leverage",
            body=_signed_body(read_only, [("symbol", "BTCUSDT"), ("leverage", 5)]),
            headers={"X-MBX-APIKEY": read_only.api_key},
        ),
        -2015,
        account=read_only,
        before=ro_before,
    )
    nw_before = http.state(no_withdraw.account_id)
    c.expect(
        "canWithdraw off: futures -> spot",
        post(_signed_body(no_withdraw, _transfer_params("nowithdraw")), key=no_withdraw),
        -2015,
        account=no_withdraw,
        before=nw_before,
    )

    # a key disabled while in use (its first use puts it in the server's key cache)
    ok = http.raw(
        "GET", BALANCE, query=_signed_body(victim, []), headers={"X-MBX-APIKEY": victim.api_key}
    )
    c.part.check(ok.status_code == 200, f"the key to disable did not work first: {ok.text}")
    http.operator_ok("POST", "/operator/v1/keys/disable", {"apiKey": victim.api_key})
    v_before = http.state(victim.account_id)
    c.expect(
        "disabled key, at once",
        post(_signed_body(victim, _transfer_params("disabled-now")), key=victim),
        -2015,
        account=victim,
        before=v_before,
    )
    time.sleep(1.1)
    v_before = http.state(victim.account_id)
    c.expect(
        "disabled key, after 1 s",
        post(_signed_body(victim, _transfer_params("disabled-later")), key=victim),
        -2015,
        account=victim,
        before=v_before,
    )

    # the signature in the wrong place
    items = [*_transfer_params("sig-header"), ("timestamp", now_ms())]
    text = signing.encode_params(items)
    c.expect(
        "signature in a header",
        http.raw(
            "POST",
            TRANSFER,
            body=text,
            headers={**hdr, "X-MBX-SIGNATURE": signing.sign(full.secret, text)},
        ),
        -1102,
        account=full,
        before=before,
    )
    c.expect("no signature", post(text), -1102, account=full, before=before)
    query = signing.encode_params([("timestamp", now_ms())])
    c.expect(
        "signature in the body of a GET",
        http.raw(
            "GET",
            BALANCE,
            query=query,
            body=f"signature={signing.sign(full.secret, query)}",
            headers=hdr,
        ),
        -1102,
    )


def timing(http: Http, key: Key, samples: int) -> dict[str, Any]:
    """How long a wrong signature takes, wrong in its first or in its last hex digit."""
    payload = "asset=USDT&amount=1&timestamp=1700000000000"
    good = signing.sign(key.secret, payload)
    first = ("0" if good[0] != "0" else "1") + good[1:]
    last = good[:-1] + ("0" if good[-1] != "0" else "1")
    in_process = {}
    for name, sig in (("first", first), ("last", last)):
        runs = []
        for _ in range(7):
            started = time.perf_counter_ns()
            for _ in range(20_000):
                signing.verify(key.secret, payload, sig)
            runs.append((time.perf_counter_ns() - started) / 20_000)
        in_process[name] = min(runs)
    over_http: dict[str, list[float]] = {"first": [], "last": []}
    for i in range(samples):
        for name in ("first", "last") if i % 2 else ("last", "first"):
            query = signing.encode_params([("timestamp", now_ms())])
            good = signing.sign(key.secret, query)
            wrong = (
                ("0" if good[0] != "0" else "1") + good[1:]
                if name == "first"
                else good[:-1] + ("0" if good[-1] != "0" else "1")
            )
            started = time.perf_counter()
            http.raw(
                "GET",
                BALANCE,
                query=f"{query}&signature={wrong}",
                headers={"X-MBX-APIKEY": key.api_key},
            )
            over_http[name].append((time.perf_counter() - started) * 1e6)
    constant_time = "compare_digest" in inspect.getsource(signing.verify)
    constant_time = constant_time and signing.verify.__globals__.get("hmac") is hmac
    return {
        "verify_uses_hmac_compare_digest": constant_time,
        "in_process_ns": {k: round(v, 1) for k, v in in_process.items()},
        "http_median_us": {k: round(statistics.median(v), 1) for k, v in over_http.items()},
        "http_samples": samples,
    }


def file_modes(workdir: Path) -> dict[str, str]:
    """Modes of what a first start creates with a permissive umask and the demo account."""
    server = Server(db="sqlite:///aster-account.db", workdir=workdir, demo=True, umask=0o022)
    server.start()
    try:
        with Http(server.base_url) as http:
            http.http.get("/fapi/v1/ping")
        names = ["aster-account.db", "aster-account.db-wal", "aster-account.db-shm"]
        names.append("aster-account-demo-key.json")
        modes = {}
        for name in names:
            path = workdir / name
            modes[name] = oct(stat.S_IMODE(path.stat().st_mode)) if path.exists() else "absent"
        demo_secret_printed = "apiSecret" in server.output()
    finally:
        server.stop()
    modes["demo_secret_on_stdout"] = str(demo_secret_printed)
    return modes


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    part = Part("auth")
    server = Server(db=sqlite_url(workdir / "db"), workdir=workdir / "db", log_level="info")
    server.start()
    try:
        with Http(server.base_url, token=server.token) as http:
            made = {
                "full": http.create_account(futures={"USDT": "1000"}, spot={"USDT": "1000"}),
                "other": http.create_account(futures={"USDT": "1000"}),
                "read_only": http.create_account(
                    futures={"USDT": "1000"}, permissions=["USER_DATA"]
                ),
                "victim": http.create_account(futures={"USDT": "1000"}),
                "no_withdraw": http.create_account(futures={"USDT": "1000"}),
            }
            http.operator_ok(
                "POST",
                "/operator/v1/account/flags",
                {"accountId": made["no_withdraw"].account_id, "canWithdraw": False},
            )
            cases = Cases(part, http)
            say(f"auth: {len(made)} accounts, the cases")
            run_cases(cases, **made)
            say("auth: timing of signature checks")
            timed = timing(http, made["other"], 150 if sizes.mode == "short" else 600)
            metrics = http.http.get("/metrics").text
            server_errors = http.server_errors
    finally:
        server.stop()
    output = server.output()
    keys = list(made.values())
    leaks = {
        "secrets_in_log": sum(k.secret in output for k in keys),
        "api_keys_in_log": sum(k.api_key in output for k in keys),
        "secrets_in_error_bodies": sum(k.secret in body for k in keys for body in cases.bodies),
        "secrets_in_metrics": sum(k.secret in metrics for k in keys),
        "log_lines": output.count("\n"),
    }
    say("auth: file modes of a first start")
    modes = file_modes(workdir / "first-start")
    part.figures.update(
        cases=len(cases.rows),
        cases_passed=sum(r["ok"] for r in cases.rows),
        server_errors=server_errors,
        results=cases.rows,
        timing=timed,
        leaks=leaks,
        file_modes=modes,
    )
    part.check(timed["verify_uses_hmac_compare_digest"], "signature check is not constant-time")
    for name, count in leaks.items():
        if name != "log_lines":
            part.check(count == 0, f"{name}: {count}")
    for name, mode in modes.items():
        if name != "demo_secret_on_stdout":
            part.check(mode in ("0o600", "absent"), f"{name} created {mode}, not 0600")
    part.check(modes["aster-account.db"] == "0o600", "no SQLite file was created")
    part.check(server_errors == 0, f"{server_errors} 5xx answers")
    return part
