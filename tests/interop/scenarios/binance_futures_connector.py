"""binance-futures-connector's `UMFutures(base_url=...)` against our server, over `_driver`.

A client's config: {"base_url", "key", "secret"}. Its HTTP exchanges are seen through a response
hook on the `requests` session the connector keeps.
"""

from __future__ import annotations

from typing import Any

from _driver import Session, serve
from binance.__version__ import __version__
from binance.um_futures import UMFutures


def main() -> None:
    session: Session

    def make(config: dict[str, Any]) -> Any:
        client = UMFutures(key=config["key"], secret=config["secret"], base_url=config["base_url"])
        client.session.hooks["response"].append(session.requests_hook)
        return client

    session = Session(make)
    serve(session, {"peer": "binance-futures-connector", "version": __version__})


if __name__ == "__main__":
    main()
