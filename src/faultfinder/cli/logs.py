"""``faultfinder logs SOURCE…``: the failure signatures in logs, with the probes' fault codes.

The summary (text or ``--json``), or with ``--events`` each line with a code as it is found.
Exit status: 0 when no fault code was found, 1 when one was, 2 for a bad call, an unreadable
source or a bad stack file. Unclassified errors are reported but do not change the status.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable

from faultfinder import clock
from faultfinder.cli.arguments import color
from faultfinder.clock import parse_duration, parse_when
from faultfinder.errors import UsageError
from faultfinder.faults import FAULTS
from faultfinder.logs.collection import Sink, collect
from faultfinder.logs.events import EventLines
from faultfinder.logs.scanner import Event, Window
from faultfinder.logs.summary import Attribution, Summary, example
from faultfinder.redact import INLINE, Redactor


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.code) - set(FAULTS))
    if unknown:
        raise UsageError(f"unknown fault code: {', '.join(unknown)} (see docs/faults.md)")
    if args.events and args.json:
        raise UsageError("--events and --json are two outputs: give one")
    if args.follow and len(args.sources) != 1:
        raise UsageError("--follow follows one source")
    window = Window(
        since=parse_when(args.since) if args.since else None,
        until=parse_when(args.until) if args.until else None,
    )
    mapping: dict[str, str] = {}
    redactor: Redactor = INLINE
    if args.stack:
        # imported here: the stack file's loader (pydantic) is most of the start-up's cost,
        # and most calls name no stack
        from faultfinder.config import load_stack

        stack = load_stack(args.stack)
        mapping, redactor = dict(stack.logs.components), stack.redactor
    attribution = Attribution(mapping, args.component)
    codes = frozenset(args.code)
    if args.events:
        events = EventLines(sys.stdout, attribution, redactor, window)
        _scan(args, events, codes, None)
        for source in events.sources:  # stdout holds events only
            for warning in source.warnings:
                print(f"faultfinder: warning: {warning}", file=sys.stderr)
        return 1 if events.matched else 0
    summary = Summary(attribution, redactor, window)
    _scan(args, summary, codes, None if args.json else _live_line(attribution, redactor))
    document = summary.document()
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        from faultfinder.logs.render import render_text  # rich: only the text view needs it

        print(render_text(document, color=color(args.color)), end="")
    return 1 if document["matched"] else 0


def _scan(
    args: argparse.Namespace,
    sink: Sink,
    codes: frozenset[str],
    live: Callable[[Event], None] | None,
) -> None:
    if args.follow:
        _follow(args, sink, codes, live)
    else:
        collect(args.sources, sink, codes=codes)


def _live_line(attribution: Attribution, redactor: Redactor) -> Callable[[Event], None]:
    """What ``--follow`` prints of each event as it is found: ``TIME CODE COMPONENT TEXT``."""

    def live(event: Event) -> None:
        shown = example(event.record, attribution.component(event.record), redactor)
        print(
            f"{shown['time'] or '-'} {event.code or 'unclassified'} "
            f"{shown['component'] or '-'} {shown['text']}",
            flush=True,
        )

    return live


def _follow(
    args: argparse.Namespace,
    sink: Sink,
    codes: frozenset[str],
    live: Callable[[Event], None] | None,
) -> None:
    """Follow the one source until ``--stop-after``, ``--until`` (by the wall clock) or
    SIGINT/SIGTERM, ``live`` seeing each event as it is found (``--events`` prints them
    itself); the summary, if any, comes after, in every case."""
    try:
        deadline = time.monotonic() + parse_duration(args.stop_after) if args.stop_after else None
    except ValueError as error:
        raise UsageError(f"--stop-after: {error}") from None
    until = sink.window.until
    signalled: list[int] = []

    def stop() -> bool:
        return bool(
            signalled
            or (deadline is not None and time.monotonic() >= deadline)
            or (until is not None and clock.now() >= until)
        )

    previous = {
        number: signal.signal(number, lambda received, frame: signalled.append(received))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        if not args.json:
            print(f"following {args.sources[0]} …", file=sys.stderr, flush=True)
        collect(args.sources, sink, codes=codes, follow=stop, live=live)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
