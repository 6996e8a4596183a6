"""The SQLite history store: one file in WAL mode, every call on one thread of its own.

WAL lets ``faultfinder history`` read while ``watch`` writes, and a committed batch survives
the process being killed (the kernel has it; ``synchronous=NORMAL`` only risks the newest
batches on a power cut). ``sqlite3`` blocks, so each call runs on the store's single thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

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
DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 10_000  # another process holding the write lock (history, a second watch)


def open_url(url: str) -> SqliteStore:
    return SqliteStore(Path(url.removeprefix("sqlite://").removeprefix("sqlite:")))


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sql = queries(DIALECT)
        self._connection: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faultfinder-sqlite")

    @property
    def url(self) -> str:
        return f"sqlite://{self.path}"

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self._connection is None:
                raise StoreError(f"the history store {self.path} is not open")
            try:
                return work(self._connection)
            except sqlite3.Error as error:
                raise StoreError(f"history store {self.path}: {error}") from error

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def open(self) -> None:
        def connect() -> None:
            try:
                connection = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
                connection.row_factory = sqlite3.Row
                connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as error:
                raise StoreError(f"cannot open the history store {self.path}: {error}") from None
            self._connection = connection

        await asyncio.get_running_loop().run_in_executor(self._thread, connect)
        await self._run(self._migrate)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute(self._sql["create_schema_table"])
        known = migrations(DIALECT)
        with _transaction(connection):  # re-read under the write lock: another may have won
            current = int(connection.execute(self._sql["schema_version"]).fetchone()[0])
            if current > len(known):
                raise StoreError(
                    f"the history store {self.path} has schema version {current}; this "
                    f"faultfinder knows up to {len(known)}: upgrade faultfinder"
                )
            for migration in known[current:]:
                for statement in _statements(migration.script):
                    connection.execute(statement)
                connection.execute(
                    self._sql["record_migration"],
                    (migration.version, migration.name, to_ms(_now())),
                )

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        with contextlib.suppress(RuntimeError):  # closed twice: the thread is gone already
            await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)

    async def schema_version(self) -> int:
        return await self._run(
            lambda connection: int(connection.execute(self._sql["schema_version"]).fetchone()[0])
        )

    async def append(
        self,
        stack: str,
        observations: Sequence[Observation],
        changes: Sequence[StateChange] = (),
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        observation_rows = [
            (
                stack,
                r.agent,
                r.component,
                r.at_ms,
                int(r.ok),
                r.status,
                r.code,
                r.duration_ms,
                r.result,
            )
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

        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.executemany(self._sql["insert_observation"], observation_rows)
                connection.executemany(self._sql["insert_change"], change_rows)

        await self._run(write)

    async def last_changes(self, stack: str, agent: str) -> Mapping[str, StateChange]:
        rows = await self._run(
            lambda connection: connection.execute(
                self._sql["last_changes"], (stack, agent)
            ).fetchall()
        )
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
        parameters = (stack, to_ms(since), to_ms(until), agent, component)
        rows = await self._run(
            lambda connection: connection.execute(self._sql["changes"], parameters).fetchall()
        )
        return [change_from(row) for row in rows]

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
        parameters = (stack, component, to_ms(since), to_ms(until), agent, limit)
        rows = await self._run(
            lambda connection: connection.execute(self._sql["observations"], parameters).fetchall()
        )
        return [observation_from(*row) for row in rows]

    async def availability(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
    ) -> list[Availability]:
        parameters = (stack, to_ms(since), to_ms(until), agent)
        rows = await self._run(
            lambda connection: connection.execute(self._sql["availability"], parameters).fetchall()
        )
        return [
            Availability(row[0], row[1], int(row[2]), int(row[3]), float(row[4]), float(row[5]))
            for row in rows
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

        def fold(connection: sqlite3.Connection) -> Downsampled:
            with _transaction(connection):
                connection.execute(self._sql["roll_up"], (stack, cutoff, width_ms))
                rolled = connection.execute(
                    self._sql["delete_observations"], (stack, cutoff)
                ).rowcount
                rollups = connection.execute(self._sql["delete_rollups"], (stack, oldest)).rowcount
                changes = connection.execute(self._sql["delete_changes"], (stack, oldest)).rowcount
            return Downsampled(rolled, rollups, changes)

        return await self._run(fold)


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE takes the write lock up front, so a busy file waits, never deadlocks."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    """A migration script's statements, one by one (executescript would commit on its own)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        raise StoreError(f"an incomplete SQL statement at the end of a migration: {pending!r}")


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time.time(), datetime.UTC)
