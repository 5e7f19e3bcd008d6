"""Group commit: mutations queued by concurrent requests commit together, one fsync for many.

On SQLite every writer takes the file's single lock, so concurrent mutations run one after the
other anyway; what limits durable throughput is one COMMIT (and its fsync) per request. The
writer thread takes every job waiting in the queue, runs each in its own savepoint of one
transaction (a failing job is undone alone and gets its error), commits once, and only then
publishes the jobs' events and answers them: a reply still means "committed".

A job is a whole write request's handler, so the event loop hands it over and awaits its future
without tying up a thread of its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from aster_account.store import Store

MAX_BATCH = 256

Publish = Callable[[int, list[Any]], None]


@dataclass
class _Job:
    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)
    events: list[tuple[int, list[Any]]] = field(default_factory=list)


class GroupCommitWriter:
    def __init__(self, store: Store, publish: Publish, max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._publish = publish
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._current: _Job | None = None
        self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
        self._thread.start()

    def on_writer_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, run: Callable[[], Any]) -> Future[Any]:
        """Run `run` in the next batch; the future resolves once that batch has committed (with
        what `run` returned, or what it raised)."""
        job = _Job(run)
        self._queue.put(job)
        return job.future

    def collecting(self) -> bool:
        """True while a job runs on the writer thread: its events wait for the commit."""
        return self._current is not None and threading.current_thread() is self._thread

    def defer(self, account_id: int, events: list[Any]) -> None:
        """Called on the writer thread instead of publishing: the events go out after commit."""
        assert self._current is not None, "defer() outside a job"
        self._current.events.append((account_id, events))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                jobs.append(nxt)
            self._run_batch(jobs)

    def _run_batch(self, jobs: list[_Job]) -> None:
        results: list[tuple[_Job, bool, Any]] = []
        try:
            with self._store.batch():
                for job in jobs:
                    self._current = job
                    try:
                        with self._store.batch_savepoint():
                            value = job.run()
                    except Exception as error:  # undone by its savepoint; the others go on
                        job.events.clear()
                        results.append((job, False, error))
                    else:
                        results.append((job, True, value))
                    finally:
                        self._current = None
        except BaseException as error:  # the commit itself failed: nothing of the batch stands
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        for job, ok, value in results:
            if ok:
                for account_id, events in job.events:
                    self._publish(account_id, events)
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
