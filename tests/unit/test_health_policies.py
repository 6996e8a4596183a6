"""The pure pieces of issue 15: kube-apiserver's verbose text, failure tolerance, groups."""

from __future__ import annotations

import datetime

import pytest

from faultfinder.health import Group, function_check
from faultfinder.health._checks import Observation, Outcome, tolerated
from faultfinder.health._groups import validated_groups
from faultfinder.health._verbose import verbose_text
from faultfinder.model import Grade

WHEN = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)


async def nothing() -> None:
    return None


def outcome(name: str, status: Grade, code: str | None = None) -> Outcome:
    observation = Observation("responseTime", status, None, "ms", "refused", code)
    return Outcome(name, "datastore", True, (observation,), WHEN, 1.0)


def test_verbose_lists_checks_in_order_with_excluded_ones_in_place() -> None:
    # k8s.io/apiserver/pkg/server/healthz/healthz.go, handleRootHealth's lines
    lines = [outcome("redis", Grade.FAIL, "tcp.refused"), "postgres", outcome("web", Grade.WARN)]

    withheld = verbose_text(
        "ready", lines, passed=False, unmatched=["nope", "gone"], components=True, details=False
    )
    detailed = verbose_text("ready", lines, passed=False, components=True, details=True)
    anonymous = verbose_text("ready", lines, passed=False, components=False, details=False)

    assert withheld == (
        "[-]redis failed: reason withheld\n[+]postgres excluded: ok\n[+]web ok\n"
        'warn: some health checks cannot be excluded: no matches for "gone","nope"'
        "\nready check failed\n"
    )
    assert detailed.splitlines()[0] == "[-]redis failed: tcp.refused"
    assert anonymous == "ready check failed\n"


@pytest.mark.parametrize(
    ("options", "streak", "seconds", "expected"),
    [
        ({}, 1, 0.0, Grade.FAIL),
        ({"failure_threshold": 3}, 2, 100.0, Grade.WARN),
        ({"failure_threshold": 3}, 3, 0.0, Grade.FAIL),
        ({"failing_for": 30}, 5, 29.0, Grade.WARN),
        ({"failing_for": 30}, 1, 30.0, Grade.FAIL),
        ({"failure_threshold": 5, "failing_for": 30}, 2, 31.0, Grade.FAIL),  # whichever first
    ],
)
def test_failure_tolerance(
    options: dict[str, float], streak: int, seconds: float, expected: Grade
) -> None:
    check = function_check("redis", nothing, **options)

    found = tolerated(check, outcome("redis", Grade.FAIL), streak, seconds)

    assert found.status is expected
    if expected is Grade.WARN:
        assert "tolerated: failing run" in found.observations[0].output


def test_groups_select_by_name_tag_and_criticality() -> None:
    checks = [
        function_check("postgres", nothing, tags=["db"]),
        function_check("redis", nothing, critical=False),
    ]
    everything_but_db = Group.of(["*"], exclude=["db"])
    critical = Group.of(critical_only=True)

    assert [c.name for c in checks if everything_but_db.selects(c)] == ["redis"]
    assert [c.name for c in checks if critical.selects(c)] == ["postgres"]
    with pytest.raises(ValueError, match="'ready' must be a lower-case path segment"):
        validated_groups({"ready": Group()}, checks, ["live", "ready"])
