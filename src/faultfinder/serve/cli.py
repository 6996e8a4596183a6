"""``faultfinder serve [STACK]``: the metrics, probe and dashboard server (docs/serve.md).

Every ``faultfinder`` call imports this module to build its parser, so it stays light: the
server (uvicorn, Starlette, prometheus-client, the monitor) is imported only when ``serve`` runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from faultfinder.errors import FaultfinderError
from faultfinder.redact import scrub

COMMANDS = ("serve",)
DEFAULT_LISTEN = "127.0.0.1:9180"


def add_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve /metrics, a blackbox-compatible /probe, /api/status and a dashboard",
    )
    serve.add_argument(
        "stack", nargs="?", help="the stack file to monitor (without it: /probe and /metrics only)"
    )
    serve.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to listen (default {DEFAULT_LISTEN})",
    )
    serve.add_argument(
        "--modules", metavar="FILE", help="more /probe modules, in blackbox_exporter's shape"
    )
    serve.add_argument(
        "--store",
        metavar="URL",
        help="a SQLite path or postgresql:// URL; default: history.store, "
        "else STACK's name with .history.db",
    )
    serve.add_argument(
        "--agent", metavar="NAME", help="this agent's name in a shared history (default: host name)"
    )
    serve.add_argument("--no-history", action="store_true", help="keep no history")
    serve.add_argument(
        "--no-alerts",
        action="store_true",
        help="ignore the alerts: section (when a `watch` elsewhere sends them)",
    )
    serve.add_argument(
        "--refresh", default="5s", metavar="DURATION", help="how often the dashboard reloads"
    )


def run(args: argparse.Namespace) -> int:
    from faultfinder.serve import command

    try:
        return command.serve(args)
    except FaultfinderError as error:
        print(f"faultfinder: error: {scrub(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
