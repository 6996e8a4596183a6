"""Checks through the app's own clients against real servers: pass, saturation warns, and
the clients' own errors become the same fault codes a probe would give."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import create_async_engine

from faultfinder.health import (
    Check,
    Health,
    asyncpg_check,
    redis_check,
    sqlalchemy_check,
)
from faultfinder.health._checks import SATURATED
from tests.servers import free_port
from tests.servers.postgres import PASSWORD


async def until(condition: Callable[[], bool]) -> None:
    """Wait on a condition for up to 5 s, letting the event loop run (never a fixed sleep)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail("the condition never held")


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://")


def checks_of(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {
        key.partition(":")[2]: entries[0]
        for key, entries in document["checks"].items()
        if key.partition(":")[0] == name
    }


async def test_healthy_clients_pass_with_pool_figures(
    postgres_server: Any, redis_server: Any
) -> None:
    pool = await asyncpg.create_pool(postgres_server.url(), min_size=1, max_size=4)
    engine = create_async_engine(sqlalchemy_url(postgres_server.url()), pool_size=3)
    client = aioredis.Redis(port=redis_server.port, max_connections=5)
    try:
        status, document = await Health(
            [
                asyncpg_check("db", pool),
                sqlalchemy_check("orm", engine),
                redis_check("cache", client),
            ]
        ).document()
    finally:
        await pool.close()
        await engine.dispose()
        await client.aclose()

    assert (status, document["status"]) == (200, "pass")
    db = checks_of(document, "db")
    assert db["responseTime"]["status"] == "pass"
    assert db["responseTime"]["observedValue"] > 0
    assert db["connections"]["output"] == "0 in use of 1 open (max 4), 0 waiting"
    orm = checks_of(document, "orm")
    assert orm["connections"]["output"] == "0 in use of 0 open (max 13), 0 waiting"
    assert checks_of(document, "cache")["connections"]["output"] == (
        "0 in use of 0 open (max 5), 0 waiting"
    )


async def assert_saturated(check: Check, in_use: int, capacity: int, waiting: int) -> None:
    status, document = await Health([check]).document()

    assert (status, document["status"]) == (200, "warn")
    found = checks_of(document, check.name)
    connections = found["connections"]
    assert (connections["status"], connections["observedValue"]) == ("warn", in_use)
    assert connections["output"].startswith(
        f"{in_use} in use of {in_use} open (max {capacity}), {waiting} waiting: "
        "the pool is saturated"
    )
    assert (found["responseTime"]["status"], found["responseTime"]["output"]) == ("warn", SATURATED)


async def test_saturated_asyncpg_pool_warns(postgres_server: Any) -> None:
    pool = await asyncpg.create_pool(postgres_server.url(), min_size=0, max_size=2)
    held = [await pool.acquire(), await pool.acquire()]

    async def acquire() -> Any:
        return await pool.acquire()

    queued = asyncio.create_task(acquire())  # a request waiting for a connection
    check = asyncpg_check("db", pool)
    try:
        await until(lambda: check.usage().waiting == 1)
        await assert_saturated(check, in_use=2, capacity=2, waiting=1)
    finally:
        for connection in held:
            await pool.release(connection)
        await pool.release(await queued)
        await pool.close()


async def test_saturated_sqlalchemy_pool_warns(postgres_server: Any) -> None:
    engine = create_async_engine(sqlalchemy_url(postgres_server.url()), pool_size=1, max_overflow=0)
    held = await engine.connect()

    async def connect() -> Any:
        return await engine.connect()

    queued = asyncio.create_task(connect())
    check = sqlalchemy_check("orm", engine)
    try:
        await until(lambda: (check.usage() or pytest.fail("no pool figures")).waiting == 1)
        await assert_saturated(check, in_use=1, capacity=1, waiting=1)
    finally:
        await held.close()
        await (await queued).close()
        await engine.dispose()


async def test_saturated_redis_pool_warns(redis_server: Any) -> None:
    pool = aioredis.BlockingConnectionPool(port=redis_server.port, max_connections=1, timeout=10)
    client = aioredis.Redis(connection_pool=pool)
    held = await pool.get_connection()
    queued = asyncio.create_task(pool.get_connection())
    check = redis_check("cache", client)
    try:
        await until(lambda: check.usage().waiting == 1)
        await assert_saturated(check, in_use=1, capacity=1, waiting=1)
    finally:
        await pool.release(held)
        await pool.release(await queued)
        await client.aclose()
        await pool.aclose()  # the client does not close a pool it was given


async def test_client_created_later_by_the_app() -> None:
    clients: dict[str, Any] = {}
    health = Health([asyncpg_check("db", lambda: clients.get("pool"))])

    status, document = await health.document()

    assert status == 503
    assert "not created yet" in checks_of(document, "db")["responseTime"]["output"]


@pytest.mark.parametrize(
    ("url", "code", "owner"),
    [
        ("wrong-password", "postgres.auth_failed", "configuration"),
        ("missing-database", "postgres.database_missing", "configuration"),
        ("closed-port", "tcp.refused", "infrastructure"),
    ],
)
async def test_asyncpg_pool_errors_become_fault_codes(
    postgres_server: Any, url: str, code: str, owner: str
) -> None:
    dsn = {
        "wrong-password": postgres_server.url(password="Not-the-Password-77"),
        "missing-database": postgres_server.url(database="no_such_db"),
        "closed-port": f"postgresql://faultfinder:{PASSWORD}@127.0.0.1:{free_port()}/app",
    }[url]
    pool = await asyncpg.create_pool(dsn, min_size=0, max_size=1)
    engine = create_async_engine(sqlalchemy_url(dsn))
    try:
        status, document = await Health(
            [asyncpg_check("db", pool), sqlalchemy_check("orm", engine)]
        ).document()
    finally:
        await pool.close()
        await engine.dispose()

    assert status == 503
    for name in ("db", "orm"):
        found = checks_of(document, name)["responseTime"]
        assert (found["status"], found["faultCode"], found["owner"]) == ("fail", code, owner), found
    text = str(document)
    assert PASSWORD not in text
    assert "Not-the-Password-77" not in text


async def test_redis_client_errors_become_fault_codes(redis_factory: Any) -> None:
    secured = redis_factory.start(requirepass="r3dis-Pass-word")
    wrong = aioredis.Redis(port=secured.port, password="Wrong-Pass-4411")
    anonymous = aioredis.Redis(port=secured.port)
    closed = aioredis.Redis(port=free_port())
    health = Health(
        [
            redis_check("wrong", wrong),
            redis_check("anonymous", anonymous),
            redis_check("closed", closed),
        ]
    )

    status, document = await health.document()

    assert status == 503
    codes = {
        name: checks_of(document, name)["responseTime"]["faultCode"]
        for name in ("wrong", "anonymous", "closed")
    }
    assert codes == {
        "wrong": "redis.auth_failed",
        "anonymous": "redis.auth_failed",
        "closed": "tcp.refused",
    }
    assert "Wrong-Pass-4411" not in str(document)
    for client in (wrong, anonymous, closed):
        await client.aclose()
