"""The HTTP mapping, the disclosure levels and the IETF draft's keys, against real Redis,
PostgreSQL and an HTTP app served by uvicorn."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, url_check

TOKEN = "policy-token-3f2c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def served(asgi_server: Any, health: Health) -> str:
    return str(asgi_server.start(Starlette(routes=[Mount("/health", app=health)])).url())


async def test_status_codes_map_each_status(
    redis_factory: Any, postgres_server: Any, asgi_server: Any
) -> None:
    redis = redis_factory.start()
    url = redis.url()
    redis.stop()
    # Actuator's management.endpoint.health.status.http-mapping: a status → an HTTP code.
    codes = {"fail": 500, "warn": 207}
    failing = Health([url_check("redis", url, timeout=1)], status_codes=codes)
    warning = Health(
        [
            url_check("postgres", postgres_server.url(), timeout=2),
            url_check("redis", url, timeout=1, critical=False),
        ],
        status_codes=codes,
    )
    async with httpx.AsyncClient(base_url=served(asgi_server, failing)) as http:
        fail = await http.get("/health/infrastructure")
        verbose = await http.get("/health/ready?verbose")
    async with httpx.AsyncClient(base_url=served(asgi_server, warning)) as http:
        warn = await http.get("/health/infrastructure")

    assert (fail.status_code, fail.json()) == (500, {"status": "fail"})
    assert verbose.status_code == 500
    assert (warn.status_code, warn.json()) == (207, {"status": "warn"})


@pytest.mark.parametrize("codes", [{"down": 503}, {"fail": 99}, {"fail": "503"}])
def test_a_bad_mapping_is_refused(redis_server: Any, codes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="status_codes: "):
        Health([url_check("redis", redis_server.url())], status_codes=codes)


async def test_components_without_details_and_details_never(
    redis_factory: Any, app_server: Any, asgi_server: Any
) -> None:
    redis = redis_factory.start()
    url = redis.url()
    redis.stop()
    checks = [url_check("redis", url, timeout=1), url_check("web", app_server.url("/ok"))]
    # Actuator's show-components=always with show-details=when-authorized, and show-details
    # never: names and statuses for everyone, outputs for nobody.
    public = Health(checks, tokens=[TOKEN], show_components="always")
    hidden = Health(checks, tokens=[TOKEN], show_details="never")
    async with httpx.AsyncClient(base_url=served(asgi_server, public)) as http:
        anonymous = (await http.get("/health/infrastructure")).json()
        authorised = (await http.get("/health/infrastructure", headers=AUTH)).json()
    async with httpx.AsyncClient(base_url=served(asgi_server, hidden)) as http:
        withheld = (await http.get("/health/infrastructure", headers=AUTH)).json()
        lines = (await http.get("/health/infrastructure?verbose", headers=AUTH)).text

    components = {
        "status": "fail",
        "checks": {
            "redis:responseTime": [{"componentType": "datastore", "status": "fail"}],
            "web:responseTime": [{"componentType": "component", "status": "pass"}],
        },
    }
    assert anonymous == components
    assert authorised["checks"]["redis:responseTime"][0]["faultCode"] == "tcp.refused"
    assert withheld == components
    assert "[-]redis failed: reason withheld" in lines  # components, not details


def test_a_bad_policy_is_refused(redis_server: Any) -> None:
    with pytest.raises(ValueError, match="show_details: 'sometimes' is not one of"):
        Health([url_check("redis", redis_server.url())], show_details="sometimes")


async def test_the_ietf_drafts_keys(redis_server: Any, postgres_server: Any) -> None:
    # draft-inadarei-api-health-check-06: §3 top level (releaseId, notes, serviceId,
    # description, links), §4 a check object (componentId, affectedEndpoints, links).
    health = Health(
        [
            url_check(
                "redis",
                redis_server.url(),
                component_id="6fd416e0-8920-410f-9c7b",
                affected_endpoints=["/api/v1/sessions"],
                links={"about": "https://runbooks.example/redis"},
            ),
            url_check("postgres", postgres_server.url()),
        ],
        about={
            "releaseId": "1.4.2-329",
            "serviceId": "api",
            "description": "the API",
            "notes": ["canary"],
            "links": {"about": "https://example/api"},
        },
    )

    status, document = await health.document()

    assert (status, document["releaseId"], document["notes"]) == (200, "1.4.2-329", ["canary"])
    [redis] = document["checks"]["redis:responseTime"]
    assert (redis["componentId"], redis["affectedEndpoints"], redis["links"]) == (
        "6fd416e0-8920-410f-9c7b",
        ["/api/v1/sessions"],
        {"about": "https://runbooks.example/redis"},
    )
    [postgres] = document["checks"]["postgres:responseTime"]
    assert "componentId" not in postgres  # optional keys appear only when given


@pytest.mark.parametrize(
    ("about", "reason"),
    [
        ({"notes": "one note"}, "notes is a list of strings"),
        ({"releaseId": 42}, "releaseId is a string"),
        ({"links": {"about": 1}}, "links maps strings to URI strings"),
    ],
)
def test_the_drafts_keys_need_their_types(
    redis_server: Any, about: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        Health([url_check("redis", redis_server.url())], about=about)
