"""Flap control: a component's state changes only after N results in a row say so (pure).

As Gatus' thresholds: ``failure_threshold`` results worse than the current state in a row
make it worse, ``success_threshold`` results better in a row make it better; anything else
resets the count. The new state is the newest result's. A component starts ``pending``:
nothing is known of it, so nothing is taken to be healthy. Its first settled state comes
after ``success_threshold`` healthy results in a row, or ``failure_threshold`` failing ones,
and dates from the first result of that run: a component down from the start was down from
its first probe, not healthy until its third.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from faultfinder.model import Status

SEVERITY = {Status.HEALTHY: 0, Status.DEGRADED: 1, Status.DOWN: 2}


@dataclass
class Debounce:
    failure_threshold: int
    success_threshold: int
    state: Status
    since: datetime.datetime
    worse: int = 0  # results in a row worse than ``state`` (while pending: failing)
    better: int = 0  # results in a row better than ``state`` (while pending: healthy)
    first: datetime.datetime | None = None  # while pending: the first result of the run

    def observe(self, level: Status, at: datetime.datetime) -> Status | None:
        """Feed one result's level; returns the old state when the state changes."""
        if self.state is Status.PENDING:
            return self._settle(level, at)
        if SEVERITY[level] > SEVERITY[self.state]:
            self.worse, self.better = self.worse + 1, 0
            changed = self.worse >= self.failure_threshold
        elif SEVERITY[level] < SEVERITY[self.state]:
            self.worse, self.better = 0, self.better + 1
            changed = self.better >= self.success_threshold
        else:
            self.worse = self.better = 0
            changed = False
        if not changed:
            return None
        old, self.state, self.since = self.state, level, at
        self.worse = self.better = 0
        return old

    def _settle(self, level: Status, at: datetime.datetime) -> Status | None:
        healthy = level is Status.HEALTHY
        run = self.better if healthy else self.worse
        if run == 0:
            self.first = at  # the first result of this run: when the state began
        self.worse, self.better = (0, run + 1) if healthy else (run + 1, 0)
        if run + 1 < (self.success_threshold if healthy else self.failure_threshold):
            return None
        self.state, self.since = level, self.first or at
        self.worse = self.better = 0
        return Status.PENDING

    @property
    def pending(self) -> int:
        """Results in a row that disagree with the state (0 when settled)."""
        return max(self.worse, self.better)
