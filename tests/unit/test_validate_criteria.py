"""Judging checks against criteria is pure: checks in, figures and outcomes out."""

from __future__ import annotations

import datetime
import json

import pytest

from faultfinder import CheckResult, Phase, parse_stack
from faultfinder.model import Grade
from faultfinder.validate.criteria import (
    evaluate,
    longest_streak,
    percentile,
)
from faultfinder.validate.document import repetition_ranges
from faultfinder.validate.logcheck import NOT_GIVEN, LogTally, log_criteria
from faultfinder.validate.model import Attempt, Cause
from faultfinder.validate.repeat import Repetitions
from faultfinder.validate.rounds import judge

REFUSED = (Cause("db", "tcp.refused", "infrastructure", "faultfinder"),)


def stack(validation: str = ""):  # type: ignore[no-untyped-def]
    text = """\
components:
  web1: {url: 'http://127.0.0.1:1/', category: web}
  web2: {url: 'http://127.0.0.1:2/', category: web}
  db: {url: 'tcp://127.0.0.1:3', category: database}
  edge: {url: 'tls://127.0.0.1:4', category: web}
"""
    return parse_stack(text + validation, "s.yaml", {})


def checks(
    name: str, pattern: str, ms: float = 5.0, days_left: float | None = None
) -> list[Attempt]:
    """``"++-+"``: a pass, a pass, a failure (tcp.refused), a pass."""
    return [
        Attempt(name, index + 1, index * 100.0, ms, mark == "+", days_left=days_left)
        if mark == "+"
        else Attempt(
            name,
            index + 1,
            index * 100.0,
            ms,
            False,
            "tcp.refused",
            "infrastructure",
            REFUSED if name == "db" else (),
            "connect refused",
            days_left,
        )
        for index, mark in enumerate(pattern)
    ]


def criterion(criteria, name: str, subject: str):  # type: ignore[no-untyped-def]
    return next(c for c in criteria if (c.name, c.subject) == (name, subject))


def healthy_except(**patterns: str) -> list[Attempt]:
    found = []
    for name in ("db", "edge", "web1", "web2"):
        found += checks(name, patterns.get(name, "+" * 10))
    return found


def test_a_broken_critical_category_fails_even_at_a_90_percent_pass_rate() -> None:
    parsed = stack("validation: {critical_categories: [database]}\n")
    all_checks = healthy_except(db="++++++-+++")  # 39 of 40 pass: 97.5 %
    components, categories, criteria = evaluate(parsed, parsed.validation, all_checks)

    rate = criterion(criteria, "pass_rate", "stack")
    assert (rate.outcome, rate.value, rate.actual) == (Grade.PASS, 0.975, "97.5% (39/40)")
    database = criterion(criteria, "critical_category", "database")
    assert database.outcome is Grade.FAIL
    assert database.actual == "9/10 pass"
    assert "db failed 1/10: tcp.refused (infrastructure)" in database.detail
    by_name = {category.name: category for category in categories}
    assert by_name["database"].outcome is Grade.FAIL
    assert by_name["web"].outcome is Grade.PASS
    assert {c.name: c.outcome for c in components}["db"] is Grade.FAIL


def test_the_same_failure_outside_a_critical_category_is_a_warning() -> None:
    parsed = stack()
    components, categories, criteria = evaluate(
        parsed, parsed.validation, healthy_except(db="------++++")
    )
    assert [c.name for c in criteria] == ["pass_rate"]  # no critical category, nothing else
    assert criteria[0].outcome is Grade.PASS  # 34/40 = 85 %
    assert {c.name: c.outcome for c in components}["db"] is Grade.WARN
    assert {c.name: c.outcome for c in categories}["database"] is Grade.WARN


def test_pass_rate_below_the_bound_fails_and_names_the_worst_component() -> None:
    parsed = stack("validation: {pass_rate: 0.95}\n")
    all_checks = healthy_except(db="----------", web1="+++++-++++")
    _, _, criteria = evaluate(parsed, parsed.validation, all_checks)
    rate = criterion(criteria, "pass_rate", "stack")
    assert rate.outcome is Grade.FAIL
    assert rate.detail.startswith("db failed 10/10")  # the worst first
    assert "web1 failed 1/10" in rate.detail


