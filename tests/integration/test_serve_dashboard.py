"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): the verdict, a
row per component, the timeline of a real state change and latency charts, drawn from
``/api/status`` of a real ``faultfinder serve`` — with no request leaving the server.

The screenshot is kept as artifacts/serve-dashboard.png.
"""

from __future__ import annotations

import socket
import zlib
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
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
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
        {
            "web": {
                "url": f"http://admin:{SECRET}@127.0.0.1:{app_server.port}/ok",
                "depends_on": ["cache"],
            },
            "cache": {"url": f"tcp://127.0.0.1:{port}"},
        },
        defaults={
            "timeout": "1s",
            "interval": "200ms",
            "failure_threshold": 1,
            "success_threshold": 1,
        },
    )
    # with workers on: the page, its script and api/status come from the owner through them
    serve = serve_process(
        stack, "--no-alerts", "--no-history", "--refresh", "300ms", "--workers", "2"
    )
    wait_until(
        lambda: len(component(status(serve), "cache").get("latency", ())) >= 3,
        what="three healthy probes of cache",
    )
    cache.close()  # the outage: nothing listens any more
    wait_until(
        lambda: component(status(serve), "cache").get("status") == "down", what="cache to go down"
    )

    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
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
        "pending",
        "healthy",
        "down",
    ]
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


# The dashboard's grey for a component not settled yet (dashboard.css, --pending: #8c959f).
PENDING_GREY = (0x8C, 0x95, 0x9F)


def png_pixels(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA PNG (what Chromium writes), decoded
    with the standard library as the PNG specification says (chunks, zlib, per-row filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, color, interlace = header[8], header[9], header[12]
    assert (depth, interlace) == (8, 0)
    assert color in (2, 6)
    channels = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for index in range(height):
        start = index * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )
                line[x] = (line[x] + near[2]) & 0xFF
        rows.append(line)
        previous = line
    pixels = [[tuple(row[x * channels : x * channels + 3]) for x in range(width)] for row in rows]
    return width, height, pixels  # type: ignore[return-value]


def centre_colour(png: bytes) -> tuple[int, int, int]:
    width, height, pixels = png_pixels(png)
    return pixels[height // 2][width // 2]


def test_a_component_not_settled_yet_is_pending_grey_never_green(
    write_stack: StackWriter,
    serve_process: Callable[..., Served],
    browser: BrowserContext,
) -> None:
    settled = socket.create_server(("127.0.0.1", 0))  # the kernel accepts: healthy at once
    listener = socket.create_server(("127.0.0.1", 0))
    refused = listener.getsockname()[1]
    listener.close()  # a real listener, closed: the kernel refuses (ECONNREFUSED)
    stack = write_stack(
        {
            "settled": {"url": f"tcp://127.0.0.1:{settled.getsockname()[1]}"},
            # it fails from the start, but flap control wants 1,000 failures in a row to settle
            "waiting": {"url": f"tcp://127.0.0.1:{refused}", "failure_threshold": 1000},
        },
        defaults={"timeout": "1s", "interval": "200ms", "success_threshold": 1},
    )
    try:
        # the page draws once and stays still for its screenshots (no redraw mid-capture)
        serve = serve_process(stack, "--no-alerts", "--no-history", "--refresh", "60s")
        wait_until(
            lambda: (
                len(component(status(serve), "waiting").get("latency", ())) >= 3
                and component(status(serve), "settled").get("status") == "healthy"
            ),
            what="three probes of waiting, and settled settled",
        )
        document = status(serve)
        assert component(document, "waiting")["status"] == "pending"
        assert component(document, "waiting")["code"] == "tcp.refused"  # seen, not settled
        starts = [(c["component"], c["old"], c["new"]) for c in document["changes"]]
        assert starts == [("settled", "pending", "healthy")]  # its start, not a change

        page = browser.new_page()
        page.goto(serve.url("/"))
        page.wait_for_selector("body[data-rendered]")
        row = page.locator('#components tr[data-component="waiting"]')
        assert row.get_attribute("data-status") == "pending"
        assert row.locator("td.status").inner_text().strip() == "pending"
        lane = page.locator('#timeline rect[data-component="waiting"]')
        assert [lane.nth(i).get_attribute("data-status") for i in range(lane.count())] == [
            "pending"
        ]  # never painted healthy: it was never seen healthy
        settled_lane = page.locator('#timeline rect[data-component="settled"]')
        assert settled_lane.last.get_attribute("data-status") == "healthy"
        assert "settled: starts healthy" in page.inner_text('#changes li[data-component="settled"]')

        # what a person sees: the pixels Chromium painted, grey for pending, not green
        assert centre_colour(row.locator(".dot").screenshot()) == PENDING_GREY
        assert centre_colour(lane.first.screenshot()) == PENDING_GREY
        assert centre_colour(settled_lane.last.screenshot()) == (0x1A, 0x7F, 0x37)  # --healthy
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "serve-dashboard-pending.png"), full_page=True)
    finally:
        settled.close()
