"""Health documents of every common shape are read; anything else is a note, never an exception."""

from __future__ import annotations

import json

import pytest

from faultfinder.classify.health_documents import read_health_document, why_unreadable


def test_ietf_document_checks_are_split_into_name_and_measurement() -> None:
    view = read_health_document(
        json.dumps(
            {
                "status": "fail",
                "checks": {
                    "redis:ping": [
                        {
                            "status": "fail",
                            "componentType": "datastore",
                            "output": "Error -3 connecting to redis.internal:6379.",
                            "faultCode": "dns.temporary_failure",
                        }
                    ],
                    "postgres:connections": [{"status": "pass", "observedValue": 3}],
                },
            }
        )
    )
    assert view is not None
    assert (view.status, view.shape) == ("fail", "ietf")
    failing = view.failing()
    assert [(c.name, c.measurement, c.code) for c in failing] == [
        ("redis", "ping", "dns.temporary_failure")
    ]


def test_output_text_is_classified_when_no_fault_code_is_given() -> None:
    view = read_health_document(
        json.dumps(
            {
                "status": "fail",
                "checks": {
                    "redis:ping": [
                        {
                            "status": "fail",
                            "output": "[Errno -3] Temporary failure in name resolution",
                        }
                    ]
                },
            }
        )
    )
    assert view is not None
    assert view.failing()[0].code == "dns.temporary_failure"


def test_unknown_fault_code_falls_back_to_the_output() -> None:
    view = read_health_document(
        json.dumps(
            {
                "status": "fail",
                "checks": {
                    "db:x": [
                        {
                            "status": "fail",
                            "faultCode": "made.up",
                            "output": "too many clients already",
                        }
                    ]
                },
            }
        )
    )
    assert view is not None
    assert view.failing()[0].code == "postgres.too_many_connections"


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("UP", "pass"),
        ("ok", "pass"),
        ("DOWN", "fail"),
        ("OUT_OF_SERVICE", "fail"),
        ("UNKNOWN", "warn"),
        ("warn", "warn"),
        ("???", "fail"),
    ],
)
def test_status_words_are_normalized(value: str, normal: str) -> None:
    view = read_health_document(json.dumps({"status": value}))
    assert view is not None
    assert (view.status, view.shape) == (normal, "plain")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "empty body"),
        ("<html></html>", "neither JSON nor a status"),
        ("[]", "no status and no checks"),
        ('{"checks": {}}', "no status and no checks"),
        ('{"version": "1.2.3"}', "no status and no checks"),
        ("x" * 300_000, "larger than"),
        ("[" * 50_000, "neither JSON nor a status"),
    ],
)
def test_unreadable_bodies(body: str, reason: str) -> None:
    assert read_health_document(body) is None
    assert reason in why_unreadable(body)


def test_odd_entries_inside_a_valid_document_are_skipped() -> None:
    view = read_health_document(
        json.dumps(
            {
                "status": "fail",
                "checks": {
                    "a:b": "nonsense",
                    "c": [1, None, {"status": "fail", "output": {"nested": True}}],
                },
            }
        )
    )
    assert view is not None
    assert [(c.name, c.output) for c in view.failing()] == [("c", '{"nested": true}')]
