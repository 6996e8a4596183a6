"""``faultfinder rules STACK``: the stack's Prometheus alerting and recording rules, as YAML
(``serve.rules``), on stdout or into ``--out``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from faultfinder.config import load_stack
from faultfinder.errors import UsageError
from faultfinder.serve.rules import rules_document

# Prometheus' duration: whole numbers of ms, s, m, h, d, w, y, in that order (1h30m).
DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")


class _Dumper(yaml.SafeDumper):
    """PromQL over several lines as a literal block (``|-``), as people write rule files."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _string)


def run(args: argparse.Namespace) -> int:
    for option, value in (("--for", args.down_for), ("--changed-within", args.changed_within)):
        if not value or not DURATION.match(value):
            raise UsageError(f"{option}: {value!r} is not a Prometheus duration (5m, 1h30m)")
    stack = load_stack(args.stack)
    document = rules_document(stack, down_for=args.down_for, changed_within=args.changed_within)
    text = f"# faultfinder rules {stack.name}: check with `promtool check rules FILE`\n"
    text += yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--out {args.out}: {error.strerror or error}") from None
    else:
        print(text, end="")
    return 0
