"""Checks + the ``validation:`` section → figures per component and category, and criteria. Pure.

The criteria, in the order they are reported:

- ``pass_rate``: of all checks of the run, at least this share passes (default 0.8);
- ``critical_category``: every check of a critical category passes (a category is critical when
  ``critical_categories`` names it or one of its components is ``critical: true``);
- per component: ``consecutive`` (the longest run of passes), ``p95_ms`` and ``max_ms`` (over
  the repetitions' probe times) and ``tls.min_days_left`` (the fewest days a certificate had
  left, for components that speak TLS), each set for all, per category or per component;
- ``log_absent``: each listed fault code absent from the logs given with ``--logs`` (see
  ``logcheck``); not evaluated when no logs are given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from faultfinder.config import Component, Criteria, Stack, TlsCriteria, ValidationSpec
from faultfinder.faults import Owner
from faultfinder.model import Grade
from faultfinder.validate.model import (
    Attempt,
    CategorySummary,
    ComponentSummary,
    Criterion,
    FailureGroup,
)

COMPONENT_CRITERIA = {"consecutive", "p95_ms", "max_ms", "tls.min_days_left"}


def effective(spec: ValidationSpec, component: Component) -> Criteria:
    """A component's criteria: the section's own, overridden by its category's, then its own."""
    values: dict[str, object] = {}
    tls: dict[str, object] = {}
    for layer in (
        spec,
        spec.categories.get(component.category),
        spec.components.get(component.name),
    ):
        if layer is None:
            continue
        values.update(
            layer.model_dump(include={"consecutive", "p95_ms", "max_ms"}, exclude_none=True)
        )
        tls.update(layer.tls.model_dump(exclude_none=True))
    return Criteria(**values, tls=TlsCriteria(**tls))


def rounds_needed(stack: Stack, spec: ValidationSpec) -> int:
    """The repetitions to run: enough for the longest ``consecutive`` asked of anyone."""
    asked = [effective(spec, component).consecutive or 0 for component in stack.components.values()]
    return max([spec.repetitions, *asked])


def critical_categories(stack: Stack, spec: ValidationSpec) -> tuple[str, ...]:
    marked = {c.category for c in stack.components.values() if c.spec.critical}
    return tuple(sorted(set(spec.critical_categories) | marked))


def evaluate(
    stack: Stack,
    spec: ValidationSpec,
    checks: Sequence[Attempt],
    log_criteria: Sequence[Criterion] = (),
) -> tuple[tuple[ComponentSummary, ...], tuple[CategorySummary, ...], tuple[Criterion, ...]]:
    """Summaries per component and category, and every criterion with its figure."""
    critical = set(critical_categories(stack, spec))
    by_component = {name: [c for c in checks if c.component == name] for name in stack.components}
    criteria = [_pass_rate(spec.pass_rate, checks, by_component)]
    for category in sorted(critical):
        members = [c for c in stack.components.values() if c.category == category]
        criteria.append(_critical_category(category, [by_component[m.name] for m in members]))
    for name in sorted(stack.components):
        component = stack.components[name]
        criteria.extend(
            _component_criteria(component, effective(spec, component), by_component[name])
        )
    criteria.extend(log_criteria)
    failed = {
        c.subject for c in criteria if c.outcome is Grade.FAIL and c.name in COMPONENT_CRITERIA
    }
    components = tuple(
        _summary(component, by_component[name], component.category in critical, name in failed)
        for name, component in sorted(stack.components.items())
    )
    categories = tuple(
        _category(name, components, name in critical)
        for name in sorted({c.category for c in components})
    )
    return components, categories, tuple(criteria)


def _pass_rate(
    minimum: float, checks: Sequence[Attempt], by_component: dict[str, list[Attempt]]
) -> Criterion:
    passes = sum(check.ok for check in checks)
    rate = passes / len(checks) if checks else 0.0
    held = rate >= minimum
    return Criterion(
        "pass_rate",
        "stack",
        f"≥ {percent(minimum)}",
        f"{percent(rate)} ({passes}/{len(checks)})",
        Grade.PASS if held else Grade.FAIL,
        threshold=minimum,
        value=round(rate, 4),
        detail="" if held else _worst(by_component),
    )


def _critical_category(category: str, members: Sequence[Sequence[Attempt]]) -> Criterion:
    checks = [check for member in members for check in member]
    passes = sum(check.ok for check in checks)
    held = bool(checks) and passes == len(checks)
    return Criterion(
        "critical_category",
        category,
        "every check passes",
        f"{passes}/{len(checks)} pass",
        Grade.PASS if held else Grade.FAIL,
        threshold=1.0,
        value=round(passes / len(checks), 4) if checks else 0.0,
        detail="" if held else "; ".join(_failing(checks)),
    )


