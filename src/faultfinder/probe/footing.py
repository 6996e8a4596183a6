"""The prober checks its own footing before blaming targets: can it resolve and connect at all?"""

from __future__ import annotations

import asyncio

from faultfinder.probe._steps import resolve_addresses


async def check_footing(seconds: float = 1.0) -> tuple[str, ...]:
    """Problems with this machine's own ability to probe; empty when it stands fine.

    It touches only this host: a lookup of ``localhost`` and a connection to a listener it opens
    on loopback. A failure here means every other verdict may be this machine's fault.
    """
    problems: list[str] = []
    try:
        async with asyncio.timeout(seconds):
            # not loop.getaddrinfo: asyncio.run joins its executor, so a hung lookup held exit
            await resolve_addresses("localhost", None)
    except (OSError, TimeoutError) as error:
        problems.append(f"faultfinder cannot resolve 'localhost' here ({error or 'timed out'})")
    try:
        async with asyncio.timeout(seconds):
            server = await asyncio.start_server(_close, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
            finally:
                server.close()
    except (OSError, TimeoutError) as error:
        problems.append(f"faultfinder cannot open a loopback connection ({error or 'timed out'})")
    return tuple(problems)


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()
