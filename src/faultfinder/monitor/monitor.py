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
import random
import socket
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faultfinder.config import Stack
from faultfinder.diagnose import FOOTING_PENALTY, diagnose
from faultfinder.diagnose.graph import edges, reachable
from faultfinder.diagnose.verdict import verdict, why_chain
from faultfinder.faults import NONE, fault
from faultfinder.model import CheckResult, Diagnosis, Status
from faultfinder.monitor.flap import Debounce
from faultfinder.monitor.recent import Sample, observation, sample
from faultfinder.monitor.records import level, now_ms
from faultfinder.monitor.schedule import every, first_delays
from faultfinder.monitor.store import Store, StoreError
from faultfinder.monitor.view import MonitorView, Observation, StateChange
from faultfinder.probe import probe_component, prober
from faultfinder.probe.footing import check_footing

log = logging.getLogger("faultfinder.monitor")

RECENT_KEPT = 60  # results per component kept in memory, as samples (sparklines, charts)
CHANGES_KEPT = 1000  # state changes kept in memory for the view
CHANGES_RESTORED = datetime.timedelta(days=7)  # how far back the view's timeline is reloaded
FLUSH_INTERVAL = 1.0  # seconds between history writes, at most
DIAGNOSIS_REFRESH = 1.0  # the view's diagnosis is at most this old while no code changed
HOUSEKEEPING_INTERVAL = 1.0  # resends are checked this often
PRUNE_INTERVAL = 3600.0  # retention runs this often (and at start)
FOOTING_INTERVAL = 60.0  # this machine's own footing is checked this often
PENDING_LIMIT = 200_000  # results held back while the store is unreachable, at most
PROBE_SAFETY = 5.0  # past a component's timeout, a probe that has not returned is abandoned

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
        self._latest: dict[str, Observation] = {}
        self._recent: dict[str, deque[Sample]] = {
            name: deque(maxlen=recent_size) for name in stack.components
        }
        self._debounce: dict[str, Debounce] = {}
        self._counts: dict[str, tuple[int, int]] = {}
        self._known: set[str] = set()  # observed, or restored from the store
        self._changes: deque[StateChange] = deque(maxlen=CHANGES_KEPT)
        self._listeners: list[Listener] = []
        self._pending: list[Observation] = []
        self._pending_changes: list[StateChange] = []
        self._flush_lock = asyncio.Lock()
        self._store_failing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._footing: tuple[str, ...] = ()
        self._diagnosis: Diagnosis | None = None
        self._version = 0  # bumped by every result
        self._codes_version = 0  # bumped when a component's code or warning changes
        self._diagnosed = (-1, -1)
        self._diagnosed_at = 0.0
        self._alerter: Any = None  # alerts.alerter.Alerter, imported only when alerts are set
        self._client: Any = None  # the httpx.AsyncClient the webhook channels share
        self._stopped = False

    # -- the MonitorView ----------------------------------------------------------------

    def latest(self) -> Mapping[str, Observation]:
        return dict(self._latest)

    def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
        return {
            name: (self._debounce[name].state, self._debounce[name].since)
            for name in sorted(self._known)
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

    def recent(self, component: str, limit: int = 60) -> Sequence[Observation]:
        """The newest observations of one component, oldest first, without evidence, phase
        details or body (``latest()`` has the newest in full)."""
        kept = list(self._recent.get(component, ()))[-limit:] if limit > 0 else []
        if not kept:
            return []
        newest = self._latest[component].result
        return [observation(component, self.agent, newest.kind, newest.target, s) for s in kept]

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
            self._debounce[name] = Debounce(
                component.failure_threshold, component.success_threshold, Status.HEALTHY, now
            )
        self._build_alerter()
        if self.store is not None:
            await self._resume(now)
        self._footing = await check_footing()
        delays = first_delays({n: c.interval for n, c in self.stack.components.items()})
        rng = random.Random()
        for name, component in sorted(self.stack.components.items()):
            run = self._prober_of(name)
            self._spawn(every(component.interval, delays[name], run, rng), f"probe {name}")
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
                self._known.add(name)
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
        from faultfinder.monitor.alerts.alerter import Alerter

        self._client = httpx.AsyncClient()
        routes = [
            (spec, build_channel(spec, self._client, self.stack.secrets))
            for spec in self.stack.alerts
        ]
        self._alerter = Alerter(
            self.stack.name, routes, describe=self._describe_now, secrets=self.stack.secrets
        )

    # -- probing and state ----------------------------------------------------------------

    def _prober_of(self, name: str) -> Callable[[], Any]:
        component = self.stack.components[name]

        async def run() -> None:
            at = _now()
            try:
                async with asyncio.timeout(component.timeout + PROBE_SAFETY):
                    result = await probe_component(component)
            except TimeoutError:  # probe_component keeps its own deadline: this is a bug
                log.warning("the probe of %s did not return; skipped", name)
                return
            self.observe(name, at, result)

        return run

    def observe(self, name: str, at: datetime.datetime, result: CheckResult) -> None:
        """Take one result: keep it, feed flap control, and on a change diagnose and alert."""
        observation = Observation(name, at, self.agent, result)
        previous = self._latest.get(name)
        self._latest[name] = observation
        self._recent[name].append(sample(at, result))
        done, failed = self._counts.get(name, (0, 0))
        self._counts[name] = (done + 1, failed + (not result.ok))
        self._pending.append(observation)
        self._version += 1
        if previous is None or _codes(previous.result) != _codes(result):
            self._codes_version += 1
        self._known.add(name)
        old = self._debounce[name].observe(level(result), at)
        if old is not None:
            self._changed(name, old, at)

    def _changed(self, name: str, old: Status, at: datetime.datetime) -> None:
        self._diagnose()
        change = self._describe(name, old, self._debounce[name].state, at)
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
        results = {name: observation.result for name, observation in self._latest.items()}
        self._diagnosis = diagnose(self.stack, results, footing=self._footing)
        self._diagnosed = (self._version, self._codes_version)
        self._diagnosed_at = asyncio.get_running_loop().time()
        return self._diagnosis

    def _describe_now(self, name: str, since: datetime.datetime) -> StateChange | None:
        """For a resend: the component's state and diagnosis now."""
        if name not in self._latest:
            return None
        self._diagnose()
        state = self._debounce[name].state
        return self._describe(name, state, state, _now())

    def _describe(self, name: str, old: Status, new: Status, at: datetime.datetime) -> StateChange:
        """A state change with the diagnosis made at that moment."""
        diagnosis = self._diagnosis
        assert diagnosis is not None
        reports = {report.result.component: report for report in diagnosis.components}
        causes = {cause.component: cause for cause in diagnosis.root_causes}
        report = reports[name]
        result = report.result
        code: str | None = None
        owner = NONE
        summary = diagnosis.verdict.summary  # recovered: what the stack as a whole looks like
        confidence = diagnosis.verdict.confidence
        why: tuple[str, ...] = ()
        related: tuple[str, ...] = ()
        if new is Status.DOWN:
            code = report.code or result.code
            # the verdict of the root causes this component can reach, not of the whole stack
            below = {name} | reachable(name, self._graph)
            related = tuple(sorted(n for n in causes if n in below))
            if related:
                penalty = FOOTING_PENALTY if diagnosis.notes else 0.0
                focused = verdict([causes[n] for n in related], [], penalty)
                owner, summary, confidence = focused.owner, focused.summary, focused.confidence
            else:
                owner = _owner(code)
            why = tuple(why_chain(name, reports, causes))
        elif new is Status.DEGRADED:
            code = result.warning
            owner = _owner(code)
        failed = result.failed_phase if new is Status.DOWN else None
        layer = failed.layer if failed else fault(code).layer if code else None
        return StateChange(
            component=name,
            at=at,
            agent=self.agent,
            old=old,
            new=new,
            code=code,
            owner=owner,
            summary=summary,
            why=why,
            layer=layer,
            symptom_of=report.symptom_of,
            confidence=confidence,
            root_causes=tuple(causes[n] for n in related),
        )

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
                await self.store.append(self.stack.name, observations, changes, self.stack.secrets)
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

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        pruned = footed = loop.time()
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
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


def _owner(code: str | None) -> str:
    return fault(code).owner if code else NONE


def _now() -> datetime.datetime:
    return now_ms()


if TYPE_CHECKING:

    def _is_a_view(monitor: Monitor) -> MonitorView:  # mypy checks the Protocol holds
        return monitor
