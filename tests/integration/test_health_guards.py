"""What the health library used to get wrong, against real Redis and a real uvicorn app:
``about`` overriding the status, duplicate names, a deadline past kubelet's probe timeout,
stale metrics, a leaked task per TTL, two connections per Redis URL check."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, function_check, url_check
from faultfinder.health._checks import run_check
from tests.servers.timing import by_deadline

TOKEN = "guards-token-4d1e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KUBELET_TIMEOUT = 1.0  # k8s.io/api core/v1 Probe.timeoutSeconds: "Defaults to 1 second"


@pytest.mark.parametrize("key", ["status", "checks"])
def test_about_cannot_set_a_key_the_library_computes(redis_server: Any, key: str) -> None:
    with pytest.raises(ValueError, match=f"about: {key} is computed from the checks"):
        Health([url_check("redis", redis_server.url())], about={key: "pass"})


async def test_about_adds_keys_without_touching_the_status(redis_factory: Any) -> None:
    server = redis_factory.start()
    url = server.url()
    server.stop()  # the check's Redis is gone: the document must fail whatever about says
    health = Health(
        [url_check("redis", url, timeout=0.5)],
        tokens=[TOKEN],
        about={"serviceId": "api", "version": "1.4.2"},
    )

    status, document = await health.document()

    assert (status, document["status"], document["serviceId"]) == (503, "fail", "api")


def test_two_checks_with_one_name_are_refused(redis_server: Any) -> None:
    with pytest.raises(ValueError, match="two checks are named 'redis'"):
        Health([url_check("redis", redis_server.url()), url_check("redis", redis_server.url())])


async def test_the_default_deadline_answers_before_kubelets_probe_gives_up(
    redis_factory: Any, asgi_server: Any
) -> None:
    server = redis_factory.start()
    health = Health([url_check("redis", server.url())])  # the check's own 2 s default timeout
    served = asgi_server.start(Starlette(routes=[Mount("/health", app=health)]))
    assert health.deadline < KUBELET_TIMEOUT
    server.pause()  # a hung Redis: the check would wait its whole 2 s
    try:
        async with httpx.AsyncClient(base_url=served.url(), timeout=10) as http:
            started = time.perf_counter()
            response = await http.get("/health/ready")
            elapsed = time.perf_counter() - started
    finally:
        server.resume()

    assert response.status_code == 503  # a 503 the probe reads, not a probe timeout
    assert elapsed < by_deadline(health.deadline), elapsed


def check_status(metrics: str, check: str) -> str | None:
    """The status whose ``faultfinder_health_check_status`` sample is 1, from the exposition."""
    for line in metrics.splitlines():
        prefix = f'faultfinder_health_check_status{{check="{check}",status="'
        if line.startswith(prefix) and line.endswith(" 1.0"):
            return line[len(prefix) :].split('"')[0]
    return None


async def test_metrics_follow_a_stopped_redis_without_health_requests(
    redis_factory: Any, asgi_server: Any
) -> None:
    server = redis_factory.start()
    registry = CollectorRegistry()
    health = Health([url_check("redis", server.url(), timeout=0.5)], ttl=0.2, registry=registry)
    metrics = make_asgi_app(registry)
    app = Starlette(routes=[Mount("/health", app=health), Mount("/metrics", app=metrics)])
    served = asgi_server.start(app)
    async with httpx.AsyncClient(base_url=served.url(), timeout=10) as http:
        assert (await http.get("/health/ready")).status_code == 200
        server.stop()  # from now on only Prometheus calls, as in a cluster

        async def scraped() -> str | None:
            nonlocal last
            last = (await http.get("/metrics/")).text
            return check_status(last, "redis")

        last = ""
        found = [await scraped()]
        for _ in range(100):
            if found[-1] == "fail":
                break
            await asyncio.sleep(0.1)
            found.append(await scraped())

    assert found[0] == "pass"
    assert found[-1] == "fail", found
    # The state changes, counted once each however many scrapes and requests saw them.
    assert 'faultfinder_health_check_changes_total{check="redis",status="fail"} 1.0' in last


async def test_a_check_that_swallows_cancellation_holds_one_task(redis_factory: Any) -> None:
    server = redis_factory.start()
    client = aioredis.Redis(port=server.port)  # no timeouts: PING on a paused server hangs
    released = asyncio.Event()

    async def stubborn() -> None:
        while True:
            try:
                await client.ping()
                return
            except asyncio.CancelledError:  # what a check must not do, and some do
                if released.is_set():
                    raise

    health = Health([function_check("stubborn", stubborn, timeout=0.1)], ttl=0, deadline=2)
    server.pause()
    try:
        for _ in range(4):  # four TTLs, four cut-off runs
            status, document = await health.document()
            assert status == 503
        lingering = [
            task for task in asyncio.all_tasks() if task.get_name() == "faultfinder-health stubborn"
        ]
    finally:
        released.set()
        server.resume()
    for task in lingering:
        task.cancel()
    await asyncio.wait(lingering, timeout=10)
    await client.aclose()

    assert len(lingering) == 1, lingering  # one stuck run, not one per TTL
    output = document["checks"]["stubborn:responseTime"][0]["output"]
    assert "previous run ignored its cancellation" in output


def connections_received(server: Any) -> int:
    """Connections the server accepted so far (INFO stats ``total_connections_received``)."""
    with server.client() as client:
        return int(client.info("stats")["total_connections_received"])


@pytest.mark.parametrize("write", [True, False])
async def test_a_redis_url_check_opens_one_connection_a_run(
    redis_factory: Any, write: bool
) -> None:
    server = redis_factory.start()
    check = url_check("redis", server.url(), timeout=2, write=write)
    before = connections_received(server)  # counts our own INFO connection too

    outcomes = [await run_check(check) for _ in range(3)]

    assert [outcome.status for outcome in outcomes] == ["pass"] * 3
    assert connections_received(server) - before == 3 + 1  # three runs, and INFO's own


def connections_logged(server: Any) -> int:
    """TCP connections the server accepted, from its log: log_connections writes
    "connection received: host=… port=…" for each, one that never sent a start-up packet too
    (PostgreSQL's postmaster.c, BackendInitialize)."""
    log = (server.directory / "postgres.log").read_text(errors="replace")
    return log.count("connection received: host=127.0.0.1")


async def test_a_postgresql_url_check_opens_one_connection_a_run(postgres_factory: Any) -> None:
    server = postgres_factory.start(log_connections="on")
    check = url_check("postgres", server.url(), timeout=5)
    before = connections_logged(server)

    outcomes = [await run_check(check) for _ in range(3)]

    assert [outcome.status for outcome in outcomes] == ["pass"] * 3
    assert connections_logged(server) - before == 3