def test_consecutive_is_the_longest_run_of_passes() -> None:
    parsed = stack("validation:\n  components:\n    db: {consecutive: 5}\n")
    flapping = healthy_except(db="++++-++++-")  # 80 % passes, never 5 in a row
    _, _, criteria = evaluate(parsed, parsed.validation, flapping)
    consecutive = criterion(criteria, "consecutive", "db")
    assert consecutive.outcome is Grade.FAIL
    assert (consecutive.threshold, consecutive.value) == (5, 4)
    assert consecutive.actual == "longest run 4 of 10"
    steady = healthy_except(db="-+++++----")
    _, _, criteria = evaluate(parsed, parsed.validation, steady)
    assert criterion(criteria, "consecutive", "db").outcome is Grade.PASS


def test_category_criteria_apply_to_members_and_components_override_them() -> None:
    parsed = stack(
        "validation:\n  categories:\n    web: {max_ms: 10}\n"
        "  components:\n    web2: {max_ms: 100}\n"
    )
    all_checks = [
        *checks("web1", "+++", ms=50),
        *checks("web2", "+++", ms=50),
        *checks("db", "+++", ms=50),
        *checks("edge", "+++", ms=5),
    ]
    _, _, criteria = evaluate(parsed, parsed.validation, all_checks)
    assert criterion(criteria, "max_ms", "web1").outcome is Grade.FAIL
    assert criterion(criteria, "max_ms", "web2").outcome is Grade.PASS
    assert criterion(criteria, "max_ms", "edge").outcome is Grade.PASS
    assert not [c for c in criteria if c.subject == "db" and c.name == "max_ms"]


def test_latency_bounds_use_the_nearest_rank_p95_and_the_maximum() -> None:
    parsed = stack("validation: {p95_ms: 50, max_ms: 150}\n")
    times = [10.0] * 18 + [40.0, 200.0]  # p95 of 20 values is the 19th: 40 ms
    db = [Attempt("db", i + 1, 0.0, ms, True) for i, ms in enumerate(times)]
    others = [c for name in ("web1", "web2", "edge") for c in checks(name, "+" * 20)]
    _, _, criteria = evaluate(parsed, parsed.validation, [*db, *others])
    p95 = criterion(criteria, "p95_ms", "db")
    assert (p95.outcome, p95.value, p95.expected, p95.actual) == (
        Grade.PASS,
        40.0,
        "p95 ≤ 50 ms",
        "p95 40.0 ms",
    )
    slowest = criterion(criteria, "max_ms", "db")
    assert (slowest.outcome, slowest.value) == (Grade.FAIL, 200.0)
    assert slowest.detail.startswith("slowest probes: #20 200.0 ms")


def test_tls_min_days_left_applies_to_components_that_speak_tls() -> None:
    parsed = stack("validation: {tls: {min_days_left: 30}}\n")
    all_checks = [
        *checks("edge", "+++", days_left=12.5),
        *checks("db", "+++"),
        *checks("web1", "+++"),
        *checks("web2", "+++"),
    ]
    _, _, criteria = evaluate(parsed, parsed.validation, all_checks)
    days = [c for c in criteria if c.name == "tls.min_days_left"]
    assert [c.subject for c in days] == ["edge"]  # db is tcp://, web is http://
    assert (days[0].outcome, days[0].value, days[0].actual) == (
        Grade.FAIL,
        12.5,
        "12.5 days left",
    )


def test_a_tls_component_whose_certificate_was_never_read_fails_the_bound() -> None:
    parsed = stack("validation: {tls: {min_days_left: 30}}\n")
    all_checks = healthy_except(edge="---")
    _, _, criteria = evaluate(parsed, parsed.validation, all_checks)
    days = criterion(criteria, "tls.min_days_left", "edge")
    assert (days.outcome, days.actual) == (Grade.FAIL, "no certificate read")


def test_log_absent_is_reported_as_not_evaluated_and_never_fails_the_run() -> None:
    parsed = stack("validation: {log_absent: [redis.oom]}\n")
    not_given = log_criteria(parsed.validation.log_absent, None)
    _, _, criteria = evaluate(parsed, parsed.validation, healthy_except(), not_given)
    logs = criterion(criteria, "log_absent", "redis.oom")
    assert (logs.outcome, logs.actual) == (Grade.NOT_EVALUATED, NOT_GIVEN)
    assert all(c.outcome is not Grade.FAIL for c in criteria)


