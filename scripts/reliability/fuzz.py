"""Fuzzing: every operation of the served `/openapi.json`, with hypothesis-generated requests.

For each operation hypothesis draws a request from the operation's own parameter list: each
parameter valid (from its schema: enum, range, pattern, the market's symbols), malformed (wrong
type, empty, huge, negative, exponent, NaN, unknown enum value, control or non-UTF-8 bytes, 10k
characters) or left out; for non-GET operations each goes to the query or the body; sometimes a
parameter is sent twice (in the query and the body, or twice in one part) and unknown parameters
are added; sometimes the body is oversized, not UTF-8, JSON or carries a NUL. The request is then
signed the way a client signs it (HMAC of query + body) -- or not: the key may be missing, unknown,
read-only, disabled or garbage, the timestamp old, ahead or not a number, the signature wrong,
short, upper-case, sent twice, in a header, or computed with an '&' between query and body.

After every request, checked:
- no 5xx;
- an error answer is exactly `{"code": int, "msg": str}`, its code one of the documented codes
  (`protocol.errors.ERRORS`), its HTTP status the one that code goes with;
- a rejected request changed nothing: the store (every account's state and version, API keys,
  listen keys, marks, meta, and the size of every ledger table) equals what it was after the last
  accepted request.

Then a few dozen malformed HTTP messages over a raw socket (the server must stay up and never
answer 5xx; what the HTTP parser rejects before the app is counted apart), and the operator API
with hypothesis-generated JSON bodies under the same checks. `hypothesis.seed` fixes every draw,
so a run is repeatable; generation only (no shrinking: every request is recorded, none retried).
"""

from __future__ import annotations

import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from aster_account.protocol import signing
from aster_account.protocol.errors import ERRORS
from reliability.harness import (
    Http,
    Key,
    Part,
    Server,
    StoreReader,
    error_shape,
    normalized_query,
    now_ms,
    say,
    sqlite_url,
)

Value = str | bytes


@dataclass(frozen=True)
class Now:
    """A timestamp resolved when the request is sent: now + delta ms."""

    delta: int = 0


@dataclass(frozen=True)
class ParamSpec:
    name: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    params: tuple[ParamSpec, ...]
    needs_key: bool
    signed: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(openapi: dict[str, Any]) -> list[Operation]:
    """Every operation of the document, with its query parameters (the form body has the same)."""
    ops = []
    for path, methods in sorted(openapi["paths"].items()):
        for method, op in sorted(methods.items()):
            params = tuple(
                ParamSpec(p["name"], bool(p.get("required")), p.get("schema", {}))
                for p in op.get("parameters", [])
                if p.get("in") == "query"
            )
            names = {p.name for p in params}
            ops.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=op.get("operationId", f"{method} {path}"),
                    params=params,
                    needs_key=bool(op.get("security")),
                    signed="signature" in names,
                )
            )
    return ops


# -- what the fuzzer knows about the server --------------------------------------------------------


@dataclass
class Target:
    symbols: list[str]
    assets: list[str]
    good: Key  # every permission, funded, a position and an open order
    read_only: Key  # USER_DATA only
    disabled: Key
    order_ids: list[int] = field(default_factory=list)
    client_order_ids: list[str] = field(default_factory=list)


# -- strategies ------------------------------------------------------------------------------------

_JUNK_TEXTS = (
    "",
    " ",
    "abc",
    "1.5",
    "-1",
    "0",
    "-0",
    "00000000000000000000001",
    "99999999999999999999999999999999",
    "-99999999999999999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "1e5",
    "1E-7",
    "1e400",
    ".",
    "-.",
    "+",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "0x1F",
    "+1",
    " 1",
    "1 ",
    "1_000",
    "１２",  # full-width digits: str.isdigit() says yes, the wire grammar says no
    "٣",  # an Arabic-Indic digit
    "true",
    "TRUE",
    "null",
    "None",
    "[]",
    "{}",
    "\x00",
    "\r\n",
    "é",
    "💥",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%s%n",
    "BTCUSDT\x00",
    "btcusdt",
)


