"""What an alert says: the generic JSON document and the Slack incoming-webhook message."""

from __future__ import annotations

import datetime

from faultfinder.model import RootCause, Status
from faultfinder.monitor.alerts import Alert
from faultfinder.monitor.alerts.payload import alert_document, headline, slack_message
from faultfinder.monitor.view import StateChange

DOWN_AT = datetime.datetime(2026, 5, 4, 3, 0, 0, tzinfo=datetime.UTC)
LATER = DOWN_AT + datetime.timedelta(minutes=3, seconds=12)
CAUSE = RootCause(
    "redis",
    "dns.temporary_failure",
    "dns",
    "infrastructure",
    "backend",
    0.8,
    "backend cannot resolve redis",
    ("EAI_AGAIN",),
    "fix the resolver",
)
DOWN = StateChange(
    component="backend",
    at=DOWN_AT,
    agent="eu-1",
    old=Status.HEALTHY,
    new=Status.DOWN,
    code="dependency.failed",
    owner="infrastructure",
    summary="redis: the resolver is unreachable from backend",
    why=(
        "backend fails at http (503) because redis, which it needs, fails.",
        "redis fails at the dns layer, as seen from backend: dns.temporary_failure.",
    ),
    layer="http",
    symptom_of=("redis",),
    confidence=0.8,
    root_causes=(CAUSE,),
)
BACK = StateChange(
    "backend", LATER, "eu-1", Status.DOWN, Status.HEALTHY, None, "none", "all components healthy"
)


def test_the_json_document_carries_summary_owner_why_and_one_id_per_outage() -> None:
    document = alert_document(Alert("down", "staging", DOWN_AT, DOWN_AT, DOWN))
    assert document == {
        "schema": "faultfinder.alert/v1",
        "id": "staging/eu-1/backend/1777863600000",
        "event": "down",
        "stack": "staging",
        "component": "backend",
        "agent": "eu-1",
        "status": "down",
        "previous": "healthy",
        "since": "2026-05-04T03:00:00.000Z",
        "at": "2026-05-04T03:00:00.000Z",
        "code": "dependency.failed",
        "layer": "http",
        "owner": "infrastructure",
        "symptom_of": ["redis"],
        "summary": "redis: the resolver is unreachable from backend",
        "confidence": 0.8,
        "why": list(DOWN.why),
        "root_causes": [CAUSE.to_json()],
        "groups": [],  # issue 19: the root causes by shared cause (none given to this change)
        "text": "[staging] backend is DOWN: dependency.failed — owner: infrastructure",
    }
    resolved = alert_document(Alert("resolved", "staging", DOWN_AT, LATER, BACK))
    assert resolved["id"] == document["id"]
    assert resolved["text"] == "[staging] backend recovered after 3m12s (now healthy)"


def test_the_slack_message_has_text_and_one_coloured_attachment_with_the_why_chain() -> None:
    message = slack_message(Alert("still_down", "staging", DOWN_AT, LATER, DOWN))
    assert message["text"] == (
        "[staging] backend is still DOWN after 3m12s: dependency.failed — owner: infrastructure"
    )
    (attachment,) = message["attachments"]
    assert attachment["color"] == "#ff8c00"
    assert attachment["text"].splitlines() == [
        "*Diagnosis:* redis: the resolver is unreachable from backend",
        "*Why:*",
        "• backend fails at http (503) because redis, which it needs, fails.",
        "• redis fails at the dns layer, as seen from backend: dns.temporary_failure.",
    ]
    assert {field["title"]: field["value"] for field in attachment["fields"]} == {
        "Owner": "infrastructure",
        "Code": "dependency.failed",
        "Status": "down",
        "Agent": "eu-1",
        "Since": "2026-05-04T03:00:00.000Z",
    }
    assert attachment["ts"] == int(LATER.timestamp())
    resolved = slack_message(Alert("resolved", "staging", DOWN_AT, LATER, BACK))
    assert resolved["attachments"][0]["color"] == "#2eb886"
    assert "*Why:*" not in resolved["attachments"][0]["text"]
    assert headline(Alert("down", "s", DOWN_AT, DOWN_AT, DOWN)).startswith("[s] backend is DOWN")


def test_slack_tells_a_shared_cause_once_with_its_fix() -> None:
    # issue 19: five components refusing on one host are one cause in the alert too
    from dataclasses import replace

    from faultfinder.model import CauseGroup

    group = CauseGroup(
        "tcp.refused",
        "infrastructure",
        "tcp",
        "faultfinder",
        "host",
        "10.0.0.5",
        ("lb", "backend", "docs", "postgres", "redis"),
        0.9,
        "5 components on 10.0.0.5 refuse connections: lb, backend, docs, postgres, redis",
        "Start the service",
    )
    change = replace(
        DOWN,
        summary=group.title,
        groups=(group,),
        root_causes=(),
        why=(
            "lb, backend, docs, postgres and redis fail at the tcp layer.",
            "Owner: infrastructure. Next step: Start the service",
        ),
    )
    message = slack_message(Alert("down", "staging", DOWN_AT, DOWN_AT, change))
    assert message["attachments"][0]["text"].splitlines() == [
        f"*Diagnosis:* {group.title}",
        f"*Cause:* {group.title} — tcp.refused, owner infrastructure, confidence 0.90",
        "*Fix:* Start the service",
        "*Why:*",
        "• lb, backend, docs, postgres and redis fail at the tcp layer.",
        "• Owner: infrastructure. Next step: Start the service",
    ]
    assert alert_document(Alert("down", "staging", DOWN_AT, DOWN_AT, change))["groups"] == [
        group.to_json()
    ]
