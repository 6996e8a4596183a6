"""A real app's health document, whatever its status: ``diagnose`` reads every common shape
(tests/data/health), calls a failing document at 200 a failure with a note, a warning
document degraded, and an app's own pool or environment the app's fault, not the network's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers.common import CliResult


@pytest.fixture
def diagnose_document(
    app_server: Any, write_stack: Any, redis_server: Any, postgres_server: Any, run_cli: Any
) -> Any:
    """Diagnose a stack whose ``backend`` serves tests/data/health/NAME at ``status``, in
    front of a real, healthy Redis and PostgreSQL."""

    def run(name: str, status: int = 200) -> CliResult:
        stack = write_stack(
            {
                "backend": {
                    "url": app_server.url(f"/document/{name}?status={status}"),
                    "health": True,
                    "depends_on": ["redis", "postgres"],
                    "expect": {"status": [200, 503]},
                },
                "redis": {"url": redis_server.url()},
                "postgres": {"url": postgres_server.url()},
            }
        )
        result: CliResult = run_cli("diagnose", str(stack), "--json")
        return result

    return run


@pytest.mark.parametrize(
    "name",
    [
        "ietf-fail.json",
        "incident-error.json",
        "spring-boot-down.json",
        "microprofile-down.json",
        "aspnet-unhealthy.json",
        "readyz-verbose-failed.txt",
        "components-strings.json",
    ],
)
def test_a_failing_document_at_200_is_a_failure_with_a_note(
    diagnose_document: Any, name: str
) -> None:
    result = diagnose_document(name)

    assert result.status == 1, result.out
    backend = result.component("backend")
    assert backend["http_status"] == 200
    assert backend["status"] == "down"
    assert any(
        "answers 200 while its health document says it fails" in note for note in backend["notes"]
    ), backend


def test_the_incidents_document_blames_redis_as_seen_from_the_app(
    diagnose_document: Any,
) -> None:
    """The incident's own shape: 200, ``"status": "error"``, Redis failing with Error -3 while
    faultfinder reaches Redis fine."""
    result = diagnose_document("incident-error.json")

    [cause] = result.json()["root_causes"]
    assert (cause["component"], cause["code"], cause["owner"], cause["vantage"]) == (
        "redis",
        "dns.temporary_failure",
        "infrastructure",
        "backend",
    )
    assert result.component("backend")["code"] == "dependency.failed"


def test_a_warning_document_makes_the_stack_degraded(diagnose_document: Any) -> None:
    result = diagnose_document("ietf-warn.json")

    assert result.status == 1, result.out
    document = result.json()
    assert document["status"] == "degraded"
    assert document["root_causes"] == []
    backend = result.component("backend")
    assert (backend["status"], backend["warning"]) == ("degraded", "app.degraded")
    assert any("the pool is saturated" in line for line in backend["evidence"])
    assert document["verdict"]["owner"] == "application"


def test_the_apps_own_pool_is_the_apps_fault(diagnose_document: Any) -> None:
    """SQLAlchemy's "QueuePool limit … reached, connection timed out" while faultfinder reaches
    PostgreSQL fine: the app's pool, owner application, not tcp.timeout on the network."""
    result = diagnose_document("pool-exhausted.json", status=503)

    assert result.status == 1, result.out
    [cause] = result.json()["root_causes"]
    assert (cause["component"], cause["code"], cause["owner"], cause["vantage"]) == (
        "backend",
        "app.pool_exhausted",
        "application",
        "backend",
    )
    assert result.component("postgres")["status"] == "healthy"


def test_a_lookup_failure_for_an_address_literal_is_the_apps_environment(
    diagnose_document: Any,
) -> None:
    """ "Error -3 connecting to 10.166.204.83:6379": a literal needs no DNS lookup."""
    result = diagnose_document("literal-eai-again.json", status=503)

    [cause] = result.json()["root_causes"]
    assert (cause["component"], cause["code"], cause["owner"]) == (
        "backend",
        "platform.network_unavailable",
        "infrastructure",
    )
    assert result.component("redis")["status"] == "healthy"


def test_a_passing_document_stays_healthy(app_server: Any, write_stack: Any, run_cli: Any) -> None:
    stack = write_stack({"backend": {"url": app_server.url("/health"), "health": True}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    assert result.component("backend")["status"] == "healthy"
