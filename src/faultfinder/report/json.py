"""The ``faultfinder.diagnosis/v1`` JSON document (docs/contract.md §3), deterministic and
redacted."""

from __future__ import annotations

import json
from typing import Any

from faultfinder.clock import utc_iso
from faultfinder.model import ComponentReport, Diagnosis
from faultfinder.redact import INLINE, Redactor

SCHEMA = "faultfinder.diagnosis/v1"


def diagnosis_document(diagnosis: Diagnosis) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "stack": diagnosis.stack,
        "started_at": utc_iso(diagnosis.started_at),
        "duration_ms": round(diagnosis.duration_ms, 1),
        "status": diagnosis.status.value,
        "verdict": {
            "owner": diagnosis.verdict.owner,
            "summary": diagnosis.verdict.summary,
            "confidence": diagnosis.verdict.confidence,
        },
        "root_causes": [cause.to_json() for cause in diagnosis.root_causes],
        "groups": [group.to_json() for group in diagnosis.groups],
        "components": [_component(report) for report in diagnosis.components],
        "why": list(diagnosis.why),
        "notes": list(diagnosis.notes),
    }
    if diagnosis.agents:  # diagnose --prometheus: every vantage point, fresh or stale
        document["agents"] = [agent.to_json() for agent in diagnosis.agents]
    return document


def _component(report: ComponentReport) -> dict[str, Any]:
    result = report.result
    data: dict[str, Any] = {
        "name": result.component,
        "kind": result.kind,
        "target": result.target,
        "status": report.status.value,
        "code": report.code,
        "symptom_of": list(report.symptom_of),
        "critical": report.critical,
        "phases": [phase.to_json() for phase in result.phases],
        "timings_ms": {name: round(ms, 1) for name, ms in sorted(result.timings.items())},
        "duration_ms": round(result.duration_ms, 1),
        "evidence": list(result.evidence),
        "addresses": list(result.addresses),
    }
    if result.code and report.code == "dependency.failed":
        data["own_code"] = result.code
    if result.warning:
        data["warning"] = result.warning
    if result.status_code is not None:
        data["http_status"] = result.status_code
    if result.certificate is not None:
        data["certificate"] = result.certificate.to_json()
    if report.notes:
        data["notes"] = list(report.notes)
    if report.vantages:
        data["vantages"] = [vantage.to_json() for vantage in report.vantages]
    if result.steps:
        data["steps"] = [step.to_json() for step in result.steps]
        failed = next((step for step in result.steps if not step.ok and not step.cleanup), None)
        data["failed_step"] = failed.name if failed is not None else None
    return data


def render_json(diagnosis: Diagnosis, redactor: Redactor = INLINE) -> str:
    text = json.dumps(diagnosis_document(diagnosis), indent=2, sort_keys=True, ensure_ascii=False)
    return redactor(text)
