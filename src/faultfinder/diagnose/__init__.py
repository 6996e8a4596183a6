"""Diagnosis: probe results + the stack's graph → root causes, symptoms, a verdict and why.

Pure: no I/O here. ``diagnose`` takes what the probers returned.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from faultfinder.config import Stack
from faultfinder.diagnose.graph import edges, failing_below
from faultfinder.diagnose.verdict import root_cause_confidence, verdict, why_chain
from faultfinder.faults import fault
from faultfinder.model import CheckResult, ComponentReport, Diagnosis, RootCause, Status

# A failure at these layers is the component's own: its name, port or certificate. Nothing
# below it can make its DNS fail, so it is a root cause even when its dependencies fail too.
OWN_LAYERS = {"dns", "tcp", "tls"}

__all__ = ["diagnose"]


def diagnose(
    stack: Stack,
    results: Mapping[str, CheckResult],
    *,
    started_at: datetime.datetime | None = None,
    duration_ms: float = 0.0,
) -> Diagnosis:
    started_at = started_at or datetime.datetime.now(datetime.UTC)
    graph = edges(stack)
    failing = {name for name, result in results.items() if not result.ok}
    reports: dict[str, ComponentReport] = {}
    causes: dict[str, RootCause] = {}
    for name in sorted(results):
        result = results[name]
        component = stack.components[name]
        below = failing_below(name, graph, failing) if not result.ok else []
        own = result.code is not None and fault(result.code).layer in OWN_LAYERS
        if below and not own:
            reports[name] = ComponentReport(
                result, Status.DOWN, "dependency.failed", tuple(below), component.spec.critical
            )
            continue
        status = (
            Status.DOWN
            if not result.ok
            else (Status.DEGRADED if result.warning else Status.HEALTHY)
        )
        reports[name] = ComponentReport(result, status, result.code, (), component.spec.critical)
        if result.code is not None:
            causes[name] = _root_cause(result, result.code)
    root_causes = tuple(causes[name] for name in sorted(causes))
    warnings = [report for report in reports.values() if report.result.warning]
    status = _stack_status(stack, reports, graph)
    why: list[str] = []
    explained = {below for report in reports.values() for below in report.symptom_of}
    for start in sorted(failing - explained):
        why.extend(why_chain(start, reports, causes))
    return Diagnosis(
        stack=stack.name,
        started_at=started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        duration_ms=duration_ms,
        status=status,
        verdict=verdict(root_causes, warnings),
        root_causes=root_causes,
        components=tuple(reports[name] for name in sorted(reports)),
        why=tuple(why),
    )


def _root_cause(result: CheckResult, code: str) -> RootCause:
    entry = fault(code)
    failed = result.failed_phase
    return RootCause(
        component=result.component,
        code=code,
        layer=failed.layer if failed else entry.layer,
        owner=entry.owner,
        vantage="faultfinder",
        confidence=root_cause_confidence(code, len(result.evidence)),
        explanation=f"{result.component} ({result.target}): {entry.meaning}.",
        evidence=result.evidence,
        remediation=entry.remediation,
    )


def _stack_status(
    stack: Stack,
    reports: Mapping[str, ComponentReport],
    graph: Mapping[str, tuple[str, ...]],
) -> Status:
    """Down when a critical component fails (or, with none marked critical, anything fails)."""
    down = [name for name, report in reports.items() if report.status is Status.DOWN]
    critical = [name for name, component in stack.components.items() if component.spec.critical]
    if down and (not critical or any(name in critical for name in down)):
        return Status.DOWN
    if down or any(report.status is Status.DEGRADED for report in reports.values()):
        return Status.DEGRADED
    return Status.HEALTHY
