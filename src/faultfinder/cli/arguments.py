"""The built-in commands' arguments: every ``faultfinder`` call builds these parsers, so this
module imports nothing beyond argparse; the work is in the command's own module."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# Each command → the module of this package that runs it (``run(args) -> int``).
MODULES = {
    "diagnose": "diagnose",
    "check": "diagnose",
    "validate": "validate",
    "report": "validate",
    "watch": "monitor",
    "history": "monitor",
    "serve": "serve",
    "logs": "logs",
    "rules": "rules",
    "init": "scaffold",
    "health-check": "healthcheck",
}
REPORT_FORMATS = ("json", "junit", "markdown")
COMPONENT_KEYS = ("consecutive", "p95_ms", "max_ms", "tls.min_days_left")
DEFAULT_LISTEN = "127.0.0.1:9180"


def color(choice: str, *, interactive: bool | None = None) -> bool:
    """``--color auto|always|never``: auto colours a terminal unless NO_COLOR is set."""
    if choice == "auto":
        tty = sys.stdout.isatty() if interactive is None else interactive
        return tty and "NO_COLOR" not in os.environ
    return choice == "always"


def add_parsers(commands: Any) -> None:
    """Every built-in command's parser, in the order ``--help`` lists them."""
    for add in (_diagnose, _validate, _monitor, _serve, _rules, _logs, _init, _health_check):
        add(commands)


def _health_check(commands: Any) -> None:
    check = commands.add_parser(
        "health-check",
        help="exit 0 if an app's health endpoint passes, 1 if not (a container HEALTHCHECK)",
    )
    check.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/health/ready")
    check.add_argument(
        "--timeout", type=float, default=2.0, help="seconds for the whole check (default 2)"
    )
    check.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeatable), e.g. 'Authorization: Bearer …'",
    )


def _diagnose(commands: Any) -> None:
    run = commands.add_parser("diagnose", help="probe every component and name the fault")
    run.add_argument("stack", help="the stack file (YAML)")
    run.add_argument(
        "--json", action="store_true", help="print the JSON document (docs/contract.md §3)"
    )
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    run.add_argument(
        "--logs", action="append", default=[], metavar="SOURCE", help="cite these logs' fault codes"
    )
    run.add_argument(
        "--prometheus",
        metavar="URL",
        help="probe nothing: read every agent's view (serve --agent) from this Prometheus and "
        "say which vantage points see each fault",
    )
    run.add_argument(
        "--staleness",
        default="5m",
        metavar="DURATION",
        help="with --prometheus: an agent that has not probed for this long is stale (default 5m)",
    )
    run.add_argument(
        "--query-timeout",
        default="10s",
        metavar="DURATION",
        help="with --prometheus: the deadline of the queries, all together (default 10s)",
    )
    run.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="FILE",
        help="the platform's own description: gcloud/kubectl/docker compose output, - for stdin "
        "(docs/platform.md; repeatable)",
    )
    check = commands.add_parser("check", help="validate a stack file and exit")
    check.add_argument("stack", help="the stack file (YAML)")


def _validate(commands: Any) -> None:
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


def _monitor(commands: Any) -> None:
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


def _serve(commands: Any) -> None:
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
        "--agent",
        metavar="NAME",
        help="this agent's name in a shared history (default: host name); given, every "
        "/metrics series of the stack carries agent=NAME (a vantage point)",
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
    serve.add_argument(
        "--max-probes",
        type=int,
        default=200,
        metavar="N",
        help="/probe requests probed at once; more are refused with 503 (default 200)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes answering /probe on the one port (default: the number of cores; "
        "1: a single process)",
    )


def _rules(commands: Any) -> None:
    rules = commands.add_parser(
        "rules", help="write Prometheus alerting and recording rules for the stack's agents"
    )
    rules.add_argument("stack", help="the stack file (YAML)")
    rules.add_argument(
        "--for",
        dest="down_for",
        default="5m",
        metavar="DURATION",
        help="alert when a component has been down this long from an agent (default 5m)",
    )
    rules.add_argument(
        "--changed-within",
        default="5m",
        metavar="DURATION",
        help="a root cause newer than this is a change (default 5m)",
    )
    rules.add_argument("--out", metavar="FILE", help="write here instead of to stdout")


def _logs(commands: Any) -> None:
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
    logs.add_argument(
        "--events",
        action="store_true",
        help="print each line with a fault code as it is found, one JSON object a line "
        "(JSON Lines), instead of the summary",
    )
    logs.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def _init(commands: Any) -> None:
    init = commands.add_parser(
        "init",
        help="write a stack file from a docker-compose.yml, Kubernetes manifests, a Cloud Run "
        "export or a .env",
    )
    init.add_argument(
        "source", help="a Compose file, a directory of manifests, a Cloud Run export, a .env"
    )
    init.add_argument(
        "--out", default="stack.yaml", metavar="FILE", help="where to write it (- for stdout)"
    )
    init.add_argument(
        "--force", action="store_true", help="replace FILE if it exists (default: show the diff)"
    )
