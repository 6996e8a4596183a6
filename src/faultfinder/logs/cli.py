"""``faultfinder logs SOURCE…``: the failure signatures in logs, with the probes' fault codes.

Exit status: 0 when no fault code was found, 1 when one was, 2 for a bad call, an unreadable
source or a bad stack file. Unclassified errors are reported but do not change the status.
Every ``faultfinder`` call imports this module to build its parser, so the work is imported
only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faultfinder.errors import FaultfinderError, UsageError
from faultfinder.redact import scrub

if TYPE_CHECKING:
    from faultfinder.logs.scanner import Event
    from faultfinder.logs.summary import Summary

COMMANDS = ("logs",)


def add_parser(commands: Any) -> None:
    logs = commands.add_parser(
        "logs", help="find failure signatures in logs and name their fault codes and owners"
    )
    logs.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="log files (plain, gzip, JSON lines, journald or Cloud Logging JSON, Kubernetes "
        "container logs); - for stdin",
    )
    logs.add_argument("--stack", help="a stack file: its `logs.components` mapping and secrets")
    logs.add_argument("--component", help="attribute every line to this component")
    logs.add_argument(
        "--since", help="only lines from then on: a time (2024-05-01T12:00Z) or 15m/2h/1d ago"
    )
    logs.add_argument("--until", help="only lines up to then (same forms as --since)")
    logs.add_argument(
        "--code", action="append", default=[], help="only this fault code (repeatable)"
    )
    logs.add_argument("--follow", action="store_true", help="follow the one file as it grows")
    logs.add_argument(
        "--stop-after",
        metavar="DURATION",
        help="with --follow: stop after this long (30s, 5m); else at --until or Ctrl-C",
    )
    logs.add_argument("--json", action="store_true", help="print the faultfinder.logs/v1 document")
    logs.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except FaultfinderError as error:
        print(f"faultfinder: error: {scrub(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from faultfinder.faults import FAULTS
    from faultfinder.logs.collect import collect
    from faultfinder.logs.render import render_text
    from faultfinder.logs.scanner import Window
    from faultfinder.logs.summary import Attribution, Summary
    from faultfinder.logs.times import parse_when

    unknown = sorted(set(args.code) - set(FAULTS))
    if unknown:
        raise UsageError(f"unknown fault code: {', '.join(unknown)} (see docs/faults.md)")
    window = Window(
        since=parse_when(args.since) if args.since else None,
        until=parse_when(args.until) if args.until else None,
    )
    mapping: dict[str, str] = {}
    secrets: frozenset[str] = frozenset()
    if args.stack:
        from faultfinder.config import load_stack

        stack = load_stack(args.stack)
        mapping, secrets = dict(stack.logs.components), stack.secrets
    summary = Summary(Attribution(mapping, args.component), secrets, window)
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
        print(render_text(document, color=_color(args.color)), end="")
    return 1 if document["matched"] else 0


def _follow(args: argparse.Namespace, summary: Summary, codes: frozenset[str]) -> None:
    """Follow the one source until ``--stop-after``, ``--until`` (by the wall clock) or
    SIGINT/SIGTERM, printing each event as it is found; the summary comes after, in every case.
    """
    from faultfinder.config import parse_duration
    from faultfinder.logs.collect import collect

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
            or (until is not None and datetime.now(UTC) >= until)
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


def _color(choice: str) -> bool:
    if choice == "auto":
        return sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return choice == "always"
