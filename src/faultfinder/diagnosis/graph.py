"""The dependency graph: which failing components are symptoms, which are root causes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from faultfinder.config import Stack


def edges(stack: Stack) -> dict[str, tuple[str, ...]]:
    """Each component → what it needs: its ``via`` backends first, then its ``depends_on``."""
    return {
        name: tuple(dict.fromkeys([*component.spec.via, *component.spec.depends_on]))
        for name, component in sorted(stack.components.items())
    }


def failing_below(name: str, graph: Mapping[str, Iterable[str]], failing: set[str]) -> list[str]:
    """The failing components directly below ``name``, reached through healthy ones too.

    A proxy in front of a healthy app that needs a dead Redis is a symptom of Redis: the walk
    passes through components that passed and stops at the first failing one on each path.
    """
    found: list[str] = []
    seen = {name}
    stack = list(reversed(list(graph.get(name, ()))))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in failing:
            found.append(current)
        else:
            stack.extend(reversed(list(graph.get(current, ()))))
    return found


def users_of(name: str, graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The components that need ``name`` directly."""
    return sorted(user for user, needs in graph.items() if name in needs)


def outermost(names: Iterable[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Of ``names``, those no other of them needs (what a user touches first)."""
    chosen = set(names)
    needed = {need for user in chosen for need in reachable(user, graph)} - {None}
    return sorted(name for name in chosen if name not in needed)


def reachable(name: str, graph: Mapping[str, Iterable[str]]) -> set[str]:
    """Everything below ``name`` in the graph, not ``name`` itself."""
    seen: set[str] = set()
    stack = list(graph.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, ()))
    return seen
