"""The two errors only the client raises; every other error is a ``protocol.errors`` class.

AsterError
├── FilterError
│   └── DuplicatedClientTranId (-4115)
│       └── AlreadyApplied       a retried transfer was applied by an earlier attempt, and
│                                its tranId could not be told apart in the income history
└── MissingCredentials           the endpoint needs an API key (and secret) that was not given
"""

# The class names follow protocol.errors (domain names, not the "...Error" suffix).
# ruff: noqa: N818

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aster_account.protocol.errors import AsterError, DuplicatedClientTranId

__all__ = ["AlreadyApplied", "MissingCredentials"]


class AlreadyApplied(DuplicatedClientTranId):
    """A transfer whose first attempt lost its response was applied by that attempt.

    The money moved exactly once. The client looked for the transfer in the income history to
    return its ``tranId`` and found ``candidates`` (tranIds of matching TRANSFER rows) that were
    not exactly one. Catching ``DuplicatedClientTranId`` catches this too.
    """

    def __init__(self, client_tran_id: str, candidates: Sequence[int] = (), **details: Any) -> None:
        self.client_tran_id = client_tran_id
        self.candidates = list(candidates)
        found = ", ".join(map(str, self.candidates)) or "none"
        super().__init__(
            f"Transfer clientTranId={client_tran_id} was already applied by an earlier attempt; "
            f"its tranId is not certain (matching income rows: {found}).",
            client_tran_id=client_tran_id,
            candidates=self.candidates,
            **details,
        )


class MissingCredentials(AsterError):
    """The endpoint needs an API key (and, when signed, a secret) and the client has none.

    Raised before anything is sent. Pass ``api_key`` / ``api_secret`` or set ``ASTER_API_KEY`` /
    ``ASTER_API_SECRET``.
    """

    code = 0
    name = "MISSING_CREDENTIALS"
    default_msg = "This endpoint needs an API key and secret."
    default_status = 0
