"""Does an answer (a body, a message, a reply) say what the check expects? One rule for all."""

from __future__ import annotations

import json
import re
from typing import Any

from faultfinder import jsonpath
from faultfinder.config.spec import Expect

SHOWN = 120  # characters of an answer quoted in a mismatch


def mismatch(expect: Expect, text: str, *, substring: str | None = None) -> str | None:
    """Why ``text`` is not the expected answer (a phrase: "does not contain …"), or ``None``.

    ``substring`` is the kind's own substring check (a WebSocket's ``expect.message``).
    """
    if substring is not None and substring not in text:
        return f"does not contain {substring!r}: {_quote(text)}"
    if expect.match is not None and re.search(expect.match, text) is None:
        return f"does not match /{expect.match}/: {_quote(text)}"
    if not expect.json_paths:
        return None
    document = parse_json(text)
    if document is jsonpath.MISSING:
        return f"is not JSON: {_quote(text)}"
    for path, wanted in expect.json_paths.items():
        found = jsonpath.find(document, path)
        if found is jsonpath.MISSING:
            return f"has no {path}: {_quote(text)}"
        if not same(found, wanted):
            return f"has {path} = {json.dumps(found)[:SHOWN]}, expected {json.dumps(wanted)}"
    return None


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # a body of 100,000 nested `[` is no answer either
        return jsonpath.MISSING


def same(found: Any, wanted: Any) -> bool:
    """Equal; a string in the stack file also matches a number or boolean that reads the same."""
    if isinstance(wanted, str) and not isinstance(found, str):
        return json.dumps(found) == wanted
    return bool(found == wanted)


def _quote(text: str) -> str:
    return repr(text[:SHOWN] + ("…" if len(text) > SHOWN else ""))