def _int_text(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    lo = schema.get("minimum", 0)
    hi = schema.get("maximum", lo + 1000)
    return st.integers(lo, hi).map(str)


def valid_value(p: ParamSpec, target: Target) -> st.SearchStrategy[Value | Now]:
    s, name = p.schema, p.name
    if name == "timestamp":
        return st.just(Now())
    if name == "recvWindow":
        return st.sampled_from(["5000", "10000", "60000", "1"])
    if name == "symbol":
        return st.sampled_from([*target.symbols, "BTCUSDT"])
    if name == "asset":
        return st.sampled_from(target.assets)
    if name == "leverage":
        return st.integers(1, 30).map(str)
    if name == "orderId":
        return st.sampled_from([*map(str, target.order_ids), "1", "2", "999999"])
    if name == "origClientOrderId":
        return st.sampled_from([*target.client_order_ids, "none-such"])
    if name in ("startTime", "endTime"):
        return st.integers(-3_600_000, 60_000).map(Now)
    if name == "clientTranId":
        return st.text("abcdefXYZ0123456789-_", min_size=1, max_size=70)
    if name == "amount":
        return st.sampled_from(["0.01", "1", "5.5", "100", "0.00000001", "100000000"])
    if name in ("quantity",):
        return st.sampled_from(["0.001", "0.01", "1", "10", "0.0001"])
    if name in ("price", "stopPrice", "activationPrice"):
        return st.sampled_from(["1", "3500", "90000", "100000", "110000", "0.02", "1.2"])
    if name == "callbackRate":
        return st.sampled_from(["0.1", "1", "5"])
    if "enum" in s:
        return st.sampled_from([str(v) for v in s["enum"]])
    if s.get("type") == "boolean":
        return st.sampled_from(["true", "false"])
    if s.get("type") == "integer":
        return _int_text(s)
    if "pattern" in s and s.get("format") != "decimal":
        return st.from_regex(s["pattern"], fullmatch=True)
    return st.text(min_size=1, max_size=12)


def bad_value(p: ParamSpec) -> st.SearchStrategy[Value | Now]:
    s = p.schema
    choices: list[st.SearchStrategy[Any]] = [
        st.sampled_from(_JUNK_TEXTS),
        st.text(max_size=40),
        st.integers(-(2**90), 2**90).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.binary(min_size=1, max_size=16),  # raw bytes: usually not UTF-8
        st.integers(1_000, 12_000).map(lambda n: "9" * n),
        st.integers(100, 5_000).map(lambda n: "A" * n),
    ]
    if "enum" in s:
        choices.append(st.from_regex(r"[A-Za-z_]{1,24}", fullmatch=True))
        choices.append(st.sampled_from([str(v).lower() for v in s["enum"]]))
    if p.name == "timestamp":
        choices.append(st.sampled_from([Now(-600_000), Now(600_000), Now(1000), Now(-5_001)]))
    return st.one_of(choices)


_EXTRA_NAMES = ("foo", "SYMBOL", "Symbol", "recvwindow", "Timestamp", "apiKey", "signature ", "a[]")

KEY_MODES = ["good"] * 40 + [
    "missing",
    "empty",
    "unknown",
    "read_only",
    "disabled",
    "long",
    "latin1",
]
SIG_MODES = ["good"] * 40 + [
    "missing",
    "wrong",
    "upper",
    "short",
    "nonhex",
    "twice",
    "header",
    "amp",
    "first",
    "empty",
]
BODY_MODES = [None] * 60 + ["oversized", "non_utf8", "json", "nul", "huge_pairs"]


@dataclass
class Case:
    op: Operation
    query: list[tuple[Value, Value | Now]]
    body: list[tuple[Value, Value | Now]]
    body_mode: str | None
    key_mode: str
    sig_mode: str
    content_type: str


@st.composite
def cases(draw: st.DrawFn, op: Operation, target: Target) -> Case:
    """The shape of a request is decided with uniform odds (hypothesis's own draws lean to the
    first choice); the values come from hypothesis, whose lean to edge cases is welcome there."""
    rnd = draw(st.randoms(use_true_random=True))
    query: list[tuple[Value, Value | Now]] = []
    body: list[tuple[Value, Value | Now]] = []
    get = op.method == "GET"

    def place(item: tuple[Value, Value | Now]) -> None:
        (query if get or rnd.random() < 0.35 else body).append(item)

    for p in op.params:
        if p.name == "signature":
            continue
        action = rnd.choices(["valid", "bad", "omit"], weights=[72, 20, 8])[0]
        if action == "omit" and p.name == "timestamp" and rnd.random() < 0.5:
            action = "valid"  # keep most signed requests alive past the timestamp check
        if action == "omit":
            continue
        strategy = valid_value(p, target) if action == "valid" else bad_value(p)
        place((p.name, draw(strategy)))
    sent = [p for p in op.params if any(name == p.name for name, _ in query + body)]
    if sent and rnd.random() < 0.05:  # one parameter twice, with another value
        p = rnd.choice(sent)
        place((p.name, draw(st.one_of(valid_value(p, target), bad_value(p)))))
    if rnd.random() < 0.2:
        for _ in range(rnd.randint(1, 3)):
            name = rnd.choice(_EXTRA_NAMES) if rnd.random() < 0.5 else draw(st.text(min_size=1))
            place((name, draw(st.one_of(st.text(max_size=20), st.just("1")))))
    if len(query) > 1 and rnd.random() < 0.15:
        rnd.shuffle(query)
    return Case(
        op=op,
        query=query,
        body=body,
        body_mode=rnd.choices(BODY_MODES)[0],
        key_mode=rnd.choices(KEY_MODES)[0] if op.needs_key else "missing",
        sig_mode=rnd.choices(SIG_MODES)[0] if op.signed else "missing",
        content_type=rnd.choices(
            ["application/x-www-form-urlencoded", "application/json", ""], weights=[85, 10, 5]
        )[0],
    )


# -- sending ---------------------------------------------------------------------------------------


def _enc(value: Value | Now, clock_ms: int) -> str:
    if isinstance(value, Now):
        return str(clock_ms + value.delta)
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value, safe="")


