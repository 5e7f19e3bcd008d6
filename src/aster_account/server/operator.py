"""The operator API: what a venue operator (or a test) needs to run the service.

JSON in and out, behind the `X-Operator-Token` header (constant-time compared). Errors use the
same `{"code", "msg"}` shape as the public API.

    POST /operator/v1/accounts      {"permissions"?, "futures"?, "spot"?, "alias"?}
                                    -> {"accountId", "apiKey", "apiSecret"}
    GET  /operator/v1/accounts/{id} -> the account's full state
    POST /operator/v1/deposit       {"accountId", "asset", "amount", "wallet": "FUTURES"|"SPOT"}
    POST /operator/v1/markPrice     {"symbol", "markPrice", "indexPrice"?, "fundingRate"?}
                                    -> runs the risk check before it answers
    POST /operator/v1/funding       {"symbol"?} settles funding now
    POST /operator/v1/keys/disable  {"apiKey", "enabled"?: false}
    POST /operator/v1/account/flags {"accountId", "canTrade"?, "canDeposit"?, "canWithdraw"?}
    POST /operator/v1/clock         {"offsetMs"} shifts the server clock (tests, replays)
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aster_account.engine.context import Outcome
from aster_account.protocol.enums import Permission
from aster_account.protocol.errors import AsterError, aster_error
from aster_account.protocol.wire import parse_decimal
from aster_account.server.service import Clock, Service

JSON = "application/json"
log = logging.getLogger("aster_account.server")


def _bad(name: str) -> AsterError:
    return aster_error(-1130, f"Data sent for parameter '{name}' is not valid.")


def _decimal(body: dict[str, Any], name: str, required: bool = True) -> Decimal | None:
    if name not in body or body[name] is None:
        if required:
            raise aster_error(
                -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            )
        return None
    try:
        value = parse_decimal(body[name])
    except ValueError:
        raise _bad(name) from None
    return value


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise _bad(name)
    return value


def _str(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(name)
    return value


def _is_id(value: int) -> bool:
    return 0 < value < 2**63


def _account_id(body: dict[str, Any]) -> int:
    account_id = _int(body, "accountId")
    if not _is_id(account_id):
        raise aster_error(-1109, "Invalid account.")
    return account_id


def _changes(results: dict[int, Outcome]) -> dict[str, Any]:
    return {
        "accounts": sorted(results),
        "events": sum(len(o.events) for o in results.values()),
    }


class OperatorApi:
    def __init__(self, service: Service, token: str) -> None:
        self.service = service
        self.token = token

    def routes(self) -> list[BaseRoute]:
        table: list[tuple[str, str, Callable[[dict[str, Any], Request], Any]]] = [
            ("POST", "/operator/v1/accounts", self.create_account),
            ("GET", "/operator/v1/accounts/{account_id:int}", self.get_account),
            ("POST", "/operator/v1/deposit", self.deposit),
            ("POST", "/operator/v1/markPrice", self.mark_price),
            ("POST", "/operator/v1/funding", self.funding),
            ("POST", "/operator/v1/keys/disable", self.disable_key),
            ("POST", "/operator/v1/account/flags", self.flags),
            ("POST", "/operator/v1/clock", self.clock),
        ]
        return [Route(path, self._wrap(fn), methods=[method]) for method, path, fn in table]

    def _wrap(
        self, fn: Callable[[dict[str, Any], Request], Any]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                given = request.headers.get("x-operator-token", "")
                if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
                    raise aster_error(
                        -1002, "You are not authorized to execute this request.", http_status=401
                    )
                body: dict[str, Any] = {}
                if request.method == "POST":
                    raw = await request.body()
                    if raw:
                        try:
                            parsed = orjson.loads(raw)
                        except orjson.JSONDecodeError:
                            raise aster_error(
                                -1102,
                                "A mandatory parameter was not sent, was empty/null, or malformed.",
                            ) from None
                        if not isinstance(parsed, dict):
                            raise aster_error(
                                -1102,
                                "A mandatory parameter was not sent, was empty/null, or malformed.",
                            )
                        body = parsed
                result = await run_in_threadpool(fn, body, request)
                return Response(orjson.dumps(result), 200, media_type=JSON)
            except AsterError as err:
                return Response(orjson.dumps(err.to_wire()), err.http_status, media_type=JSON)
            except Exception:
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                unknown = aster_error(
                    -1000, "An unknown error occured while processing the request."
                )
                return Response(orjson.dumps(unknown.to_wire()), 500, media_type=JSON)

        return endpoint

    def create_account(self, body: dict[str, Any], _r: Request) -> Any:
        perms = body.get("permissions")
        if perms is None:
            permissions = frozenset(Permission)
        else:
            try:
                permissions = frozenset(Permission(p) for p in perms)
            except (ValueError, TypeError):
                raise _bad("permissions") from None
        wallets: dict[str, dict[str, Decimal]] = {}
        for wallet in ("futures", "spot"):
            raw = body.get(wallet) or {}
            if not isinstance(raw, dict):
                raise _bad(wallet)
            wallets[wallet] = {}
            for asset, amount in raw.items():
                value = _decimal({asset: amount}, asset)
                assert value is not None
                if asset not in self.service.market.assets or value <= 0:
                    raise _bad(wallet)
                wallets[wallet][asset] = value
        alias = body.get("alias") or ""
        account_id, api_key, api_secret = self.service.create_account(
            permissions=permissions,
            futures=wallets["futures"],
            spot=wallets["spot"],
            alias=str(alias),
        )
        return {"accountId": account_id, "apiKey": api_key, "apiSecret": api_secret}

    def get_account(self, _b: dict[str, Any], request: Request) -> Any:
        account_id = request.path_params["account_id"]
        acct = self.service.store.load_account(account_id) if _is_id(account_id) else None
        if acct is None:
            raise aster_error(-1109, "Invalid account.", http_status=404)
        return acct.to_dict()

    def deposit(self, body: dict[str, Any], _r: Request) -> Any:
        account_id = _account_id(body)
        asset = _str(body, "asset")
        amount = _decimal(body, "amount")
        wallet = body.get("wallet", "FUTURES")
        if wallet not in ("FUTURES", "SPOT"):
            raise _bad("wallet")
        if self.service.store.load_account(account_id) is None:
            raise aster_error(-1109, "Invalid account.")
        assert asset is not None and amount is not None
        self.service.deposit(account_id, asset, amount, to_spot=wallet == "SPOT")
        return {"code": 200, "msg": "success"}

    def mark_price(self, body: dict[str, Any], _r: Request) -> Any:
        symbol = _str(body, "symbol")
        assert symbol is not None
        if symbol not in self.service.market.symbols:
            raise aster_error(-1121, "Invalid symbol.")
        mark = _decimal(body, "markPrice")
        assert mark is not None
        if mark <= 0:
            raise _bad("markPrice")
        index = _decimal(body, "indexPrice", required=False)
        rate = _decimal(body, "fundingRate", required=False)
        if index is not None and index <= 0:
            raise _bad("indexPrice")
        results = self.service.set_mark(symbol, mark, index_price=index, funding_rate=rate)
        return {"symbol": symbol, "markPrice": str(mark), **_changes(results)}

    def funding(self, body: dict[str, Any], _r: Request) -> Any:
        symbol = _str(body, "symbol", required=False)
        if symbol is not None and symbol not in self.service.market.symbols:
            raise aster_error(-1121, "Invalid symbol.")
        return _changes(self.service.settle_funding(symbol))

    def disable_key(self, body: dict[str, Any], _r: Request) -> Any:
        api_key = _str(body, "apiKey")
        assert api_key is not None
        enabled = body.get("enabled", False)
        if not isinstance(enabled, bool):
            raise _bad("enabled")
        if not self.service.store.set_api_key_enabled(api_key, enabled):
            raise aster_error(-2015, "Invalid API-key, IP, or permissions for action.")
        self.service.key_changed(api_key)
        return {"apiKey": api_key, "enabled": enabled}

    def flags(self, body: dict[str, Any], _r: Request) -> Any:
        account_id = _account_id(body)
        if self.service.store.load_account(account_id) is None:
            raise aster_error(-1109, "Invalid account.")
        changes = {}
        for wire, attr in (
            ("canTrade", "can_trade"),
            ("canDeposit", "can_deposit"),
            ("canWithdraw", "can_withdraw"),
        ):
            if wire in body:
                if not isinstance(body[wire], bool):
                    raise _bad(wire)
                changes[attr] = body[wire]

        def apply(acct: Any, ctx: Any) -> Outcome:
            for attr, value in changes.items():
                setattr(acct, attr, value)
            acct.update_time = ctx.now_ms
            return Outcome()

        self.service.mutate(account_id, apply)
        return {"accountId": account_id, **{k: body[k] for k in body if k != "accountId"}}

    def clock(self, body: dict[str, Any], _r: Request) -> Any:
        offset = _int(body, "offsetMs")
        clock = self.service.clock
        if not isinstance(clock, Clock):
            raise aster_error(-1020, "This operation is not supported.")
        clock.offset_ms = offset
        return {"offsetMs": offset, "serverTime": clock()}
