"""Live monitoring: ``watch``'s scheduler, flap control, history stores and alerts.

The API ``serve`` (and any other front end) builds on::

    store = await open_store(store_url(stack))     # or None: no history
    monitor = Monitor(stack, store, agent="eu-west")
    await monitor.start()                           # returns at once; probing runs in tasks
    ...                                             # read it through MonitorView
    await monitor.stop()                            # writes what is pending
    await store.close()

or ``await monitor.run()`` to start, wait until cancelled, and stop.
"""

from __future__ import annotations

from faultfinder.errors import StoreError
from faultfinder.monitor.monitor import Monitor, default_agent
from faultfinder.monitor.store import Store, default_store_url, open_store, store_url
from faultfinder.monitor.view import MonitorView, Reading, StateChange

__all__ = [
    "Monitor",
    "MonitorView",
    "Reading",
    "StateChange",
    "Store",
    "StoreError",
    "default_agent",
    "default_store_url",
    "open_store",
    "store_url",
]
