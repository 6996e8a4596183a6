"""The terminal view of a running monitor: a row per component, the verdict and why-chain
below; and the plain lines ``watch`` prints when its output is not a terminal.

Reads the monitor only through ``MonitorView``, like ``serve`` does.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from faultfinder import clock
from faultfinder.clock import utc_iso
from faultfinder.config import Stack
from faultfinder.diagnosis import narrative
from faultfinder.faults import Owner
from faultfinder.model import Status
from faultfinder.monitor.records import level
from faultfinder.monitor.view import MonitorView, Reading, StateChange

SPARKS = "▁▂▃▄▅▆▇█"
STYLES = {
    Status.HEALTHY: "green",
    Status.DEGRADED: "yellow",
    Status.DOWN: "bold red",
    Status.PENDING: "dim",
}
SPARK_POINTS = 30
States = Mapping[str, tuple[Status, datetime.datetime]]
RESERVED_LINES = 8  # title, header, borders, the verdict and a few why lines


def build(
    view: MonitorView,
    stack: Stack,
    *,
    agent: str = "",
    now: datetime.datetime | None = None,
    height: int | None = None,
) -> Group:
    """The whole dashboard; with ``height``, rows that fit, failing components first."""
    now = now or clock.now()
    states = view.states()
    latest = view.latest()
    names = sorted(stack.components)
    hidden = 0
    if height is not None and len(names) > max(1, height - RESERVED_LINES):
        room = max(1, height - RESERVED_LINES)
        trouble = [n for n in names if _trouble(n, states, latest)]
        chosen = set((trouble + [n for n in names if n not in trouble])[:room])
        hidden = len(names) - len(chosen)
        names = [name for name in names if name in chosen]
    title = f"faultfinder watch — {stack.name}" + (f" (agent {agent})" if agent else "")
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("component", "status", "layer", "code", "latency", "since"):
        table.add_column(column, no_wrap=True)
    for name in names:
        table.add_row(*_row(name, view, states, latest, now))
    parts: list[Table | Text] = [table]
    if hidden:
        parts.append(Text(f"… {hidden} more components not shown (healthy first to go)", "dim"))
    parts.extend(_verdict(view))
    return Group(*parts)


def _trouble(name: str, states: States, latest: Mapping[str, Reading]) -> bool:
    state = states.get(name)
    observation = latest.get(name)
    down = state is not None and state[0] in (Status.DEGRADED, Status.DOWN)
    failing = observation is not None and not observation.result.ok
    return down or failing


def _row(
    name: str,
    view: MonitorView,
    states: States,
    latest: Mapping[str, Reading],
    now: datetime.datetime,
) -> tuple[Text | str, ...]:
    observation = latest.get(name)
    state = states.get(name)
    if observation is None or state is None:
        return (name, Text("pending", "dim"), "—", "—", "", "—")
    status, since = state
    result = observation.result
    label = Text(status.value, STYLES[status])
    now_level = level(result)
    if now_level is not status:  # flap control has not decided yet
        label.append(f" ({now_level.value} now)", STYLES[now_level])
    failed = result.failed_phase
    layer = failed.layer if failed else "—"
    code = result.code or result.warning or "—"
    recent = view.recent(name, SPARK_POINTS)
    durations = [o.result.duration_ms for o in recent]
    failures = [not o.result.ok for o in recent]
    latency = sparkline(durations, failures)
    latency.append(f" {result.duration_ms:,.0f} ms")
    return (name, label, layer, code, latency, f"{_clock(since)} ({_age(now - since)})")


def sparkline(values: Sequence[float], failures: Sequence[bool] = ()) -> Text:
    """One block per value, scaled between the window's least and most; failures in red."""
    text = Text()
    if not values:
        return text
    low, high = min(values), max(values)
    span = high - low
    for index, value in enumerate(values):
        step = 0 if span <= 0 else round((value - low) / span * (len(SPARKS) - 1))
        failed = index < len(failures) and failures[index]
        text.append(SPARKS[step], "red" if failed else "cyan")
    return text


def _verdict(view: MonitorView) -> list[Text]:
    """The diagnosis' story, brief (the table above shows each component's evidence)."""
    diagnosis = view.diagnosis()
    if diagnosis is None:
        return [Text("verdict: waiting for the first round of probes", "dim")]
    lines: list[Text] = []
    for told in narrative.lines(narrative.Story.of(diagnosis), brief=True):
        if told.kind == narrative.HEADLINE:
            line = Text("verdict: ", "bold")
            line.append(diagnosis.status.value, STYLES[diagnosis.status])
            line.append(f" — {told.text}")
            if diagnosis.root_causes:
                verdict = diagnosis.verdict
                line.append(f" (owner: {verdict.owner}, confidence {verdict.confidence:.2f})")
            lines.append(line)
        elif told.kind != narrative.VERDICT:
            prefix = "why:" if told.kind == narrative.WHY else narrative.PLAIN_PREFIX[told.kind]
            style = narrative.STYLES.get(told.kind, "")
            lines.append(Text(f"  {prefix.strip()} {told.text}", style))
    return lines


def change_lines(change: StateChange) -> list[str]:
    """A state change as plain lines: one headline, then the why-chain indented."""
    code = f" {change.code}" if change.code else ""
    owner = f" (owner: {change.owner})" if change.owner != Owner.NONE else ""
    # the first settled state is where its history starts, not a change from anything
    moved = (
        f"starts {change.new.value}"
        if change.old is Status.PENDING
        else f"{change.old.value} -> {change.new.value}"
    )
    headline = f"{utc_iso(change.at)} {change.component} {moved}{code}{owner}: {change.summary}"
    return [headline, *(f"    why: {line}" for line in change.why)]


def _clock(moment: datetime.datetime) -> str:
    return moment.strftime("%H:%M:%SZ")


def _age(span: datetime.timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
