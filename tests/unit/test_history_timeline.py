"""The spike rule and the pairing of spikes with state changes (``monitor.timeline``), on data."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest

from faultfinder.errors import UsageError
from faultfinder.monitor.history import window
from faultfinder.monitor.timeline import (
    SPIKE_MINIMUM,
    Counts,
    build,
    correlate,
    median_with_zeros,
    spike_threshold,
    window_minutes,
)

NOON = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


def minute(number: int) -> str:
    return f"2024-05-01T12:{number:02d}Z"


def change(component: str, at_minute: int, new: str, code: str | None) -> dict[str, Any]:
    at = NOON + datetime.timedelta(minutes=at_minute, seconds=30)
    return {
        "component": component,
        "agent": "eu-1",
        "at": at.isoformat(),
        "old": "healthy",
        "new": new,
        "code": code,
        "owner": "infrastructure",
    }


def test_the_median_counts_the_minutes_without_a_line_as_zero() -> None:
    assert median_with_zeros([42, 1, 1, 2, 1], 10) == 0.5
    assert median_with_zeros([42, 1, 1, 2, 1], 5) == 1.0
    assert median_with_zeros([3, 9, 4], 4) == 3.5
    assert median_with_zeros([], 60) == 0.0
    assert median_with_zeros([7, 7], 1) == 7.0  # never fewer values than counts


def test_a_spike_needs_three_times_the_median_and_the_minimum() -> None:
    assert spike_threshold([], 60) == SPIKE_MINIMUM == 5  # a quiet window: the minimum decides
    assert spike_threshold([1, 1, 1, 40], 60) == 5.0
    assert spike_threshold([4] * 9 + [40], 10) == 12.0  # a steady 4 a minute: 12 or more spikes
    assert spike_threshold([20] * 10, 10) == 60.0


def test_build_marks_the_spiking_minutes_of_each_code() -> None:
    counts: Counts = Counter(
        {
            (minute(0), "dns.temporary_failure", "backend"): 4,
            (minute(1), "dns.temporary_failure", "backend"): 4,
            (minute(2), "dns.temporary_failure", "backend"): 11,  # under 3 × 4
            (minute(3), "dns.temporary_failure", "backend"): 12,
            (minute(4), "dns.temporary_failure", "backend"): 4,
            (minute(5), "dns.temporary_failure", "backend"): 4,
            (minute(3), "tcp.refused", "-"): 4,  # far above its median of 0, under the minimum
        }
    )
    buckets, codes = build([change("redis", 3, "down", "dns.temporary_failure")], counts, 6)
    assert codes["dns.temporary_failure"] == {
        "count": 39,
        "median_per_minute": 4.0,
        "threshold": 12.0,
        "spike_minutes": [minute(3)],
    }
    assert codes["tcp.refused"]["spike_minutes"] == []
    assert [(b["minute"], b["spike"]) for b in buckets] == [
        (minute(0), False),
        (minute(1), False),
        (minute(2), False),
        (minute(3), True),
        (minute(4), False),
        (minute(5), False),
    ]
    third = buckets[3]
    assert third["logs"] == {"dns.temporary_failure": 12, "tcp.refused": 4}
    assert third["components"] == {
        "dns.temporary_failure": {"backend": 12},
        "tcp.refused": {"-": 4},
    }
    assert third["spikes"] == ["dns.temporary_failure"]
    assert [c["component"] for c in third["changes"]] == ["redis"]


def test_a_change_pairs_with_the_nearest_spike_and_a_tie_goes_to_the_one_before() -> None:
    counts: Counts = Counter(
        {
            (minute(2), "dns.temporary_failure", "backend"): 9,
            (minute(6), "dns.temporary_failure", "backend"): 30,
            (minute(9), "tcp.refused", "backend"): 7,
        }
    )
    changes = [
        change("redis", 4, "down", "dns.temporary_failure"),
        change("cache", 9, "down", "redis.timeout"),
    ]
    buckets, _ = build(changes, counts, 10)
    (found,) = correlate(buckets, dated=False)
    assert (found["minute"], found["lag_minutes"], found["relation"], found["match"]) == (
        minute(2),
        -2,
        "precedes",
        ["code"],
    )
    assert found["text"] == (
        "log spike of dns.temporary_failure at 12:02 (9 lines) precedes redis → down at 12:04 "
        "(dns.temporary_failure) by 2 min"
    )


def test_a_spike_pairs_by_component_and_not_past_the_near_minutes() -> None:
    counts: Counts = Counter(
        {
            (minute(1), "tcp.refused", "backend"): 8,
            (minute(8), "tcp.refused", "backend"): 8,
        }
    )
    changes = [
        change("backend", 4, "down", "dependency.failed"),  # 3 minutes from either
        change("backend", 7, "healthy", None),
        change("redis", 7, "down", "tcp.timeout"),
    ]
    buckets, _ = build(changes, counts, 10)
    (found,) = correlate(buckets, dated=True)
    assert found["match"] == ["component"]
    assert found["text"] == (
        "log spike of tcp.refused at 2024-05-01 12:08 (8 lines) follows backend → healthy at "
        "2024-05-01 12:07 by 1 min"
    )


def test_window_minutes_counts_every_minute_the_window_touches() -> None:
    assert window_minutes(NOON, NOON + datetime.timedelta(minutes=10)) == 10
    assert (
        window_minutes(
            NOON + datetime.timedelta(seconds=30), NOON + datetime.timedelta(minutes=10, seconds=1)
        )
        == 11
    )
    assert window_minutes(NOON, NOON + datetime.timedelta(days=1)) == 1440


def test_the_window_takes_durations_and_times_like_faultfinder_logs() -> None:
    assert window("24h", None, now=NOON) == (NOON - datetime.timedelta(hours=24), NOON)
    assert window("2024-05-01T11:00Z", "15m", now=NOON) == (
        NOON - datetime.timedelta(hours=1),
        NOON - datetime.timedelta(minutes=15),
    )
    assert window("2024-05-01T13:00+02:00", "2024-05-02", now=NOON + datetime.timedelta(days=1))[
        0
    ] == NOON - datetime.timedelta(hours=1)
    with pytest.raises(UsageError, match="is not before --until"):
        window("1h", "2h", now=NOON)
    with pytest.raises(UsageError, match="--until: not a time"):
        window("1h", "soon", now=NOON)
