"""Probe results + the stack's graph + apps' inside views → root causes, symptoms, a verdict.

Pure: no I/O here. ``diagnose`` takes what the probers returned (and the prober's own footing).

- A failing component whose dependency or backend fails too is a *symptom*
  (``dependency.failed``); the deepest failing components are the *root causes*.
- A failure at DNS, TCP or TLS is the component's own (its name, port or certificate), so it
  is a root cause even when something below it fails as well. Not for a flow: it has no
  address of its own, its steps call the components it sits on.
- An app's health document is evidence from inside: a dependency the app sees failing while
  faultfinder reaches it fine is a root cause *as seen from the app* (``vantage``).
- The platform's own description (``diagnose --platform``) names faults outright: a component
  it names a fault of is a root cause seen from ``platform``, unless the fault is only that
  it did not start or has no ready endpoint while something it needs fails (then it is a
  symptom, and the platform's word is a note). Where the platform says a component is fine
  and the probe fails, a note says the two disagree.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from faultfinder import clock
from faultfinder.classify.health_documents import HealthCheck
from faultfinder.config import Stack
from faultfinder.diagnosis import story
from faultfinder.diagnosis.graph import edges, failing_below
from faultfinder.diagnosis.inside import InsideFailure, InsideView, read_inside
from faultfinder.diagnosis.verdict import root_cause_confidence, verdict, why_chain
from faultfinder.faults import fault
from faultfinder.model import CheckResult, ComponentReport, Diagnosis, RootCause, Status
from faultfinder.platform import PlatformEvidence, PlatformFinding

OWN_LAYERS = {"dns", "tcp", "socket", "tls"}
# When the prober's own footing is in doubt, every verdict is.
FOOTING_PENALTY = 0.4
# Platform faults that a failing dependency explains: a service that crash-loops at start-up
# because its database is down (the usual case) has no ready endpoint for the same reason.
PLATFORM_SYMPTOMS = {
    "platform.startup_failed",
    "platform.container_exited",
    "platform.no_ready_endpoint",
    "app.unhealthy",
}


def diagnose(
    stack: Stack,
    results: Mapping[str, CheckResult],
    *,
    started_at: datetime.datetime | None = None,
    duration_ms: float = 0.0,
    footing: Sequence[str] = (),
    platform: PlatformEvidence | None = None,
) -> Diagnosis:
    started_at = started_at or clock.now()
    platform = platform or PlatformEvidence()
    platform_found = {n: found for n, found in platform.findings.items() if n in results}
    graph = edges(stack)
    inside = read_inside(stack, results)
    seen_inside: dict[str, list[InsideFailure]] = {}
    for failure in inside.failures:
        if failure.component in results:  # a monitor's first round may not have probed it yet
            seen_inside.setdefault(failure.component, []).append(failure)
    failing = {name for name, result in results.items() if not result.ok} | set(seen_inside)
    failing |= set(platform_found)

    reports: dict[str, ComponentReport] = {}
    causes: dict[str, RootCause] = {}
    for name in sorted(results):
        result = results[name]
        critical = stack.components[name].spec.critical
        notes = _notes(name, inside) + _platform_notes(result, platform, graph, failing)
        found = platform_found.get(name, ())
        below = failing_below(name, graph, failing) if found else []
        if found and not (below and found[0].code in PLATFORM_SYMPTOMS):
            causes[name] = _platform_cause(result, found)
            code = causes[name].code
            reports[name] = ComponentReport(result, Status.DOWN, code, (), critical, notes)
            continue
        if found:
            reports[name] = ComponentReport(
                result, Status.DOWN, "dependency.failed", tuple(below), critical, notes
            )
            continue
        if result.ok and name in seen_inside:
            cause = _inside_cause(result, seen_inside[name])
            causes[name] = cause
            notes += (f"fails as seen from {cause.vantage}; faultfinder reaches it fine",)
            reports[name] = ComponentReport(result, Status.DOWN, cause.code, (), critical, notes)
            continue
        own_checks = inside.own.get(name, ())
        if own_checks and not result.ok:  # the app names a fault of its own (its pool, say)
            causes[name] = _app_cause(result, own_checks)
            code = causes[name].code
            reports[name] = ComponentReport(result, Status.DOWN, code, (), critical, notes)
            continue
        below = failing_below(name, graph, failing) if not result.ok else []
        own = (
            result.code is not None
            and fault(result.code).layer in OWN_LAYERS
            and result.kind != "flow"
        )
        if below and not own:
            reports[name] = ComponentReport(
                result, Status.DOWN, "dependency.failed", tuple(below), critical, notes
            )
            continue
        if result.ok:
            status = Status.DEGRADED if result.warning else Status.HEALTHY
            reports[name] = ComponentReport(result, status, None, (), critical, notes)
            continue
        assert result.code is not None
        causes[name] = _probe_cause(result, seen_inside.get(name, []), inside)
        reports[name] = ComponentReport(result, Status.DOWN, result.code, (), critical, notes)

    root_causes = tuple(causes[name] for name in sorted(causes))
    groups = story.group_causes(root_causes, results, list(stack.components))
    members = story.by_member(groups)
    diagnosis_notes = [*footing, *_blind_spot(results)]
    penalty = FOOTING_PENALTY if diagnosis_notes else 0.0
    explained = {below for report in reports.values() for below in report.symptom_of}
    why: list[str] = []
    described: set[str] = set()
    # Critical components first: the golden path a user touches is the chain worth reading.
    starts = sorted(failing - explained, key=lambda n: (not stack.components[n].spec.critical, n))
    for start in starts:
        why.extend(why_chain(start, reports, causes, described, members))
    why = _said_once(why)
    return Diagnosis(
        stack=stack.name,
        started_at=started_at,
        duration_ms=duration_ms,
        status=stack_status(stack, reports),
        verdict=verdict(
            root_causes,
            [r for r in reports.values() if r.result.warning],
            penalty,
            groups,
            story.doubt(diagnosis_notes),
        ),
        root_causes=root_causes,
        components=tuple(reports[name] for name in sorted(reports)),
        why=tuple(why),
        notes=tuple(diagnosis_notes),
        groups=groups,
    )


def _said_once(why: Sequence[str]) -> list[str]:
    """Each step says something new: an owner and next step already said points back to it."""
    said: set[str] = set()
    steps = []
    for step in why:
        if step.startswith("Owner: ") and step in said:
            owner = step.split(". Next step: ", 1)[0]
            step = f"{owner}. Next step: the same as above."
        said.add(step)
        steps.append(step)
    return steps


def _probe_cause(
    result: CheckResult,
    also_inside: Sequence[InsideFailure],
    inside: InsideView,
) -> RootCause:
    """A root cause faultfinder saw itself; an app seeing it too is extra evidence."""
    code = result.code or "app.unhealthy"
    entry = fault(code)
    failed = result.failed_phase
    evidence = list(result.evidence)
    evidence += [
        f"{f.vantage} sees it too: {f.check.output or f.check.status}" for f in also_inside
    ]
    evidence += [
        f"{result.component}'s health document: {check.name}:{check.measurement} {check.status}"
        + (f" ({check.output})" if check.output else "")
        for check in inside.unmatched.get(result.component, ())
    ]
    confidence = root_cause_confidence(code, len(evidence))
    if also_inside:
        agree = all(f.check.code in (None, code) for f in also_inside)
        confidence = min(0.95, confidence + 0.05) if agree else max(0.1, confidence - 0.15)
    return RootCause(
        component=result.component,
        code=code,
        layer=failed.layer if failed else entry.layer,
        owner=entry.owner,
        vantage="faultfinder",
        confidence=round(confidence, 2),
        explanation=f"{result.component} ({result.target}): {entry.meaning}.",
        evidence=tuple(evidence),
        remediation=entry.remediation,
    )


def _app_cause(result: CheckResult, checks: Sequence[HealthCheck]) -> RootCause:
    """An app whose own health check names a fault of the app itself: its pool, its
    permissions, its platform. The dependency the check is named after is not blamed."""
    app = result.component
    first = checks[0]
    code = first.code or "app.unhealthy"
    entry = fault(code)
    evidence = [
        f"{app}'s health document: {check.name}"
        + (f":{check.measurement}" if check.measurement else "")
        + f" {check.status}: {check.output or '(no output)'}"
        for check in checks
    ]
    evidence += list(result.evidence)
    explanation = (
        f"{app} reports in its own health document that {entry.meaning} ({first.name}): the "
        f"fault is in {app} itself, not in {first.name}."
    )
    return RootCause(
        component=app,
        code=code,
        layer=entry.layer,
        owner=entry.owner,
        vantage=app,
        confidence=0.8,
        explanation=explanation,
        evidence=tuple(evidence),
        remediation=entry.remediation,
    )


def _inside_cause(result: CheckResult, failures: Sequence[InsideFailure]) -> RootCause:
    """A dependency an app sees failing while faultfinder reaches it: the app's path is at fault."""
    first = failures[0]
    code = first.check.code or "app.unhealthy"
    entry = fault(code)
    vantage = first.vantage
    evidence = [
        f"{f.vantage} reports {f.check.name}:{f.check.measurement} {f.check.status}: "
        f"{f.check.output or '(no output)'}"
        for f in failures
    ]
    reached = result.phases[-1] if result.phases else None
    if reached is not None:
        evidence.append(
            f"faultfinder reaches {result.component} fine from here "
            f"({', '.join(p.layer for p in result.phases)} ok)"
        )
    explanation = (
        f"{vantage} sees {result.component} fail ({entry.meaning}), but faultfinder reaches "
        f"{result.component} fine: the fault is on {vantage}'s own path to it — "
        f"{path_hint(code)}."
    )
    # Two vantage points disagree: that disagreement is the evidence, but it is indirect.
    confidence = 0.8 if first.check.code else 0.5
    return RootCause(
        component=result.component,
        code=code,
        layer=entry.layer,
        owner=entry.owner,
        vantage=vantage,
        confidence=confidence,
        explanation=explanation,
        evidence=tuple(evidence),
        remediation=f"From {vantage}'s side: {entry.remediation}",
    )


