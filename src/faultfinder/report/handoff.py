"""The hand-off document: from a diagnosis (and a validation) to what each team must do.

Markdown, in this order: summary and verdict; per root cause its evidence, explanation and
remediation; the why-chain; action items grouped by owner; success criteria for the fix,
generated from what failed, with the exact ``faultfinder validate`` command that checks them;
the validation's results when one is given; and the sign-off block. Every string of both
documents is redacted with the stack's secrets before it is rendered.
"""

from __future__ import annotations

from typing import Any

from faultfinder.config import Stack
from faultfinder.diagnosis import narrative
from faultfinder.faults import FAULTS, Owner
from faultfinder.report.markdown import (
    criteria_table,
    flat,
    result,
    run_table,
    sign_off_block,
)
from faultfinder.validate.suggest import baseline, command, stack_section, suggest

OWNERS: dict[str, str] = {
    Owner.INFRASTRUCTURE: "Infrastructure",
    Owner.APPLICATION: "Application",
    Owner.CONFIGURATION: "Configuration",
    Owner.UNKNOWN: "Unknown owner: investigate first",
}


def render_handoff(
    stack: Stack,
    diagnosis: dict[str, Any],
    validation: dict[str, Any] | None = None,
    logs: dict[str, Any] | None = None,
) -> str:
    redactor = stack.redactor
    diagnosis = redactor.document(diagnosis)
    validation = redactor.document(validation) if validation is not None else None
    lines = [f"# Hand-off: {diagnosis['stack']} — {diagnosis['status']}", ""]
    story = narrative.Story.from_document(diagnosis)
    lines += _summary(stack, diagnosis)
    lines += _root_causes(story)
    if diagnosis.get("agents"):  # a `diagnose --prometheus`: which agents saw what
        lines += _vantages(diagnosis)
    lines += _why(diagnosis)
    if logs is not None:
        lines += _log_evidence(stack, diagnosis, logs)
    lines += _actions(story, diagnosis)
    lines += _criteria(stack, diagnosis)
    if validation is not None:
        lines += [f"## Validation — {result(validation['result'])}", ""]
        lines += run_table(validation)
        lines += ["", *criteria_table(validation["criteria"]), ""]
    lines += sign_off_block(validation, stack.path)
    return redactor("\n".join(lines).rstrip() + "\n")


