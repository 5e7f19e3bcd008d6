"""The client core: every step between "call this endpoint with these values" and a typed result
or a typed error, written once and free of I/O.

A call is a :class:`Call` (endpoint + wire parameters). ``ClientCore.flow(call)`` is a generator
in the style of httpx's auth flows: it *yields* what it needs done -- :class:`Send` a request, or
:class:`Sleep` -- and is *sent* the answer (or *thrown* the ``httpx.RequestError``) back.
``Client`` drives it with blocking I/O and ``AsyncClient`` with ``await``; those two drivers are
the only lines the faces do not share. Inside the flow:

1. before a signed request, the server clock offset is measured if due (first use, every
   ``clock_refresh`` seconds, after a -1021) -- a nested flow of ``GET /fapi/v1/time``;
2. the weight gate says whether the endpoint's weight fits this server minute; if not the flow
   sleeps until the next minute, or raises ``RateLimitError`` when that is more than ``max_wait``;
3. the request is built and signed with a fresh timestamp (every attempt is signed anew);
4. the answer is read: ``X-MBX-USED-WEIGHT-1M`` feeds the gate, a 2xx body is checked for an
   embedded error code, an error response becomes its ``protocol.errors`` class;
5. the retry decision, by what the endpoint is (:func:`retry_class`):

   =====================  ========  =====================  =================================
   outcome                READ      TRANSFER               WRITE
   =====================  ========  =====================  =================================
   -1021                  resync, re-sign and send again, once (all signed endpoints)
   429 / 418              wait ``Retry-After`` (at most ``max_wait``) and send again, else raise
   connect failed         retry with backoff (the request never left)
   response lost, 5xx     retry     retry, same            raise ``UnknownOutcome``
                                    clientTranId
   -4115 after a          --        "already applied":     --
   lost response                    find its tranId
   anything else          raise     raise                  raise
   =====================  ========  =====================  =================================

The transfer rule: the SDK fixes ``clientTranId`` before the first attempt and every retry
reuses it, so the server's idempotency check (-4115) makes a second application impossible.
When a retry gets -4115 after an attempt whose outcome was unknown, the first attempt did the
transfer: the flow reads the TRANSFER income rows of that moment and returns a ``TransferResult``
with the tranId of the one that matches (asset and signed amount), or raises ``AlreadyApplied``
when there is not exactly one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Generator, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

import httpx
import orjson

from aster_account import __version__
from aster_account.client._clock import ServerClock
from aster_account.client._errors import AlreadyApplied, MissingCredentials
from aster_account.client._limits import MINUTE_MS, WeightGate, weight_limit_from
from aster_account.client._paginate import Pager, PageRequest
from aster_account.client._transport import Reply, origin_of
from aster_account.protocol import models
from aster_account.protocol.catalog import AUTH_PARAMS, BY_NAME, Endpoint, ParamKind
from aster_account.protocol.enums import MarginType, TransferKind
from aster_account.protocol.errors import (
    AsterError,
    DuplicatedClientTranId,
    InvalidTimestamp,
    IPBannedError,
    RateLimitError,
    TooManyRequests,
    TransportError,
    UnknownOutcome,
    aster_error,
    from_response,
)
from aster_account.protocol.signing import encode_params, sign
from aster_account.protocol.wire import from_wire, from_wire_list

__all__ = [
    "DEFAULT_BASE_URL",
    "Call",
    "ClientCore",
    "Flow",
    "RawResponse",
    "Send",
    "Sleep",
    "Walk",
    "new_client_tran_id",
    "retry_class",
]

log = logging.getLogger("aster_account.client")

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_BASE_URL: Final = "https://fapi.asterdex.com"
_AUTH_NAMES: Final = frozenset(p.name for p in AUTH_PARAMS)
_MAX_BACKOFF_S: Final = 8.0
_RATE_LIMIT_RETRIES: Final = 3
_CLOCK_POLL_S: Final = 0.005
# Requests that provably never left: the connection was not made.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# -- what a call is ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One endpoint call: wire parameters in catalog order (None: not sent).

    ``T`` is the typed result; ``ok_codes`` are error codes that mean "already so" and are
    answered with ``CodeMsg(200, <the server's message>)`` (``ok_if_unchanged=True``).
    """

    endpoint: Endpoint
    params: tuple[tuple[str, object], ...] = ()
    ok_codes: frozenset[int] = frozenset()

    def param(self, wire_name: str) -> object:
        for name, value in self.params:
            if name == wire_name:
                return value
        return None


