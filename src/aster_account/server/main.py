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
from aster_account.server import riskloop, stream
from aster_account.server.app import create_app
from aster_account.server.limits import RedisWeightLimiter
from aster_account.server.operator import OperatorApi
from aster_account.server.service import Clock, Service
from aster_account.store import PostgresStore, Store, open_store

log = logging.getLogger("aster_account.server")

# Mark prices a fresh database starts with, so that every endpoint answers at once. They are
# placeholders of the right order of magnitude, not market data; the operator API sets real ones.
START_MARKS = {
    "BTCUSDT": Decimal("100000"),
    "ETHUSDT": Decimal("3500"),
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
    # request-weight counters shared by the processes of one venue (redis://...); None: per process
    redis: str | None = None
    redis_prefix: str = "aster-account"
    log_level: str = "info"
    # mark prices replayed by the risk loop (CSV, format in `riskloop`), and how fast
    prices: str | None = None
    prices_speed: float = 1.0
    # seconds between ADL quantile refreshes (docs: 30); 0 computes on every request instead
    adl_refresh_s: float = riskloop.ADL_REFRESH_S
    # seconds between looks at funding times and listen-key expiries
    risk_tick_s: float = riskloop.TICK_S
    # user data stream: connection lifetime (docs: 24 h), frames a connection may have waiting
    stream_max_age_s: float = stream.MAX_AGE_MS / 1000
    stream_queue_size: int = stream.QUEUE_SIZE
    # websocket ping frames from the server, and how long a pong may take (docs: 15 minutes)
    ws_ping_interval: float = 30.0
    ws_ping_timeout: float = 900.0
    # permessage-deflate: off, since zlib on every small event frame more than doubled the
    # server's CPU per delivered event; a client that asks for it gets plain frames
    ws_per_message_deflate: bool = False


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


def _pg_url(config: ServerConfig, store: Store) -> str | None:
    """Where the stream fan-out connects: the store's PostgreSQL database, if it has one."""
    if not isinstance(store, PostgresStore):
        return None
    if config.db.startswith(("postgresql://", "postgres://")):
        return config.db
    conninfo = getattr(getattr(store, "_pool", None), "conninfo", None)
    return conninfo if isinstance(conninfo, str) else None


def build(config: ServerConfig, store: Store | None = None) -> tuple[Starlette, Service]:
    market = Market.load(config.market)
    # a bad prices file stops the start before anything else is opened
    prices = riskloop.read_prices(config.prices, market.symbols) if config.prices else None
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
    # the user data stream: in-process delivery, and NOTIFY / LISTEN between the processes of
    # one PostgreSQL database
    pg_url = _pg_url(config, service.store)
    fanout = stream.PgFanout(pg_url) if pg_url else None
    hub = stream.StreamHub(
        service,
        fanout=fanout,
        queue_size=config.stream_queue_size,
        max_age_ms=int(config.stream_max_age_s * 1000),
    )
    hub.install()
    risk = riskloop.RiskLoop(
        service,
        hub,
        prices=prices,
        prices_speed=config.prices_speed,
        adl_refresh_s=config.adl_refresh_s,
        tick_s=config.risk_tick_s,
        is_leader=(lambda: fanout.is_leader) if fanout is not None else (lambda: True),
    )
    limiter = (
        RedisWeightLimiter(config.redis, config.weight_limit, prefix=config.redis_prefix)
        if config.redis
        else None
    )
    app = create_app(
        service,
        extra_routes=[*_extras(service), *operator.routes(), *hub.routes()],
        limiter=limiter,
    )
    service.start_group_commit()
    app.router.lifespan_context = riskloop.lifespan(
        hub, risk, service.stop_group_commit, closers=[limiter.aclose] if limiter else []
    )
    app.state.hub = hub
    app.state.risk = risk
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
        ws_ping_interval=config.ws_ping_interval,
        ws_ping_timeout=config.ws_ping_timeout,
        ws_per_message_deflate=config.ws_per_message_deflate,
    )