def path_hint(code: str) -> str:
    layer = code.split(".", 1)[0]
    return {
        "dns": "its resolver (resolv.conf, the VPC connector's DNS, private zones)",
        "tcp": "its route, VPC connector or egress/firewall rules",
        "tls": "its trust store or the name it connects with",
        "postgres": "its configured database credentials, database name or its own pool",
        "redis": "its configured credentials or its own connection pool",
    }.get(layer, "its configuration and network path")


def _notes(name: str, inside: InsideView) -> tuple[str, ...]:
    note = inside.notes.get(name)
    return (note,) if note else ()


def _blind_spot(results: Mapping[str, CheckResult]) -> list[str]:
    """Everything failing at DNS or TCP at once points at the prober's own network."""
    if len(results) < 2:
        return []
    layers = [fault(r.code).layer for r in results.values() if r.code is not None]
    if len(layers) == len(results) and all(layer in {"dns", "tcp"} for layer in layers):
        return [
            "every component fails at DNS or TCP at once: faultfinder's own network or "
            "resolver may be the cause; check this machine's footing before declaring an outage"
        ]
    return []


def stack_status(stack: Stack, reports: Mapping[str, ComponentReport]) -> Status:
    """Down when a critical component fails (or, with none marked critical, anything fails)."""
    down = [name for name, report in reports.items() if report.status is Status.DOWN]
    critical = {name for name, component in stack.components.items() if component.spec.critical}
    if down and (not critical or critical.intersection(down)):
        return Status.DOWN
    if down or any(report.status is Status.DEGRADED for report in reports.values()):
        return Status.DEGRADED
    return Status.HEALTHY


