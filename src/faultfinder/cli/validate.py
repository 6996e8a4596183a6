"""``faultfinder validate`` and ``faultfinder report``: proving a fix, and the hand-off.

``validate STACK`` repeats the probes and judges them against the stack file's criteria (exit
0 when every criterion holds, 1 when one does not, 2 for a bad file or call); ``report STACK``
writes the Markdown hand-off from a diagnosis (fresh, or a saved ``diagnose --json``) and a
saved validation. Probing, diagnosing and judging happen in ``faultfinder.validate``; this
reads the call, runs, renders and writes the files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from faultfinder import eventloop, terminal
from faultfinder.cli.arguments import COMPONENT_KEYS, color
from faultfinder.config import Stack, ValidationSpec, load_stack
from faultfinder.diagnosis import run_diagnosis
from faultfinder.errors import UsageError
from faultfinder.model import Grade
from faultfinder.redact import Redactor
from faultfinder.report.handoff import render_handoff
from faultfinder.report.json import diagnosis_document
from faultfinder.report.junit import render_junit
from faultfinder.report.markdown import render_markdown
from faultfinder.validate.criteria import rounds_needed
from faultfinder.validate.document import (
    DIAGNOSIS_SCHEMA,
    SCHEMA,
    load_document,
    render_document,
    validation_document,
)
from faultfinder.validate.logcheck import log_document
from faultfinder.validate.runner import run_validation, sign
from faultfinder.validate.view import progress, render_text

Renderer = Callable[[dict[str, Any], Redactor], str]
FORMATS: dict[str, Renderer] = {
    "json": lambda document, redactor: render_document(document, redactor) + "\n",
    "junit": render_junit,
    "markdown": render_markdown,
}


def run(args: argparse.Namespace) -> int:
    if args.command == "validate":
        return validate(args)
    return report(args)


def validate(args: argparse.Namespace) -> int:
    """``faultfinder validate``: 0 when every criterion holds, 1 when one does not."""
    if len(args.report) != len(args.out):
        raise UsageError("give each --report FORMAT its own --out FILE")
    stack = load_stack(args.stack)
    spec = _spec(stack, args)
    interactive = sys.stdout.isatty() and not args.json
    if interactive:
        total = rounds_needed(stack, spec) * len(stack.components)
        with progress(total, terminal.console()) as observe:
            validation = eventloop.run(
                run_validation(stack, spec, on_check=observe, **_log_options(args))
            )
    else:
        validation = eventloop.run(run_validation(stack, spec, **_log_options(args)))
    if args.sign_off:
        validation = sign(validation, args.sign_off)
    document = validation_document(validation)
    for kind, path in zip(args.report, args.out, strict=True):
        _write(path, FORMATS[kind](document, stack.redactor))
    if args.json:
        print(render_document(document, stack.redactor))
    else:
        colored = color(args.color, interactive=interactive)
        print(render_text(document, stack.redactor, color=colored), end="")
    return 0 if validation.outcome is Grade.PASS else 1


def _log_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"logs": args.logs, "logs_since": args.logs_since}


def _spec(stack: Stack, args: argparse.Namespace) -> ValidationSpec:
    """The stack's ``validation:`` section with the command line's overrides applied."""
    data = stack.validation.model_dump(exclude_none=True)
    for key, value in (
        ("repetitions", args.repetitions),
        ("interval", args.interval),
        ("pass_rate", args.pass_rate),
    ):
        if value is not None:
            data[key] = value
    for option in args.component:
        name, values = _component_option(option)
        if name not in stack.components:
            known = ", ".join(sorted(stack.components))
            raise UsageError(f"--component {option}: names no component; known: {known}")
        entry = data.setdefault("components", {}).setdefault(name, {})
        for key, value in values.items():
            if key == "tls.min_days_left":
                entry.setdefault("tls", {})["min_days_left"] = value
            else:
                entry[key] = value
    try:
        return ValidationSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        raise UsageError(f"{where}: {reason}") from None


def _component_option(option: str) -> tuple[str, dict[str, str]]:
    """``redis:consecutive=20,p95_ms=50`` → ``("redis", {"consecutive": "20", ...})``."""
    name, _, rest = option.partition(":")
    values: dict[str, str] = {}
    for pair in filter(None, rest.split(",")):
        key, equals, value = pair.partition("=")
        if key.strip() not in COMPONENT_KEYS or not equals:
            raise UsageError(
                f"--component {option}: expected NAME:KEY=VALUE with KEY one of "
                f"{', '.join(COMPONENT_KEYS)}"
            )
        values[key.strip()] = value.strip()
    if not name or not values:
        raise UsageError(f"--component {option}: expected NAME:KEY=VALUE[,KEY=VALUE]")
    return name, values


def report(args: argparse.Namespace) -> int:
    """``faultfinder report``: write the hand-off document."""
    stack = load_stack(args.stack)
    saved = load_document(args.diagnosis, DIAGNOSIS_SCHEMA) if args.diagnosis else None
    validation = load_document(args.validation, SCHEMA) if args.validation else None
    for path, document in ((args.diagnosis, saved), (args.validation, validation)):
        if document is not None and document["stack"] != stack.name:
            raise UsageError(
                f"{path} is about stack {document['stack']!r}, not {stack.name!r} ({stack.path})"
            )
    diagnosis = saved or diagnosis_document(eventloop.run(run_diagnosis(stack)))
    logs = log_document(stack, args.logs) if args.logs else None
    text = render_handoff(stack, diagnosis, validation, logs)
    if args.out:
        _write(args.out, text)
    else:
        print(text, end="")
    return 0


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
