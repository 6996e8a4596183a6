"""The lab's app serves its health document with faultfinder.health; diagnose reads it back.

The incident for real: the app's own resolver is dead, so the app (through its own redis-py
client) cannot resolve Redis, while faultfinder, on another resolver, reaches Redis fine.
The app's document must say so in the app's own words, and ``faultfinder diagnose`` must read
it as the inside view: Redis is the root cause, as seen from the app's component.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from faultfinder_lab.app import HEALTH_DEADLINE
from faultfinder_lab.control import Lab
from faultfinder_lab.topology import APP, APP_PORT
from tests.servers.common import CliResult
from tests.servers.lab import lab_diagnose

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]

HEALTH_TYPE = "application/health+json"
# Seconds: liveness answers in milliseconds (17 ms at most measured with two CPU hogs on the
# two cores), and one that waited for a dependency check would take its 1.25 s timeout.
QUICK = 0.25
EAI_AGAIN_TEXT = "Temporary failure in name resolution"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    document: dict[str, Any]
    seconds: float


def get(lab: Lab, path: str) -> Answer:
    """GET a path of the app from inside the lab, as faultfinder and HAProxy reach it."""

    def fetch() -> Answer:
        connection = http.client.HTTPConnection(APP, APP_PORT, timeout=10)
        started = time.monotonic()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return Answer(
            response.status,
            response.getheader("content-type", ""),
            json.loads(body),
            time.monotonic() - started,
        )

    return lab.inside(fetch)


def app_component(lab: Lab) -> str:
    """The stack's name for the app: the component whose URL is its health document."""
    stack = yaml.safe_load(lab.paths.stack.read_text())
    (name,) = [name for name, spec in stack["components"].items() if spec.get("health")]
    return str(name)


def assert_no_secrets(lab: Lab, result: CliResult) -> None:
    state = lab.require_state()
    assert state.postgres_password not in result.out
    assert state.redis_password not in result.out


def test_diagnose_reads_the_apps_document_as_the_inside_view(lab: Lab) -> None:
    app = app_component(lab)
    lab.break_scenario("app-resolver-dead")
    try:
        broken = get(lab, "/health/infrastructure")
        lives = [get(lab, "/health/live") for _ in range(3)]
        result = lab_diagnose(lab)
    finally:
        lab.fix()
    fixed = get(lab, "/health/infrastructure")
    healthy = lab_diagnose(lab)

    # The app's document: the contract's media type, 503, and Redis failing in the app's words.
    assert (broken.status, broken.content_type) == (503, HEALTH_TYPE)
    assert broken.document["status"] == "fail"
    (redis,) = broken.document["checks"]["redis:responseTime"]
    assert (redis["status"], redis["faultCode"], redis["layer"], redis["owner"]) == (
        "fail",
        "dns.temporary_failure",
        "dns",
        "infrastructure",
    )
    assert EAI_AGAIN_TEXT in redis["output"]
    assert "redis.lab.internal" in redis["output"]  # the name the app itself resolves
    (postgres,) = broken.document["checks"]["postgres:responseTime"]
    assert postgres["status"] == "pass"  # the app's pool was connected before the resolver died
    # Liveness checks nothing: a dependency outage must not get a healthy process restarted.
    for live in lives:
        assert (live.status, live.document) == (200, {"status": "pass"})
        assert live.seconds < QUICK

    # diagnose reads it as the inside view: Redis, seen from the app, in the app's words.
    assert result.status == 1, result.err
    document = result.json()
    assert document["status"] == "down"
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["vantage"], cause["code"], cause["layer"]) == (
        "redis",
        app,
        "dns.temporary_failure",
        "dns",
    )
    assert cause["owner"] == document["verdict"]["owner"] == "infrastructure"
    assert any(
        f"{app} reports redis:responseTime fail" in line and redis["output"] in line
        for line in cause["evidence"]
    ), cause["evidence"]
    assert any("faultfinder reaches redis fine" in line for line in cause["evidence"])
    # faultfinder's own probe of Redis, on its own resolver, passes every layer.
    redis_component = result.component("redis")
    phases = redis_component["phases"]
    assert [phase["layer"] for phase in phases] == ["dns", "tcp", "redis"]
    assert all(phase["ok"] for phase in phases), phases
    assert (redis_component["status"], redis_component["code"]) == (
        "down",
        "dns.temporary_failure",
    )  # down as seen from the app
    backend = result.component(app)
    assert (backend["code"], backend["symptom_of"], backend["http_status"]) == (
        "dependency.failed",
        ["redis"],
        503,
    )
    assert result.component("postgres")["status"] == "healthy"
    assert_no_secrets(lab, result)

    # Fixed: the same document passes, and diagnose finds nothing.
    assert (fixed.status, fixed.content_type) == (200, HEALTH_TYPE)
    assert fixed.document["status"] == "pass"
    assert {entry["status"] for (entry,) in fixed.document["checks"].values()} == {"pass"}
    assert healthy.status == 0, healthy.out
    assert healthy.json()["root_causes"] == []
    assert healthy.component(app)["http_status"] == 200


