"""What a check is and what it observes; function checks run the app's own code.

A check measures one dependency once (``measure``), may report its connection pool
(``usage``), and reads its own errors into fault codes (``fault_code``). ``run_check`` runs
one under a hard time limit and always returns an ``Outcome``, never raises. URL checks, which
climb faultfinder's own probers, are in ``_url`` (loaded only when an app builds one).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from faultfinder import clock
from faultfinder.classify import describe
from faultfinder.faults import FAULTS
from faultfinder.health._evidence import fault_code_of
from faultfinder.model import Grade
from faultfinder.schemes import SCHEMES

# Past its timeout a check gets this much longer to record its own reason before it is cut.
HARD_CUT_GRACE = 0.5

# Keywords every check takes (``Check.__init__``), as opposed to a URL check's stack-file keys.
CHECK_OPTIONS = (
    "critical",
    "warn_after",
    "tags",
    "failure_threshold",
    "failing_for",
    "component_id",
    "affected_endpoints",
    "links",
)

SATURATED = "not measured: the pool is saturated, and the check does not queue behind the app"


@dataclass(frozen=True)
class Observation:
    """One measurement of a check: one ``"name:measurement"`` entry of the health document."""

    measurement: str  # responseTime | connections
    status: Grade  # pass | warn | fail
    value: float | int | None = None
    unit: str = ""
    output: str = ""
    code: str | None = None  # a fault code (docs/contract.md §2), failing or warning for a reason
    layer: str | None = None  # the layer that failed, when it is more exact than the code's


@dataclass(frozen=True)
class PoolUsage:
    """A client pool's state: ``capacity`` None is unbounded, ``waiting`` None is unknown."""

    open: int
    in_use: int
    capacity: int | None
    waiting: int | None = None

    @property
    def saturated(self) -> bool:
        full = self.capacity is not None and self.in_use >= self.capacity
        return full or bool(self.waiting)

    def observation(self) -> Observation:
        limit = "unbounded" if self.capacity is None else f"max {self.capacity}"
        text = f"{self.in_use} in use of {self.open} open ({limit})"
        if self.waiting is not None:
            text += f", {self.waiting} waiting"
        if self.saturated:
            text += ": the pool is saturated; requests queue for a connection"
        status = Grade.WARN if self.saturated else Grade.PASS
        return Observation("connections", status, self.in_use, "connections", text)


@dataclass(frozen=True)
class Outcome:
    """What one run of a check found, and when."""

    name: str
    component_type: str
    critical: bool
    observations: tuple[Observation, ...]
    time: datetime.datetime
    duration_ms: float
    pool: PoolUsage | None = None
    ietf: tuple[tuple[str, object], ...] = ()  # componentId, affectedEndpoints, links

    @property
    def status(self) -> Grade:
        statuses = {observation.status for observation in self.observations}
        return next(grade for grade in (Grade.FAIL, Grade.WARN, Grade.PASS) if grade in statuses)


class Check:
    """One dependency the app needs; subclasses say how to measure it.

    ``kind`` (a URL scheme such as ``redis`` or ``postgresql``) picks the fault codes for a
    timeout and for the client library's errors; ``critical`` checks decide readiness.
    ``warn_after``: seconds past which a passing run is ``warn`` (slow, not down).
    ``tags``: names groups select checks by (as well as by the check's name).
    ``component_id``, ``affected_endpoints``, ``links``: the IETF draft's keys of a check
    object (draft-inadarei-api-health-check-06 §4.2, §4.7, §4.10), shown to callers with details.
    ``failure_threshold``/``failing_for``: a failure is reported ``fail`` only at that many
    consecutive failing runs, or once it has lasted that many seconds (whichever comes first);
    before, it is ``warn``. By default, at the first.
    """

    kind = "app"
    component_type = "component"

    def __init__(
        self,
        name: str,
        *,
        critical: bool = True,
        timeout: float = 2.0,
        component_type: str | None = None,
        warn_after: float | None = None,
        tags: Iterable[str] = (),
        failure_threshold: int = 1,
        failing_for: float | None = None,
        component_id: str | None = None,
        affected_endpoints: Iterable[str] = (),
        links: Mapping[str, str] | None = None,
    ) -> None:
        if not name or ":" in name:
            raise ValueError(f"a check name is non-empty and has no colon: {name!r}")
        if timeout <= 0:
            raise ValueError("a check timeout must be greater than zero")
        if warn_after is not None and not warn_after > 0:
            raise ValueError("warn_after must be greater than zero")
        if failure_threshold < 1 or (failing_for is not None and failing_for <= 0):
            raise ValueError("failure_threshold is at least 1 and failing_for above zero")
        self.name = name
        self.critical = critical
        self.timeout = timeout
        self.warn_after = warn_after
        self.tags = frozenset(tags)
        self.failure_threshold = failure_threshold
        self.failing_for = failing_for
        self.ietf = _ietf_keys(component_id, tuple(affected_endpoints), dict(links or {}))
        # A run cut off at its timeout that ignored the cancellation: while it lingers, no new
        # run starts, so a check that swallows CancelledError holds one task, not one per TTL.
        self.stuck: asyncio.Task[Observation] | None = None
        if component_type:
            self.component_type = component_type

    async def measure(self) -> Observation:
        """Reach the dependency once; raise the client's own error when it fails."""
        raise NotImplementedError

    def usage(self) -> PoolUsage | None:
        """The client pool's state, read without I/O; None when there is no pool."""
        return None

    def fault_code(self, error: BaseException) -> str | None:
        return fault_code_of(error, self.kind, self.name)

    @property
    def timeout_code(self) -> str | None:
        """The code for no answer in time: the kind's own in the registry, when it is one."""
        return SCHEMES[self.kind].timeout_code if self.kind in SCHEMES else None

    def secrets(self) -> frozenset[str]:
        """Values that must never appear in the document (passwords, tokens)."""
        return frozenset()


