"""``dns://name``: resolve only, with getaddrinfo, as an application would."""

from __future__ import annotations

from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import resolve


async def probe(ladder: Ladder) -> None:
    await resolve(ladder)
