"""``history --logs``: log spikes next to the state changes, minute by minute.

The scan is ``faultfinder logs``' own (``collect``, with the stack's ``logs.components``
attribution and the history's window); this module buckets its events by minute, code and
component, marks the minutes where a code spikes, and pairs each state change with the
nearest spike of its code or its component. Apart from ``scan`` every function is pure data.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from faultfinder.config import Stack
from faultfinder.logs import Attribution, Event, Summary, Window, collect
from faultfinder.logs.times import minute_of

SPIKE_FACTOR = 3  # a minute spikes at this many times the window's median lines per minute …
SPIKE_MINIMUM = 5  # … and at this many lines at least (a quiet window's median is 0)
NEAR_MINUTES = 2  # a spike this close to a state change lines up with it
MAX_ROWS = 60  # more rows than this: only those near a change or a spike are shown
SPIKE_MARK = "▲"
MINUTE_FORMAT = "%Y-%m-%dT%H:%MZ"  # logs.times.minute_of's keys

# (minute, code, component) → lines
Counts = Counter[tuple[str, str, str]]


@dataclass
class LogScan:
    """The classified lines of the history's window, counted by minute, code and component."""

    sources: list[dict[str, Any]]
    lines: int
    matched: int
    counts: Counts = field(default_factory=Counter)
    untimed: int = 0  # lines with a code but no time: not on the timeline


def scan(
    stack: Stack, sources: Sequence[str], since: datetime.datetime, until: datetime.datetime
) -> LogScan:
    """Scan ``sources`` as ``faultfinder logs --stack STACK --since --until`` would."""
    attribution = Attribution(dict(stack.logs.components))
    summary = Summary(attribution, stack.redactor, Window(since, until))
    counts: Counts = Counter()
    untimed = [0]  # a counter the callback can add to

    def count(event: Event) -> None:
        if event.code is None:
            return  # unclassified errors have no code to line up with
        if event.record.time is None:
            untimed[0] += 1
            return
        component = attribution.component(event.record) or "-"
        counts[minute_of(event.record.time), event.code, component] += 1

    collect(sources, summary, live=count)
    document = summary.document()
    return LogScan(document["sources"], document["lines"], document["matched"], counts, untimed[0])