async def timed(action: Awaitable[object]) -> Observation:
    """``responseTime`` of an action that raises when the dependency fails."""
    started = time.perf_counter()
    await action
    return Observation("responseTime", Grade.PASS, _ms(started), "ms")


class FunctionCheck(Check):
    """The app's own async function: it passes when it returns and fails when it raises."""

    def __init__(
        self,
        name: str,
        function: Callable[[], Awaitable[object]],
        *,
        kind: str = "app",
        component_type: str | None = None,
        **options: Any,
    ) -> None:
        if not _is_async(function):
            # a blocking function would stall the app's event loop, which this must never do
            raise TypeError("a function check takes an async function (async def)")
        super().__init__(name, component_type=component_type, **options)
        self.function = function
        self.kind = kind
        if not component_type:
            self.component_type = component_type_of(kind)

    async def measure(self) -> Observation:
        async with asyncio.timeout(self.timeout):
            return await timed(self.function())


def _ietf_keys(
    component_id: str | None, endpoints: tuple[str, ...], links: dict[str, str]
) -> tuple[tuple[str, object], ...]:
    """The draft's optional keys, typed as it says: a string, a list of URIs, an object of
    URIs."""
    if component_id is not None and not isinstance(component_id, str):
        raise TypeError("component_id is a string")
    if not all(isinstance(endpoint, str) for endpoint in endpoints):
        raise TypeError("affected_endpoints is a list of URI strings")
    if not all(isinstance(key, str) and isinstance(uri, str) for key, uri in links.items()):
        raise TypeError("links maps strings to URI strings")
    found: list[tuple[str, object]] = []
    if component_id:
        found.append(("componentId", component_id))
    if endpoints:
        found.append(("affectedEndpoints", list(endpoints)))
    if links:
        found.append(("links", dict(sorted(links.items()))))
    return tuple(found)


def component_type_of(kind: str) -> str:
    """The IETF ``componentType`` of a dependency of this kind (``datastore`` for redis)."""
    return SCHEMES[kind].component_type if kind in SCHEMES else "component"


def _is_async(function: object) -> bool:
    while isinstance(function, functools.partial):
        function = function.func
    call = type(function).__call__  # an object with an async __call__ is async too
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


async def run_check(check: Check, previous: Outcome | None = None) -> Outcome:
    """Run one check to an ``Outcome`` within its timeout (plus a grace); never raises.

    ``previous`` is the check's last outcome: a failure stands while the pool is saturated.
    """
    started = time.perf_counter()
    pool = _usage(check)
    if pool is not None and pool.saturated:
        # Waiting for a connection would add to the queue it reports; the pool says enough.
        measured = _unmeasured(previous)
    else:
        measured = await _measure(check)
    measured = _slow(check, measured)
    observations = (measured,) if pool is None else (measured, pool.observation())
    return Outcome(
        name=check.name,
        component_type=check.component_type,
        critical=check.critical,
        observations=observations,
        time=clock.now(),
        duration_ms=_ms(started),
        pool=pool,
        ietf=getattr(check, "ietf", ()),
    )