def _join(items: list[tuple[Value, Value | Now]], clock_ms: int) -> str:
    return "&".join(f"{_enc(k, clock_ms)}={_enc(v, clock_ms)}" for k, v in items)


def build(case: Case, target: Target) -> tuple[str, bytes, dict[str, str | bytes]]:
    """The exact query, body and headers of a case, signed as its modes say."""
    clock = now_ms()
    query = normalized_query(_join(case.query, clock))
    body = _join(case.body, clock)
    headers: dict[str, str | bytes] = {}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    secret = target.good.secret
    key = {
        "good": target.good.api_key,
        "empty": "",
        "unknown": secrets.token_hex(32),
        "read_only": target.read_only.api_key,
        "disabled": target.disabled.api_key,
        "long": "k" * 8000,
        "latin1": "clé".encode("latin-1"),
    }.get(case.key_mode)
    if key is not None:
        headers["X-MBX-APIKEY"] = key
    if case.key_mode == "read_only":
        secret = target.read_only.secret
    elif case.key_mode == "disabled":
        secret = target.disabled.secret
    if case.op.signed and case.sig_mode != "missing":
        payload = query + body
        if case.sig_mode == "amp" and query and body:
            payload = f"{query}&{body}"
        sig = signing.sign(secret, payload)
        sig = {
            "wrong": secrets.token_hex(32),
            "upper": sig.upper(),
            "short": sig[:63],
            "nonhex": "zq" * 32,
            "empty": "",
        }.get(case.sig_mode, sig)
        if case.sig_mode == "header":
            headers["X-MBX-SIGNATURE"] = sig
        elif case.sig_mode == "first":
            query = f"signature={sig}&{query}" if query else f"signature={sig}"
        elif case.sig_mode == "twice":
            query = f"{query}&signature={sig}" if query else f"signature={sig}"
            body = f"{body}&signature={sig}" if body else f"signature={sig}"
        elif body:
            body = f"{body}&signature={sig}"
        else:
            query = f"{query}&signature={sig}" if query else f"signature={sig}"
    raw = body.encode()
    if case.body_mode == "oversized":
        raw = b"symbol=" + b"A" * (64 * 1024 + 1 + len(raw) % 50_000)
    elif case.body_mode == "non_utf8":
        raw = raw + b"&symbol=\xff\xfe\xc3"
    elif case.body_mode == "json":
        raw = b'{"symbol": "BTCUSDT", "amount": 1}'
    elif case.body_mode == "nul":
        raw = raw + b"&\x00=\x00"
    elif case.body_mode == "huge_pairs":
        raw = b"&".join(b"p%d=%d" % (i, i) for i in range(6000))
    return query, raw, headers


