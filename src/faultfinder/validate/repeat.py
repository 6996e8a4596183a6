"""The repetition runner: every component probed N times at its own cadence, all at once.

Each component runs its repetitions one after another, each starting ``interval`` after the
previous one started (later, if the previous probe overran); all components run concurrently.
So N repetitions take about ``(N - 1) × interval`` plus the slowest probe, however many
components there are. Probing is ``probe_component``'s; this module only schedules it.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass

from faultfinder import clock
from faultfinder.config import Component, Stack
from faultfinder.model import CheckResult
from faultfinder.probe import probe_component, prober
from faultfinder.probe.footing import check_footing

# Called after every probe, in the event loop: (component, repetition from 1, result).
Observer = Callable[[str, int, CheckResult], None]


@dataclass(frozen=True)
class Repetitions:
    """What the runner measured: ``rounds[i][name]`` is repetition ``i + 1`` of ``name``."""

    started_at: datetime.datetime
    duration_ms: float
    rounds: tuple[dict[str, CheckResult], ...]
    offsets_ms: tuple[dict[str, float], ...]  # when each probe started, since the run started
    footing: tuple[str, ...]


async def repeat(
    stack: Stack, rounds: int, interval: float, on_check: Observer | None = None
) -> Repetitions:
    """Probe every component ``rounds`` times, ``interval`` seconds apart, concurrently."""
    for kind in {component.kind for component in stack.components.values()}:
        prober(kind)  # import the client libraries before the first repetition is due
    results: list[dict[str, CheckResult]] = [{} for _ in range(rounds)]
    offsets: list[dict[str, float]] = [{} for _ in range(rounds)]
    loop = asyncio.get_running_loop()
    started_at = clock.now()
    started = time.perf_counter()
    origin = loop.time()

    async def one_component(component: Component) -> None:
        for index in range(rounds):
            delay = origin + index * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            offsets[index][component.name] = (loop.time() - origin) * 1000
            result = await probe_component(component)
            results[index][component.name] = result
            if on_check is not None:
                on_check(component.name, index + 1, result)

    names = sorted(stack.components)
    footing, _ = await asyncio.gather(
        check_footing(), asyncio.gather(*(one_component(stack.components[n]) for n in names))
    )
    return Repetitions(
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
        rounds=tuple(results),
        offsets_ms=tuple(offsets),
        footing=tuple(footing),
    )
