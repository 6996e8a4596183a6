"""The text view of ``faultfinder logs``: its timeline never takes more rows than docs/logs.md
promises (40), whatever the span of the log, a minute or thirty years."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from faultfinder.logs.render import grid, render_text

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ROWS = 40  # docs/logs.md, "Output": "never more than 40 rows whatever the span"
ROW = re.compile(r"^[0-9]+-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}  ", re.MULTILINE)


def document(minutes: list[datetime]) -> dict[str, Any]:
    return {
        "schema": "faultfinder.logs/v1",
        "since": None,
        "until": None,
        "sources": [{"name": "app.log", "lines": 1, "bytes": 1, "warnings": []}],
        "lines": len(minutes),
        "matched": len(minutes),
        "untimed": 0,
        "codes": [],
        "by_owner": {},
        "by_component": {},
        "timeline": [
            {"minute": f"{when:%Y-%m-%dT%H:%MZ}", "counts": {"tcp.refused": 1}}
            for when in sorted(set(minutes))
        ],
        "unclassified": {"count": 0, "dropped": 0, "templates": []},
    }


SPANS = {
    "a minute": timedelta(0),
    "40 minutes": timedelta(minutes=39),
    "41 minutes": timedelta(minutes=40),
    "a day and a minute": timedelta(days=1, minutes=1),
    "41 days": timedelta(days=41),
    "300 days": timedelta(days=300),  # past 40 weeks: a week a row was 43 rows
    "three years": timedelta(days=3 * 365 + 17, hours=5),
    "thirty years": timedelta(days=30 * 365, minutes=7),
}


@pytest.mark.parametrize("span", sorted(SPANS))
@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=23, minutes=59)])
def test_the_timeline_never_takes_more_than_40_rows(span: str, offset: timedelta) -> None:
    first = START + offset
    last = first + SPANS[span]
    start, width, count = grid(first, last, ROWS)
    assert count <= ROWS
    assert start <= first
    assert start + timedelta(minutes=width * count) > last  # the last minute has its row
    middle = (first + (last - first) / 2).replace(second=0, microsecond=0)
    minutes = {first, middle, last}
    text = render_text(document(sorted(minutes)))
    assert len(ROW.findall(text)) == count
    # every minute in a row
    assert sum(int(n) for n in re.findall(r"█+ ([0-9]+)", text)) == len(minutes)


def test_bucket_widths_are_the_narrowest_that_fit() -> None:
    assert grid(START, START + timedelta(minutes=39), ROWS)[1:] == (1, 40)
    assert grid(START, START + timedelta(minutes=40), ROWS)[1:] == (2, 21)
    assert grid(START, START + timedelta(days=1), ROWS)[1:] == (60, 25)
    assert grid(START, START + timedelta(days=39), ROWS)[1:] == (1440, 40)
    _, width, count = grid(START, START + timedelta(days=3 * 365), ROWS)
    assert (width, count) == (28 * 1440, 40)  # 1,096 days: 28 days a row
    text = render_text(document([START, START + timedelta(days=3 * 365)]))
    assert "timeline (UTC, one row per 28 days)" in text
    assert "timeline (UTC, one row per day)" in render_text(
        document([START, START + timedelta(days=39)])
    )
