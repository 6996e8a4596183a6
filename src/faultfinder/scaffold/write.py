"""A ``Scaffold`` → the stack file's text: commented YAML that ``faultfinder check`` accepts,
with every secret as a ``${NAME}`` reference; and the diff against a file already there."""

from __future__ import annotations

import difflib
import json
import re

from faultfinder.config import parse_stack
from faultfinder.errors import ConfigError, printable
from faultfinder.scaffold.model import Draft, Scaffold

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(scaffold: Scaffold) -> str:
    variables = sorted(scaffold.variables | _referenced(scaffold))
    lines = [
        f"# Stack file written by `faultfinder init {_comment(scaffold.source)}`; edit it freely:",
        "# re-running init shows what changed in the source instead of overwriting this file.",
        "# Each component's comment says where it came from (docs/platform.md, `init`).",
    ]
    if variables:
        lines.append("# Secrets are never written here. Set these variables before `faultfinder")
        lines.append("# check` or `diagnose`: " + ", ".join(variables))
    if scaffold.skipped:
        lines.append("# Not made components:")
        lines += [f"#   {_comment(reason)}" for reason in scaffold.skipped]
    lines += ["version: 1", f"name: {_scalar(scaffold.name)}", "components:"]
    if not scaffold.components:
        lines[-1] = "components: {}"
    for name, draft in scaffold.components.items():
        lines += _component(name, draft)
    return "\n".join(lines) + "\n"


def _component(name: str, draft: Draft) -> list[str]:
    lines = [f"  # {_comment(draft.comment)}", f"  {_key(name)}:", f"    url: {_scalar(draft.url)}"]
    if draft.via:
        lines.append(f"    via: {_list(draft.via)}")
    if draft.depends_on:
        lines.append(f"    depends_on: {_list(draft.depends_on)}")
    if draft.health:
        lines.append("    health: true")
    if draft.critical:
        lines.append("    critical: true")
    if draft.platform and draft.platform != name:
        lines.append(f"    platform: {_scalar(draft.platform)}")
    lines += [f"    # {_comment(note)}" for note in draft.notes]
    return lines


def prune(scaffold: Scaffold) -> Scaffold:
    """Drop each component whose URL, built from what the source says, does not load (a
    service name that is no host name, say), and every edge to it; say why in the header."""
    for name in list(scaffold.components):
        alone = Draft(url=scaffold.components[name].url, comment="")
        single = Scaffold(scaffold.name, scaffold.source, {name: alone}, set(scaffold.variables))
        reason = why_not_loading(render(single), single, "<component>")
        if reason is not None:
            del scaffold.components[name]
            scaffold.skipped.append(f"{name}: its address from the source does not load ({reason})")
    for draft in scaffold.components.values():
        draft.depends_on = [n for n in draft.depends_on if n in scaffold.components]
        draft.via = [n for n in draft.via if n in scaffold.components]
    return scaffold


def check(text: str, scaffold: Scaffold, file: str) -> None:
    """What init writes must load; if it does not, that is init's bug, said in one line."""
    reason = why_not_loading(text, scaffold, file)
    if reason is not None:
        raise ConfigError(
            f"init wrote a stack file that does not load ({reason}); please report it",
            file=scaffold.source,
        )


def why_not_loading(text: str, scaffold: Scaffold, file: str) -> str | None:
    """Why the text does not load as a stack file, each variable standing in with a
    placeholder; None when it loads."""
    environment = {
        # a variable that holds a whole URL needs one that parses
        name: "https://placeholder.invalid" if name.endswith("_URL") else "placeholder"
        for name in scaffold.variables | _referenced(scaffold)
    }
    try:
        parse_stack(text, file, environment)
    except ConfigError as error:
        return error.reason
    return None


def diff(old: str, new: str, file: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), file, f"{file} (new)"
        )
    )


def _referenced(scaffold: Scaffold) -> set[str]:
    return {
        match for draft in scaffold.components.values() for match in _REFERENCE.findall(draft.url)
    }


def _scalar(value: str) -> str:
    # JSON strings are YAML strings: quotes, escapes and `#` all read back as written.
    return json.dumps(value, ensure_ascii=False)


def _key(name: str) -> str:
    return name if _PLAIN.fullmatch(name) else _scalar(name)


def _list(names: list[str]) -> str:
    return "[" + ", ".join(_key(name) for name in names) + "]"


def _comment(text: str) -> str:
    return printable(" ".join(text.split()))
