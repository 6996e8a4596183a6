"""The history store contract: one suite, run against SQLite and a real PostgreSQL.

Every store must migrate itself, write a batch atomically, read back what it wrote (tagged
with its agent, secrets masked), resume states, count availability over raw results and
rollups alike, and downsample and expire old history.
"""

from __future__ import annotations

import datetime
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from faultfinder.errors import StoreError
from faultfinder.model import CheckResult, Phase, RootCause, Status
from faultfinder.monitor.store import Store, open_store
from faultfinder.monitor.store._sql import migrations
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.redact import Redactor
from tests.servers.postgres import ROLE, PostgresServer

STACK = "contract"
EPOCH = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=seconds)


def result(
    component: str, *, code: str | None = None, ms: float = 10.0, evidence: tuple[str, ...] = ()
) -> CheckResult:
    detail = "refused" if code else ""
    phases = (Phase("dns", True, 0.5), Phase("tcp", code is None, ms - 0.5, detail))
    return CheckResult(
        component=component,
        kind="tcp",
        target="tcp://127.0.0.1:9",
        phases=phases,
        code=code,
        evidence=evidence,
        duration_ms=ms,
        timings={"connect": ms - 0.5},
        body="a large health document the history does not keep",
    )


def observation(component: str, seconds: float, agent: str = "here", **kwargs: Any) -> Reading:
    return Reading(component, at(seconds), agent, result(component, **kwargs))


