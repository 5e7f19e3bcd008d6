"""Putting the service together: config, store, market, demo account, the ASGI app, uvicorn."""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from aster_account.engine.market import Market
from aster_account.protocol import apidocs
from aster_account.server.app import create_app
from aster_account.server.operator import OperatorApi
from aster_account.server.service import Clock, Service
from aster_account.store import Store, open_store

log = logging.getLogger("aster_account.server")

# Mark prices a fresh database starts with, so that every endpoint answers at once. They are
# placeholders of the right order of magnitude, not market data; the operator API sets real ones.
START_MARKS = {
    "BTCUSDT": Decimal("100000"),
    "ETHUSDT": Decimal("3500"),
    "SOLUSDT": Decimal("150"),
    "ARBUSDT": Decimal("0.5"),
    "ASTERUSDT": Decimal("1.2"),
    "TRUTHUSDT": Decimal("0.02"),
}
DEMO_FUTURES = {"USDT": Decimal("10000")}
DEMO_SPOT = {"USDT": Decimal("1000")}
DEMO_META_KEY = "demo_account"


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "sqlite:///aster-account.db"
    operator_token: str | None = None
    market: str | None = None
    demo: bool = True
    demo_key_file: str = "aster-account-demo-key.json"
    weight_limit: int = 2400
    log_level: str = "info"


def write_private(path: Path, text: str) -> None:
    """Create (or replace) a file only its owner can read: secrets live in it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def ensure_demo(service: Service, config: ServerConfig) -> dict[str, Any] | None:
    """On the first start only: a funded demo account whose key is printed once and kept in a
    0600 file. Returns the key material when it was created now."""
    if service.store.get_meta(DEMO_META_KEY) is not None:
        return None
    account_id, api_key, api_secret = service.create_account(
        futures=DEMO_FUTURES, spot=DEMO_SPOT, alias="demo"
    )
    service.store.set_meta(DEMO_META_KEY, str(account_id))
    demo = {
        "accountId": account_id,
        "apiKey": api_key,
        "apiSecret": api_secret,
        "baseUrl": f"http://{config.host}:{config.port}",
    }
    write_private(Path(config.demo_key_file), json.dumps(demo, indent=2) + "\n")
    return demo


def _extras(service: Service) -> list[BaseRoute]:
    openapi = apidocs.render_openapi_json().encode()
    api_md = apidocs.render_api_md()

    async def spot_exchange_info(_r: Request) -> Response:
        # ccxt loads spot markets too; this service has none, so it answers an empty list
        body = {
            "timezone": "UTC",
            "serverTime": service.clock(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": service.weight_limit,
                },
            ],
            "exchangeFilters": [],
            "symbols": [],
        }
        return Response(orjson.dumps(body), media_type="application/json")

    async def openapi_json(_r: Request) -> Response:
        return Response(openapi, media_type="application/json")

    async def docs_page(_r: Request) -> Response:
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>aster-account API</title>"
            "<p><a href=/openapi.json>openapi.json</a></p><pre>" + html.escape(api_md) + "</pre>"
        )

    return [
        Route("/api/v1/exchangeInfo", spot_exchange_info, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
    ]


def build(config: ServerConfig, store: Store | None = None) -> tuple[Starlette, Service]:
    market = Market.load(config.market)
    service = Service(
        store=store or open_store(config.db),
        market=market,
        clock=Clock(),
        weight_limit=config.weight_limit,
    )
    service.ensure_marks(
        {
            name: START_MARKS.get(name) or spec.round_price((spec.min_price + spec.max_price) / 2)
            for name, spec in market.symbols.items()
        }
    )
    token = config.operator_token or ""
    operator = OperatorApi(service, token)
    app = create_app(service, extra_routes=[*_extras(service), *operator.routes()])
    return app, service


def serve(config: ServerConfig) -> None:
    import uvicorn

    logging.basicConfig(level=config.log_level.upper(), format="%(message)s")
    if not config.operator_token:
        config.operator_token = secrets.token_hex(16)
        print(f"operator token (this run): {config.operator_token}")
    app, service = build(config)
    if config.demo:
        demo = ensure_demo(service, config)
        if demo is not None:
            print(f"demo account created (shown once; also in {config.demo_key_file}, mode 0600):")
            print(json.dumps(demo, indent=2))
        else:
            print(f"demo account: see {config.demo_key_file}")
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        ws="websockets-sansio",
    )
