"""Scan a large regular file on two cores: this process its first half, a forked one the rest.

The second half goes into a ``Summary`` of its own (``later_part``), merged after the first:
counts and times add up, its line numbers are shifted by the first half's line count, its
examples fill what the first half left, and its unknown errors are mined into templates after
the first half's, in the file's order. The result is the one scan the file would get with a
block boundary at the split, which the scanner treats as no boundary at all
(tests/unit/test_logs_scanner.py), except where the scanner carries state over a boundary:

- a traceback still open at the split (it would read on into the second half);
- the time a line without its own takes from above, when no line just above the split has one.

In those cases this process forgets the second half's result and scans it itself, as a serial
scan would (the check is exact: the state this process has at the split against the state the
second half started from), so the answer never depends on the route.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, BinaryIO

from faultfinder.logs.scanner import Event, Scanner
from faultfinder.logs.sources import _GZIP_MAGIC, BLOCK
from faultfinder.logs.summary import SourceStats, Summary

PARALLEL_BYTES = 32 << 20  # a smaller file is over before a second process pays off
CONTEXT = 1 << 20  # bytes above the split the second half reads for its first lines' time
SPOOL_BATCH = 1000  # the second half's unknown errors, written out this many at a time


def splittable(name: str, first: bytes, threshold: int) -> int | None:
    """Where to split the file ``name`` (its first bytes ``first``) between two cores: the
    start of the line after its middle; None when it is not worth it or not possible (a pipe, a
    compressed file, one core, a process with threads, which a fork would not carry over, a
    system other than Linux, where forking is unsafe or missing)."""
    if sys.platform != "linux":
        return None
    try:
        status = os.stat(name)
    except OSError:
        return None
    if (
        not stat.S_ISREG(status.st_mode)
        or status.st_size < threshold
        or first.startswith(_GZIP_MAGIC)
        or len(os.sched_getaffinity(0)) < 2
        or threading.active_count() > 1
    ):
        return None
    with open(name, "rb") as stream:
        stream.seek(status.st_size // 2)
        tail = stream.read(BLOCK)
    newline = tail.find(b"\n")
    return None if newline < 0 else status.st_size // 2 + newline + 1


def scan_in_two(
    name: str,
    split: int,
    summary: Summary,
    stats: SourceStats,
    new_scanner: Callable[[Callable[..., None]], Scanner],
) -> bool:
    """Scan ``name`` into ``summary``: ``[0, split)`` here, the rest in a forked process;
    whether the forked process's result was used (else this one scanned the rest too)."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, once both are done with it
    later = context.Process(
        target=_later_half, args=(name, split, summary, new_scanner, sender, spool)
    )
    later.start()
    sender.close()
    try:
        scanner = new_scanner(summary.add)
        with open(name, "rb") as stream:
            # the last block ends at the split, whole: what the scanner carries over the split
            # is then read from as many lines above it as the second half reads
            for block in _blocks(stream, 0, split, stats.warnings, first=split % BLOCK):
                scanner.feed(block)
            result = _receive(receiver)
            merged = result is not None and _same_state(scanner, result["started"])
            if result is not None and merged:
                spool.seek(0)
                for batch in _batches(spool):
                    summary.add_later(batch, scanner.lines)
                summary.merge(result["summary"], scanner.lines)
                scanner.lines += result["lines"]
                scanner.bytes += result["bytes"]
                scanner.untimed += result["untimed"]
                stats.warnings.extend(result["warnings"])
            else:  # the second half's start depends on the first: scan it here
                for block in _blocks(stream, split, None, stats.warnings):
                    scanner.feed(block)
        scanner.finish()
    finally:
        receiver.close()
        spool.close()
        if later.is_alive():
            later.terminate()
        later.join()
    stats.lines, stats.bytes = scanner.lines, scanner.bytes
    summary.untimed += scanner.untimed
    return merged


def _later_half(
    name: str,
    split: int,
    summary: Summary,
    new_scanner: Callable[[Callable[..., None]], Scanner],
    sender: Connection,
    spool: BinaryIO,
) -> None:
    """In the forked process: scan ``[split, end)`` into a summary of its own, and send it; its
    unknown errors go to ``spool`` in batches as they come, so memory stays flat."""
    try:
        part = Summary(summary.attribution, summary.redactor, summary.window, later_part=True)

        def add(event: Event) -> None:
            part.add(event)
            if len(part.deferred) >= SPOOL_BATCH:
                pickle.dump(part.deferred, spool, pickle.HIGHEST_PROTOCOL)
                part.deferred.clear()

        scanner = new_scanner(add)
        warnings: list[str] = []
        with open(name, "rb") as stream:
            start = max(0, split - CONTEXT)
            stream.seek(start)
            above = stream.read(split - start)
            # what a serial scan would carry over a block boundary at the split
            scanner._last_time = scanner._latest_time(above, len(above))
            started = (scanner._last_time, scanner._lookback_misses)
            for block in _blocks(stream, split, None, warnings):
                scanner.feed(block)
        scanner.finish()
        spool.flush()
        sender.send(
            {
                "started": started,
                "summary": part.tallies(),
                "lines": scanner.lines,
                "bytes": scanner.bytes,
                "untimed": scanner.untimed,
                "warnings": warnings,
            }
        )
    except BaseException:  # the first half scans it again: nothing to report from here
        sender.send(None)
    finally:
        sender.close()
        os._exit(0)  # no atexit handlers or flushes of the parent's buffers, twice


def _batches(spool: BinaryIO) -> Iterator[list[Event]]:
    while True:
        try:
            batch: list[Event] = pickle.load(spool)
        except EOFError:
            return
        yield batch


def _receive(receiver: Connection) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] | None = receiver.recv()
    except (EOFError, OSError):
        return None
    return result


def _same_state(scanner: Scanner, started: tuple[datetime | None, int]) -> bool:
    """Whether the first half ends in the state the second half started from: nothing
    pending (an open traceback) and the same time carried over."""
    return not scanner._pending and (scanner._last_time, scanner._lookback_misses) == started


def _blocks(
    stream: BinaryIO, start: int, end: int | None, warnings: list[str], *, first: int = 0
) -> Iterator[bytes]:
    """``stream[start:end]`` (to its end without ``end``) in blocks, the first one ``first``
    bytes long when that is not 0."""
    stream.seek(start)
    position = start
    size = first or BLOCK
    while end is None or position < end:
        if end is not None:
            size = min(size, end - position)
        try:
            data = stream.read(size)
        except OSError as error:
            warnings.append(f"{stream.name}: read failed ({error.strerror or error})")
            return
        if not data:
            return
        position += len(data)
        size = BLOCK
        yield data