# -- the store snapshot ----------------------------------------------------------------------------

_SNAPSHOT = (
    ("accounts", "SELECT id, version, state FROM accounts ORDER BY id"),
    ("api_keys", "SELECT api_key, account_id, permissions, enabled FROM api_keys ORDER BY api_key"),
    ("listen_keys", "SELECT key, account_id, expires_ms FROM listen_keys ORDER BY key"),
    ("marks", "SELECT * FROM marks ORDER BY symbol"),
    ("meta", "SELECT key, value FROM meta ORDER BY key"),
    ("income", "SELECT count(*), max(tran_id) FROM income"),
    ("transfers", "SELECT count(*), max(tran_id) FROM transfers"),
    ("margin_changes", "SELECT count(*), max(id) FROM margin_changes"),
    ("trades", "SELECT count(*) FROM trades"),
    ("force_orders", "SELECT count(*) FROM force_orders"),
)

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(reader: StoreReader) -> Snapshot:
    return {name: reader.rows(sql) for name, sql in _SNAPSHOT}


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# -- the run ---------------------------------------------------------------------------------------


PROBLEMS = ("5xx", "no answer", "shape", "undocumented code", "status", "state change")
"""What the fuzz counts against the server, per face: "public" (the catalog's endpoints),
"operator" (the operator API) and "http" (malformed HTTP over a raw socket)."""


