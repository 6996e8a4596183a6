"""Join an app's health document to the stack: each failing check is evidence about a dependency
as seen from that app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from faultfinder.config import Stack
from faultfinder.diagnosis.healthdoc import (
    HealthCheck,
    HealthView,
    read_health_document,
    why_unreadable,
)
from faultfinder.model import CheckResult


@dataclass(frozen=True)
class InsideFailure:
    """The app ``vantage`` sees ``component`` fail, with the check that says so."""

    component: str
    vantage: str
    check: HealthCheck


@dataclass(frozen=True)
class InsideView:
    views: Mapping[str, HealthView]
    failures: tuple[InsideFailure, ...]
    unmatched: Mapping[str, tuple[HealthCheck, ...]]  # app → failing checks naming no component
    notes: Mapping[str, str]  # app → why its document was not read


def read_inside(stack: Stack, results: Mapping[str, CheckResult]) -> InsideView:
    views: dict[str, HealthView] = {}
    failures: list[InsideFailure] = []
    unmatched: dict[str, tuple[HealthCheck, ...]] = {}
    notes: dict[str, str] = {}
    for name, result in sorted(results.items()):
        component = stack.components[name]
        if not component.spec.health or result.status_code is None:
            continue
        view = read_health_document(result.body)
        if view is None:
            notes[name] = why_unreadable(result.body)
            continue
        views[name] = view
        orphans: list[HealthCheck] = []
        for check in view.failing():
            target = match_component(stack, name, check)
            if target is None:
                orphans.append(check)
            else:
                failures.append(InsideFailure(target, name, check))
        if orphans:
            unmatched[name] = tuple(orphans)
    return InsideView(views, tuple(failures), unmatched, notes)


def match_component(stack: Stack, app: str, check: HealthCheck) -> str | None:
    """The stack component a check is about: the same name, else an unambiguous alias."""
    if check.name in stack.components and check.name != app:
        return check.name
    needs = stack.components[app].spec.depends_on
    candidates = [
        dependency
        for dependency in needs
        # the names apps commonly give such a dependency (Spring's "db", say)
        if check.name.lower() in stack.components[dependency].scheme.inside_names
    ]
    return candidates[0] if len(candidates) == 1 else None
