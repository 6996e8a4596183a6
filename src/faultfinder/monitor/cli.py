"""``faultfinder watch`` and ``faultfinder history``: the front end of the monitor.

``watch STACK`` probes each component on its own interval and shows a live dashboard (plain
lines when stdout is not a terminal), keeps history and sends alerts until stopped;
``history STACK`` reads that history back. Every ``faultfinder`` call imports this module to
build its parser, so it stays light: the work lives in ``commands``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from faultfinder.errors import FaultfinderError
from faultfinder.redact import scrub

COMMANDS = ("watch", "history")


def add_parser(commands: Any) -> None:
    watch = commands.add_parser(
        "watch", help="watch the stack: live dashboard, history, alerts on state changes"
    )
    watch.add_argument("stack", help="the stack file (YAML)")
    _store_options(watch)
    watch.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help="stop after this long (250ms, 30s, 2h); default: until stopped",
    )
    watch.add_argument(
        "--plain",
        action="store_true",
        help="print a line per state change instead of the dashboard",
    )
    watch.add_argument("--no-alerts", action="store_true", help="ignore the alerts: section")
    watch.add_argument("--no-history", action="store_true", help="keep no history")
    history = commands.add_parser(
        "history", help="availability and incidents from the history `watch` kept"
    )
    history.add_argument("stack", help="the stack file (YAML)")
    _store_options(history)
    history.add_argument(
        "--since",
        default="24h",
        metavar="WHEN",
        help="the window's start: a duration back from now (default 24h) or a time "
        "(2024-05-01T12:00Z)",
    )
    history.add_argument(
        "--until", metavar="WHEN", help="the window's end (same forms as --since); default now"
    )
    history.add_argument(
        "--logs",
        action="append",
        default=[],
        metavar="SOURCE",
        help="line these logs' spikes up with the state changes, minute by minute "
        "(repeatable; sources as `faultfinder logs` reads them)",
    )
    history.add_argument("--json", action="store_true", help="print the JSON document")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="a SQLite path or postgresql:// URL; default: history.store, "
        "else STACK's name with .history.db",
    )
    parser.add_argument(
        "--agent",
        metavar="NAME",
        help="this agent's name in a shared history (default: the host name); "
        "for history, show only this agent",
    )


def run(args: argparse.Namespace) -> int:
    from faultfinder.monitor import commands

    try:
        if args.command == "watch":
            return commands.watch(args)
        return commands.history(args)
    except FaultfinderError as error:
        print(f"faultfinder: error: {scrub(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