class Fuzzer:
    def __init__(self, http: Http, reader: StoreReader, target: Target, part: Part) -> None:
        self.http = http
        self.reader = reader
        self.target = target
        self.part = part
        self.sent: Counter[str] = Counter()  # per face
        self.accepted = 0
        self.codes: Counter[int] = Counter()
        self.http_layer = 0  # rejected by the HTTP parser before the app (not JSON by design)
        self.background_changes = 0
        self.dropped_connections = 0
        self.problems: Counter[tuple[str, str]] = Counter()  # (face, problem)
        self.examples: dict[str, list[str]] = {}
        self.baseline = snapshot(reader)

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def count(self, problem: str) -> int:
        return sum(n for (_, p), n in self.problems.items() if p == problem)

    def problem(self, face: str, problem: str, text: str) -> None:
        self.problems[face, problem] += 1
        found = self.examples.setdefault(f"{face}: {problem}", [])
        if len(found) < 5:
            found.append(text)

    def record(
        self,
        describe: Callable[[], str],
        status: int,
        response: httpx.Response | None,
        *,
        face: str = "public",
    ) -> None:
        """Check one answer and the store after it. The operator API is held to the same body
        shape and codes, but its HTTP statuses are its own (401, 404)."""
        self.sent[face] += 1
        if status >= 500:
            text = response.text[:200] if response is not None else ""
            self.problem(face, "5xx", f"{describe()} -> {status} {text}")
        after = snapshot(self.reader)
        if status < 400:
            self.accepted += 1
            self.baseline = after
            if response is not None:
                self._check_success(describe, response, face)
            return
        changed = differences(self.baseline, after)
        if changed:
            if "marks" in changed and all(c in ("marks", "accounts", "income") for c in changed):
                # funding settled by the risk loop between two requests: not the request's doing
                self.background_changes += 1
            else:
                self.problem(face, "state change", f"{describe()} -> {status}: changed {changed}")
            self.baseline = after
        if response is None:
            return
        why = error_shape(response)
        if why is not None:
            self.problem(face, "shape", f"{describe()} -> {status}: {why}")
            return
        code = response.json()["code"]
        self.codes[code] += 1
        cls = ERRORS.get(code)
        if cls is None:
            self.problem(
                face, "undocumented code", f"{describe()} -> {status} {response.text[:120]}"
            )
        elif (
            face == "public"
            and status != cls.default_status
            and not (code == -1003 and status in (418, 429))
        ):
            self.problem(
                face, "status", f"{describe()} -> HTTP {status} for {code} ({cls.default_status})"
            )

    def _check_success(self, describe: Callable[[], str], r: httpx.Response, face: str) -> None:
        """A 2xx is JSON, and never carries an error code (clients read any `code` but 200 in a
        2xx body as an error, FACTS.md)."""
        try:
            body = r.json()
        except ValueError:
            self.problem(face, "shape", f"{describe()} -> {r.status_code}: 2xx not JSON")
            return
        # cancel-all answers the docs' {"code": "200", ...}: a string there, as Aster sends it
        if isinstance(body, dict) and "code" in body and str(body["code"]) != "200":
            self.problem(face, "shape", f"{describe()} -> 2xx with code {body['code']}")

    def request(
        self,
        describe: Callable[[], str],
        method: str,
        url: str,
        *,
        face: str = "public",
        **kw: Any,
    ) -> httpx.Response | None:
        """Send and check; a request that gets no answer at all counts against the server.

        A kept-alive connection the server dropped (it does after an unhandled error) fails the
        next request on it before it is read: that one is sent again, once, on a new connection.
        """
        try:
            r = self.http.http.request(method, url, **kw)
        except httpx.TransportError:
            self.dropped_connections += 1
            try:
                r = self.http.http.request(method, url, **kw)
            except httpx.TransportError as exc:
                self.sent[face] += 1
                self.problem(face, "no answer", f"{describe()} -> {exc!r}")
                self.baseline = snapshot(self.reader)
                return None
        self.record(describe, r.status_code, r, face=face)
        return r

    def send_case(self, case: Case) -> None:
        query, body, headers = build(case, self.target)
        url = f"{case.op.path}?{query}" if query else case.op.path

        def describe() -> str:
            return (
                f"{case.op.label}?{query[:300]} body={body[:200]!r} key={case.key_mode}"
                f" sig={case.sig_mode}"
            )

        self.request(describe, case.op.method, url, content=body, headers=headers)


