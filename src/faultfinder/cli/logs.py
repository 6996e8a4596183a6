"""``faultfinder logs SOURCE…``: the failure signatures in logs, with the probes' fault codes.

Exit status: 0 when no fault code was found, 1 when one was, 2 for a bad call, an unreadable
source or a bad stack file. Unclassified errors are reported but do not change the status.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from faultfinder import clock
from faultfinder.cli.arguments import color
from faultfinder.clock import parse_duration, parse_when
from faultfinder.config import load_stack
from faultfinder.errors import UsageError
from faultfinder.faults import FAULTS
from faultfinder.logs.collection import collect
from faultfinder.logs.render import render_text
from faultfinder.logs.scanner import Event, Window
from faultfinder.logs.summary import Attribution, Summary
from faultfinder.redact import INLINE, Redactor


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.code) - set(FAULTS))
    if unknown:
        raise UsageError(f"unknown fault code: {', '.join(unknown)} (see docs/faults.md)")
    window = Window(
        since=parse_when(args.since) if args.since else None,
        until=parse_when(args.until) if args.until else None,
    )
    mapping: dict[str, str] = {}
    redactor: Redactor = INLINE
    if args.stack:
        stack = load_stack(args.stack)
        mapping, redactor = dict(stack.logs.components), stack.redactor
    summary = Summary(Attribution(mapping, args.component), redactor, window)
    codes = frozenset(args.code)
    if args.follow:
        if len(args.sources) != 1:
            raise UsageError("--follow follows one source")
        _follow(args, summary, codes)
    else:
        collect(args.sources, summary, codes=codes)
    document = summary.document()
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(render_text(document, color=color(args.color)), end="")
    return 1 if document["matched"] else 0


def _follow(args: argparse.Namespace, summary: Summary, codes: frozenset[str]) -> None:
    """Follow the one source until ``--stop-after``, ``--until`` (by the wall clock) or
    SIGINT/SIGTERM, printing each event as it is found; the summary comes after, in every case.
    """
    try:
        deadline = time.monotonic() + parse_duration(args.stop_after) if args.stop_after else None
    except ValueError as error:
        raise UsageError(f"--stop-after: {error}") from None
    until = summary.window.until
    signalled: list[int] = []

    def stop() -> bool:
        return bool(
            signalled
            or (deadline is not None and time.monotonic() >= deadline)
            or (until is not None and clock.now() >= until)
        )

    def live(event: Event) -> None:
        component = summary.attribution.component(event.record)
        example = summary.example(event.record, component)
        print(
            f"{example['time'] or '-'} {event.code or 'unclassified'} "
            f"{example['component'] or '-'} {example['text']}",
            flush=True,
        )

    previous = {
        number: signal.signal(number, lambda received, frame: signalled.append(received))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        if not args.json:
            print(f"following {args.sources[0]} …", file=sys.stderr, flush=True)
        collect(args.sources, summary, codes=codes, follow=stop, live=None if args.json else live)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
