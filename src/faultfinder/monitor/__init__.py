"""Live monitoring: ``watch``'s scheduler, flap control, history stores and alerts.

The API ``serve`` (and any other front end) builds on::

    store = await open_store(store_url(stack))     # or None: no history
    monitor = Monitor(stack, store, agent="eu-west")
    await monitor.start()                           # returns at once; probing runs in tasks
    ...                                             # read it through MonitorView
    await monitor.stop()                            # writes what is pending
    await store.close()

or ``await monitor.run()`` to start, wait until cancelled, and stop.

Names load on first use: every ``faultfinder`` call imports ``faultfinder.monitor.cli``, and
with it this package, to build its parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faultfinder.monitor.monitor import Monitor, default_agent
    from faultfinder.monitor.store import (
        Store,
        StoreError,
        default_store_url,
        open_store,
        store_url,
    )
    from faultfinder.monitor.view import MonitorView, Observation, StateChange

_HOMES = {
    "Monitor": "monitor",
    "default_agent": "monitor",
    "Store": "store",
    "StoreError": "store",
    "default_store_url": "store",
    "open_store": "store",
    "store_url": "store",
    "MonitorView": "view",
    "Observation": "view",
    "StateChange": "view",
}

__all__ = [
    "Monitor",
    "MonitorView",
    "Observation",
    "StateChange",
    "Store",
    "StoreError",
    "default_agent",
    "default_store_url",
    "open_store",
    "store_url",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
