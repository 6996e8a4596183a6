"""The stack file's ``validation:`` section: defaults, overrides, and file:line:key errors."""

from __future__ import annotations

import pytest

from faultfinder import ConfigError, parse_stack
from faultfinder.validate.criteria import critical_categories, effective, rounds_needed

COMPONENTS = """\
components:
  api:
    url: http://127.0.0.1:8080/health
    category: web
    critical: true
  cache:
    url: redis://127.0.0.1:6379/0
  db:
    url: postgresql://app@127.0.0.1/app
    category: database
"""


def stack(validation: str = "", components: str = COMPONENTS):  # type: ignore[no-untyped-def]
    return parse_stack(components + validation, "s.yaml", {})


def test_defaults_are_the_incidents_criteria() -> None:
    spec = stack().validation
    assert spec.pass_rate == 0.8
    assert spec.repetitions == 10
    assert spec.interval == 1.0
    assert (spec.consecutive, spec.p95_ms, spec.max_ms, spec.tls.min_days_left) == (
        None,
        None,
        None,
        None,
    )
    assert spec.log_absent == []


def test_a_category_is_critical_when_named_or_when_a_member_is_critical() -> None:
    parsed = stack("validation:\n  critical_categories: [database]\n")
    assert critical_categories(parsed, parsed.validation) == ("database", "web")
    assert critical_categories(stack(), stack().validation) == ("web",)


def test_components_without_a_category_are_grouped_by_kind() -> None:
    parsed = stack()
    assert {n: c.category for n, c in parsed.components.items()} == {
        "api": "web",
        "cache": "redis",
        "db": "database",
    }


def test_the_full_section_parses_with_durations_and_overrides() -> None:
    parsed = stack("""\
validation:
  repetitions: 5
  interval: 250ms
  pass_rate: 0.9
  consecutive: 3
  p95_ms: 200
  tls: {min_days_left: 21}
  log_absent: [app.error, redis.oom]
  categories:
    database: {consecutive: 4, max_ms: 500}
  components:
    db: {consecutive: 6, tls: {min_days_left: 30}}
""")
    spec = parsed.validation
    assert (spec.repetitions, spec.interval, spec.pass_rate) == (5, 0.25, 0.9)
    assert spec.log_absent == ["app.error", "redis.oom"]
    db = effective(spec, parsed.components["db"])
    assert (db.consecutive, db.p95_ms, db.max_ms, db.tls.min_days_left) == (6, 200, 500, 30)
    api = effective(spec, parsed.components["api"])
    assert (api.consecutive, api.p95_ms, api.max_ms, api.tls.min_days_left) == (3, 200, None, 21)
    # Enough repetitions for the longest run of passes anyone asks for.
    assert rounds_needed(parsed, spec) == 6


@pytest.mark.parametrize(
    ("validation", "line", "key", "reason"),
    [
        ("validation:\n  pass_rate: 1.5\n", 12, "validation.pass_rate", "less than or equal to 1"),
        ("validation:\n  interval: soon\n", 12, "validation.interval", "not a duration"),
        ("validation:\n  colour: red\n", 12, "validation.colour", "unknown key"),
        ("validation:\n  repetitions: 0\n", 12, "validation.repetitions", "greater than or equal"),
        (
            "validation:\n  components:\n    db: {consecutive: 0}\n",
            13,
            "validation.components.db.consecutive",
            "greater than or equal to 1",
        ),
        (
            "validation:\n  components:\n    db: {p99_ms: 10}\n",
            13,
            "validation.components.db.p99_ms",
            "unknown key",
        ),
        (
            "validation:\n  tls: {min_days: 3}\n",
            12,
            "validation.tls.min_days",
            "unknown key",
        ),
        (
            "validation:\n  critical_categories:\n    - web\n    - ghosts\n",
            14,
            "validation.critical_categories",
            "names no category: 'ghosts'",
        ),
        (
            "validation:\n  categories:\n    ghosts: {consecutive: 2}\n",
            13,
            "validation.categories.ghosts",
            "names no category: 'ghosts'",
        ),
        (
            "validation:\n  components:\n    ghost: {consecutive: 2}\n",
            13,
            "validation.components.ghost",
            "names no component: 'ghost'",
        ),
    ],
)
def test_errors_name_file_line_and_key(validation: str, line: int, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as raised:
        stack(validation)
    error = raised.value
    assert (error.file, error.line, error.key) == ("s.yaml", line, key), str(error)
    assert reason in error.reason
    assert str(error).startswith(f"s.yaml:{line}: {key}: ")


def test_unknown_category_error_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        stack("validation:\n  critical_categories: [ghosts]\n")
    assert "known: database, redis, web" in str(raised.value)
