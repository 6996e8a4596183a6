"""Flap control: a component's state changes only after N results in a row say so (pure).

As Gatus' thresholds: ``failure_threshold`` results worse than the current state in a row
make it worse, ``success_threshold`` results better in a row make it better; anything else
resets the count. The new state is the newest result's. Until a component has a history it
is taken to be healthy, so a component failing from the start goes down after N failures,
like any other.
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
    worse: int = 0  # results in a row worse than ``state``
    better: int = 0  # results in a row better than ``state``

    def observe(self, level: Status, at: datetime.datetime) -> Status | None:
        """Feed one result's level; returns the old state when the state changes."""
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

    @property
    def pending(self) -> int:
        """Results in a row that disagree with the state (0 when settled)."""
        return max(self.worse, self.better)
