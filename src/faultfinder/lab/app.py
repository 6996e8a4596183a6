"""The lab's reference service: Starlette on PostgreSQL and Redis, serving its own health document.

Routes: ``/`` (a query and a Redis INCR; 500 when either fails), ``/health/live``,
``/health/infrastructure`` (the CONTRACT §4 document, each check classified with faultfinder's
own tables) and ``/ws`` (echo). The app resolves names through its own resolv.conf, which the
lab points at a different resolver than faultfinder's, like an app behind a VPC connector.

A mode file switches behaviour for scenarios: ``error`` (``/`` and the health document answer
500), ``hang`` (they never answer until the mode changes). ``LAB_FAIL_AT_STARTUP`` makes the app
exit during start-up. Run with ``python -m faultfinder.lab.app --host H --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions as redis_errors
import uvicorn
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from faultfinder.diagnose.classify import classify_sqlstate, classify_text
from faultfinder.faults import FAULTS, fault

CHECK_TIMEOUT = 1.0  # per dependency, so the health document never hangs on one
HEALTH_TYPE = "application/health+json"


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
    """The app's connections: a Postgres pool made on first use, a pooled Redis client."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self.redis = self.redis_client()

    def redis_client(self, **options: Any) -> aioredis.Redis:
        config = self.config
        return aioredis.Redis(
            host=config.redis_host,
            port=config.redis_port,
            password=config.redis_password,
            socket_timeout=CHECK_TIMEOUT,
            socket_connect_timeout=CHECK_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            **options,
        )

    async def pool(self) -> Any:
        """The Postgres pool, created (two connections) on first use and after a failure."""
        async with self._lock:
            if self._pool is None:
                config = self.config
                pool = asyncpg.create_pool(
                    host=config.postgres_host,
                    port=config.postgres_port,
                    user=config.postgres_user,
                    password=config.postgres_password,
                    database=config.postgres_database,
                    min_size=2,
                    max_size=2,
                    timeout=CHECK_TIMEOUT,
                    max_inactive_connection_lifetime=0,
                )
                try:
                    await pool
                except BaseException:
                    pool.terminate()
                    raise
                self._pool = pool
            return self._pool

    def discard_pool(self) -> None:
        """Drop the pool after a failure: its connections may be hung or dead."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    async def close(self) -> None:
        self.discard_pool()
        await self.redis.aclose()


@dataclass(frozen=True)
class Check:
    """One entry of the health document's ``checks``."""

    key: str
    component_id: str
    status: str
    duration_ms: float
    output: str = ""
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "componentId": self.component_id,
            "componentType": "datastore",
            "status": self.status,
            "observedValue": round(self.duration_ms, 1),
            "observedUnit": "ms",
            "time": datetime.datetime.now(datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "durationMs": round(self.duration_ms, 1),
        }
        if self.output:
            document["output"] = self.output
        if self.code is not None:
            entry = fault(self.code)
            document.update(faultCode=self.code, layer=entry.layer, owner=entry.owner)
        return document


def fault_code(component: str, error: BaseException) -> str:
    """The app's own exception → a fault code, with faultfinder's classification tables."""
    text = str(error)
    if isinstance(error, TimeoutError | redis_errors.TimeoutError):
        # redis-py says "Timeout connecting to server" when the SYN went unanswered.
        return "tcp.timeout" if "connecting" in text.lower() else f"{component}.timeout"
    sqlstate = getattr(error, "sqlstate", None)
    code = classify_sqlstate(sqlstate, text) if sqlstate else classify_text(text)
    return code if code in FAULTS else f"{component}.error"


def describe(error: BaseException, target: str = "") -> str:
    """The error's own text on one line; a bare timeout says what it waited for."""
    text = " ".join(str(error).split())
    if not text and isinstance(error, TimeoutError):
        return f"no reply from {target or 'the server'} within {CHECK_TIMEOUT:g}s"
    return text or type(error).__name__