def _slow(check: Check, measured: Observation) -> Observation:
    """A pass slower than ``warn_after`` is a warning: the dependency answers, but slowly."""
    limit = check.warn_after
    if limit is None or measured.status is not Grade.PASS or measured.value is None:
        return measured
    if measured.unit != "ms" or measured.value <= limit * 1000:
        return measured
    output = f"answered in {measured.value:g} ms, slower than the {limit:g}s warn_after"
    return dataclasses.replace(measured, status=Grade.WARN, output=output)


def tolerated(check: Check, outcome: Outcome, streak: int, failing_seconds: float) -> Outcome:
    """A failing outcome as a warning, until the check's failure tolerance is used up.

    ``streak``: consecutive failing runs, this one included; ``failing_seconds``: since the
    first of them.
    """
    if outcome.status is not Grade.FAIL:
        return outcome
    if check.failure_threshold <= 1 and check.failing_for is None:
        return outcome  # no tolerance asked for
    if streak >= check.failure_threshold > 1:
        return outcome
    if check.failing_for is not None and failing_seconds >= check.failing_for:
        return outcome
    note = f"tolerated: failing run {streak} of {check.failure_threshold}"
    if check.failing_for is not None:
        note += f", failing for {failing_seconds:.1f}s of {check.failing_for:g}s"
    observations = tuple(
        dataclasses.replace(
            observation, status=Grade.WARN, output=f"{observation.output} ({note})".lstrip()
        )
        if observation.status is Grade.FAIL
        else observation
        for observation in outcome.observations
    )
    return dataclasses.replace(outcome, observations=observations)


def _unmeasured(previous: Outcome | None) -> Observation:
    """A saturated pool warns, unless the last measurement failed: then the failure stands.

    Connections stuck on a hung server saturate the pool too; that is an outage, not a
    warning, and a full pool gives no sign that the dependency has recovered.
    """
    last = previous.observations[0] if previous is not None else None
    if last is not None and last.measurement == "responseTime" and last.status is Grade.FAIL:
        return last
    return Observation("responseTime", Grade.WARN, None, "ms", SATURATED)


STUCK = "the previous run ignored its cancellation and still runs: no new run starts until it ends"


async def _measure(check: Check) -> Observation:
    stuck = getattr(check, "stuck", None)
    if stuck is not None and not stuck.done():
        return timed_out(check, check.timeout, f"check timeout; {STUCK}")
    # A task of its own, so a check that ignores cancellation still cannot hold us past the cut.
    task = asyncio.create_task(check.measure(), name=f"faultfinder-health {check.name}")
    try:
        done, _ = await asyncio.wait({task}, timeout=check.timeout + HARD_CUT_GRACE)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_forget)
        check.stuck = task
        return timed_out(check, check.timeout)
    if task.cancelled():
        return Observation("responseTime", Grade.FAIL, None, "ms", "the check was cancelled")
    error = task.exception()
    if error is None:
        return task.result()
    if isinstance(error, TimeoutError) and not str(error):  # asyncio.timeout in the check
        return timed_out(check, check.timeout)
    return failed(check, error)


def timed_out(check: Check, seconds: float, what: str = "check timeout") -> Observation:
    code = check.timeout_code
    return Observation(
        "responseTime",
        Grade.FAIL,
        None,
        "ms",
        f"no answer within the {seconds:g}s {what}",
        code,
        FAULTS[code].layer if code else None,
    )


def failed(check: Check, error: BaseException) -> Observation:
    try:
        code = check.fault_code(error)
    except Exception:  # a classifier must never turn a failed check into a crashed request
        code = None
    output = f"{type(error).__name__}: {describe(error)}"
    layer = FAULTS[code].layer if code in FAULTS else None
    return Observation("responseTime", Grade.FAIL, None, "ms", output, code, layer)


def _usage(check: Check) -> PoolUsage | None:
    try:
        return check.usage()
    except Exception:  # pool internals differ between versions: no figures beats a crash
        return None


def _forget(task: asyncio.Task[Observation]) -> None:
    """Retrieve a cut-off check's late result or error, so asyncio does not log it."""
    with contextlib.suppress(BaseException):
        task.exception()


def _ms(started: float) -> float:
    return rounded((time.perf_counter() - started) * 1000)


def rounded(value: float) -> float:
    """Milliseconds as the document shows them: to a tenth."""
    return round(value, 1)
