"""An application's own health document, in every common shape → its status and its checks.

Read whatever the HTTP status: many apps answer 200 while their document says they fail. The
shapes, each with an example in docs/health-documents.md:

- ``ietf``: the IETF "Health Check Response Format for HTTP APIs" (``application/health+json``,
  docs/contract.md §4): ``{"status": "fail", "checks": {"redis:ping": [{"status": …}]}}``;
- ``spring-boot``: Actuator's ``{"status": "DOWN", "components": {"db": {"status": "DOWN",
  "details": {"error": …}}}}`` (``details`` in Spring Boot 1.x), groups nested in components;
- ``checks-list``: MicroProfile Health's ``{"status": "DOWN", "checks": [{"name": …}]}``;
- ``entries``: ASP.NET Core HealthChecks' ``{"status": "Unhealthy", "entries": {"redis": …}}``;
- ``nested``: one object (or one status word) per dependency, at the top level or under
  ``components``/``dependencies``/``services``: ``{"redis": {"status": "unhealthy", "error": …}}``;
- ``plain``: ``{"status": "ok"}``, or a body that is one status word (``OK``);
- ``kubernetes``: ``/readyz?verbose`` text (``[+]etcd ok``, ``[-]db failed: reason withheld``).

A check's fault code is the one the app names (``faultCode``), else what its output says, read
by the same signatures as ``faultfinder logs`` (an app's words: pool exhaustion, permission
denials, OOM kills), else by the probers' error texts. Anything that is no document at all is a
note (``why_unreadable``), never an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from faultfinder.classify.texts import classify_text
from faultfinder.errors import printable
from faultfinder.faults import FAULTS
from faultfinder.model import Grade

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_CHECKS = 200
MAX_NESTING = 4  # groups within groups (Spring Boot), read this deep
OUTPUT_LIMIT = 500

_PASS = {
    "pass",
    "passed",
    "passing",
    "ok",
    "up",
    "healthy",
    "green",
    "true",
    "success",
    "successful",
    "available",
    "ready",
    "alive",
    "good",
    "serving",
}
_WARN = {"warn", "warning", "degraded", "yellow", "partial", "unknown"}
_FAIL = {
    "fail",
    "failed",
    "failing",
    "failure",
    "error",
    "down",
    "unhealthy",
    "red",
    "critical",
    "false",
    "out_of_service",
    "outofservice",
    "unavailable",
    "not_ready",
    "notready",
    "bad",
    "fatal",
    "dead",
    "not_serving",
}
# Keys that describe the service, never a dependency (IETF and common extras).
_META = {
    "status",
    "state",
    "health",
    "healthy",
    "version",
    "releaseid",
    "release",
    "notes",
    "output",
    "serviceid",
    "description",
    "links",
    "time",
    "timestamp",
    "uptime",
    "checks",
    "components",
    "details",
    "entries",
    "totalduration",
    "duration",
    "groups",
    "info",
    "build",
    "git",
    "app",
    "name",
    "hostname",
    "host",
    "environment",
    "env",
    "message",
    "commit",
    "started",
    "startedat",
    "service",
    "data",
}
_NESTED_KEYS = ("components", "dependencies", "services", "details")
_ERROR_KEYS = ("output", "error", "exception", "message", "reason", "description", "detail")
_KUBERNETES_LINE = re.compile(r"^\[([+-])\]([^\s]+)\s+(ok|failed)(?::\s*(.*))?$")


@dataclass(frozen=True)
class HealthCheck:
    """One check of the document: the dependency's name as the app calls it, and its state."""

    name: str
    measurement: str
    status: Grade  # pass | warn | fail
    output: str = ""
    fault_code: str | None = None
    component_type: str = ""

    @property
    def code(self) -> str | None:
        """The fault code the app reported, else the one its output text means."""
        if self.fault_code in FAULTS:
            return self.fault_code
        return classify_output(self.output) if self.output else None


