"""The health document (docs/contract.md §4): its shape, its status rules, and its round trip."""

from __future__ import annotations

import datetime
import json

import pytest

from faultfinder.classify.health_documents import read_health_document
from faultfinder.health import MEDIA_TYPE, Observation, Outcome, PoolUsage, build_document
from faultfinder.health._document import http_status, overall_status

TIME = datetime.datetime(2026, 11, 28, 19, 21, 30, 123000, tzinfo=datetime.UTC)

ENTRY_KEYS = {
    "componentType",
    "status",
    "observedValue",
    "observedUnit",
    "time",
    "output",
    "faultCode",
    "layer",
    "owner",
    "durationMs",
}


def outcome(
    name: str,
    status: str = "pass",
    *,
    critical: bool = True,
    code: str | None = None,
    output: str = "",
    pool: PoolUsage | None = None,
) -> Outcome:
    observations = [
        Observation("responseTime", status, 1.5 if status == "pass" else None, "ms", output, code)
    ]
    if pool is not None:
        observations.append(pool.observation())
    return Outcome(name, "datastore", critical, tuple(observations), TIME, 12.3, pool)


def test_media_type_is_the_ietf_one() -> None:
    assert MEDIA_TYPE == "application/health+json"


def test_every_check_object_has_every_contract_key() -> None:
    document = build_document(
        [outcome("redis", "fail", code="redis.timeout", output="no reply"), outcome("postgres")],
        details=True,
    )

    assert document["status"] == "fail"
    checks = document["checks"]
    assert isinstance(checks, dict)
    assert list(checks) == ["postgres:responseTime", "redis:responseTime"]  # sorted
    failing = checks["redis:responseTime"][0]
    assert set(failing) == ENTRY_KEYS
    assert failing == {
        "componentType": "datastore",
        "status": "fail",
        "observedValue": None,
        "observedUnit": "ms",
        "time": "2026-11-28T19:21:30.123Z",
        "output": "no reply",
        "faultCode": "redis.timeout",
        "layer": "redis",
        "owner": "infrastructure",
        "durationMs": 12.3,
    }
    passing = checks["postgres:responseTime"][0]
    assert set(passing) == ENTRY_KEYS
    assert (passing["faultCode"], passing["owner"], passing["output"]) == (None, None, "")


def test_anonymous_callers_get_the_status_only() -> None:
    document = build_document(
        [outcome("redis", "fail", code="tcp.refused")], details=False, about={"serviceId": "api"}
    )

    assert document == {"status": "fail"}


def test_about_keys_appear_with_details() -> None:
    document = build_document([outcome("redis")], details=True, about={"serviceId": "api"})

    assert document["serviceId"] == "api"


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], "pass"),
        ([outcome("a"), outcome("b")], "pass"),
        ([outcome("a"), outcome("b", "warn")], "warn"),
        ([outcome("a"), outcome("b", "fail", critical=False)], "warn"),
        ([outcome("a", "warn"), outcome("b", "fail")], "fail"),
    ],
)
def test_overall_status(outcomes: list[Outcome], expected: str) -> None:
    assert overall_status(outcomes) == expected


@pytest.mark.parametrize(("status", "code"), [("pass", 200), ("warn", 200), ("fail", 503)])
def test_http_status(status: str, code: int) -> None:
    assert http_status(status) == code


def test_known_secrets_and_inline_credentials_are_masked() -> None:
    text = "AUTH hunter22 failed for redis://app:hunter22@cache:6379 (password=hunter22)"
    document = build_document(
        [outcome("redis", "fail", code="redis.auth_failed", output=text)],
        details=True,
        secrets={"hunter22"},
    )

    assert "hunter22" not in json.dumps(document)
    assert "***" in json.dumps(document)


def test_an_unknown_fault_code_is_not_passed_on() -> None:
    document = build_document([outcome("x", "fail", code="no.such_code")], details=True)

    entry = document["checks"]["x:responseTime"][0]  # type: ignore[index]
    assert (entry["faultCode"], entry["layer"], entry["owner"]) == (None, None, None)


def test_saturated_pool_warns_with_its_figures() -> None:
    pool = PoolUsage(open=5, in_use=5, capacity=5, waiting=2)
    document = build_document([outcome("postgres", pool=pool)], details=True)

    assert document["status"] == "warn"
    entry = document["checks"]["postgres:connections"][0]  # type: ignore[index]
    assert entry["status"] == "warn"
    assert (entry["observedValue"], entry["observedUnit"]) == (5, "connections")
    assert entry["output"].startswith("5 in use of 5 open (max 5), 2 waiting: the pool is")


@pytest.mark.parametrize(
    ("usage", "saturated"),
    [
        (PoolUsage(open=3, in_use=3, capacity=3, waiting=0), True),
        (PoolUsage(open=3, in_use=2, capacity=3, waiting=0), False),
        (PoolUsage(open=3, in_use=2, capacity=3, waiting=1), True),
        (PoolUsage(open=9, in_use=9, capacity=None, waiting=None), False),
    ],
)
def test_pool_saturation(usage: PoolUsage, saturated: bool) -> None:
    assert usage.saturated is saturated
    assert usage.observation().status == ("warn" if saturated else "pass")


def test_round_trip_through_diagnose_reader() -> None:
    outcomes = [
        outcome(
            "redis",
            "fail",
            code="dns.temporary_failure",
            output="[Errno -3] Temporary failure in name resolution",
        ),
        outcome("postgres", pool=PoolUsage(2, 1, 10, 0)),
        outcome("search", "fail", critical=False, output="it broke"),
    ]
    body = json.dumps(build_document(outcomes, details=True))

    view = read_health_document(body)

    assert view is not None
    assert (view.status, view.shape) == ("fail", "ietf")
    by_key = {(check.name, check.measurement): check for check in view.checks}
    assert set(by_key) == {
        ("redis", "responseTime"),
        ("postgres", "responseTime"),
        ("postgres", "connections"),
        ("search", "responseTime"),
    }
    redis = by_key["redis", "responseTime"]
    assert (redis.status, redis.code, redis.component_type) == (
        "fail",
        "dns.temporary_failure",
        "datastore",
    )
    assert [check.name for check in view.failing()] == ["redis", "search"]
    assert by_key["search", "responseTime"].code is None
