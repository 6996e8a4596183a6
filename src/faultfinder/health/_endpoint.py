"""``Health``: the mountable ASGI app serving /live, /ready and /infrastructure.

A plain ASGI app, so it needs no web framework: mount it in Starlette or FastAPI
(``Mount("/health", app=health)``, ``app.mount("/health", health)``) or serve it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from faultfinder import clock
from faultfinder.health._access import Access
from faultfinder.health._cache import CheckCache
from faultfinder.health._checks import HARD_CUT_GRACE, Check, Outcome, failed, timed_out
from faultfinder.health._document import (
    MEDIA_TYPE,
    build_document,
    http_status,
    validated_about,
)

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry
    from starlette.routing import BaseRoute

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LIVE = "/live"
READY = "/ready"
INFRASTRUCTURE = "/infrastructure"

# kubelet's probe timeoutSeconds defaults to 1 s (k8s.io/api core/v1 Probe: "Defaults to 1
# second"): the endpoint answers, with a 503 naming the slow check, before the probe gives up.
DEFAULT_DEADLINE = 0.9


class Health:
    """Health endpoints for an ASGI app: liveness, readiness and every dependency in detail.

    ``ttl``: seconds a result is reused (single-flight: one run per check at a time).
    ``deadline``: the most a request waits for results, by default 0.9 s (under kubelet's 1 s
    probe timeout), or less when every check's timeout plus a grace is shorter; a check still
    running then is reported failing with its timeout code.
    ``tokens``, ``headers``, ``networks``: who gets details (anonymous callers get the status).
    ``registry``: a prometheus-client ``CollectorRegistry`` to export the results to.
    ``about``: extra top-level keys for callers with details (``serviceId``, ``version``…).
    """

    def __init__(
        self,
        checks: Sequence[Check],
        *,
        ttl: float = 5.0,
        deadline: float | None = None,
        tokens: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        networks: Iterable[str] = (),
        registry: CollectorRegistry | None = None,
        about: Mapping[str, object] | None = None,
    ) -> None:
        self.checks = tuple(checks)
        _refuse_duplicates(self.checks)
        longest = max((check.timeout for check in self.checks), default=0.0)
        self.deadline = (
            deadline
            if deadline is not None
            else min(longest + HARD_CUT_GRACE + 0.25, DEFAULT_DEADLINE)
        )
        if self.deadline <= 0:
            raise ValueError("the deadline must be greater than zero")
        self.access = Access.of(tokens=tokens, headers=headers, networks=networks)
        self.cache = CheckCache(self.checks, ttl)
        self.about = validated_about(about)
        self._rendered: dict[tuple[bool, bool], tuple[tuple[Outcome, ...], int, bytes]] = {}
        if registry is not None:
            from faultfinder.health._metrics import HealthCollector

            registry.register(HealthCollector(self.cache))

    async def outcomes(self, *, critical_only: bool = False) -> list[Outcome]:
        """The current outcome of every (critical) check, within the deadline; never raises."""
        selected = [
            index for index, check in enumerate(self.checks) if check.critical or not critical_only
        ]
        found = {index: self.cache.get(index) for index in selected}
        running = [value for value in found.values() if isinstance(value, asyncio.Task)]
        if running:
            # asyncio.wait leaves the runs going past the deadline: the next request gets them.
            await asyncio.wait(running, timeout=self.deadline)
        return [self._settled(index, found[index]) for index in selected]

    def _settled(self, index: int, found: Outcome | asyncio.Task[Outcome]) -> Outcome:
        if isinstance(found, Outcome):
            return found
        check = self.checks[index]
        if found.done() and not found.cancelled():
            error = found.exception()
            if error is None:
                return found.result()
            observation = failed(check, error)  # run_check does not raise; this is a safety net
        else:
            observation = timed_out(check, self.deadline, "deadline of the health endpoint")
        return Outcome(
            check.name,
            check.component_type,
            check.critical,
            (observation,),
            clock.now(),
            round(self.deadline * 1000, 1),
        )

    async def document(
        self, *, details: bool = True, critical_only: bool = False
    ) -> tuple[int, dict[str, object]]:
        """The HTTP status and the health document, as the endpoints serve them."""
        outcomes = await self.outcomes(critical_only=critical_only)
        return self._build(outcomes, details)

    def _build(self, outcomes: Sequence[Outcome], details: bool) -> tuple[int, dict[str, object]]:
        document = build_document(
            outcomes, details=details, secrets=self.secrets() if details else (), about=self.about
        )
        return http_status(str(document["status"])), document

    async def _body(self, *, details: bool, critical_only: bool) -> tuple[int, bytes]:
        """The document as bytes, rendered again only when an outcome changed."""
        outcomes = tuple(await self.outcomes(critical_only=critical_only))
        key = (details, critical_only)
        rendered = self._rendered.get(key)
        # The entry holds the outcomes themselves, so identity cannot match a recycled object.
        if rendered is not None and _same(rendered[0], outcomes):
            return rendered[1], rendered[2]
        status, document = self._build(outcomes, details)
        body = json.dumps(document).encode()
        self._rendered[key] = (outcomes, status, body)
        return status, body

    def secrets(self) -> set[str]:
        """Every value the document must never show: tokens, passwords the clients hold."""
        found = set(self.access.secrets())
        for check in self.checks:
            with contextlib.suppress(Exception):  # a client not created yet has none to leak
                found.update(check.secrets())
        return found

    def routes(self, prefix: str = "/health") -> list[BaseRoute]:
        """Starlette routes serving this app under ``prefix`` (needs the ``health`` extra)."""
        from starlette.routing import Mount

        return [Mount(prefix, app=self)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.cache.loop = asyncio.get_running_loop()  # where a metrics scrape starts runs
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: refuse the upgrade
            await send({"type": "websocket.close", "code": 1000})
            return
        path = _route_path(scope)
        if path not in (LIVE, READY, INFRASTRUCTURE):
            await _respond(send, scope, 404, {"error": "not found"}, "application/json")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, scope, 405, {"error": "method not allowed"}, "application/json")
            return
        if path == LIVE:  # liveness never touches a dependency
            await _respond(send, scope, 200, {"status": "pass"})
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        client = scope.get("client")
        details = self.access.allows(headers, client[0] if client else None)
        status, body = await self._body(details=details, critical_only=path == READY)
        await _send(send, scope, status, body)


def _refuse_duplicates(checks: Sequence[Check]) -> None:
    """One name, one check: two would share their document keys and Prometheus series."""
    seen: set[str] = set()
    for check in checks:
        if check.name in seen:
            raise ValueError(f"two checks are named {check.name!r}: each needs its own name")
        seen.add(check.name)


def _route_path(scope: Scope) -> str:
    """The path below the mount point (Starlette's Mount sets ``root_path``, keeps ``path``)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        path = path[len(root) :]
    return path.rstrip("/") or "/"


def _same(before: tuple[Outcome, ...], now: tuple[Outcome, ...]) -> bool:
    return len(before) == len(now) and all(a is b for a, b in zip(before, now, strict=True))


async def _respond(
    send: Send, scope: Scope, status: int, document: Mapping[str, object], media: str = MEDIA_TYPE
) -> None:
    await _send(send, scope, status, json.dumps(document).encode(), media)


async def _send(
    send: Send, scope: Scope, status: int, body: bytes, media: str = MEDIA_TYPE
) -> None:
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Served alone, the app has nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
