"""Outcomes → the ``application/health+json`` document of docs/contract.md §4 (pure, no I/O).

Checks are keyed ``"name:measurement"``, each key a list of check objects with
``componentType``, ``status``, ``observedValue``, ``observedUnit``, ``time``, ``output`` and
the extension keys ``faultCode``, ``layer``, ``owner`` and ``durationMs``. Every object has
every key (``null`` or ``""`` when there is nothing to say), so consumers need no guards.
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
# draft-inadarei-api-health-check-06 §3.1 and §3.8).
RESERVED = frozenset({"status", "checks"})


def validated_about(about: Mapping[str, object] | None) -> dict[str, object]:
    """``about`` as given, refused when it sets a key the library computes."""
    given = dict(about or {})
    clashes = sorted(RESERVED.intersection(given))
    if clashes:
        raise ValueError(
            f"about: {', '.join(clashes)} is computed from the checks and cannot be set"
        )
    return given


def overall_status(outcomes: Iterable[Outcome]) -> Grade:
    """``fail`` when a critical check fails; ``warn`` when anything else fails or warns."""
    status = Grade.PASS
    for outcome in outcomes:
        if outcome.status is Grade.FAIL and outcome.critical:
            return Grade.FAIL
        if outcome.status is not Grade.PASS:
            status = Grade.WARN
    return status


def http_status(status: str) -> int:
    return 503 if status == Grade.FAIL else 200


def build_document(
    outcomes: Sequence[Outcome],
    *,
    details: bool,
    secrets: Iterable[str] = (),
    about: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The document; without ``details`` only its ``status`` (what anonymous callers get)."""
    document: dict[str, object] = {"status": overall_status(outcomes)}
    if not details:
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
            }
            checks.setdefault(f"{outcome.name}:{observation.measurement}", []).append(entry)
    document["checks"] = dict(sorted(checks.items()))
    return document