async def timed_check(
    key: str, component_id: str, action: Callable[[], Awaitable[None]], on_error: Callable[[], None]
) -> Check:
    """Run one dependency check under its timeout; a failure carries the real error text."""
    component = key.split(":", 1)[0]
    started = time.perf_counter()
    try:
        # A little longer than the drivers' own timeouts, so their more precise errors win.
        async with asyncio.timeout(CHECK_TIMEOUT + 0.5):
            await action()
    except Exception as error:
        on_error()
        elapsed = (time.perf_counter() - started) * 1000
        return Check(
            key,
            component_id,
            "fail",
            elapsed,
            describe(error, component_id),
            fault_code(component, error),
        )
    return Check(key, component_id, "pass", (time.perf_counter() - started) * 1000)


async def check_postgres(dependencies: Dependencies) -> Check:
    async def select_one() -> None:
        pool = await dependencies.pool()
        async with pool.acquire(timeout=CHECK_TIMEOUT) as connection:
            await connection.fetchval("SELECT 1", timeout=CHECK_TIMEOUT)

    config = dependencies.config
    component_id = f"{config.postgres_host}:{config.postgres_port}"
    return await timed_check(
        "postgres:connections", component_id, select_one, dependencies.discard_pool
    )


async def check_redis(dependencies: Dependencies) -> Check:
    async def ping() -> None:
        # A fresh connection: "can the app reach Redis now", name resolution included.
        client = dependencies.redis_client(single_connection_client=True)
        try:
            await client.ping()
        finally:
            await client.aclose()

    config = dependencies.config
    component_id = f"{config.redis_host}:{config.redis_port}"
    return await timed_check("redis:ping", component_id, ping, lambda: None)


async def obey_mode(config: Config) -> None:
    """Act out the scenario's mode: fail this request, or hold it until the mode changes."""
    mode = config.mode()
    if mode == "error":
        raise RuntimeError("the lab app is in error mode (scenario app-500)")
    while mode == "hang":
        await asyncio.sleep(0.1)
        mode = config.mode()


async def home(request: Request) -> Response:
    dependencies: Dependencies = request.app.state.dependencies
    await obey_mode(dependencies.config)
    try:
        async with asyncio.timeout(2 * CHECK_TIMEOUT):
            pool = await dependencies.pool()
            async with pool.acquire(timeout=CHECK_TIMEOUT) as connection:
                now = await connection.fetchval("SELECT now()", timeout=CHECK_TIMEOUT)
            visits = await dependencies.redis.incr("lab:visits")
    except Exception as error:
        if isinstance(error, asyncpg.PostgresError | OSError | TimeoutError):
            dependencies.discard_pool()
        return JSONResponse({"error": describe(error)}, status_code=500)
    return JSONResponse({"service": "faultfinder lab", "time": now.isoformat(), "visits": visits})


async def health(request: Request) -> Response:
    dependencies: Dependencies = request.app.state.dependencies
    await obey_mode(dependencies.config)
    checks = await asyncio.gather(check_postgres(dependencies), check_redis(dependencies))
    status = "fail" if any(check.status == "fail" for check in checks) else "pass"
    document = {
        "status": status,
        "version": "1",
        "serviceId": "faultfinder-lab-app",
        "description": "faultfinder lab reference service",
        "checks": {check.key: [check.to_json()] for check in checks},
    }
    return JSONResponse(
        document, status_code=503 if status == "fail" else 200, media_type=HEALTH_TYPE
    )


async def live(request: Request) -> Response:
    return JSONResponse({"status": "pass"}, media_type=HEALTH_TYPE)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return


def build_app(config: Config) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if os.environ.get("LAB_FAIL_AT_STARTUP"):
            raise RuntimeError(
                "cannot start: LAB_FAIL_AT_STARTUP is set (scenario app-startup-failure)"
            )
        app.state.dependencies = Dependencies(config)
        try:
            yield
        finally:
            await app.state.dependencies.close()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/health/live", live),
            Route("/health/infrastructure", health),
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
