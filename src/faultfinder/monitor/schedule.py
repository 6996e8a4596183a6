"""When each component is probed: on its own interval, starts spread out, a little jitter,
and never two runs of one component at once.

Each component has one loop that awaits its run before planning the next, so runs cannot
overlap; a run that overruns its interval is followed at once by the next, and the missed
ticks are dropped rather than caught up in a burst. The first round is spread over
``len(components) / FIRST_ROUND_RATE`` seconds (at most one interval), so 2,000 targets do
not all connect in the same millisecond, and the jitter keeps them from drifting back together.

Starts fall on a grid (``GRID``, or a tenth of the interval when that is shorter): the event
loop then wakes once for a batch of probes instead of once per probe, which saves CPU at 200
probes a second. A coarser grid saves more but starts bigger batches together, and a probe's
measured time then includes its batch-mates' CPU time; 25 ms keeps batches to about 5 at that
rate.

``late`` hears how late each run starts: a loop with more work than it can do starts every
run late, and then its timings and timeouts measure itself, not the targets.

Time is read from and waited on a ``Clock`` (``faultfinder.clock``): the running event loop's
(``LoopClock``) unless the caller gives another, as tests do to check the schedule exactly on a
virtual clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Mapping

from faultfinder.clock import Clock, LoopClock

FIRST_ROUND_RATE = 200.0  # first probes per second at start-up, at most
JITTER = 0.05  # each interval varies by up to ±5 %
GRID = 0.025  # seconds: starts are rounded up to this grid (at most a tenth of the interval)


def first_delays(intervals: Mapping[str, float]) -> dict[str, float]:
    """Each component's delay before its first run, spread evenly in name order."""
    names = sorted(intervals)
    spread = len(names) / FIRST_ROUND_RATE
    return {
        name: min(spread, intervals[name]) * index / len(names) for index, name in enumerate(names)
    }


async def every(
    interval: float,
    first_delay: float,
    run: Callable[[], Awaitable[None]],
    rng: random.Random | None = None,
    late: Callable[[float], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Await ``run`` every ``interval`` seconds (± jitter) until cancelled, timed on ``clock``
    (the running event loop's by default)."""
    rng = rng or random.Random()
    clock = LoopClock() if clock is None else clock
    grid = min(GRID, interval / 10)
    due = clock.time() + first_delay
    while True:
        due = math.ceil(due / grid) * grid
        delay = due - clock.time()
        if delay > 0:
            await clock.sleep(delay)
        if late is not None:
            late(clock.time() - due)
        await run()
        due += interval * (1 + rng.uniform(-JITTER, JITTER))
        due = max(due, clock.time())  # overran: go again now, never a burst of missed ticks
