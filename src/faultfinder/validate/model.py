"""Frozen results of a validation run: attempts, per-component and per-category figures, criteria.

A criterion, a component, a category and the whole run each come out as a ``Grade``
(``faultfinder.model``): pass, fail, warn (some attempts failed, but no criterion did) or
not_evaluated."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from faultfinder.faults import Owner
from faultfinder.model import CauseGroup, Grade


@dataclass(frozen=True)
class Cause:
    """A root cause a failing check traces to, as that repetition's diagnosis found it."""

    component: str
    code: str
    owner: Owner
    vantage: str

    def describe(self) -> str:
        seen_from = "" if self.vantage == "faultfinder" else f", seen from {self.vantage}"
        return f"{self.component} {self.code} ({self.owner}{seen_from})"


def describe_failure(component: str, code: str, owner: str, causes: tuple[Cause, ...]) -> str:
    """A failing check's diagnosis in one line: its code, whose move, and the root cause."""
    if len(causes) == 1 and (causes[0].component, causes[0].code) == (component, code):
        seen_from = causes[0].vantage
        return f"{code} ({owner})" + (
            "" if seen_from == "faultfinder" else f", seen from {seen_from}"
        )
    found = "; ".join(cause.describe() for cause in causes) or "none found"
    return f"{code} ({owner}), root cause: {found}"


@dataclass(frozen=True)
class Attempt:
    """One repetition of one component, judged by that repetition's diagnosis."""

    component: str
    repetition: int  # 1-based
    offset_ms: float  # when it started, since the run started
    ms: float  # how long the probe took
    ok: bool  # the diagnosis did not call the component down
    code: str | None = None  # the component's code in the diagnosis (maybe dependency.failed)
    owner: Owner | None = None  # whose move: the owner of the root causes it traces to
    causes: tuple[Cause, ...] = ()
    detail: str = ""
    days_left: float | None = None  # the certificate's, when one was read
    shared: str = ""  # the title of the cause its root cause shares with others (issue 19)

    def describe(self) -> str:
        return describe_failure(self.component, self.code or "", self.owner or "", self.causes)


@dataclass(frozen=True)
class FailureGroup:
    """Failing checks of one component that share a diagnosis."""

    code: str
    owner: Owner
    causes: tuple[Cause, ...]
    detail: str  # the first one's
    repetitions: tuple[int, ...]

    def describe(self, component: str) -> str:
        return describe_failure(component, self.code, self.owner, self.causes)


@dataclass(frozen=True)
class ComponentSummary:
    name: str
    category: str
    critical: bool  # its category is critical
    checks: int
    passes: int
    longest_streak: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    min_days_left: float | None
    failures: tuple[FailureGroup, ...]
    outcome: Grade

    @property
    def pass_rate(self) -> float:
        return self.passes / self.checks if self.checks else 0.0


@dataclass(frozen=True)
class CategorySummary:
    name: str
    critical: bool
    components: tuple[str, ...]
    checks: int
    passes: int
    outcome: Grade

    @property
    def pass_rate(self) -> float:
        return self.passes / self.checks if self.checks else 0.0


@dataclass(frozen=True)
class Criterion:
    """One criterion and its figure: ``pass_rate`` of ``stack`` ≥ 0.8, actually 0.9."""

    name: str  # pass_rate | critical_category | consecutive | p95_ms | max_ms | ...
    subject: str  # "stack", a category or a component
    expected: str  # for people: "≥ 80 %"
    actual: str  # for people: "90 % (45/50)"
    outcome: Grade
    threshold: float | None = None  # for machines
    value: float | None = None
    detail: str = ""  # why it failed: the diagnosis behind it


@dataclass(frozen=True)
class Settings:
    """How the run was made: the figures every criterion is measured over."""

    repetitions: int
    interval_ms: float
    pass_rate: float
    critical_categories: tuple[str, ...]


@dataclass(frozen=True)
class SignOff:
    """Who signed the run off, when, and what it showed."""

    by: str
    at: datetime.datetime
    outcome: Grade


@dataclass(frozen=True)
class SharedCause:
    """A cause as the repetitions' diagnoses grouped it, and the repetitions it was seen in."""

    group: CauseGroup
    repetitions: tuple[int, ...]


@dataclass(frozen=True)
class Validation:
    """Everything one ``faultfinder validate`` run measured and concluded."""

    stack: str
    stack_file: str
    started_at: datetime.datetime
    duration_ms: float
    settings: Settings
    components: tuple[ComponentSummary, ...]
    categories: tuple[CategorySummary, ...]
    criteria: tuple[Criterion, ...]
    checks: tuple[Attempt, ...]
    notes: tuple[str, ...] = ()
    sign_off: SignOff | None = field(default=None)
    causes: tuple[SharedCause, ...] = ()  # by shared cause, the most frequent first

    @property
    def outcome(self) -> Grade:
        failed = any(criterion.outcome is Grade.FAIL for criterion in self.criteria)
        return Grade.FAIL if failed else Grade.PASS

    @property
    def total_checks(self) -> int:
        return sum(component.checks for component in self.components)

    @property
    def total_passes(self) -> int:
        return sum(component.passes for component in self.components)
