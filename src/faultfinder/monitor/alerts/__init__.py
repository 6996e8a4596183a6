"""Alerts on state changes: one ``Channel`` Protocol, one module per kind, one registry.

A channel only delivers; when to send (down, resend while down, resolved) is the
``Alerter``'s. Channels: ``webhook`` (our JSON document), ``slack`` (a Slack-compatible
incoming webhook) and ``command`` (a program run with the JSON document on stdin).
"""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from faultfinder.config import AlertSpec
from faultfinder.errors import AlertError
from faultfinder.monitor.view import StateChange
from faultfinder.redact import INLINE, Redactor

__all__ = ["CHANNELS", "Alert", "AlertError", "Channel", "build_channel"]

# ``type:`` in the stack file → the module (in this package) whose ``channel(spec, client)``
# builds it.
CHANNELS = {"webhook": "webhook", "slack": "webhook", "command": "command"}

DOWN = "down"
STILL_DOWN = "still_down"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One message about one component: it went down, is still down, or is back."""

    event: str  # down | still_down | resolved
    stack: str
    since: datetime.datetime  # when it went down
    at: datetime.datetime  # when this alert was made
    change: StateChange  # the diagnosis behind it: at the fall, now (resend), at the recovery

    @property
    def component(self) -> str:
        return self.change.component

    @property
    def agent(self) -> str:
        return self.change.agent

    @property
    def id(self) -> str:
        """The same for every alert about one outage, so receivers can pair them up."""
        since = round(self.since.timestamp() * 1000)
        return f"{self.stack}/{self.agent}/{self.component}/{since}"


class Channel(Protocol):
    @property
    def name(self) -> str:
        """How logs name it, with no secret in it."""
        ...

    async def send(self, alert: Alert) -> None:
        """Deliver one alert; raises ``AlertError`` when it cannot."""
        ...


def build_channel(spec: AlertSpec, client: Any, redactor: Redactor = INLINE) -> Channel:
    """The channel of one ``alerts:`` entry; ``client`` is the shared ``httpx.AsyncClient``."""
    module = importlib.import_module(f"{__name__}.{CHANNELS[spec.type]}")
    channel: Channel = module.channel(spec, client, redactor)
    return channel
