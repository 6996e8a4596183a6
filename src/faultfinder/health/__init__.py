"""Health endpoints for Starlette/FastAPI apps: /health/live, /health/ready, /health/infrastructure.

::

    health = Health([
        url_check("postgres", os.environ["DATABASE_URL"]),
        redis_check("redis", app_redis_client),
    ], tokens=[os.environ["HEALTH_TOKEN"]])
    app = Starlette(routes=[Mount("/health", app=health), ...])

``/health/infrastructure`` serves the docs/contract.md §4 document (``application/health+json``)
that ``faultfinder diagnose`` reads as the app's inside view; see docs/health.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from faultfinder.health._checks import Check, FunctionCheck, Observation, Outcome, PoolUsage
from faultfinder.health._document import MEDIA_TYPE, build_document
from faultfinder.health._endpoint import Health
from faultfinder.health._groups import Group
from faultfinder.health._pools import AsyncpgPoolCheck, RedisClientCheck, SqlAlchemyEngineCheck

if TYPE_CHECKING:
    import asyncpg
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from faultfinder.health._url import UrlCheck

__all__ = [
    "MEDIA_TYPE",
    "AsyncpgPoolCheck",
    "Check",
    "FunctionCheck",
    "Group",
    "Health",
    "Observation",
    "Outcome",
    "PoolUsage",
    "RedisClientCheck",
    "SqlAlchemyEngineCheck",
    "UrlCheck",
    "asyncpg_check",
    "build_document",
    "function_check",
    "redis_check",
    "sqlalchemy_check",
    "url_check",
]


def url_check(name: str, url: str, **options: Any) -> UrlCheck:
    """A dependency by URL, probed like ``faultfinder diagnose`` probes a stack component.

    ``options``: ``critical``, ``timeout``, ``component_type`` and any stack-file key
    (``expect``, ``headers``, ``tls``, ``write``…).
    """
    from faultfinder.health._url import UrlCheck

    return UrlCheck(name, url, **options)


def asyncpg_check(name: str, pool: asyncpg.Pool, **options: Any) -> AsyncpgPoolCheck:
    """``SELECT 1`` through the app's asyncpg pool, and the pool's saturation."""
    return AsyncpgPoolCheck(name, pool, **options)


def sqlalchemy_check(name: str, engine: AsyncEngine, **options: Any) -> SqlAlchemyEngineCheck:
    """``SELECT 1`` through the app's SQLAlchemy ``AsyncEngine``, and its pool's saturation."""
    return SqlAlchemyEngineCheck(name, engine, **options)


def redis_check(name: str, client: Redis, **options: Any) -> RedisClientCheck:
    """``PING`` through the app's ``redis.asyncio.Redis`` client, and its pool's saturation."""
    return RedisClientCheck(name, client, **options)


def function_check(
    name: str, function: Callable[[], Awaitable[object]], **options: Any
) -> FunctionCheck:
    """The app's own async function: passes when it returns, fails when it raises.

    ``kind="redis"`` (or ``postgresql``…) reads its errors with that client's fault codes.
    """
    return FunctionCheck(name, function, **options)


def __getattr__(name: str) -> Any:
    # UrlCheck needs the stack file's loader and the probers: loaded only when an app asks.
    if name == "UrlCheck":
        from faultfinder.health._url import UrlCheck

        return UrlCheck
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
