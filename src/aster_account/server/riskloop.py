"""The server's background work, started and stopped with the app (Starlette lifespan).

    prices replay   `--prices FILE`: mark prices replayed through `Service.set_mark` (resting
                    orders fill, liquidations, ADL, margin calls; all published on the stream)
    ADL quantiles   `Service.adl_quantiles()` recomputed every 30 s in a worker thread (docs:
                    "Values update every 30s"); GET /fapi/v1/adlQuantile reads the cached table
    funding         `Service.settle_funding(symbol)` once a symbol's next_funding_time has come
    stream sweep    `StreamHub.sweep`: expired listen keys, connections past their 24 hours

A round that fails is logged and the task carries on; the server never goes down with it. On
shutdown every task is cancelled and awaited (a store call already running in a worker thread
finishes first: it is one transaction).

With several processes on one PostgreSQL database, only the process that holds the fan-out's
advisory lock settles funding (`PgFanout.is_leader`), so a fee is never charged twice; every
process keeps its own ADL table and sweeps its own connections. Give `--prices` to one process.

The prices file is CSV, one tick per line:

    time_ms,symbol,markPrice[,indexPrice,fundingRate]
    1735689600000,BTCUSDT,100000.5
    1735689601000,BTCUSDT,99950,99948.2,0.0001

`time_ms` is milliseconds (any epoch, non-decreasing); only the differences count: a tick is
applied (time_ms - first time_ms) / speed after the replay starts, with speed 2 twice as fast
and speed 0 as fast as the ticks can be applied. Ticks are applied one at a time, in file order;
when one takes longer than the gap to the next, the replay runs late rather than skipping. An
empty indexPrice keeps it equal to the mark, an empty fundingRate keeps the symbol's rate. Blank
lines and lines starting with `#` are skipped, and so is a first line that is a header (its first
field is not a number). The file is read and checked when the server starts: a bad line stops
the start with its line number. Event times are the server's clock, not the file's.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterable,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from aster_account.protocol.enums import PositionSide
from aster_account.server.service import Service
from aster_account.server.stream import StreamHub

log = logging.getLogger("aster_account.server.riskloop")

ADL_REFRESH_S = 30.0  # docs (adlQuantile): "Values update every 30s"
TICK_S = 1.0
"""How often funding times and listen-key expiries are looked at."""

AdlTable = dict[tuple[int, str, PositionSide], int]


# -- the prices file -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceTick:
    time_ms: int
    symbol: str
    mark_price: Decimal
    index_price: Decimal | None = None
    funding_rate: Decimal | None = None


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} is not a finite number: {text!r}")
    return value


def parse_prices(lines: Iterable[str], symbols: Collection[str]) -> list[PriceTick]:
    """The ticks of a prices file's lines (format in the module doc); ValueError names the line."""
    ticks: list[PriceTick] = []
    seen_data = False
    for lineno, raw in enumerate(csv.reader(lines), start=1):
        fields = [f.strip() for f in raw]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if not seen_data and not fields[0].lstrip("-").isdigit():
            seen_data = True  # the header
            continue
        seen_data = True
        try:
            if not 3 <= len(fields) <= 5:
                raise ValueError(f"expected 3 to 5 fields, got {len(fields)}")
            if not fields[0].isdigit():
                raise ValueError(f"time_ms is not a whole number of ms: {fields[0]!r}")
            time_ms = int(fields[0])
            symbol = fields[1]
            if symbol not in symbols:
                raise ValueError(f"unknown symbol {symbol!r}")
            mark = _decimal(fields[2], "markPrice")
            index = _decimal(fields[3], "indexPrice") if len(fields) > 3 and fields[3] else None
            rate = _decimal(fields[4], "fundingRate") if len(fields) > 4 and fields[4] else None
            if mark <= 0 or (index is not None and index <= 0):
                raise ValueError("prices must be positive")
            if ticks and time_ms < ticks[-1].time_ms:
                raise ValueError(f"time_ms goes back ({time_ms} after {ticks[-1].time_ms})")
        except ValueError as exc:
            raise ValueError(f"line {lineno}: {exc}") from None
        ticks.append(PriceTick(time_ms, symbol, mark, index, rate))
    return ticks


def read_prices(path: str | Path, symbols: Collection[str]) -> list[PriceTick]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"prices file {path}: {exc}") from None
    try:
        return parse_prices(text.splitlines(), symbols)
    except ValueError as exc:
        raise ValueError(f"prices file {path}: {exc}") from None


# -- the ADL table -------------------------------------------------------------------------------