def _component_criteria(
    component: Component, asked: Criteria, checks: Sequence[Attempt]
) -> list[Criterion]:
    name = component.name
    found: list[Criterion] = []
    failing = "; ".join(_failing(checks))
    if asked.consecutive is not None:
        streak = longest_streak(checks)
        found.append(
            Criterion(
                "consecutive",
                name,
                f"≥ {asked.consecutive} passes in a row",
                f"longest run {streak} of {len(checks)}",
                _outcome(streak >= asked.consecutive),
                float(asked.consecutive),
                float(streak),
                "" if streak >= asked.consecutive else failing,
            )
        )
    times = [check.ms for check in checks]
    for key, bound, value in (
        ("p95_ms", asked.p95_ms, percentile(times, 95)),
        ("max_ms", asked.max_ms, max(times, default=0.0)),
    ):
        if bound is None:
            continue
        label = "p95" if key == "p95_ms" else "max"
        found.append(
            Criterion(
                key,
                name,
                f"{label} ≤ {bound:g} ms",
                f"{label} {value:.1f} ms",
                _outcome(value <= bound),
                bound,
                round(value, 1),
                "" if value <= bound else f"slowest probes: {_slowest(checks)}",
            )
        )
    minimum = asked.tls.min_days_left
    if minimum is not None and component.scheme.tls:
        days = [check.days_left for check in checks if check.days_left is not None]
        fewest = min(days) if days else None
        held = fewest is not None and fewest >= minimum
        found.append(
            Criterion(
                "tls.min_days_left",
                name,
                f"≥ {minimum} days left",
                f"{fewest:.1f} days left" if fewest is not None else "no certificate read",
                _outcome(held),
                float(minimum),
                round(fewest, 1) if fewest is not None else None,
                "" if held else failing or "the certificate expires too soon",
            )
        )
    return found


def _summary(
    component: Component, checks: Sequence[Attempt], critical: bool, failed_criterion: bool
) -> ComponentSummary:
    passes = sum(check.ok for check in checks)
    times = [check.ms for check in checks]
    days = [check.days_left for check in checks if check.days_left is not None]
    if failed_criterion or (critical and passes < len(checks)):
        outcome = Grade.FAIL
    else:
        outcome = Grade.WARN if passes < len(checks) else Grade.PASS
    return ComponentSummary(
        name=component.name,
        category=component.category,
        critical=critical,
        checks=len(checks),
        passes=passes,
        longest_streak=longest_streak(checks),
        p50_ms=round(percentile(times, 50), 1),
        p95_ms=round(percentile(times, 95), 1),
        max_ms=round(max(times, default=0.0), 1),
        min_days_left=round(min(days), 1) if days else None,
        failures=failure_groups(checks),
        outcome=outcome,
    )


def _category(name: str, components: Iterable[ComponentSummary], critical: bool) -> CategorySummary:
    members = [c for c in components if c.category == name]
    outcomes = {c.outcome for c in members}
    if Grade.FAIL in outcomes:
        outcome = Grade.FAIL
    else:
        outcome = Grade.WARN if Grade.WARN in outcomes else Grade.PASS
    return CategorySummary(
        name=name,
        critical=critical,
        components=tuple(c.name for c in members),
        checks=sum(c.checks for c in members),
        passes=sum(c.passes for c in members),
        outcome=outcome,
    )


def failure_groups(checks: Iterable[Attempt]) -> tuple[FailureGroup, ...]:
    """Failing checks grouped by their diagnosis, in the order each first appeared."""
    groups: dict[tuple[object, ...], list[Attempt]] = {}
    for check in checks:
        if not check.ok:
            groups.setdefault((check.code, check.owner, check.causes), []).append(check)
    return tuple(
        FailureGroup(
            code=members[0].code or "",
            owner=members[0].owner or Owner.UNKNOWN,
            causes=members[0].causes,
            detail=members[0].detail,
            repetitions=tuple(check.repetition for check in members),
        )
        for members in groups.values()
    )


def longest_streak(checks: Iterable[Attempt]) -> int:
    longest = current = 0
    for check in sorted(checks, key=lambda check: check.repetition):
        current = current + 1 if check.ok else 0
        longest = max(longest, current)
    return longest


def percentile(values: Sequence[float], rank: float) -> float:
    """The nearest-rank percentile: the smallest value at least ``rank`` % of values reach."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def percent(share: float) -> str:
    value = round(share * 100, 1)
    return f"{value:g}%"


def _outcome(held: bool) -> Grade:
    return Grade.PASS if held else Grade.FAIL


def _failing(checks: Sequence[Attempt]) -> list[str]:
    """One line per failing component and diagnosis: ``redis 3/10: tcp.refused (…)``."""
    lines = []
    by_name: dict[str, list[Attempt]] = {}
    for check in checks:
        by_name.setdefault(check.component, []).append(check)
    for name, own in sorted(by_name.items()):
        for group in failure_groups(own):
            lines.append(
                f"{name} failed {len(group.repetitions)}/{len(own)}: {group.describe(name)}"
            )
    return lines


def _worst(by_component: dict[str, list[Attempt]]) -> str:
    """The components that pulled the pass rate down, worst first, with their diagnosis."""
    failing = sorted(
        (name for name, checks in by_component.items() if not all(c.ok for c in checks)),
        key=lambda name: (sum(c.ok for c in by_component[name]), name),
    )
    return "; ".join(line for name in failing for line in _failing(by_component[name]))


def _slowest(checks: Sequence[Attempt]) -> str:
    ordered = sorted(checks, key=lambda check: check.ms, reverse=True)[:3]
    return ", ".join(f"#{check.repetition} {check.ms:.1f} ms" for check in ordered)
