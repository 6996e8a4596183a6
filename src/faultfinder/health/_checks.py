"""What a check is and what it observes; URL checks reuse the probers, function checks run code.

A check measures one dependency once (``measure``), may report its connection pool
(``usage``), and reads its own errors into fault codes (``fault_code``). ``run_check`` runs
one under a hard time limit and always returns an ``Outcome``, never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from faultfinder.config import SECRET_NAME, Component, component_from_url
from faultfinder.diagnose.classify import describe
from faultfinder.faults import FAULTS
from faultfinder.health._evidence import TIMEOUT_CODES, fault_code_of
from faultfinder.model import CheckResult, utc_iso
from faultfinder.probe import probe_component, prober

# Past its timeout a check gets this much longer to record its own reason before it is cut.
HARD_CUT_GRACE = 0.5

_COMPONENT_TYPES = {
    "postgresql": "datastore",
    "redis": "datastore",
    "rediss": "datastore",
    "tcp": "system",
    "tls": "system",
    "dns": "system",
}
SATURATED = "not measured: the pool is saturated, and the check does not queue behind the app"


@dataclass(frozen=True)
class Observation:
    """One measurement of a check: one ``"name:measurement"`` entry of the health document."""

    measurement: str  # responseTime | connections
    status: str  # pass | warn | fail
    value: float | int | None = None
    unit: str = ""
    output: str = ""
    code: str | None = None  # a fault code (CONTRACT §2) when it fails or warns for a known reason
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
        status = "warn" if self.saturated else "pass"
        return Observation("connections", status, self.in_use, "connections", text)


@dataclass(frozen=True)
class Outcome:
    """What one run of a check found, and when (``time`` is ISO 8601 UTC)."""

    name: str
    component_type: str
    critical: bool
    observations: tuple[Observation, ...]
    time: str
    duration_ms: float
    pool: PoolUsage | None = None

    @property
    def status(self) -> str:
        statuses = {observation.status for observation in self.observations}
        return next(status for status in ("fail", "warn", "pass") if status in statuses)


class Check:
    """One dependency the app needs; subclasses say how to measure it.

    ``kind`` (a URL scheme such as ``redis`` or ``postgresql``) picks the fault codes for a
    timeout and for the client library's errors; ``critical`` checks decide readiness.
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
    ) -> None:
        if not name or ":" in name:
            raise ValueError(f"a check name is non-empty and has no colon: {name!r}")
        if timeout <= 0:
            raise ValueError("a check timeout must be greater than zero")
        self.name = name
        self.critical = critical
        self.timeout = timeout
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
        return TIMEOUT_CODES.get(self.kind)

    def secrets(self) -> frozenset[str]:
        """Values that must never appear in the document (passwords, tokens)."""
        return frozenset()


async def timed(action: Awaitable[object]) -> Observation:
    """``responseTime`` of an action that raises when the dependency fails."""
    started = time.perf_counter()
    await action
    return Observation("responseTime", "pass", _ms(started), "ms")


class UrlCheck(Check):
    """A dependency reached by URL, probed layer by layer with faultfinder's own probers."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        critical: bool = True,
        timeout: float = 2.0,
        component_type: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout, component_type=component_type)
        self.component: Component = component_from_url(name, url, timeout=timeout, **options)
        self.kind = self.component.kind
        if not component_type:
            self.component_type = _COMPONENT_TYPES.get(self.kind, "component")
        prober(self.kind)  # import the prober now, not on the event loop at the first request

    async def measure(self) -> Observation:
        return observe_result(await probe_component(self.component))

    def secrets(self) -> frozenset[str]:
        parts = self.component.parts
        found = {unquote(parts.password)} if parts.password else set()
        found.update(v for k, v in parse_qsl(parts.query) if v and SECRET_NAME.search(k))
        found.update(value for value in self.component.spec.headers.values() if value)
        return frozenset(found)


def observe_result(result: CheckResult) -> Observation:
    """A prober's result as the ``responseTime`` observation of a health check."""
    failed = result.failed_phase
    if result.code is not None:
        output = "; ".join(result.evidence) or (failed.detail if failed else result.code)
        layer = failed.layer if failed else None
        return Observation(
            "responseTime", "fail", _round(result.duration_ms), "ms", output, result.code, layer
        )
    if result.warning is not None:
        output = "; ".join(result.evidence) or result.warning
        return Observation(
            "responseTime", "warn", _round(result.duration_ms), "ms", output, result.warning
        )
    return Observation("responseTime", "pass", _round(result.duration_ms), "ms")


class FunctionCheck(Check):
    """The app's own async function: it passes when it returns and fails when it raises."""

    def __init__(
        self,
        name: str,
        function: Callable[[], Awaitable[object]],
        *,
        kind: str = "app",
        critical: bool = True,
        timeout: float = 2.0,
        component_type: str | None = None,
    ) -> None:
        if not _is_async(function):
            # a blocking function would stall the app's event loop, which this must never do
            raise TypeError("a function check takes an async function (async def)")
        super().__init__(name, critical=critical, timeout=timeout, component_type=component_type)
        self.function = function
        self.kind = kind
        if not component_type:
            self.component_type = _COMPONENT_TYPES.get(kind, "component")

    async def measure(self) -> Observation:
        async with asyncio.timeout(self.timeout):
            return await timed(self.function())


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
    observations = (measured,) if pool is None else (measured, pool.observation())
    return Outcome(
        name=check.name,
        component_type=check.component_type,
        critical=check.critical,
        observations=observations,
        time=now_iso(),
        duration_ms=_ms(started),
        pool=pool,
    )


def _unmeasured(previous: Outcome | None) -> Observation:
    """A saturated pool warns, unless the last measurement failed: then the failure stands.

    Connections stuck on a hung server saturate the pool too; that is an outage, not a
    warning, and a full pool gives no sign that the dependency has recovered.
    """
    last = previous.observations[0] if previous is not None else None
    if last is not None and last.measurement == "responseTime" and last.status == "fail":
        return last
    return Observation("responseTime", "warn", None, "ms", SATURATED)


async def _measure(check: Check) -> Observation:
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
        return timed_out(check, check.timeout)
    if task.cancelled():
        return Observation("responseTime", "fail", None, "ms", "the check was cancelled")
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
        "fail",
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
    return Observation("responseTime", "fail", None, "ms", output, code, layer)


def _usage(check: Check) -> PoolUsage | None:
    try:
        return check.usage()
    except Exception:  # pool internals differ between versions: no figures beats a crash
        return None


def _forget(task: asyncio.Task[Observation]) -> None:
    """Retrieve a cut-off check's late result or error, so asyncio does not log it."""
    with contextlib.suppress(BaseException):
        task.exception()


def now_iso() -> str:
    return utc_iso(datetime.datetime.now(datetime.UTC))


def _ms(started: float) -> float:
    return _round((time.perf_counter() - started) * 1000)


def _round(value: float) -> float:
    return round(value, 1)
