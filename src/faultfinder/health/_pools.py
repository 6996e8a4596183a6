"""Checks through the app's own clients: an asyncpg pool, a SQLAlchemy AsyncEngine, redis-py.

They see what the app sees (its DSN, its resolver, its pool), and report the pool's
saturation — connections open, in use, waiting — as ``warn`` before it becomes an outage.
Pool figures come from the libraries' internals where they have no public API; an
unexpected shape gives no figures, never an error.

Each takes the client object, or a function returning it (``lambda: app.state.pool``) for
clients created later, in the app's lifespan, on the app's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from faultfinder.health._checks import Check, Observation, PoolUsage, timed

if TYPE_CHECKING:
    import asyncpg
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
Provided: TypeAlias = "T | Callable[[], T | None]"


def provided(target: Provided[T]) -> T:
    """The client itself, or what its provider returns now; raises when there is none yet."""
    found = target() if callable(target) else target
    if found is None:
        raise LookupError("the client is not created yet (the app has not started)")
    return found


class AsyncpgPoolCheck(Check):
    """``SELECT 1`` on a connection from the app's ``asyncpg.Pool``."""

    kind = "postgresql"
    component_type = "datastore"

    def __init__(self, name: str, pool: Provided[asyncpg.Pool], **options: Any) -> None:
        super().__init__(name, **options)
        self._pool = pool

    @property
    def pool(self) -> asyncpg.Pool:
        return provided(self._pool)

    async def measure(self) -> Observation:
        pool = self.pool

        async def select_one() -> None:
            # The timeout also bounds the release: without one, asyncpg waits on a hung
            # server's cancellation forever, and the connection never returns to the pool.
            async with pool.acquire(timeout=self.timeout) as connection:
                await connection.fetchval("SELECT 1")

        async with asyncio.timeout(self.timeout):
            return await timed(select_one())

    def usage(self) -> PoolUsage:
        pool = self.pool
        capacity = int(pool.get_max_size())
        queue = getattr(pool, "_queue", None)  # holders not in the queue are acquired
        if isinstance(queue, asyncio.Queue):
            in_use = capacity - queue.qsize()
            waiting: int | None = len(getattr(queue, "_getters", ()))
        else:
            in_use, waiting = int(pool.get_size()) - int(pool.get_idle_size()), None
        return PoolUsage(int(pool.get_size()), in_use, capacity, waiting)

    def secrets(self) -> frozenset[str]:
        arguments = getattr(self.pool, "_connect_kwargs", None) or {}
        password = arguments.get("password") if isinstance(arguments, dict) else None
        return frozenset({password}) if isinstance(password, str) and password else frozenset()


class SqlAlchemyEngineCheck(Check):
    """``SELECT 1`` through the app's SQLAlchemy ``AsyncEngine`` and its pool."""

    component_type = "datastore"

    def __init__(self, name: str, engine: Provided[AsyncEngine], **options: Any) -> None:
        super().__init__(name, **options)
        self._engine = engine
        self.kind = "sql"
        if not callable(engine):
            self.kind = engine.dialect.name

    @property
    def engine(self) -> AsyncEngine:
        engine = provided(self._engine)
        self.kind = engine.dialect.name  # postgresql, mysql…: picks the fault codes
        return engine

    async def measure(self) -> Observation:
        from sqlalchemy import text

        engine = self.engine

        async def select_one() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        async with asyncio.timeout(self.timeout):
            return await timed(select_one())

    def usage(self) -> PoolUsage | None:
        from sqlalchemy.pool import QueuePool

        pool = self.engine.pool
        if not isinstance(pool, QueuePool):  # NullPool, StaticPool: nothing to saturate
            return None
        overflow = int(getattr(pool, "_max_overflow", 0))
        capacity = pool.size() + overflow if overflow >= 0 else None
        # The asyncio queue is created on first use; reading it must not create it.
        queue = vars(getattr(pool, "_pool", object())).get("_queue")
        waiting = len(getattr(queue, "_getters", ())) if queue is not None else 0
        in_use = pool.checkedout()
        return PoolUsage(in_use + pool.checkedin(), in_use, capacity, waiting)

    def secrets(self) -> frozenset[str]:
        password = self.engine.url.password
        return frozenset({password}) if password else frozenset()


class RedisClientCheck(Check):
    """``PING`` with the settings of the app's ``redis.asyncio.Redis``; its pool's saturation."""

    kind = "redis"
    component_type = "datastore"

    def __init__(self, name: str, client: Provided[Redis], **options: Any) -> None:
        super().__init__(name, **options)
        self._client = client

    @property
    def client(self) -> Redis:
        return provided(self._client)

    async def measure(self) -> Observation:
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # A connection of the app's own class and settings (host, credentials, TLS), tried
        # once: the client's retries would turn a refused connect into a vague timeout.
        connection = self.client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        connection.retry = Retry(NoBackoff(), 0)

        async def ping() -> None:
            try:
                await connection.connect()
                await connection.send_command("PING")
                await connection.read_response()
            finally:
                await connection.disconnect()

        async with asyncio.timeout(self.timeout):
            return await timed(ping())

    def usage(self) -> PoolUsage:
        pool = self.client.connection_pool
        in_use = len(getattr(pool, "_in_use_connections", ()))
        idle = len(getattr(pool, "_available_connections", ()))
        # A blocking pool queues callers on a condition; the plain pool raises instead.
        condition = getattr(pool, "_condition", None)
        waiting = len(getattr(condition, "_waiters", None) or ()) if condition else 0
        return PoolUsage(in_use + idle, in_use, int(pool.max_connections), waiting)

    def secrets(self) -> frozenset[str]:
        password = self.client.connection_pool.connection_kwargs.get("password")
        return frozenset({password}) if isinstance(password, str) and password else frozenset()
