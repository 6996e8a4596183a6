"""The PostgreSQL history store: several agents in several places share one history.

Each row carries its agent's name. Migrations run under an advisory lock, so agents that start
at the same time migrate once. asyncpg errors become ``StoreError`` here and go no further.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import asyncpg

from faultfinder.config import redact_url
from faultfinder.monitor.records import (
    change_from,
    change_row,
    observation_from,
    observation_row,
    to_ms,
)
from faultfinder.monitor.store import Availability, Downsampled, StoreError
from faultfinder.monitor.store._sql import migrations, queries
from faultfinder.monitor.view import Observation, StateChange

T = TypeVar("T")
DIALECT = "postgresql"
CONNECT_TIMEOUT = 10.0


def open_url(url: str) -> PostgresStore:
    return PostgresStore(url)


class PostgresStore:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._sql = queries(DIALECT)
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
        known = migrations(DIALECT)
        async with connection.transaction():
            await connection.execute(self._sql["lock_schema"])
            await connection.execute(self._sql["create_schema_table"])
            current = int(await connection.fetchval(self._sql["schema_version"]))
            if current > len(known):
                raise StoreError(
                    f"the history store {self.url} has schema version {current}; this "
                    f"faultfinder knows up to {len(known)}: upgrade faultfinder"
                )
            for migration in known[current:]:
                await connection.execute(migration.script)
                await connection.execute(
                    self._sql["record_migration"],
                    migration.version,
                    migration.name,
                    to_ms(datetime.datetime.now(datetime.UTC)),
                )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def schema_version(self) -> int:
        async def read(connection: Any) -> int:
            return int(await connection.fetchval(self._sql["schema_version"]))

        return await self._run(read)

    async def append(
        self,
        stack: str,
        observations: Sequence[Observation],
        changes: Sequence[StateChange] = (),
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        observation_rows = [
            (stack, r.agent, r.component, r.at_ms, r.ok, r.status, r.code, r.duration_ms, r.result)
            for r in (observation_row(observation, secrets) for observation in observations)
        ]
        change_rows = [
            (
                stack,
                r.agent,
                r.component,
                r.at_ms,
                r.old,
                r.new,
                r.code,
                r.owner,
                r.summary,
                r.detail,
            )
            for r in (change_row(change, secrets) for change in changes)
        ]

        async def write(connection: Any) -> None:
            async with connection.transaction():
                if observation_rows:
                    await connection.executemany(self._sql["insert_observation"], observation_rows)
                if change_rows:
                    await connection.executemany(self._sql["insert_change"], change_rows)

        await self._run(write)

    async def last_changes(self, stack: str, agent: str) -> Mapping[str, StateChange]:
        async def read(connection: Any) -> list[Any]:
            return list(await connection.fetch(self._sql["last_changes"], stack, agent))

        rows = await self._run(read)
        return {row["component"]: change_from(row) for row in rows}

    async def changes(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
        component: str | None = None,
    ) -> list[StateChange]:
        async def read(connection: Any) -> list[Any]:
            return list(
                await connection.fetch(
                    self._sql["changes"], stack, to_ms(since), to_ms(until), agent, component
                )
            )

        return [change_from(row) for row in await self._run(read)]

    async def observations(
        self,
        stack: str,
        component: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
        limit: int = 1000,
    ) -> list[Observation]:
        async def read(connection: Any) -> list[Any]:
            return list(
                await connection.fetch(
                    self._sql["observations"],
                    stack,
                    component,
                    to_ms(since),
                    to_ms(until),
                    agent,
                    limit,
                )
            )

        return [observation_from(*row) for row in await self._run(read)]

    async def availability(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
    ) -> list[Availability]:
        async def read(connection: Any) -> list[Any]:
            return list(
                await connection.fetch(
                    self._sql["availability"], stack, to_ms(since), to_ms(until), agent
                )
            )

        return [
            Availability(row[0], row[1], int(row[2]), int(row[3]), float(row[4]), float(row[5]))
            for row in await self._run(read)
        ]

    async def downsample(
        self,
        stack: str,
        *,
        raw_before: datetime.datetime,
        width: float,
        delete_before: datetime.datetime,
    ) -> Downsampled:
        width_ms = max(1, round(width * 1000))
        cutoff = to_ms(raw_before) // width_ms * width_ms  # whole buckets only
        oldest = to_ms(delete_before)

        async def fold(connection: Any) -> Downsampled:
            async with connection.transaction():
                await connection.execute(self._sql["roll_up"], stack, cutoff, width_ms)
                rolled = await connection.execute(self._sql["delete_observations"], stack, cutoff)
                rollups = await connection.execute(self._sql["delete_rollups"], stack, oldest)
                changes = await connection.execute(self._sql["delete_changes"], stack, oldest)
            return Downsampled(_count(rolled), _count(rollups), _count(changes))

        return await self._run(fold)


def _count(status: str) -> int:
    """The row count of a command tag such as ``DELETE 12``."""
    return int(status.rsplit(" ", 1)[-1])
