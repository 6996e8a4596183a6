"""One event loop for every command: uvloop where it is installed, asyncio's own otherwise.

``watch`` of 2,000 targets every 10 s spends most of its CPU in the event loop and its
transports (connect, write, read, close, timers); uvloop's are in C, which took about a sixth
off its CPU (benchmarks/README.md, "watch"). The whole suite passes on both loops. Set
``FAULTFINDER_LOOP=asyncio`` to rule the loop out when something looks odd.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for asyncio's default."""
    if os.environ.get("FAULTFINDER_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # a platform without it (uvloop is not built for Windows)
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