def change(component: str, seconds: float, new: Status, agent: str = "here") -> StateChange:
    old = Status.HEALTHY if new is Status.DOWN else Status.DOWN
    cause = RootCause(
        component,
        "tcp.refused",
        "tcp",
        "infrastructure",
        "faultfinder",
        0.9,
        "nothing listens",
        ("connect failed",),
        "start it",
    )
    return StateChange(
        component=component,
        at=at(seconds),
        agent=agent,
        old=old,
        new=new,
        code="tcp.refused" if new is Status.DOWN else None,
        owner="infrastructure" if new is Status.DOWN else "none",
        summary=f"{component}: nothing listens",
        why=("db fails at tcp", "Owner: infrastructure."),
        layer="tcp" if new is Status.DOWN else None,
        symptom_of=(),
        confidence=0.9,
        root_causes=(cause,) if new is Status.DOWN else (),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty store of each kind: a new file, or a new database on the shared server."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'history.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"history_{uuid.uuid4().hex[:12]}"
    admin = await server.connect(superuser=True)
    try:
        await admin.execute(f"CREATE DATABASE {name} OWNER {ROLE}")
        yield server.url(database=name)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


def dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


async def test_opening_migrates_once_and_again_is_a_no_op(store: Store, store_url: str) -> None:
    assert await store.schema_version() == len(migrations(dialect(store_url))) == 1
    again = await open_store(store_url)
    try:
        assert await again.schema_version() == 1
    finally:
        await again.close()


async def test_a_store_newer_than_this_code_is_refused(store: Store, store_url: str) -> None:
    await store.close()
    if dialect(store_url) == "sqlite":
        with sqlite3.connect(store_url.removeprefix("sqlite://")) as connection:
            connection.execute("INSERT INTO faultfinder_schema VALUES (99, 'future', 0)")
    else:
        connection = await asyncpg.connect(store_url)
        await connection.execute("INSERT INTO faultfinder_schema VALUES (99, 'future', 0)")
        await connection.close()
    with pytest.raises(StoreError, match="schema version 99; this faultfinder knows up to 1"):
        await open_store(store_url)


async def test_observations_round_trip_tagged_with_their_agent_without_body_or_secrets(
    store: Store,
) -> None:
    await store.append(
        STACK,
        [
            observation("db", 0, code="tcp.refused", evidence=("password=hunter22 rejected",)),
            observation("db", 10),
            observation("db", 20, agent="there"),
            observation("web", 5),
        ],
        redactor=Redactor({"hunter22"}),
    )
    found = await store.observations(STACK, "db", since=at(0), until=at(60))
    assert [(o.at, o.agent, o.result.code) for o in found] == [
        (at(0), "here", "tcp.refused"),
        (at(10), "here", None),
        (at(20), "there", None),
    ]
    first = found[0].result
    assert first.phases == (Phase("dns", True, 0.5), Phase("tcp", False, 9.5, "refused"))
    assert first.evidence == ("password=*** rejected",)
    assert first.timings == {"connect": 9.5}
    assert first.duration_ms == 10.0
    assert first.body == ""
    mine = await store.observations(STACK, "db", since=at(0), until=at(60), agent="there")
    assert [o.at for o in mine] == [at(20)]
    newest = await store.observations(STACK, "db", since=at(0), until=at(60), limit=2)
    assert [o.at for o in newest] == [at(10), at(20)]  # the newest two, oldest first
    assert await store.observations("another-stack", "db", since=at(0), until=at(60)) == []


async def test_a_batch_is_kept_whole_or_not_at_all(store: Store) -> None:
    broken = Reading(None, at(1), "here", result("db"))  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await store.append(STACK, [observation("db", 0), broken], [change("db", 0, Status.DOWN)])
    assert await store.observations(STACK, "db", since=at(0), until=at(60)) == []
    assert await store.changes(STACK, since=at(0), until=at(60)) == []


async def test_changes_read_back_filtered_and_the_newest_per_component_resumes(
    store: Store,
) -> None:
    written = [
        change("db", 0, Status.DOWN),
        change("web", 5, Status.DOWN),
        change("db", 30, Status.HEALTHY),
        change("db", 40, Status.DOWN, agent="there"),
    ]
    await store.append(STACK, [], written)
    assert await store.changes(STACK, since=at(0), until=at(60)) == written
    assert await store.changes(STACK, since=at(1), until=at(35)) == written[1:3]
    assert await store.changes(STACK, since=at(0), until=at(60), component="db", agent="here") == [
        written[0],
        written[2],
    ]
    last = await store.last_changes(STACK, "here")
    assert {name: (c.new, c.at) for name, c in last.items()} == {
        "db": (Status.HEALTHY, at(30)),
        "web": (Status.DOWN, at(5)),
    }
    # the diagnosis made at the change comes back whole
    assert last["web"].root_causes == written[1].root_causes
    assert last["web"].why == ("db fails at tcp", "Owner: infrastructure.")
    assert (await store.last_changes(STACK, "there"))["db"].new is Status.DOWN


async def test_availability_per_component_and_agent(store: Store) -> None:
    await store.append(
        STACK,
        [
            observation("db", 0, ms=10),
            observation("db", 10, code="tcp.refused", ms=30),
            observation("db", 20, ms=20),
            observation("db", 30, ms=20),
            observation("db", 5, agent="there", code="tcp.refused"),
            observation("web", 0),
            observation("web", 100),  # 100 s: outside the window
        ],
    )
    rows = await store.availability(STACK, since=at(0), until=at(60))
    assert [(r.component, r.agent, r.checks, r.failures) for r in rows] == [
        ("db", "here", 4, 1),
        ("db", "there", 1, 1),
        ("web", "here", 1, 0),
    ]
    assert rows[0].ratio == 0.75
    assert rows[0].mean_ms == 20.0
    assert rows[0].max_ms == 30.0
    only = await store.availability(STACK, since=at(0), until=at(60), agent="there")
    assert [(r.component, r.checks) for r in only] == [("db", 1)]


async def test_downsampling_folds_old_results_into_buckets_and_availability_holds(
    store: Store,
) -> None:
    # two hours of results, one a minute, every fourth one failing, 10..40 ms
    old = [
        observation(
            "db",
            minute * 60,
            ms=10 + minute % 4 * 10,
            code="tcp.refused" if minute % 4 == 0 else None,
        )
        for minute in range(120)
    ]
    changes = [change("db", 60, Status.DOWN), change("db", 7000, Status.HEALTHY)]
    await store.append(STACK, old, changes)
    before = await store.availability(STACK, since=at(0), until=at(7200))
    # raw kept for the last 30 minutes; hourly buckets; delete nothing yet
    done = await store.downsample(STACK, raw_before=at(5400), width=3600, delete_before=at(0))
    assert done.rolled_up == 60  # whole buckets only: the cutoff rounds down to 1 h
    assert done.rollups_deleted == 0
    assert done.changes_deleted == 0
    remaining = await store.observations(STACK, "db", since=at(0), until=at(7200), limit=500)
    assert len(remaining) == 60
    assert remaining[0].at == at(3600)
    after = await store.availability(STACK, since=at(0), until=at(7200))
    assert (
        [(r.checks, r.failures, r.max_ms) for r in after]
        == [(b.checks, b.failures, b.max_ms) for b in before]
        == [(120, 30, 40.0)]
    )
    assert after[0].total_ms == pytest.approx(before[0].total_ms)
    # folding again adds to the same buckets instead of counting twice
    await store.append(STACK, [observation("db", 30, ms=50)])  # a late result in the first hour
    await store.downsample(STACK, raw_before=at(5400), width=3600, delete_before=at(0))
    again = (await store.availability(STACK, since=at(0), until=at(7200)))[0]
    assert (again.checks, again.failures, again.max_ms) == (121, 30, 50.0)
    # past retention, buckets and state changes go
    gone = await store.downsample(STACK, raw_before=at(5400), width=3600, delete_before=at(3600))
    assert (gone.rolled_up, gone.rollups_deleted, gone.changes_deleted) == (0, 1, 1)
    assert [c.at for c in await store.changes(STACK, since=at(0), until=at(9000))] == [at(7000)]
    assert (await store.availability(STACK, since=at(0), until=at(7200)))[0].checks == 60


async def test_two_stacks_in_one_store_do_not_mix(store: Store) -> None:
    await store.append(STACK, [observation("db", 0)])
    await store.append("other", [observation("db", 0, code="tcp.refused")])
    await store.downsample("other", raw_before=at(7200), width=3600, delete_before=at(0))
    mine = await store.availability(STACK, since=at(0), until=at(60))
    theirs = await store.availability("other", since=at(0), until=at(60))
    assert [(r.checks, r.failures) for r in mine] == [(1, 0)]
    assert [(r.checks, r.failures) for r in theirs] == [(1, 1)]
