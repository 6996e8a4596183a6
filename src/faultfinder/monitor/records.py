"""Observations and state changes ↔ the rows every history store keeps (pure, no I/O).

Times are Unix epoch milliseconds (``BIGINT`` in every dialect), so bucket arithmetic is the
same SQL everywhere. A result is kept as compact JSON without its response body: the body is
only read for the health document at the moment of diagnosis, and it is most of a result's
size. Text is scrubbed of the stack's secrets before it is stored.
"""

from __future__ import annotations

import datetime
import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from faultfinder.model import Certificate, CheckResult, Phase, RootCause, Status
from faultfinder.monitor.view import Observation, StateChange
from faultfinder.redact import scrub


@dataclass(frozen=True)
class ObservationRow:
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
observation_values = operator.attrgetter(*(field.name for field in fields(ObservationRow)))
change_values = operator.attrgetter(*(field.name for field in fields(ChangeRow)))

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MILLISECOND = datetime.timedelta(milliseconds=1)


def to_ms(moment: datetime.datetime) -> int:
    return (moment - EPOCH) // MILLISECOND


def from_ms(value: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(milliseconds=value)


def now_ms() -> datetime.datetime:
    """Now, to the millisecond the store keeps, so memory and history agree exactly."""
    return from_ms(to_ms(datetime.datetime.now(datetime.UTC)))


def level(result: CheckResult) -> Status:
    """A single result's status: down when it failed, degraded when it only warned."""
    if not result.ok:
        return Status.DOWN
    return Status.DEGRADED if result.warning else Status.HEALTHY


def observation_row(observation: Observation, secrets: Iterable[str] = ()) -> ObservationRow:
    result = observation.result
    return ObservationRow(
        agent=observation.agent,
        component=observation.component,
        at_ms=to_ms(observation.at),
        ok=result.ok,
        status=level(result).value,
        code=result.code,
        duration_ms=round(result.duration_ms, 3),
        result=scrub(json.dumps(_result_json(result), separators=(",", ":")), secrets),
    )


def observation_from(
    agent: str, component: str, at_ms: int, code: str | None, duration_ms: float, text: str
) -> Observation:
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
        certificate=Certificate(**{**certificate, "names": tuple(certificate["names"])})
        if certificate
        else None,
        addresses=tuple(data.get("addresses", ())),
        content_type=data.get("content_type", ""),
        duration_ms=duration_ms,
        timings=dict(data.get("timings", {})),
    )
    return Observation(component, from_ms(at_ms), agent, result)


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
            "not_before": certificate.not_before,
            "not_after": certificate.not_after,
            "days_left": certificate.days_left,
        }
    return data


def change_row(change: StateChange, secrets: Iterable[str] = ()) -> ChangeRow:
    detail = {
        "why": list(change.why),
        "layer": change.layer,
        "symptom_of": list(change.symptom_of),
        "confidence": change.confidence,
        "root_causes": [cause.to_json() for cause in change.root_causes],
    }
    return ChangeRow(
        agent=change.agent,
        component=change.component,
        at_ms=to_ms(change.at),
        old=change.old.value,
        new=change.new.value,
        code=change.code,
        owner=change.owner,
        summary=scrub(change.summary, secrets),
        detail=scrub(json.dumps(detail, separators=(",", ":")), secrets),
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
        owner=row["owner"],
        summary=row["summary"],
        why=tuple(detail.get("why", ())),
        layer=detail.get("layer"),
        symptom_of=tuple(detail.get("symptom_of", ())),
        confidence=detail.get("confidence"),
        root_causes=tuple(_root_cause(cause) for cause in detail.get("root_causes", ())),
    )


def _root_cause(data: Mapping[str, Any]) -> RootCause:
    return RootCause(**{**data, "evidence": tuple(data["evidence"])})