class AdlCache:
    """`Service.adl_quantiles` behind a table refreshed every `refresh_s` by the risk loop.

    While installed, the service's `adl_quantiles` answers the cached table, so a request never
    pays for loading every account. When the table is older than two refresh periods (the loop
    is not running, or fell behind) the caller computes it instead."""

    def __init__(
        self,
        service: Service,
        refresh_s: float = ADL_REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.refresh_s = refresh_s
        self.clock = clock
        self._compute: Callable[[], AdlTable] = service.adl_quantiles
        self._table: AdlTable | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def install(self) -> None:
        self.service.adl_quantiles = self.get  # type: ignore[method-assign]

    def uninstall(self) -> None:
        vars(self.service).pop("adl_quantiles", None)

    def get(self) -> AdlTable:
        with self._lock:
            table, at = self._table, self._at
        if table is not None and self.clock() - at < 2 * self.refresh_s:
            return table
        return self.refresh()

    def refresh(self) -> AdlTable:
        started = self.clock()
        table = self._compute()
        with self._lock:
            if started >= self._at:
                self._table, self._at = table, started
        return table


# -- the loop ------------------------------------------------------------------------------------


class RiskLoop:
    def __init__(
        self,
        service: Service,
        hub: StreamHub,
        *,
        prices: list[PriceTick] | None = None,
        prices_speed: float = 1.0,
        adl_refresh_s: float = ADL_REFRESH_S,
        tick_s: float = TICK_S,
        is_leader: Callable[[], bool] = lambda: True,
    ) -> None:
        self.service = service
        self.hub = hub
        self.prices = prices or []
        self.prices_speed = prices_speed
        self.tick_s = tick_s
        self.is_leader = is_leader
        self.adl = AdlCache(service, adl_refresh_s) if adl_refresh_s > 0 else None
        self.replayed = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        tasks: dict[str, Coroutine[Any, Any, None]] = {
            "stream sweep": self._every(self.tick_s, "stream sweep", self.hub.sweep),
            "funding": self._every(self.tick_s, "funding", self.funding_round),
        }
        if self.adl is not None:
            self.adl.install()
            tasks["adl"] = self._every(self.adl.refresh_s, "ADL quantiles", self._adl_round)
        if self.prices:
            tasks["prices"] = self._replay()
        self._tasks = [asyncio.create_task(c, name=f"riskloop: {n}") for n, c in tasks.items()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.adl is not None:
            self.adl.uninstall()

    async def _every(self, interval: float, name: str, fn: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("risk loop: %s round failed", name)
            await asyncio.sleep(interval)

    async def _adl_round(self) -> None:
        assert self.adl is not None
        await asyncio.to_thread(self.adl.refresh)

    async def funding_round(self) -> None:
        """Settle every symbol whose next funding time has come. The marks are read from the
        store, not the service's one-second cache, so a time another process just moved is seen."""
        if not self.is_leader():
            return
        marks = await asyncio.to_thread(self.service.store.load_marks)
        now = self.service.clock()
        for symbol, mp in sorted(marks.items()):
            if mp.next_funding_time > now or symbol not in self.service.market.symbols:
                continue
            try:
                results = await asyncio.to_thread(self.service.settle_funding, symbol)
            except Exception:  # the other symbols still settle; this one is tried again
                log.exception("funding for %s failed", symbol)
                continue
            log.info("funding settled for %s: %d accounts", symbol, len(results))

    async def _replay(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = self.prices[0].time_ms
        for tick in self.prices:
            if self.prices_speed > 0:
                due = started + (tick.time_ms - first) / 1000 / self.prices_speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(
                    self.service.set_mark,
                    tick.symbol,
                    tick.mark_price,
                    index_price=tick.index_price,
                    funding_rate=tick.funding_rate,
                )
            except Exception:
                log.exception("prices replay: tick %s %s failed", tick.time_ms, tick.symbol)
            self.replayed += 1
        log.info("prices replay: %d ticks done", len(self.prices))


def lifespan(
    hub: StreamHub,
    risk: RiskLoop,
    on_stop: Callable[[], None] | None = None,
    closers: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the hub (and its fan-out) and the risk loop run while the app does;
    `closers` (e.g. the Redis weight counter's connections) are awaited after them and `on_stop`
    (e.g. stopping the group-commit writer) runs last."""

    @asynccontextmanager
    async def run(_app: Any) -> AsyncIterator[None]:
        await hub.start()
        try:
            await risk.start()
            try:
                yield
            finally:
                await risk.stop()
        finally:
            await hub.stop()
            for close in closers:
                try:
                    await close()
                except Exception:  # the rest still stops
                    log.exception("closing %r failed", close)
            if on_stop is not None:
                on_stop()

    return run
