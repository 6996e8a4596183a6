"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): the verdict, a
row per component, the timeline of a real state change and latency charts, drawn from
``/api/status`` of a real ``faultfinder serve`` — with no request leaving the server.

The screenshot is kept as artifacts/serve-dashboard.png.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from tests.servers import require_binary, wait_until
from tests.servers.app import AppServer
from tests.servers.common import StackWriter
from tests.servers.exporters import Served

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SECRET = "s3cret-in-the-url"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile (``--user-data-dir`` in tmp_path)."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=require_binary("chromium"),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def status(serve: Served) -> dict[str, Any]:
    document: dict[str, Any] = serve.get("/api/status").json()
    return document


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The component's entry; empty while the monitor has not listed it yet (start-up)."""
    return next((c for c in document["components"] if c["name"] == name), {})


def test_dashboard_shows_a_real_outage(
    app_server: AppServer,
    write_stack: StackWriter,
    serve_process: Callable[..., Served],
    browser: BrowserContext,
) -> None:
    cache = socket.create_server(("127.0.0.1", 0))  # the kernel accepts: a healthy TCP port
    port = cache.getsockname()[1]
    stack = write_stack(
        {"web": {"url": f"http://admin:{SECRET}@127.0.0.1:{app_server.port}/ok",
                 "depends_on": ["cache"]},
         "cache": {"url": f"tcp://127.0.0.1:{port}"}},
        defaults={"timeout": "1s", "interval": "200ms", "failure_threshold": 1,
                  "success_threshold": 1},
    )
    serve = serve_process(stack, "--no-alerts", "--no-history", "--refresh", "300ms")
    wait_until(lambda: len(component(status(serve), "cache").get("latency", ())) >= 3,
               what="three healthy probes of cache")
    cache.close()  # the outage: nothing listens any more
    wait_until(lambda: component(status(serve), "cache").get("status") == "down",
               what="cache to go down")

    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto(serve.url("/"))
    page.wait_for_selector("body[data-rendered]")
    page.wait_for_selector('#changes li[data-component="cache"][data-new="down"]')

    assert page.inner_text("#overall") == "down"
    row = page.locator('#components tr[data-component="cache"]')
    assert row.get_attribute("data-status") == "down"
    assert row.locator("td.code").inner_text() == "tcp.refused"
    assert row.locator("td.owner").inner_text() == "infrastructure"
    assert "cache" in page.inner_text("#summary")
    assert page.inner_text("#owner") == "infrastructure"
    assert page.locator("#why li").count() >= 1
    # the timeline: cache grey until its first probe settled it (issue 19), green, then red
    lane = page.locator('#timeline rect[data-component="cache"]')
    assert [lane.nth(i).get_attribute("data-status") for i in range(lane.count())] == [
        "pending", "healthy", "down"]
    change = page.inner_text('#changes li[data-component="cache"]')
    assert "healthy → down" in change
    assert "tcp.refused" in change
    # latency charts: a line per component, failed probes marked
    for name in ("web", "cache"):
        points = page.locator(f'.chart[data-component="{name}"] polyline').get_attribute("points")
        assert points is not None
        assert len(points.split()) >= 3
    assert page.locator('.chart[data-component="cache"] circle.failed').count() >= 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve-dashboard.png"), full_page=True)
    assert SECRET not in page.content()
    assert SECRET not in serve.get("/api/status").text
    assert not errors
    assert requests
    assert all(url.startswith(serve.url("/")) for url in requests), requests
