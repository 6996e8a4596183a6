"""``tcp://host:port``: resolve and connect, nothing more."""

from __future__ import annotations

from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import connect, resolve


async def probe(ladder: Ladder) -> None:
    connection = await connect(ladder, await resolve(ladder))
    connection.close()
