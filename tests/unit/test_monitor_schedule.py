"""The scheduler: starts spread out, each component on its interval, never overlapping.

The schedule is checked on a virtual clock (``FakeClock``): no test here sleeps or reads the
wall clock, so a busy machine cannot make one fail, and every start is asserted exactly.
"""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from faultfinder.monitor.schedule import FIRST_ROUND_RATE, GRID, JITTER, every, first_delays


def test_the_first_round_is_spread_at_a_bounded_rate_and_never_past_an_interval() -> None:
    many = first_delays({f"c{index:04}": 10.0 for index in range(2000)})
    assert min(many.values()) == 0.0
    assert max(many.values()) == pytest.approx(2000 / FIRST_ROUND_RATE * 1999 / 2000)
    assert len(set(many.values())) == 2000  # no two start together
    few = first_delays({"a": 0.1, "b": 30.0})
    assert few == {"a": 0.0, "b": pytest.approx(2 / FIRST_ROUND_RATE / 2)}
    short = first_delays({f"c{index:04}": 0.5 for index in range(1000)})
    assert max(short.values()) < 0.5


class FakeClock:
    """A ``faultfinder.clock.Clock`` on virtual time: ``sleep`` moves it on at once (yielding to
    the event loop, never waiting), and ``advance`` lets a run take time, as a slow probe would.
    Sleeping past ``horizon`` raises, so a scheduler that stops calling its run cannot hang."""

    def __init__(self, start: float, horizon: float) -> None:
        self.now = start
        self.horizon = horizon

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"asked to sleep {seconds}s"
        self.now += seconds
        if self.now > self.horizon:
            raise RuntimeError(f"slept past the virtual horizon, to {self.now}")
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Enough(Exception):
    """Raised by the test's run once it has seen enough starts: ends ``every``'s loop."""


def _grid_at_or_after(moment: float, grid: float) -> float:
    """The first grid point at or after ``moment`` (a hair of float error is not a step)."""
    return math.ceil(moment / grid - 1e-9) * grid


def _on_grid(moment: float, grid: float) -> bool:
    return abs(moment / grid - round(moment / grid)) < 1e-6


@pytest.mark.parametrize("seed", [1, 2, 3, 20240501], ids=lambda seed: f"seed={seed}")
@pytest.mark.parametrize(
    ("interval", "grid"),
    [(10.0, GRID), (0.05, 0.005)],  # the grid is GRID, or a tenth of a shorter interval
    ids=["grid", "tenth-of-interval"],
)
async def test_runs_follow_the_interval_and_an_overrun_is_followed_at_once_without_a_burst(
    interval: float, grid: float, seed: int
) -> None:
    # How long each run takes: mostly short runs of varying length, and two overruns, each
    # ending between grid points.
    durations = [
        0.1 * interval,
        0.3 * interval,
        4 * interval + 0.4 * grid,  # run 3 overruns by far: four intervals
        0.2 * interval,
        0.1 * interval,
        0.02 * interval,
        interval * (1 + JITTER) + 0.6 * grid,  # run 7 by a little, past the +5 % jitter
        *[0.1 * interval] * 5,
    ]
    first_delay = 0.37 * interval
    clock = FakeClock(start=1000.0, horizon=1000.0 + 100 * interval)
    starts: list[float] = []
    ends: list[float] = []
    lateness: list[float] = []
    running = 0
    overlapped = False

    async def run() -> None:
        nonlocal running, overlapped
        overlapped |= running > 0
        if len(starts) == len(durations):
            raise _Enough
        running += 1
        starts.append(clock.time())
        clock.advance(durations[len(starts) - 1])
        await asyncio.sleep(0)  # let anything else that wants to run, run
        ends.append(clock.time())
        running -= 1

    with pytest.raises(_Enough):
        await every(interval, first_delay, run, random.Random(seed), lateness.append, clock)

    # The exact schedule: the same seeded jitter, drawn once a run, decides each next start.
    jitter = random.Random(seed)
    expected = [_grid_at_or_after(1000.0 + first_delay, grid)]
    for start, end in zip(starts, ends, strict=True):
        due = start + interval * (1 + jitter.uniform(-JITTER, JITTER))
        expected.append(_grid_at_or_after(max(due, end), grid))
    assert starts == pytest.approx(expected[: len(starts)], abs=1e-9, rel=0)

    # The same, as properties of the schedule.
    assert not overlapped, "two runs at once"
    assert all(_on_grid(start, grid) for start in starts), starts
    assert lateness == pytest.approx([0.0] * len(lateness), abs=1e-9)  # on a clock that keeps up
    for index in range(len(starts) - 1):
        gap = starts[index + 1] - starts[index]
        assert starts[index + 1] >= ends[index], f"run {index + 2} began before {index + 1} ended"
        if durations[index] < interval * (1 - JITTER):  # on time: the interval ± jitter
            assert interval * (1 - JITTER) - 1e-9 <= gap <= interval * (1 + JITTER) + grid, index
        else:  # overran: the next run follows at the next grid point after it ends
            assert ends[index] <= starts[index + 1] < ends[index] + grid, index
            # and no catch-up burst: the run after that waits a whole interval again
            assert starts[index + 2] - starts[index + 1] >= interval * (1 - JITTER) - 1e-9, index
