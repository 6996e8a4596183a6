"""``tcp://host:port``: resolve and connect, nothing more."""

from __future__ import annotations

from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import reach


async def probe(ladder: Ladder) -> None:
    await reach(ladder)
