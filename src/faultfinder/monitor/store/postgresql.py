"""The PostgreSQL history store: several agents in several places share one history.

Each row carries its agent's name. Migrations run under an advisory lock, so agents that start
at the same time migrate once. asyncpg errors become ``StoreError`` here and go no further.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from faultfinder import clock
from faultfinder.clock import to_ms
from faultfinder.errors import StoreError
from faultfinder.monitor.store._sql import Parameters, Row, SqlStore, pending
from faultfinder.redact import redact_url

T = TypeVar("T")
CONNECT_TIMEOUT = 10.0


def open_url(url: str) -> PostgresStore:
    return PostgresStore(url)


class PostgresStore(SqlStore):
    dialect = "postgresql"

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._pool: Any = None  # asyncpg.Pool; asyncpg ships no type hints

    @property
    def url(self) -> str:
        return redact_url(self._dsn)

    async def _run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        if self._pool is None:
            raise StoreError(f"the history store {self.url} is not open")
        try:
            async with self._pool.acquire() as connection:
                return await work(connection)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise StoreError(f"history store {self.url}: {error}") from error

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=1, max_size=4, timeout=CONNECT_TIMEOUT
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
            raise StoreError(f"cannot open the history store {self.url}: {error}") from None
        await self._run(self._migrate)

    async def _migrate(self, connection: Any) -> None:
        async with connection.transaction():
            await connection.execute(self._sql["lock_schema"])
            await connection.execute(self._sql["create_schema_table"])
            current = int(await connection.fetchval(self._sql["schema_version"]))
            for migration in pending(self.dialect, current, self.url):
                await connection.execute(migration.script)
                await connection.execute(
                    self._sql["record_migration"],
                    migration.version,
                    migration.name,
                    to_ms(clock.now()),
                )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _fetch(self, query: str, *parameters: object) -> list[Row]:
        async def fetch(connection: Any) -> list[Row]:
            return list(await connection.fetch(self._sql[query], *parameters))

        return await self._run(fetch)

    async def _write(self, batches: Sequence[tuple[str, Sequence[Parameters]]]) -> None:
        async def write(connection: Any) -> None:
            async with connection.transaction():
                for query, rows in batches:
                    await connection.executemany(self._sql[query], rows)

        await self._run(write)

    async def _execute(self, statements: Sequence[tuple[str, Parameters]]) -> list[int]:
        async def execute(connection: Any) -> list[int]:
            async with connection.transaction():
                return [
                    _count(await connection.execute(self._sql[query], *parameters))
                    for query, parameters in statements
                ]

        return await self._run(execute)


def _count(status: str) -> int:
    """The row count of a command tag such as ``DELETE 12``."""
    return int(status.rsplit(" ", 1)[-1])