def _wire_value(kind: ParamKind, name: str, value: object) -> object:
    """A Python argument as the value ``encode_params`` sends."""
    if value is None:
        return None
    if isinstance(value, MarginType):
        return value.param
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if kind is not ParamKind.LONG:
            raise TypeError(f"{name}: a datetime is only accepted for a time")
        return _datetime_ms(value)
    if isinstance(value, float) and kind in (ParamKind.DECIMAL, ParamKind.STRING):
        # money is never a float: 0.1 + 0.2 is not 0.3
        raise TypeError(f"{name}: pass a Decimal or a str, not a float ({value!r})")
    if kind is ParamKind.DECIMAL and isinstance(value, str):
        # "1e6" reads as a number here; the wire wants it without an exponent ("1000000")
        with contextlib.suppress(ArithmeticError, ValueError):
            number = Decimal(value)
            if number.is_finite():
                return number
    return value


def _datetime_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise TypeError("pass a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
    return int(value.timestamp() * 1000)


def to_ms(value: int | datetime) -> int:
    """Milliseconds since the epoch from an int (already ms) or an aware datetime."""
    return _datetime_ms(value) if isinstance(value, datetime) else int(value)


# Per endpoint: (wire name, python name, kind) of the endpoint's own parameters.
_PARAM_SPECS: Final[dict[str, tuple[tuple[str, str, ParamKind], ...]]] = {
    ep.name: tuple((p.name, p.py_name, p.kind) for p in ep.params if p.name not in _AUTH_NAMES)
    for ep in BY_NAME.values()
}


def make_call(name: str, ok_codes: frozenset[int] = frozenset(), **values: object) -> Call[Any]:
    """The :class:`Call` of catalog endpoint ``name`` with Python-named ``values``."""
    specs = _PARAM_SPECS[name]
    if len(values) > len(specs):
        known = {py for _, py, _ in specs}
        raise TypeError(f"{name}: unknown parameters {sorted(set(values) - known)}")
    params = tuple((wire, _wire_value(kind, py, values.get(py))) for wire, py, kind in specs)
    return Call(BY_NAME[name], params, ok_codes)


def new_client_tran_id() -> str:
    """A fresh clientTranId: 32 hex digits (Aster wants fewer than 64 characters)."""
    return uuid.uuid4().hex


RetryClass: TypeAlias = Literal["READ", "WRITE", "TRANSFER"]

# Writes that are idempotent by the docs: POST listenKey returns (and extends) the active key,
# PUT extends it.
_IDEMPOTENT_WRITES: Final = frozenset({"new_listen_key", "keepalive_listen_key"})


def retry_class(endpoint: Endpoint) -> RetryClass:
    """READ may be sent again after a lost response; TRANSFER only with the same clientTranId;
    WRITE never (its outcome is unknown, so the caller decides)."""
    if endpoint.name == "transfer":
        return "TRANSFER"
    if endpoint.method == "GET" or endpoint.name in _IDEMPOTENT_WRITES:
        return "READ"
    return "WRITE"


_RETRY_CLASSES: Final = {ep.name: retry_class(ep) for ep in BY_NAME.values()}


# -- results -----------------------------------------------------------------------------------


def _model(name: str) -> type[Any]:
    cls = getattr(models, name, None)
    if not isinstance(cls, type):
        raise LookupError(f"no model named {name!r} in protocol.models")
    return cls


def _list_reader(cls: type[Any]) -> Callable[[Any], Any]:
    return lambda data: from_wire_list(cls, data)


def _object_reader(cls: type[Any]) -> Callable[[Any], Any]:
    return lambda data: from_wire(cls, data)


def _parser(result: str) -> Callable[[Any], Any]:
    """Turn the catalog's result text (``list[X]``, ``X``, ``list[X] | X``) into a reader."""
    readers: dict[type, Callable[[Any], Any]] = {}
    for part in (p.strip() for p in result.split("|")):
        if part.startswith("list[") and part.endswith("]"):
            readers[list] = _list_reader(_model(part[5:-1]))
        else:
            readers[dict] = _object_reader(_model(part))

    def parse(data: Any) -> Any:
        reader = readers.get(type(data))
        if reader is None:
            raise AsterError(
                f"Unexpected reply shape for {result}: {type(data).__name__}",
                http_status=200,
            )
        return reader(data)

    return parse


PARSERS: Final[dict[str, Callable[[Any], Any]]] = {
    ep.name: _parser(ep.result) for ep in BY_NAME.values()
}


@dataclass(slots=True)
class RawResponse:
    """An answer as it came: ``status_code``, ``headers`` (a case-insensitive mapping),
    ``content`` (bytes) and ``json()``.

    ``parse()`` gives the typed result the normal methods return. ``used_weight`` is the
    server's ``X-MBX-USED-WEIGHT-1M``. A transfer recovered after a lost response (see the
    module docstring) and a setter answered "already so" with ``ok_if_unchanged`` are marked
    ``synthetic=True``: their body was composed by the client from what the server said.
    """

    endpoint: Endpoint
    status_code: int
    headers: Mapping[str, str]
    content: bytes
    data: Any = None
    sent_ms: int = 0
    received_ms: int = 0
    synthetic: bool = False

    def json(self) -> Any:
        return self.data

    def parse(self) -> Any:
        return PARSERS[self.endpoint.name](self.data)

    @property
    def used_weight(self) -> int | None:
        value = self.headers.get("x-mbx-used-weight-1m")
        return int(value) if value is not None and value.isdigit() else None

    def __repr__(self) -> str:
        ep = self.endpoint
        return f"<RawResponse {ep.method} {ep.path} {self.status_code}>"


def _synthetic(endpoint: Endpoint, data: Any, status: int = 200) -> RawResponse:
    return RawResponse(endpoint, status, {}, orjson.dumps(data), data, synthetic=True)


# -- what the flow asks of its driver ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """One HTTP request to send: everything is in the URL and the headers (no body)."""

    method: str
    url: str
    headers: Mapping[str, str]
    timeout: float
    origin: tuple[str, str, int]  # scheme, host, port: what a connection pool is keyed by
    target: str  # path and query, as on the request line

    def to_httpx(self) -> httpx.Request:
        """The request as httpx transports take it."""
        timeout = httpx.Timeout(self.timeout).as_dict()
        return httpx.Request(
            self.method, self.url, headers=self.headers, extensions={"timeout": timeout}
        )


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Action: TypeAlias = Send | Sleep
Flow: TypeAlias = Generator[Action, Any, T]
"""Yields actions; is sent the answer (a ``Reply``: ``httpx.Response`` or ``_transport.Answer``)
after a Send and None after a Sleep; is thrown the ``httpx.RequestError`` of a Send that failed."""


class _Secret:
    """A credential that never shows itself in a repr, a str or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("credentials are not picklable")


class _KeyHeaders(dict[str, str]):
    """The headers of keyed requests; their repr hides the key."""

    def __repr__(self) -> str:
        return repr({k: ("<secret>" if k == "X-MBX-APIKEY" else v) for k, v in self.items()})

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("credentials are not picklable")


# -- history walks -----------------------------------------------------------------------------


@dataclass(slots=True)
class Walk(Generic[R]):
    """A :class:`Pager` and how to turn each page request into a call."""

    pager: Pager[R]
    build: Callable[[PageRequest], Call[list[R]]]

    def next_call(self) -> Call[list[R]] | None:
        request = self.pager.next_request()
        return None if request is None else self.build(request)

    def feed(self, rows: list[R]) -> list[R]:
        return self.pager.feed(rows)


def _income_key(row: models.Income) -> Hashable:
    return (row.tran_id, row.income_type, row.asset, row.symbol)


def _margin_key(row: models.MarginHistoryEntry) -> Hashable:
    return (row.amount, row.asset, row.symbol, row.change, row.position_side)


def _force_order_key(row: models.ForceOrder) -> Hashable:
    return (row.symbol, row.order_id)


# -- the core ----------------------------------------------------------------------------------


@dataclass
class ClientCore:
    """Configuration and state shared by one client: credentials, clock, weight gate, policy."""

    api_key: str | None = None
    api_secret: str | None = None
    base_url: str | None = None
    recv_window: int = 5000
    timeout: float = 10.0
    max_retries: int = 3
    retry_backoff: float = 0.25
    max_wait: float = 60.0
    weight_limit: int | None = None
    clock_refresh: float = 600.0
    now: Callable[[], float] = time.time
    clock: ServerClock = field(init=False)
    gate: WeightGate = field(init=False)

    def __post_init__(self) -> None:
        key = self.api_key if self.api_key is not None else os.environ.get("ASTER_API_KEY")
        secret = (
            self.api_secret if self.api_secret is not None else os.environ.get("ASTER_API_SECRET")
        )
        self._key = _Secret(key) if key else None
        self._secret = _Secret(secret) if secret else None
        # keep the plain values nowhere else
        self.api_key = self.api_secret = None
        url = self.base_url or os.environ.get("ASTER_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        self._origin = origin_of(self.base_url)
        self.clock = ServerClock(refresh_s=self.clock_refresh)
        self._fixed_limit = self.weight_limit is not None
        self.gate = WeightGate(self.weight_limit or 2400)
        agent = {"User-Agent": f"aster-account/{__version__}"}
        self._public_headers = agent
        self._key_headers = _KeyHeaders({**agent, "X-MBX-APIKEY": key}) if key else None
        self._time_call: Call[models.ServerTime] = make_call("get_server_time")

    def __repr__(self) -> str:
        return (
            f"ClientCore(base_url={self.base_url!r}, api_key={'set' if self._key else 'none'}, "
            f"recv_window={self.recv_window})"
        )

    @property
    def has_credentials(self) -> bool:
        return self._key is not None and self._secret is not None

    def local_ms(self) -> int:
        return int(self.now() * 1000)

    def server_ms(self) -> int:
        return self.clock.server_ms(self.local_ms())

    # -- building ------------------------------------------------------------------------------

    def build(self, call: Call[Any], timestamp_ms: int, encoded: str | None = None) -> Send:
        """The HTTP request of one attempt; signed endpoints are signed with ``timestamp_ms``.

        ``encoded``: ``encode_params(call.params)``, when the caller has it already (the
        parameters are the same on every attempt; only the timestamp and signature change).
        """
        if encoded is None:
            encoded = encode_params(call.params)
        ep = call.endpoint
        headers: dict[str, str]
        if ep.security.needs_key:
            if self._key_headers is None:
                raise MissingCredentials(
                    f"{ep.name} needs an API key: pass api_key=... or set ASTER_API_KEY."
                )
            headers = self._key_headers
        else:
            headers = self._public_headers
        if ep.signed:
            if self._secret is None:
                raise MissingCredentials(
                    f"{ep.name} is signed: pass api_secret=... or set ASTER_API_SECRET."
                )
            # signing.signed_query of (*params, recvWindow, timestamp), with the params' part
            # encoded once per call: the two numbers need no escaping
            payload = f"recvWindow={self.recv_window}&timestamp={timestamp_ms}"
            if encoded:
                payload = f"{encoded}&{payload}"
            query = f"{payload}&signature={sign(self._secret.reveal(), payload)}"
        else:
            query = encoded
        target = f"{ep.path}?{query}" if query else ep.path
        return Send(
            ep.method, f"{self.base_url}{target}", headers, self.timeout, self._origin, target
        )

    @staticmethod
    def weight(call: Call[Any]) -> int:
        w = call.endpoint.weight
        if not w.without:
            return w.base
        return w.for_params({k: "1" for k, v in call.params if v is not None})

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (0-based): exponential, capped."""
        return float(min(_MAX_BACKOFF_S, self.retry_backoff * (2**attempt)))

    # -- the flows -----------------------------------------------------------------------------

    def flow(self, call: Call[T]) -> Flow[T]:
        """The typed result of ``call``."""
        try:
            reply = yield from self.execute(call)
        except AsterError as err:
            if err.code in call.ok_codes:
                return models.CodeMsg(code=200, msg=err.msg)  # type: ignore[return-value]
            raise
        result: T = PARSERS[call.endpoint.name](reply.data)
        return result

    def raw_flow(self, call: Call[Any]) -> Flow[RawResponse]:
        """The answer of ``call`` as it came (errors still raise)."""
        try:
            return (yield from self.execute(call))
        except AsterError as err:
            if err.code in call.ok_codes:
                raw = _synthetic(call.endpoint, err.to_wire(), err.http_status)
                raw.headers = err.headers
                return raw
            raise

    def sync_flow(self) -> Flow[int]:
        """Measure the clock offset now; returns it in ms."""
        self.clock.invalidate()
        yield from self._ensure_clock()
        return self.clock.offset_ms

    def execute(self, call: Call[Any]) -> Flow[RawResponse]:
        """Send ``call`` until it succeeds or the retry rules say stop (module docstring)."""
        ep = call.endpoint
        kind = _RETRY_CLASSES[ep.name]
        weight = self.weight(call)
        attempt = limited = 0
        resynced = maybe_applied = False
        first_timestamp: int | None = None
        clock, gate = self.clock, self.gate
        encoded = encode_params(call.params)
        while True:
            # the nested flows only when there is something to do (most calls: nothing)
            if ep.signed and clock.due(self.local_ms()):
                yield from self._ensure_clock()
            if gate.acquire(weight, self.server_ms()) > 0:
                yield from self._throttle(weight)
            generation = clock.generation
            sent = self.local_ms()
            timestamp = clock.server_ms(sent)
            if first_timestamp is None:
                first_timestamp = timestamp
            send = self.build(call, timestamp, encoded)
            err: AsterError
            try:
                response: Reply = yield send
            except httpx.RequestError as exc:
                err = _transport_error(ep, exc)
                err.__cause__ = exc
            else:
                received = self.local_ms()
                headers = response.headers
                self.gate.observe(headers, timestamp)
                status = response.status_code
                content = response.content
                if 200 <= status < 300:
                    try:
                        data = orjson.loads(content) if content else None
                    except orjson.JSONDecodeError:
                        data = None
                        err = AsterError(
                            f"{ep.method} {ep.path}: HTTP {status} with a body that is not JSON.",
                            http_status=status,
                            headers=_plain(headers),
                        )
                    else:
                        embedded = _embedded_error(data, status, headers)
                        if embedded is None:
                            if ep.name == "get_exchange_info":
                                self._learn_limit(data)
                            return RawResponse(ep, status, headers, content, data, sent, received)
                        err = embedded
                else:
                    err = from_response(status, content, _plain(headers))
            # -- what now? ---------------------------------------------------------------------
            if isinstance(err, InvalidTimestamp) and ep.signed and not resynced:
                resynced = True
                if self.clock.generation == generation:
                    self.clock.invalidate()
                log.info("%s %s: -1021, measuring the clock again", ep.method, ep.path)
                continue
            if isinstance(err, TooManyRequests):
                wait = err.retry_after
                if wait is None:
                    now = self.server_ms()
                    wait = ((now // MINUTE_MS + 1) * MINUTE_MS - now) / 1000
                self.gate.block(wait, self.server_ms(), banned=isinstance(err, IPBannedError))
                if wait <= self.max_wait and limited < _RATE_LIMIT_RETRIES:
                    limited += 1
                    log.warning(
                        "%s %s: HTTP %d, waiting %.1fs", ep.method, ep.path, err.http_status, wait
                    )
                    continue
                raise err
            if kind == "TRANSFER" and maybe_applied and isinstance(err, DuplicatedClientTranId):
                assert first_timestamp is not None
                return (yield from self._recover_transfer(call, first_timestamp))
            never_sent = isinstance(err, TransportError)
            if not never_sent and not _uncertain(err):
                raise err
            if not never_sent:
                if kind == "WRITE":
                    raise _unknown_outcome(ep, err)
                if kind == "TRANSFER":
                    maybe_applied = True
            if attempt >= self.max_retries:
                if maybe_applied:
                    cid = call.param("clientTranId")
                    raise UnknownOutcome(
                        f"transfer clientTranId={cid}: no answer after {attempt + 1} attempts; "
                        "it may have been done. Call transfer again with this client_tran_id: "
                        "it is then done, or refused with -4115 because it was done already.",
                        http_status=err.http_status,
                        headers=err.headers,
                        client_tran_id=cid,
                    ) from err
                raise err
            delay = self.backoff(attempt)
            attempt += 1
            log.info("%s %s: %s; retry %d in %.2fs", ep.method, ep.path, err.name, attempt, delay)
            yield Sleep(delay)

    def _ensure_clock(self) -> Flow[None]:
        clock = self.clock
        while clock.due(now := self.local_ms()):
            if not clock.begin(now):
                yield Sleep(_CLOCK_POLL_S)  # another request is measuring; use its result
                continue
            done = False
            try:
                reply = yield from self.execute(self._time_call)
                server_time = PARSERS["get_server_time"](reply.data).server_time
                clock.update(reply.sent_ms, server_time, reply.received_ms)
                done = True
                log.debug(
                    "clock offset %d ms (round trip %s ms)", clock.offset_ms, clock.round_trip_ms
                )
            finally:
                if not done:
                    clock.end()

    def _throttle(self, weight: int) -> Flow[None]:
        gate = self.gate
        while True:
            now = self.server_ms()
            delay = gate.acquire(weight, now)
            if delay <= 0:
                return
            if delay > self.max_wait:
                error = IPBannedError if gate.banned(now) else RateLimitError
                raise error(
                    f"Request weight {weight} would wait {delay:.1f}s for the limit "
                    f"({gate.used}/{gate.limit} used this minute), longer than "
                    f"max_wait={self.max_wait}s.",
                    http_status=0,
                    retry_after=delay,
                )
            log.info("weight %d/%d used: waiting %.2fs", gate.used, gate.limit, delay)
            yield Sleep(delay)

    def _learn_limit(self, data: Any) -> None:
        if self._fixed_limit or not isinstance(data, dict):
            return
        try:
            info = from_wire(models.ExchangeInfo, data)
        except (ValueError, TypeError):
            return
        limit = weight_limit_from(info.rate_limits)
        if limit:
            self.gate.limit = limit

    def _recover_transfer(self, call: Call[Any], first_timestamp: int) -> Flow[RawResponse]:
        """-4115 on a retry: an earlier attempt did the transfer. Find its tranId."""
        cid = str(call.param("clientTranId"))
        asset = call.param("asset")
        amount = Decimal(str(call.param("amount")))
        signed = amount if call.param("kindType") == TransferKind.SPOT_FUTURE.value else -amount
        # The server accepts a timestamp less than 1000 ms ahead of its clock, so the transfer
        # happened after first_timestamp - 1000 and before now (with a minute for clock error).
        start = first_timestamp - 1000
        end = max(self.server_ms() + MINUTE_MS, start)
        income = make_call(
            "get_income", income_type="TRANSFER", start_time=start, end_time=end, limit=1000
        )
        reply = yield from self.execute(income)
        rows: list[models.Income] = PARSERS["get_income"](reply.data)
        found = [
            int(r.tran_id)
            for r in rows
            if r.asset == asset and r.income == signed and start <= r.time <= end
        ]
        log.info("transfer %s was applied by an earlier attempt; matches %s", cid, found)
        if len(found) != 1:
            raise AlreadyApplied(cid, found)
        return _synthetic(call.endpoint, {"tranId": found[0], "status": "SUCCESS"})

    # -- history walks -------------------------------------------------------------------------

    def _range(
        self, start_time: int | datetime | None, end_time: int | datetime | None
    ) -> tuple[int, int]:
        # "until now": the server's now, which may be ahead of our estimate by the clock's
        # uncertainty; a later end only takes in rows that exist
        end = to_ms(end_time) if end_time is not None else self.clock.latest_ms(self.local_ms())
        start = to_ms(start_time) if start_time is not None else end - 7 * 24 * 3600 * 1000 + 1
        return start, end

    def history_walk(
        self,
        endpoint: str,
        key_of: Callable[[Any], Hashable],
        start_time: int | datetime | None,
        end_time: int | datetime | None,
        page_size: int,
        **filters: object,
    ) -> Walk[Any]:
        """Every row of a time-ranged history endpoint (income, position-margin history, force
        orders): 7-day windows, pages of `page_size`, rows told apart by `key_of`."""
        start, end = self._range(start_time, end_time)
        pager = Pager(start, end, page_size, time_of=_time_of, key_of=key_of)
        return Walk(
            pager,
            lambda r: make_call(
                endpoint,
                frozenset(),
                **filters,
                start_time=r.start_time,
                end_time=r.end_time,
                limit=r.limit,
            ),
        )

    def income_walk(
        self,
        symbol: str | None,
        income_type: object,
        start_time: int | datetime | None,
        end_time: int | datetime | None,
        page_size: int,
    ) -> Walk[models.Income]:
        return self.history_walk(
            "get_income",
            _income_key,
            start_time,
            end_time,
            page_size,
            symbol=symbol,
            income_type=income_type,
        )

    def margin_history_walk(
        self,
        symbol: str,
        type: object,
        start_time: int | datetime | None,
        end_time: int | datetime | None,
        page_size: int,
    ) -> Walk[models.MarginHistoryEntry]:
        return self.history_walk(
            "get_position_margin_history",
            _margin_key,
            start_time,
            end_time,
            page_size,
            symbol=symbol,
            type=type,
        )

    def force_orders_walk(
        self,
        symbol: str | None,
        auto_close_type: object,
        start_time: int | datetime | None,
        end_time: int | datetime | None,
        page_size: int,
    ) -> Walk[models.ForceOrder]:
        return self.history_walk(
            "get_force_orders",
            _force_order_key,
            start_time,
            end_time,
            page_size,
            symbol=symbol,
            auto_close_type=auto_close_type,
        )


def _time_of(row: Any) -> int:
    t: int = row.time
    return t


def _embedded_error(data: Any, status: int, headers: Mapping[str, str]) -> AsterError | None:
    """A 2xx body that is ``{"code": <not 200>, "msg": ...}`` is an error (FACTS.md)."""
    if type(data) is not dict or "msg" not in data:
        return None
    code = data.get("code")
    if code is None or code in (200, "200"):
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        return None
    msg = data.get("msg")
    return aster_error(
        number, msg if isinstance(msg, str) else None, http_status=status, headers=_plain(headers)
    )


def _plain(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as an error keeps them (a plain dict): names in lowercase, whichever library
    read them, so ``err.headers["retry-after"]`` works for every transport."""
    return {name.lower(): value for name, value in headers.items()}


def _uncertain(err: AsterError) -> bool:
    """The request reached the server and may have been processed: no answer, or a 5xx."""
    return isinstance(err, UnknownOutcome) or err.http_status >= 500


def _transport_error(ep: Endpoint, exc: httpx.RequestError) -> AsterError:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, _NOT_SENT):
        return TransportError(f"{ep.method} {ep.path}: could not connect ({what}).")
    return UnknownOutcome(
        f"{ep.method} {ep.path}: no response ({what}); the request may have been processed.",
        http_status=0,
    )


def _unknown_outcome(ep: Endpoint, err: AsterError) -> UnknownOutcome:
    if isinstance(err, UnknownOutcome):
        return err
    outcome = UnknownOutcome(
        f"{ep.method} {ep.path}: HTTP {err.http_status} ({err.code} {err.msg}); "
        "the request may have been processed.",
        http_status=err.http_status,
        headers=err.headers,
        server_code=err.code,
    )
    outcome.__cause__ = err
    return outcome
