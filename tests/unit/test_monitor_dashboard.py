"""The dashboard renders from any MonitorView: rows, what fits on screen, sparklines, lines."""

from __future__ import annotations

import datetime
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rich.console import Console

from faultfinder import parse_stack
from faultfinder.model import CheckResult, Diagnosis, Phase, Status
from faultfinder.monitor.dashboard import build, change_lines, sparkline
from faultfinder.monitor.view import MonitorView, Reading, StateChange

NOW = datetime.datetime(2026, 5, 4, 12, 0, 0, tzinfo=datetime.UTC)


@dataclass
class StaticView:
    """A view over fixed data: what the dashboard reads, without a running monitor."""

    observations: dict[str, list[Reading]] = field(default_factory=dict)
    state: dict[str, tuple[Status, datetime.datetime]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def latest(self) -> Mapping[str, Reading]:
        return {name: found[-1] for name, found in self.observations.items() if found}

    def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
        return self.state

    def diagnosis(self) -> Diagnosis | None:
        return None

    def changes(self, since: datetime.datetime | None = None) -> Sequence[StateChange]:
        return []

    def recent(self, component: str, limit: int = 60) -> Sequence[Reading]:
        return self.observations.get(component, [])[-limit:]


def result(name: str, ms: float, code: str | None = None) -> CheckResult:
    phases = (Phase("tcp", code is None, ms, "refused" if code else ""),)
    return CheckResult(name, "tcp", f"tcp://127.0.0.1:1/{name}", phases, code=code, duration_ms=ms)


def render(view: MonitorView, names: list[str], height: int | None = None) -> list[str]:
    components = "".join(f"  {name}: {{url: 'tcp://127.0.0.1:1'}}\n" for name in names)
    stack = parse_stack(f"name: shop\ncomponents:\n{components}", "s.yaml", {})
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(build(view, stack, now=NOW, height=height))
    return console.export_text().splitlines()


def test_a_row_per_component_pending_until_probed_and_the_flap_count_shown() -> None:
    since = NOW - datetime.timedelta(minutes=3, seconds=5)
    view = StaticView(
        observations={
            "api": [Reading("api", NOW, "a", result("api", ms)) for ms in (1, 2, 3)]
            + [Reading("api", NOW, "a", result("api", 9, "tcp.refused"))]
        },
        state={"api": (Status.HEALTHY, since)},
    )
    lines = render(view, ["api", "db"])
    api = next(line for line in lines if line.startswith("│ api "))
    db = next(line for line in lines if line.startswith("│ db "))
    assert "healthy (down now)" in api
    assert "tcp.refused" in api
    assert "▁▂▃█ 9 ms" in api
    assert "11:56:55Z (3m05s)" in api
    assert "pending" in db
    assert lines[-1] == "verdict: waiting for the first round of probes"


def test_when_rows_do_not_fit_the_failing_ones_are_kept() -> None:
    names = [f"c{index:02}" for index in range(30)]
    view = StaticView(
        observations={
            name: [
                Reading(name, NOW, "a", result(name, 1, ("tcp.refused" if name == "c27" else None)))
            ]
            for name in names
        },
        state={name: (Status.HEALTHY, NOW) for name in names},
    )
    lines = render(view, names, height=12)
    rows = [line.split()[1] for line in lines if line.startswith("│ c")]
    assert len(rows) == 4
    assert "c27" in rows
    assert any(line.startswith("… 26 more components not shown") for line in lines)


def test_a_sparkline_scales_to_its_window_and_marks_failures_red() -> None:
    text = sparkline([10, 20, 30, 40, 50, 60, 70, 80], [False] * 7 + [True])
    assert text.plain == "▁▂▃▄▅▆▇█"
    assert [span.style for span in text.spans][-1] == "red"
    assert sparkline([5, 5, 5]).plain == "▁▁▁"
    assert sparkline([]).plain == ""


def test_a_state_change_as_plain_lines() -> None:
    change = StateChange(
        "db",
        NOW,
        "a",
        Status.HEALTHY,
        Status.DOWN,
        "tcp.refused",
        "infrastructure",
        "db: nothing listens",
        ("db fails at tcp.",),
    )
    assert change_lines(change) == [
        "2026-05-04T12:00:00.000Z db healthy -> down tcp.refused (owner: infrastructure): "
        "db: nothing listens",
        "    why: db fails at tcp.",
    ]
    back = StateChange("db", NOW, "a", Status.DOWN, Status.HEALTHY, None, "none", "all healthy")
    assert change_lines(back) == ["2026-05-04T12:00:00.000Z db down -> healthy: all healthy"]
