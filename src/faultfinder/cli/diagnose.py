"""``faultfinder diagnose STACK`` and ``faultfinder check STACK``: the main job, and the stack
file's validation alone.

Exit status of ``diagnose``: 0 all healthy, 1 something fails or warns, 2 the stack file or the
call is wrong (docs/contract.md §3).
"""

from __future__ import annotations

import argparse
import json

from faultfinder import eventloop
from faultfinder.cli.arguments import color
from faultfinder.clock import parse_duration
from faultfinder.config import Stack, load_stack
from faultfinder.diagnosis import run_diagnosis
from faultfinder.errors import QueryError, UsageError
from faultfinder.model import Diagnosis, Status
from faultfinder.platform import PlatformEvidence, conclude, read_platform_files
from faultfinder.platform import render as platform_render
from faultfinder.report.json import render_json
from faultfinder.report.text import render_text

EXIT_STATUS = {Status.HEALTHY: 0, Status.DEGRADED: 1, Status.DOWN: 1}


def run(args: argparse.Namespace) -> int:
    stack = load_stack(args.stack)
    if args.command == "check":
        print(f"{args.stack}: ok ({len(stack.components)} components)")
        return 0
    if args.prometheus:
        if args.platform:  # the agents' views carry no probe results to join platform files to
            raise UsageError("--platform cannot be used with --prometheus")
        diagnosis = _from_prometheus(args, stack)
        platform = None
    else:
        platform = _platform(args, stack)
        diagnosis = eventloop.run(run_diagnosis(stack, platform))
    if not args.logs and platform is None:
        return _show(args, diagnosis, stack)
    # The logs' fault codes, cited next to the probes' (docs/logs.md); the log scanner and its
    # regular-expression engine are imported only when asked for. The platform's findings
    # (docs/platform.md) come after them.
    logs = None
    if args.logs:
        from faultfinder.logs import evidence

        logs = evidence.diagnosis_logs(diagnosis, stack, args.logs)
    if args.json:
        text = render_json(diagnosis, stack.redactor)
        if logs is not None:
            text = evidence.add_to_json(text, logs, stack.redactor)
        if platform is not None:
            text = _add_platform(text, platform, args.platform, stack)
        print(text)
    else:
        colored = color(args.color)
        print(render_text(diagnosis, stack.redactor, color=colored), end="")
        if logs is not None:
            print(evidence.render_section(logs, color=colored), end="")
        if platform is not None:
            section = platform_render.text_section(platform, args.platform)
            print(stack.redactor(section), end="")
    return EXIT_STATUS[diagnosis.status]


def _from_prometheus(args: argparse.Namespace, stack: Stack) -> Diagnosis:
    """Every agent's view through Prometheus, joined (docs/serve.md, "Several vantage points");
    the Prometheus client is imported only when asked for."""
    from faultfinder.diagnosis.vantages import diagnose_vantages
    from faultfinder.serve.prometheus_api import read_views

    staleness = _duration("--staleness", args.staleness)
    timeout = _duration("--query-timeout", args.query_timeout)
    views, now = read_views(
        args.prometheus, stack.name, stack.components, staleness=staleness, timeout=timeout
    )
    diagnosis = diagnose_vantages(stack, views, now=now, staleness=staleness)
    if not diagnosis.components:
        seen = ", ".join(agent.name for agent in diagnosis.agents) or "none"
        raise QueryError(
            f"no agent has probed {stack.name}'s components within {args.staleness} "
            f"(agents Prometheus holds: {seen})"
        )
    return diagnosis


def _duration(option: str, text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None
    if seconds <= 0:
        raise UsageError(f"{option}: must be more than 0")
    return seconds


def _show(args: argparse.Namespace, diagnosis: Diagnosis, stack: Stack) -> int:
    if args.json:
        print(render_json(diagnosis, stack.redactor))
    else:
        print(render_text(diagnosis, stack.redactor, color=color(args.color)), end="")
    return EXIT_STATUS[diagnosis.status]


def _platform(args: argparse.Namespace, stack: Stack) -> PlatformEvidence | None:
    """The platform files, read before any probe: a bad one is exit 2 with nothing probed."""
    names = getattr(args, "platform", [])
    return conclude(stack, read_platform_files(names)) if names else None


def _add_platform(text: str, platform: PlatformEvidence, files: list[str], stack: Stack) -> str:
    """``diagnose --json``'s document with the ``platform`` key added, formatted as before."""
    document = json.loads(text)
    document["platform"] = platform_render.to_json(platform, files)
    return stack.redactor(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
