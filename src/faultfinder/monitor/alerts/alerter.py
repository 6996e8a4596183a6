"""When to alert: a component going down, still down after ``resend``, and back up.

Healthy ↔ degraded is not an outage and sends nothing. Sends run in the background, so a
slow receiver never holds up probing; per channel they go out in order, so a receiver never
sees "resolved" before the "down" it resolves. A failed delivery is logged, never raised.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faultfinder.config import AlertSpec
from faultfinder.errors import AlertError
from faultfinder.model import Status
from faultfinder.monitor.alerts import DOWN, RESOLVED, STILL_DOWN, Alert, Channel
from faultfinder.monitor.view import StateChange
from faultfinder.redact import INLINE, Redactor

log = logging.getLogger("faultfinder.monitor")

# The diagnosis of one component now, for a resend: (component, since) → a StateChange.
Describe = Callable[[str, datetime.datetime], StateChange | None]


@dataclass
class _Outage:
    since: datetime.datetime
    last_sent: datetime.datetime
    change: StateChange


class Alerter:
    def __init__(
        self,
        stack: str,
        routes: Sequence[tuple[AlertSpec, Channel]],
        *,
        describe: Describe | None = None,
        redactor: Redactor = INLINE,
    ) -> None:
        self.stack = stack
        self.routes = list(routes)
        self.describe = describe
        self.redactor = redactor
        self.sent = 0
        self.failed = 0
        self._outages: dict[tuple[int, str], _Outage] = {}
        self._locks = [asyncio.Lock() for _ in self.routes]
        self._tasks: set[asyncio.Task[None]] = set()

    def _covers(self, spec: AlertSpec, component: str) -> bool:
        return spec.components is None or component in spec.components

    def restore(self, change: StateChange) -> None:
        """A component was already down before a restart: no new "down", resends go on."""
        if change.new is not Status.DOWN:
            return
        for index, (spec, _) in enumerate(self.routes):
            if self._covers(spec, change.component):
                self._outages[index, change.component] = _Outage(change.at, change.at, change)

    def notify(self, change: StateChange) -> None:
        """A state change: open an outage and send "down", or close one and send "resolved"."""
        went_down = change.new is Status.DOWN and change.old is not Status.DOWN
        came_back = change.old is Status.DOWN and change.new is not Status.DOWN
        for index, (spec, channel) in enumerate(self.routes):
            if not self._covers(spec, change.component):
                continue
            key = (index, change.component)
            if went_down:
                self._outages[key] = _Outage(change.at, change.at, change)
                self._send(index, channel, Alert(DOWN, self.stack, change.at, change.at, change))
            elif came_back and (outage := self._outages.pop(key, None)) and spec.send_resolved:
                alert = Alert(RESOLVED, self.stack, outage.since, change.at, change)
                self._send(index, channel, alert)

    def resend_due(self, now: datetime.datetime) -> None:
        """Send "still down" for every outage whose channel's ``resend`` period has passed."""
        for (index, component), outage in list(self._outages.items()):
            spec, channel = self.routes[index]
            if spec.resend is None or (now - outage.last_sent).total_seconds() < spec.resend:
                continue
            outage.last_sent = now
            fresh = self.describe(component, outage.since) if self.describe else None
            alert = Alert(STILL_DOWN, self.stack, outage.since, now, fresh or outage.change)
            self._send(index, channel, alert)

    def _send(self, index: int, channel: Channel, alert: Alert) -> None:
        task = asyncio.create_task(self._deliver(index, channel, alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, index: int, channel: Channel, alert: Alert) -> None:
        async with self._locks[index]:
            try:
                await channel.send(alert)
            except AlertError as error:
                self.failed += 1
                log.warning(
                    "alert %s for %s not delivered: %s",
                    alert.event,
                    alert.component,
                    self.redactor(str(error)),
                )
            else:
                self.sent += 1

    async def drain(self, seconds: float = 10.0) -> None:
        """Wait for the alerts in flight (at shutdown), up to ``seconds``."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
            for task in pending:
                task.cancel()
