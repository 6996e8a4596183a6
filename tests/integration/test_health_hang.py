"""A hung dependency (SIGSTOP) against a real uvicorn app: liveness stays instant, the
infrastructure document fails within its deadline with the right code."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, asyncpg_check, redis_check, sqlalchemy_check, url_check
from tests.servers.timing import by_deadline

TOKEN = "hang-test-token-81c2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT = 0.5
DEADLINE = 1.5
# The document comes by the endpoint's deadline (the checks' own timeouts usually end it
# sooner), where the hung server, with clients that have no timeouts, would hold it forever.
# Twice the deadline and 1 s holds at twice CI's load (tests/servers/timing.py).
DOCUMENT_LIMIT = by_deadline(DEADLINE)


def mounted(health: Health) -> Starlette:
    return Starlette(routes=[Mount("/health", app=health)])


async def watch_liveness_during(
    http: httpx.AsyncClient, path: str
) -> tuple[httpx.Response, float, list[float]]:
    """GET ``path``; while it is in flight, time /health/live again and again."""
    # Two connections open first, so the timings below are of requests, not of set-ups.
    await asyncio.gather(http.get("/health/live"), http.get("/health/live"))
    started = time.perf_counter()
    pending = asyncio.create_task(http.get(path, headers=AUTH))
    live: list[float] = []
    for _ in range(10):
        begun = time.perf_counter()
        response = await http.get("/health/live")
        live.append(time.perf_counter() - begun)
        assert response.json() == {"status": "pass"}
    assert not pending.done(), "the document came back before liveness was measured"
    response = await pending
    return response, time.perf_counter() - started, live


@contextlib.contextmanager
def paused(server: Any) -> Iterator[None]:
    server.pause()
    try:
        yield
    finally:
        server.resume()


def assert_instant(seconds: list[float]) -> None:
    """Milliseconds: a typical answer well under 50 ms, none as long as the checks' timeout.

    An answer takes a few ms, at twice CI's load too. The median is the typical one: a busy
    machine can hold up a request or two, not half of them. The longest must stay under the
    checks' timeout, which an answer that waited for a check would take.
    """
    assert statistics.median(seconds) < 0.05, seconds
    assert max(seconds) < TIMEOUT, seconds


def entry(document: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = document["checks"][key][0]
    return found


async def test_hung_redis(redis_factory: Any, asgi_server: Any) -> None:
    server = redis_factory.start()
    client = aioredis.Redis(port=server.port)  # the app's client, with no timeouts of its own
    health = Health(
        [
            url_check("redis", server.url(), timeout=TIMEOUT),
            redis_check("cache", client, timeout=TIMEOUT),
        ],
        tokens=[TOKEN],
        deadline=DEADLINE,
    )
    served = asgi_server.start(mounted(health))
    server.pause()
    try:
        async with httpx.AsyncClient(base_url=served.url()) as http:
            response, elapsed, live = await watch_liveness_during(http, "/health/infrastructure")
    finally:
        server.resume()
        await client.aclose()

    assert_instant(live)  # while both checks hang
    assert elapsed < DOCUMENT_LIMIT, f"{elapsed:.2f}s for the document"
    assert response.status_code == 503
    document = response.json()
    assert document["status"] == "fail"
    for key in ("redis:responseTime", "cache:responseTime"):
        found = entry(document, key)
        assert (found["status"], found["faultCode"], found["layer"], found["owner"]) == (
            "fail",
            "redis.timeout",
            "redis",
            "infrastructure",
        ), found


async def test_hung_postgres(postgres_factory: Any, asgi_server: Any) -> None:
    server = postgres_factory.start()
    clients: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # As an app does: its pool and engine live on its own event loop.
        clients["pool"] = await asyncpg.create_pool(server.url(), min_size=1, max_size=2)
        url = server.url().replace("postgresql://", "postgresql+asyncpg://")
        clients["engine"] = create_async_engine(url)
        yield
        clients["pool"].terminate()
        await clients["engine"].dispose()

    health = Health(
        [
            url_check("postgres", server.url(), timeout=TIMEOUT),
            asyncpg_check("db", lambda: clients.get("pool"), timeout=TIMEOUT),
            sqlalchemy_check("orm", lambda: clients.get("engine"), timeout=TIMEOUT),
        ],
        tokens=[TOKEN],
        deadline=DEADLINE,
    )
    served = asgi_server.start(Starlette(routes=[Mount("/health", app=health)], lifespan=lifespan))
    with paused(server):
        async with httpx.AsyncClient(base_url=served.url()) as http:
            response, elapsed, live = await watch_liveness_during(http, "/health/ready")

    assert_instant(live)
    assert elapsed < DOCUMENT_LIMIT, f"{elapsed:.2f}s for the document"
    assert response.status_code == 503
    document = response.json()
    for key in ("postgres:responseTime", "db:responseTime", "orm:responseTime"):
        found = entry(document, key)
        assert (found["status"], found["faultCode"], found["owner"]) == (
            "fail",
            "postgres.timeout",
            "infrastructure",
        ), (key, found)


async def test_recovers_after_the_ttl(redis_factory: Any) -> None:
    server = redis_factory.start()
    health = Health([url_check("redis", server.url(), timeout=TIMEOUT)], ttl=0)
    server.pause()
    try:
        status, _ = await health.document()
    finally:
        server.resume()

    assert status == 503
    status, document = await health.document()
    assert (status, document["status"]) == (200, "pass")
