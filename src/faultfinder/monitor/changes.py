"""A state change described with the diagnosis made at that moment (pure).

The change carries the component's code (``dependency.failed`` for a symptom), the layer it
fails at, and the verdict of the root causes *this component can reach* through ``depends_on``
and ``via`` — not of every fault in the stack — with its why-chain from here down.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from faultfinder.diagnosis import story
from faultfinder.diagnosis.causes import FOOTING_PENALTY
from faultfinder.diagnosis.graph import reachable
from faultfinder.diagnosis.verdict import verdict, why_chain
from faultfinder.faults import Owner, fault
from faultfinder.model import (
    CauseGroup,
    CheckResult,
    ComponentReport,
    Diagnosis,
    RootCause,
    Status,
)
from faultfinder.monitor.view import StateChange


@dataclass(frozen=True)
class Change:
    """A change flap control found, before it is described: ``result`` is the one that made it."""

    component: str
    old: Status
    new: Status
    at: datetime.datetime
    result: CheckResult | None = None


def describe(
    diagnosis: Diagnosis,
    graph: Mapping[str, Sequence[str]],
    name: str,
    old: Status,
    new: Status,
    at: datetime.datetime,
    agent: str,
) -> StateChange:
    """A state change with the diagnosis made at that moment."""
    return describe_all(diagnosis, graph, [Change(name, old, new, at)], agent)[0]


def describe_all(
    diagnosis: Diagnosis,
    graph: Mapping[str, Sequence[str]],
    changes: Sequence[Change],
    agent: str,
) -> list[StateChange]:
    """Several changes with one diagnosis (the monitor batches them when many come at once)."""
    reports = {report.result.component: report for report in diagnosis.components}
    causes = {cause.component: cause for cause in diagnosis.root_causes}
    return [_describe(diagnosis, graph, reports, causes, change, agent) for change in changes]


def _describe(
    diagnosis: Diagnosis,
    graph: Mapping[str, Sequence[str]],
    reports: Mapping[str, ComponentReport],
    causes: Mapping[str, RootCause],
    change: Change,
    agent: str,
) -> StateChange:
    name, new = change.component, change.new
    report = reports[name]
    result = report.result
    # A batch is diagnosed a little after its changes: when a newer result already tells
    # another story, the change keeps its own result's code, without the diagnosis' view.
    stale = change.result is not None and report.status is not new
    if stale:
        assert change.result is not None
        result = change.result
        report = ComponentReport(result, new, result.code)
    code: str | None = None
    owner = Owner.NONE
    summary = diagnosis.verdict.summary  # recovered: what the stack as a whole looks like
    confidence = diagnosis.verdict.confidence
    why: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    groups: tuple[CauseGroup, ...] = ()
    if new is Status.DOWN:
        code = report.code or result.code
        # the verdict of the root causes this component can reach, not of the whole stack
        below = {name} | reachable(name, graph)
        related = () if stale else tuple(sorted(n for n in causes if n in below))
        groups = story.narrow(diagnosis.groups, related)
        if related:
            penalty = FOOTING_PENALTY if diagnosis.notes else 0.0
            doubt = story.doubt(diagnosis.notes)
            focused = verdict([causes[n] for n in related], [], penalty, groups, doubt)
            owner, summary, confidence = focused.owner, focused.summary, focused.confidence
        else:
            owner = _owner(code)
        members = story.by_member(groups)
        why = () if stale else tuple(why_chain(name, reports, causes, None, members))
    elif new is Status.DEGRADED:
        code = result.warning
        owner = _owner(code)
    failed = result.failed_phase if new is Status.DOWN else None
    layer = failed.layer if failed else fault(code).layer if code else None
    return StateChange(
        component=name,
        at=change.at,
        agent=agent,
        old=change.old,
        new=new,
        code=code,
        owner=owner,
        summary=summary,
        why=why,
        layer=layer,
        symptom_of=report.symptom_of,
        confidence=confidence,
        root_causes=tuple(causes[n] for n in related),
        groups=groups,
    )


def _owner(code: str | None) -> Owner:
    return fault(code).owner if code else Owner.NONE
