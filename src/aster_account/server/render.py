"""Replies as JSON bytes: models through `protocol.wire`, pre-rendered bytes as they are."""

from __future__ import annotations

from typing import Any

import orjson

from aster_account.protocol.wire import to_wire


def render(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        return orjson.dumps([v if isinstance(v, dict) else to_wire(v) for v in value])
    if isinstance(value, dict):
        return orjson.dumps(value)
    return orjson.dumps(to_wire(value))
