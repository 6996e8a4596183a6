"""Read an application's own health document: the inside view of its dependencies.

Three shapes are understood: the IETF "Health Check Response Format for HTTP APIs"
(``application/health+json``, docs/contract.md §4), Spring Boot Actuator (``{"status": "DOWN",
"components": {...}}``) and a plain ``{"status": ...}``. Anything else is reported as a
note, never raised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from faultfinder.classify import classify_text
from faultfinder.faults import FAULTS

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_CHECKS = 200

_PASS = {"pass", "ok", "up", "healthy", "green", "true"}
_WARN = {"warn", "warning", "degraded", "yellow", "out_of_service"}
_FAIL = {"fail", "failed", "error", "down", "unhealthy", "red", "critical", "false"}


@dataclass(frozen=True)
class HealthCheck:
    """One check of the document: the dependency's name as the app calls it, and its state."""

    name: str
    measurement: str
    status: str  # pass | warn | fail
    output: str = ""
    fault_code: str | None = None
    component_type: str = ""

    @property
    def code(self) -> str | None:
        """The fault code the app reported, else the one its output text means."""
        if self.fault_code in FAULTS:
            return self.fault_code
        return classify_text(self.output) if self.output else None


@dataclass(frozen=True)
class HealthView:
    """What the app says about itself: an overall status, its checks, and any reading note."""

    status: str  # pass | warn | fail
    checks: tuple[HealthCheck, ...] = ()
    shape: str = "ietf"
    note: str = ""

    def failing(self) -> list[HealthCheck]:
        return [check for check in self.checks if check.status == "fail"]


def read_health_document(body: str) -> HealthView | None:
    """Parse a health document; ``None`` when the body is no JSON object (a note says why)."""
    if len(body.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or "status" not in document:
        return None
    status = normalize_status(document.get("status"))
    if isinstance(document.get("checks"), Mapping):
        return HealthView(status, _ietf_checks(document["checks"]), "ietf")
    for key in ("components", "details"):
        if isinstance(document.get(key), Mapping):
            return HealthView(status, _actuator_checks(document[key]), "spring-boot")
    return HealthView(status, (), "plain")


def why_unreadable(body: str) -> str:
    """A one-line reason a body could not be read as a health document."""
    if len(body.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        return f"the health document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB; ignored"
    if not body.strip():
        return "the health endpoint answered with an empty body"
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return "the health endpoint's body is not JSON; ignored"
    if not isinstance(document, dict) or "status" not in document:
        return "the health document has no top-level `status`; ignored"
    return ""


def normalize_status(value: object) -> str:
    text = str(value).strip().lower()
    if text in _PASS:
        return "pass"
    if text in _WARN:
        return "warn"
    if text in _FAIL:
        return "fail"
    return "fail" if text else "warn"


def _ietf_checks(checks: Mapping[str, Any]) -> tuple[HealthCheck, ...]:
    found: list[HealthCheck] = []
    for key, entries in list(checks.items())[:MAX_CHECKS]:
        name, _, measurement = str(key).partition(":")
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, Mapping):
                continue
            found.append(
                HealthCheck(
                    name=name,
                    measurement=measurement,
                    status=normalize_status(entry.get("status", "pass")),
                    output=_text(entry.get("output")),
                    fault_code=_text(entry.get("faultCode")) or None,
                    component_type=_text(entry.get("componentType")),
                )
            )
    return tuple(found)


def _actuator_checks(components: Mapping[str, Any]) -> tuple[HealthCheck, ...]:
    found: list[HealthCheck] = []
    for name, entry in list(components.items())[:MAX_CHECKS]:
        if not isinstance(entry, Mapping):
            continue
        details = entry.get("details")
        output = ""
        if isinstance(details, Mapping):
            output = _text(details.get("error") or details.get("exception") or "")
        found.append(
            HealthCheck(
                name=str(name),
                measurement="",
                status=normalize_status(entry.get("status", "UP")),
                output=output,
            )
        )
    return tuple(found)


def _text(value: object, limit: int = 500) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
