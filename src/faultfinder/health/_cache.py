"""Check results cached for a TTL, with single-flight: one run per check at a time.

However many requests arrive, a check runs at most once per TTL: a request finds a fresh
result, or joins the run already in flight, or (the first after expiry) starts one. Runs are
tasks of their own, so a request that gives up at its deadline leaves the run going, and the
next request gets its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faultfinder.health._checks import Check, Outcome, run_check, tolerated
from faultfinder.model import Grade

logger = logging.getLogger("faultfinder.health")

# Called once per state change of a check: (the new outcome, the status before, None at first).
Publisher = Callable[[Outcome, Grade | None], None]


@dataclass(frozen=True)
class _Entry:
    outcome: Outcome
    expires: float  # loop time
    streak: int = 0  # consecutive failing runs, measured (before any tolerance)
    failing_since: float | None = None  # loop time of the first of them


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
        self.changes: Counter[tuple[str, str]] = Counter()  # (check, new status) → changes
        self.publishers: list[Publisher] = []
        self.redact: Callable[[str], str] = str  # masks secrets in what is logged

    def get(self, index: int) -> Outcome | asyncio.Task[Outcome]:
        """A fresh outcome, else the run in flight (started here when there is none)."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        entry = self._results.get(index)
        if entry is not None and loop.time() < entry.expires:
            return entry.outcome
        return self.start(index)

    def start(self, index: int) -> asyncio.Task[Outcome]:
        """The run in flight, or a new one, fresh result or not (background refresh)."""
        loop = asyncio.get_running_loop()
        task = self._running.get(index)
        if task is None or task.get_loop() is not loop:  # a loop of an earlier app run is gone
            entry = self._results.get(index)
            previous = entry.outcome if entry is not None else None
            task = loop.create_task(self._run(index, previous))
            self._running[index] = task
            task.add_done_callback(lambda done: self._finished(index, done))
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

    async def _run(self, index: int, previous: Outcome | None) -> Outcome:
        return self._store(index, await run_check(self.checks[index], previous))

    def _finished(self, index: int, task: asyncio.Task[Outcome]) -> None:
        if self._running.get(index) is task:
            del self._running[index]
        if not task.cancelled():  # cancelled: the loop is shutting down
            task.exception()  # retrieved, so asyncio does not log it

    def _store(self, index: int, measured: Outcome) -> Outcome:
        """Keep a run's outcome, as the check's failure tolerance reads it; returns that."""
        now = asyncio.get_running_loop().time()
        before = self._results.get(index)
        failing = measured.status is Grade.FAIL
        streak = (before.streak if before is not None else 0) + 1 if failing else 0
        since: float | None = None
        if failing:
            since = (before.failing_since if before is not None else None) or now
        outcome = tolerated(self.checks[index], measured, streak, now - since if since else 0)
        # The TTL counts from the end of the run, so runs are at least one TTL apart.
        self._results[index] = _Entry(outcome, now + self.ttl, streak, since)
        self.runs[outcome.name, outcome.status] += 1
        previous = before.outcome.status if before is not None else None
        if previous != outcome.status:
            self._changed(outcome, previous)
        return outcome

    def _changed(self, outcome: Outcome, previous: Grade | None) -> None:
        """Log and publish a state change once, when it happens, not at every request."""
        self.changes[outcome.name, outcome.status] += 1
        reasons = "; ".join(o.output for o in outcome.observations if o.output)
        level = logging.INFO if outcome.status is Grade.PASS else logging.WARNING
        logger.log(
            level,
            "health check %s: %s -> %s%s",
            outcome.name,
            previous or "unknown",
            outcome.status,
            f" ({self.redact(reasons)})" if reasons else "",
        )
        for publish in self.publishers:
            try:
                publish(outcome, previous)
            except Exception:  # a publisher's bug must not stop the checks
                logger.exception("health publisher %r failed", publish)
