"""What an alert says, as our JSON document and as a Slack message (pure)."""

from __future__ import annotations

import datetime
from typing import Any

from faultfinder.clock import utc_iso
from faultfinder.diagnosis import narrative
from faultfinder.monitor.alerts import DOWN, RESOLVED, Alert

SCHEMA = "faultfinder.alert/v1"
COLORS = {DOWN: "#d00000", RESOLVED: "#2eb886"}
STILL_COLOR = "#ff8c00"


def headline(alert: Alert) -> str:
    change = alert.change
    where = f"[{alert.stack}] {alert.component}"
    if alert.event == RESOLVED:
        return f"{where} recovered after {_duration(alert.at - alert.since)} (now {change.new})"
    code = f": {change.code}" if change.code else ""
    owner = f" — owner: {change.owner}" if change.owner else ""
    if alert.event == DOWN:
        return f"{where} is DOWN{code}{owner}"
    return f"{where} is still DOWN after {_duration(alert.at - alert.since)}{code}{owner}"


def alert_document(alert: Alert) -> dict[str, Any]:
    """The generic webhook's body (docs/watch.md documents every key)."""
    change = alert.change
    return {
        "schema": SCHEMA,
        "id": alert.id,
        "event": alert.event,
        "stack": alert.stack,
        "component": alert.component,
        "agent": alert.agent,
        "status": change.new.value,
        "previous": change.old.value,
        "since": utc_iso(alert.since),
        "at": utc_iso(alert.at),
        **change.diagnosis_json(),
        "text": headline(alert),
    }


def slack_message(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` plus one attachment (Slack, Mattermost, …)."""
    change = alert.change
    fields = [
        ("Owner", change.owner),
        ("Code", change.code or "—"),
        ("Status", change.new.value),
        ("Agent", alert.agent),
        ("Since", utc_iso(alert.since)),
    ]
    body = _story(alert)
    return {
        "text": headline(alert),
        "attachments": [
            {
                "fallback": headline(alert),
                "color": COLORS.get(alert.event, STILL_COLOR),
                "title": headline(alert),
                "text": "\n".join(body),
                "fields": [{"title": t, "value": v, "short": True} for t, v in fields],
                "footer": "faultfinder",
                "ts": int(alert.at.timestamp()),
                "mrkdwn_in": ["text"],
            }
        ],
    }


# The story's lines (diagnosis.narrative) in Slack's mrkdwn: the same groups as every front end.
_MRKDWN = {
    narrative.HEADLINE: "*Diagnosis:* {}",
    narrative.GROUP: "*Cause:* {}",
    narrative.FIX: "*Fix:* {}",
    narrative.WHY: "• {}",
}


def _story(alert: Alert) -> list[str]:
    """What the change's diagnosis says, brief: a recovery needs only its headline."""
    change = alert.change
    story = narrative.Story(
        status=change.new.value,
        owner=str(change.owner),
        confidence=change.confidence or 0.0,
        summary=change.summary,
        doubts=(),
        groups=change.groups if alert.event != RESOLVED else (),
        causes={cause.component: cause for cause in change.root_causes},
        why=change.why if alert.event != RESOLVED else (),
    )
    body: list[str] = []
    for line in narrative.lines(story, brief=True):
        if line.kind == narrative.WHY and "*Why:*" not in body:
            body.append("*Why:*")
        if line.kind in _MRKDWN:
            body.append(_MRKDWN[line.kind].format(line.text))
    return body


def _duration(span: datetime.timedelta) -> str:
    seconds = max(0, round(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"
