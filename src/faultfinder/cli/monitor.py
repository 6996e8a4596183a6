"""``faultfinder watch`` and ``faultfinder history``: the monitor's front end.

``watch STACK`` probes each component on its own interval and shows a live dashboard (plain
lines when stdout is not a terminal), keeps history and sends alerts until stopped;
``history STACK`` reads that history back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import logging
import os
import signal
import sys

from rich.live import Live

from faultfinder import eventloop, terminal
from faultfinder.clock import parse_duration
from faultfinder.config import Stack, load_stack
from faultfinder.errors import StoreError, UsageError
from faultfinder.monitor.dashboard import build, change_lines
from faultfinder.monitor.history import history_document, render_text, window
from faultfinder.monitor.monitor import Monitor
from faultfinder.monitor.store import Store, open_store, store_url
from faultfinder.monitor.view import StateChange

REFRESH_SECONDS = 0.5  # the dashboard's redraw period


def run(args: argparse.Namespace) -> int:
    if args.command == "watch":
        return watch(args)
    return history(args)


def watch(args: argparse.Namespace) -> int:
    stack = load_stack(args.stack)
    duration = _duration(args.duration, "--for") if args.duration else None
    plain = args.plain or not sys.stdout.isatty()
    _log_warnings(stack)
    return eventloop.run(_watch(stack, args, duration, plain))


async def _watch(
    stack: Stack, args: argparse.Namespace, duration: float | None, plain: bool
) -> int:
    store = None if args.no_history else await open_store(store_url(stack, args.store))
    monitor = Monitor(stack, store, agent=args.agent, alerts=not args.no_alerts)
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, main.cancel)  # stop cleanly: flush the history
    try:
        if plain:
            _print_plain_header(stack, monitor, store)
            monitor.subscribe(lambda change: _print_change(change, stack))
            await monitor.run(duration)
        else:
            await _dashboard(stack, monitor, duration)
    except asyncio.CancelledError:
        pass  # SIGTERM: monitor.run has stopped and flushed on its way out
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        if store is not None:
            await store.close()
    return 0


def _print_plain_header(stack: Stack, monitor: Monitor, store: Store | None) -> None:
    where = store.url if store is not None else "none"
    count = len(stack.components)
    print(
        f"watching {count} component{'s' * (count != 1)} of {stack.name} as agent "
        f"{monitor.agent}; history: {stack.redactor(where)}",
        flush=True,
    )


def _print_change(change: StateChange, stack: Stack) -> None:
    for line in change_lines(change):
        print(stack.redactor(line), flush=True)


async def _dashboard(stack: Stack, monitor: Monitor, duration: float | None) -> None:
    console = terminal.console()
    watching = asyncio.create_task(monitor.run(duration))
    with Live(console=console, auto_refresh=False, screen=False) as live:
        try:
            while not watching.done():
                view = build(monitor, stack, agent=monitor.agent, height=console.size.height)
                live.update(view, refresh=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(watching), REFRESH_SECONDS)
        finally:
            if not watching.done():
                watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching


def history(args: argparse.Namespace) -> int:
    stack = load_stack(args.stack)
    since, until = window(args.since, args.until)
    url = store_url(stack, args.store)
    path = url.removeprefix("sqlite://")
    if url.startswith("sqlite://") and not os.path.exists(path):  # reading creates no file
        raise StoreError(f"no history at {path}: run `faultfinder watch {args.stack}` first")
    return eventloop.run(_history(stack, args, url, since, until))


async def _history(
    stack: Stack,
    args: argparse.Namespace,
    url: str,
    since: datetime.datetime,
    until: datetime.datetime,
) -> int:
    store = await open_store(url)
    try:
        document = await history_document(
            store, stack, since=since, until=until, agent=args.agent, logs=args.logs
        )
    finally:
        await store.close()
    if args.json:
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
        print(stack.redactor(text))
    else:
        print(render_text(document, stack.redactor), end="")
    return 0


def _duration(value: str, option: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


def _log_warnings(stack: Stack) -> None:
    """The monitor's warnings (a store or alert channel failing) as one line on stderr."""

    class Scrubbed(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return stack.redactor(f"faultfinder: warning: {super().format(record)}")

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Scrubbed("%(message)s"))
    logger = logging.getLogger("faultfinder.monitor")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