def test_log_absent_passes_on_zero_lines_and_fails_with_the_figures() -> None:
    tallies = {
        "redis.oom": LogTally(0),
        "dns.temporary_failure": LogTally(3, "2026-11-28T19:21:30Z", "2026-11-28T19:25:02Z"),
    }
    absent, present = log_criteria(["redis.oom", "dns.temporary_failure"], tallies, "15m")
    assert (absent.outcome, absent.actual, absent.expected) == (
        Grade.PASS,
        "0 lines",
        "absent from the logs since 15m",
    )
    assert present.outcome is Grade.FAIL
    assert present.actual == "3 lines, first 2026-11-28T19:21:30Z, last 2026-11-28T19:25:02Z"
    assert present.value == 3


@pytest.mark.parametrize(
    ("values", "rank", "expected"),
    [
        ([], 95, 0.0),
        ([7.0], 95, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(n) for n in range(1, 101)], 95, 95.0),
        ([5.0, 1.0, 3.0], 100, 5.0),
    ],
)
def test_percentile(values: list[float], rank: float, expected: float) -> None:
    assert percentile(values, rank) == expected


def test_longest_streak_and_ranges() -> None:
    assert longest_streak(checks("x", "++-+++-+")) == 3
    assert longest_streak(checks("x", "---")) == 0
    assert repetition_ranges([7, 1, 2, 3, 9, 10]) == "#1–3, #7, #9–10"


# What each repetition's diagnosis makes of its results: the graph decides, not the probe alone.
INCIDENT = """\
components:
  backend:
    url: http://127.0.0.1:8000/health
    depends_on: [redis]
    health: true
  redis: {url: 'redis://127.0.0.1:6379/0'}
"""
FAILING_DOCUMENT = json.dumps(
    {
        "status": "fail",
        "checks": {
            "redis:connection": [
                {
                    "status": "fail",
                    "output": "Error -3 connecting to redis.internal:6379. Temporary failure in name resolution.",
                }
            ]
        },
    }
)


def result(name: str, kind: str, code: str | None = None, body: str = "") -> CheckResult:
    last = "http" if kind == "http" else "redis"
    phases = (Phase("dns", True, 1.0), Phase("tcp", True, 1.0), Phase(last, code is None, 1.0))
    return CheckResult(
        name,
        kind,
        name,
        phases,
        code=code,
        duration_ms=3.0,
        status_code=503 if code else 200,
        body=body,
    )


def test_every_repetition_is_diagnosed_so_a_failure_carries_the_graphs_root_cause() -> None:
    parsed = parse_stack(INCIDENT, "s.yaml", {})
    broken = {
        "backend": result("backend", "http", "app.unhealthy", FAILING_DOCUMENT),
        "redis": result("redis", "redis"),
    }
    fine = {
        "backend": result("backend", "http", body='{"status": "pass"}'),
        "redis": result("redis", "redis"),
    }
    repetitions = Repetitions(
        started_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        duration_ms=200.0,
        rounds=(broken, fine),
        offsets_ms=({"backend": 0.0, "redis": 0.0}, {"backend": 100.0, "redis": 100.0}),
        footing=(),
    )
    judged = judge(parsed, repetitions)
    first, second = judged[:2], judged[2:]
    backend, redis = first
    # faultfinder reached redis, but the backend's own view says it fails: the check fails.
    assert (redis.ok, redis.code, redis.owner) == (False, "dns.temporary_failure", "infrastructure")
    assert redis.causes == (Cause("redis", "dns.temporary_failure", "infrastructure", "backend"),)
    assert "Temporary failure in name resolution" in redis.detail
    assert (backend.ok, backend.code) == (False, "dependency.failed")
    assert backend.owner == "infrastructure"  # whose move: the root cause's owner
    assert backend.causes == redis.causes
    assert backend.describe() == (
        "dependency.failed (infrastructure), root cause: "
        "redis dns.temporary_failure (infrastructure, seen from backend)"
    )
    assert redis.describe() == "dns.temporary_failure (infrastructure), seen from backend"
    assert [(c.component, c.repetition, c.ok, c.offset_ms) for c in second] == [
        ("backend", 2, True, 100.0),
        ("redis", 2, True, 100.0),
    ]
