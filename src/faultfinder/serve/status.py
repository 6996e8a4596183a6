"""The monitor's view as the ``/api/status`` document (``faultfinder.status/v1``).

What the dashboard draws, and what a script can poll: the current verdict and why-chain, each
component's debounced state with its latest probe and recent latencies, and the state changes.
Pure: it reads a ``MonitorView`` and returns plain data; the caller redacts the JSON text.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from faultfinder import clock
from faultfinder.clock import utc_iso
from faultfinder.diagnosis import narrative
from faultfinder.faults import fault
from faultfinder.model import Diagnosis
from faultfinder.monitor.view import MonitorView, Reading, StateChange

SCHEMA = "faultfinder.status/v1"
LATENCY_POINTS = 60  # per component, for the charts
CHANGES_KEPT = 200  # the newest state changes


def status_document(
    view: MonitorView, stack: str, now: datetime.datetime | None = None
) -> dict[str, Any]:
    now = now or clock.now()
    latest = view.latest()
    states = view.states()
    diagnosis = view.diagnosis()
    reports = {r.result.component: r for r in diagnosis.components} if diagnosis else {}
    components = []
    for name in sorted(set(latest) | set(states)):
        state = states.get(name)
        observation = latest.get(name)
        report = reports.get(name)
        code = report.code if report else observation.result.code if observation else None
        entry: dict[str, Any] = {
            "name": name,
            "status": state[0].value if state else "pending",
            "since": utc_iso(state[1]) if state else None,
            "code": code,
            "owner": fault(code).owner if code else None,
            "symptom_of": list(report.symptom_of) if report else [],
            "critical": report.critical if report else False,
            "latest": _observation(observation) if observation else None,
            "latency": [_point(o) for o in view.recent(name, LATENCY_POINTS)],
        }
        components.append(entry)
    changes = view.changes()
    return {
        "schema": SCHEMA,
        "stack": stack,
        "generated_at": utc_iso(now),
        "status": diagnosis.status.value if diagnosis else "unknown",
        "verdict": (
            {
                "owner": diagnosis.verdict.owner,
                "summary": diagnosis.verdict.summary,
                "confidence": diagnosis.verdict.confidence,
            }
            if diagnosis
            else None
        ),
        "diagnosed_at": utc_iso(diagnosis.started_at) if diagnosis else None,
        "why": list(diagnosis.why) if diagnosis else [],
        "root_causes": [cause.to_json() for cause in diagnosis.root_causes] if diagnosis else [],
        # added by issue 19: the causes by shared cause, the footing doubts, and the story as
        # every front end tells it (diagnosis.narrative), line by line, for the page to draw
        "groups": [group.to_json() for group in diagnosis.groups] if diagnosis else [],
        "notes": list(diagnosis.notes) if diagnosis else [],
        "story": _story(diagnosis) if diagnosis else [],
        "components": components,
        "changes": [_change(change) for change in _newest(changes)],
    }


def _story(diagnosis: Diagnosis) -> list[dict[str, str]]:
    told = narrative.lines(narrative.Story.of(diagnosis))
    return [{"kind": line.kind, "text": line.text} for line in told]


def _newest(changes: Sequence[StateChange]) -> Sequence[StateChange]:
    return changes[-CHANGES_KEPT:]


def _observation(observation: Reading) -> dict[str, Any]:
    result = observation.result
    failed = result.failed_phase
    data: dict[str, Any] = {
        "at": utc_iso(observation.at),
        "agent": observation.agent,
        "kind": result.kind,
        "target": result.target,
        "ok": result.ok,
        "code": result.code,
        "layer": failed.layer if failed else None,
        "detail": failed.detail if failed else "",
        "warning": result.warning,
        "duration_ms": round(result.duration_ms, 1),
        "phases": [phase.to_json() for phase in result.phases],
    }
    if result.status_code is not None:
        data["http_status"] = result.status_code
    if result.certificate is not None:
        data["certificate"] = result.certificate.to_json()
    return data


def _point(observation: Reading) -> dict[str, Any]:
    result = observation.result
    return {"at": utc_iso(observation.at), "ms": round(result.duration_ms, 2), "ok": result.ok}


def _change(change: StateChange) -> dict[str, Any]:
    """A change for the dashboard's timeline: the history's shape, without root causes or their
    groups (the page shows the current ones)."""
    data = change.to_json()
    del data["root_causes"], data["groups"]
    return data
