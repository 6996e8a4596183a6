"""``faultfinder serve [STACK]``: read the stack, open its history, run its monitor in the
background of the app (``faultfinder.serve``), serve the app on uvicorn.

Errors a user can fix (the stack file, the modules file, ``--listen``, the history store) are
raised before the server answers, as ``FaultfinderError``s the CLI prints in one line.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys

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


def run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    try:
        refresh = parse_duration(args.refresh)
    except ValueError as error:
        raise UsageError(f"--refresh: {error}") from None
    if not 1 <= args.max_probes <= 100_000:
        raise UsageError("--max-probes: between 1 and 100000")
    modules = Modules(load_modules(args.modules)) if args.modules else Modules()
    stack = load_stack(args.stack) if args.stack else None
    listener = bind(host, port)
    return eventloop.run(_serve(args, stack, modules, refresh, listener))


async def _serve(
    args: argparse.Namespace,
    stack: Stack | None,
    modules: Modules,
    refresh: float,
    listener: socket.socket,
) -> int:
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)  # the agent's own CPU and memory, as exporters do
    PlatformCollector(registry=registry)
    if stack is None:
        app = create_app(registry=registry, modules=modules, max_probes=args.max_probes)
        return await _run(app, listener)

    store = None if args.no_history else await open_store(store_url(stack, args.store))
    try:
        monitor = Monitor(stack, store, agent=args.agent, alerts=not args.no_alerts)
        app = create_app(
            monitor=monitor,
            stack_name=stack.name,
            redactor=stack.redactor,
            registry=registry,
            modules=modules,
            background=monitor.run,  # started and stopped (history flushed) by the lifespan
            refresh_seconds=refresh,
            max_probes=args.max_probes,
            agent=args.agent,  # only a name given on purpose labels the series
        )
        return await _run(app, listener)
    finally:
        if store is not None:
            await store.close()


async def _run(app: Starlette, listener: socket.socket) -> int:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"faultfinder serve: http://{shown}:{port}/", file=sys.stderr, flush=True)
    # uvicorn catches SIGTERM, shuts down gracefully (the monitor flushes its history), then
    # raises the signal again for the previous handler: a no-op here, so the store is closed
    # and the exit status is 0 rather than death by SIGTERM.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        await server.serve(sockets=[listener])
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``:PORT`` (all addresses)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen: {text!r} is not HOST:PORT")
    return host, int(port)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts so a taken port is a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits out the client's delayed ACK (40 ms a request).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    listener.listen(1024)
    return listener
