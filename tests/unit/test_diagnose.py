"""Diagnosis is pure: results in, root causes and symptoms out. Tested with data."""

from __future__ import annotations

import json

from faultfinder import CheckResult, Phase, Status, diagnose, parse_stack

STACK = """\
name: incident
components:
  lb:
    url: https://api.example.test/health
    via: [backend]
    critical: true
  backend:
    url: http://app.example.test:8000/health/infrastructure
    depends_on: [postgres, redis]
    health: true
  postgres: {url: 'postgresql://app@db.example.test/app'}
  redis: {url: 'redis://redis.example.test:6379/0'}
"""
LADDER = {
    "https": ("dns", "tcp", "tls", "http"),
    "http": ("dns", "tcp", "http"),
    "postgresql": ("dns", "tcp", "postgres"),
    "redis": ("dns", "tcp", "redis"),
}
KINDS = {"lb": "https", "backend": "http", "postgres": "postgresql", "redis": "redis"}


def result(
    name: str,
    code: str | None = None,
    *,
    fail_at: str = "",
    detail: str = "",
    status_code: int | None = None,
    body: str = "",
    warning: str | None = None,
    evidence: tuple[str, ...] = ("seen",),
) -> CheckResult:
    phases = []
    for layer in LADDER[KINDS[name]]:
        if layer == fail_at:
            phases.append(Phase(layer, False, 1.0, detail))
            break
        phases.append(Phase(layer, True, 1.0))
    return CheckResult(
        component=name,
        kind=KINDS[name],
        target=name,
        phases=tuple(phases),
        code=code,
        warning=warning,
        evidence=evidence if code else (),
        status_code=status_code,
        body=body,
    )


def healthy(**overrides: CheckResult) -> dict[str, CheckResult]:
    results = {
        name: result(name, status_code=200 if name in ("lb", "backend") else None) for name in KINDS
    }
    results["backend"] = result(
        "backend", status_code=200, body=json.dumps({"status": "pass", "checks": {}})
    )
    results.update(overrides)
    return results


def health_document(status: str, **checks: dict[str, str]) -> str:
    return json.dumps(
        {
            "status": status,
            "checks": {
                f"{name}:ping": [{"status": check.get("status", "fail"), **check}]
                for name, check in checks.items()
            },
        }
    )


def run(results: dict[str, CheckResult]):  # type: ignore[no-untyped-def]
    return diagnose(parse_stack(STACK, "s.yaml", {}), results)


def test_healthy_stack_has_no_root_cause() -> None:
    diagnosis = run(healthy())
    assert diagnosis.status is Status.HEALTHY
    assert diagnosis.root_causes == ()
    assert diagnosis.verdict.owner == "none"
    assert diagnosis.why == ()


def test_proxy_503_over_a_dead_backend_is_a_symptom() -> None:
    diagnosis = run(
        healthy(
            lb=result(
                "lb",
                "proxy.no_healthy_upstream",
                fail_at="http",
                status_code=503,
                detail="503 from HAProxy: No server is available",
            ),
            backend=result("backend", "tcp.refused", fail_at="tcp"),
        )
    )
    assert [cause.component for cause in diagnosis.root_causes] == ["backend"]
    assert diagnosis.root_causes[0].code == "tcp.refused"
    lb = next(report for report in diagnosis.components if report.result.component == "lb")
    assert lb.code == "dependency.failed"
    assert lb.symptom_of == ("backend",)
    assert diagnosis.status is Status.DOWN
    assert diagnosis.why[0].startswith("lb fails at http")
    assert "backend" in diagnosis.why[1]


def test_chain_goes_to_the_deepest_failure() -> None:
    diagnosis = run(
        healthy(
            lb=result("lb", "proxy.no_healthy_upstream", fail_at="http", status_code=503),
            backend=result(
                "backend",
                "app.unhealthy",
                fail_at="http",
                status_code=503,
                body=health_document("fail", redis={"output": "Connection refused"}),
            ),
            redis=result("redis", "tcp.refused", fail_at="tcp"),
        )
    )
    assert [(c.component, c.code, c.vantage) for c in diagnosis.root_causes] == [
        ("redis", "tcp.refused", "faultfinder")
    ]
    symptoms = {r.result.component: r.symptom_of for r in diagnosis.components if r.symptom_of}
    assert symptoms == {"lb": ("backend",), "backend": ("redis",)}
    assert any("backend sees it too" in line for line in diagnosis.root_causes[0].evidence)
    assert [line.split(" ")[0] for line in diagnosis.why[:3]] == ["lb", "backend", "redis"]


