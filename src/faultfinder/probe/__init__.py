"""Probers: one module per scheme, all with the same signature, registered in one dict.

A prober is ``async def probe(ladder) -> None``: it climbs the rungs its scheme has and raises
``ProbeFault`` at the first that fails. ``probe_component`` turns that into a ``CheckResult``;
no foreign exception gets past it.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Awaitable, Callable

from faultfinder.config import Component, Stack
from faultfinder.model import CheckResult
from faultfinder.probe._ladder import Ladder, ProbeFault

Prober = Callable[[Ladder], Awaitable[None]]

# Scheme → the module (in this package) whose ``probe`` handles it. Modules are imported when a
# stack first uses their scheme, before any deadline starts: the client libraries (httpx,
# redis, asyncpg, websockets) are most of the CLI's start-up time, which counts against the
# promise that a run ends soon after its timeout.
PROBERS: dict[str, str] = {
    "http": "http",
    "https": "http",
    "ws": "websocket",
    "wss": "websocket",
    "tcp": "tcp",
    "tls": "tls",
    "dns": "dns",
    "postgresql": "postgres",
    "redis": "redis",
    "rediss": "redis",
    "flow": "flow",
}


@functools.cache  # import_module takes the import lock on every call: 200 a second in `watch`
def prober(kind: str) -> Prober:
    """The probe function for a scheme, importing its module on first use."""
    probe: Prober = importlib.import_module(f"{__name__}.{PROBERS[kind]}").probe
    return probe


# The safety net's code when a prober overruns its deadline without recording why.
_TIMEOUT_CODES = {
    "postgresql": "postgres.timeout",
    "redis": "redis.timeout",
    "rediss": "redis.timeout",
    "tcp": "tcp.timeout",
    "dns": "dns.temporary_failure",
}

# Past the deadline a prober gets this much longer to record its last rung before it is cut.
_GRACE_SECONDS = 0.25
# A flow keeps its own steps' deadlines; the net only catches a flow that overran them all.
_FLOW_GRACE_SECONDS = 1.0


def timeout_code(kind: str) -> str:
    """The code of a probe of this kind that ran out of time without saying why."""
    return _TIMEOUT_CODES.get(kind, "http.timeout")


async def probe_component(component: Component) -> CheckResult:
    """Probe one component under its deadline; always returns, never raises."""
    probe = prober(component.kind)  # imported before the deadline starts
    ladder = Ladder(component)
    try:
        grace = _FLOW_GRACE_SECONDS if component.kind == "flow" else _GRACE_SECONDS
        async with asyncio.timeout(component.timeout + grace):
            await probe(ladder)
    except ProbeFault as fault:
        return ladder.result(fault.code)
    except TimeoutError:
        ladder.evidence.append(f"the probe did not finish within {component.timeout:g}s")
        return ladder.result(timeout_code(component.kind))
    return ladder.result(None)


async def probe_stack(stack: Stack) -> dict[str, CheckResult]:
    """Probe every component of a stack concurrently; results keyed by component name."""
    names = sorted(stack.components)
    for kind in {component.kind for component in stack.components.values()}:
        prober(kind)  # every import before the first deadline starts
    results = await asyncio.gather(*(probe_component(stack.components[n]) for n in names))
    return dict(zip(names, results, strict=True))