def window_minutes(since: datetime.datetime, until: datetime.datetime) -> int:
    """How many minutes the window touches (the median's denominator)."""
    first = since.replace(second=0, microsecond=0)
    return max(1, -(-int((until - first).total_seconds()) // 60))


def spike_threshold(per_minute: Sequence[int], minutes: int) -> float:
    """The lines a minute needs to spike: ``SPIKE_FACTOR`` × the median lines per minute over
    the window's ``minutes`` (a minute without a line counts as 0), and ``SPIKE_MINIMUM``."""
    return max(float(SPIKE_MINIMUM), SPIKE_FACTOR * median_with_zeros(per_minute, minutes))


def median_with_zeros(per_minute: Sequence[int], minutes: int) -> float:
    """The median of ``per_minute`` padded with zeros to ``minutes`` values."""
    values = sorted(per_minute)
    total = max(minutes, len(values))
    zeros = total - len(values)

    def at(index: int) -> int:
        return 0 if index < zeros else values[index - zeros]

    middle = total // 2
    return float(at(middle)) if total % 2 else (at(middle - 1) + at(middle)) / 2


def build(
    changes: Sequence[Mapping[str, Any]], counts: Counts, minutes: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The timeline's buckets (minutes with a change or a classified line, oldest first) and,
    per code, its lines, median per minute, spike threshold and spike minutes."""
    by_code: dict[str, Counter[str]] = defaultdict(Counter)
    by_component: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for (minute, code, component), lines in counts.items():
        by_code[code][minute] += lines
        by_component[minute][code][component] += lines
    codes: dict[str, dict[str, Any]] = {}
    spiked: dict[str, set[str]] = defaultdict(set)
    for code, series in sorted(by_code.items()):
        threshold = spike_threshold(list(series.values()), minutes)
        spike_minutes = sorted(minute for minute, lines in series.items() if lines >= threshold)
        for minute in spike_minutes:
            spiked[minute].add(code)
        codes[code] = {
            "count": sum(series.values()),
            "median_per_minute": median_with_zeros(list(series.values()), minutes),
            "threshold": threshold,
            "spike_minutes": spike_minutes,
        }
    changed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        changed[minute_of(_parse(change["at"]))].append(_brief(change))
    buckets = []
    for minute in sorted(set(changed) | set(by_component)):
        logs = by_component.get(minute, {})
        buckets.append(
            {
                "minute": minute,
                "changes": changed.get(minute, []),
                "logs": {code: sum(logs[code].values()) for code in sorted(logs)},
                "components": {code: dict(sorted(logs[code].items())) for code in sorted(logs)},
                "spike": bool(spiked.get(minute)),
                "spikes": sorted(spiked.get(minute, ())),
            }
        )
    return buckets, codes


def correlate(buckets: Sequence[Mapping[str, Any]], *, dated: bool) -> list[dict[str, Any]]:
    """Each state change with, per code, the nearest spike within ``NEAR_MINUTES`` of the same
    code or attributed to the same component (a tie goes to the spike before the change)."""
    spikes = [
        (bucket["minute"], code, bucket["logs"][code], set(bucket["components"][code]))
        for bucket in buckets
        for code in bucket["spikes"]
    ]
    found = []
    for bucket in buckets:
        for change in bucket["changes"]:
            if change["old"] == "pending" and change["new"] == "healthy":
                continue  # a healthy start is no event a log spike could explain
            nearest: dict[str, tuple[int, str, int, list[str]]] = {}
            for minute, code, lines, components in spikes:
                lag = _minutes_between(bucket["minute"], minute)
                match = [
                    reason
                    for reason, holds in (
                        ("code", code == change["code"]),
                        ("component", change["component"] in components),
                    )
                    if holds
                ]
                if abs(lag) > NEAR_MINUTES or not match:
                    continue
                best = nearest.get(code)
                if best is None or (abs(lag), lag) < (abs(best[0]), best[0]):
                    nearest[code] = (lag, minute, lines, match)
            for code, (lag, minute, lines, match) in sorted(nearest.items()):
                found.append(
                    {
                        "code": code,
                        "minute": minute,
                        "lines": lines,
                        "change": change,
                        "lag_minutes": lag,
                        "relation": _relation(lag),
                        "match": match,
                        "text": _sentence(code, minute, lines, change, lag, dated),
                    }
                )
    return found


def _relation(lag: int) -> str:
    return "same_minute" if lag == 0 else "precedes" if lag < 0 else "follows"


def _sentence(
    code: str, minute: str, lines: int, change: Mapping[str, Any], lag: int, dated: bool
) -> str:
    """ "log spike of dns.temporary_failure at 12:03 (42 lines) lines up with redis → down at
    12:03 (dns.temporary_failure)"."""
    spike = f"log spike of {code} at {clock(minute, dated)} ({lines} line{'s' * (lines != 1)})"
    cause = f" ({change['code']})" if change["code"] else ""
    moment = clock(minute_of(_parse(change["at"])), dated)
    target = f"{change['component']} → {change['new']} at {moment}{cause}"
    if lag == 0:
        return f"{spike} lines up with {target}"
    verb = "precedes" if lag < 0 else "follows"
    return f"{spike} {verb} {target} by {abs(lag)} min"


def clock(minute: str, dated: bool) -> str:
    """``12:03``, or ``2024-05-01 12:03`` when the window spans more than one date."""
    when = datetime.datetime.strptime(minute, MINUTE_FORMAT)
    return when.strftime("%Y-%m-%d %H:%M" if dated else "%H:%M")


def _minutes_between(start: str, end: str) -> int:
    seconds = (
        datetime.datetime.strptime(end, MINUTE_FORMAT)
        - datetime.datetime.strptime(start, MINUTE_FORMAT)
    ).total_seconds()
    return int(seconds // 60)


def _brief(change: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("component", "agent", "at", "old", "new", "code", "owner")
    return {key: change[key] for key in keys}


def _parse(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp)


def add_logs(document: dict[str, Any], stack: Stack, sources: Sequence[str]) -> None:
    """Add ``logs``, ``timeline`` and ``correlations`` to a history document."""
    since, until = _parse(document["since"]), _parse(document["until"])
    found = scan(stack, sources, since, until)
    minutes = window_minutes(since, until)
    buckets, codes = build(document["changes"], found.counts, minutes)
    document["logs"] = {
        "sources": found.sources,
        "lines": found.lines,
        "matched": found.matched,
        "untimed": found.untimed,
        "window_minutes": minutes,
        "spike_rule": {
            "factor": SPIKE_FACTOR,
            "minimum": SPIKE_MINIMUM,
            "near_minutes": NEAR_MINUTES,
        },
        "codes": codes,
    }
    document["timeline"] = buckets
    document["correlations"] = correlate(buckets, dated=since.date() != until.date())


def render(document: Mapping[str, Any]) -> list[Table | Text]:
    """The text section: a row per minute with changes or log lines, then the correlations."""
    logs, buckets = document["logs"], document["timeline"]
    dated = _parse(document["since"]).date() != _parse(document["until"]).date()
    names = ", ".join(source["name"] for source in logs["sources"])
    parts: list[Table | Text] = [
        Text(f"timeline per minute (UTC), logs from {names} ({logs['lines']:,} lines)", "bold"),
        Text(
            f"  {SPIKE_MARK} a log spike: ≥ {SPIKE_FACTOR}× the window's median lines per minute "
            f"of that code, and ≥ {SPIKE_MINIMUM} lines"
        ),
    ]
    parts.extend(
        Text(f"  warning: {warning}")
        for source in logs["sources"]
        for warning in source["warnings"]
    )
    shown = _shown(buckets)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("minute", "state changes", "log lines (code component count)"):
        table.add_column(column)
    agents = len({change["agent"] for bucket in buckets for change in bucket["changes"]}) > 1
    previous: str | None = None
    for bucket in shown:
        if previous is not None and _minutes_between(previous, bucket["minute"]) > 1:
            table.add_row("⋮", "", "")
        previous = bucket["minute"]
        table.add_row(*_row(bucket, dated, agents))
    parts.append(table)
    if len(shown) < len(buckets):
        parts.append(Text(f"  {len(buckets) - len(shown)} quieter minutes not shown (see --json)"))
    if logs["untimed"]:
        parts.append(Text(f"  {logs['untimed']} lines with a code but no time are not shown"))
    parts.extend(_verdict(document))
    return parts


def _row(bucket: Mapping[str, Any], dated: bool, agents: bool) -> tuple[str, str, str]:
    minute = clock(bucket["minute"], dated) + (f" {SPIKE_MARK}" if bucket["spike"] else "")
    changes = "\n".join(
        f"{change['component']} {change['old']} → {change['new']}"
        + (f" ({change['code']})" if change["code"] else "")
        + (f" [{change['agent']}]" if agents else "")
        for change in bucket["changes"]
    )
    entries = sorted(
        (-count, code, component)
        for code, components in bucket["components"].items()
        for component, count in components.items()
    )
    logs = "\n".join(
        f"{code} {component} {-count}" + (f" {SPIKE_MARK}" if code in bucket["spikes"] else "")
        for count, code, component in entries
    )
    return minute, changes, logs


def _shown(buckets: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every bucket, or when there are too many, those near a change or a spike."""
    if len(buckets) <= MAX_ROWS:
        return list(buckets)
    marked = [bucket["minute"] for bucket in buckets if bucket["changes"] or bucket["spike"]]
    return [
        bucket
        for bucket in buckets
        if any(abs(_minutes_between(minute, bucket["minute"])) <= NEAR_MINUTES for minute in marked)
    ]


def _verdict(document: Mapping[str, Any]) -> list[Text]:
    spiking = sorted(
        code for code, entry in document["logs"]["codes"].items() if entry["spike_minutes"]
    )
    if not spiking:
        return [Text("no log spikes in the window")]
    if not document["correlations"]:
        return [
            Text(
                f"log spikes of {', '.join(spiking)}, none within {NEAR_MINUTES} min of a "
                "state change of the same component or code"
            )
        ]
    lines = [Text("log spikes next to state changes:", "bold")]
    # one line each, however long: people grep for them
    lines.extend(
        Text(f"  {entry['text']}", no_wrap=True, overflow="ignore")
        for entry in document["correlations"]
    )
    return lines
