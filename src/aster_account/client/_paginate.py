"""Walking a history endpoint over any time range, without gaps or duplicates.

History endpoints (income, position margin history, force orders) answer at most ``limit`` rows
of one inclusive ``[startTime, endTime]`` range, oldest first, and Aster accepts ranges of at most
7 days. A :class:`Pager` turns one long range into those requests:

- the range is cut into windows of at most 7 days (``WINDOW_MS``), walked oldest first;
- inside a window, a full page means there may be more: the next request starts *at* the time of
  the page's last row (not after it, since more rows of that same millisecond may have been cut
  off), and the rows of that millisecond already handed out are skipped by key (tranId for
  income, orderId for force orders, the whole row for margin history, which has no id);
- a page shorter than ``limit`` ends the window.

One limit of the API remains: if more than ``limit`` rows share one millisecond, the ones past
the limit cannot be asked for; the pager then moves on to the next millisecond rather than loop.

The pager is pure: ``next_request()`` says what to ask for, ``feed(rows)`` takes the answer and
returns the new rows to hand out. The clients drive it with their own I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["WINDOW_MS", "PageRequest", "Pager"]

R = TypeVar("R")

WINDOW_MS = 7 * 24 * 60 * 60 * 1000
"""The longest range one history request may span."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    start_time: int
    end_time: int
    limit: int


class Pager(Generic[R]):
    def __init__(
        self,
        start_ms: int,
        end_ms: int,
        limit: int,
        *,
        time_of: Callable[[R], int],
        key_of: Callable[[R], Hashable],
        window_ms: int = WINDOW_MS,
    ) -> None:
        if end_ms < start_ms:
            raise ValueError(f"start ({start_ms}) is after end ({end_ms})")
        if limit < 1 or window_ms < 1:
            raise ValueError("limit and window must be positive")
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.limit = limit
        self.window_ms = window_ms
        self._time_of = time_of
        self._key_of = key_of
        self._window_end = self._end_of_window(start_ms)
        self._cursor: int | None = start_ms
        # keys of the rows at time ``_cursor`` already handed out (a multiset)
        self._seen_at_cursor: Counter[Hashable] = Counter()
        self.requests = 0

    def _end_of_window(self, window_start: int) -> int:
        return min(window_start + self.window_ms - 1, self.end_ms)

    @property
    def done(self) -> bool:
        return self._cursor is None

    def next_request(self) -> PageRequest | None:
        """The next page to ask for, or None when the range is covered."""
        if self._cursor is None:
            return None
        return PageRequest(self._cursor, self._window_end, self.limit)

    def feed(self, rows: Sequence[R]) -> list[R]:
        """Take the answer to :meth:`next_request`; return the rows not handed out before."""
        cursor = self._cursor
        if cursor is None:
            raise RuntimeError("the pager is done")
        self.requests += 1
        time_of, key_of = self._time_of, self._key_of
        page = sorted(rows, key=time_of)  # stable: keeps the server's order inside a millisecond
        skip = Counter(self._seen_at_cursor)
        fresh: list[R] = []
        for row in page:
            t = time_of(row)
            if t < cursor or t > self._window_end:
                continue
            if t == cursor and skip:
                key = key_of(row)
                if skip[key] > 0:
                    skip[key] -= 1
                    continue
            fresh.append(row)
        if len(rows) < self.limit:
            self._next_window()
            return fresh
        last = time_of(page[-1])
        if last > self._window_end:
            self._next_window()
            return fresh
        if last < cursor or (last == cursor and not fresh):
            # a full page of one millisecond, all seen: the API cannot go further inside it
            self._move_to(cursor + 1)
            return fresh
        seen = self._seen_at_cursor if last == cursor else Counter()
        seen.update(key_of(row) for row in fresh if time_of(row) == last)
        self._seen_at_cursor = seen
        self._cursor = last
        return fresh

    def _move_to(self, t: int) -> None:
        self._seen_at_cursor = Counter()
        if t > self._window_end:
            self._next_window()
        else:
            self._cursor = t

    def _next_window(self) -> None:
        self._seen_at_cursor = Counter()
        start = self._window_end + 1
        if start > self.end_ms:
            self._cursor = None
            return
        self._cursor = start
        self._window_end = self._end_of_window(start)
