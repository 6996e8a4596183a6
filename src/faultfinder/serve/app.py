"""The ASGI app of ``faultfinder serve``: ``/probe``, ``/metrics``, ``/api/status``, dashboard.

``/probe`` runs one probe on demand, as blackbox_exporter does, and needs no monitor. The rest
read a running monitor through ``MonitorView`` only; the monitor itself runs as the app's
``background`` task, started and stopped by the ASGI lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from importlib import resources
from typing import Any, Protocol

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from faultfinder.config import Component
from faultfinder.errors import UsageError
from faultfinder.model import CheckResult
from faultfinder.monitor.view import MonitorView
from faultfinder.probe import probe_component, prober
from faultfinder.redact import INLINE, Redactor, header_secrets, url_secrets
from faultfinder.schemes import SCHEMES
from faultfinder.serve.blackbox import render_probe
from faultfinder.serve.collector import (
    TALLY_INTERVAL,
    MonitorCollector,
    ProbeRequests,
    ProbeTally,
)
from faultfinder.serve.forward import Forward
from faultfinder.serve.modules import Modules
from faultfinder.serve.status import status_document

logger = logging.getLogger("faultfinder.serve")

Background = Callable[[], Coroutine[Any, Any, None]]

_PROBE_ONLY_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>faultfinder serve</title></head>
<body><h1>faultfinder serve</h1>
<p>No stack file: only <a href="/probe?target=127.0.0.1:80&amp;module=tcp_connect">/probe</a>
and <a href="/metrics">/metrics</a> are served.</p></body></html>
"""


class ProbeCounts(Protocol):
    """Where ``/probe`` counts its answers: ``ProbeRequests`` in one process, a worker's row
    of ``shared.SharedProbeCounts`` under ``serve --workers``."""

    def count(self, module: str, ok: bool) -> None: ...
    def reject(self) -> None: ...
    def refuse_busy(self) -> None: ...
    def collect(self) -> Iterator[Metric]: ...


# /probe requests probed at once; more are refused with 503 (blackbox_exporter's users ask for
# such a limit: a scrape storm at hung targets holds a connection and memory each).
DEFAULT_MAX_PROBES = 200


