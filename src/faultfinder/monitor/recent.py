"""A component's recent results, kept small for sparklines and charts.

A full ``CheckResult`` is about 1.5 KB in memory; 2,000 components × 60 results of them is
~200 MB. A ``Sample`` keeps what a chart draws — when, the code, the total and per-rung
milliseconds — in about a quarter of that. ``recent()`` rebuilds readings from samples on
demand; the newest full result of each component stays in ``latest()``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from faultfinder.model import CheckResult, Phase
from faultfinder.monitor.view import Reading


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime.datetime
    code: str | None
    warning: str | None
    status_code: int | None
    duration_ms: float
    phases: tuple[tuple[str, bool, float], ...]  # (layer, ok, ms): no detail text


def sample(at: datetime.datetime, result: CheckResult) -> Sample:
    return Sample(
        at,
        result.code,
        result.warning,
        result.status_code,
        result.duration_ms,
        tuple((phase.layer, phase.ok, phase.ms) for phase in result.phases),
    )


def reading(component: str, agent: str, kind: str, target: str, kept: Sample) -> Reading:
    """The reading a sample stands for: evidence, details and body are not kept."""
    result = CheckResult(
        component=component,
        kind=kind,
        target=target,
        phases=tuple(Phase(layer, ok, ms) for layer, ok, ms in kept.phases),
        code=kept.code,
        warning=kept.warning,
        status_code=kept.status_code,
        duration_ms=kept.duration_ms,
    )
    return Reading(component, kept.at, agent, result)
