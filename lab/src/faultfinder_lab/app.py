"""The lab's reference service: Starlette on PostgreSQL and two Redis, with faultfinder.health.

Routes: ``/`` (a query and a Redis INCR; 500 when either fails), ``/health/live``,
``/health/ready`` and ``/health/infrastructure`` (the library's ASGI app, checking the app's own
asyncpg pool and redis-py clients), ``/ws`` (echo), and the golden path: ``POST /login`` (the
users table in PostgreSQL → a signed token; 401 for wrong credentials, 503 when the database
fails), ``POST /logout`` and ``/ws/ask`` (a WebSocket that needs ``Authorization: Bearer``;
each ``{"question"}`` gets an ``{"answer"}`` through the answer cache, a second Redis; when
that fails, an ``{"error"}`` and close code 1011).

The answer cache is not critical to the app's health document: it warns there (HTTP 200), so
the load balancer keeps the app in rotation and a user can still log in when it fails. The
``db`` check goes through a second, small SQLAlchemy pool (the app's reporting), checked by the
app's own code as many apps write it: its error text is what the document says.

The app resolves names through its own resolv.conf, which the lab points at a different
resolver than faultfinder's, like an app behind a VPC connector: the health checks go through
the app's clients, so they see that too.

A mode file switches behaviour for scenarios: ``error`` (``/``, ``/login`` and the health
documents answer 500), ``hang`` (they never answer until the mode changes; liveness ignores
both), ``refuse-websocket`` (``/ws/ask`` answers its upgrade with 503), ``health-200`` (the
health documents answer 200 whatever they say, as many apps do: load balancers keep routing),
``exhaust-pool`` (the app's own code holds every connection of its SQLAlchemy pool).
``LAB_FAIL_AT_STARTUP`` makes the app exit during start-up.
Run with ``python -m faultfinder_lab.app --host H --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import uvicorn
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from faultfinder.health import Health, asyncpg_check, function_check, redis_check
from faultfinder_lab.accounts import (
    bearer,
    hash_password,
    issue_token,
    verify_password,
    verify_token,
)
from faultfinder_lab.answers import cached_answer

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
REFUSE_WEBSOCKET = "refuse-websocket"
EXHAUST_POOL = "exhaust-pool"
ENGINE_POOL_SIZE = 2  # the SQLAlchemy pool the db check goes through
HEALTH_200 = "health-200"

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
    cache_host: str
    cache_port: int
    cache_password: str | None
    demo_user: str
    demo_password: str
    token_key: bytes
    mode_file: Path | None

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Config:
        mode_file = env.get("LAB_MODE_FILE")
        # Without a key from the lab, tokens are signed with one that dies with the process.
        token_key = env.get("LAB_TOKEN_KEY") or os.urandom(32).hex()
        return cls(
            postgres_host=env.get("LAB_POSTGRES_HOST", "postgres.lab.internal"),
            postgres_port=int(env.get("LAB_POSTGRES_PORT", "5432")),
            postgres_user=env.get("LAB_POSTGRES_USER", "app"),
            postgres_password=env.get("LAB_POSTGRES_PASSWORD", ""),
            postgres_database=env.get("LAB_POSTGRES_DATABASE", "app"),
            redis_host=env.get("LAB_REDIS_HOST", "redis.lab.internal"),
            redis_port=int(env.get("LAB_REDIS_PORT", "6379")),
            redis_password=env.get("LAB_REDIS_PASSWORD") or None,
            cache_host=env.get("LAB_CACHE_HOST", "cache.lab.internal"),
            cache_port=int(env.get("LAB_CACHE_PORT", "6379")),
            cache_password=env.get("LAB_CACHE_PASSWORD") or None,
            demo_user=env.get("LAB_DEMO_USER", "demo"),
            demo_password=env.get("LAB_DEMO_PASSWORD", ""),
            token_key=token_key.encode(),
            mode_file=Path(mode_file) if mode_file else None,
        )

    def mode(self) -> str:
        """``ok``, ``error``, ``hang`` or ``refuse-websocket``: read on every request, so
        scenarios need no restart."""
        if self.mode_file is None:
            return "ok"
        try:
            return self.mode_file.read_text().strip() or "ok"
        except OSError:
            return "ok"


def redis_client(host: str, port: int, password: str | None) -> aioredis.Redis:
    """A pooled client that gives up after one try: a scenario shows at once."""
    return aioredis.Redis(
        host=host,
        port=port,
        password=password,
        socket_timeout=CLIENT_TIMEOUT,
        socket_connect_timeout=CLIENT_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


class Dependencies:
    """The app's clients: a Postgres pool opened at start-up, pooled clients for both Redis."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool: asyncpg.Pool | None = None
        self.redis = redis_client(config.redis_host, config.redis_port, config.redis_password)
        self.cache = redis_client(config.cache_host, config.cache_port, config.cache_password)
        self.users_ready = False
        self.engine = create_async_engine(
            URL.create(
                "postgresql+asyncpg",
                username=config.postgres_user,
                password=config.postgres_password,
                host=config.postgres_host,
                port=config.postgres_port,
                database=config.postgres_database,
            ),
            pool_size=ENGINE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=CLIENT_TIMEOUT,
            connect_args={"timeout": CLIENT_TIMEOUT},
        )
        self.held: list[AsyncConnection] = []  # the exhaust-pool mode's connections

    async def select_one(self) -> None:
        """The ``db`` check: ``SELECT 1`` through the SQLAlchemy pool, its errors as they come."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def obey_pool_mode(self) -> None:
        """Hold every connection of the SQLAlchemy pool while the mode says so (a leak)."""
        while True:
            exhaust = self.config.mode() == EXHAUST_POOL
            if exhaust and not self.held:
                with suppress(Exception):
                    for _ in range(ENGINE_POOL_SIZE):
                        self.held.append(await self.engine.connect())
            elif not exhaust and self.held:
                for connection in self.held:
                    with suppress(Exception):
                        await connection.close()
                self.held.clear()
            await asyncio.sleep(0.2)

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
            return
        with suppress(Exception):  # login tries again; the health document says why
            await self.prepare_users()

    async def prepare_users(self) -> None:
        """The users table and the demo user, once: only a hash of its password is stored."""
        if self.users_ready:
            return
        config = self.config
        password_hash = await asyncio.to_thread(hash_password, config.demo_password)
        assert self.pool is not None  # opened in the lifespan
        async with self.pool.acquire(timeout=CLIENT_TIMEOUT) as connection:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS users "
                "(name text PRIMARY KEY, password_hash text NOT NULL)",
                timeout=CLIENT_TIMEOUT,
            )
            await connection.execute(
                "INSERT INTO users (name, password_hash) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash",
                config.demo_user,
                password_hash,
                timeout=CLIENT_TIMEOUT,
            )
        self.users_ready = True

    async def password_hash(self, user: str) -> str | None:
        await self.prepare_users()
        assert self.pool is not None
        async with self.pool.acquire(timeout=CLIENT_TIMEOUT) as connection:
            found: str | None = await connection.fetchval(
                "SELECT password_hash FROM users WHERE name = $1", user, timeout=CLIENT_TIMEOUT
            )
        return found

    async def close(self) -> None:
        for connection in self.held:
            with suppress(Exception):
                await connection.close()
        await self.engine.dispose()
        if self.pool is not None:
            self.pool.terminate()
        await self.redis.aclose()
        await self.cache.aclose()


def health_endpoints(dependencies: Dependencies) -> Health:
    """The library's endpoints, named as the lab's stack names the components, so diagnose
    joins the app's view to its own."""
    return Health(
        [
            asyncpg_check("postgres", lambda: dependencies.pool, timeout=CHECK_TIMEOUT),
            redis_check("redis", dependencies.redis, timeout=CHECK_TIMEOUT),
            # Only /ws/ask needs it: when it fails the document warns, and stays 200.
            redis_check("cache", dependencies.cache, timeout=CHECK_TIMEOUT, critical=False),
            function_check("db", dependencies.select_one, kind="postgresql", timeout=CHECK_TIMEOUT),
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
        if config.mode() != HEALTH_200:
            await app(scope, receive, send)
            return

        async def always_200(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 200}
            await send(message)

        await app(scope, receive, always_200)

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


async def login(request: Request) -> Response:
    dependencies: Dependencies = request.app.state.dependencies
    await obey_mode(dependencies.config)
    try:
        credentials = await request.json()
        user, password = credentials["user"], credentials["password"]
        if not isinstance(user, str) or not isinstance(password, str):
            raise TypeError("user and password must be strings")
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": 'send {"user": …, "password": …}'}, status_code=400)
    try:
        async with asyncio.timeout(2 * CLIENT_TIMEOUT):
            stored = await dependencies.password_hash(user)
    except Exception as error:
        return JSONResponse({"error": f"the user database failed: {describe(error)}"}, 503)
    if stored is None or not await asyncio.to_thread(verify_password, password, stored):
        return JSONResponse({"error": "wrong user or password"}, status_code=401)
    token = issue_token(user, dependencies.config.token_key)
    return JSONResponse({"user": user, "token": token})


async def logout(request: Request) -> Response:
    config: Config = request.app.state.dependencies.config
    user = verify_token(bearer(request.headers.get("authorization")), config.token_key)
    if user is None:
        return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
    return JSONResponse({"user": user, "logged_out": True})


async def ask(websocket: WebSocket) -> None:
    dependencies: Dependencies = websocket.app.state.dependencies
    config = dependencies.config
    if config.mode() == REFUSE_WEBSOCKET:
        refusal = {"error": "the ask service refuses connections (scenario ws-upgrade-refused)"}
        await websocket.send_denial_response(JSONResponse(refusal, status_code=503))
        return
    user = verify_token(bearer(websocket.headers.get("authorization")), config.token_key)
    if user is None:
        denied = {"error": "a valid bearer token is required"}
        await websocket.send_denial_response(JSONResponse(denied, status_code=403))
        return
    await websocket.accept()
    try:
        while True:
            try:
                question = json.loads(await websocket.receive_text())["question"]
                if not isinstance(question, str):
                    raise TypeError("the question must be a string")
            except (ValueError, KeyError, TypeError):
                await websocket.send_json({"error": 'send {"question": "…"}'})
                continue
            try:
                async with asyncio.timeout(2 * CLIENT_TIMEOUT):
                    answer = await cached_answer(dependencies.cache, question)
            except Exception as error:
                await websocket.send_json({"error": f"the answer cache failed: {describe(error)}"})
                await websocket.close(code=1011)  # an internal error, as RFC 6455 names it
                return
            await websocket.send_json({"answer": answer})
    except WebSocketDisconnect:
        return


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
        holding = asyncio.create_task(dependencies.obey_pool_mode())
        try:
            yield
        finally:
            holding.cancel()
            with suppress(asyncio.CancelledError):
                await holding
            await dependencies.close()

    health = obeying_mode(health_endpoints(dependencies), config)
    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Mount("/health", app=health),
            WebSocketRoute("/ws", echo),
            WebSocketRoute("/ws/ask", ask),
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
