"""Several agents' views of one stack → one diagnosis that says which vantage points see a fault.

Pure: no I/O here (``serve.prometheus_api`` reads the views from Prometheus). Each agent has
already diagnosed what it probed (its root causes and symptoms); this joins those diagnoses:

- a fault seen from every fresh agent that probes the component is the component's own;
- a fault seen from only some is on the path from those agents to it (their resolver,
  connector, firewall, route): a root cause whose ``vantage`` names them;
- an agent whose latest probe is older than the staleness limit, or that no longer answers
  Prometheus' scrapes, is listed, and its view left out: never guessed from, neither as
  healthy nor as failing.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from faultfinder.clock import utc_iso
from faultfinder.config import Stack
from faultfinder.diagnosis import story
from faultfinder.diagnosis.causes import path_hint, stack_status
from faultfinder.diagnosis.graph import edges, failing_below
from faultfinder.diagnosis.verdict import root_cause_confidence, verdict, why_chain
from faultfinder.faults import fault
from faultfinder.model import (
    AgentSeen,
    CheckResult,
    ComponentReport,
    Diagnosis,
    Phase,
    RootCause,
    Status,
    Vantage,
)

SYMPTOM = "dependency.failed"
# Agents that disagree are the evidence of a path's fault, but indirect evidence.
PATH_CONFIDENCE = 0.8


@dataclass(frozen=True)
class AgentView:
    """What one agent exported about one component: its latest probe and its own diagnosis."""

    agent: str
    component: str
    at: datetime.datetime  # when the agent probed it
    code: str | None  # the agent's diagnosis: None healthy, a code, or dependency.failed
    layer: str | None
    kind: str = ""
    phases: tuple[Phase, ...] = ()  # the layers' times, in any order
    probe_ok: bool | None = None  # the agent's own probe held (None: not exported)
    duration_ms: float = 0.0
    cause_vantage: str | None = None  # a root cause in the agent's diagnosis, seen from here
    scraped: bool = True  # Prometheus holds its series now (False: the agent stopped answering)

    @property
    def vantage(self) -> Vantage:
        status = Status.HEALTHY if self.code is None else Status.DOWN
        return Vantage(self.agent, self.at, status, self.code, self.layer)


def diagnose_vantages(
    stack: Stack,
    views: Sequence[AgentView],
    *,
    now: datetime.datetime,
    staleness: float,
) -> Diagnosis:
    """One diagnosis from every agent's view; ``staleness`` in seconds."""
    oldest = now - datetime.timedelta(seconds=staleness)
    agents = _agents(views, oldest)
    stale = {agent.name for agent in agents if agent.stale}
    fresh: dict[str, list[AgentView]] = {}
    for view in sorted(views, key=lambda v: (v.component, v.agent)):
        usable = view.scraped and view.at >= oldest and view.component in stack.components
        if view.agent not in stale and usable:
            fresh.setdefault(view.component, []).append(view)
    graph = edges(stack)
    failing = {name for name, seen in fresh.items() if any(v.code for v in seen)}
    reports: dict[str, ComponentReport] = {}
    causes: dict[str, RootCause] = {}
    for name, seen in sorted(fresh.items()):
        report, cause = _component(stack, name, seen, graph, failing)
        reports[name] = report
        if cause is not None:
            causes[name] = cause
    root_causes = tuple(causes[name] for name in sorted(causes))
    explained = {below for report in reports.values() for below in report.symptom_of}
    why: list[str] = []
    described: set[str] = set()
    starts = sorted(failing - explained, key=lambda n: (not stack.components[n].spec.critical, n))
    for start in starts:
        why.extend(why_chain(start, reports, causes, described))
    # no probe results here (only the agents' codes), so causes group by resolver or component
    groups = story.group_causes(root_causes, {}, list(stack.components))
    return Diagnosis(
        stack=stack.name,
        started_at=now,
        duration_ms=0.0,
        status=stack_status(stack, reports),
        verdict=verdict(root_causes, [], groups=groups),
        root_causes=root_causes,
        components=tuple(reports[name] for name in sorted(reports)),
        why=tuple(why),
        notes=tuple(_notes(stack, agents, fresh, staleness)),
        agents=tuple(agents),
        groups=groups,
    )


def _agents(views: Sequence[AgentView], oldest: datetime.datetime) -> list[AgentSeen]:
    last: dict[str, datetime.datetime] = {}
    scraped: set[str] = set()
    for view in views:
        last[view.agent] = max(view.at, last.get(view.agent, view.at))
        if view.scraped:
            scraped.add(view.agent)
    return [
        AgentSeen(name, at, at < oldest or name not in scraped) for name, at in sorted(last.items())
    ]