def run_openapi(fuzzer: Fuzzer, ops: list[Operation], budget: int, seed: int) -> None:
    per_op = -(-budget // len(ops))
    for index, op in enumerate(ops):
        started = fuzzer.total
        # hypothesis may stop before max_examples when it believes a space is covered: more
        # rounds, each with its own seed, until the operation has had its share
        for round_ in range(5):
            left = per_op - (fuzzer.total - started)
            if left <= 0:
                break

            @settings(
                max_examples=left,
                phases=[Phase.generate],
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )
            @hypothesis_seed(seed * 1000 + index * 10 + round_)
            @given(cases(op, fuzzer.target))
            def one(case: Case) -> None:
                fuzzer.send_case(case)

            one()


# malformed HTTP: the request line, headers, framing
_RAW_REQUESTS = (
    b"GET /fapi/v1/premiumIndex?symbol=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v2/balance?timestamp=1&signature=\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: \xff\xfe\r\n\r\n",
    b"GET /fapi/v2/balance?timestamp=1 HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: \xc3\xa9\r\n\r\n",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\xff\xfe\xfd\xfc\xfb",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ZZ\r\nxx\r\n0\r\n\r\n",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nsymbo\r\n3\r\nl=B\r\n0\r\n\r\n",
    b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
    b"abcd",
    b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    b"GET /fapi/v1/ping?" + b"a=1&" * 50_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/time HTTP/1.0\r\n\r\n",
    b"GET /fapi/v1/time HTTP/9.9\r\nHost: x\r\n\r\n",
    b"BREW /fapi/v1/time HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET fapi/v1/time HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/time\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello on the plain port
    b"GET /fapi/v1/../v1/time HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/time%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/premiumIndex?symbol=%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/premiumIndex?symbol=%E2%82 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/premiumIndex?=&&&=== HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /fapi/v1/premiumIndex?symbol=BTCUSDT;ETHUSDT HTTP/1.1\r\nHost: x\r\n\r\n",
    b"DELETE /fapi/v1/listenKey HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: "
    + b"k" * 70_000
    + b"\r\n\r\n",
    b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"GET /fapi/v1/ping HTTP/1.1\r\n Host: x\r\n\r\n",
    b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    b"GET /fapi/v1/ping HTTP/1.1\nHost: x\n\n",
)


def _raw_exchange(port: int, request: bytes) -> int | None:
    """Send bytes, return the HTTP status of the answer (None when the server just closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    if not data.startswith(b"HTTP/"):
        return None
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def run_raw(fuzzer: Fuzzer, server: Server) -> None:
    for request in _RAW_REQUESTS:
        status = _raw_exchange(server.port, request)
        fuzzer.sent["http"] += 1
        text = f"raw {request[:80]!r} -> {status}"
        if status is None or 400 <= status < 500:
            fuzzer.http_layer += 1
        elif status >= 500:
            fuzzer.problem("http", "5xx", text)
        after = snapshot(fuzzer.reader)
        if differences(fuzzer.baseline, after) and (status is None or status >= 400):
            fuzzer.problem("http", "state change", text)
        fuzzer.baseline = after
    alive = fuzzer.http.http.get("/fapi/v1/ping").status_code == 200
    fuzzer.part.check(alive, "server stopped answering after the malformed HTTP messages")


def routing(base_url: str) -> dict[str, str]:
    """What paths and methods outside the API get (reported, not checked: not endpoints)."""
    probes = {
        "unknown path": ("GET", "/fapi/v1/nothing"),
        "wrong method": ("PATCH", "/fapi/v1/order"),
        "operator id not a number": ("GET", "/operator/v1/accounts/abc"),
    }
    seen = {}
    with Http(base_url) as http:
        for name, (method, path) in probes.items():
            r = http.http.request(method, path)
            kind = "json" if error_shape(r) is None else r.headers.get("content-type", "")
            seen[name] = f"{r.status_code} {kind}"
    return seen


# -- the operator API ------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, _JSON, st.sampled_from(["", "-1", "1e400", "NaN", "0", "abc"]))


@st.composite
def operator_cases(draw: st.DrawFn, target: Target) -> tuple[str, str, Any, str]:
    ids = st.sampled_from([target.good.account_id, target.read_only.account_id, 0, -1, 10**20])
    symbols = st.sampled_from([*target.symbols, "FOOUSDT"])
    amounts = st.sampled_from(["1", "0.5", "-5", "0", "1e3", "100000000000000000000000000"])
    routes: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
        "accounts": (
            "/operator/v1/accounts",
            st.fixed_dictionaries(
                {},
                optional={
                    "futures": _field(st.dictionaries(st.sampled_from(target.assets), amounts)),
                    "spot": _field(st.dictionaries(st.sampled_from(target.assets), amounts)),
                    "permissions": _field(
                        st.lists(st.sampled_from(["USER_DATA", "TRADE", "TRANSFER", "ADMIN"]))
                    ),
                    "alias": _field(st.text(max_size=10)),
                },
            ),
        ),
        "deposit": (
            "/operator/v1/deposit",
            st.fixed_dictionaries(
                {},
                optional={
                    "accountId": _field(ids),
                    "asset": _field(st.sampled_from([*target.assets, "XYZ"])),
                    "amount": _field(amounts),
                    "wallet": _field(st.sampled_from(["FUTURES", "SPOT", "MARGIN"])),
                },
            ),
        ),
        "markPrice": (
            "/operator/v1/markPrice",
            st.fixed_dictionaries(
                {},
                optional={
                    "symbol": _field(symbols),
                    "markPrice": _field(st.sampled_from(["0", "-1", "abc", "1e999999"])),
                    "indexPrice": _field(st.sampled_from(["0", "-3", "x"])),
                    "fundingRate": _field(st.sampled_from(["NaN", "x", "1e99999"])),
                },
            ),
        ),
        "funding": ("/operator/v1/funding", st.fixed_dictionaries({}, optional={"symbol": _JSON})),
        "keys/disable": (
            "/operator/v1/keys/disable",
            st.fixed_dictionaries(
                {},
                optional={
                    "apiKey": _field(st.sampled_from([target.disabled.api_key, "nope"])),
                    "enabled": _JSON,
                },
            ),
        ),
        "account/flags": (
            "/operator/v1/account/flags",
            st.fixed_dictionaries(
                {},
                optional={
                    "accountId": _field(ids),
                    "canTrade": _JSON,
                    "canDeposit": _JSON,
                    "canWithdraw": _JSON,
                },
            ),
        ),
        "clock": ("/operator/v1/clock", st.fixed_dictionaries({}, optional={"offsetMs": _JSON})),
    }
    name = draw(st.sampled_from(sorted(routes)))
    path, bodies = routes[name]
    form = draw(st.sampled_from(["json"] * 6 + ["raw", "array", "token"]))
    body: Any = draw(bodies)
    if form == "array":
        body = [body]
    elif form == "raw":
        body = draw(st.sampled_from([b"{", b"\xff\xfe", b"null", b'"x"', b"1e999", b"[" * 5000]))
    return path, form, body, name


def run_operator(fuzzer: Fuzzer, server: Server, budget: int, seed: int) -> None:
    http = fuzzer.http.http

    @settings(
        max_examples=budget,
        phases=[Phase.explicit, Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @hypothesis_seed(seed)
    @given(operator_cases(fuzzer.target))
    # a few fixed cases first: an amount too large for 8 decimals behind a valid one, so that a
    # request that fails half-way is always among the cases
    @example(("/operator/v1/accounts", "json", {"futures": {"USDT": "1e26"}}, "accounts"))
    @example(
        (
            "/operator/v1/accounts",
            "json",
            {"futures": {"BTC": "1", "USDC": "100000000000000000000000000"}},
            "accounts",
        )
    )
    @example(("/operator/v1/accounts", "json", {"spot": {"USDT": "0.000000001"}}, "accounts"))
    @example(("/operator/v1/deposit", "json", {"accountId": 10**20, "asset": "USDT"}, "deposit"))
    @example(("/operator/v1/clock", "json", {"offsetMs": 10**30}, "clock"))
    def one(case: tuple[str, str, Any, str]) -> None:
        path, form, body, _name = case
        headers = {"X-Operator-Token": "wrong" if form == "token" else server.token}
        if isinstance(body, bytes):
            content = body
        else:
            try:
                content = httpx.Request("POST", "http://h", json=body).content
            except ValueError:  # NaN / infinity: send Python's spelling, which JSON lacks
                content = repr(body).encode()
        r = fuzzer.request(
            lambda: f"POST {path} {content[:200]!r}",
            "POST",
            path,
            face="operator",
            content=content,
            headers=headers,
        )
        if path.endswith("/clock") and r is not None and r.status_code == 200:
            http.post(path, json={"offsetMs": 0}, headers={"X-Operator-Token": server.token})
            fuzzer.baseline = snapshot(fuzzer.reader)

    one()
    for account_id in ("0", "1", "9223372036854775807", "99999999999999999999999"):
        fuzzer.request(
            lambda a=account_id: f"GET /operator/v1/accounts/{a}",
            "GET",
            f"/operator/v1/accounts/{account_id}",
            face="operator",
            headers={"X-Operator-Token": server.token},
        )


# -- setup and figures -----------------------------------------------------------------------------


def secrets_in(text: str, target: Target) -> int:
    """How many of the fuzz accounts' secrets and API keys the server wrote out."""
    keys = (target.good, target.read_only, target.disabled)
    return sum(k.secret in text for k in keys) + sum(k.api_key in text for k in keys)


def prepare(http: Http) -> Target:
    info = http.http.get("/fapi/v1/exchangeInfo").json()
    symbols = [s["symbol"] for s in info["symbols"]]
    assets = [a["asset"] for a in info["assets"]]
    good = http.create_account(
        futures={"USDT": "1000000", "BTC": "1"}, spot={"USDT": "100000", "BTC": "1"}
    )
    read_only = http.create_account(futures={"USDT": "1000"}, permissions=["USER_DATA"])
    disabled = http.create_account(futures={"USDT": "1000"})
    http.operator_ok("POST", "/operator/v1/keys/disable", {"apiKey": disabled.api_key})
    http.open_isolated(good, "ETHUSDT", "1", leverage=10, add="100")
    http.ok(
        good,
        "POST",
        "/fapi/v1/order",
        {"symbol": "ARBUSDT", "side": "SELL", "type": "MARKET", "quantity": "1000"},
    )
    target = Target(
        symbols=symbols, assets=assets, good=good, read_only=read_only, disabled=disabled
    )
    for i in range(3):
        order = http.ok(
            good,
            "POST",
            "/fapi/v1/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": str(90000 + i),
                "newClientOrderId": f"fuzz-resting-{i}",
            },
        )
        target.order_ids.append(order["orderId"])
        target.client_order_ids.append(order["clientOrderId"])
    return target