@dataclass(frozen=True)
class HealthView:
    """What the app says about itself: an overall status and its checks."""

    status: Grade
    checks: tuple[HealthCheck, ...] = ()
    shape: str = "ietf"

    def failing(self) -> list[HealthCheck]:
        return [check for check in self.checks if check.status is Grade.FAIL]

    def warning(self) -> list[HealthCheck]:
        return [check for check in self.checks if check.status is Grade.WARN]

    def summary(self, limit: int = 3) -> str:
        """The checks that do not pass, in a line: ``redis:ping fail (Error -3 …)``."""
        shown = [*self.failing(), *self.warning()][:limit]
        parts = [
            f"{check.name}{':' + check.measurement if check.measurement else ''} {check.status}"
            + (f" ({check.output})" if check.output else "")
            for check in shown
        ]
        return "; ".join(parts) or f"status {self.status}"


def classify_output(text: str) -> str | None:
    """A check's output → the code it means: the applications' own words first (the log
    signatures), then the probers' error texts."""
    from faultfinder.classify.signatures import classify  # RE2 only when an output is read

    return classify(text) or classify_text(text)


def read_health_document(body: str) -> HealthView | None:
    """The document in ``body``, in whichever shape it has; ``None`` when it is none."""
    if len(body.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        return None
    text = body.strip()
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return _text_document(text)
    if isinstance(document, str):
        return _text_document(document)
    if isinstance(document, bool):
        return HealthView(Grade.PASS if document else Grade.FAIL, (), "plain")
    if not isinstance(document, Mapping):
        return None
    return _json_document(document)


def why_unreadable(body: str) -> str:
    """A one-line reason a body could not be read as a health document."""
    if len(body.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        return f"the health document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB; ignored"
    if not body.strip():
        return "the health endpoint answered with an empty body"
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return "the health endpoint's body is neither JSON nor a status it knows; ignored"
    return "the health document has no status and no checks it knows; ignored"


def normalize_status(value: object) -> Grade:
    """A status word (or boolean) in any of the shapes' vocabularies; an unknown word fails."""
    if isinstance(value, bool):
        return Grade.PASS if value else Grade.FAIL
    word = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if word in _PASS:
        return Grade.PASS
    if word in _WARN:
        return Grade.WARN
    if word in _FAIL:
        return Grade.FAIL
    return Grade.FAIL if word else Grade.WARN


def _status_of(document: Mapping[str, Any]) -> str | bool | None:
    for key in ("status", "state", "health", "healthy"):
        value = document.get(key)
        if isinstance(value, str | bool):
            return value
    return None


def _json_document(document: Mapping[str, Any]) -> HealthView | None:
    stated = _status_of(document)
    checks: tuple[HealthCheck, ...]
    if isinstance(document.get("checks"), Mapping):
        checks, shape = _ietf_checks(document["checks"]), "ietf"
    elif isinstance(document.get("checks"), list):
        checks, shape = _listed_checks(document["checks"]), "checks-list"
    elif isinstance(document.get("entries"), Mapping):
        checks, shape = _named_checks(document["entries"]), "entries"
    elif _is_actuator(document):
        key = "components" if isinstance(document.get("components"), Mapping) else "details"
        checks, shape = _named_checks(document[key]), "spring-boot"
    else:
        checks, shape = _nested_checks(document), "nested"
    if stated is None and not checks:
        return None
    if shape == "nested" and not checks:
        shape = "plain"
    status = normalize_status(stated) if stated is not None else _worst(checks)
    return HealthView(status, checks[:MAX_CHECKS], shape)


def _is_actuator(document: Mapping[str, Any]) -> bool:
    """Spring Boot: an upper-case status word and components (or 1.x's details) of objects."""
    stated = document.get("status")
    for key in ("components", "details"):
        entries = document.get(key)
        if isinstance(entries, Mapping) and isinstance(stated, str) and stated.isupper():
            return all(isinstance(entry, Mapping) for entry in entries.values())
    return False


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


def _listed_checks(entries: list[Any]) -> tuple[HealthCheck, ...]:
    """MicroProfile Health: ``[{"name": "db", "status": "DOWN", "data": {…}}]``."""
    found: list[HealthCheck] = []
    for entry in entries[:MAX_CHECKS]:
        if isinstance(entry, Mapping) and "name" in entry:
            found.append(_check(str(entry["name"]), entry))
    return tuple(found)


def _named_checks(entries: Mapping[str, Any], depth: int = 0) -> tuple[HealthCheck, ...]:
    """``{name: {"status": …, "details"/"exception"/…}}``: Actuator components, ASP.NET entries."""
    found: list[HealthCheck] = []
    for name, entry in list(entries.items())[:MAX_CHECKS]:
        if isinstance(entry, Mapping):
            found.append(_check(str(name), entry, depth))
        elif isinstance(entry, str | bool):
            found.append(HealthCheck(str(name), "", normalize_status(entry)))
    return tuple(found)


def _nested_checks(document: Mapping[str, Any]) -> tuple[HealthCheck, ...]:
    """One entry per dependency at the top level, or under ``components``/``dependencies``."""
    for key in _NESTED_KEYS:
        if isinstance(document.get(key), Mapping):
            return _named_checks(document[key])
    entries = {
        name: entry
        for name, entry in document.items()
        if name.lower() not in _META
        and (
            (isinstance(entry, Mapping) and _status_of(entry) is not None)
            or (isinstance(entry, str) and _is_status_word(entry))
        )
    }
    return _named_checks(entries)


def _check(name: str, entry: Mapping[str, Any], depth: int = 0) -> HealthCheck:
    stated = _status_of(entry)
    children: tuple[HealthCheck, ...] = ()
    if depth < MAX_NESTING:
        for key in ("components", "entries"):
            if isinstance(entry.get(key), Mapping):
                children = _named_checks(entry[key], depth + 1)
    status = normalize_status(stated) if stated is not None else _worst(children)
    output = _output(entry) or "; ".join(
        f"{child.name} {child.status}" + (f": {child.output}" if child.output else "")
        for child in children
        if child.status is not Grade.PASS
    )
    return HealthCheck(
        name=name,
        measurement="",
        status=status,
        output=_text(output),
        fault_code=_text(entry.get("faultCode")) or None,
        component_type=_text(entry.get("componentType")),
    )


def _output(entry: Mapping[str, Any]) -> str:
    """What an entry says about its state: its error, exception, message or output."""
    for key in _ERROR_KEYS:
        if entry.get(key):
            return _text(entry[key])
    for key in ("details", "data"):  # Actuator and MicroProfile keep the error inside these
        inner = entry.get(key)
        if isinstance(inner, Mapping):
            found = next((inner[k] for k in _ERROR_KEYS if inner.get(k)), None)
            if found is not None:
                return _text(found)
    return ""


def _text_document(text: str) -> HealthView | None:
    """A body that is one status word, or Kubernetes' ``?verbose`` lines."""
    if _is_status_word(text):
        return HealthView(normalize_status(text), (), "plain")
    checks = tuple(_kubernetes_checks(text.splitlines()))
    if not checks:
        return None
    last = text.splitlines()[-1].strip().lower()
    if last.endswith("check passed"):
        status = Grade.PASS
    elif last.endswith("check failed"):
        status = Grade.FAIL
    else:
        status = _worst(checks)
    return HealthView(status, checks[:MAX_CHECKS], "kubernetes")


def _kubernetes_checks(lines: list[str]) -> Iterator[HealthCheck]:
    for line in lines[:MAX_CHECKS]:
        match = _KUBERNETES_LINE.match(line.strip())
        if match:
            sign, name, _, reason = match.groups()
            status = Grade.PASS if sign == "+" else Grade.FAIL
            yield HealthCheck(name, "", status, _text(reason or ""))


def _is_status_word(text: str) -> bool:
    word = text.strip().lower().replace(" ", "_").replace("-", "_")
    return word in _PASS or word in _WARN or word in _FAIL


def _worst(checks: tuple[HealthCheck, ...]) -> Grade:
    grades = {check.status for check in checks}
    return next((grade for grade in (Grade.FAIL, Grade.WARN) if grade in grades), Grade.PASS)


def _text(value: object, limit: int = OUTPUT_LIMIT) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = printable(" ".join(text.split()))  # an app's words, on one line and inert
    return text if len(text) <= limit else text[: limit - 1] + "…"