class _Endpoints:
    def __init__(
        self,
        registry: CollectorRegistry,
        modules: Modules,
        requests: ProbeCounts,
        monitor: MonitorView | None,
        stack_name: str,
        redactor: Redactor,
        refresh_seconds: float,
        max_probes: int,
    ) -> None:
        self.registry = registry
        self.max_probes = max_probes
        self.in_flight = 0  # /probe requests being probed now
        self.modules = modules
        self.requests = requests
        self.monitor = monitor
        self.stack_name = stack_name
        self.redactor = redactor
        page = resources.files("faultfinder.serve").joinpath("static/dashboard.html")
        self.page = page.read_text(encoding="utf-8").replace(
            "{{refresh_seconds}}", f"{refresh_seconds:g}"
        )

    async def probe(self, request: Request) -> Response:
        """blackbox's ``/probe``: ``module`` defaults to http_2xx; 400 for a bad request."""
        params = request.query_params
        name = params.get("module") or "http_2xx"
        try:
            timeout = self.modules.timeout(
                name, request.headers.get("x-prometheus-scrape-timeout-seconds")
            )
            component = self.modules.component(
                name, params.get("target", ""), params.get("hostname") or None, timeout
            )
        except UsageError as error:
            self.requests.reject()
            return PlainTextResponse(f"{error}\n", status_code=400)
        if self.in_flight >= self.max_probes:
            # A storm of probes at hung targets would hold a socket and memory each until its
            # deadline: refused at once instead, so /metrics and /-/healthy stay answered.
            self.requests.refuse_busy()
            return PlainTextResponse(
                f"{self.in_flight} probes are in flight, the most --max-probes allows: try again\n",
                status_code=503,
            )
        self.in_flight += 1
        try:
            result = await probe_component(component, self.modules.climb(name))
        finally:
            self.in_flight -= 1
        self.requests.count(name, result.ok)
        metrics = render_probe(result, self.modules.modules[name].prober)
        if params.get("debug") == "true":
            return PlainTextResponse(_debug(result, metrics, component))
        return Response(metrics, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def metrics(self, request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(self.registry), media_type=content_type)

    async def status(self, request: Request) -> Response:
        assert self.monitor is not None
        document = status_document(self.monitor, self.stack_name)
        text = self.redactor(json.dumps(document, sort_keys=True, ensure_ascii=False))
        return Response(text, media_type="application/json")

    async def dashboard(self, request: Request) -> Response:
        if self.monitor is None:
            return HTMLResponse(_PROBE_ONLY_PAGE)
        return HTMLResponse(self.page)

    async def healthy(self, request: Request) -> Response:
        return PlainTextResponse("OK\n")


def _debug(result: CheckResult, metrics: bytes, component: Component) -> str:
    """``debug=true``: the rungs and the evidence, then the metrics, as blackbox prints them."""
    lines = [f"Probe of {component.display_url} ({component.kind}, {component.timeout:g}s):"]
    lines += [
        f"  {phase.layer}: {'ok' if phase.ok else 'FAILED'} in {phase.ms:.1f} ms"
        f"{': ' + phase.detail if phase.detail else ''}"
        for phase in result.phases
    ]
    lines += [f"  code: {result.code or 'none'}", "", "Evidence:"]
    lines += [f"  {line}" for line in result.evidence]
    lines += ["", "Metrics that would have been returned:", metrics.decode()]
    secrets = url_secrets(component.parts)
    for value in component.spec.headers.values():  # --modules headers: tokens, often
        secrets |= header_secrets(value) if value else set()
    return Redactor(secrets)("\n".join(lines))


def create_app(
    *,
    monitor: MonitorView | None = None,
    stack_name: str = "stack",
    redactor: Redactor = INLINE,
    registry: CollectorRegistry | None = None,
    modules: Modules | None = None,
    background: Background | None = None,
    refresh_seconds: float = 5.0,
    max_probes: int = DEFAULT_MAX_PROBES,
    agent: str | None = None,
    requests: ProbeCounts | None = None,
    owner: str | None = None,
) -> Starlette:
    """The app. ``registry`` gets the app's collectors (a fresh one when not given: never the
    global registry); ``background`` (the monitor's run loop) runs for the app's lifetime;
    ``agent`` labels every monitor series with this vantage point's name.

    ``requests`` counts ``/probe``'s answers (a ``ProbeRequests`` of its own when not given).
    With ``owner`` (a Unix socket's path) the app is a ``serve --workers`` worker: it answers
    ``/probe`` and ``/-/healthy`` itself and every other path from the owner process."""
    registry = registry if registry is not None else CollectorRegistry(auto_describe=False)
    requests = requests if requests is not None else ProbeRequests()
    registry.register(requests)
    tally = ProbeTally(monitor) if monitor is not None else None
    if monitor is not None:
        registry.register(MonitorCollector(monitor, tally, agent=agent, stack=stack_name))
    endpoints = _Endpoints(
        registry,
        modules or Modules(),
        requests,
        monitor,
        stack_name,
        redactor,
        refresh_seconds,
        max_probes,
    )
    if owner is not None:
        worker_routes: list[BaseRoute] = [
            Route("/probe", endpoints.probe),
            Route("/-/healthy", endpoints.healthy),
            Route("/{path:path}", Forward(owner).answer, methods=["GET", "HEAD"]),
        ]
        return Starlette(routes=worker_routes, lifespan=_lifespan(None, None))
    routes: list[BaseRoute] = [
        Route("/probe", endpoints.probe),
        Route("/metrics", endpoints.metrics),
        Route("/-/healthy", endpoints.healthy),
        Route("/", endpoints.dashboard),
    ]
    if monitor is not None:
        routes += [
            Route("/api/status", endpoints.status),
            Mount("/static", StaticFiles(packages=[("faultfinder.serve", "static")])),
        ]
    return Starlette(routes=routes, lifespan=_lifespan(background, tally))


def _lifespan(
    background: Background | None, tally: ProbeTally | None
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for kind in SCHEMES:  # import every prober now, not inside the first probe's deadline
            prober(kind)
        tasks: list[asyncio.Task[None]] = []
        if background is not None:
            tasks.append(asyncio.create_task(background(), name="faultfinder-monitor"))
            tasks[-1].add_done_callback(_report_crash)
        if tally is not None:
            tasks.append(asyncio.create_task(_keep_counting(tally), name="faultfinder-tally"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


async def _keep_counting(tally: ProbeTally) -> None:
    while True:
        await asyncio.sleep(TALLY_INTERVAL)
        tally.update()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the monitor stopped", exc_info=task.exception())
