"""Wall-clock limits, for the few tests where the wall clock is the point: a hung dependency
must not hang faultfinder, so its answer comes by the deadline.

A limit must hold with the machine twice as busy as CI (two shared cores, ``pytest -n 2``,
real PostgreSQL, Redis and nginx beside the tests). Waiting on a timer takes as long on a busy
machine as on an idle one; the CPU work around it (imports, probes, the report, exit) does not,
and it takes twice as long when each process gets half the share. So a limit is ``LOAD`` times
the deadline plus a fixed margin for start-up and that work. Every such limit stays far below
the hang it guards against (glibc's resolver retries, the kernel's SYN retries, a client
library without a timeout): each test's comment names it.

Everything else about time is asserted on an injected clock (tests/unit/test_monitor_schedule.py)
or on what happened in what order, never on how long it took.
"""

from __future__ import annotations

LOAD = 2  # the limits hold with the machine this many times as busy as CI
MARGIN = 1.0  # seconds: start-up and the work outside the deadline, at that load


def by_deadline(deadline: float, margin: float = MARGIN) -> float:
    """Seconds a run governed by ``deadline`` may take, at ``LOAD`` times CI's load."""
    return LOAD * deadline + margin
