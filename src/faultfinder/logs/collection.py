"""Scan sources into a ``Summary`` (or ``--events``' writer): the one loop the ``logs`` command
and ``diagnose --logs`` share.

Besides lines, a source may be one JSON array of entries: what ``gcloud logging read
--format=json`` prints. It is read an entry at a time (logs/arrays.py), as lines are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from faultfinder.logs.arrays import NotAnArray, entries
from faultfinder.logs.codes import code_of
from faultfinder.logs.parallel import PARALLEL_BYTES, scan_in_two, splittable
from faultfinder.logs.records import parse_entry, path_labels
from faultfinder.logs.scanner import Event, Scanner, Window
from faultfinder.logs.sources import (
    STDIN,
    display_name,
    follow_blocks,
    open_source,
    read_blocks,
)
from faultfinder.logs.summary import SourceStats, Summary

_ARRAY_START = re.compile(rb"\s*\[\s*[{\]]")  # "[{" or "[]", not "[2024-05-01 …] [INFO]"


class Sink(Protocol):
    """What a scan goes into: a ``Summary``, or ``--events``' writer."""

    window: Window
    sources: list[SourceStats]
    untimed: int

    def add(self, event: Event) -> None: ...


S = TypeVar("S", bound=Sink)


def collect(
    names: Sequence[str],
    summary: S,
    *,
    codes: frozenset[str] = frozenset(),
    follow: Callable[[], bool] | None = None,
    live: Callable[[Event], None] | None = None,
    use_re2: bool = True,
    parallel_from: int | None = PARALLEL_BYTES,
) -> S:
    """Scan every source in turn into ``summary``. With ``follow`` (a function that says when
    to stop) the one source is followed as it grows; ``live`` sees each event as it is found.
    A regular file of ``parallel_from`` bytes or more is scanned on two cores when the sink is
    a ``Summary`` (logs/parallel.py); None scans every file in this process."""

    def emit(event: Event) -> None:
        summary.add(event)
        if live is not None:
            live(event)

    for name in names:
        stats = SourceStats(display_name(name))
        summary.sources.append(stats)
        labels = {"source": stats.name} if name == STDIN else path_labels(name)
        new_scanner = functools.partial(
            Scanner, stats.name, labels=labels, window=summary.window, codes=codes, use_re2=use_re2
        )

        if isinstance(summary, Summary) and follow is None and live is None:
            split = _split(name, parallel_from)
            if split is not None:
                scan_in_two(name, split, summary, stats, new_scanner)
                continue
        scanner = new_scanner(emit)
        if follow is not None:
            blocks = follow_blocks(name, stats.warnings, follow)
            _scan_lines(scanner, blocks)
        else:
            with open_source(name) as stream:
                _scan(scanner, read_blocks(stream, name, stats.warnings), stats.warnings)
        stats.lines, stats.bytes = scanner.lines, scanner.bytes
        summary.untimed += scanner.untimed
    return summary


def _split(name: str, parallel_from: int | None) -> int | None:
    """Where to split a file between two cores, or None: never stdin, a gzip file or a JSON
    array (read an entry at a time), and not a small file."""
    if name == STDIN or parallel_from is None:
        return None
    try:
        with open(name, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return None  # the serial route says why, as a usage error
    if _ARRAY_START.match(head):
        return None
    return splittable(name, head, parallel_from)


def _scan(scanner: Scanner, blocks: Iterator[bytes], warnings: list[str]) -> None:
    first = next(blocks, b"")
    if not _ARRAY_START.match(first):
        _scan_lines(scanner, _chain(first, blocks))
        return
    counted = _Counted(blocks)
    number = 0
    try:
        for number, entry in enumerate(entries(first, counted), 1):
            if isinstance(entry, dict):
                record = parse_entry(entry, scanner.source, number, scanner.labels)
                scanner.entry(*code_of(record))
    except NotAnArray as stop:
        warnings.append(
            f"{scanner.source}: not a valid JSON array after {number:,} entries ({stop}): "
            "the rest scanned as lines"
        )
        scanner.lines = number
        _scan_lines(scanner, stop.rest)
        number = scanner.lines
    scanner.lines = number
    scanner.bytes = len(first) + counted.bytes


class _Counted:
    """The blocks, counting their bytes."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        block = next(self.blocks)
        self.bytes += len(block)
        return block


def _scan_lines(scanner: Scanner, blocks: Iterator[bytes]) -> None:
    for block in blocks:
        scanner.feed(block)
    scanner.finish()


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
