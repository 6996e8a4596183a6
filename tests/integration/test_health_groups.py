"""Groups, ``?exclude`` and ``?verbose``, latency thresholds, background refresh, failure
tolerance and the app's own availability, against real Redis, PostgreSQL and an HTTP app."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Group, Health, url_check
from faultfinder.model import Grade
from tests.integration.test_health_singleflight import get, pings

TOKEN = "groups-token-77a0"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def served(asgi_server: Any, health: Health) -> str:
    return str(asgi_server.start(Starlette(routes=[Mount("/health", app=health)])).url())


def three_dependencies(redis: Any, postgres: Any, app: Any, **options: Any) -> Health:
    return Health(
        [
            url_check("redis", redis.url(), timeout=2, tags=["cache"], write=False),
            url_check("postgres", postgres.url(), timeout=2, tags=["db"]),
            url_check("web", app.url("/ok"), timeout=2, critical=False),
        ],
        groups={"db": Group.of(["db"]), "cache": Group.of(["cache", "web"])},
        tokens=[TOKEN],
        **options,
    )


async def test_groups_share_one_cache_across_paths_and_callers(
    redis_factory: Any, postgres_server: Any, app_server: Any, asgi_server: Any
) -> None:
    redis = redis_factory.start()
    health = three_dependencies(redis, postgres_server, app_server, ttl=60)
    port = int(served(asgi_server, health).rsplit(":", 1)[1])
    before = pings(redis)
    paths = ["/health/db", "/health/cache", "/health/ready", "/health/infrastructure"]

    answers = await asyncio.gather(*(get(port, paths[i % 4]) for i in range(200)))

    assert {status for status, _ in answers} == {200}
    assert pings(redis) - before == 1  # one PING for four paths and 200 requests
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        db = (await http.get("/health/db", headers=AUTH)).json()
        cache = (await http.get("/health/cache", headers=AUTH)).json()
    assert sorted(db["checks"]) == ["postgres:responseTime"]
    assert sorted(cache["checks"]) == ["redis:responseTime", "web:responseTime"]


def test_a_group_naming_no_check_is_refused(redis_server: Any) -> None:
    with pytest.raises(ValueError, match=r"groups\.db: no check or tag is named postgress"):
        Health([url_check("redis", redis_server.url())], groups={"db": Group.of(["postgress"])})


async def test_verbose_and_exclude_as_kube_apiserver_serves_them(
    redis_factory: Any, postgres_server: Any, app_server: Any, asgi_server: Any
) -> None:
    redis = redis_factory.start()
    health = three_dependencies(redis, postgres_server, app_server, ttl=0)
    redis.stop()  # Redis refuses connections now
    async with httpx.AsyncClient(base_url=served(asgi_server, health)) as http:
        failing = await http.get("/health/infrastructure?verbose", headers=AUTH)
        excluded = await http.get("/health/infrastructure?verbose&exclude=redis", headers=AUTH)
        unknown = await http.get("/health/db?verbose=1&exclude=nope", headers=AUTH)
        anonymous = await http.get("/health/infrastructure?verbose")
        json_excluded = await http.get("/health/infrastructure?exclude=redis", headers=AUTH)

    # k8s.io/apiserver/pkg/server/healthz/healthz.go: "[+]%s ok", "[-]%s failed: reason
    # withheld", "[+]%s excluded: ok", "%s check passed"/"failed"; a caller allowed details
    # reads the fault code in place of "reason withheld".
    assert failing.status_code == 503
    assert failing.text == (
        "[-]redis failed: tcp.refused\n[+]postgres ok\n[+]web ok\ninfrastructure check failed\n"
    )
    assert excluded.status_code == 200
    assert excluded.text == (
        "[+]redis excluded: ok\n[+]postgres ok\n[+]web ok\ninfrastructure check passed\n"
    )
    assert unknown.text == (
        "[+]postgres ok\nwarn: some health checks cannot be excluded: "
        'no matches for "nope"\ndb check passed\n'
    )
    assert (anonymous.status_code, anonymous.text) == (503, "infrastructure check failed\n")
    assert json_excluded.status_code == 200
    assert "redis:responseTime" not in json_excluded.json()["checks"]


async def test_a_slow_answer_past_warn_after_is_a_warning(app_server: Any) -> None:
    slow = url_check("web", app_server.url("/slow?seconds=0.3"), timeout=2, warn_after=0.1)
    health = Health([slow], deadline=5)

    status, document = await health.document()

    [entry] = document["checks"]["web:responseTime"]
    assert (status, document["status"], entry["status"]) == (200, "warn", "warn")
    assert entry["observedValue"] >= 300
    assert "slower than the 0.1s warn_after" in entry["output"]


async def test_a_failure_is_tolerated_until_the_threshold(redis_factory: Any) -> None:
    redis = redis_factory.start()
    url = redis.url()
    redis.stop()
    health = Health([url_check("redis", url, timeout=1, failure_threshold=3)], ttl=0)

    statuses = [(await health.document())[1]["status"] for _ in range(4)]

    assert statuses == ["warn", "warn", "fail", "fail"]


async def test_background_refresh_publishes_and_logs_each_change_once(
    redis_factory: Any, asgi_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    redis = redis_factory.start()
    changes: list[tuple[str, Grade | None]] = []
    health = Health(
        [url_check("redis", redis.url(), timeout=0.5, write=False)],
        refresh=0.2,
        publish=[lambda outcome, before: changes.append((outcome.status, before))],
    )
    caplog.set_level(logging.INFO, logger="faultfinder.health")
    base = served(asgi_server, health)
    async with httpx.AsyncClient(base_url=base) as http:
        await http.get("/health/live")  # starts the loops; nobody asks for a check again
        for _ in range(100):
            if pings(redis) >= 3:
                break
            await asyncio.sleep(0.1)
        assert pings(redis) >= 3  # runs without requests
        redis.stop()
        for _ in range(100):
            if len(changes) >= 2:
                break
            await asyncio.sleep(0.1)
        for _ in range(5):  # more requests and more runs: no more changes to tell
            assert (await http.get("/health/ready")).status_code == 503
            await asyncio.sleep(0.2)

    assert changes == [("pass", None), ("fail", "pass")]
    logged = [
        record.getMessage() for record in caplog.records if record.name == "faultfinder.health"
    ]
    assert len(logged) == 2, logged
    assert logged[1].startswith("health check redis: pass -> fail")


async def test_startup_out_of_service_and_drain(redis_server: Any, asgi_server: Any) -> None:
    health = Health(
        [url_check("redis", redis_server.url(), timeout=1)], startup=True, tokens=[TOKEN]
    )
    async with httpx.AsyncClient(base_url=served(asgi_server, health)) as http:

        async def codes() -> tuple[int, int, int]:
            return tuple(
                [
                    (await http.get(f"/health/{path}")).status_code  # type: ignore[return-value]
                    for path in ("startup", "ready", "live")
                ]
            )

        starting = await codes()
        refusing = (await http.get("/health/ready", headers=AUTH)).json()
        health.mark_started()
        started = await codes()
        accepting = (await http.get("/health/ready", headers=AUTH)).json()
        health.mark_out_of_service("maintenance")
        out = await codes()
        reason = (await http.get("/health/ready", headers=AUTH)).json()["output"]
        health.mark_in_service()
        back = await codes()
        health.drain()
        draining = await codes()

    assert starting == (503, 503, 200)
    assert (refusing["status"], refusing["availability"]) == ("fail", "REFUSING_TRAFFIC")
    assert started == (200, 200, 200)
    assert accepting["availability"] == "ACCEPTING_TRAFFIC"
    assert (out, reason) == ((200, 503, 200), "out of service: maintenance")
    assert back == (200, 200, 200)
    assert draining == (200, 503, 200)


async def test_a_failed_start_up_fails_the_startup_probe(
    redis_server: Any, asgi_server: Any
) -> None:
    health = Health(
        [url_check("redis", redis_server.url(), timeout=1)], startup=True, tokens=[TOKEN]
    )
    health.mark_start_failed("migrations failed")
    async with httpx.AsyncClient(base_url=served(asgi_server, health)) as http:
        startup = await http.get("/health/startup")
        ready = await http.get("/health/ready", headers=AUTH)
    assert startup.status_code == 503
    assert (ready.status_code, ready.json()["output"]) == (
        503,
        "start-up failed: migrations failed",
    )
