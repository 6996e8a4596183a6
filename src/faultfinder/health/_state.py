"""The app's own availability: start-up, draining, out of service (Spring's AvailabilityState).

Readiness is ``REFUSING_TRAFFIC`` while the app's declared start-up work runs, while it drains
on SIGTERM (it still serves in-flight requests while load balancers stop sending new ones) and
while the app marks itself out of service; ``/health/startup`` fails until start-up is done.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from types import FrameType
from typing import Any

ACCEPTING = "ACCEPTING_TRAFFIC"
REFUSING = "REFUSING_TRAFFIC"


@dataclass
class Availability:
    """What the app says of itself; the checks say what it finds of its dependencies."""

    starting: bool = False  # declared start-up work not done yet
    start_failed: str | None = None  # why start-up failed
    draining: bool = False
    out_of_service: str | None = None  # why the app took itself out

    @property
    def started(self) -> bool:
        return not self.starting and self.start_failed is None

    def refusing(self) -> str | None:
        """Why readiness refuses traffic, or None when it accepts it."""
        if self.start_failed is not None:
            return f"start-up failed: {self.start_failed}"
        if self.starting:
            return "starting: the app's start-up work is not done"
        if self.draining:
            return "draining: the app is shutting down and finishing in-flight requests"
        if self.out_of_service is not None:
            return f"out of service: {self.out_of_service}"
        return None


def drain_on_sigterm(availability: Availability, seconds: float) -> None:
    """Replace the SIGTERM handler: drain now, run the one there was ``seconds`` later."""
    if seconds < 0:
        raise ValueError("the drain lasts zero seconds or more")
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def handle(number: int, frame: FrameType | None) -> None:
        availability.draining = True
        loop.call_soon_threadsafe(loop.call_later, seconds, _hand_over, previous, number, frame)

    signal.signal(signal.SIGTERM, handle)


def _hand_over(previous: Any, number: int, frame: FrameType | None) -> None:
    """The SIGTERM handler there was before the drain's, or the default: end the process."""
    if callable(previous):
        previous(number, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