def test_inside_view_blames_the_apps_path_when_faultfinder_reaches_the_dependency() -> None:
    output = "Error -3 connecting to redis.example.test:6379. Temporary failure in name resolution."
    diagnosis = run(
        healthy(
            lb=result("lb", "proxy.no_healthy_upstream", fail_at="http", status_code=503),
            backend=result(
                "backend",
                "app.unhealthy",
                fail_at="http",
                status_code=503,
                body=health_document("fail", redis={"output": output}),
            ),
        )
    )
    assert len(diagnosis.root_causes) == 1
    cause = diagnosis.root_causes[0]
    assert (cause.component, cause.code, cause.vantage, cause.owner) == (
        "redis",
        "dns.temporary_failure",
        "backend",
        "infrastructure",
    )
    assert "resolver" in cause.explanation
    assert output in cause.evidence[0]
    assert diagnosis.verdict.owner == "infrastructure"
    assert "from backend" in diagnosis.verdict.summary
    redis = next(report for report in diagnosis.components if report.result.component == "redis")
    assert redis.status is Status.DOWN
    assert diagnosis.why[-2].startswith("redis fails at the dns layer, as seen from backend")


def test_fault_code_in_the_document_wins_over_the_output_text() -> None:
    diagnosis = run(
        healthy(
            backend=result(
                "backend",
                "app.unhealthy",
                fail_at="http",
                status_code=503,
                body=health_document(
                    "fail",
                    postgres={"faultCode": "postgres.auth_failed", "output": "Connection refused"},
                ),
            ),
        )
    )
    cause = diagnosis.root_causes[0]
    assert (cause.component, cause.code, cause.owner) == (
        "postgres",
        "postgres.auth_failed",
        "configuration",
    )


def test_failing_document_without_a_failing_dependency_is_the_app() -> None:
    diagnosis = run(
        healthy(
            backend=result(
                "backend",
                "app.unhealthy",
                fail_at="http",
                status_code=503,
                body=health_document("fail", disk={"output": "disk full"}),
            ),
        )
    )
    assert [(c.component, c.code, c.owner) for c in diagnosis.root_causes] == [
        ("backend", "app.unhealthy", "application")
    ]
    assert any("disk:ping fail (disk full)" in line for line in diagnosis.root_causes[0].evidence)


def test_spring_boot_actuator_document_is_read_by_alias() -> None:
    body = json.dumps(
        {
            "status": "DOWN",
            "components": {
                "db": {"status": "DOWN", "details": {"error": "FATAL: too many clients already"}},
                "diskSpace": {"status": "UP"},
            },
        }
    )
    diagnosis = run(
        healthy(
            backend=result("backend", "app.unhealthy", fail_at="http", status_code=503, body=body),
        )
    )
    assert [(c.component, c.code) for c in diagnosis.root_causes] == [
        ("postgres", "postgres.too_many_connections")
    ]


def test_independent_faults_give_several_root_causes_and_mixed_owner() -> None:
    diagnosis = run(
        healthy(
            lb=result("lb", "tls.hostname_mismatch", fail_at="tls"),
            postgres=result("postgres", "postgres.too_many_connections", fail_at="postgres"),
        )
    )
    assert [c.component for c in diagnosis.root_causes] == ["lb", "postgres"]
    assert diagnosis.verdict.owner == "mixed"
    single = run(healthy(lb=result("lb", "tls.hostname_mismatch", fail_at="tls")))
    assert diagnosis.verdict.confidence < single.verdict.confidence


def test_own_layer_failure_is_never_a_symptom() -> None:
    diagnosis = run(
        healthy(
            lb=result("lb", "tls.expired", fail_at="tls"),
            backend=result("backend", "app.error", fail_at="http", status_code=500),
        )
    )
    assert {c.component for c in diagnosis.root_causes} == {"lb", "backend"}


def test_warning_only_is_degraded_with_no_root_cause() -> None:
    diagnosis = run(healthy(lb=result("lb", warning="tls.expiring_soon")))
    assert diagnosis.status is Status.DEGRADED
    assert diagnosis.root_causes == ()
    assert diagnosis.verdict.owner == "infrastructure"


def test_everything_failing_at_dns_or_tcp_doubts_faultfinders_own_network() -> None:
    everything = {name: result(name, "dns.temporary_failure", fail_at="dns") for name in KINDS}
    diagnosis = run(everything)
    assert any("faultfinder's own network" in note for note in diagnosis.notes)
    one = run(healthy(redis=result("redis", "dns.temporary_failure", fail_at="dns")))
    assert diagnosis.verdict.confidence < one.verdict.confidence - 0.3


def test_non_critical_failure_only_degrades_a_stack_with_critical_components() -> None:
    diagnosis = run(
        healthy(
            backend=result("backend", "http.unexpected_status", fail_at="http", status_code=404),
        )
    )
    # backend is not critical, and lb (critical) passes
    assert diagnosis.status is Status.DEGRADED
    assert [c.component for c in diagnosis.root_causes] == ["backend"]


def test_unreadable_health_documents_are_notes_not_crashes() -> None:
    for body in (
        "<html>oops</html>",
        "[1, 2]",
        '{"checks": 5}',
        "{" * 100_000,
        json.dumps({"status": "fail", "checks": {"redis:x": "nonsense"}}),
        "x" * 300_000,
    ):
        diagnosis = run(
            healthy(
                backend=result(
                    "backend", "app.unhealthy", fail_at="http", status_code=503, body=body
                ),
            )
        )
        assert [c.code for c in diagnosis.root_causes] == ["app.unhealthy"]
