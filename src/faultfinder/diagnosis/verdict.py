"""From root causes to a verdict: owner, confidence, a one-line summary and the why-chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from faultfinder.faults import FAULTS, Owner, fault
from faultfinder.model import ComponentReport, RootCause, Verdict

# Codes whose owner cannot be told from the outside: less sure by construction.
_VAGUE = {
    "http.timeout",
    "http.no_response",
    "ws.closed_abnormally",
    "postgres.error",
    "redis.error",
}


def root_cause_confidence(code: str, evidence_count: int) -> float:
    """How sure a single root cause is: specific codes with evidence are surer than vague ones."""
    confidence = 0.9 if code not in _VAGUE else 0.6
    if fault(code).owner is Owner.UNKNOWN:
        confidence = min(confidence, 0.6)
    if evidence_count == 0:
        confidence -= 0.2
    return round(max(confidence, 0.1), 2)


def verdict(
    root_causes: Sequence[RootCause],
    warnings: Sequence[ComponentReport],
    penalty: float = 0.0,
) -> Verdict:
    if not root_causes:
        if warnings:
            names = ", ".join(report.result.component for report in warnings)
            codes = sorted({report.result.warning or "" for report in warnings})
            owners = {fault(code).owner for code in codes if code in FAULTS}
            owner = owners.pop() if len(owners) == 1 else Owner.MIXED
            return Verdict(owner, f"warnings on {names}: {', '.join(codes)}", 0.9)
        return Verdict(Owner.NONE, "all components healthy", 1.0)
    owner_names = sorted({cause.owner for cause in root_causes})
    owner = owner_names[0] if len(owner_names) == 1 else Owner.MIXED
    summary = "; ".join(_summary_line(cause) for cause in root_causes)
    # Several independent faults at once are rarer than one: each extra one lowers certainty.
    confidence = min(cause.confidence for cause in root_causes)
    confidence -= 0.05 * (len(root_causes) - 1) + penalty
    return Verdict(owner, summary, round(max(confidence, 0.1), 2))


def _summary_line(cause: RootCause) -> str:
    seen_from = "" if cause.vantage == "faultfinder" else f" from {cause.vantage}"
    evidence = f" ({cause.evidence[0]})" if cause.evidence else ""
    return f"{cause.component}: {fault(cause.code).meaning}{seen_from}{evidence}"


def why_chain(
    start: str,
    reports: Mapping[str, ComponentReport],
    causes: Mapping[str, RootCause],
    described: set[str] | None = None,
) -> list[str]:
    """Five whys from the outermost failing component down to a root cause.

    ``described`` collects the components that chains have explained; a later chain that
    reaches one says so and stops instead of repeating the same tail.
    """
    lines: list[str] = []
    current = start
    visited: set[str] = set()
    described = set() if described is None else described
    while current not in visited:
        visited.add(current)
        described.add(current)
        report = reports[current]
        failed = report.result.failed_phase
        what = failed.detail if failed and failed.detail else (report.result.code or "fails")
        layer = failed.layer if failed else "?"
        if report.symptom_of:
            below = report.symptom_of[0]
            known = below in described
            lines.append(
                f"{current} fails at {layer} ({what}) because {below}, which it needs, fails"
                + (" (explained above)." if known else ".")
            )
            if known:
                break
            current = below
            continue
        cause = causes.get(current)
        if cause is None:
            lines.append(f"{current} fails at {layer}: {what}.")
            break
        seen_from = "" if cause.vantage == "faultfinder" else f", as seen from {cause.vantage}"
        lines.append(
            f"{current} fails at the {cause.layer} layer{seen_from}: {cause.code} — "
            f"{fault(cause.code).meaning}."
        )
        lines.append(f"Owner: {cause.owner}. Next step: {cause.remediation}")
        break
    return lines
