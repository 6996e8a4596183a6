"""Scan sources into a ``Summary``: the one loop the ``logs`` command and ``diagnose --logs``
share.

Besides lines, a source may be one JSON array of entries: what ``gcloud logging read
--format=json`` prints. It is read whole (such exports are small; a sink's export to a bucket
is JSON lines and streams like any other log).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence

from faultfinder.classify.signatures import classify
from faultfinder.logs.records import parse_entry, path_labels
from faultfinder.logs.scanner import Event, Scanner
from faultfinder.logs.sources import (
    STDIN,
    display_name,
    follow_blocks,
    open_source,
    read_blocks,
)
from faultfinder.logs.summary import SourceStats, Summary

MAX_ARRAY_BYTES = 512 << 20
_ARRAY_START = re.compile(rb"\s*\[\s*[{\]]")  # "[{" or "[]", not "[2024-05-01 …] [INFO]"


def collect(
    names: Sequence[str],
    summary: Summary,
    *,
    codes: frozenset[str] = frozenset(),
    follow: Callable[[], bool] | None = None,
    live: Callable[[Event], None] | None = None,
    use_re2: bool = True,
) -> Summary:
    """Scan every source in turn into ``summary``. With ``follow`` (a function that says when
    to stop) the one source is followed as it grows; ``live`` sees each event as it is found."""

    def emit(event: Event) -> None:
        summary.add(event)
        if live is not None:
            live(event)

    for name in names:
        stats = SourceStats(display_name(name))
        summary.sources.append(stats)
        labels = {"source": stats.name} if name == STDIN else path_labels(name)
        scanner = Scanner(
            stats.name,
            emit,
            labels=labels,
            window=summary.window,
            codes=codes,
            use_re2=use_re2,
        )
        if follow is not None:
            blocks = follow_blocks(name, stats.warnings, follow)
            _scan_lines(scanner, blocks)
        else:
            with open_source(name) as stream:
                _scan(scanner, read_blocks(stream, name, stats.warnings), stats.warnings)
        stats.lines, stats.bytes = scanner.lines, scanner.bytes
        summary.untimed += scanner.untimed
    return summary


def _scan(scanner: Scanner, blocks: Iterator[bytes], warnings: list[str]) -> None:
    first = next(blocks, b"")
    if not _ARRAY_START.match(first):
        _scan_lines(scanner, _chain(first, blocks))
        return
    document = bytearray(first)
    for block in blocks:
        document += block
        if len(document) > MAX_ARRAY_BYTES:
            warnings.append(f"{scanner.source}: a JSON array over 512 MiB: scanned as lines")
            _scan_lines(scanner, _chain(bytes(document), blocks))
            return
    try:
        entries = json.loads(bytes(document).decode("utf-8", "replace"))
    except (ValueError, RecursionError) as error:
        warnings.append(f"{scanner.source}: not a valid JSON array ({error}): scanned as lines")
        _scan_lines(scanner, iter((bytes(document),)))
        return
    scanner.bytes = len(document)
    for number, entry in enumerate(entries, 1):
        if isinstance(entry, dict):
            record = parse_entry(entry, scanner.source, number, scanner.labels)
            scanner.entry(classify(record.text), record)
    scanner.lines = len(entries)


def _scan_lines(scanner: Scanner, blocks: Iterator[bytes]) -> None:
    for block in blocks:
        scanner.feed(block)
    scanner.finish()


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
