"""A small JSONPath subset for checks and captures: ``$``, ``$.a.b``, ``$.items[0].id``,
``$["odd key"]``. Enough to point at one value; no filters or wildcards, on purpose."""

from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"""\.([A-Za-z_][\w-]*)|\[(-?\d+)\]|\[(?:"([^"]*)"|'([^']*)')\]""")

MISSING = object()


def parse(path: str) -> tuple[str | int, ...]:
    """``$.a[0]`` → ``("a", 0)``; raises ``ValueError`` for anything else."""
    text = path.strip()
    if not text.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path (it starts with $)")
    parts: list[str | int] = []
    position = 1
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise ValueError(f"{path!r} is not a JSON path: cannot read {text[position:]!r}")
        name, index, double, single = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(name if name is not None else double if double is not None else single)
        position = match.end()
    return tuple(parts)


def find(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``, or ``MISSING``."""
    value = document
    for part in parse(path):
        if not _has(value, part):
            return MISSING
        value = value[part]
    return value


def _has(value: Any, part: str | int) -> bool:
    if isinstance(part, int):
        return isinstance(value, list) and -len(value) <= part < len(value)
    return isinstance(value, dict) and part in value
