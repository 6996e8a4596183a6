"""``Health(draft_strict=True)``: the IETF draft's ``output`` and caching, against real Redis,
PostgreSQL and an app served by uvicorn; without it, docs/contract.md §4 as before.

Source: draft-inadarei-api-health-check-06 (github.com/inadarei/rfc-healthcheck,
draft-inadarei-api-health-check-06.txt), §4.8 and §9.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, url_check

LOCAL = ["127.0.0.1/32"]  # the test client's address: it reads details


def served(asgi_server: Any, health: Health) -> str:
    return str(asgi_server.start(Starlette(routes=[Mount("/health", app=health)])).url())


def stopped_redis(redis_factory: Any) -> str:
    redis = redis_factory.start()
    url: str = redis.url()
    redis.stop()
    return url


async def test_by_default_a_passing_check_has_an_empty_output_and_nothing_is_cached(
    redis_server: Any, redis_factory: Any, asgi_server: Any
) -> None:
    passing = Health([url_check("redis", redis_server.url())], networks=LOCAL)
    failing = Health([url_check("redis", stopped_redis(redis_factory), timeout=1)], networks=LOCAL)
    async with httpx.AsyncClient(base_url=served(asgi_server, passing)) as http:
        ok = await http.get("/health/infrastructure")
    async with httpx.AsyncClient(base_url=served(asgi_server, failing)) as http:
        down = await http.get("/health/infrastructure")

    [redis] = ok.json()["checks"]["redis:responseTime"]
    assert (ok.status_code, redis["status"], redis["output"]) == (200, "pass", "")
    assert ok.headers["cache-control"] == "no-store"  # docs/contract.md §4
    assert down.status_code == 503
    assert down.headers["cache-control"] == "no-store"


async def test_strict_leaves_output_out_of_passing_checks_only(
    redis_server: Any, redis_factory: Any, postgres_server: Any, asgi_server: Any
) -> None:
    health = Health(
        [
            url_check("redis", redis_server.url()),
            # 1 µs: any real round trip is slower, so this passing check is reported ``warn``.
            url_check("postgres", postgres_server.url(), warn_after=0.000001),
            url_check("cache", stopped_redis(redis_factory), timeout=1, critical=False),
        ],
        networks=LOCAL,
        draft_strict=True,
    )
    async with httpx.AsyncClient(base_url=served(asgi_server, health)) as http:
        response = await http.get("/health/infrastructure")

    document = response.json()
    assert (response.status_code, document["status"]) == (200, "warn")
    [redis] = document["checks"]["redis:responseTime"]
    [postgres] = document["checks"]["postgres:responseTime"]
    [cache] = document["checks"]["cache:responseTime"]
    # §4.8: output "SHOULD be omitted for 'pass' state of a downstream dependency".
    assert redis["status"] == "pass"
    assert "output" not in redis
    assert redis["faultCode"] is None  # the other keys stay
    assert postgres["status"] == "warn"
    assert "slower than the 1e-06s warn_after" in postgres["output"]
    assert (cache["status"], cache["faultCode"]) == ("fail", "tcp.refused")
    assert cache["output"]


async def test_strict_documents_carry_the_ttl_as_their_freshness_lifetime(
    redis_server: Any, redis_factory: Any, asgi_server: Any
) -> None:
    # §9: "Health check responses SHOULD be assigned a freshness lifetime (e.g.,
    # 'Cache-Control: max-age=3600')", whatever their status: a 503 too.
    passing = Health([url_check("redis", redis_server.url())], ttl=2.7, draft_strict=True)
    failing = Health(
        [url_check("redis", stopped_redis(redis_factory), timeout=1)], ttl=4, draft_strict=True
    )
    async with httpx.AsyncClient(base_url=served(asgi_server, passing)) as http:
        ok = await http.get("/health/infrastructure")
        ready = await http.head("/health/ready")
        live = await http.get("/health/live")
        verbose = await http.get("/health/ready?verbose")
    async with httpx.AsyncClient(base_url=served(asgi_server, failing)) as http:
        down = await http.get("/health/infrastructure")

    assert ok.status_code == 200
    assert ok.headers["cache-control"] == "max-age=2"  # the TTL, floored to whole seconds
    assert (ready.status_code, ready.headers["cache-control"]) == (200, "max-age=2")
    assert down.status_code == 503
    assert down.headers["cache-control"] == "max-age=4"
    # Not read from the check cache: no lifetime to give.
    assert live.headers["cache-control"] == "no-store"
    assert verbose.headers["cache-control"] == "no-store"


async def test_strict_with_a_background_refresh_gives_the_ttl_the_cache_really_uses(
    redis_server: Any, asgi_server: Any
) -> None:
    health = Health(
        [url_check("redis", redis_server.url(), timeout=1)], ttl=1, refresh=10, draft_strict=True
    )
    async with httpx.AsyncClient(base_url=served(asgi_server, health)) as http:
        response = await http.get("/health/ready")

    # Results are reused longer than ``ttl`` between refresh runs (docs/health.md).
    assert health.cache.ttl > 10
    assert response.headers["cache-control"] == f"max-age={int(health.cache.ttl)}"
