"""A validation as Markdown, for people and tickets; also the blocks the hand-off reuses.

Renders the ``faultfinder.validation/v1`` document, every string redacted first.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from faultfinder.diagnosis import narrative
from faultfinder.model import CauseGroup
from faultfinder.redact import INLINE, Redactor
from faultfinder.validate.criteria import percent
from faultfinder.validate.document import failure_line

RESULTS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_evaluated": "not evaluated"}


def render_markdown(document: dict[str, Any], redactor: Redactor = INLINE) -> str:
    validation = redactor.document(document)
    lines = [f"# Validation: {validation['stack']} — {result(validation['result'])}", ""]
    lines += run_table(validation)
    lines += ["", "## Criteria", ""]
    lines += criteria_table(validation["criteria"])
    failed = [c for c in validation["criteria"] if c["result"] == "fail" and c.get("detail")]
    if failed:
        lines.append("")
        lines += [f"- **{c['name']}** of `{c['subject']}`: {flat(c['detail'])}" for c in failed]
    lines += causes(validation)
    lines += ["", "## Categories", ""]
    lines += categories(validation)
    if validation["notes"]:
        lines += ["", "## Notes", ""]
        lines += [f"- {flat(note)}" for note in validation["notes"]]
    lines += ["", *sign_off_block(validation, validation["stack_file"])]
    return redactor("\n".join(lines).rstrip() + "\n")


def causes(validation: dict[str, Any]) -> list[str]:
    """The causes the repetitions found, by shared cause, told as every front end tells them
    (diagnosis.narrative): its title and figures once, its members, one remediation."""
    groups = validation.get("groups") or []  # a document saved before groups has none
    if not groups:
        return []
    total = validation["settings"]["repetitions"]
    lines = ["", "## Causes", ""]
    for number, saved in enumerate(groups, 1):
        group = CauseGroup.from_json(saved)
        seen = f" (in {len(saved['repetitions'])} of {total} repetitions)"
        for line in narrative.group_lines(group, {}, f"{number}. "):
            if line.kind == narrative.GROUP:
                lines += [f"### {flat(line.text)}{seen}", ""]
            elif line.kind == narrative.FIX:
                lines += ["", f"Remediation: {flat(line.text)}", ""]
            else:
                lines.append(f"- {flat(line.text)}")
    return lines[:-1] if lines[-1] == "" else lines


def run_table(validation: dict[str, Any]) -> list[str]:
    settings, totals = validation["settings"], validation["totals"]
    critical = ", ".join(settings["critical_categories"]) or "(none)"
    rows = [
        ("stack file", f"`{validation['stack_file']}`"),
        ("started", validation["started_at"]),
        ("duration", f"{validation['duration_ms'] / 1000:.1f} s"),
        (
            "repetitions",
            f"{settings['repetitions']} per component, every {settings['interval_ms']:g} ms",
        ),
        ("pass rate required", f"≥ {percent(settings['pass_rate'])}"),
        ("critical categories", critical),
        (
            "checks",
            f"{totals['passes']}/{totals['checks']} pass ({percent(totals['pass_rate'])})",
        ),
    ]
    return table(("", ""), rows)


def criteria_table(criteria: Sequence[dict[str, Any]]) -> list[str]:
    rows = [
        (c["name"], f"`{c['subject']}`", c["expected"], c["actual"], result(c["result"]))
        for c in criteria
    ]
    return table(("criterion", "subject", "expected", "actual", "result"), rows)


def categories(validation: dict[str, Any]) -> list[str]:
    components = {component["name"]: component for component in validation["components"]}
    lines: list[str] = []
    for category in validation["categories"]:
        critical = "critical" if category["critical"] else "not critical"
        lines += [
            f"### {category['name']} ({critical}) — {result(category['result'])}, "
            f"{category['passes']}/{category['checks']} checks pass "
            f"({percent(category['pass_rate'])})",
            "",
        ]
        members = [components[name] for name in category["components"]]
        rows = [
            (
                f"`{c['name']}`",
                str(c["checks"]),
                str(c["passes"]),
                percent(c["pass_rate"]),
                f"{c['latency_ms']['p95']:.1f}",
                f"{c['latency_ms']['max']:.1f}",
                str(c["longest_streak"]),
                result(c["result"]),
            )
            for c in members
        ]
        header = ("component", "checks", "passes", "pass rate", "p95 ms", "max ms", "streak")
        lines += table((*header, "result"), rows)
        failures = [
            f"- {flat(failure_line(c['name'], failure, c['checks']))}"
            for c in members
            for failure in c["failures"]
        ]
        if failures:
            lines += ["", "Failures:", "", *failures]
        lines.append("")
    return lines


def sign_off_block(validation: dict[str, Any] | None, stack_file: str) -> list[str]:
    """The sign-off: who, when, the result and the criteria's figures; blank until signed."""
    lines = ["## Sign-off", ""]
    sign_off = validation.get("sign_off") if validation else None
    if not sign_off:
        command = f"faultfinder validate {shlex.quote(stack_file)} --sign-off NAME"
        lines += table(("", ""), [("signed off by", " "), ("when", " "), ("result", " ")])
        lines += [
            "",
            f"Not signed off yet: `{command} --report json --out validation.json` fills this "
            "block (pass the file to `faultfinder report --validation`).",
        ]
        return lines
    assert validation is not None
    lines += table(
        ("", ""),
        [
            ("signed off by", sign_off["by"]),
            ("when", sign_off["at"]),
            ("result", result(sign_off["result"])),
            ("stack", f"{validation['stack']} (`{validation['stack_file']}`)"),
            ("run", f"{validation['started_at']}, {validation['totals']['checks']} checks"),
        ],
    )
    lines += ["", "Criteria and their figures at sign-off:", ""]
    lines += criteria_table(sign_off["criteria"])
    return lines


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row([cell(value) for value in row]) for row in rows]
    return lines


def cell(text: str) -> str:
    """Text safe inside a table cell: one line, pipes escaped."""
    return flat(text).replace("|", "\\|")


def flat(text: str) -> str:
    """Text on one line, for a list item or a heading."""
    return " ".join(str(text).split())


def result(outcome: str) -> str:
    label = RESULTS.get(outcome, outcome)
    return f"**{label}**" if outcome in ("pass", "fail") else label


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
