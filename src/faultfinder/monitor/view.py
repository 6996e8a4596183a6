"""What a running monitor exposes to its front ends (the terminal dashboard, ``serve``).

``watch`` and ``serve`` both read the monitor through this one Protocol, so neither reaches
into the scheduler or the store on its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from faultfinder.clock import utc_iso
from faultfinder.faults import Owner
from faultfinder.model import CauseGroup, CheckResult, Diagnosis, RootCause, Status


@dataclass(frozen=True)
class Reading:
    """One probe of one component, as the monitor stored it."""

    component: str
    at: datetime.datetime
    agent: str
    result: CheckResult


@dataclass(frozen=True)
class StateChange:
    """A component going down or coming back (after the flap thresholds), with the diagnosis
    made at that moment."""

    component: str
    at: datetime.datetime
    agent: str
    old: Status
    new: Status
    code: str | None
    owner: Owner
    summary: str
    why: tuple[str, ...] = ()
    # Added by the monitor (issue 6): where it failed, and the diagnosis' own view.
    layer: str | None = None
    symptom_of: tuple[str, ...] = ()  # for ``dependency.failed``: the failing components below
    confidence: float | None = None  # the verdict's confidence at that moment
    root_causes: tuple[RootCause, ...] = ()
    # Added by issue 19: the root causes this change reaches, by shared cause.
    groups: tuple[CauseGroup, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The change as ``history --json`` and ``/api/status`` write it."""
        return {
            "component": self.component,
            "agent": self.agent,
            "at": utc_iso(self.at),
            "old": self.old.value,
            "new": self.new.value,
            **self.diagnosis_json(),
        }

    def diagnosis_json(self) -> dict[str, Any]:
        """What the diagnosis said at that moment (alerts carry it too)."""
        return {
            "code": self.code,
            "layer": self.layer,
            "owner": self.owner,
            "symptom_of": list(self.symptom_of),
            "summary": self.summary,
            "confidence": self.confidence,
            "why": list(self.why),
            "root_causes": [cause.to_json() for cause in self.root_causes],
            "groups": [group.to_json() for group in self.groups],
        }


class MonitorView(Protocol):
    def latest(self) -> Mapping[str, Reading]:
        """The newest observation of every component."""
        ...

    def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
        """Each component's current (debounced) state and since when; ``pending`` before its
        first settled state."""
        ...

    def diagnosis(self) -> Diagnosis | None:
        """The diagnosis of the newest results, None before the first round."""
        ...

    def changes(self, since: datetime.datetime | None = None) -> Sequence[StateChange]:
        """State changes, oldest first."""
        ...

    @property
    def errors(self) -> Mapping[str, int]:
        """Errors behind each component's probe since the monitor started (a bug's count)."""
        ...

    def recent(self, component: str, limit: int = 60) -> Sequence[Reading]:
        """The newest observations of one component, oldest first (sparklines, charts)."""
        ...
