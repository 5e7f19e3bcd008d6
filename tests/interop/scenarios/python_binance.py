"""python-binance's `Client` (its `futures_*` methods) against our server, over `_driver`.

A client's config: {"base_url", "key", "secret"}. `ping=False` keeps the constructor from calling
Binance; `FUTURES_URL` is the documented attribute its futures calls are built on. HTTP exchanges
are seen through a response hook on its `requests` session.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from _driver import Session, serve
from binance.client import Client


def main() -> None:
    session: Session

    def make(config: dict[str, Any]) -> Any:
        client = Client(config["key"], config["secret"], ping=False)
        client.FUTURES_URL = config["base_url"] + "/fapi"
        client.session.hooks["response"].append(session.requests_hook)
        return client

    session = Session(make)
    serve(session, {"peer": "python-binance", "version": version("python-binance")})


if __name__ == "__main__":
    main()
