"""ccxt (sync) `ccxt.aster` pointed at our server, driven over `_driver`'s line protocol.

A client's config: {"base_url", "apiKey", "secret"}. The only changes from a stock ccxt.aster are
the ones a user makes to aim it elsewhere: `urls['api']`, rate limiting off, and swap as the
default market type (this service has no spot account).
"""

from __future__ import annotations

from typing import Any

import ccxt
from _driver import Session, serve


def aim(exchange: Any, base_url: str) -> None:
    exchange.urls["api"] = {
        **exchange.urls["api"],
        "fapiPublic": base_url + "/fapi",
        "fapiPrivate": base_url + "/fapi",
        "sapiPublic": base_url + "/api",
        "sapiPrivate": base_url + "/api",
    }


def main() -> None:
    session: Session

    def make(config: dict[str, Any]) -> Any:
        exchange = ccxt.aster(
            {
                "apiKey": config["apiKey"],
                "secret": config["secret"],
                "enableRateLimit": False,
                "options": {"defaultType": "swap"},
            }
        )
        aim(exchange, config["base_url"])
        exchange.session.hooks["response"].append(session.requests_hook)
        return exchange

    session = Session(make)
    serve(session, {"peer": "ccxt", "version": ccxt.__version__})


if __name__ == "__main__":
    main()
