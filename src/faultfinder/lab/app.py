"""The lab's reference service: Starlette on PostgreSQL and Redis, with faultfinder.health.

Routes: ``/`` (a query and a Redis INCR; 500 when either fails), ``/health/live``,
``/health/ready`` and ``/health/infrastructure`` (the library's ASGI app, checking the app's own
asyncpg pool and redis-py client) and ``/ws`` (echo). The app resolves names through its own
resolv.conf, which the lab points at a different resolver than faultfinder's, like an app
behind a VPC connector: the health checks go through the app's clients, so they see that too.

A mode file switches behaviour for scenarios: ``error`` (``/`` and the health documents answer
500), ``hang`` (they never answer until the mode changes); liveness ignores it.
``LAB_FAIL_AT_STARTUP`` makes the app exit during start-up.
Run with ``python -m faultfinder.lab.app --host H --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import uvicorn
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from faultfinder.health import Health, asyncpg_check, redis_check

CLIENT_TIMEOUT = 1.0  # the drivers' connect and reply timeouts
# A little longer than the drivers' timeouts, so their more precise errors win.
CHECK_TIMEOUT = CLIENT_TIMEOUT + 0.25
# The health documents answer within this, inside HAProxy's 2 s check timeout and the lab
# stack's 2 s probe timeout, even when a dependency hangs.
HEALTH_DEADLINE = 1.5
# Short, so a scenario shows (and its fix clears) within a few of HAProxy's 300 ms checks.
HEALTH_TTL = 0.5
# Details for callers on loopback: everything in the lab's namespace, faultfinder included.
DETAILS_NETWORKS = ("127.0.0.0/8",)
POOL_SIZE = 2

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Config:
    """Where the app's dependencies are, from its environment (passwords included)."""

    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: str
    postgres_database: str
    redis_host: str
    redis_port: int
    redis_password: str | None
    mode_file: Path | None

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Config:
        mode_file = env.get("LAB_MODE_FILE")
        return cls(
            postgres_host=env.get("LAB_POSTGRES_HOST", "postgres.lab.internal"),
            postgres_port=int(env.get("LAB_POSTGRES_PORT", "5432")),
            postgres_user=env.get("LAB_POSTGRES_USER", "app"),
            postgres_password=env.get("LAB_POSTGRES_PASSWORD", ""),
            postgres_database=env.get("LAB_POSTGRES_DATABASE", "app"),
            redis_host=env.get("LAB_REDIS_HOST", "redis.lab.internal"),
            redis_port=int(env.get("LAB_REDIS_PORT", "6379")),
            redis_password=env.get("LAB_REDIS_PASSWORD") or None,
            mode_file=Path(mode_file) if mode_file else None,
        )

    def mode(self) -> str:
        """``ok``, ``error`` or ``hang``: read on every request, so scenarios need no restart."""
        if self.mode_file is None:
            return "ok"
        try:
            return self.mode_file.read_text().strip() or "ok"
        except OSError:
            return "ok"


class Dependencies:
    """The app's clients: a Postgres pool opened at start-up, a pooled Redis client."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool: asyncpg.Pool | None = None
        self.redis = aioredis.Redis(
            host=config.redis_host,
            port=config.redis_port,
            password=config.redis_password,
            socket_timeout=CLIENT_TIMEOUT,
            socket_connect_timeout=CLIENT_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )

    async def open(self) -> None:
        """Connect the pool up front, as a real app does; if the database refuses now (a wrong
        password, say), start anyway with an empty pool, so the health document says why."""
        config = self.config
        options: dict[str, Any] = dict(
            host=config.postgres_host,
            port=config.postgres_port,
            user=config.postgres_user,
            password=config.postgres_password,
            database=config.postgres_database,
            max_size=POOL_SIZE,
            timeout=CLIENT_TIMEOUT,
            max_inactive_connection_lifetime=0,  # keep them: the incident's app had its own
        )
        pool = asyncpg.create_pool(min_size=POOL_SIZE, **options)
        try:
            self.pool = await pool
        except Exception:
            pool.terminate()  # connections made before the failure
            self.pool = await asyncpg.create_pool(min_size=0, **options)

    async def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
        await self.redis.aclose()


def health_endpoints(dependencies: Dependencies) -> Health:
    """The library's endpoints, named as the lab's stack names the components, so diagnose
    joins the app's view to its own."""
    return Health(
        [
            asyncpg_check("postgres", lambda: dependencies.pool, timeout=CHECK_TIMEOUT),
            redis_check("redis", dependencies.redis, timeout=CHECK_TIMEOUT),
        ],
        ttl=HEALTH_TTL,
        deadline=HEALTH_DEADLINE,
        networks=DETAILS_NETWORKS,
        about={
            "serviceId": "faultfinder-lab-app",
            "description": "faultfinder lab reference service",
            "version": "1",
        },
    )


def describe(error: BaseException) -> str:
    """The error's own text on one line."""
    return " ".join(str(error).split()) or type(error).__name__


async def obey_mode(config: Config) -> None:
    """Act out the scenario's mode: fail this request, or hold it until the mode changes."""
    mode = config.mode()
    if mode == "error":
        raise RuntimeError("the lab app is in error mode (scenario app-500)")
    while mode == "hang":
        await asyncio.sleep(0.1)
        mode = config.mode()


def obeying_mode(app: ASGIApp, config: Config) -> ASGIApp:
    """The health endpoints act out the mode too, except liveness: a broken app still lives."""

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).endswith("/live"):
            await obey_mode(config)
        await app(scope, receive, send)

    return gated


async def home(request: Request) -> Response:
    dependencies: Dependencies = request.app.state.dependencies
    await obey_mode(dependencies.config)
    try:
        async with asyncio.timeout(2 * CLIENT_TIMEOUT):
            assert dependencies.pool is not None  # opened in the lifespan
            async with dependencies.pool.acquire(timeout=CLIENT_TIMEOUT) as connection:
                now = await connection.fetchval("SELECT now()", timeout=CLIENT_TIMEOUT)
            visits = await dependencies.redis.incr("lab:visits")
    except Exception as error:
        return JSONResponse({"error": describe(error)}, status_code=500)
    return JSONResponse({"service": "faultfinder lab", "time": now.isoformat(), "visits": visits})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return


def build_app(config: Config) -> Starlette:
    dependencies = Dependencies(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if os.environ.get("LAB_FAIL_AT_STARTUP"):
            raise RuntimeError(
                "cannot start: LAB_FAIL_AT_STARTUP is set (scenario app-startup-failure)"
            )
        await dependencies.open()
        app.state.dependencies = dependencies
        try:
            yield
        finally:
            await dependencies.close()

    health = obeying_mode(health_endpoints(dependencies), config)
    return Starlette(
        routes=[
            Route("/", home),
            Mount("/health", app=health),
            WebSocketRoute("/ws", echo),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="the faultfinder lab's reference service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(
        build_app(Config.from_env(dict(os.environ))),
        host=args.host,
        port=args.port,
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
