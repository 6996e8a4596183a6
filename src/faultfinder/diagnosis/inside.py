"""Join an app's health document to the stack: each failing check is evidence about a dependency
as seen from that app, or about the app itself when its code says so (its own pool, its own
permissions, its own start-up: the ``app`` and ``platform`` layers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from faultfinder.classify.health_documents import (
    HealthCheck,
    HealthView,
    read_health_document,
    why_unreadable,
)
from faultfinder.config import Stack
from faultfinder.faults import FAULTS
from faultfinder.model import CheckResult, Grade

# Codes about the app itself, whichever dependency's check reports them.
APP_LAYERS = {"app", "platform"}
ANSWERS_200_WHILE_FAILING = (
    "answers {status} while its health document says it fails: load balancers and platform "
    "health checks that look only at the status keep routing traffic to it"
)


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
    notes: Mapping[str, str]  # app → why its document was not read, or how it misleads
    own: Mapping[str, tuple[HealthCheck, ...]] = dataclasses.field(default_factory=dict)
    # app → failing checks whose code is about the app itself (app.pool_exhausted, …)


def read_inside(stack: Stack, results: Mapping[str, CheckResult]) -> InsideView:
    views: dict[str, HealthView] = {}
    failures: list[InsideFailure] = []
    unmatched: dict[str, tuple[HealthCheck, ...]] = {}
    notes: dict[str, str] = {}
    own: dict[str, tuple[HealthCheck, ...]] = {}
    for name, result in sorted(results.items()):
        component = stack.components[name]
        if not component.spec.health or result.status_code is None:
            continue
        view = read_health_document(result.body)
        if view is None:
            notes[name] = why_unreadable(result.body)
            continue
        views[name] = view
        if view.status is Grade.FAIL and result.status_code < 400:
            notes[name] = ANSWERS_200_WHILE_FAILING.format(status=result.status_code)
        own[name] = tuple(check for check in view.failing() if is_about_the_app(check))
        if not own[name]:
            del own[name]
        orphans: list[HealthCheck] = []
        for check in view.failing():
            if is_about_the_app(check):
                continue
            target = match_component(stack, name, check)
            if target is None:
                orphans.append(check)
            else:
                failures.append(InsideFailure(target, name, check))
        if orphans:
            unmatched[name] = tuple(orphans)
    return InsideView(views, tuple(failures), unmatched, notes, own)


def is_about_the_app(check: HealthCheck) -> bool:
    """A code of the app's own layers: the app's pool, permissions or platform, not the
    dependency the check is named after (which faultfinder can probe for itself)."""
    code = check.code
    return code is not None and FAULTS[code].layer in APP_LAYERS


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
