"""Outcomes → the ``application/health+json`` document of docs/contract.md §4 (pure, no I/O).

Checks are keyed ``"name:measurement"``, each key a list of check objects with
``componentType``, ``status``, ``observedValue``, ``observedUnit``, ``time``, ``output`` and
the extension keys ``faultCode``, ``layer``, ``owner`` and ``durationMs``. Every object has
every key (``null`` or ``""`` when there is nothing to say), so consumers need no guards;
``draft_strict`` leaves ``output`` out of passing checks instead, as the draft asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from faultfinder.clock import utc_iso
from faultfinder.faults import FAULTS
from faultfinder.health._checks import Outcome
from faultfinder.model import Grade
from faultfinder.redact import Redactor

MEDIA_TYPE = "application/health+json"

# Top-level keys the library computes: ``about`` may not set them, or an authorised caller
# would read a status the HTTP code contradicts (the IETF draft's "status" and "checks",
# draft-inadarei-api-health-check-06 §3.1 and §3.6).
RESERVED = frozenset({"status", "checks"})


# The draft's other top-level keys, with their types (§3.2-§3.5, §3.7-§3.9): strings, but
# ``notes`` is an array of strings and ``links`` an object of URIs.
STRINGS = ("version", "releaseId", "output", "serviceId", "description")

DEFAULT_STATUS_CODES = {"pass": 200, "warn": 200, "fail": 503}


def validated_about(about: Mapping[str, object] | None) -> dict[str, object]:
    """``about`` as given, refused when it sets a key the library computes or gives one of the
    draft's keys the wrong type."""
    given = dict(about or {})
    clashes = sorted(RESERVED.intersection(given))
    if clashes:
        raise ValueError(
            f"about: {', '.join(clashes)} is computed from the checks and cannot be set"
        )
    for key in STRINGS:
        if key in given and not isinstance(given[key], str):
            raise ValueError(f"about: {key} is a string")
    notes = given.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ValueError("about: notes is a list of strings")
    links = given.get("links", {})
    if not isinstance(links, dict) or not all(
        isinstance(key, str) and isinstance(uri, str) for key, uri in links.items()
    ):
        raise ValueError("about: links maps strings to URI strings")
    return given


def validated_status_codes(codes: Mapping[str, int] | None) -> dict[str, int]:
    """Status → HTTP code (Actuator's ``http-mapping``): pass, warn and fail, each 100-599."""
    merged = DEFAULT_STATUS_CODES | dict(codes or {})
    unknown = sorted(set(merged) - set(DEFAULT_STATUS_CODES))
    if unknown:
        raise ValueError(f"status_codes: {', '.join(unknown)} is not pass, warn or fail")
    for status, code in merged.items():
        if not isinstance(code, int) or not 100 <= code <= 599:
            raise ValueError(f"status_codes: {status} maps to {code!r}, not an HTTP status")
    return merged


def overall_status(outcomes: Iterable[Outcome]) -> Grade:
    """``fail`` when a critical check fails; ``warn`` when anything else fails or warns."""
    status = Grade.PASS
    for outcome in outcomes:
        if outcome.status is Grade.FAIL and outcome.critical:
            return Grade.FAIL
        if outcome.status is not Grade.PASS:
            status = Grade.WARN
    return status


def http_status(status: str, codes: Mapping[str, int] = DEFAULT_STATUS_CODES) -> int:
    return codes[str(status)]


def build_document(
    outcomes: Sequence[Outcome],
    *,
    details: bool,
    secrets: Iterable[str] = (),
    about: Mapping[str, object] | None = None,
    components: bool = False,
    draft_strict: bool = False,
) -> dict[str, object]:
    """The document; without ``details`` only its ``status`` (what anonymous callers get),
    with ``components`` too each check's ``componentType`` and ``status`` (no outputs).
    ``draft_strict``: a passing check object has no ``output`` key."""
    document: dict[str, object] = {"status": overall_status(outcomes)}
    if not details:
        if components:
            document["checks"] = _components(outcomes)
        return document
    document.update({key: value for key, value in (about or {}).items() if key not in RESERVED})
    redactor = Redactor(secrets)
    checks: dict[str, list[dict[str, object]]] = {}
    for outcome in outcomes:
        for observation in outcome.observations:
            code = observation.code if observation.code in FAULTS else None
            entry: dict[str, object] = {
                "componentType": outcome.component_type,
                "status": observation.status,
                "observedValue": observation.value,
                "observedUnit": observation.unit,
                "time": utc_iso(outcome.time),
                "output": redactor(observation.output) if observation.output else "",
                "faultCode": code,
                "layer": observation.layer or (FAULTS[code].layer if code else None),
                "owner": FAULTS[code].owner if code else None,
                "durationMs": outcome.duration_ms,
                **dict(outcome.ietf),
            }
            if draft_strict and observation.status is Grade.PASS:
                # draft-inadarei-api-health-check-06 §4.8: output "SHOULD be omitted for
                # 'pass' state of a downstream dependency".
                del entry["output"]
            checks.setdefault(f"{outcome.name}:{observation.measurement}", []).append(entry)
    document["checks"] = dict(sorted(checks.items()))
    return document


def _components(outcomes: Sequence[Outcome]) -> dict[str, list[dict[str, object]]]:
    """Which checks there are and their status: Actuator's ``show-components`` level."""
    checks: dict[str, list[dict[str, object]]] = {
        f"{outcome.name}:{observation.measurement}": [
            {"componentType": outcome.component_type, "status": observation.status}
        ]
        for outcome in outcomes
        for observation in outcome.observations
    }
    return dict(sorted(checks.items()))
