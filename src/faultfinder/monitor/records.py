"""Readings and state changes ↔ the rows every history store keeps (pure, no I/O).

Times are Unix epoch milliseconds (``BIGINT`` in every dialect), so bucket arithmetic is the
same SQL everywhere. A result is kept as compact JSON without its response body: the body is
only read for the health document at the moment of diagnosis, and it is most of a result's
size. Text is scrubbed of the stack's secrets before it is stored.
"""

from __future__ import annotations

import datetime
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from faultfinder.clock import from_ms, to_ms, utc_seconds
from faultfinder.faults import Owner
from faultfinder.model import CauseGroup, Certificate, CheckResult, Phase, RootCause, Status
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.redact import INLINE, Redactor


@dataclass(frozen=True)
class ReadingRow:
    agent: str
    component: str
    at_ms: int
    ok: bool
    status: str
    code: str | None
    duration_ms: float
    result: str  # JSON


@dataclass(frozen=True)
class ChangeRow:
    agent: str
    component: str
    at_ms: int
    old: str
    new: str
    code: str | None
    owner: str
    summary: str
    detail: str  # JSON: why, layer, symptom_of, confidence, root_causes


# A row's values in field (= column) order; dataclasses.astuple deep-copies, at a cost per row.
reading_values = operator.attrgetter(*(field.name for field in fields(ReadingRow)))
change_values = operator.attrgetter(*(field.name for field in fields(ChangeRow)))


def level(result: CheckResult) -> Status:
    """A single result's status: down when it failed, degraded when it only warned."""
    if not result.ok:
        return Status.DOWN
    return Status.DEGRADED if result.warning else Status.HEALTHY


def reading_row(observation: Reading, redactor: Redactor = INLINE) -> ReadingRow:
    result = observation.result
    return ReadingRow(
        agent=observation.agent,
        component=observation.component,
        at_ms=to_ms(observation.at),
        ok=result.ok,
        status=level(result).value,
        code=result.code,
        duration_ms=round(result.duration_ms, 3),
        result=redactor(json.dumps(_result_json(result), separators=(",", ":"))),
    )


def reading_from(
    agent: str, component: str, at_ms: int, code: str | None, duration_ms: float, text: str
) -> Reading:
    """An observation from a row's columns, in the order the ``observations`` queries give."""
    data = json.loads(text)
    certificate = data.get("certificate")
    result = CheckResult(
        component=component,
        kind=data["kind"],
        target=data["target"],
        phases=tuple(Phase(*phase) for phase in data.get("phases", ())),
        code=code,
        warning=data.get("warning"),
        evidence=tuple(data.get("evidence", ())),
        status_code=data.get("status_code"),
        certificate=_certificate(certificate) if certificate else None,
        addresses=tuple(data.get("addresses", ())),
        content_type=data.get("content_type", ""),
        duration_ms=duration_ms,
        timings=dict(data.get("timings", {})),
    )
    return Reading(component, from_ms(at_ms), agent, result)


def _result_json(result: CheckResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": result.kind,
        "target": result.target,
        "phases": [[p.layer, p.ok, round(p.ms, 3), p.detail] for p in result.phases],
    }
    optional: dict[str, Any] = {
        "warning": result.warning,
        "evidence": list(result.evidence),
        "status_code": result.status_code,
        "addresses": list(result.addresses),
        "content_type": result.content_type,
        "timings": {name: round(ms, 3) for name, ms in result.timings.items()},
    }
    data.update((key, value) for key, value in optional.items() if value)
    if result.certificate is not None:
        certificate = result.certificate
        data["certificate"] = {
            "subject": certificate.subject,
            "issuer": certificate.issuer,
            "names": list(certificate.names),
            "not_before": utc_seconds(certificate.not_before),
            "not_after": utc_seconds(certificate.not_after),
            "days_left": certificate.days_left,
        }
    return data


def _certificate(data: Mapping[str, Any]) -> Certificate:
    return Certificate(
        **{
            **data,
            "names": tuple(data["names"]),
            "not_before": datetime.datetime.fromisoformat(data["not_before"]),
            "not_after": datetime.datetime.fromisoformat(data["not_after"]),
        }
    )


def change_row(change: StateChange, redactor: Redactor = INLINE) -> ChangeRow:
    detail = {
        "why": list(change.why),
        "layer": change.layer,
        "symptom_of": list(change.symptom_of),
        "confidence": change.confidence,
        "root_causes": [cause.to_json() for cause in change.root_causes],
        "groups": [group.to_json() for group in change.groups],
    }
    return ChangeRow(
        agent=change.agent,
        component=change.component,
        at_ms=to_ms(change.at),
        old=change.old.value,
        new=change.new.value,
        code=change.code,
        owner=change.owner,
        summary=redactor(change.summary),
        detail=redactor(json.dumps(detail, separators=(",", ":"))),
    )


def change_from(row: Mapping[str, Any]) -> StateChange:
    detail = json.loads(row["detail"])
    return StateChange(
        component=row["component"],
        at=from_ms(row["at_ms"]),
        agent=row["agent"],
        old=Status(row["old"]),
        new=Status(row["new"]),
        code=row["code"],
        owner=Owner(row["owner"]),
        summary=row["summary"],
        why=tuple(detail.get("why", ())),
        layer=detail.get("layer"),
        symptom_of=tuple(detail.get("symptom_of", ())),
        confidence=detail.get("confidence"),
        root_causes=tuple(_root_cause(cause) for cause in detail.get("root_causes", ())),
        groups=tuple(CauseGroup.from_json(group) for group in detail.get("groups", ())),
    )


def _root_cause(data: Mapping[str, Any]) -> RootCause:
    return RootCause(**{**data, "evidence": tuple(data["evidence"])})
