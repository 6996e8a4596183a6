"""Each repetition's results → ``diagnose`` → one ``Attempt`` per component. Pure.

A check passes when that repetition's diagnosis does not call the component down, so a Redis
that faultfinder reaches but the backend's health document reports failing fails its check,
and a failing check carries the root causes the graph found, not a guess of its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import replace

from faultfinder.config import Stack
from faultfinder.diagnosis import diagnose, story
from faultfinder.faults import FAULTS, Owner
from faultfinder.model import CauseGroup, ComponentReport, Diagnosis, RootCause, Status
from faultfinder.validate.model import Attempt, Cause, SharedCause
from faultfinder.validate.repeat import Repetitions


def judge(stack: Stack, repetitions: Repetitions) -> list[Attempt]:
    """Diagnose every round and turn each component's report into a check."""
    return judge_all(stack, repetitions)[0]


def judge_all(
    stack: Stack, repetitions: Repetitions
) -> tuple[list[Attempt], tuple[SharedCause, ...]]:
    """The checks, and the causes the rounds' diagnoses found, grouped as each diagnosis
    grouped them (docs/contract.md §3, "Shared causes"), with the rounds that saw each."""
    checks: list[Attempt] = []
    seen: dict[tuple[object, ...], tuple[CauseGroup, list[int]]] = {}
    for index, (results, offsets) in enumerate(
        zip(repetitions.rounds, repetitions.offsets_ms, strict=True)
    ):
        started_at = repetitions.started_at + datetime.timedelta(
            milliseconds=min(offsets.values(), default=0.0)
        )
        diagnosis = diagnose(stack, results, started_at=started_at, footing=repetitions.footing)
        checks.extend(_checks(diagnosis, index + 1, offsets))
        for group in diagnosis.groups:
            key = (group.code, group.vantage, group.scope, group.where, group.members)
            seen.setdefault(key, (group, []))[1].append(index + 1)
    causes = sorted(seen.values(), key=lambda found: -len(found[1]))  # stable: first seen first
    return checks, tuple(SharedCause(group, tuple(rounds)) for group, rounds in causes)


def _checks(diagnosis: Diagnosis, repetition: int, offsets: Mapping[str, float]) -> list[Attempt]:
    reports = {report.result.component: report for report in diagnosis.components}
    causes = {cause.component: cause for cause in diagnosis.root_causes}
    groups = story.by_member(diagnosis.groups)
    checks = []
    for name, report in sorted(reports.items()):
        result = report.result
        check = Attempt(
            component=name,
            repetition=repetition,
            offset_ms=offsets[name],
            ms=result.duration_ms,
            ok=report.status is not Status.DOWN,
            days_left=result.certificate.days_left if result.certificate else None,
        )
        if not check.ok:
            found = _root_causes(name, reports, causes)
            owners = sorted({cause.owner for cause in found})
            code = report.code or "app.unhealthy"
            check = replace(
                check,
                code=code,
                owner=owners[0] if len(owners) == 1 else Owner.MIXED if owners else _owner(code),
                causes=tuple(Cause(c.component, c.code, c.owner, c.vantage) for c in found),
                detail=_detail(report, causes.get(name)),
                shared=next(
                    (
                        groups[c.component].title
                        for c in found
                        if c.component in groups and len(groups[c.component].members) > 1
                    ),
                    "",
                ),
            )
        checks.append(check)
    return checks


def _root_causes(
    name: str, reports: Mapping[str, ComponentReport], causes: Mapping[str, RootCause]
) -> list[RootCause]:
    """The root causes below a failing component, following its ``symptom_of`` links."""
    found: dict[str, RootCause] = {}
    pending = [name]
    seen: set[str] = set()
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.add(current)
        if current in causes:
            found[current] = causes[current]
        elif current in reports:
            pending.extend(reports[current].symptom_of)
    return [found[key] for key in sorted(found)]


def _detail(report: ComponentReport, cause: RootCause | None) -> str:
    failed = report.result.failed_phase
    if report.symptom_of:
        own = f": {failed.detail}" if failed and failed.detail else ""
        return f"symptom of {', '.join(report.symptom_of)}{own}"
    if cause is not None and cause.evidence:
        return cause.evidence[0]
    return failed.detail if failed else ""


def _owner(code: str) -> Owner:
    return FAULTS[code].owner if code in FAULTS else Owner.UNKNOWN
