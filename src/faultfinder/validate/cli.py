"""``faultfinder validate`` and ``faultfinder report``: the front end of validation and hand-off.

``validate STACK`` repeats the probes and judges them against the stack file's criteria (exit
0 when every criterion holds, 1 when one does not, 2 for a bad file or call); ``report STACK``
writes the Markdown hand-off from a diagnosis (fresh, or a saved ``diagnose --json``) and a
saved validation. Every ``faultfinder`` call imports this module to build its parser, so it
stays light: the work lives in ``commands``, imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from faultfinder.errors import FaultfinderError
from faultfinder.redact import scrub

COMMANDS = ("validate", "report")
REPORT_FORMATS = ("json", "junit", "markdown")
COMPONENT_KEYS = ("consecutive", "p95_ms", "max_ms", "tls.min_days_left")


def add_parser(commands: Any) -> None:
    validate = commands.add_parser(
        "validate", help="repeat the probes and judge them against the stack's criteria"
    )
    validate.add_argument("stack", help="the stack file (YAML)")
    validate.add_argument("--json", action="store_true", help="print the JSON document only")
    validate.add_argument(
        "--report",
        action="append",
        default=[],
        choices=REPORT_FORMATS,
        help="a report to write; pair each with --out (repeatable)",
    )
    validate.add_argument("--out", action="append", default=[], help="where the report goes")
    validate.add_argument("--sign-off", metavar="NAME", help="sign the run off in every report")
    validate.add_argument("--repetitions", type=int, help="override validation.repetitions")
    validate.add_argument("--interval", help="override validation.interval (250ms, 1s)")
    validate.add_argument("--pass-rate", type=float, help="override validation.pass_rate")
    validate.add_argument(
        "--component",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help=f"override one component's criteria; keys: {', '.join(COMPONENT_KEYS)}",
    )
    validate.add_argument(
        "--logs",
        action="append",
        default=[],
        metavar="SOURCE",
        help="judge validation.log_absent on these logs (a file, .gz, or - for stdin)",
    )
    validate.add_argument(
        "--logs-since",
        default="",
        metavar="WHEN",
        help="only log lines from then on: a time (2026-11-28T19:00Z) or 15m/2h/1d ago",
    )
    validate.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    report = commands.add_parser("report", help="write the Markdown hand-off document")
    report.add_argument("stack", help="the stack file (YAML)")
    report.add_argument("--diagnosis", metavar="FILE.json", help="a saved `diagnose --json`")
    report.add_argument("--validation", metavar="FILE.json", help="a saved `validate` report")
    report.add_argument("--out", metavar="FILE", help="write here instead of to stdout")
    report.add_argument(
        "--logs",
        action="append",
        default=[],
        metavar="SOURCE",
        help="cite these logs' failure signatures next to the probes' evidence",
    )


def run(args: argparse.Namespace) -> int:
    from faultfinder.validate import commands

    try:
        if args.command == "validate":
            return commands.validate(args)
        return commands.report(args)
    except FaultfinderError as error:
        print(f"faultfinder: error: {scrub(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
