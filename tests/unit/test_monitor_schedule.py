"""The scheduler: starts spread out, each component on its interval, never overlapping."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from faultfinder.monitor.schedule import FIRST_ROUND_RATE, every, first_delays
from tests.servers.monitor import until


def test_the_first_round_is_spread_at_a_bounded_rate_and_never_past_an_interval() -> None:
    many = first_delays({f"c{index:04}": 10.0 for index in range(2000)})
    assert min(many.values()) == 0.0
    assert max(many.values()) == pytest.approx(2000 / FIRST_ROUND_RATE * 1999 / 2000)
    assert len(set(many.values())) == 2000  # no two start together
    few = first_delays({"a": 0.1, "b": 30.0})
    assert few == {"a": 0.0, "b": pytest.approx(2 / FIRST_ROUND_RATE / 2)}
    short = first_delays({f"c{index:04}": 0.5 for index in range(1000)})
    assert max(short.values()) < 0.5


async def test_runs_follow_the_interval_and_an_overrun_is_followed_at_once_without_a_burst(
) -> None:
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    running = 0
    overlapped = False

    async def run() -> None:
        nonlocal running, overlapped
        running += 1
        overlapped |= running > 1
        starts.append(loop.time())
        # the third run overruns the 50 ms interval by far
        await asyncio.sleep(0.2 if len(starts) == 3 else 0.001)
        running -= 1

    task = asyncio.create_task(every(0.05, 0.0, run, random.Random(1)))
    await until(lambda: len(starts) >= 6)
    task.cancel()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert not overlapped
    assert all(0.045 <= gap <= 0.08 for gap in gaps[:2])  # 50 ms ± 5 % jitter, plus a little
    # the overrun: the next run came right after it (uvloop's timers keep whole milliseconds)
    assert 0.199 <= gaps[2] <= 0.25
    assert all(gap >= 0.045 for gap in gaps[3:])  # and no catch-up burst followed
