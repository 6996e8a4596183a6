"""From root causes to a verdict: owner, confidence, a one-line summary and the why-chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from faultfinder.diagnosis import story
from faultfinder.faults import FAULTS, Owner, fault
from faultfinder.model import CauseGroup, ComponentReport, RootCause, Verdict

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
    groups: Sequence[CauseGroup] | None = None,
    footing: str = "",
) -> Verdict:
    """Owner, summary and confidence. ``groups`` are the root causes by shared cause (each its
    own group when not given); ``footing`` says in a few words why faultfinder's own footing is
    in doubt, and leads the summary."""
    if not root_causes:
        if warnings:
            names = ", ".join(report.result.component for report in warnings)
            codes = sorted({report.result.warning or "" for report in warnings})
            owners = {fault(code).owner for code in codes if code in FAULTS}
            owner = owners.pop() if len(owners) == 1 else Owner.MIXED
            return Verdict(owner, f"warnings on {names}: {', '.join(codes)}", 0.9)
        return Verdict(Owner.NONE, "all components healthy", 1.0)
    if groups is None:
        groups = story.group_causes(root_causes, {}, [c.component for c in root_causes])
    owner_names = sorted({cause.owner for cause in root_causes})
    owner = owner_names[0] if len(owner_names) == 1 else Owner.MIXED
    causes = {cause.component: cause for cause in root_causes}
    summary = story.summary(groups, causes, footing)
    # Several independent faults at once are rarer than one: each extra one lowers certainty.
    # Components that share one cause are one fault, not many.
    confidence = min(group.confidence for group in groups)
    confidence -= 0.05 * (len(groups) - 1) + penalty
    return Verdict(owner, summary, round(max(confidence, 0.1), 2))


def why_chain(
    start: str,
    reports: Mapping[str, ComponentReport],
    causes: Mapping[str, RootCause],
    described: set[str] | None = None,
    groups: Mapping[str, CauseGroup] | None = None,
) -> list[str]:
    """Five whys from the outermost failing component down to a root cause.

    ``described`` collects the components that chains have explained; a later chain that
    reaches one says so and stops instead of repeating the same tail. ``groups`` (a root
    cause's component → its group) tells a shared cause once, for all its members, with one
    owner and next step; a chain that starts at a member already told adds nothing.
    """
    groups = groups or {}
    described = set() if described is None else described
    told = groups.get(start)
    if told is not None and len(told.members) > 1 and start in described:
        return []  # its shared cause was told by an earlier chain: nothing new to say
    lines: list[str] = []
    current = start
    visited: set[str] = set()
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
        group = groups.get(current)
        if group is not None and len(group.members) > 1:
            described.update(group.members)
            lines.extend(_group_lines(group))
            break
        seen_from = "" if cause.vantage == "faultfinder" else f", as seen from {cause.vantage}"
        lines.append(
            f"{current} fails at the {cause.layer} layer{seen_from}: {cause.code} — "
            f"{fault(cause.code).meaning}."
        )
        lines.append(f"Owner: {cause.owner}. Next step: {cause.remediation}")
        break
    return lines


def _group_lines(group: CauseGroup) -> list[str]:
    """A shared cause as two steps: who fails where and why, then whose move."""
    seen_from = "" if group.vantage == "faultfinder" else f", as seen from {group.vantage}"
    place = {"network": f" in {group.where}", "resolver": f" through {group.where}"}.get(
        group.scope, f" on {group.where}"
    )
    all_of = "both" if len(group.members) == 2 else f"all {len(group.members)}"
    return [
        f"{story.members_phrase(group.members)} fail at the {group.layer} layer{place}"
        f"{seen_from}, one cause for {all_of}: {group.code} — "
        f"{fault(group.code).meaning}.",
        f"Owner: {group.owner}. Next step: {group.remediation}",
    ]
