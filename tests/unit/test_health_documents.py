"""Health documents of every common shape (tests/data/health, with sources in its README):
the status, the checks that fail or warn, and the code each check's output means."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultfinder.classify.health_documents import HealthView, read_health_document
from faultfinder.model import Grade

DOCUMENTS = Path(__file__).parents[1] / "data" / "health"


def document(name: str) -> HealthView:
    view = read_health_document((DOCUMENTS / name).read_text())
    assert view is not None, name
    return view


def not_passing(view: HealthView) -> list[tuple[str, str, str | None]]:
    return [(check.name, check.status, check.code) for check in [*view.failing(), *view.warning()]]


@pytest.mark.parametrize(
    ("name", "shape", "status", "found"),
    [
        ("ietf-fail.json", "ietf", "fail", [("redis", "fail", "tcp.refused")]),
        ("ietf-warn.json", "ietf", "warn", [("postgres", "warn", None)]),
        (
            "incident-error.json",
            "nested",
            "fail",
            [("redis", "fail", "dns.temporary_failure")],
        ),
        ("components-strings.json", "nested", "fail", [("database", "fail", None)]),
        (
            "spring-boot-down.json",
            "spring-boot",
            "fail",
            # the composite db is down for its reporting datasource; UNKNOWN warns
            [("db", "fail", "postgres.auth_failed"), ("redis", "warn", None)],
        ),
        ("microprofile-down.json", "checks-list", "fail", [("redis", "fail", None)]),
        ("aspnet-unhealthy.json", "entries", "fail", [("redis", "fail", None)]),
        ("readyz-verbose-failed.txt", "kubernetes", "fail", [("etcd", "fail", None)]),
        ("pool-exhausted.json", "ietf", "fail", [("db", "fail", "app.pool_exhausted")]),
        (
            "literal-eai-again.json",
            "ietf",
            "fail",
            [("redis", "fail", "platform.network_unavailable")],
        ),
        ("degraded-plain.json", "plain", "warn", []),
    ],
)
def test_every_shape_is_read(
    name: str, shape: str, status: str, found: list[tuple[str, str, str | None]]
) -> None:
    view = document(name)
    assert (view.shape, view.status) == (shape, status)
    assert not_passing(view) == found


def test_a_composite_spring_boot_component_carries_its_failing_member() -> None:
    (database,) = document("spring-boot-down.json").failing()
    assert database.output.startswith("reporting fail: org.springframework.jdbc")


def test_the_pool_is_the_apps_own_not_the_network() -> None:
    """SQLAlchemy says "connection timed out" too; the app's own words win over the
    probe-side "timed out" (tcp.timeout)."""
    (check,) = document("pool-exhausted.json").failing()
    assert check.code == "app.pool_exhausted"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("OK", Grade.PASS),
        ("ok\n", Grade.PASS),
        ('"healthy"', Grade.PASS),
        ("true", Grade.PASS),
        ("false", Grade.FAIL),
        ('{"healthy": false}', Grade.FAIL),
        ('{"status": "Degraded"}', Grade.WARN),
        ('{"state": "DOWN"}', Grade.FAIL),
        ("[+]ping ok\n[+]etcd ok\nlivez check passed\n", Grade.PASS),
    ],
)
def test_plain_answers(body: str, status: Grade) -> None:
    view = read_health_document(body)
    assert view is not None
    assert view.status is status


def test_a_nested_dependency_without_a_top_level_status_decides_it() -> None:
    view = read_health_document('{"version": "1.4.2", "redis": {"status": "down"}}')
    assert view is not None
    assert (view.shape, view.status) == ("nested", Grade.FAIL)
    assert [check.name for check in view.failing()] == ["redis"]


def test_the_summary_names_what_does_not_pass() -> None:
    summary = document("incident-error.json").summary()
    assert summary.startswith("redis fail (Error -3 connecting to redis.internal:6379.")
