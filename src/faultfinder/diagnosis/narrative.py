"""The one renderer of a diagnosis' story: headline, footing doubt, shared causes, why-chain.

Every front end (the terminal table, ``watch``, the dashboard, alerts, the hand-off) renders
``lines(story)`` and only styles each line by its ``kind``; none tells the story its own way.
A ``Story`` is read from a ``Diagnosis`` or from its saved JSON document (``diagnosis/v1``,
whose ``groups`` older files lack: each root cause is then its own group).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faultfinder.diagnosis.story import alone
from faultfinder.model import CauseGroup, Diagnosis, RootCause

# The kinds of line, in the order they come: a front end styles each.
HEADLINE = "headline"  # the summary, ≤ 160 characters
VERDICT = "verdict"  # status, owner, confidence
DOUBT = "doubt"  # faultfinder's own footing, in full
GROUP = "group"  # a cause: its members, code, owner, confidence
MEMBER = "member"  # one member of a shared cause and its first evidence
EXPLANATION = "explanation"  # a lone cause seen from an app: whose path is at fault
EVIDENCE = "evidence"  # a lone cause's evidence
FIX = "fix"  # one remediation per cause
WHY = "why"  # one step of the why-chain (the plain text numbers them)


@dataclass(frozen=True)
class Line:
    kind: str
    text: str


@dataclass(frozen=True)
class Story:
    status: str
    owner: str
    confidence: float
    summary: str
    doubts: tuple[str, ...]
    groups: tuple[CauseGroup, ...]
    causes: Mapping[str, RootCause]
    why: tuple[str, ...]

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> Story:
        return cls(
            status=diagnosis.status.value,
            owner=str(diagnosis.verdict.owner),
            confidence=diagnosis.verdict.confidence,
            summary=diagnosis.verdict.summary,
            doubts=diagnosis.notes,
            groups=diagnosis.groups,
            causes={cause.component: cause for cause in diagnosis.root_causes},
            why=diagnosis.why,
        )

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Story:
        """From a ``diagnosis/v1`` document (or ``/api/status``, which has the same keys)."""
        causes = [RootCause.from_json(cause) for cause in document.get("root_causes") or ()]
        saved = document.get("groups")
        if saved is None:  # written before groups were: each cause alone
            groups = tuple(alone(cause) for cause in causes)
        else:
            groups = tuple(CauseGroup.from_json(group) for group in saved)
        verdict = document.get("verdict") or {}
        return cls(
            status=str(document.get("status", "unknown")),
            owner=str(verdict.get("owner", "")),
            confidence=float(verdict.get("confidence", 0.0)),
            summary=str(verdict.get("summary", "")),
            doubts=tuple(document.get("notes") or ()),
            groups=groups,
            causes={cause.component: cause for cause in causes},
            why=tuple(document.get("why") or ()),
        )


def lines(story: Story, *, why: bool = True, brief: bool = False) -> list[Line]:
    """The story, top to bottom: what a person reads first comes first. ``brief`` leaves out
    each cause's evidence (a live view whose table shows it already)."""
    told = [Line(HEADLINE, story.summary), Line(VERDICT, verdict_text(story))]
    told += [Line(DOUBT, doubt) for doubt in story.doubts]
    numbered = len(story.groups) > 1
    for number, group in enumerate(story.groups, 1):
        shown = group_lines(group, story.causes, f"{number}. " if numbered else "")
        told += [line for line in shown if not brief or line.kind in (GROUP, FIX)]
    if why:
        told += [Line(WHY, step) for step in story.why]
    return told


def verdict_text(story: Story) -> str:
    if not story.groups:
        return f"{story.status}, confidence {story.confidence:.2f}"
    return f"{story.status}, owner {story.owner}, confidence {story.confidence:.2f}"


def group_lines(group: CauseGroup, causes: Mapping[str, RootCause], number: str = "") -> list[Line]:
    """One cause: its title and figures once, each member's evidence, one remediation."""
    meta = f"{group.code}, owner {group.owner}, confidence {group.confidence:.2f}"
    told = [Line(GROUP, f"{number}{group.title} — {meta}")]
    if len(group.members) == 1:
        cause = causes.get(group.members[0])
        if cause is not None and cause.vantage != "faultfinder":
            told.append(Line(EXPLANATION, cause.explanation))
        told += [Line(EVIDENCE, line) for line in (cause.evidence if cause else ())]
    else:
        for member in group.members:
            cause = causes.get(member)
            evidence = cause.evidence[0] if cause and cause.evidence else group.code
            told.append(Line(MEMBER, f"{member}: {evidence}"))
    told.append(Line(FIX, group.remediation))
    return told


# How the terminal front ends (rich) style each kind.
STYLES = {HEADLINE: "bold", DOUBT: "yellow", GROUP: "bold", FIX: "cyan"}

# How the plain-text front ends (the terminal, watch, alerts, goldens) mark each kind.
PLAIN_PREFIX = {
    HEADLINE: "",
    VERDICT: "",
    DOUBT: "footing in doubt: ",
    GROUP: "cause: ",
    MEMBER: "  - ",
    EXPLANATION: "  ",
    EVIDENCE: "  evidence: ",
    FIX: "  fix: ",
    WHY: "  ",
}


def marked(told: Sequence[Line]) -> list[Line]:
    """The story as plain-text lines, each marked for its kind, a ``why:`` before the chain."""
    out: list[Line] = []
    steps = 0
    for line in told:
        text = line.text
        if line.kind == WHY:
            if not steps:
                out.append(Line(WHY, "why:"))
            steps += 1
            text = f"{steps}. {text}"
        out.append(Line(line.kind, PLAIN_PREFIX[line.kind] + text))
    return out


def plain(told: Sequence[Line]) -> list[str]:
    return [line.text for line in marked(told)]


def text(story: Story) -> str:
    """The whole story as plain text (what the golden tests read)."""
    return "\n".join(plain(lines(story))) + "\n"