def test_a_blackholed_redis_reads_the_same_from_the_app_and_from_faultfinder(lab: Lab) -> None:
    app = app_component(lab)
    lab.break_scenario("redis-blackholed")
    try:
        broken = get(lab, "/health/infrastructure")
        result = lab_diagnose(lab)
    finally:
        lab.fix()

    # redis-py's own connect got no answer: a TCP timeout, as faultfinder's probe finds it.
    (redis,) = broken.document["checks"]["redis:responseTime"]
    assert (broken.status, redis["faultCode"], redis["layer"]) == (503, "tcp.timeout", "tcp")
    assert "Timeout connecting to server" in redis["output"]
    (cause,) = result.json()["root_causes"]
    assert (cause["component"], cause["vantage"], cause["code"]) == (
        "redis",
        "faultfinder",
        "tcp.timeout",
    )
    assert any(line.startswith(f"{app} sees it too: ") for line in cause["evidence"])
    assert_no_secrets(lab, result)


async def watch_while_requests_queue(seconds: float = 8.0) -> list[tuple[Answer, Answer]]:
    """Keep the app's Postgres pool full with requests to ``/`` (each one hangs on the stopped
    server) and read /health/infrastructure and /health/live meanwhile, until the app's
    document shows its pool saturated (or ``seconds`` pass)."""
    seen: list[tuple[Answer, Answer]] = []
    async with httpx.AsyncClient(base_url=f"http://{APP}:{APP_PORT}", timeout=10) as client:

        async def read(path: str) -> Answer:
            started = time.monotonic()
            response = await client.get(path)
            return Answer(
                response.status_code,
                response.headers.get("content-type", ""),
                response.json(),
                time.monotonic() - started,
            )

        async def flood() -> None:
            requests: set[asyncio.Task[httpx.Response]] = set()
            try:
                while True:  # a new request every 0.1 s: callers keep waiting for a connection
                    requests.add(asyncio.create_task(client.get("/")))
                    await asyncio.sleep(0.1)
            finally:
                for request in requests:
                    request.cancel()
                await asyncio.gather(*requests, return_exceptions=True)

        flooding = asyncio.create_task(flood())
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                infrastructure, live = await asyncio.gather(
                    read("/health/infrastructure"), read("/health/live")
                )
                seen.append((infrastructure, live))
                checks = infrastructure.document.get("checks", {})
                if checks.get("postgres:connections", [{}])[0].get("status") == "warn":
                    break
                await asyncio.sleep(0.05)
        finally:
            flooding.cancel()
            await asyncio.gather(flooding, return_exceptions=True)
    return seen


def test_a_hung_database_fails_the_apps_document_even_when_its_pool_is_full(lab: Lab) -> None:
    lab.break_scenario("postgres-hung")
    try:
        seen = lab.inside(lambda: asyncio.run(watch_while_requests_queue()))
    finally:
        lab.fix()

    for infrastructure, live in seen:
        # A full pool gives no sign of recovery: the hung server's failure stands, never a warn.
        assert (infrastructure.status, infrastructure.document["status"]) == (503, "fail"), (
            infrastructure
        )
        (postgres,) = infrastructure.document["checks"]["postgres:responseTime"]
        assert (postgres["status"], postgres["faultCode"]) == ("fail", "postgres.timeout")
        # The endpoint's own 1.5 s deadline, inside HAProxy's 2 s check timeout and the lab
        # stack's 2 s probe timeout: those 2 s are the limit that matters, and the answer after
        # the deadline takes milliseconds, so the 0.5 s to spare hold at twice the load.
        assert infrastructure.seconds < HEALTH_DEADLINE + 0.5, infrastructure.seconds
        assert (live.status, live.document) == (200, {"status": "pass"})
        assert live.seconds < QUICK
    # A request cut at the endpoint's deadline has no pool figures; the last one read has them.
    (pool,) = seen[-1][0].document["checks"].get("postgres:connections", [{}])
    assert pool.get("status") == "warn", "the app's pool never filled up"
    assert "the pool is saturated" in pool["output"]