def _log_evidence(stack: Stack, diagnosis: dict[str, Any], logs: dict[str, Any]) -> list[str]:
    """What the logs say, next to what the probes say: each code, how often, since when."""
    sources = ", ".join(source["name"] for source in logs["sources"])
    lines = ["## Log evidence", "", f"From {sources} ({logs['lines']} lines).", ""]
    if not logs["codes"]:
        return [*lines, "No known failure signature in these logs.", ""]
    probed = {cause["code"] for cause in diagnosis["root_causes"]}
    lines += [
        "| code | owner | lines | first seen | last seen | components | agrees with a root cause |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in logs["codes"]:
        components = ", ".join(entry["components"]) or "-"
        agrees = "yes" if entry["code"] in probed else "no"
        lines.append(
            f"| `{entry['code']}` | {entry['owner']} | {entry['count']} | {entry['first_seen']} "
            f"| {entry['last_seen']} | {components} | {agrees} |"
        )
    lines.append("")
    for entry in logs["codes"]:
        for example in entry["examples"][:2]:
            lines.append(f"- `{entry['code']}`: `{flat(example['text'])}`")
    codes = ", ".join(entry["code"] for entry in logs["codes"])
    lines += [
        "",
        f"To prove these are gone after the fix, add `log_absent: [{codes}]` to `validation:` "
        f"and run `faultfinder validate {stack.path} --logs SOURCE --logs-since <fix time>`.",
        "",
    ]
    return lines


def _vantages(diagnosis: dict[str, Any]) -> list[str]:
    """Each component as each agent saw it: a fault every agent sees is the component's own,
    one only some see is their path's (docs/serve.md, "Several vantage points")."""
    fresh = [agent["name"] for agent in diagnosis["agents"] if not agent["stale"]]
    lines = ["## Vantage points", "", "| component | " + " | ".join(fresh) + " |"]
    lines.append("|---|" + "---|" * len(fresh))
    for component in diagnosis["components"]:
        seen = {v["agent"]: v for v in component.get("vantages", ())}
        cells = [
            "—" if name not in seen else seen[name]["code"] or seen[name]["status"]
            for name in fresh
        ]
        lines.append(f"| {component['name']} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [
        f"- **Stale:** {agent['name']} (last probe {agent['last_probe']}): its view is left out"
        for agent in diagnosis["agents"]
        if agent["stale"]
    ]
    return [*lines, ""] if lines[-1] else lines


def _summary(stack: Stack, diagnosis: dict[str, Any]) -> list[str]:
    verdict = diagnosis["verdict"]
    # faultfinder's own footing in doubt leads: every line below may be this machine's fault
    doubts = [f"> **Footing in doubt:** {flat(note)}" for note in diagnosis.get("notes", ())]
    return [
        "## Summary",
        "",
        f"**{flat(verdict['summary'])}**",
        "",
        *([*doubts, ""] if doubts else []),
        f"- **Status:** {diagnosis['status']}",
        f"- **Owner:** {verdict['owner']}",
        f"- **Confidence:** {verdict['confidence']:.2f}",
        f"- **Diagnosed:** {diagnosis['started_at']} (in {diagnosis['duration_ms']:.0f} ms)",
        f"- **Stack file:** `{stack.path}`",
        "",
    ]


# The story's lines (diagnosis.narrative) as Markdown: the same groups as every front end.
_MARKDOWN = {
    narrative.GROUP: "### {}",
    narrative.EXPLANATION: "{}",
    narrative.MEMBER: "- {}",
    narrative.EVIDENCE: "- {}",
    narrative.FIX: "Remediation: {}",
}


def _root_causes(story: narrative.Story) -> list[str]:
    """One section per cause: components that share one are one section, told once."""
    lines = ["## Root causes", ""]
    if not story.groups:
        return [*lines, "None: every component passed.", ""]
    for number, group in enumerate(story.groups, 1):
        for line in narrative.group_lines(group, story.causes, f"{number}. "):
            text = _code(line.text) if line.kind == narrative.EVIDENCE else flat(line.text)
            lines += [_MARKDOWN[line.kind].format(text), ""]
    return _tight_lists(lines)


def _tight_lists(lines: list[str]) -> list[str]:
    """No blank line between the items of one list."""
    return [
        line
        for index, line in enumerate(lines)
        if line
        or not (
            0 < index < len(lines) - 1
            and lines[index - 1].startswith("- ")
            and lines[index + 1].startswith("- ")
        )
    ]


def _code(text: str) -> str:
    """Evidence verbatim as inline code (a backtick inside would end it early)."""
    return "`" + flat(text).replace("`", "'") + "`"


def _why(diagnosis: dict[str, Any]) -> list[str]:
    if not diagnosis["why"]:
        return []
    lines = ["## Why (five whys)", ""]
    lines += [f"{number}. {flat(line)}" for number, line in enumerate(diagnosis["why"], 1)]
    return [*lines, ""]


def _actions(story: narrative.Story, diagnosis: dict[str, Any]) -> list[str]:
    """One checklist per owner: one item per cause (however many components share it) and per
    warning."""
    items: dict[str, list[str]] = {}
    for group in story.groups:
        seen_from = "" if group.vantage == "faultfinder" else f", seen from {group.vantage}"
        shared = f" on {group.where}" if len(group.members) > 1 else ""
        items.setdefault(group.owner, []).append(
            f"- [ ] **{', '.join(group.members)}** (`{group.code}`{shared}{seen_from}): "
            f"{flat(group.remediation)}"
        )
    for report in diagnosis["components"]:
        warning = report.get("warning")
        if warning in FAULTS and report["status"] != "down":
            entry = FAULTS[warning]
            items.setdefault(entry.owner, []).append(
                f"- [ ] **{report['name']}** (`{warning}`, a warning): {flat(entry.remediation)}"
            )
    lines = ["## Action items by owner", ""]
    if not items:
        return [*lines, "Nothing to do: no root cause and no warning.", ""]
    order: list[str] = list(OWNERS)
    for owner in sorted(items, key=lambda o: (order.index(o) if o in order else len(order), o)):
        lines += [f"### {OWNERS.get(owner, owner.capitalize())}", "", *items[owner], ""]
    return lines


def _criteria(stack: Stack, diagnosis: dict[str, Any]) -> list[str]:
    suggestions = suggest(stack, diagnosis)
    lines = ["## Success criteria for the fix", ""]
    lines += [f"- [ ] {flat(suggestion.text)}" for suggestion in suggestions]
    lines += [f"- [ ] {flat(line)}" for line in baseline(stack)]
    lines += [
        "",
        "Check them with:",
        "",
        "```sh",
        command(stack, suggestions),
        "```",
        "",
    ]
    if suggestions:
        lines += [
            "or keep them in the stack file:",
            "",
            "```yaml",
            stack_section(suggestions).rstrip(),
            "```",
            "",
        ]
    return lines
