"""What the history keeps of a result and a state change, and what it drops (pure)."""

from __future__ import annotations

import datetime

from faultfinder.clock import from_ms, now_ms, to_ms
from faultfinder.model import Certificate, CheckResult, Phase, RootCause, Status
from faultfinder.monitor.records import (
    change_from,
    change_row,
    level,
    reading_from,
    reading_row,
)
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.redact import Redactor

AT = datetime.datetime(2026, 5, 4, 3, 2, 1, 123000, tzinfo=datetime.UTC)


def test_times_are_whole_milliseconds_both_ways() -> None:
    assert to_ms(AT) == 1777863721123
    assert from_ms(to_ms(AT)) == AT
    assert now_ms().microsecond % 1000 == 0


def test_a_result_round_trips_without_its_body_and_with_secrets_masked() -> None:
    certificate = Certificate(
        "CN=api",
        "CN=ca",
        ("api.test",),
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
        200.5,
    )
    result = CheckResult(
        component="api",
        kind="https",
        target="https://api.test/health",
        phases=(
            Phase("dns", True, 0.4),
            Phase("tls", True, 3.1, "TLSv1.3"),
            Phase("http", False, 1.2, "503"),
        ),
        code="app.error",
        warning="tls.expiring_soon",
        evidence=("token=abc123 leaked", "the app said s3cret-value"),
        status_code=503,
        certificate=certificate,
        addresses=("127.0.0.1",),
        body='{"status": "fail"}',
        content_type="application/json",
        duration_ms=4.7,
        timings={"resolve": 0.4},
    )
    row = reading_row(Reading("api", AT, "eu-1", result), Redactor({"s3cret-value"}))
    assert (row.agent, row.component, row.at_ms, row.ok, row.status, row.code) == (
        "eu-1",
        "api",
        to_ms(AT),
        False,
        "down",
        "app.error",
    )
    assert "fail" not in row.result
    assert "s3cret-value" not in row.result
    back = reading_from(row.agent, row.component, row.at_ms, row.code, row.duration_ms, row.result)
    assert back.at == AT
    assert back.agent == "eu-1"
    assert back.result.phases == result.phases
    assert back.result.evidence == ("token=*** leaked", "the app said ***")
    assert back.result.certificate == certificate
    assert (back.result.warning, back.result.status_code, back.result.addresses) == (
        "tls.expiring_soon",
        503,
        ("127.0.0.1",),
    )
    assert back.result.body == ""


def test_a_state_change_round_trips_with_its_diagnosis() -> None:
    cause = RootCause(
        "db",
        "tcp.refused",
        "tcp",
        "infrastructure",
        "faultfinder",
        0.9,
        "nothing listens",
        ("refused",),
        "start it",
    )
    change = StateChange(
        component="api",
        at=AT,
        agent="eu-1",
        old=Status.HEALTHY,
        new=Status.DOWN,
        code="dependency.failed",
        owner="infrastructure",
        summary="db: nothing listens",
        why=("api fails because db fails.", "db fails at the tcp layer."),
        layer="http",
        symptom_of=("db",),
        confidence=0.85,
        root_causes=(cause,),
    )
    row = change_row(change)
    back = change_from(
        {
            "component": row.component,
            "agent": row.agent,
            "at_ms": row.at_ms,
            "old": row.old,
            "new": row.new,
            "code": row.code,
            "owner": row.owner,
            "summary": row.summary,
            "detail": row.detail,
        }
    )
    assert back == change


def test_a_results_level_is_down_when_it_failed_and_degraded_when_it_only_warned() -> None:
    base = CheckResult("a", "tcp", "tcp://x:1", ())
    assert level(base) is Status.HEALTHY
    assert level(CheckResult("a", "tcp", "tcp://x:1", (), warning="tls.expiring_soon")) is (
        Status.DEGRADED
    )
    assert level(CheckResult("a", "tcp", "tcp://x:1", (), code="tcp.refused")) is Status.DOWN
