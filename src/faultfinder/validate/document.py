"""The ``faultfinder.validation/v1`` JSON document (docs/validation.md): deterministic, redacted.

Every report (JUnit, Markdown, the hand-off) renders from this document, so a run saved with
``--report json`` can be rendered again later, on another machine, without probing anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from faultfinder.clock import utc_iso
from faultfinder.errors import UsageError
from faultfinder.redact import INLINE, Redactor
from faultfinder.validate.model import (
    Attempt,
    Cause,
    ComponentSummary,
    Criterion,
    FailureGroup,
    Validation,
)

SCHEMA = "faultfinder.validation/v1"
DIAGNOSIS_SCHEMA = "faultfinder.diagnosis/v1"
# What the reports read of each document; a saved file without them cannot be rendered.
REQUIRED_KEYS = {
    SCHEMA: (
        "stack",
        "stack_file",
        "started_at",
        "duration_ms",
        "result",
        "settings",
        "totals",
        "criteria",
        "categories",
        "components",
        "notes",
    ),
    DIAGNOSIS_SCHEMA: (
        "stack",
        "started_at",
        "duration_ms",
        "status",
        "verdict",
        "root_causes",
        "components",
        "why",
    ),
}


def validation_document(validation: Validation) -> dict[str, Any]:
    settings = validation.settings
    total, passes = validation.total_checks, validation.total_passes
    return {
        "schema": SCHEMA,
        "stack": validation.stack,
        "stack_file": validation.stack_file,
        "started_at": utc_iso(validation.started_at),
        "duration_ms": round(validation.duration_ms, 1),
        "result": validation.outcome.value,
        "settings": {
            "repetitions": settings.repetitions,
            "interval_ms": round(settings.interval_ms, 1),
            "pass_rate": settings.pass_rate,
            "critical_categories": list(settings.critical_categories),
        },
        "totals": {
            "checks": total,
            "passes": passes,
            "pass_rate": round(passes / total, 4) if total else 0.0,
        },
        "criteria": [_criterion(criterion) for criterion in validation.criteria],
        "categories": [
            {
                "name": category.name,
                "critical": category.critical,
                "components": list(category.components),
                "checks": category.checks,
                "passes": category.passes,
                "pass_rate": round(category.pass_rate, 4),
                "result": category.outcome.value,
            }
            for category in validation.categories
        ],
        "components": [_component(summary, validation.checks) for summary in validation.components],
        "notes": list(validation.notes),
        # added by issue 19: the causes by shared cause, with the repetitions that saw each
        "groups": [
            {**cause.group.to_json(), "repetitions": list(cause.repetitions)}
            for cause in validation.causes
        ],
        "sign_off": None
        if validation.sign_off is None
        else {
            "by": validation.sign_off.by,
            "at": utc_iso(validation.sign_off.at),
            "result": validation.sign_off.outcome.value,
            "criteria": [_criterion(criterion, brief=True) for criterion in validation.criteria],
        },
    }


def render_validation_json(validation: Validation, redactor: Redactor = INLINE) -> str:
    return render_document(validation_document(validation), redactor)


def render_document(document: dict[str, Any], redactor: Redactor = INLINE) -> str:
    """A JSON document as text: sorted keys, indented, redacted."""
    return redactor(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


def load_document(path: str, schema: str) -> dict[str, Any]:
    """A saved JSON document of ``schema``; anything else is a usage error (exit 2)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UsageError(f"{path} is not a JSON document: {error}") from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        raise UsageError(f"{path} is not a {schema} document")
    missing = [key for key in REQUIRED_KEYS[schema] if key not in document]
    if missing:
        raise UsageError(f"{path} lacks {', '.join(missing)}: not a complete {schema} document")
    return document


def _criterion(criterion: Criterion, *, brief: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": criterion.name,
        "subject": criterion.subject,
        "expected": criterion.expected,
        "actual": criterion.actual,
        "result": criterion.outcome.value,
    }
    if not brief:
        data["threshold"] = criterion.threshold
        data["value"] = criterion.value
        data["detail"] = criterion.detail
    return data


def _component(summary: ComponentSummary, checks: Iterable[Attempt]) -> dict[str, Any]:
    own = sorted(
        (check for check in checks if check.component == summary.name),
        key=lambda check: check.repetition,
    )
    return {
        "name": summary.name,
        "category": summary.category,
        "critical": summary.critical,
        "checks": summary.checks,
        "passes": summary.passes,
        "pass_rate": round(summary.pass_rate, 4),
        "longest_streak": summary.longest_streak,
        "latency_ms": {"p50": summary.p50_ms, "p95": summary.p95_ms, "max": summary.max_ms},
        "min_days_left": summary.min_days_left,
        "result": summary.outcome.value,
        "failures": [_failure(summary.name, group) for group in summary.failures],
        "history": [_check(check) for check in own],
    }


def _failure(component: str, group: FailureGroup) -> dict[str, Any]:
    return {
        "code": group.code,
        "owner": group.owner,
        "root_causes": [_cause(cause) for cause in group.causes],
        "detail": group.detail,
        "count": len(group.repetitions),
        "repetitions": list(group.repetitions),
        "summary": group.describe(component),
    }


def _cause(cause: Cause) -> dict[str, str]:
    return {
        "component": cause.component,
        "code": cause.code,
        "owner": cause.owner,
        "vantage": cause.vantage,
    }


def _check(check: Attempt) -> dict[str, Any]:
    data: dict[str, Any] = {
        "repetition": check.repetition,
        "offset_ms": round(check.offset_ms, 1),
        "ms": round(check.ms, 1),
        "ok": check.ok,
    }
    if not check.ok:
        data["code"] = check.code
        data["owner"] = check.owner
        data["root_causes"] = [cause.describe() for cause in check.causes]
        data["summary"] = check.describe()
        data["detail"] = check.detail
        if check.shared:
            data["shared_cause"] = check.shared
    return data


def repetition_ranges(repetitions: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` → ``#1–3, #7``: which repetitions, compactly."""
    spans: list[list[int]] = []
    for number in sorted(repetitions):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"#{a}" if a == b else f"#{a}–{b}" for a, b in spans)


def failure_line(component: str, failure: dict[str, Any], checks: int) -> str:
    """One failing diagnosis of a component, for people: counts, code, owner, root cause."""
    return (
        f"{component} failed {failure['count']}/{checks} "
        f"({repetition_ranges(failure['repetitions'])}): {failure['summary']}"
        + (f" — {failure['detail']}" if failure["detail"] else "")
    )
