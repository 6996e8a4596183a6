"""Events → the ``faultfinder.logs/v1`` document: counts by code, component and owner, first and
last seen, a per-minute timeline, redacted examples, the unknown errors as templates, and the
requests a request log says the server failed (5xx), counted by status.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faultfinder.errors import printable
from faultfinder.faults import FAULTS
from faultfinder.logs.records import Record
from faultfinder.logs.scanner import Event, Window
from faultfinder.logs.templates import Template, TemplateMiner
from faultfinder.logs.times import iso, minute_of
from faultfinder.redact import INLINE, Redactor

SCHEMA = "faultfinder.logs/v1"
EXAMPLES = 3
EXAMPLE_CHARACTERS = 400
TRIED_TEXTS = 1000  # texts remembered per code, so a flood of distinct lines takes bounded memory
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # SGR sequences: a coloured log line's colours
UNCLASSIFIED = "unclassified"  # the timeline's key for errors no signature names
# Labels that name what wrote a line, most telling first (Cloud Run, GKE, Functions, App
# Engine, JSON loggers, systemd); the first one present names the component.
COMPONENT_LABELS = (
    "service_name",
    "container_name",
    "workload",
    "function_name",
    "module_id",
    "k8s-pod/app",
    "service",
    "component",
    "app",
    "_SYSTEMD_UNIT",
    "SYSLOG_IDENTIFIER",
)


@dataclass(frozen=True)
class Attribution:
    """Which component a record belongs to: ``--component``, else the stack file's
    ``logs.components`` (a label value or a file name → component), else the record's own
    service or container label."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    forced: str | None = None

    def component(self, record: Record) -> str:
        if self.forced:
            return self.forced
        labels = record.labels
        for key in (*COMPONENT_LABELS, "pod_name", "source"):
            value = labels.get(key)
            if value and value in self.mapping:
                return self.mapping[value]
        for key in COMPONENT_LABELS:
            value = labels.get(key)
            if value:
                return value.removesuffix(".service")
        return ""


@dataclass
class _Tally:
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    components: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    # Texts already turned into an example (kept or not): the same text makes the same
    # example, so a code whose lines all read alike is masked once, not once a line.
    tried: set[str] = field(default_factory=set, repr=False)

    def add(self, when: datetime | None) -> None:
        self.count += 1
        if when is not None:  # min and max, written out: this runs once per event
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when

    def merge(self, later: _Tally, lines_before: int) -> None:
        """Add the tally of a later part of the same source, whose line numbers start after
        ``lines_before``: the same as if its lines had been added here one by one (its
        examples are its first distinct ones, so the first still missing here are among them)."""
        self.count += later.count
        for when in (later.first, later.last):
            if when is not None:
                self.first = when if self.first is None else min(self.first, when)
                self.last = when if self.last is None else max(self.last, when)
        self.components.update(later.components)
        for example in later.examples:
            if len(self.examples) < EXAMPLES and all(
                example["text"] != seen["text"] for seen in self.examples
            ):
                self.examples.append({**example, "line": example["line"] + lines_before})


@dataclass
class SourceStats:
    name: str
    lines: int = 0
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tallies:
    """A later part's counts (``Summary.tallies``), and its unknown errors still to mine."""

    codes: Mapping[str, _Tally]
    timeline: Mapping[str, Counter[str]]
    requests: _Tally
    statuses: Counter[int]
    requests_timeline: Mapping[str, Counter[int]]
    deferred: list[Event]


