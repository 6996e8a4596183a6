"""Where ``watch`` keeps its history: one Protocol, one module per database, one registry.

``open_store(url)`` picks the plug-in by the URL's scheme (a bare path is SQLite), connects
and applies the pending migrations. Every store passes the same contract test suite
(tests/integration/test_monitor_store.py). SQL lives in ``sql/<dialect>/``: versioned
migrations and the named statements of that dialect.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from faultfinder.config import Stack
from faultfinder.errors import StoreError
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.redact import INLINE, Redactor, redact_url

__all__ = [
    "Availability",
    "Downsampled",
    "Store",
    "StoreError",
    "default_store_url",
    "open_store",
    "store_url",
]

# URL scheme → the module (in this package) whose ``Store`` class handles it.
STORES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}


@dataclass(frozen=True)
class Availability:
    """How one component did from one agent over a window (raw results and rollups together)."""

    component: str
    agent: str
    checks: int
    failures: int
    total_ms: float
    max_ms: float

    @property
    def ratio(self) -> float:
        return (self.checks - self.failures) / self.checks if self.checks else 0.0

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.checks if self.checks else 0.0


@dataclass(frozen=True)
class Downsampled:
    """What one retention pass did."""

    rolled_up: int  # raw results folded into rollups (and deleted)
    rollups_deleted: int
    changes_deleted: int


class Store(Protocol):
    """A history store. Writes come in batches; every read is by stack name."""

    @property
    def url(self) -> str:
        """Where it is, with any password masked."""
        ...

    async def open(self) -> None:
        """Connect and apply pending migrations; raises ``StoreError``."""
        ...

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def append(
        self,
        stack: str,
        observations: Sequence[Reading],
        changes: Sequence[StateChange] = (),
        redactor: Redactor = INLINE,
    ) -> None:
        """Write one batch in one transaction: all of it is kept, or none."""
        ...

    async def last_changes(self, stack: str, agent: str) -> Mapping[str, StateChange]:
        """The newest state change of each component from one agent (to resume after restart)."""
        ...

    async def changes(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
        component: str | None = None,
    ) -> list[StateChange]:
        """State changes in [since, until), oldest first."""
        ...

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
        """The newest ``limit`` raw results of one component in [since, until), oldest first."""
        ...

    async def availability(
        self,
        stack: str,
        *,
        since: datetime.datetime,
        until: datetime.datetime,
        agent: str | None = None,
    ) -> list[Availability]:
        """Per component and agent, sorted; rollups count when their bucket starts in range."""
        ...

    async def downsample(
        self,
        stack: str,
        *,
        raw_before: datetime.datetime,
        width: float,
        delete_before: datetime.datetime,
    ) -> Downsampled:
        """Fold raw results older than ``raw_before`` into buckets ``width`` seconds wide, and
        delete rollups and state changes older than ``delete_before``."""
        ...


def store_url(stack: Stack, override: str | None = None) -> str:
    """The store a command uses: ``--store``, else ``history.store``, else the default."""
    url = override or stack.history.store
    if url is None:
        return default_store_url(stack)
    scheme = urlsplit(url).scheme.lower()
    if scheme in STORES and scheme != "sqlite":
        return url
    path = Path(url.removeprefix("sqlite://").removeprefix("sqlite:"))
    if not path.is_absolute() and not override:  # a path in the stack file is relative to it
        path = Path(stack.path).parent / path
    return f"sqlite://{path}"


def default_store_url(stack: Stack) -> str:
    """A SQLite file beside the stack file: ``staging.yaml`` → ``staging.history.db``."""
    file = Path(stack.path)
    return f"sqlite://{file.with_name(file.stem + '.history.db')}"


async def open_store(url: str) -> Store:
    """The store at ``url`` (``sqlite:///path``, a path, ``postgresql://…``), open and migrated."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else "sqlite"
    if scheme not in STORES:
        raise StoreError(f"unknown history store {redact_url(url)!r}; use a path or postgresql://")
    module = importlib.import_module(f"{__name__}.{STORES[scheme]}")
    store: Store = module.open_url(url)
    await store.open()
    return store
