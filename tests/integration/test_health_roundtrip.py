"""The round trip: a real uvicorn app serves its document, ``faultfinder diagnose`` reads it.

The incident's shape: the app cannot reach Redis (here its Redis URL names a closed port),
while the stack's ``redis`` component — the real, healthy Redis — answers faultfinder fine.
The verdict must blame Redis *as seen from the app*, with the app's own fault code.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Check, Health, redis_check, url_check
from tests.servers import free_port

TOKEN = "roundtrip-Token-5e1b"


@pytest.fixture
def serve_app(
    asgi_server: Any, write_stack: Any, redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Serve an app with these checks; return the stack file that names it ``api``."""
    monkeypatch.setenv("HEALTH_TOKEN", TOKEN)

    def serve(*checks: Check) -> Any:
        health = Health(list(checks), tokens=[TOKEN])
        served = asgi_server.start(Starlette(routes=[Mount("/health", app=health)]))
        return write_stack(
            {
                "api": {
                    "url": served.url("/health/infrastructure"),
                    "health": True,
                    "depends_on": ["redis"],
                    "headers": {"Authorization": "Bearer ${HEALTH_TOKEN}"},
                },
                "redis": {"url": redis_server.url()},
            }
        )

    return serve


@pytest.mark.parametrize("flavour", ["client", "url"])
def test_diagnose_blames_redis_as_seen_from_the_app(
    serve_app: Any, run_cli: Any, flavour: str
) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"  # what the app is configured with
    check = (
        redis_check("redis", aioredis.Redis.from_url(unreachable), timeout=1)
        if flavour == "client"
        else url_check("redis", unreachable, timeout=1)
    )
    stack = serve_app(check)

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 1, result.out
    document = result.json()
    assert document["status"] == "down"
    [cause] = document["root_causes"]
    assert (
        cause["component"],
        cause["vantage"],
        cause["code"],
        cause["layer"],
        cause["owner"],
    ) == ("redis", "api", "tcp.refused", "tcp", "infrastructure")
    assert any("faultfinder reaches redis fine" in line for line in cause["evidence"])
    api = result.component("api")
    assert (api["code"], api["symptom_of"], api["http_status"]) == (
        "dependency.failed",
        ["redis"],
        503,
    )
    assert result.component("redis")["status"] == "down"  # down as seen from the app
    assert TOKEN not in result.out


def test_a_healthy_app_reads_healthy(serve_app: Any, run_cli: Any, redis_server: Any) -> None:
    stack = serve_app(url_check("redis", redis_server.url(), timeout=1))

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    assert result.json()["root_causes"] == []
    assert result.component("api")["http_status"] == 200
