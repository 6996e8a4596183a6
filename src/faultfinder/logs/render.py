"""The human view of a logs summary, drawn with rich from the same document ``--json`` prints."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from faultfinder import terminal
from faultfinder.faults import Owner

_OWNER_STYLE = {
    Owner.INFRASTRUCTURE: "magenta",
    Owner.APPLICATION: "red",
    Owner.CONFIGURATION: "yellow",
}
# Timeline buckets, in minutes: the narrowest that keeps the timeline within its rows; past a
# day, as many whole days as it takes (a log may span years).
_BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440)
_DAY = 1440
_BAR = 40
TEMPLATES_SHOWN = 10


def render_text(
    document: dict[str, Any], *, width: int = 120, color: bool = False, rows: int = 40
) -> str:
    console = terminal.console(
        width=width, record=True, force_terminal=color, no_color=not color, file=io.StringIO()
    )
    console.print(Group(*build(document, rows=rows)))
    return console.export_text(styles=color)


def build(document: dict[str, Any], *, rows: int = 40) -> list[RenderableType]:
    parts: list[RenderableType] = [_headline(document)]
    for source in document["sources"]:
        parts.extend(Text(f"warning: {w}", style="yellow") for w in source["warnings"])
    if document["untimed"]:
        parts.append(
            Text(
                f"note: {document['untimed']} matching lines had no time; kept, since they "
                "cannot be placed outside --since/--until",
                style="yellow",
            )
        )
    if document["codes"]:
        parts.append(_codes_table(document))
        owners = ", ".join(f"{owner} {count}" for owner, count in document["by_owner"].items())
        parts.append(Text(f"by owner: {owners}"))
    requests = document.get("requests")
    if requests and requests["count"]:
        parts.append(_requests(requests))
    if document["timeline"]:
        parts.extend(_timeline(document["timeline"], rows))
    for entry in document["codes"]:
        parts.extend(_code_details(entry))
    parts.extend(_unclassified(document["unclassified"]))
    return parts


def live_line(event: dict[str, Any]) -> str:
    """One line per event as ``--follow`` finds it."""
    when = event["time"] or "-"
    return f"{when} {event['code']} {event['component'] or '-'} {event['text']}"


def _headline(document: dict[str, Any]) -> Text:
    sources = document["sources"]
    unclassified = document["unclassified"]
    text = Text("faultfinder logs: ", style="bold")
    text.append(
        f"{len(sources)} source{'s' if len(sources) != 1 else ''}, "
        f"{document['lines']:,} lines, {document['matched']:,} with a fault code, "
        f"{unclassified['count']:,} unclassified errors in "
        f"{len(unclassified['templates'])} templates"
    )
    requests = document.get("requests")
    if requests and requests["count"]:
        text.append(f", {requests['count']:,} failed requests (5xx)")
    if document["since"] or document["until"]:
        text.append(f"  (from {document['since'] or 'the start'} to {document['until'] or 'now'})")
    return text


def _requests(requests: dict[str, Any]) -> Text:
    """The request log's view: how many requests the server answered with each 5xx."""
    statuses = ", ".join(f"{status} ×{count:,}" for status, count in requests["by_status"].items())
    components = ", ".join(f"{name} {count}" for name, count in requests["components"].items())
    text = Text("failed requests (request log): ", style="bold")
    text.append(f"{statuses} from {components}, ")
    text.append(f"{_short(requests['first_seen'])} to {_short(requests['last_seen'])} UTC")
    return text


def _codes_table(document: dict[str, Any]) -> Table:
    table = Table(title="fault codes found (times in UTC)", title_justify="left")
    for column in ("code", "owner", "count", "first seen", "last seen"):
        table.add_column(column, no_wrap=True, justify="right" if column == "count" else "left")
    table.add_column("components", overflow="fold")
    for entry in document["codes"]:
        components = ", ".join(f"{name} {count}" for name, count in entry["components"].items())
        table.add_row(
            entry["code"],
            Text(entry["owner"], style=_OWNER_STYLE.get(entry["owner"], "")),
            f"{entry['count']:,}",
            _short(entry["first_seen"]),
            _short(entry["last_seen"]),
            components,
        )
    return table


def _short(when: str | None) -> str:
    """2024-06-03T08:14:03.001Z → 2024-06-03 08:14:03: the table's width goes to components."""
    return when[:19].replace("T", " ") if when else "-"