def run_part(workdir: Path, *, sizes: Any, with_postgres: bool, seed: int = 8) -> Part:
    """The fuzz on SQLite (the store's backend does not change what the API accepts)."""
    part = Part("fuzz")
    budget = sizes.fuzz_requests
    server = Server(db=sqlite_url(workdir), workdir=workdir)
    started = time.monotonic()
    server.start()
    reader: StoreReader | None = None
    try:
        with Http(server.base_url, token=server.token) as http:
            openapi = http.http.get("/openapi.json").json()
            ops = operations(openapi)
            target = prepare(http)
            # one connection for the whole run, closed only once the server has stopped
            reader = StoreReader(server.db)
            fuzzer = Fuzzer(http, reader, target, part)
            operator_budget = max(50, budget // 20)
            say(f"fuzz: {len(ops)} operations, {budget} requests from openapi.json")
            run_openapi(fuzzer, ops, budget - operator_budget - len(_RAW_REQUESTS), seed)
            run_raw(fuzzer, server)
            say(f"fuzz: operator API, {operator_budget} requests")
            run_operator(fuzzer, server, operator_budget, seed)
            part.figures["outside_the_api"] = routing(server.base_url)
            with Http(server.base_url) as fresh:
                alive = fresh.http.get("/fapi/v1/ping").status_code == 200
    finally:
        server.stop()
        if reader is not None:
            reader.close()
    leaked = secrets_in(server.output(), target)
    f = part.figures
    faces = {
        face: {"requests": fuzzer.sent[face]}
        | {p: fuzzer.problems[face, p] for p in PROBLEMS if fuzzer.problems[face, p]}
        for face in ("public", "operator", "http")
    }
    f.update(
        operations=len(ops),
        requests_fuzzed=fuzzer.total,
        accepted=fuzzer.accepted,
        rejected=fuzzer.total - fuzzer.accepted,
        server_errors=fuzzer.count("5xx"),
        no_answer=fuzzer.count("no answer"),
        rejected_by_http_parser=fuzzer.http_layer,
        bad_bodies=fuzzer.count("shape"),
        undocumented_codes=fuzzer.count("undocumented code"),
        status_code_mismatches=fuzzer.count("status"),
        state_changes_from_rejected=fuzzer.count("state change"),
        background_changes_ignored=fuzzer.background_changes,
        connections_dropped_by_server=fuzzer.dropped_connections,
        by_api=faces,
        codes=dict(sorted(fuzzer.codes.items())),
        seconds=round(time.monotonic() - started, 1),
    )
    if fuzzer.examples:
        f["examples"] = fuzzer.examples
    f["secrets_in_server_output"] = leaked
    part.check(alive, "server down after the fuzz")
    part.check(leaked == 0, f"{leaked} API secrets or keys in the server's log")
    for (face, problem), n in sorted(fuzzer.problems.items()):
        part.check(n == 0, f"{face} API: {n} x {problem}")
    return part