def _component(
    stack: Stack,
    name: str,
    seen: Sequence[AgentView],
    graph: Mapping[str, tuple[str, ...]],
    failing: set[str],
) -> tuple[ComponentReport, RootCause | None]:
    failed = [view for view in seen if view.code is not None]
    reached = [view for view in seen if view.code is None]
    shown = failed[0] if failed else seen[0]
    critical = stack.components[name].spec.critical
    result = CheckResult(
        component=name,
        kind=shown.kind or stack.components[name].kind,
        target=stack.components[name].display_url,
        phases=_ladder(stack.components[name].rungs, shown),
        code=shown.code,
        duration_ms=shown.duration_ms,
    )
    vantages = tuple(view.vantage for view in seen)
    if not failed:
        return ComponentReport(result, Status.HEALTHY, None, (), critical, (), vantages), None
    own = [view for view in failed if view.cause_vantage is not None and view.code != SYMPTOM]
    if not own:  # every agent that sees it fail blames a component below it
        below = tuple(failing_below(name, graph, failing))
        report = ComponentReport(result, Status.DOWN, SYMPTOM, below, critical, (), vantages)
        return report, None
    cause = _own_cause(result, own) if not reached else _path_cause(result, own, reached)
    notes = () if not reached else (f"fails only as seen from {cause.vantage}",)
    report = ComponentReport(result, Status.DOWN, cause.code, (), critical, notes, vantages)
    return report, cause


def _ladder(rungs: Sequence[str], view: AgentView) -> tuple[Phase, ...]:
    """The exported phases in the order the ladder climbs them. A probe stops at the first
    rung that fails, so when it failed, its failing rung is the one its code names or else
    the last one it timed (a symptom's code names none)."""
    order = {rung: index for index, rung in enumerate(rungs)}
    phases = sorted(
        view.phases, key=lambda phase: (order.get(phase.layer, len(order)), phase.layer)
    )
    if view.probe_ok is not False or not phases:
        return tuple(phases)
    layers = [phase.layer for phase in phases]
    failed = layers.index(view.layer) if view.layer in layers else len(phases) - 1
    return tuple(
        Phase(phase.layer, index != failed, phase.ms) for index, phase in enumerate(phases)
    )


def _seen_line(view: AgentView) -> str:
    return f"{view.agent} sees {view.code} at the {view.layer} layer (probed {utc_iso(view.at)})"


def _own_cause(result: CheckResult, own: Sequence[AgentView]) -> RootCause:
    """Every agent that probes it sees it fail: the fault is the component's own."""
    first = own[0]
    code = first.code or "app.unhealthy"
    entry = fault(code)
    evidence = [_seen_line(view) for view in own]
    confidence = root_cause_confidence(code, len(evidence))
    if len(own) > 1 and all(view.code == code for view in own):
        confidence = min(0.95, confidence + 0.05)  # vantage points that agree
    names = ", ".join(view.agent for view in own)
    return RootCause(
        component=result.component,
        code=code,
        layer=first.layer or entry.layer,
        owner=entry.owner,
        vantage=first.cause_vantage or "faultfinder",
        confidence=round(confidence, 2),
        explanation=(
            f"{result.component} ({result.target}): {entry.meaning}; seen from every agent "
            f"that probes it ({names}), so the fault is {result.component}'s own, not a path's."
        ),
        evidence=tuple(evidence),
        remediation=entry.remediation,
    )


def _path_cause(
    result: CheckResult, own: Sequence[AgentView], reached: Sequence[AgentView]
) -> RootCause:
    """Some agents see it fail while others reach it: the failing agents' path is at fault."""
    first = own[0]
    code = first.code or "app.unhealthy"
    entry = fault(code)
    vantage = ",".join(view.agent for view in own)
    fine = ", ".join(view.agent for view in reached)
    evidence = [_seen_line(view) for view in own]
    evidence += [
        f"{view.agent} reaches {result.component} fine "
        f"({', '.join(p.layer for p in view.phases) or 'every layer'} ok, probed "
        f"{utc_iso(view.at)})"
        for view in reached
    ]
    return RootCause(
        component=result.component,
        code=code,
        layer=first.layer or entry.layer,
        owner=entry.owner,
        vantage=vantage,
        confidence=PATH_CONFIDENCE,
        explanation=(
            f"{vantage} sees {result.component} fail ({entry.meaning}), but {fine} reaches "
            f"{result.component} fine: the fault is on {vantage}'s path to it — "
            f"{path_hint(code)}."
        ),
        evidence=tuple(evidence),
        remediation=f"From {vantage}'s side: {entry.remediation}",
    )


def _notes(
    stack: Stack,
    agents: Sequence[AgentSeen],
    fresh: Mapping[str, Sequence[AgentView]],
    staleness: float,
) -> list[str]:
    notes = [
        f"agent {agent.name} has not probed within {staleness:g}s or no longer answers "
        f"scrapes (last probe at {utc_iso(agent.last_probe)}): its view is left out, not guessed"
        for agent in agents
        if agent.stale
    ]
    unseen = sorted(set(stack.components) - set(fresh))
    if unseen:
        notes.append(f"no agent probed {', '.join(unseen)} within {staleness:g}s: not diagnosed")
    return notes