def _timeline(timeline: list[dict[str, Any]], rows: int) -> list[RenderableType]:
    minutes = {
        datetime.strptime(entry["minute"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC): {
            **entry["counts"],
            **{f"HTTP {status}": n for status, n in entry.get("requests", {}).items()},
        }
        for entry in timeline
    }
    start, width, count = grid(min(minutes), max(minutes), rows)
    # every bucket in the span, empty ones too: a gap is information
    buckets: list[dict[str, int]] = [{} for _ in range(count)]
    for minute, counts in minutes.items():
        target = buckets[_index(minute, start, width)]
        for code, number in counts.items():
            target[code] = target.get(code, 0) + number
    peak = max((sum(counts.values()) for counts in buckets), default=1) or 1
    lines: list[RenderableType] = [
        Text(f"timeline (UTC, one row per {_width(width)})", style="bold")
    ]
    for index, counts in enumerate(buckets):
        when = start + timedelta(minutes=width * index)
        total = sum(counts.values())
        row = Text(f"{when:%Y-%m-%d %H:%M}  ")
        row.append("█" * max(1 if total else 0, round(_BAR * total / peak)), style="red")
        row.append(f" {total}" if total else " ·", style="" if total else "dim")
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
        if top:
            row.append("  " + ", ".join(f"{code} {count}" for code, count in top), style="dim")
        lines.append(row)
    return lines


def grid(first: datetime, last: datetime, rows: int) -> tuple[datetime, int, int]:
    """The timeline's buckets from ``first`` to ``last`` (minutes): the first bucket's start,
    the buckets' width in minutes (the narrowest of ``_BUCKETS``, else whole days) and how
    many there are, never more than ``rows``, whatever the span."""
    rows = max(rows, 1)
    for width in _BUCKETS:
        since_midnight = first.hour * 60 + first.minute
        floored = since_midnight - since_midnight % width
        start = first.replace(hour=floored // 60, minute=floored % 60)
        count = _index(last, start, width) + 1
        if count <= rows:
            return start, width, count
    start = first.replace(hour=0, minute=0)
    days = (last - start).days + 1
    per_row = max(2, -(-days // rows))  # ⌈days / rows⌉ days a row: ⌈days / per_row⌉ ≤ rows
    return start, per_row * _DAY, _index(last, start, per_row * _DAY) + 1


def _index(when: datetime, start: datetime, width: int) -> int:
    return int((when - start).total_seconds() // 60) // width


def _width(minutes: int) -> str:
    if minutes == 1:
        return "minute"
    if minutes >= _DAY and minutes % _DAY == 0:
        days = minutes // _DAY
        return "day" if days == 1 else f"{days} days"
    return f"{minutes} minutes"


def _code_details(entry: dict[str, Any]) -> list[RenderableType]:
    owner_style = _OWNER_STYLE.get(entry["owner"], "")
    heading = Text(f"{entry['code']}", style="bold")
    heading.append(f" ({entry['owner']})", style=owner_style)
    heading.append(f": {entry['meaning']}")
    lines: list[RenderableType] = [heading, Text(f"  fix: {entry['remediation']}")]
    lines.extend(_example(example) for example in entry["examples"])
    return lines


def _example(example: dict[str, Any]) -> Text:
    where = f"{example['source']}:{example['line']}"
    text = Text(f"  {example['time'] or '-'} ", style="dim")
    text.append(f"{example['component'] or '-'} {where}  ", style="dim")
    text.append(example["text"])
    return text


def _unclassified(unclassified: dict[str, Any]) -> list[RenderableType]:
    templates = unclassified["templates"]
    if not templates:
        return []
    lines: list[RenderableType] = [
        Text(
            f"unclassified errors: {unclassified['count']:,} lines in {len(templates)} "
            f"templates (no signature names them; owner unknown)",
            style="bold",
        )
    ]
    for template in templates[:TEMPLATES_SHOWN]:
        lines.append(Text(f"  {template['count']:>7,}  {template['template']}"))
        if template["examples"]:
            lines.append(_example(template["examples"][0]))
    if len(templates) > TEMPLATES_SHOWN:
        lines.append(Text(f"  … {len(templates) - TEMPLATES_SHOWN} more in --json", style="dim"))
    if unclassified["dropped"]:
        lines.append(
            Text(f"  {unclassified['dropped']:,} more lines past the template limit", style="dim")
        )
    return lines
