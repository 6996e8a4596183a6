"""Probers: one module per scheme, all with the same signature, chosen by the registry.

``faultfinder.schemes`` names each kind's prober module, its rungs and their timeout codes.

A prober is ``async def probe(ladder) -> None``: it climbs the rungs its scheme has and raises
``ProbeFault`` at the first that fails. ``probe_component`` turns that into a ``CheckResult``;
no foreign exception gets past it.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Awaitable, Callable
from types import ModuleType

from faultfinder.classify import Finding, describe
from faultfinder.config import Component, Stack
from faultfinder.errors import ProbeFault
from faultfinder.model import CheckResult
from faultfinder.probe._ladder import Ladder
from faultfinder.schemes import scheme

ClientClassifier = Callable[[str, BaseException], Finding | None]

Prober = Callable[[Ladder], Awaitable[None]]

# The code of a probe whose prober met an error no classifier reads (say, a client library's
# own bug on a hostile answer): still a result, with the error as its evidence.
UNEXPECTED = "probe.unexpected_error"
# Past the deadline a prober gets this much longer to record its last rung before it is cut.
_GRACE_SECONDS = 0.25
# A flow keeps its own steps' deadlines; the net only catches a flow that overran them all.
_FLOW_GRACE_SECONDS = 1.0


@functools.cache  # import_module takes the import lock on every call: 200 a second in `watch`
def prober_module(kind: str) -> ModuleType:
    """The module of this package that probes a kind (``faultfinder.schemes``), imported on
    first use: before any deadline starts, since the client libraries (redis, asyncpg,
    websockets) are most of the CLI's start-up time, which counts against the promise that a
    run ends soon after its timeout."""
    return importlib.import_module(f"{__name__}.{scheme(kind).prober}")


def prober(kind: str) -> Prober:
    """The probe function for a kind, importing its module on first use."""
    probe: Prober = prober_module(kind).probe
    return probe


def client_classifier(kind: str) -> ClientClassifier | None:
    """The prober's reading of its client library's errors (``classify_error(target, error)``),
    for apps that use the same library (the health library's checks); None without one."""
    classify: ClientClassifier | None = getattr(prober_module(kind), "classify_error", None)
    return classify


async def probe_component(component: Component, climb: Prober | None = None) -> CheckResult:
    """Probe one component under its deadline; always returns, never raises. ``climb`` probes
    it instead of its kind's prober (``/probe``'s dns module queries a DNS server at a
    ``tcp://`` address: probe/dns_server.py)."""
    probe = climb or prober(component.kind)  # imported before the deadline starts
    ladder = Ladder(component)
    try:
        grace = _FLOW_GRACE_SECONDS if component.kind == "flow" else _GRACE_SECONDS
        async with asyncio.timeout(component.timeout + grace):
            await probe(ladder)
    except ProbeFault as fault:
        return ladder.result(fault.code)
    except TimeoutError:
        ladder.evidence.append(f"the probe did not finish within {component.timeout:g}s")
        return ladder.result(component.scheme.timeout_code)
    except Exception as error:  # no rule here reads it: a result all the same, never a crash
        ladder.evidence.append(f"the prober raised {type(error).__name__}: {describe(error)}")
        return ladder.result(UNEXPECTED)
    return ladder.result(None)


async def probe_stack(stack: Stack) -> dict[str, CheckResult]:
    """Probe every component of a stack concurrently; results keyed by component name."""
    names = sorted(stack.components)
    for kind in {component.kind for component in stack.components.values()}:
        prober(kind)  # every import before the first deadline starts
    results = await asyncio.gather(*(probe_component(stack.components[n]) for n in names))
    return dict(zip(names, results, strict=True))
