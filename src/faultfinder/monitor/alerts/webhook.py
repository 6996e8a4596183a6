"""HTTP channels: the generic JSON webhook and the Slack-compatible incoming webhook."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from faultfinder.config import AlertSpec
from faultfinder.errors import AlertError
from faultfinder.monitor.alerts import Alert
from faultfinder.monitor.alerts.payload import alert_document, slack_message
from faultfinder.redact import Redactor

BODIES: dict[str, Callable[[Alert], dict[str, Any]]] = {
    "webhook": alert_document,
    "slack": slack_message,
}


@dataclass
class WebhookChannel:
    kind: str
    url: str
    headers: dict[str, str]
    timeout: float
    client: httpx.AsyncClient
    redactor: Redactor

    @property
    def name(self) -> str:
        parts = urlsplit(self.url)  # the path of a Slack URL is its token: never shown
        return f"{self.kind} {parts.scheme}://{parts.hostname}"

    async def send(self, alert: Alert) -> None:
        body = BODIES[self.kind](alert)
        text = self.redactor(json.dumps(body, ensure_ascii=False, sort_keys=True))
        headers = {"content-type": "application/json", **self.headers}
        try:
            response = await self.client.post(
                self.url, content=text.encode(), headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise AlertError(f"{self.name}: {type(error).__name__}: {error}") from error
        if response.status_code >= 300:
            raise AlertError(f"{self.name} answered {response.status_code}: {response.text[:200]}")


def channel(spec: AlertSpec, client: httpx.AsyncClient, redactor: Redactor) -> WebhookChannel:
    assert spec.url is not None  # the stack file's validation requires it
    return WebhookChannel(spec.type, spec.url, dict(spec.headers), spec.timeout, client, redactor)
