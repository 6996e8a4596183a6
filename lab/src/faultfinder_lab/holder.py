"""Hold every PostgreSQL connection slot a normal user can get, until killed.

The lab's ``postgres-slots-exhausted`` scenario runs ``python -m faultfinder_lab.holder`` inside
the namespace (password in ``LAB_POSTGRES_PASSWORD``): it opens connections until the server
refuses with SQLSTATE 53300, prints ``holding N connections`` and waits. The app's pool,
opened earlier, keeps working; every new client is refused, as in the real incident pattern.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import asyncpg

READY = "holding"
LIMIT = 500  # a safety stop if the server's limit is far higher than the lab's


async def hold(host: str, port: int, user: str, database: str, password: str) -> None:
    connections: list[Any] = []
    while len(connections) < LIMIT:
        try:
            connection = await asyncpg.connect(
                host=host, port=port, user=user, password=password, database=database, timeout=5
            )
        except asyncpg.TooManyConnectionsError:
            break
        connections.append(connection)
    print(f"{READY} {len(connections)} connections", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    password = os.environ.get("LAB_POSTGRES_PASSWORD", "")
    asyncio.run(hold(args.host, args.port, args.user, args.database, password))


if __name__ == "__main__":
    main()
