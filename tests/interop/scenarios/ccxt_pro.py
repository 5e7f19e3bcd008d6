"""ccxt pro `ccxt.pro.aster` against our user data stream, driven over `_driver`'s protocol.

A client's config: {"base_url", "apiKey", "secret"}. Besides `urls['api']` (as in ccxt_rest.py),
the private swap stream URL points at our `/ws`. ccxt.pro's aster tells futures
streams from spot ones by the word "fstream" in the URL (`get_account_type_from_url`), so the
URL carries that word as its user-info part: it changes nothing about where it connects.

HTTP exchanges (REST and the websocket handshake) are seen through an aiohttp trace on a session
we hand to ccxt, which is ccxt's documented way to supply one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import ccxt
import ccxt.pro
from _driver import Session, serve_async
from ccxt_rest import aim


def tracer(session: Session) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def on_start(_s: Any, ctx: Any, _params: Any) -> None:
        ctx.chunks = []

    async def on_chunk(_s: Any, ctx: Any, params: Any) -> None:
        ctx.chunks.append(params.chunk)

    async def on_end(_s: Any, ctx: Any, params: Any) -> None:
        body = b"".join(getattr(ctx, "chunks", [])) or None
        response = params.response
        text = None
        if response.status != 101:
            try:
                text = await response.text()
            except Exception:
                text = None
        session.record(
            params.method,
            str(params.url),
            body,
            "X-MBX-APIKEY" in params.headers,
            response.status,
            text,
        )

    async def on_error(_s: Any, _ctx: Any, params: Any) -> None:
        session.record(params.method, str(params.url), None, False, None, repr(params.exception))

    trace.on_request_start.append(on_start)
    trace.on_request_chunk_sent.append(on_chunk)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_error)
    return trace


def connected(exchange: Any) -> bool:
    return any(
        client.connected.done() and not client.connected.cancelled()
        for client in exchange.clients.values()
    )


async def main() -> None:
    session: Session

    def make(config: dict[str, Any]) -> Any:
        http = aiohttp.ClientSession(trace_configs=[tracer(session)])
        exchange = ccxt.pro.aster(
            {
                "apiKey": config["apiKey"],
                "secret": config["secret"],
                "enableRateLimit": False,
                "options": {"defaultType": "swap"},
                "session": http,
            }
        )
        aim(exchange, config["base_url"])
        ws = exchange.urls["api"]["ws"]
        stream = config["base_url"].replace("http://", "ws://fstream@", 1) + "/ws"
        ws["private"] = {**ws["private"], "swap": stream}
        return exchange

    session = Session(make)
    try:
        await serve_async(session, {"peer": "ccxt.pro", "version": ccxt.__version__}, connected)
    finally:
        for exchange in session.clients.values():
            http = exchange.session
            await exchange.close()
            await http.close()


if __name__ == "__main__":
    asyncio.run(main())
