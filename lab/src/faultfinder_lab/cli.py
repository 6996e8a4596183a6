"""``faultfinder lab up|break SCENARIO|fix|status|down|list|diagnose|demo``.

A plug-in of the ``faultfinder`` command line (the ``faultfinder.commands`` entry point):
``COMMANDS``, ``add_parsers`` and ``run``, which ``faultfinder.cli`` runs behind the wrapper
every command shares. Cheap to import: every ``faultfinder`` call builds this parser, so the
lab's own modules are imported only when a lab command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faultfinder_lab.control import Lab

COMMANDS = ("lab",)  # the subcommands this front end adds to `faultfinder`
DEFAULT_NAME = "ff-lab"  # the same as topology.DEFAULT_NAME, without importing it
DEMO_NAME = "ff-lab-demo"
INCIDENT = "app-resolver-dead"
GOLDEN_PATH = (
    "its golden path, the flow `golden_path` in the stack file: log in at "
    "https://api.edge.lab.internal/login through HAProxy,\nthen ask over "
    "ws://ws.lab.internal/ws/ask with the token, expecting the answer; log out"
)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = commands.add_parser(
        "lab",
        help="the fault lab: the incident's stack in a network namespace (Linux, root)",
        description="Real PostgreSQL, Redis, dnsmasq, HAProxy, nginx and a reference app in a "
        "network namespace, broken for real by scenarios (see `faultfinder lab list`).",
    )
    actions = lab.add_subparsers(
        dest="lab_command", metavar="COMMAND", required=True, parser_class=type(lab)
    )
    _with_lab(actions.add_parser("up", help="start the lab (idempotent)"))
    broken = _with_lab(actions.add_parser("break", help="apply a scenario (fixing any other)"))
    broken.add_argument("scenario", help="a scenario name from `faultfinder lab list`")
    _with_lab(actions.add_parser("fix", help="undo the current scenario; wait until healthy"))
    _with_lab(actions.add_parser("status", help="services, scenario and the stack file"))
    _with_lab(actions.add_parser("down", help="stop everything and delete the namespace"))
    actions.add_parser("list", help="the scenarios and what each breaks")
    diagnose = _with_lab(
        actions.add_parser("diagnose", help="run `faultfinder diagnose` inside the lab")
    )
    diagnose.add_argument("--json", action="store_true", help="the JSON document")
    diagnose.add_argument(
        "--platform",
        action="store_true",
        help="with the lab's services as `docker compose ps --format json` describes them",
    )
    _with_lab(
        actions.add_parser(
            "platform", help="the lab's services as `docker compose ps --format json` prints them"
        )
    )
    _with_lab(
        actions.add_parser(
            "described",
            help="`faultfinder init` the lab's Compose description, then diagnose that stack "
            "inside the lab with --platform",
        )
    )
    _with_lab(
        actions.add_parser("demo", help="up, break the incident, diagnose, fix, diagnose, down"),
        default_name=DEMO_NAME,
    )


def _with_lab(
    parser: argparse.ArgumentParser, default_name: str = DEFAULT_NAME
) -> argparse.ArgumentParser:
    parser.add_argument(
        "--name", default=default_name, help=f"the lab and its namespace (default {default_name})"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="where the lab keeps its state (default /run/faultfinder-lab/NAME)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    if args.lab_command == "list":
        return _list()
    from faultfinder_lab.environment import check_environment

    check_environment(f"faultfinder lab {args.lab_command}")
    from faultfinder_lab.control import Lab

    lab = Lab(args.name, args.state_dir, say=print)
    command = {
        "up": _up,
        "break": _break,
        "fix": _fix,
        "status": _status,
        "down": _down,
        "diagnose": _diagnose,
        "platform": _platform,
        "described": _described,
        "demo": _demo,
    }[args.lab_command]
    return command(lab, args)


def _list() -> int:
    from faultfinder_lab.scenarios import SCENARIOS

    width = max(len(name) for name in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        expected = scenario.expected
        print(f"{name:<{width}}  {scenario.summary}")
        seen = "" if expected.vantage == "faultfinder" else f", seen from {expected.vantage}"
        stops = f"; the golden path fails at {expected.flow_step}" if expected.flow_step else ""
        print(
            f"{'':<{width}}  → root cause {expected.component} {expected.code} "
            f"({expected.owner}{seen}){stops}"
        )
    return 0


def _up(lab: Lab, args: argparse.Namespace) -> int:
    if not lab.up():
        print(f"lab {lab.name} is already up")
    print(f"stack file: {lab.paths.stack}")
    print(f"next: faultfinder lab break {INCIDENT} --name {lab.name}")
    return 0


def _break(lab: Lab, args: argparse.Namespace) -> int:
    from faultfinder_lab.scenarios import SCENARIOS

    lab.break_scenario(args.scenario)
    print(f"broke {args.scenario}: {SCENARIOS[args.scenario].summary}")
    print(f"next: faultfinder lab diagnose --name {lab.name}")
    return 0


def _fix(lab: Lab, args: argparse.Namespace) -> int:
    fixed = lab.fix()
    print(
        f"fixed {fixed}; the lab is healthy" if fixed else "nothing was broken; the lab is healthy"
    )
    return 0


def _status(lab: Lab, args: argparse.Namespace) -> int:
    state = lab.require_up()
    print(f"lab {lab.name}: up (namespace {lab.name}, state {lab.paths.root})")
    print(f"scenario: {state.scenario or 'none'}")
    for label in state.processes:
        running = (
            "paused" if lab.paused(label) else "running" if lab.running(label) else "NOT RUNNING"
        )
        print(f"  {label:<13} {running:<12} pid {state.processes[label].pid}")
    stopped = sorted(_expected_services() - set(state.processes))
    for label in stopped:
        print(f"  {label:<13} {'stopped':<12} (by the scenario)")
    print(f"stack file: {lab.paths.stack} (secrets masked here; the file has them)")
    print(_masked_stack(lab.paths.stack), end="")
    print(f"diagnose: faultfinder lab diagnose --name {lab.name}")
    return 0


def _masked_stack(path: Path) -> str:
    from faultfinder.config import load_stack

    return load_stack(path).redactor(path.read_text())


def _expected_services() -> set[str]:
    from faultfinder_lab.services import ORDER

    return set(ORDER)


def _down(lab: Lab, args: argparse.Namespace) -> int:
    was_up = lab.state is not None
    lab.down()
    print(f"lab {lab.name} is down" if was_up else f"no lab {lab.name} was up; cleaned up")
    return 0


def _diagnose(lab: Lab, args: argparse.Namespace) -> int:
    import subprocess

    lab.require_up()
    arguments = (
        ["--json"] if args.json else ["--color", "always" if sys.stdout.isatty() else "never"]
    )
    if getattr(args, "platform", False):
        arguments += ["--platform", str(_write_compose_ps(lab))]
    sys.stdout.flush()
    return subprocess.run(lab.diagnose_command(*arguments), check=False).returncode


def _write_compose_ps(lab: Lab) -> Path:
    from faultfinder_lab.describe import compose_ps

    path = lab.paths.compose_ps
    path.write_text(compose_ps(lab))
    return path


def _platform(lab: Lab, args: argparse.Namespace) -> int:
    from faultfinder_lab.describe import compose_ps

    lab.require_up()
    print(compose_ps(lab), end="")
    return 0


def _described(lab: Lab, args: argparse.Namespace) -> int:
    """init → check → diagnose --platform, end to end, on the lab's Compose description."""
    import os
    import subprocess

    from faultfinder_lab.describe import COMPOSE_FILE, secrets_environment

    lab.require_up()
    stack = lab.paths.described
    faultfinder = [sys.executable, "-m", "faultfinder"]
    sys.stdout.flush()
    init = [*faultfinder, "init", str(COMPOSE_FILE), "--out", str(stack), "--force"]
    if subprocess.run(init, check=False).returncode != 0:
        return 2
    color = "always" if sys.stdout.isatty() else "never"
    command = [
        *lab.namespace_prefix,
        *faultfinder,
        "diagnose",
        str(stack),
        "--color",
        color,
        "--platform",
        str(_write_compose_ps(lab)),
    ]
    environment = {**os.environ, **secrets_environment(lab)}
    sys.stdout.flush()
    return subprocess.run(command, check=False, env=environment).returncode


def _demo(lab: Lab, args: argparse.Namespace) -> int:
    from faultfinder_lab.scenarios import SCENARIOS

    started = time.monotonic()
    _step(
        1,
        f"bringing up the lab {lab.name}: PostgreSQL, Redis ×2, dnsmasq ×2, HAProxy, nginx, app",
    )
    lab.up()
    try:
        print(GOLDEN_PATH)
        _step(2, f"breaking it like the incident ({INCIDENT}): {SCENARIOS[INCIDENT].summary}")
        lab.break_scenario(INCIDENT)
        _step(3, "faultfinder diagnose, from inside the lab:")
        _diagnose(lab, argparse.Namespace(json=False))
        print(
            "\n-- the same lab from the stack `faultfinder init` writes from its Compose "
            "description, with the platform's own word (`docker compose ps`):"
        )
        _described(lab, args)
        _step(4, "fixing it, and diagnosing again:")
        lab.fix()
        status = _diagnose(lab, argparse.Namespace(json=False))
    finally:
        _step(5, "tearing the lab down")
        lab.down()
    print(f"demo finished in {time.monotonic() - started:.0f}s")
    return status


def _step(number: int, text: str) -> None:
    print(f"\n== {number}/5 {text}", flush=True)
