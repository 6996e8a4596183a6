"""``diagnose --logs SOURCE``: the fault codes logs show, cited next to the probes' root causes.

A log code *agrees* with a root cause when the codes are equal and the lines come from that
component, from a component that depends on it or sits in front of it (its clients write
"Error 111 connecting to …" about it), from the vantage that saw it, or from no component in
particular.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.text import Text

from faultfinder import terminal
from faultfinder.config import Stack
from faultfinder.logs.collection import collect
from faultfinder.logs.summary import Attribution, Summary
from faultfinder.model import Diagnosis
from faultfinder.redact import Redactor


def diagnosis_logs(diagnosis: Diagnosis, stack: Stack, sources: Sequence[str]) -> dict[str, Any]:
    """The ``logs`` key of ``diagnose --json``: each log code, and the root causes it agrees
    with."""
    summary = collect(sources, Summary(Attribution(dict(stack.logs.components)), stack.redactor))
    document = summary.document()
    codes = []
    for entry in document["codes"]:
        components = set(entry["components"])
        agrees = sorted(
            cause.component
            for cause in diagnosis.root_causes
            if cause.code == entry["code"]
            and components
            & {cause.component, cause.vantage, "-", *_clients(stack, cause.component)}
        )
        codes.append({**_brief(entry), "agrees_with": agrees})
    return {
        "sources": document["sources"],
        "lines": document["lines"],
        "codes": codes,
        "unclassified": document["unclassified"]["count"],
    }


def _clients(stack: Stack, name: str) -> set[str]:
    """The components whose ``depends_on`` or ``via`` name ``name``."""
    return {
        client
        for client, component in stack.components.items()
        if name in component.spec.depends_on or name in component.spec.via
    }


def add_to_json(text: str, logs: dict[str, Any], redactor: Redactor) -> str:
    """``diagnose --json``'s document with the ``logs`` key added, formatted as before."""
    document = json.loads(text)
    document["logs"] = logs
    return redactor(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


def render_section(logs: dict[str, Any], *, color: bool = False, width: int = 120) -> str:
    """The text section ``diagnose --logs`` prints after the diagnosis."""
    names = ", ".join(source["name"] for source in logs["sources"])
    lines: list[Text] = [
        Text(
            f"logs ({names}): {len(logs['codes'])} fault codes in {logs['lines']:,} lines",
            style="bold",
        )
    ]
    for entry in logs["codes"]:
        components = ", ".join(f"{name} {count}" for name, count in entry["components"].items())
        line = Text(f"  {entry['code']} ×{entry['count']} ({entry['owner']}) from {components}")
        if entry["agrees_with"]:
            agrees = ", ".join(entry["agrees_with"])
            line.append(f" — agrees with root cause {agrees}", style="green")
        lines.append(line)
        lines.append(Text(f"    seen {entry['first_seen'] or '-'} to {entry['last_seen'] or '-'}"))
        for example in entry["examples"][:1]:
            where = f"{example['source']}:{example['line']}"
            lines.append(Text(f"    {where}  {example['text']}", style="dim"))
    if logs["unclassified"]:
        lines.append(
            Text(
                f"  {logs['unclassified']:,} unclassified error lines (see `faultfinder logs`)",
                style="dim",
            )
        )
    console = terminal.console(
        width=width, record=True, force_terminal=color, no_color=not color, file=io.StringIO()
    )
    console.print(Group(*lines))
    return console.export_text(styles=color)


def _brief(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("code", "owner", "count", "first_seen", "last_seen", "components", "examples")
    return {key: entry[key] for key in keys}
