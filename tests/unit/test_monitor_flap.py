"""Flap control: N results in a row to get worse, M to get better, anything else resets."""

from __future__ import annotations

import datetime

from faultfinder.model import Status
from faultfinder.monitor.flap import Debounce

HEALTHY, DEGRADED, DOWN = Status.HEALTHY, Status.DEGRADED, Status.DOWN
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def feed(debounce: Debounce, levels: list[Status]) -> list[tuple[int, Status, Status]]:
    """(index, old, new) of every change while feeding ``levels`` one a second."""
    changes = []
    for index, level in enumerate(levels):
        moment = START + datetime.timedelta(seconds=index)
        old = debounce.observe(level, moment)
        if old is not None:
            changes.append((index, old, debounce.state))
            assert debounce.since == moment
    return changes


def test_down_after_the_nth_failure_in_a_row_and_up_after_the_mth_success() -> None:
    debounce = Debounce(3, 2, HEALTHY, START)
    assert feed(debounce, [DOWN, DOWN, DOWN, DOWN, HEALTHY, HEALTHY, HEALTHY]) == [
        (2, HEALTHY, DOWN),
        (5, DOWN, HEALTHY),
    ]


def test_an_interrupted_run_starts_counting_again() -> None:
    debounce = Debounce(3, 2, HEALTHY, START)
    assert feed(debounce, [DOWN, DOWN, HEALTHY, DOWN, DOWN, HEALTHY]) == []
    assert debounce.state is HEALTHY
    assert debounce.pending == 0
    assert feed(debounce, [DOWN, DOWN]) == []
    assert debounce.pending == 2


def test_the_new_state_is_the_newest_results_and_degraded_counts_as_worse() -> None:
    debounce = Debounce(2, 1, HEALTHY, START)
    assert feed(debounce, [DEGRADED, DOWN]) == [(1, HEALTHY, DOWN)]
    assert feed(debounce, [DEGRADED]) == [(0, DOWN, DEGRADED)]
    assert feed(debounce, [HEALTHY]) == [(0, DEGRADED, HEALTHY)]


def test_thresholds_of_one_follow_every_result() -> None:
    debounce = Debounce(1, 1, HEALTHY, START)
    assert feed(debounce, [DOWN, HEALTHY, DOWN]) == [
        (0, HEALTHY, DOWN),
        (1, DOWN, HEALTHY),
        (2, HEALTHY, DOWN),
    ]


PENDING = Status.PENDING


def test_a_component_starts_pending_and_its_first_settled_state_is_its_start() -> None:
    # issue 19: nothing is taken to be healthy before it was seen to be
    debounce = Debounce(3, 2, PENDING, START)
    assert feed(debounce, [DOWN, DOWN]) == []
    assert debounce.state is PENDING
    moment = START + datetime.timedelta(seconds=2)
    assert debounce.observe(DOWN, moment) is PENDING  # recorded as pending → down …
    assert debounce.state is DOWN
    assert debounce.since == START  # … down since its first probe, not since the third


def test_a_healthy_start_needs_success_threshold_results_and_a_mixed_run_restarts() -> None:
    debounce = Debounce(3, 2, PENDING, START)
    assert debounce.observe(HEALTHY, START) is None
    assert debounce.observe(DOWN, START + datetime.timedelta(seconds=1)) is None
    assert debounce.observe(HEALTHY, START + datetime.timedelta(seconds=2)) is None
    assert debounce.state is PENDING
    later = START + datetime.timedelta(seconds=3)
    assert debounce.observe(HEALTHY, later) is PENDING
    assert (debounce.state, debounce.since) == (HEALTHY, START + datetime.timedelta(seconds=2))
    # settled: from here on it is ordinary flap control
    assert feed(debounce, [DOWN, DOWN, DOWN]) == [(2, HEALTHY, DOWN)]
