"""aster-account: the Aster Futures account API, as a self-hostable server and a Python SDK.

    from aster_account import Client, AsyncClient, AsterError, UnknownOutcome

The SDK and the error classes load on first use, so that the server and ``aster-account --help``
do not import the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aster_account.client import (
        AlreadyApplied,
        AsyncClient,
        Client,
        MissingCredentials,
        RawResponse,
    )
    from aster_account.protocol.errors import (
        AsterError,
        BadApiKeyFmt,
        BalanceNotSufficient,
        DuplicatedClientTranId,
        FilterError,
        InvalidSignature,
        InvalidTimestamp,
        IPBannedError,
        NoNeedToChangeMarginType,
        NoNeedToChangeMultiAssetsMode,
        NoNeedToChangePositionSide,
        ProcessingError,
        RateLimitError,
        RejectedMbxKey,
        RequestError,
        ServerError,
        TooManyRequests,
        TransportError,
        UnknownOutcome,
    )

_CLIENT = ("AlreadyApplied", "AsyncClient", "Client", "MissingCredentials", "RawResponse")
_ERRORS = (
    "AsterError",
    "BadApiKeyFmt",
    "BalanceNotSufficient",
    "DuplicatedClientTranId",
    "FilterError",
    "IPBannedError",
    "InvalidSignature",
    "InvalidTimestamp",
    "NoNeedToChangeMarginType",
    "NoNeedToChangeMultiAssetsMode",
    "NoNeedToChangePositionSide",
    "ProcessingError",
    "RateLimitError",
    "RejectedMbxKey",
    "RequestError",
    "ServerError",
    "TooManyRequests",
    "TransportError",
    "UnknownOutcome",
)
_HOME = {
    **dict.fromkeys(_CLIENT, "aster_account.client"),
    **dict.fromkeys(_ERRORS, "aster_account.protocol.errors"),
}

__all__ = [
    "AlreadyApplied",
    "AsterError",
    "AsyncClient",
    "BadApiKeyFmt",
    "BalanceNotSufficient",
    "Client",
    "DuplicatedClientTranId",
    "FilterError",
    "IPBannedError",
    "InvalidSignature",
    "InvalidTimestamp",
    "MissingCredentials",
    "NoNeedToChangeMarginType",
    "NoNeedToChangeMultiAssetsMode",
    "NoNeedToChangePositionSide",
    "ProcessingError",
    "RateLimitError",
    "RawResponse",
    "RejectedMbxKey",
    "RequestError",
    "ServerError",
    "TooManyRequests",
    "TransportError",
    "UnknownOutcome",
    "__version__",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'aster_account' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
