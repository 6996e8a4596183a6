"""200 concurrent requests to a real uvicorn app cause one PING on the real Redis servers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, redis_check, url_check

REQUESTS = 200


async def get(port: int, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 GET on a connection of its own (lighter than a pooled client at 200 wide)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def pings(server: Any) -> int:
    """PINGs the server has answered, from its own counters (INFO commandstats)."""
    with server.client() as client:
        stats = client.info("commandstats")
    return int(stats.get("cmdstat_ping", {}).get("calls", 0))


async def test_concurrent_requests_cause_one_check_per_dependency(
    redis_factory: Any, asgi_server: Any
) -> None:
    probed, through_client = redis_factory.start(), redis_factory.start()
    app_client = aioredis.Redis(port=through_client.port)
    health = Health(
        [url_check("redis", probed.url(), timeout=2), redis_check("cache", app_client, timeout=2)],
        ttl=60,
        networks=["127.0.0.1/32"],
    )
    served = asgi_server.start(Starlette(routes=[Mount("/health", app=health)]))
    before = pings(probed), pings(through_client)

    responses = await asyncio.gather(
        *(get(served.port, "/health/infrastructure") for _ in range(REQUESTS))
    )

    assert [status for status, _ in responses] == [200] * REQUESTS
    documents = [json.loads(body) for _, body in responses]
    assert all(document == documents[0] for document in documents)  # one result, shared
    assert documents[0]["status"] == "pass"
    assert (pings(probed) - before[0], pings(through_client) - before[1]) == (1, 1)
    await app_client.aclose()