def _platform_cause(result: CheckResult, found: Sequence[PlatformFinding]) -> RootCause:
    """A fault the platform's own description names; the probe's view is evidence beside it."""
    first = found[0]
    entry = fault(first.code)
    evidence = [
        f"{finding.subject}: {line}" for finding in found for line in finding.evidence or ("",)
    ]
    evidence += list(result.evidence)
    if result.ok:
        layers = ", ".join(phase.layer for phase in result.phases)
        evidence.append(f"faultfinder's own probe of {result.component} passes ({layers} ok)")
    explanation = (
        f"{result.component}: the platform's own description ({first.subject}) says "
        f"{entry.meaning}."
    )
    # The platform's word is direct evidence; a probe that agrees (it fails too) adds to it.
    confidence = 0.9 if not result.ok else 0.75
    return RootCause(
        component=result.component,
        code=first.code,
        layer=entry.layer,
        owner=entry.owner,
        vantage="platform",
        confidence=confidence,
        explanation=explanation,
        evidence=tuple(line.rstrip(": ") for line in evidence),
        remediation=entry.remediation,
    )


def _platform_notes(
    result: CheckResult,
    platform: PlatformEvidence,
    graph: Mapping[str, tuple[str, ...]],
    failing: set[str],
) -> tuple[str, ...]:
    """Where the platform and the probe disagree, say so rather than pick one silently."""
    name = result.component
    found = platform.findings.get(name, ())
    if found and result.ok:
        codes = ", ".join(dict.fromkeys(finding.code for finding in found))
        return (
            f"the platform names {codes} here, while faultfinder's probe passes from where it "
            "runs: the platform's view may be about a revision or path the probe does not take",
        )
    if found and failing_below(name, graph, failing) and found[0].code in PLATFORM_SYMPTOMS:
        # a symptom: the platform's word would be lost without the note (a root cause keeps
        # it as evidence)
        return tuple(
            f"the platform says ({finding.subject}): {finding.code}"
            + (f" — {finding.evidence[0]}" if finding.evidence else "")
            for finding in found
        )
    said = platform.healthy.get(name, ())
    if said and not result.ok:
        return tuple(
            f"the platform says it is fine ({statement}), yet faultfinder's probe fails "
            f"({result.code}): the fault is on the path between (DNS, routes, firewall, "
            "connector, load balancer) or in what the platform does not check"
            for statement in said
        )
    return ()
