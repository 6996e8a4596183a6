"""What every SQL store does alike: its dialect's SQL files, and the records ↔ rows work.

``SqlStore`` turns each ``Store`` call into named statements and parameters and the rows back
into records; a backend (``sqlite``, ``postgresql``) supplies only the driver: connecting,
migrating, and three ways to run statements (``_fetch``, ``_write``, ``_execute``).
"""

from __future__ import annotations

import datetime
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from faultfinder.clock import to_ms
from faultfinder.errors import StoreError
from faultfinder.monitor.records import (
    change_from,
    change_row,
    change_values,
    reading_from,
    reading_row,
    reading_values,
)
from faultfinder.monitor.store import Availability, Downsampled
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.redact import INLINE, Redactor

_MIGRATION = re.compile(r"^(\d{4})_(\w+)\.sql$")
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)

# One statement's parameters. A row is sqlite3.Row or asyncpg.Record: both are read by
# position and by column name, and asyncpg ships no type hints.
Parameters = tuple[object, ...]
Row = Any


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    script: str


@cache
def migrations(dialect: str) -> tuple[Migration, ...]:
    """``sql/<dialect>/migrations/NNNN_name.sql``, in version order."""
    folder = resources.files(__package__).joinpath("sql", dialect, "migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{dialect} migrations are not numbered 1..n: {versions}")
    return tuple(found)


@cache
def queries(dialect: str) -> dict[str, str]:
    """The statements of ``sql/<dialect>/queries.sql``, each after its ``-- name:`` line."""
    text = resources.files(__package__).joinpath("sql", dialect, "queries.sql").read_text("utf-8")
    parts = _NAME.split(text)[1:]
    return {name: body.strip() for name, body in zip(parts[::2], parts[1::2], strict=True)}


def pending(dialect: str, current: int, where: object) -> tuple[Migration, ...]:
    """The migrations a store (named ``where``) at schema ``current`` lacks; a newer is refused."""
    known = migrations(dialect)
    if current > len(known):
        raise StoreError(
            f"the history store {where} has schema version {current}; this "
            f"faultfinder knows up to {len(known)}: upgrade faultfinder"
        )
    return known[current:]


class SqlStore(ABC):
    """The ``Store`` calls, written once over named statements of ``dialect``."""

    dialect: ClassVar[str]

    def __init__(self) -> None:
        self._sql = queries(self.dialect)

    @property
    @abstractmethod
    def url(self) -> str:
        """Where it is, with any password masked."""

    @abstractmethod
    async def _fetch(self, query: str, *parameters: object) -> list[Row]:
        """The rows of one named query."""

    @abstractmethod
    async def _write(self, batches: Sequence[tuple[str, Sequence[Parameters]]]) -> None:
        """Each named statement once per parameter tuple, all in one transaction."""

    @abstractmethod
    async def _execute(self, statements: Sequence[tuple[str, Parameters]]) -> list[int]:
        """Each named statement once, all in one transaction; the rows each one changed."""

    async def schema_version(self) -> int:
        rows = await self._fetch("schema_version")
        return int(rows[0][0])

    async def append(
        self,
        stack: str,
        observations: Sequence[Reading],
        changes: Sequence[StateChange] = (),
        redactor: Redactor = INLINE,
    ) -> None:
        # The row classes list their fields in the column order of the insert statements.
        observation_rows = [
            (stack, *reading_values(reading_row(observation, redactor)))
            for observation in observations
        ]
        change_rows = [(stack, *change_values(change_row(change, redactor))) for change in changes]
        batches = [("insert_observation", observation_rows), ("insert_change", change_rows)]
        await self._write([(query, rows) for query, rows in batches if rows])

    async def last_changes(self, stack: str, agent: str) -> Mapping[str, StateChange]:
        rows = await self._fetch("last_changes", stack, agent)
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
        rows = await self._fetch("changes", stack, to_ms(since), to_ms(until), agent, component)
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
    ) -> list[Reading]:
        rows = await self._fetch(
            "observations", stack, component, to_ms(since), to_ms(until), agent, limit
        )
        return [reading_from(*row) for row in rows]

    async def availability(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
    ) -> list[Availability]:
        rows = await self._fetch("availability", stack, to_ms(since), to_ms(until), agent)
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
        _, rolled, rollups, changes = await self._execute(
            [
                ("roll_up", (stack, cutoff, width_ms)),
                ("delete_observations", (stack, cutoff)),
                ("delete_rollups", (stack, oldest)),
                ("delete_changes", (stack, oldest)),
            ]
        )
        return Downsampled(rolled, rollups, changes)
