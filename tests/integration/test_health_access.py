"""Access over real HTTP: anonymous callers get the status only; a token, a configured header
or an allowed network gets details; secrets never appear, even in details."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, redis_check, url_check
from tests.servers.postgres import PASSWORD

TOKEN = "access-Token-93d0"
HEADER_VALUE = "header-Key-17aa"
REDIS_PASSWORD = "redis-Pass-6c2e"
WRONG_PASSWORD = "wrong-Pass-0b7f"


@pytest.fixture
def served(asgi_server: Any, redis_factory: Any, postgres_server: Any) -> Any:
    """An app whose checks fail on credentials: a wrong Redis password, a wrong Postgres one."""
    secured = redis_factory.start(requirepass=REDIS_PASSWORD)

    def serve(networks: list[str]) -> Any:
        health = Health(
            [
                url_check("redis", secured.url(password=WRONG_PASSWORD), timeout=2),
                redis_check("cache", aioredis.Redis(port=secured.port, password=REDIS_PASSWORD)),
                url_check("postgres", postgres_server.url(password=WRONG_PASSWORD), timeout=2),
            ],
            tokens=[TOKEN],
            headers={"X-Health-Key": HEADER_VALUE},
            networks=networks,
        )
        return asgi_server.start(Starlette(routes=[Mount("/health", app=health)]))

    return serve


async def test_anonymous_gets_status_only_and_credentials_get_details(served: Any) -> None:
    app = served(networks=["10.0.0.0/8"])  # the test client (127.0.0.1) is not in it

    async with httpx.AsyncClient(base_url=app.url("/health")) as http:
        anonymous = await http.get("/infrastructure")
        wrong = await http.get("/infrastructure", headers={"Authorization": "Bearer guess"})
        bearer = await http.get("/infrastructure", headers={"Authorization": f"Bearer {TOKEN}"})
        header = await http.get("/infrastructure", headers={"X-Health-Key": HEADER_VALUE})

    assert anonymous.status_code == 503
    assert anonymous.headers["content-type"] == "application/health+json"
    assert anonymous.json() == {"status": "fail"}
    assert wrong.json() == {"status": "fail"}
    for response in (bearer, header):
        document = response.json()
        assert response.status_code == 503
        codes = {key: entries[0]["faultCode"] for key, entries in document["checks"].items()}
        assert codes == {
            "redis:responseTime": "redis.auth_failed",
            "postgres:responseTime": "postgres.auth_failed",
            "cache:responseTime": None,
            "cache:connections": None,
        }
        for secret in (TOKEN, HEADER_VALUE, REDIS_PASSWORD, WRONG_PASSWORD, PASSWORD):
            assert secret not in response.text


async def test_allowed_network_gets_details(served: Any) -> None:
    app = served(networks=["127.0.0.0/8"])

    async with httpx.AsyncClient(base_url=app.url("/health")) as http:
        response = await http.get("/infrastructure")

    assert "checks" in response.json()
    assert WRONG_PASSWORD not in response.text


async def test_served_alone_without_a_framework(asgi_server: Any, redis_server: Any) -> None:
    health = Health([url_check("redis", redis_server.url())], networks=["127.0.0.1/32"])
    app = asgi_server.start(health)  # uvicorn runs its lifespan against the bare app too

    async with httpx.AsyncClient(base_url=app.url()) as http:
        live = await http.get("/live")
        infrastructure = await http.get("/infrastructure")

    assert live.json() == {"status": "pass"}
    assert infrastructure.status_code == 200
    assert infrastructure.json()["checks"]["redis:responseTime"][0]["status"] == "pass"
