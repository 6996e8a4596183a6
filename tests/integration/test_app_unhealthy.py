"""`app.unhealthy`, for real: an app whose health document fails on a check of its own.

The app is a real uvicorn server serving ``faultfinder.health``; its only failing check is
its disk, which no stack component is, so the fault is the app's own and nothing below it.
"""

from __future__ import annotations

from typing import Any

from faultfinder.health import Health, function_check


async def _disk_is_full() -> None:
    raise OSError(28, "No space left on device")


async def _fine() -> None:
    return None


def test_failing_own_check_is_app_unhealthy(asgi_server: Any, write_stack: Any, run_cli: Any):
    health = Health(
        [function_check("disk", _disk_is_full, critical=True), function_check("cache", _fine)],
        networks=["127.0.0.0/8"],
    )
    served = asgi_server.start(health)
    stack = write_stack(
        {
            "backend": {"url": served.url("/infrastructure"), "health": True, "critical": True},
        }
    )

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 1
    document = result.json()
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["code"], cause["owner"], cause["vantage"]) == (
        "backend",
        "app.unhealthy",
        "application",
        "faultfinder",
    )
    assert any("disk" in line and "No space left on device" in line for line in cause["evidence"])
    backend = result.component("backend")
    assert backend["http_status"] == 503
    assert document["status"] == "down"


def test_passing_document_is_healthy(asgi_server: Any, write_stack: Any, run_cli: Any):
    served = asgi_server.start(Health([function_check("cache", _fine)]))
    stack = write_stack({"backend": {"url": served.url("/infrastructure"), "health": True}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    assert result.json()["root_causes"] == []
