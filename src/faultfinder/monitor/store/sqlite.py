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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from faultfinder.clock import to_ms
from faultfinder.errors import StoreError
from faultfinder.monitor.store._sql import Parameters, Row, SqlStore, pending

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000  # another process holding the write lock (history, a second watch)


def open_url(url: str) -> SqliteStore:
    return SqliteStore(Path(url.removeprefix("sqlite://").removeprefix("sqlite:")))


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
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
        with _transaction(connection):  # re-read under the write lock: another may have won
            current = int(connection.execute(self._sql["schema_version"]).fetchone()[0])
            for migration in pending(self.dialect, current, self.path):
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

    async def _fetch(self, query: str, *parameters: object) -> list[Row]:
        return await self._run(
            lambda connection: connection.execute(self._sql[query], parameters).fetchall()
        )

    async def _write(self, batches: Sequence[tuple[str, Sequence[Parameters]]]) -> None:
        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                for query, rows in batches:
                    connection.executemany(self._sql[query], rows)

        await self._run(write)

    async def _execute(self, statements: Sequence[tuple[str, Parameters]]) -> list[int]:
        def execute(connection: sqlite3.Connection) -> list[int]:
            with _transaction(connection):
                return [
                    connection.execute(self._sql[query], parameters).rowcount
                    for query, parameters in statements
                ]

        return await self._run(execute)


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