class Summary:
    """Collects events from any number of sources; ``document`` renders the result."""

    def __init__(
        self,
        attribution: Attribution = Attribution(),
        redactor: Redactor = INLINE,
        window: Window | None = None,
        *,
        later_part: bool = False,
    ) -> None:
        # A later part of a source scanned on its own (logs/parallel.py) keeps its unknown
        # errors as they come: they are mined into templates in the source's order, on merge.
        self.later_part = later_part
        self.deferred: list[Event] = []
        self.attribution = attribution
        self.redactor = redactor
        self.window = window or Window()
        self.codes: dict[str, _Tally] = defaultdict(_Tally)
        self.timeline: dict[str, Counter[str]] = defaultdict(Counter)
        self.miner = TemplateMiner()
        self.unclassified: dict[Template, _Tally] = defaultdict(_Tally)
        self.requests = _Tally()
        self.statuses: Counter[int] = Counter()
        self.requests_timeline: dict[str, Counter[int]] = defaultdict(Counter)
        self.sources: list[SourceStats] = []
        self.untimed = 0
        # The last labels seen and their component: a file's lines share one labels mapping.
        self._labels: Mapping[str, str] | None = None
        self._component = ""
        # The last time seen and its minute: lines come in order, many to a second.
        self._time: datetime | None = None
        self._minute = ""

    def add(self, event: Event) -> None:
        record = event.record
        if record.labels is not self._labels:
            self._labels, self._component = record.labels, self.attribution.component(record)
        component = self._component
        if event.code is None and record.failed_request:
            self._request(record, component)
            return
        if event.code is None and self.later_part:
            self.deferred.append(event)
            return
        if event.code is None:
            # masked before it is generalised: a template that keeps part of a secret (the
            # part no <NUM> or <HEX> replaced) would show it
            template = self.miner.add(self.redactor(_one_line(record.text)))
            if template is None:
                return
            tally = self.unclassified[template]
        else:
            tally = self.codes[event.code]
        tally.add(record.time)
        tally.components[component] += 1
        if record.time is not None:
            self.timeline[self._minute_of(record.time)][event.code or UNCLASSIFIED] += 1
        self._example(tally, record, component)

    def _minute_of(self, when: datetime) -> str:
        if when is not self._time:
            self._time, self._minute = when, minute_of(when)
        return self._minute

    def _request(self, record: Record, component: str) -> None:
        """A failed request (a 5xx in a request log): the access log's view of the outage, kept
        apart from the errors a program wrote."""
        status = record.status or 0
        self.requests.add(record.time)
        self.requests.components[component] += 1
        self.statuses[status] += 1
        if record.time is not None:
            self.requests_timeline[minute_of(record.time)][status] += 1
        self._example(self.requests, record, component)

    def _example(self, tally: _Tally, record: Record, component: str) -> None:
        """The record as one of the tally's examples, unless it has them all or one reads alike."""
        if len(tally.examples) >= EXAMPLES or record.text in tally.tried:
            return
        if len(tally.tried) < TRIED_TEXTS:
            tally.tried.add(record.text)
        example = self.example(record, component)
        if all(example["text"] != seen["text"] for seen in tally.examples):
            tally.examples.append(example)

    def tallies(self) -> Tallies:
        """What a later part gathered, to be merged into the summary of the parts before it."""
        return Tallies(
            self.codes,
            self.timeline,
            self.requests,
            self.statuses,
            self.requests_timeline,
            self.deferred,
        )

    def merge(self, later: Tallies, lines_before: int) -> None:
        """Add what a later part of the last source gathered (``later_part``), its line
        numbers after ``lines_before``: the same as if its events had been added here."""
        for code, tally in later.codes.items():
            self.codes[code].merge(tally, lines_before)
        for minute, counts in later.timeline.items():
            self.timeline[minute].update(counts)
        self.requests.merge(later.requests, lines_before)
        self.statuses.update(later.statuses)
        for minute, statuses in later.requests_timeline.items():
            self.requests_timeline[minute].update(statuses)
        self.add_later(later.deferred, lines_before)

    def add_later(self, deferred: Iterable[Event], lines_before: int) -> None:
        """A later part's unknown errors, in its order, its line numbers after ``lines_before``."""
        for event in deferred:
            record = dataclasses.replace(event.record, line=event.record.line + lines_before)
            self.add(Event(None, record))

    def example(self, record: Record, component: str) -> dict[str, Any]:
        return example(record, component, self.redactor)

    @property
    def matched(self) -> int:
        return sum(tally.count for tally in self.codes.values())

    def document(self) -> dict[str, Any]:
        codes = sorted(self.codes.items(), key=lambda item: (-item[1].count, item[0]))
        owners: Counter[str] = Counter()
        components: dict[str, Counter[str]] = defaultdict(Counter)
        for code, tally in codes:
            owners[FAULTS[code].owner] += tally.count
            for component, count in tally.components.items():
                components[component or "-"][code] += count
        return {
            "schema": SCHEMA,
            "since": iso(self.window.since),
            "until": iso(self.window.until),
            "sources": [
                {"name": s.name, "lines": s.lines, "bytes": s.bytes, "warnings": s.warnings}
                for s in self.sources
            ],
            "lines": sum(s.lines for s in self.sources),
            "matched": self.matched,
            "untimed": self.untimed,
            "codes": [self._code(code, tally) for code, tally in codes],
            "by_owner": dict(sorted(owners.items())),
            "by_component": {
                name: {"count": sum(counts.values()), "codes": dict(sorted(counts.items()))}
                for name, counts in sorted(components.items())
            },
            "timeline": self._timeline(),
            "unclassified": self._unclassified(),
            "requests": self._requests(),
        }

    def _timeline(self) -> list[dict[str, Any]]:
        """Per minute, the lines by code; a minute with failed requests has them by status
        under ``requests``."""
        timeline = []
        for minute in sorted({*self.timeline, *self.requests_timeline}):
            entry: dict[str, Any] = {"minute": minute, "counts": _sorted(self.timeline.get(minute))}
            if minute in self.requests_timeline:
                entry["requests"] = _by_status(self.requests_timeline[minute])
            timeline.append(entry)
        return timeline

    def _requests(self) -> dict[str, Any]:
        tally = self.requests
        return {
            "count": tally.count,
            "by_status": _by_status(self.statuses),
            "first_seen": iso(tally.first),
            "last_seen": iso(tally.last),
            "components": _components(tally.components),
            "examples": tally.examples,
        }

    def _code(self, code: str, tally: _Tally) -> dict[str, Any]:
        fault = FAULTS[code]
        return {
            "code": code,
            "layer": fault.layer,
            "owner": fault.owner,
            "meaning": fault.meaning,
            "remediation": fault.remediation,
            "count": tally.count,
            "first_seen": iso(tally.first),
            "last_seen": iso(tally.last),
            "components": _components(tally.components),
            "examples": tally.examples,
        }

    def _unclassified(self) -> dict[str, Any]:
        templates = list(self.unclassified.items())
        templates.sort(key=lambda item: (-item[1].count, item[0].text))
        return {
            "count": sum(tally.count for _, tally in templates),
            "dropped": self.miner.overflow,  # past the template bound, counted nowhere else
            "templates": [
                {
                    "template": self.redactor(template.text),
                    "count": tally.count,
                    "first_seen": iso(tally.first),
                    "last_seen": iso(tally.last),
                    "components": _components(tally.components),
                    "examples": tally.examples,
                }
                for template, tally in templates
            ],
        }


def example(record: Record, component: str, redactor: Redactor) -> dict[str, Any]:
    """One line as the output shows it: on one line, secrets masked, then cut to
    ``EXAMPLE_CHARACTERS`` (masked first: a cut through a secret would leave its start, which
    no pattern recognises any more)."""
    text = redactor(_one_line(record.text))
    if len(text) > EXAMPLE_CHARACTERS:
        text = text[:EXAMPLE_CHARACTERS] + " …"
    return {
        "time": iso(record.time),
        "source": record.source,
        "line": record.line,
        "component": component,
        "text": text,
    }


def _components(counts: Counter[str]) -> dict[str, int]:
    return {name or "-": count for name, count in sorted(counts.items())}


def _sorted(counts: Counter[str] | None) -> dict[str, int]:
    return dict(sorted(counts.items())) if counts else {}


def _by_status(counts: Counter[int]) -> dict[str, int]:
    """Counts by HTTP status, keyed by the status as text (JSON keys are strings)."""
    return {str(status): count for status, count in sorted(counts.items())}


def _one_line(text: str) -> str:
    """A message on one line, whatever it held: colours dropped, other escapes shown as text."""
    return printable(" ".join(_COLOURS.sub("", text).split()))
