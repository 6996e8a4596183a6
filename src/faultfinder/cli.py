"""The ``faultfinder`` command line: a thin loop over probe → diagnose → render."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from faultfinder import __version__, eventloop
from faultfinder.config import load_stack
from faultfinder.errors import FaultfinderError
from faultfinder.lab import cli as lab_cli
from faultfinder.logs import cli as logs_cli
from faultfinder.model import Status
from faultfinder.monitor import cli as monitor_cli
from faultfinder.redact import scrub
from faultfinder.report.json import render_json
from faultfinder.report.text import render_text
from faultfinder.runner import run_diagnosis
from faultfinder.serve import cli as serve_cli
from faultfinder.validate import cli as validate_cli

# Front ends beyond diagnose/check, each a module of its own with ``COMMANDS`` (the subcommand
# names it adds, e.g. ``COMMANDS = ("lab",)``), ``add_parser(commands)`` and ``run(args) -> int``.
FRONT_ENDS: tuple[ModuleType, ...] = (lab_cli, validate_cli, serve_cli, monitor_cli, logs_cli)

EXIT_STATUS = {Status.HEALTHY: 0, Status.DEGRADED: 1, Status.DOWN: 1}


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad call."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="faultfinder", description=__doc__)
    parser.add_argument("--version", action="version", version=f"faultfinder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("diagnose", help="probe every component and name the fault")
    run.add_argument("stack", help="the stack file (YAML)")
    run.add_argument("--json", action="store_true", help="print the JSON document of CONTRACT §3")
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    run.add_argument(
        "--logs", action="append", default=[], metavar="SOURCE", help="cite these logs' fault codes"
    )
    check = commands.add_parser("check", help="validate a stack file and exit")
    check.add_argument("stack", help="the stack file (YAML)")
    for module in FRONT_ENDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("diagnose", "check"):
        for module in FRONT_ENDS:
            if args.command in getattr(module, "COMMANDS", ()):
                return int(module.run(args))
    try:
        stack = load_stack(args.stack)
        if args.command == "check":
            print(f"{args.stack}: ok ({len(stack.components)} components)")
            return 0
        diagnosis = eventloop.run(run_diagnosis(stack))
        logs = None
        if args.logs:  # the logs' fault codes, cited next to the probes' (docs/logs.md)
            from faultfinder.logs.evidence import diagnosis_logs

            logs = diagnosis_logs(diagnosis, stack, args.logs)
    except FaultfinderError as error:
        print(f"faultfinder: error: {scrub(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    if args.json:
        text = render_json(diagnosis, stack.secrets)
        if logs is not None:
            from faultfinder.logs.evidence import add_to_json

            text = add_to_json(text, logs, stack.secrets)
        print(text)
    else:
        color = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        )
        print(render_text(diagnosis, stack.secrets, color=color), end="")
        if logs is not None:
            from faultfinder.logs.evidence import render_section

            print(render_section(logs, color=color), end="")
    return EXIT_STATUS[diagnosis.status]


if __name__ == "__main__":
    sys.exit(main())
