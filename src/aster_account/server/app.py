"""The ASGI app: routes built from the endpoint catalog, Aster's auth, weights and error shape.

A request goes: weight (per IP, counted even when it fails) -> parameters (query and form body,
the query wins when both carry one; the catalog validates) -> API key and its permission ->
timestamp / recvWindow -> signature over totalParams -> the handler, in a worker thread because
the store is synchronous. Every answer, error or not, carries `X-MBX-USED-WEIGHT-1M`. Errors are
`{"code": -NNNN, "msg": "..."}`; nothing unexpected ever leaves as a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from aster_account.protocol import catalog, signing
from aster_account.protocol.catalog import Endpoint
from aster_account.protocol.enums import Security
from aster_account.protocol.errors import AsterError, aster_error
from aster_account.server.handlers import HANDLERS
from aster_account.server.limits import RedisWeightLimiter, WeightLimiter
from aster_account.server.observe import Metrics
from aster_account.server.render import render
from aster_account.server.service import Service
from aster_account.store import ApiKey

log = logging.getLogger("aster_account.server")

MAX_BODY_BYTES = 64 * 1024
# Aster / Binance keys are 64 letters and digits; anything else is "format invalid" (-2014)
API_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{16,128}")
JSON = "application/json"


def error_response(err: AsterError, used: int | None) -> Response:
    headers = dict(err.headers)
    if used is not None:
        headers.setdefault("X-MBX-USED-WEIGHT-1M", str(used))
    return Response(orjson.dumps(err.to_wire()), err.http_status, headers, JSON)


def _parse_form(raw: bytes, where: str) -> tuple[str, dict[str, str]]:
    """Raw text (for the signature) and the params; duplicates inside one part are -1101."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise aster_error(-1100, "Illegal characters found in a parameter.") from None
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise aster_error(-1100, "Illegal characters found in a parameter.") from None
    for key, value in pairs:
        if key in params:
            raise aster_error(-1101, "Duplicate values for a parameter detected.", where=where)
        params[key] = value
    return text, params


class KeyCache:
    """API keys looked up in the last second: a revoked key stops working within that time in
    every process (and at once in the process that revoked it, see `forget`)."""

    TTL_MS = 1000

    def __init__(self) -> None:
        self._keys: dict[str, tuple[int, ApiKey]] = {}

    def get(self, api_key: str, now_ms: int) -> ApiKey | None:
        hit = self._keys.get(api_key)
        if hit is None or now_ms - hit[0] > self.TTL_MS:
            return None
        return hit[1]

    def put(self, api_key: str, key: ApiKey, now_ms: int) -> None:
        if len(self._keys) > 100_000:
            self._keys.clear()
        self._keys[api_key] = (now_ms, key)

    def forget(self, api_key: str) -> None:
        self._keys.pop(api_key, None)


