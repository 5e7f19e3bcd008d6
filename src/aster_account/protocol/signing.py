"""HMAC-SHA256 request signing (v1 auth) and the timestamp / recvWindow rule.

Pure functions: no I/O, and the clock is always passed in.

The docs ("SIGNED (TRADE and USER_DATA) Endpoint Security"):
- ``totalParams`` is the query string concatenated with the request body, with no ``&`` between
  them (example 3), each exactly as sent: parameters are not sorted, decoded or re-encoded.
- ``signature`` = lowercase hex of HMAC-SHA256(secretKey, totalParams); it is not case sensitive,
  and is sent as the last parameter of the query string or of the body.
- A request is processed when ``timestamp < serverTime + 1000`` and
  ``serverTime - timestamp <= recvWindow``; recvWindow defaults to 5000 and must not exceed 60000.

Server side: ``split_signature`` on the query and on the body, ``total_params`` of the two
remainders, ``verify``, and ``check_timestamp``. Client side: ``signed_query``.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from urllib.parse import urlencode

from aster_account.protocol.errors import BadRecvWindow, InvalidParameter, InvalidTimestamp

__all__ = [
    "DEFAULT_RECV_WINDOW",
    "MAX_RECV_WINDOW",
    "check_timestamp",
    "encode_params",
    "sign",
    "signed_query",
    "split_signature",
    "total_params",
    "verify",
]

DEFAULT_RECV_WINDOW = 5000
"""Milliseconds a signed request stays valid when it sends no recvWindow (docs)."""

MAX_RECV_WINDOW = 60000
"""The largest recvWindow accepted; above it the server answers -1131 (FACTS.md)."""

# The server may send a timestamp this many ms ahead of its clock, exclusive (docs).
_AHEAD_TOLERANCE_MS = 1000

_SIGNATURE_KEY = "signature"
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def total_params(query: str, body: str) -> str:
    """The signed payload: query string then body, with no ``&`` between (docs, example 3)."""
    return query + body


def split_signature(raw: str) -> tuple[str, str | None]:
    """Take the ``signature`` parameter out of a raw urlencoded string, as sent.

    Returns the rest exactly as sent (only the ``signature=...`` pair and the one ``&`` that joined
    it are gone) and the signature, or ``(raw, None)`` when there is none. Only the first
    ``signature`` pair is taken: a second one stays in the payload, so that it cannot verify.
    """
    if not raw:
        return raw, None
    pairs = raw.split("&")
    for index, pair in enumerate(pairs):
        key, _, value = pair.partition("=")
        if key == _SIGNATURE_KEY:
            return "&".join(pairs[:index] + pairs[index + 1 :]), value
    return raw, None


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 of ``payload`` keyed with ``secret``, as lowercase hex."""
    return hmac.digest(secret.encode(), payload.encode(), "sha256").hex()


def verify(secret: str, payload: str, signature: str) -> bool:
    """Whether ``signature`` signs ``payload``: case-insensitive, in constant time.

    Anything that is not 64 hex digits is simply False.
    """
    candidate = signature.lower()
    if not _HEX_SHA256.fullmatch(candidate):
        return False
    return hmac.compare_digest(sign(secret, payload), candidate)


def check_timestamp(timestamp_ms: int, recv_window_ms: int, server_time_ms: int) -> None:
    """Raise unless the docs' timing rule accepts the request at ``server_time_ms``.

    recvWindow above 60000 -> -1131; recvWindow <= 0 -> -1130 for 'recvWindow'; a timestamp
    1000 ms or more ahead of the server -> -1021 "... ahead ..."; older than recvWindow -> -1021
    "... outside of the recvWindow.". The numbers are kept in the error's ``details``.
    """
    if recv_window_ms > MAX_RECV_WINDOW:
        raise BadRecvWindow(recv_window=recv_window_ms)
    if recv_window_ms <= 0:
        raise InvalidParameter.formatted("recvWindow", recv_window=recv_window_ms)
    if timestamp_ms >= server_time_ms + _AHEAD_TOLERANCE_MS:
        message = InvalidTimestamp.AHEAD_OF_SERVER
    elif server_time_ms - timestamp_ms > recv_window_ms:
        message = InvalidTimestamp.OUTSIDE_RECV_WINDOW
    else:
        return
    raise InvalidTimestamp(
        message,
        timestamp=timestamp_ms,
        recv_window=recv_window_ms,
        server_time=server_time_ms,
    )


def _wire_value(value: object) -> str:
    # StrEnum / IntEnum members send their value; anything else must already be a plain value.
    if isinstance(value, Enum):
        value = value.value
    # The engine is Java: booleans are lowercase; decimals go without exponent.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        # repr is the shortest text that round-trips; Decimal drops its exponent.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as a parameter: {value!r}")


def encode_params(params: Iterable[tuple[str, object]]) -> str:
    """urlencode in the given order; True/False -> "true"/"false", Decimal without exponent.

    A value of None means "not sent" and is left out, so optional parameters can be passed as is.
    """
    return urlencode([(key, _wire_value(value)) for key, value in params if value is not None])


def signed_query(params: Iterable[tuple[str, object]], secret: str) -> str:
    """``encode_params(params)`` with ``&signature=<hex>`` appended last (client side)."""
    query = encode_params(params)
    signature = sign(secret, query)
    return f"{query}&{_SIGNATURE_KEY}={signature}" if query else f"{_SIGNATURE_KEY}={signature}"
