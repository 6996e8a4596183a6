"""``Health``: the mountable ASGI app serving /live, /ready and /infrastructure.

A plain ASGI app, so it needs no web framework: mount it in Starlette or FastAPI
(``Mount("/health", app=health)``, ``app.mount("/health", health)``) or serve it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from faultfinder import clock
from faultfinder.health._access import Access
from faultfinder.health._cache import CheckCache, Publisher
from faultfinder.health._checks import HARD_CUT_GRACE, Check, Outcome, failed, timed_out
from faultfinder.health._document import (
    MEDIA_TYPE,
    build_document,
    http_status,
    overall_status,
    validated_about,
    validated_status_codes,
)
from faultfinder.health._groups import Group, validated_groups
from faultfinder.health._refresh import JITTER, Refresher
from faultfinder.health._state import ACCEPTING, REFUSING, Availability, drain_on_sigterm
from faultfinder.health._verbose import verbose_text
from faultfinder.model import Grade
from faultfinder.redact import Redactor

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
STARTUP = "/startup"
BUILTIN = ("live", "ready", "infrastructure", "startup")
NEVER, WHEN_AUTHORIZED, ALWAYS = SHOW = ("never", "when_authorized", "always")

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
    ``groups``: more endpoints, ``{"db": Group.of(["postgres", "redis"])}`` at ``/db``.
    ``refresh``: seconds between background runs of every check (with jitter), or None.
    ``publish``: callables told of each check's state change ``(outcome, previous status)``.
    ``startup``: True when the app declares start-up work (``/startup`` fails until then).
    ``status_codes``: status → HTTP code (Actuator's ``http-mapping``), by default pass 200,
    warn 200, fail 503.
    ``show_components``, ``show_details``: ``never``, ``when_authorized`` (the default: the
    callers ``tokens``/``headers``/``networks`` allow) or ``always`` (Actuator's policies):
    components are the checks' names and statuses, details add outputs, codes and ``about``.
    ``draft_strict``: follow draft-inadarei-api-health-check-06 where docs/contract.md §4
    departs from it by default: a passing check object has no ``output``, and the documents
    of /ready, /infrastructure and the groups carry ``Cache-Control: max-age=TTL``.
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
        groups: Mapping[str, Group] | None = None,
        refresh: float | None = None,
        publish: Iterable[Publisher] = (),
        startup: bool = False,
        status_codes: Mapping[str, int] | None = None,
        show_components: str = WHEN_AUTHORIZED,
        show_details: str = WHEN_AUTHORIZED,
        draft_strict: bool = False,
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
        self.refresher: Refresher | None = None
        if refresh is not None:
            self.refresher = Refresher(self.cache, refresh)
            # Requests read what the loops found; they run a check only if the loops stall.
            self.cache.ttl = max(ttl, refresh * (1 + JITTER) + longest + HARD_CUT_GRACE)
        self.cache.publishers.extend(publish)
        self.about = validated_about(about)
        self.status_codes = validated_status_codes(status_codes)
        for name, value in (("show_components", show_components), ("show_details", show_details)):
            if value not in SHOW:
                raise ValueError(f"{name}: {value!r} is not one of {', '.join(SHOW)}")
        self.show_components, self.show_details = show_components, show_details
        self.draft_strict = draft_strict
        builtin = {READY[1:]: Group(critical_only=True), INFRASTRUCTURE[1:]: Group()}
        self.groups = builtin | validated_groups(dict(groups or {}), self.checks, BUILTIN)
        self.availability = Availability(starting=startup)
        self._rendered: dict[tuple[object, ...], tuple[tuple[Outcome, ...], int, bytes]] = {}
        if registry is not None:
            from faultfinder.health._metrics import HealthCollector

            registry.register(HealthCollector(self.cache))
        self.cache.redact = Redactor(self.secrets())

    # The app's own state (docs/health.md, "Start-up and availability").

    def mark_started(self) -> None:
        """The app's start-up work is done: /startup passes, readiness may accept traffic."""
        self.availability.starting = False

    def mark_start_failed(self, reason: str) -> None:
        """The app's start-up work failed: /startup and readiness fail, saying why."""
        self.availability.start_failed = reason or "no reason given"

    def mark_out_of_service(self, reason: str) -> None:
        """Readiness refuses traffic until ``mark_in_service``; liveness is untouched."""
        self.availability.out_of_service = reason or "no reason given"

    def mark_in_service(self) -> None:
        self.availability.out_of_service = None

    def drain(self) -> None:
        """Readiness refuses traffic from now on (shutting down); in-flight requests go on."""
        self.availability.draining = True

    def drain_on_sigterm(self, seconds: float = 5.0) -> None:
        """On SIGTERM, refuse traffic at once and hand the signal to the server ``seconds`` later.

        Call it in the app's lifespan start-up, after the server (uvicorn, hypercorn) set its
        own handler: load balancers see readiness fail and stop sending new requests while the
        app still serves; then the server's graceful shutdown finishes what is in flight.
        """
        drain_on_sigterm(self.availability, seconds)

    async def start(self) -> None:
        """Start the background refresh now (else the first request starts it)."""
        self.cache.loop = asyncio.get_running_loop()
        if self.refresher is not None:
            self.refresher.ensure_running()

    async def stop(self) -> None:
        if self.refresher is not None:
            await self.refresher.stop()

    async def outcomes(
        self, *, critical_only: bool = False, group: str | None = None, exclude: Iterable[str] = ()
    ) -> list[Outcome]:
        """The current outcome of every check a group selects, within the deadline; never
        raises. ``group`` None: every (critical) check."""
        selection = self.groups[group] if group else Group(critical_only=critical_only)
        skipped = set(exclude)
        selected = [
            index
            for index, check in enumerate(self.checks)
            if selection.selects(check) and check.name not in skipped
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

    def _build(
        self, outcomes: Sequence[Outcome], details: bool, components: bool = False
    ) -> tuple[int, dict[str, object]]:
        document = build_document(
            outcomes,
            details=details,
            secrets=self.secrets() if details else (),
            about=self.about,
            components=components,
            draft_strict=self.draft_strict,
        )
        return http_status(str(document["status"]), self.status_codes), document

    def _levels(self, allowed: bool) -> tuple[bool, bool]:
        """(components, details) a caller sees: Actuator's show-components/show-details."""
        details = self.show_details == ALWAYS or (self.show_details == WHEN_AUTHORIZED and allowed)
        components = details or self.show_components == ALWAYS
        components = components or (self.show_components == WHEN_AUTHORIZED and allowed)
        return components, details

    async def _body(
        self, group: str, *, components: bool, details: bool, exclude: frozenset[str]
    ) -> tuple[int, bytes]:
        """The document as bytes, rendered again only when an outcome changed."""
        outcomes = tuple(await self.outcomes(group=group, exclude=exclude))
        refusing = self.availability.refusing() if group == READY[1:] else None
        key = (group, components, details, exclude, refusing)
        rendered = self._rendered.get(key)
        # The entry holds the outcomes themselves, so identity cannot match a recycled object.
        if rendered is not None and _same(rendered[0], outcomes):
            return rendered[1], rendered[2]
        status, document = self._build(outcomes, details, components)
        if refusing is not None:
            status, document = _refused(document, refusing, details)
            status = self.status_codes["fail"]
        elif group == READY[1:] and details:
            document["availability"] = ACCEPTING
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
        await self.start()  # records the app's loop; starts the background refresh once
        if scope["type"] == "lifespan":
            await _lifespan(self, receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: refuse the upgrade
            await send({"type": "websocket.close", "code": 1000})
            return
        path = _route_path(scope)
        group = path[1:]
        if path not in (LIVE, STARTUP) and group not in self.groups:
            await _respond(send, scope, 404, {"error": "not found"}, "application/json")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, scope, 405, {"error": "method not allowed"}, "application/json")
            return
        if path == LIVE:  # liveness never touches a dependency
            await _respond(send, scope, 200, {"status": "pass"})
            return
        if path == STARTUP:
            await self._startup(send, scope)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        client = scope.get("client")
        components, details = self._levels(
            self.access.allows(headers, client[0] if client else None)
        )
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        exclude = frozenset(name for value in query.get("exclude", ()) for name in value.split(","))
        if "verbose" in query:
            await self._verbose(send, scope, group, components, details, exclude)
            return
        status, body = await self._body(
            group, components=components, details=details, exclude=exclude
        )
        await _send(send, scope, status, body, cache=self._freshness())

    def _freshness(self) -> str:
        """``Cache-Control`` of a document read from the check cache.

        draft-inadarei-api-health-check-06 §9: responses "SHOULD be assigned a freshness
        lifetime (e.g., 'Cache-Control: max-age=3600')", whatever their status: with
        ``draft_strict``, the TTL a result is reused for. Otherwise no-store (contract §4).
        """
        if not self.draft_strict:
            return "no-store"
        return f"max-age={max(0, math.floor(self.cache.ttl))}"

    async def _startup(self, send: Send, scope: Scope) -> None:
        state = self.availability
        if state.started:
            await _respond(send, scope, 200, {"status": "pass"})
        else:
            await _respond(send, scope, 503, {"status": "fail"})

    async def _verbose(
        self,
        send: Send,
        scope: Scope,
        group: str,
        components: bool,
        details: bool,
        exclude: frozenset[str],
    ) -> None:
        """kube-apiserver's ``?verbose`` text; check names only for callers with details."""
        outcomes = await self.outcomes(group=group, exclude=exclude)
        selection = self.groups[group]
        chosen = [check.name for check in self.checks if selection.selects(check)]
        measured = {outcome.name: outcome for outcome in outcomes}
        # kube-apiserver lists the checks in order, an excluded one where it stands
        lines = [measured.get(name, name) for name in chosen]
        refusing = self.availability.refusing() if group == READY[1:] else None
        passed = overall_status(outcomes) is not Grade.FAIL and refusing is None
        text = verbose_text(
            group,
            lines,
            passed=passed,
            unmatched=exclude - set(chosen),
            components=components,
            details=details,
        )
        if refusing is not None and details:
            text = f"[-]availability failed: {REFUSING}\n" + text
        status = overall_status(outcomes) if refusing is None else Grade.FAIL
        code = self.status_codes[str(status)]
        await _send(send, scope, code, text.encode(), "text/plain; charset=utf-8")


def _refused(
    document: dict[str, object], reason: str, details: bool
) -> tuple[int, dict[str, object]]:
    """Readiness while the app refuses traffic: ``fail`` whatever the checks say."""
    document["status"] = Grade.FAIL
    if details:
        document["availability"] = REFUSING
        document["output"] = reason
    return 503, document


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
    send: Send,
    scope: Scope,
    status: int,
    body: bytes,
    media: str = MEDIA_TYPE,
    cache: str = "no-store",
) -> None:
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", cache.encode()),
    ]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _lifespan(health: Health, receive: Receive, send: Send) -> None:
    """Served alone: start the background refresh with the app, stop it with the app."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            health.drain()
            await health.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