class Api:
    """The Aster-shaped HTTP face of a `Service`."""

    def __init__(
        self,
        service: Service,
        limiter: WeightLimiter | RedisWeightLimiter | None = None,
        *,
        inline: bool = True,
    ) -> None:
        self.service = service
        self.limiter = limiter or WeightLimiter(service.weight_limit)
        # Handlers are short (an indexed read or one small transaction): running them on the
        # event loop costs less than two thread hops per request. `inline=False` moves them to
        # the thread pool, for stores whose calls may block for long.
        self.inline = inline
        self.keys = KeyCache()
        service.on_key_changed.append(self.keys.forget)
        self.metrics = Metrics()

    async def handle(self, request: Request, ep: Endpoint) -> Response:
        started = time.perf_counter()
        svc = self.service
        ip = request.client.host if request.client else "-"
        used: int | None = None
        status, code, account_id = 200, 0, None
        try:
            try:
                query_text, query = _parse_form(request.scope.get("query_string", b""), "query")
                body_text, body = "", dict[str, str]()
                if ep.method != "GET":
                    raw = await request.body()
                    if len(raw) > MAX_BODY_BYTES:
                        raise aster_error(-1101, "Too many parameters sent for this endpoint.")
                    if raw:
                        body_text, body = _parse_form(raw, "body")
            except AsterError:
                used = await self.limiter.acquire(ip, ep.weight.base, svc.clock())
                raise
            params = {**body, **query}  # docs: a param in both places takes the query's value
            used = await self.limiter.acquire(ip, ep.weight_for(params), svc.clock())
            typed = catalog.validate(ep, params, auth=False)
            if ep.security.needs_key:
                account_id = await self._authenticate(request, ep, params, query_text, body_text)
            handler = HANDLERS[ep.name]
            if svc.writer is not None and ep.security in (Security.TRADE, Security.TRANSFER):
                # a write runs on the group-commit writer; the loop awaits its commit
                result = await asyncio.wrap_future(
                    svc.writer.submit(lambda: handler(svc, account_id, typed))
                )
            elif self.inline:
                result = handler(svc, account_id, typed)
            else:
                result = await run_in_threadpool(handler, svc, account_id, typed)
            payload = render(result)
            return Response(payload, 200, {"X-MBX-USED-WEIGHT-1M": str(used)}, JSON)
        except AsterError as err:
            status, code = err.http_status, err.code
            return error_response(err, used)
        except Exception:
            status, code = 500, -1000
            log.exception("unexpected error on %s %s", ep.method, ep.path)
            return error_response(
                aster_error(-1000, "An unknown error occured while processing the request."),
                used,
            )
        finally:
            self.metrics.request(
                endpoint=ep.name,
                method=ep.method,
                path=ep.path,
                ip=ip,
                status=status,
                code=code,
                seconds=time.perf_counter() - started,
                weight=used,
                account_id=account_id,
            )

    async def _authenticate(
        self, request: Request, ep: Endpoint, params: dict[str, str], query: str, body: str
    ) -> int:
        svc = self.service
        api_key = request.headers.get("x-mbx-apikey")
        if not api_key or not API_KEY_FORMAT.fullmatch(api_key):
            raise aster_error(-2014, "API-key format invalid.")
        key = self.keys.get(api_key, svc.clock())
        if key is None:
            key = (
                svc.store.api_key(api_key)
                if self.inline
                else await run_in_threadpool(svc.store.api_key, api_key)
            )
            if key is not None:
                self.keys.put(api_key, key, svc.clock())
        if key is None or not key.enabled:
            raise aster_error(-2015, "Invalid API-key, IP, or permissions for action.")
        if ep.permission is not None and ep.permission not in key.permissions:
            raise aster_error(-2015, "Invalid API-key, IP, or permissions for action.")
        if ep.signed:
            timestamp, recv_window = catalog.validate_auth(params)
            signing.check_timestamp(timestamp, recv_window, svc.clock())
            query_rest, sig_q = signing.split_signature(query)
            body_rest, sig_b = signing.split_signature(body)
            signature = sig_q if sig_q is not None else sig_b
            if not signature:
                raise aster_error(
                    -1102,
                    "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
                )
            total = signing.total_params(query_rest, body_rest)
            if not signing.verify(key.secret, total, signature):
                raise aster_error(-1022, "Signature for this request is not valid.")
        return key.account_id


def _unsupported(status: int) -> Response:
    err = aster_error(-1020, "This operation is not supported.", http_status=status)
    return error_response(err, None)


async def _not_here(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in Aster's shape too, never a plain-text page."""
    return _unsupported(getattr(exc, "status_code", 404))


class AsterApp(Starlette):
    """Starlette, with the catalog's paths dispatched before its middleware and router.

    A catalog request is answered by `Api.handle`, which turns every failure into an Aster
    error itself, so Starlette's error middleware has nothing to add to it, and a lookup by
    path finds it where the router would try each route's pattern in turn: about a twelfth of
    the server's CPU on a cheap read (docs/design-notes.md). HEAD is a GET without the body
    (RFC 9110 9.3.2); any other method on a catalog path is 405 -1020. Everything else
    (operator API, docs, metrics, the user data stream, unknown paths) goes through Starlette.
    """

    def __init__(self, api: Api, *, routes: list[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes=routes, **kwargs)
        self.api = api
        self._by_path: dict[str, dict[str, Endpoint]] = {}
        for ep in catalog.ENDPOINTS:
            self._by_path.setdefault(ep.path, {})[ep.method] = ep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self._by_path.get(scope["path"]) if scope["type"] == "http" else None
        if methods is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        method = scope["method"]
        ep = methods.get("GET" if method == "HEAD" else method)
        if ep is None:
            response = _unsupported(405)
        else:
            response = await self.api.handle(Request(scope, receive), ep)
        await response(scope, receive, send)


def create_app(
    service: Service,
    *,
    extra_routes: list[BaseRoute] | None = None,
    limiter: WeightLimiter | RedisWeightLimiter | None = None,
) -> Starlette:
    api = Api(service, limiter)
    metrics = Route("/metrics", api.metrics.endpoint, methods=["GET"])
    app = AsterApp(
        api,
        routes=[metrics, *(extra_routes or [])],
        exception_handlers={404: _not_here, 405: _not_here},
    )
    app.state.api = api
    app.state.service = service
    return app
