"""The monitor: each component probed on its own interval, flap-controlled state, a fresh
diagnosis at each change, history in a store, alerts. It is the ``MonitorView`` of its
front ends (the terminal dashboard, ``serve``).

Probing is ``probe_component``'s and diagnosis is ``diagnose``'s; this module only schedules
them and keeps what they return. Results reach the store in batches every
``flush_interval`` (at most half the shortest probe interval), so a ``kill -9`` loses at most
the results of the last interval. On start it resumes each component's state from the
store, so a restart neither forgets an outage nor announces it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import math
import random
import socket
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faultfinder.classify import describe as describe_error
from faultfinder.clock import now_ms
from faultfinder.config import Stack
from faultfinder.diagnosis import diagnose
from faultfinder.diagnosis.graph import edges
from faultfinder.errors import StoreError
from faultfinder.model import CheckResult, Diagnosis, Status
from faultfinder.monitor.alerts.alerter import Alerter
from faultfinder.monitor.changes import Change, describe, describe_all
from faultfinder.monitor.flap import Debounce
from faultfinder.monitor.recent import Sample, reading, sample
from faultfinder.monitor.records import level
from faultfinder.monitor.schedule import every, first_delays
from faultfinder.monitor.store import Store
from faultfinder.monitor.view import MonitorView, Reading, StateChange
from faultfinder.probe import probe_component, prober
from faultfinder.probe.footing import check_footing

log = logging.getLogger("faultfinder.monitor")

RECENT_KEPT = 60  # results per component kept in memory, as samples (sparklines, charts)
CHANGES_KEPT = 1000  # state changes kept in memory for the view
CHANGES_RESTORED = datetime.timedelta(days=7)  # how far back the view's timeline is reloaded
FLUSH_INTERVAL = 1.0  # seconds between history writes, at most
DIAGNOSIS_REFRESH = 1.0  # the view's diagnosis is at most this old while no code changed
# A state change is diagnosed at once, unless diagnoses would then take more than this share of
# the event loop: a storm of changes is then described in batches, one diagnosis each. (One
# diagnosis of 2,000 components costs 30-50 ms of CPU; one per change, when a shared dependency
# takes them all down, stalled the loop for minutes. A small stack's is instant.)
DIAGNOSIS_SHARE = 0.1
HOUSEKEEPING_INTERVAL = 1.0  # resends are checked this often
PRUNE_INTERVAL = 3600.0  # retention runs this often (and at start)
FOOTING_INTERVAL = 60.0  # this machine's own footing is checked this often
PENDING_LIMIT = 200_000  # results held back while the store is unreachable, at most
LATE_LIMIT = 1.0  # seconds: runs starting later than this mean this process is overloaded

Listener = Callable[[StateChange], None]


def default_agent() -> str:
    """This agent's name in a shared history: the host name."""
    return socket.gethostname() or "faultfinder"


