"""What an operation needs from outside the engine: the time and fresh ids. Both are passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aster_account.engine.ledger import LedgerRecord
from aster_account.engine.market import Market
from aster_account.engine.prices import Marks

IdSource = Callable[[str], int]
"""`ids("tran" | "trade" | "order")` -> a new id, unique per kind across the venue."""


class CountingIds:
    """Ids from plain counters: for tests, benchmarks and the in-memory engine."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[str, int] = {}
        self._start = start

    def __call__(self, kind: str) -> int:
        value = self._next.get(kind, self._start)
        self._next[kind] = value + 1
        return value


@dataclass(slots=True)
class Ctx:
    market: Market
    marks: Marks
    now_ms: int
    ids: IdSource


@dataclass(slots=True)
class Outcome:
    """What an operation did: its reply, the stream events it caused, the history it wrote."""

    result: Any = None
    events: list[Any] = field(default_factory=list)
    records: list[LedgerRecord] = field(default_factory=list)
