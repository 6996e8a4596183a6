"""``faultfinder serve [STACK]``: read the stack, open its history, run its monitor in the
background of the app (``faultfinder.serve``), serve the app on uvicorn — in this process, or
(``--workers N``, N > 1) with N worker processes answering ``/probe`` on the port while this
process, the owner, runs the monitor and answers the rest through them (``serve.workers``).

Errors a user can fix (the stack file, the modules file, ``--listen``, the history store) are
raised before the server answers, as ``FaultfinderError``s the CLI prints in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.registry import CollectorRegistry
from starlette.applications import Starlette

from faultfinder import eventloop
from faultfinder.clock import parse_duration
from faultfinder.config import Stack, load_stack
from faultfinder.errors import UsageError
from faultfinder.monitor import Monitor, open_store, store_url
from faultfinder.serve.app import create_app
from faultfinder.serve.modules import Modules, load_modules
from faultfinder.serve.shared import SharedProbeCounts
from faultfinder.serve.workers import STOP_GRACE, Workers, context, server_config

MAX_WORKERS = 256


def run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    try:
        refresh = parse_duration(args.refresh)
    except ValueError as error:
        raise UsageError(f"--refresh: {error}") from None
    if not 1 <= args.max_probes <= 100_000:
        raise UsageError("--max-probes: between 1 and 100000")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"--workers: between 1 and {MAX_WORKERS}")
    modules = Modules(load_modules(args.modules)) if args.modules else Modules()
    stack = load_stack(args.stack) if args.stack else None
    listener = bind(host, port, workers=workers)
    return eventloop.run(_serve(args, stack, modules, refresh, listener, workers))


async def _serve(
    args: argparse.Namespace,
    stack: Stack | None,
    modules: Modules,
    refresh: float,
    listener: socket.socket,
    workers: int,
) -> int:
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)  # the agent's own CPU and memory, as exporters do
    PlatformCollector(registry=registry)
    options: dict[str, Any] = {
        "registry": registry,
        "modules": modules,
        "max_probes": args.max_probes,
    }
    pool = None
    if workers > 1:
        # a row per worker, and one for the owner's own /probe (reached only on its socket)
        counts = SharedProbeCounts(list(modules.modules), workers + 1, context())
        owner = Path(tempfile.mkdtemp(prefix="faultfinder-serve-")) / "owner.sock"
        # --max-probes is the whole server's: each worker gets its share
        share = math.ceil(args.max_probes / workers)
        pool = Workers(workers, listener, str(owner), modules.modules, share, counts)
        registry.register(pool)
        options["requests"] = counts.writer(workers)
    if stack is None:
        return await _run(create_app(**options), listener, pool)

    store = None if args.no_history else await open_store(store_url(stack, args.store))
    try:
        monitor = Monitor(stack, store, agent=args.agent, alerts=not args.no_alerts)
        app = create_app(
            monitor=monitor,
            stack_name=stack.name,
            redactor=stack.redactor,
            background=monitor.run,  # started and stopped (history flushed) by the lifespan
            refresh_seconds=refresh,
            agent=args.agent,  # only a name given on purpose labels the series
            **options,
        )
        return await _run(app, listener, pool)
    finally:
        if store is not None:
            await store.close()


class _Server(uvicorn.Server):
    """uvicorn's server, which also tells the workers to stop the moment a signal comes (the
    owner's own shutdown, writing the history, may take longer than a worker may)."""

    def __init__(self, config: uvicorn.Config, pool: Workers | None) -> None:
        super().__init__(config)
        self.pool = pool

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.pool is not None:
            self.pool.signal_all()
            loop = asyncio.get_running_loop()
            loop.call_soon_threadsafe(loop.call_later, STOP_GRACE, self.pool.kill_remaining)
        super().handle_exit(sig, frame)


async def _run(app: Starlette, listener: socket.socket, pool: Workers | None) -> int:
    server = _Server(server_config(app, 2), pool)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"faultfinder serve: http://{shown}:{port}/", file=sys.stderr, flush=True)
    # uvicorn catches SIGTERM, shuts down gracefully (the monitor flushes its history), then
    # raises the signal again for the previous handler: a no-op here, so the store is closed
    # and the exit status is 0 rather than death by SIGTERM.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        if pool is None:
            await server.serve(sockets=[listener])
        else:
            await _serve_with_workers(server, pool)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if pool is not None:
            pool.stop()
            shutil.rmtree(Path(pool.owner).parent, ignore_errors=True)
    return 0 if server.started else 1


async def _serve_with_workers(server: _Server, pool: Workers) -> None:
    """The owner answers on its Unix socket; the workers start at once (what they forward
    waits in the socket's backlog until the owner has started)."""
    owner = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    owner.bind(pool.owner)  # in a directory of our own, mode 0700
    owner.listen(1024)
    pool.start()
    await server.serve(sockets=[owner])


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``:PORT`` (all addresses)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen: {text!r} is not HOST:PORT")
    return host, int(port)


def bind(host: str, port: int, *, workers: int = 1) -> socket.socket:
    """The listening socket, bound before uvicorn starts so a taken port is a one-line error.

    With workers, it only holds the port: each worker listens on a socket of its own bound
    with SO_REUSEPORT, so the kernel spreads the connections evenly over them (on one shared
    socket, the worker that wakes first takes a burst of connections, and keep-alive holds
    them there: a third to two thirds of the load on one worker was seen)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits out the client's delayed ACK (40 ms a request).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if workers > 1:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    if workers == 1:
        listener.listen(1024)
    return listener
