"""``faultfinder history``: availability per component over a window, and the incidents (the
state changes, paired into outages) with the diagnosis made when each began.

The ``faultfinder.history/v1`` document is built from the store; the text is rendered from
the document, like every other report.
"""

from __future__ import annotations

import asyncio
import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from faultfinder import clock, terminal
from faultfinder.clock import parse_duration, utc_iso
from faultfinder.config import Stack
from faultfinder.errors import UsageError
from faultfinder.model import Status
from faultfinder.monitor.store import Availability, Store
from faultfinder.monitor.view import StateChange
from faultfinder.redact import INLINE, Redactor

SCHEMA = "faultfinder.history/v1"


async def history_document(
    store: Store,
    stack: Stack,
    *,
    since: datetime.datetime,
    until: datetime.datetime,
    agent: str | None = None,
    logs: Sequence[str] = (),
) -> dict[str, Any]:
    """The document; with ``logs`` (sources as ``faultfinder logs`` reads them) it gains the
    ``logs``, ``timeline`` and ``correlations`` keys (``timeline.add_logs``)."""
    rows = await store.availability(stack.name, since=since, until=until, agent=agent)
    changes = await store.changes(stack.name, since=since, until=until, agent=agent)
    # an outage that began before the window and is still open is part of it
    before = await store.changes(
        stack.name,
        since=datetime.datetime.fromtimestamp(0, datetime.UTC),
        until=since,
        agent=agent,
    )
    open_before = _still_down(before)
    document = {
        "schema": SCHEMA,
        "stack": stack.name,
        "store": store.url,
        "since": utc_iso(since),
        "until": utc_iso(until),
        "agent": agent,
        "components": _components(stack, rows),
        "incidents": _incidents([*open_before, *changes]),
        "changes": [change.to_json() for change in changes],
    }
    if logs:
        from faultfinder.monitor.timeline import add_logs  # the log scanner only when asked for

        await asyncio.to_thread(add_logs, document, stack, logs)
    return document


def window(
    since: str, until: str | None, now: datetime.datetime | None = None
) -> tuple[datetime.datetime, datetime.datetime]:
    """``--since``/``--until``: each a duration back from now (``24h``) or a time
    (``2024-05-01T12:00Z``), as ``faultfinder logs`` takes them; ``until`` defaults to now."""
    now = now or clock.now()
    start = _when(since, "--since", now)
    end = _when(until, "--until", now) if until else now
    if start >= end:
        raise UsageError(f"--since ({utc_iso(start)}) is not before --until ({utc_iso(end)})")
    return start, end


def _when(value: str, option: str, now: datetime.datetime) -> datetime.datetime:
    from faultfinder.clock import parse_when

    try:
        return now - datetime.timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        return parse_when(value, now=now)
    except UsageError as error:
        raise UsageError(f"{option}: {error}") from None


def _components(stack: Stack, rows: Sequence[Availability]) -> list[dict[str, Any]]:
    names = sorted(set(stack.components) | {row.component for row in rows})
    found = []
    for name in names:
        mine = [row for row in rows if row.component == name]
        checks = sum(row.checks for row in mine)
        failures = sum(row.failures for row in mine)
        total_ms = sum(row.total_ms for row in mine)
        found.append(
            {
                "name": name,
                "availability": round((checks - failures) / checks, 6) if checks else None,
                "checks": checks,
                "failures": failures,
                "mean_ms": round(total_ms / checks, 1) if checks else None,
                "max_ms": round(max(row.max_ms for row in mine), 1) if mine else None,
                "agents": {
                    row.agent: {
                        "availability": round(row.ratio, 6),
                        "checks": row.checks,
                        "failures": row.failures,
                    }
                    for row in mine
                },
            }
        )
    return found


def _still_down(changes: Iterable[StateChange]) -> list[StateChange]:
    """The changes that opened outages not closed by a later change."""
    newest: dict[tuple[str, str], StateChange] = {}
    for change in changes:
        newest[change.component, change.agent] = change
    return [change for change in newest.values() if change.new is Status.DOWN]


def _incidents(changes: Sequence[StateChange]) -> list[dict[str, Any]]:
    """Outages: from a change to down to the next change away from down (or still open)."""
    opened: dict[tuple[str, str], dict[str, Any]] = {}
    incidents: list[dict[str, Any]] = []
    for change in changes:
        key = (change.component, change.agent)
        if change.new is Status.DOWN and key not in opened:
            incident = {
                **change.to_json(),
                "started_at": utc_iso(change.at),
                "ended_at": None,
                "duration_s": None,
            }
            for name in ("at", "old", "new"):
                del incident[name]
            # down from its first settled state: the start of its history, not a change
            incident["from_start"] = change.old is Status.PENDING
            opened[key] = incident
            incidents.append(incident)
        elif change.new is not Status.DOWN and key in opened:
            incident = opened.pop(key)
            incident["ended_at"] = utc_iso(change.at)
            started = datetime.datetime.fromisoformat(incident["started_at"])
            incident["duration_s"] = round((change.at - started).total_seconds(), 3)
    return incidents


def render_text(document: dict[str, Any], redactor: Redactor = INLINE, width: int = 120) -> str:
    console = terminal.console(width=width, record=True, no_color=True, file=io.StringIO())
    console.print(_build(document))
    return redactor(console.export_text())


def _build(document: dict[str, Any]) -> Group:
    who = f", agent {document['agent']}" if document["agent"] else ""
    table = Table(
        title=f"{document['stack']}: {document['since']} → {document['until']}{who}",
        title_justify="left",
    )
    for column in ("component", "availability", "checks", "failures", "mean ms", "max ms"):
        table.add_column(column, justify="left" if column == "component" else "right")
    for component in document["components"]:
        ratio = component["availability"]
        table.add_row(
            component["name"],
            "—" if ratio is None else f"{ratio * 100:.3f} %",
            str(component["checks"]),
            str(component["failures"]),
            "—" if component["mean_ms"] is None else f"{component['mean_ms']:.1f}",
            "—" if component["max_ms"] is None else f"{component['max_ms']:.1f}",
        )
    parts: list[Table | Text] = [table]
    incidents = document["incidents"]
    parts.append(Text(f"incidents: {len(incidents)}", "bold"))
    for incident in incidents:
        ended = incident["ended_at"] or "still down"
        length = f" ({incident['duration_s']:g} s)" if incident["duration_s"] is not None else ""
        parts.append(
            Text(
                f"  {incident['started_at']} → {ended}{length}  {incident['component']} "
                f"[{incident['agent']}] {incident['code'] or ''} (owner: {incident['owner']})"
            )
        )
        parts.append(Text(f"    diagnosis: {incident['summary']}"))
        parts.extend(Text(f"    why: {line}") for line in incident["why"])
    if "timeline" in document:
        from faultfinder.monitor.timeline import render

        parts.extend(render(document))
    return Group(*parts)
