"""Background refresh: each check runs every interval (with jitter), whoever asks or not.

Requests and metrics then always read a result at most one interval old, and the first caller
after a TTL never pays a check's latency. The loops run on the app's event loop, started by
its first request (or ``Health.start()`` in the app's lifespan), one task per check.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from faultfinder.health._cache import CheckCache

JITTER = 0.1  # each wait is the interval ± 10%, so checks of many replicas do not align


class Refresher:
    """One loop per check: run it, wait the interval (± jitter), again."""

    def __init__(self, cache: CheckCache, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the refresh interval must be greater than zero")
        self.cache = cache
        self.interval = interval
        self._tasks: list[asyncio.Task[None]] = []

    def ensure_running(self) -> None:
        """Start the loops on the running event loop, unless they run there already."""
        loop = asyncio.get_running_loop()
        if self._tasks and all(task.get_loop() is loop and not task.done() for task in self._tasks):
            return
        self._tasks = [
            loop.create_task(self._loop(index), name=f"faultfinder-health refresh {check.name}")
            for index, check in enumerate(self.cache.checks)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task
        self._tasks = []

    async def _loop(self, index: int) -> None:
        # A random start spreads the checks over the interval instead of running all at once.
        await asyncio.sleep(random.uniform(0, self.interval * JITTER))
        while True:
            await asyncio.wait({self.cache.start(index)})  # run_check never raises
            await asyncio.sleep(self.interval * random.uniform(1 - JITTER, 1 + JITTER))
