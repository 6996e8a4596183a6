"""``{name}`` variables in a step's values: which a value uses, and the value filled in.

Only a name in braces is a variable, so JSON like ``{"question": "…"}`` needs no escaping.
"""

from __future__ import annotations

import re
from typing import Any

VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def references(value: Any) -> set[str]:
    """Every variable name ``value`` (a string, or lists and mappings of them) uses."""
    if isinstance(value, str):
        return set(VARIABLE.findall(value))
    if isinstance(value, list | tuple):
        return set().union(*(references(item) for item in value))
    if isinstance(value, dict):
        return set().union(*(references(item) for item in value.values()))
    return set()


def fill(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with every known ``{name}`` replaced; unknown names are left as they are."""
    if isinstance(value, str):
        return VARIABLE.sub(lambda match: variables.get(match.group(1), match.group(0)), value)
    if isinstance(value, list | tuple):
        return [fill(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, variables) for key, item in value.items()}
    return value
