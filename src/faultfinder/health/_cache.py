"""Check results cached for a TTL, with single-flight: one run per check at a time.

However many requests arrive, a check runs at most once per TTL: a request finds a fresh
result, or joins the run already in flight, or (the first after expiry) starts one. Runs are
tasks of their own, so a request that gives up at its deadline leaves the run going, and the
next request gets its result.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from faultfinder.health._checks import Check, Outcome, run_check


@dataclass(frozen=True)
class _Entry:
    outcome: Outcome
    expires: float  # loop time


class CheckCache:
    """The latest outcome of each check and the run in flight, keyed by the check's position."""

    def __init__(self, checks: Sequence[Check], ttl: float) -> None:
        if ttl < 0:
            raise ValueError("the TTL cannot be negative")
        self.checks = tuple(checks)
        self.ttl = ttl
        self._results: dict[int, _Entry] = {}
        self._running: dict[int, asyncio.Task[Outcome]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None  # the app's, from its latest request
        self.runs: Counter[tuple[str, str]] = Counter()  # (check, status) → runs finished

    def get(self, index: int) -> Outcome | asyncio.Task[Outcome]:
        """A fresh outcome, else the run in flight (started here when there is none)."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        entry = self._results.get(index)
        if entry is not None and loop.time() < entry.expires:
            return entry.outcome
        task = self._running.get(index)
        if task is None or task.get_loop() is not loop:  # a loop of an earlier app run is gone
            previous = entry.outcome if entry is not None else None
            task = loop.create_task(run_check(self.checks[index], previous))
            self._running[index] = task
            task.add_done_callback(lambda done: self._store(index, done))
        return task

    def refresh_expired(self) -> None:
        """Start a run of every check whose result has expired; returns without waiting.

        Callable from any thread (a metrics scrape): the runs start on the app's event loop,
        so what a scrape reads is at most one scrape behind, never stale for good.
        """
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # no request has come yet: there is no app loop to run on
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._start_expired()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._start_expired)

    def _start_expired(self) -> None:
        for index in range(len(self.checks)):
            self.get(index)

    def latest(self) -> list[Outcome]:
        """The last outcome of every check that has run, fresh or not."""
        entries = dict(self._results)  # one C-level copy: a scrape thread may call this
        return [entries[index].outcome for index in sorted(entries)]

    def _store(self, index: int, task: asyncio.Task[Outcome]) -> None:
        if self._running.get(index) is task:
            del self._running[index]
        if task.cancelled() or task.exception() is not None:  # the loop is shutting down
            return
        outcome = task.result()
        # The TTL counts from the end of the run, so runs are at least one TTL apart.
        self._results[index] = _Entry(outcome, task.get_loop().time() + self.ttl)
        self.runs[outcome.name, outcome.status] += 1
