"""Probers: one module per scheme, all with the same signature, registered in one dict.

A prober is ``async def probe(ladder) -> None``: it climbs the rungs its scheme has and raises
``ProbeFault`` at the first that fails. ``probe_component`` turns that into a ``CheckResult``;
no foreign exception gets past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from faultfinder.config import Component, Stack
from faultfinder.model import CheckResult
from faultfinder.probe import dns, http, postgres, redis, tcp, tls, websocket
from faultfinder.probe._ladder import Ladder, ProbeFault

Prober = Callable[[Ladder], Awaitable[None]]

PROBERS: dict[str, Prober] = {
    "http": http.probe,
    "https": http.probe,
    "ws": websocket.probe,
    "wss": websocket.probe,
    "tcp": tcp.probe,
    "tls": tls.probe,
    "dns": dns.probe,
    "postgresql": postgres.probe,
    "redis": redis.probe,
    "rediss": redis.probe,
}

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


async def probe_component(component: Component) -> CheckResult:
    """Probe one component under its deadline; always returns, never raises."""
    ladder = Ladder(component)
    try:
        async with asyncio.timeout(component.timeout + _GRACE_SECONDS):
            await PROBERS[component.kind](ladder)
    except ProbeFault as fault:
        return ladder.result(fault.code)
    except TimeoutError:
        ladder.evidence.append(f"the probe did not finish within {component.timeout:g}s")
        return ladder.result(_TIMEOUT_CODES.get(component.kind, "http.timeout"))
    return ladder.result(None)


async def probe_stack(stack: Stack) -> dict[str, CheckResult]:
    """Probe every component of a stack concurrently; results keyed by component name."""
    names = sorted(stack.components)
    results = await asyncio.gather(*(probe_component(stack.components[n]) for n in names))
    return dict(zip(names, results, strict=True))
