"""The Python SDK of the Aster account API: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

    from aster_account import Client
    with Client(api_key, api_secret) as client:        # or ASTER_API_KEY / ASTER_API_SECRET
        for row in client.get_balance():               # list[BalanceRow], Decimal money
            print(row.asset, row.available_balance)
        client.set_margin_type("BTCUSDT", "ISOLATED", ok_if_unchanged=True)
        client.transfer(asset="USDT", amount=Decimal("10"), kind_type="FUTURE_SPOT")
        for entry in client.iter_income(start_time=datetime(2026, 1, 1, tzinfo=UTC)):
            ...
        raw = client.raw.get_balance()                 # RawResponse: status, headers, json()

Layout (one concept per module, as httpx's):

    _endpoints  one typed function per catalog endpoint -> Call (signature and doc, written once)
    _core       ClientCore: build + sign, clock, weight gate, retry rules, parsing -- a
                generator flow that yields Send / Sleep and never does I/O itself
    _clock      the server clock offset (midpoint of a /fapi/v1/time round trip)
    _limits     the request-weight gate (X-MBX-USED-WEIGHT-1M, Retry-After)
    _paginate   the history pager (7-day windows, pages, no gaps or repeats)
    _stream     the user data stream policy (keepalive, reconnect, new keys)
    _transport  what a transport is (exchange(send) -> Reply) and the httpx adapters
    _httptools  the default transports: keep-alive sockets, answers parsed by httptools
    _urllib3    Client's transport when the environment names a proxy
    _aiohttp    AsyncClient's transport when the environment names a proxy (loaded then)
    _base       what the two faces share besides the core
    _sync       Client (and UserStream): drives the flow with blocking I/O and time.sleep
    _async      AsyncClient (and AsyncUserStream): drives the same flow with await

Retry rules, in short: reads are retried after transport errors and 5xx; transfers are retried
with the same clientTranId (so money moves once); every other write whose response is lost
raises ``UnknownOutcome``; -1021 resyncs the clock and re-signs once; 429 / 418 wait for
``Retry-After`` up to ``max_wait``. The table is in ``_core``.

The user data stream: ``client.user_stream()`` (``for event in ...`` / ``async for event in
...``) owns one listenKey (made, kept alive every 30 minutes, closed on exit), reads
``/ws/<listenKey>`` with the ``websockets`` library, hands out ``protocol.models`` events, and
reconnects with backoff, with a new key after ``listenKeyExpired`` and a new connection before
the 24-hour limit; ``on_notice`` hears of each of these as a ``StreamNotice``. A disconnection is
a gap (events sent meanwhile are lost), so after it the stream first hands out a
``StreamResync``: balances and positions read over REST once the new connection is open.
``_stream.StreamPolicy`` decides; the faces do the I/O.
"""

from aster_account.client._async import AsyncClient, AsyncUserStream
from aster_account.client._core import DEFAULT_BASE_URL, RawResponse, new_client_tran_id
from aster_account.client._errors import AlreadyApplied, MissingCredentials
from aster_account.client._stream import StreamNotice, StreamResync
from aster_account.client._sync import Client, UserStream

__all__ = [
    "DEFAULT_BASE_URL",
    "AlreadyApplied",
    "AsyncClient",
    "AsyncUserStream",
    "Client",
    "MissingCredentials",
    "RawResponse",
    "StreamNotice",
    "StreamResync",
    "UserStream",
    "new_client_tran_id",
]
