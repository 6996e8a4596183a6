"""``tls://host:port``: resolve, connect and a verified handshake; reads the certificate."""

from __future__ import annotations

from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import connect, handshake, resolve


async def probe(ladder: Ladder) -> None:
    connection = await connect(ladder, await resolve(ladder))
    try:
        await handshake(ladder, connection)
    finally:
        connection.close()