class Monitor:
    """Watch one stack. ``await start()`` … ``await stop()``, or ``await run()``.

    ``store`` None keeps nothing beyond memory. ``alerts`` False ignores the stack's
    ``alerts:`` section (``serve`` may run next to a ``watch`` that alerts).
    """

    def __init__(
        self,
        stack: Stack,
        store: Store | None = None,
        *,
        agent: str | None = None,
        alerts: bool = True,
        flush_interval: float | None = None,
        recent_size: int = RECENT_KEPT,
    ) -> None:
        self.stack = stack
        self.store = store
        self.agent = agent or default_agent()
        self.started_at: datetime.datetime | None = None
        shortest = min((c.interval for c in stack.components.values()), default=FLUSH_INTERVAL)
        # half the shortest interval: a kill loses at most one result per component
        self.flush_interval = flush_interval or min(FLUSH_INTERVAL, shortest / 2)
        self._alerts_wanted = alerts
        self._graph = edges(stack)
        self._latest: dict[str, Reading] = {}
        self.errors: dict[str, int] = {}  # component → errors behind its probe, since start
        self._errors_logged: set[tuple[str, str]] = set()
        self._recent: dict[str, deque[Sample]] = {
            name: deque(maxlen=recent_size) for name in stack.components
        }
        self._debounce: dict[str, Debounce] = {}
        self._counts: dict[str, tuple[int, int]] = {}
        self._changes: deque[StateChange] = deque(maxlen=CHANGES_KEPT)
        self._listeners: list[Listener] = []
        self._pending: list[Reading] = []
        self._pending_changes: list[StateChange] = []
        self._flush_lock = asyncio.Lock()
        self._store_failing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._footing: tuple[str, ...] = ()  # this machine's own problems (check_footing)
        self._lateness = 0.0  # the latest start of a run since housekeeping last looked
        self._overload: str | None = None  # a note while runs start late
        self._diagnosis: Diagnosis | None = None
        self._version = 0  # bumped by every result
        self._codes_version = 0  # bumped when a component's code or warning changes
        self._diagnosed = (-1, -1)
        self._diagnosed_at = -math.inf
        self._diagnosed_count = 0  # components in that diagnosis
        self._diagnosis_cost = 0.0  # seconds the last diagnosis took
        self._undescribed: list[Change] = []  # changes waiting for the next batch's diagnosis
        self._describing: asyncio.TimerHandle | None = None
        self._alerter: Alerter | None = None
        self._client: Any = None  # the httpx.AsyncClient the webhook channels share
        self._stopped = False

    # -- the MonitorView ----------------------------------------------------------------

    def latest(self) -> Mapping[str, Reading]:
        return dict(self._latest)

    def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
        """Every component's state; ``pending`` (since the start) before its first settles."""
        return {
            name: (debounce.state, debounce.since)
            for name, debounce in sorted(self._debounce.items())
        }

    def diagnosis(self) -> Diagnosis | None:
        """The diagnosis of the newest results; None until every component has one."""
        if len(self._latest) < len(self.stack.components):
            return None
        loop = asyncio.get_running_loop()
        codes_changed = self._diagnosed[1] != self._codes_version
        stale = self._diagnosed[0] != self._version
        if codes_changed or (stale and loop.time() - self._diagnosed_at >= DIAGNOSIS_REFRESH):
            self._diagnose()
        return self._diagnosis

    def changes(self, since: datetime.datetime | None = None) -> Sequence[StateChange]:
        """State changes after ``since`` (all kept, without it), oldest first."""
        return [change for change in self._changes if since is None or change.at > since]

    def recent(self, component: str, limit: int = 60) -> Sequence[Reading]:
        """The newest observations of one component, oldest first, without evidence, phase
        details or body (``latest()`` has the newest in full)."""
        kept = list(self._recent.get(component, ()))[-limit:] if limit > 0 else []
        if not kept:
            return []
        newest = self._latest[component].result
        return [reading(component, self.agent, newest.kind, newest.target, s) for s in kept]

    # -- additions to the view ----------------------------------------------------------

    def pending(self, component: str) -> int:
        """Results in a row that disagree with the component's state (flap control's count)."""
        debounce = self._debounce.get(component)
        return debounce.pending if debounce else 0

    def counts(self) -> Mapping[str, tuple[int, int]]:
        """Probes of each component since start: (done, failed). Cheap, for counters."""
        return {name: (done, failed) for name, (done, failed) in self._counts.items()}

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(change)`` in the event loop at every state change."""
        self._listeners.append(listener)

    @property
    def alerts_sent(self) -> tuple[int, int]:
        """(delivered, failed) alerts so far."""
        return (self._alerter.sent, self._alerter.failed) if self._alerter else (0, 0)

    # -- running --------------------------------------------------------------------------

    async def run(self, duration: float | None = None) -> None:
        """Start, watch until cancelled (or for ``duration`` seconds), then stop cleanly."""
        await self.start()
        try:
            if duration is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(duration)
        finally:
            await asyncio.shield(self.stop())

    async def start(self) -> None:
        """Resume state from the store, then start probing; returns at once."""
        for kind in {component.kind for component in self.stack.components.values()}:
            prober(kind)  # the client libraries load before the first deadline starts
        now = _now()
        self.started_at = now
        for name, component in self.stack.components.items():
            # pending until it settles: time never observed is not counted as healthy
            self._debounce[name] = Debounce(
                component.failure_threshold, component.success_threshold, Status.PENDING, now
            )
        self._build_alerter()
        if self.store is not None:
            await self._resume(now)
        self._footing = await check_footing()
        delays = first_delays({n: c.interval for n, c in self.stack.components.items()})
        rng = random.Random()
        for name, component in sorted(self.stack.components.items()):
            run = self._prober_of(name)
            schedule = every(component.interval, delays[name], run, rng, self._late)
            self._spawn(schedule, f"probe {name}")
        self._writer = asyncio.create_task(self._flush_forever(), name="faultfinder flush")
        self._spawn(self._housekeeping(), "housekeeping")

    async def stop(self) -> None:
        """Stop probing, write what is pending, let alerts in flight finish. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._describe_changes()  # a batch still waiting is written with the rest
        # the writer is told, not cancelled: a batch cut off mid-write would be lost
        self._stopping.set()
        if self._writer is not None:
            await self._writer
        await self.flush()
        if self._alerter is not None:
            await self._alerter.drain()
        if self._client is not None:
            await self._client.aclose()

    def _spawn(self, work: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=f"faultfinder {name}"))

    async def _resume(self, now: datetime.datetime) -> None:
        assert self.store is not None
        last = await self.store.last_changes(self.stack.name, self.agent)
        for name, change in last.items():
            if name in self._debounce:
                self._debounce[name].state, self._debounce[name].since = change.new, change.at
                if self._alerter is not None:
                    self._alerter.restore(change)
        earlier = await self.store.changes(
            self.stack.name, since=now - CHANGES_RESTORED, until=now, agent=self.agent
        )
        self._changes.extend(c for c in earlier if c.component in self.stack.components)
        await self._prune(now)

    def _build_alerter(self) -> None:
        if not (self._alerts_wanted and self.stack.alerts):
            return
        import httpx

        from faultfinder.monitor.alerts import build_channel

        self._client = httpx.AsyncClient()
        routes = [
            (spec, build_channel(spec, self._client, self.stack.redactor))
            for spec in self.stack.alerts
        ]
        self._alerter = Alerter(
            self.stack.name, routes, describe=self._describe_now, redactor=self.stack.redactor
        )

    # -- probing and state ----------------------------------------------------------------

    def _prober_of(self, name: str) -> Callable[[], Any]:
        component = self.stack.components[name]

        async def run() -> None:
            at = _now()
            try:
                # no deadline of our own: probe_component keeps one and always returns
                self.observe(name, at, await probe_component(component))
            except Exception as error:  # a bug behind the probe: keep scheduling, say so once
                self._count_error(name, error)

        return run

    def _count_error(self, name: str, error: Exception) -> None:
        """An error behind a component's probe: counted (``faultfinder_probe_errors_total``) and
        logged once per component and kind of error, so a loop of them does not flood the log."""
        self.errors[name] = self.errors.get(name, 0) + 1
        seen = (name, type(error).__name__)
        if seen not in self._errors_logged:
            self._errors_logged.add(seen)
            log.warning(
                "probing %s raised %s: %s (it keeps being probed; counted in "
                "faultfinder_probe_errors_total)",
                name,
                type(error).__name__,
                describe_error(error),
            )

    def observe(self, name: str, at: datetime.datetime, result: CheckResult) -> None:
        """Take one result: keep it, feed flap control, and on a change diagnose and alert."""
        observation = Reading(name, at, self.agent, result)
        previous = self._latest.get(name)
        self._latest[name] = observation
        self._recent[name].append(sample(at, result))
        done, failed = self._counts.get(name, (0, 0))
        self._counts[name] = (done + 1, failed + (not result.ok))
        self._pending.append(observation)
        self._version += 1
        if previous is None or _codes(previous.result) != _codes(result):
            self._codes_version += 1
        old = self._debounce[name].observe(level(result), at)
        if old is None:
            return
        self._undescribed.append(Change(name, old, self._debounce[name].state, at, result))
        if self._describing is not None:
            return  # a batch is due: this change joins it
        wait = self._next_diagnosis()
        if wait <= 0:
            self._describe_changes()
        else:
            self._describing = asyncio.get_running_loop().call_later(wait, self._describe_changes)

    def _describe_changes(self) -> None:
        """Diagnose once and describe every change waiting; keep, alert and tell listeners."""
        if self._describing is not None:
            self._describing.cancel()
            self._describing = None
        waiting, self._undescribed = self._undescribed, []
        if not waiting:
            return
        for change in describe_all(self._diagnose(), self._graph, waiting, self.agent):
            self._changes.append(change)
            self._pending_changes.append(change)
            if self._alerter is not None:
                self._alerter.notify(change)
            for listener in self._listeners:
                try:
                    listener(change)
                except Exception:  # a front end's bug must not stop the monitor
                    log.exception("a state-change listener failed")

    def _diagnose(self) -> Diagnosis:
        started = time.perf_counter()
        results = {name: observation.result for name, observation in self._latest.items()}
        footing = (*self._footing, self._overload) if self._overload else self._footing
        self._diagnosis = diagnose(self.stack, results, footing=footing)
        self._diagnosed_count = len(results)
        self._diagnosed = (self._version, self._codes_version)
        self._diagnosed_at = asyncio.get_running_loop().time()
        self._diagnosis_cost = time.perf_counter() - started
        return self._diagnosis

    def _next_diagnosis(self) -> float:
        """Seconds until a new diagnosis keeps within ``DIAGNOSIS_SHARE`` (0 or less: now)."""
        gap = self._diagnosis_cost / DIAGNOSIS_SHARE
        return self._diagnosed_at + gap - asyncio.get_running_loop().time()

    def _describe_now(self, name: str, since: datetime.datetime) -> StateChange | None:
        """For a resend: the component's state and diagnosis now."""
        if name not in self._latest:
            return None
        # the diagnosis just made, if every component was in it: resends of many share it
        if self._next_diagnosis() <= 0 or self._diagnosed_count != len(self._latest):
            self._diagnose()
        state = self._debounce[name].state
        return self._describe(name, state, state, _now())

    def _describe(self, name: str, old: Status, new: Status, at: datetime.datetime) -> StateChange:
        assert self._diagnosis is not None
        return describe(self._diagnosis, self._graph, name, old, new, at, self.agent)

    # -- history and housekeeping ---------------------------------------------------------

    async def flush(self) -> None:
        """Write the pending results and changes in one batch (kept for later if it fails)."""
        if self.store is None:
            self._pending.clear()
            self._pending_changes.clear()
            return
        async with self._flush_lock:
            observations, changes = self._pending, self._pending_changes
            if not observations and not changes:
                return
            self._pending, self._pending_changes = [], []
            try:
                await self.store.append(self.stack.name, observations, changes, self.stack.redactor)
            except StoreError as error:
                if not self._store_failing:
                    log.warning("history not written, will retry: %s", error)
                self._store_failing = True
                # keep them for the next try, oldest dropped past the limit
                self._pending[:0] = observations[-PENDING_LIMIT:]
                del self._pending[: max(0, len(self._pending) - PENDING_LIMIT)]
                self._pending_changes[:0] = changes
                return
            if self._store_failing:
                log.warning("history written again")
                self._store_failing = False

    async def _flush_forever(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_interval)
            await self.flush()

    def _late(self, seconds: float) -> None:
        self._lateness = max(self._lateness, seconds)

    def _check_load(self) -> None:
        """Runs starting late mean this process cannot keep up: say so, in logs and verdicts."""
        lateness, self._lateness = self._lateness, 0.0
        if lateness <= LATE_LIMIT:
            if self._overload is not None:
                log.warning("watch keeps up again: probes start on time")
            self._overload = None
            return
        if self._overload is None:
            log.warning(
                "watch is overloaded: probes start up to %.1f s late, so their timings and "
                "timeouts measure this machine; raise the intervals or split the stack across "
                "agents",
                lateness,
            )
        self._overload = (
            f"faultfinder's own event loop is overloaded (probes start up to {lateness:.1f} s "
            "late): timings and timeouts may measure this machine, not the targets"
        )

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        pruned = footed = loop.time()
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            self._check_load()
            if self._alerter is not None:
                self._alerter.resend_due(_now())
            if loop.time() - pruned >= PRUNE_INTERVAL:
                pruned = loop.time()
                await self._prune(_now())
            if loop.time() - footed >= FOOTING_INTERVAL:
                footed = loop.time()
                self._footing = await check_footing()

    async def _prune(self, now: datetime.datetime) -> None:
        if self.store is None:
            return
        history = self.stack.history
        try:
            await self.store.downsample(
                self.stack.name,
                raw_before=now - datetime.timedelta(seconds=history.raw_retention),
                width=history.rollup,
                delete_before=now - datetime.timedelta(seconds=history.retention),
            )
        except StoreError as error:
            log.warning("history retention skipped: %s", error)


def _codes(result: CheckResult) -> tuple[str | None, str | None]:
    return (result.code, result.warning)


def _now() -> datetime.datetime:
    return now_ms()


if TYPE_CHECKING:

    def _is_a_view(monitor: Monitor) -> MonitorView:  # mypy checks the Protocol holds
        return monitor
