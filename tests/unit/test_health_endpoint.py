"""The ASGI app: routes, methods, mounting under Starlette, access, and Prometheus metrics."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from faultfinder.health import Health, function_check

TOKEN = "s3cret-health-token"
REMOTE = ("203.0.113.7", 40000)  # an address no allowed network covers


class Calls:
    def __init__(self, error: Exception | None = None) -> None:
        self.count = 0
        self.error = error

    async def __call__(self) -> None:
        self.count += 1
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error


def client(app: object, address: tuple[str, int] = REMOTE) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def test_live_never_touches_a_dependency() -> None:
    calls = Calls(ConnectionRefusedError(111, "Connection refused"))
    health = Health([function_check("redis", calls, kind="redis")])

    async with client(health) as http:
        response = await http.get("/live")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"status": "pass"}
    assert calls.count == 0


async def test_infrastructure_fails_with_503_and_status_only_for_anonymous_callers() -> None:
    health = Health(
        [function_check("redis", Calls(ConnectionRefusedError(111, "refused")), kind="redis")],
        tokens=[TOKEN],
    )

    async with client(health) as http:
        anonymous = await http.get("/infrastructure")
        wrong = await http.get("/infrastructure", headers={"Authorization": "Bearer nope"})
        detailed = await http.get("/infrastructure", headers={"Authorization": f"Bearer {TOKEN}"})

    assert (anonymous.status_code, anonymous.json()) == (503, {"status": "fail"})
    assert (wrong.status_code, wrong.json()) == (503, {"status": "fail"})
    assert detailed.status_code == 503
    entry = detailed.json()["checks"]["redis:responseTime"][0]
    assert (entry["faultCode"], entry["layer"], entry["owner"]) == (
        "tcp.refused",
        "tcp",
        "infrastructure",
    )
    assert TOKEN not in detailed.text


async def test_allowed_networks_get_details_without_a_token() -> None:
    health = Health([function_check("db", Calls())], networks=["127.0.0.0/8"])

    async with client(health, ("127.0.0.1", 5000)) as inside, client(health) as outside:
        near = await inside.get("/infrastructure")
        far = await outside.get("/infrastructure")

    assert "checks" in near.json()
    assert far.json() == {"status": "pass"}


async def test_ready_holds_critical_checks_only() -> None:
    optional = Calls(RuntimeError("boom"))
    health = Health(
        [function_check("db", Calls()), function_check("search", optional, critical=False)],
        tokens=[TOKEN],
    )

    async with client(health) as http:
        response = await http.get("/ready", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert list(response.json()["checks"]) == ["db:responseTime"]
    assert optional.count == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/infrastructure", 405),
        ("GET", "/nope", 404),
        ("GET", "/", 404),
        ("GET", "/live/", 200),
        ("HEAD", "/live", 200),
    ],
)
async def test_routes_and_methods(method: str, path: str, status: int) -> None:
    async with client(Health([])) as http:
        response = await http.request(method, path)

    assert response.status_code == status
    if method == "HEAD":
        assert response.content == b""
        assert int(response.headers["content-length"]) > 0
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD"


async def test_mounted_under_starlette_next_to_the_apps_routes() -> None:
    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("home")

    health = Health([function_check("db", Calls())], tokens=[TOKEN])
    app = Starlette(routes=[Route("/", home), Mount("/health", app=health)])

    async with client(app) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
        infrastructure = await http.get(
            "/health/infrastructure", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        home_page = await http.get("/")

    assert live.json() == {"status": "pass"}
    assert ready.json() == {"status": "pass"}
    assert infrastructure.json()["checks"]["db:responseTime"][0]["status"] == "pass"
    assert home_page.text == "home"


async def test_routes_helper_mounts_at_a_prefix() -> None:
    health = Health([])
    app = Starlette(routes=health.routes("/status"))

    async with client(app) as http:
        response = await http.get("/status/live")

    assert response.json() == {"status": "pass"}


async def test_prometheus_metrics_from_the_latest_results() -> None:
    registry = CollectorRegistry()
    health = Health(
        [
            function_check("redis", Calls(ConnectionRefusedError(111, "refused")), kind="redis"),
            function_check("db", Calls()),
        ],
        registry=registry,
    )

    before = generate_latest(registry).decode()
    await health.document()
    after = generate_latest(registry).decode()

    assert 'faultfinder_health_check_status{check="redis"' not in before
    assert 'faultfinder_health_check_status{check="redis",status="fail"} 1.0' in after
    assert 'faultfinder_health_check_status{check="db",status="pass"} 1.0' in after
    assert (
        'faultfinder_health_check_fault_info{check="redis",code="tcp.refused",'
        'measurement="responseTime"} 1.0'
    ) in after
    assert 'faultfinder_health_check_runs_total{check="redis",status="fail"} 1.0' in after
    assert 'faultfinder_health_check_duration_seconds{check="db"}' in after


def test_importing_the_library_loads_no_optional_dependency() -> None:
    code = (
        "import sys, faultfinder.health; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'starlette', 'sqlalchemy', 'prometheus_client', 'redis', 'asyncpg'}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "[]"
