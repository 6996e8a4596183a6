"""``serve --workers N``: N processes accept ``/probe`` on one listening socket; the process
that started them supervises them, replaces the dead, and stops them all.

One Python event loop uses one core, so one process cannot keep up with blackbox_exporter on
a machine of several. Each worker listens on a socket of its own bound to the same address
with SO_REUSEPORT (the supervisor's socket, bound the same way but never listening, holds the
port), and the kernel spreads the connections evenly over them. Everything that must
be said once (the monitor, its history and alerts, the counters of ``/metrics``,
``/api/status``) stays in the supervisor, the owner: a worker answers ``/probe`` and
``/-/healthy`` itself and forwards every other path to the owner over a Unix socket
(``forward``). Workers count ``/probe`` in shared memory (``shared``), which the owner sums.

Workers are started with multiprocessing's ``spawn``: a fresh interpreter, never a fork of a
process whose threads (name lookups, the history store) might hold a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from faultfinder import eventloop
from faultfinder.serve.app import create_app
from faultfinder.serve.modules import Module, Modules
from faultfinder.serve.shared import SharedProbeCounts

logger = logging.getLogger("faultfinder.serve")

STOP_GRACE = 0.8  # seconds a worker has to finish after SIGTERM, before SIGKILL
WORKER_GRACE = 1  # uvicorn's own limit in a worker, whole seconds: STOP_GRACE's SIGKILL is first
RESTART_PAUSE = 1.0  # before replacing a worker that died within RESTART_PAUSE of its start


def context() -> Any:
    return multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs; pickled into the spawned process (the socket is passed as a
    descriptor, the counts as shared memory)."""

    family: int
    address: tuple[Any, ...]  # the supervisor's bound address (its port, when it asked for 0)
    owner: str  # the owner's Unix socket
    modules: dict[str, Module]
    max_probes: int
    counts: SharedProbeCounts
    slot: int


def run_worker(spec: WorkerSpec) -> None:
    """A worker process's whole life: serve until SIGTERM (or the supervisor is gone)."""
    # Ctrl-C reaches the whole process group; the supervisor stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # uvicorn raises the signal it stopped for again once stopped: a no-op, for a quiet exit 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    app = create_app(
        modules=Modules(spec.modules),
        max_probes=spec.max_probes,
        requests=spec.counts.writer(spec.slot),
        owner=spec.owner,
    )
    eventloop.run(_serve(app, listen(spec.family, spec.address)))


def listen(family: int, address: tuple[Any, ...]) -> socket.socket:
    """This worker's own listening socket on the shared address."""
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    listener.listen(1024)
    return listener


def server_config(app: Any, grace: int) -> uvicorn.Config:
    """uvicorn as serve runs it, in the owner and in every worker: quiet, no WebSocket."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=grace,
    )


async def _serve(app: Any, listener: socket.socket) -> None:
    server = uvicorn.Server(server_config(app, WORKER_GRACE))
    # A supervisor killed with SIGKILL cannot stop its workers: its sentinel (a pipe whose
    # other end it holds) turns readable when it is gone, and the worker stops.
    supervisor = multiprocessing.parent_process()
    if supervisor is not None:
        asyncio.get_running_loop().add_reader(
            supervisor.sentinel, setattr, server, "should_exit", True
        )
    await server.serve(sockets=[listener])


class Workers:
    """The worker processes: started, replaced when one dies (and logged), stopped together.

    Also a collector: how many run, and how many were replaced."""

    def __init__(
        self,
        count: int,
        listener: socket.socket,
        owner: str,
        modules: dict[str, Module],
        max_probes: int,
        counts: SharedProbeCounts,
    ) -> None:
        self.count = count
        self.listener = listener
        self.owner = owner
        self.modules = modules
        self.max_probes = max_probes
        self.counts = counts
        self.processes: dict[int, BaseProcess] = {}
        self.started_at: dict[int, float] = {}
        self.replaced = 0
        self.stopping = False

    def start(self) -> None:
        for slot in range(self.count):
            self._start(slot)

    def _start(self, slot: int) -> None:
        if self.stopping:
            return
        address = self.listener.getsockname()
        spec = WorkerSpec(
            self.listener.family,
            address,
            self.owner,
            self.modules,
            self.max_probes,
            self.counts,
            slot,
        )
        process = context().Process(
            target=run_worker, args=(spec,), name=f"faultfinder-serve-worker-{slot}", daemon=True
        )
        process.start()
        self.processes[slot] = process
        self.started_at[slot] = time.monotonic()
        asyncio.get_running_loop().add_reader(process.sentinel, self._ended, slot, process)

    def _ended(self, slot: int, process: BaseProcess) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(process.sentinel)
        process.join(1.0)  # the sentinel closes a moment before the exit status is there
        if self.stopping:
            return
        logger.error(
            "faultfinder serve: worker %d (pid %s) died (%s); starting another",
            slot,
            process.pid,
            _how(process.exitcode),
        )
        self.replaced += 1
        quickly = time.monotonic() - self.started_at[slot] < RESTART_PAUSE
        # a worker that dies at once would die again at once: not in a tight loop
        loop.call_later(RESTART_PAUSE if quickly else 0, self._start, slot)

    def signal_all(self) -> None:
        """SIGTERM to every worker (safe in a signal handler: no lock, no allocation of note)."""
        self.stopping = True
        for process in list(self.processes.values()):
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                    os.kill(process.pid, signal.SIGTERM)

    def kill_remaining(self) -> None:
        """SIGKILL for a worker still running (its grace is over)."""
        for process in self.processes.values():
            if process.exitcode is None and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop every worker: SIGTERM, then SIGKILL for any still running after ``grace``."""
        self.signal_all()
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
        self.kill_remaining()
        for process in self.processes.values():
            process.join()
        loop = _running_loop()
        for process in self.processes.values():
            if loop is not None:
                with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                    loop.remove_reader(process.sentinel)

    def alive(self) -> int:
        return sum(process.is_alive() for process in self.processes.values())

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "faultfinder_serve_workers",
            "Worker processes answering /probe now (serve --workers)",
            value=float(self.alive()),
        )
        yield CounterMetricFamily(
            "faultfinder_serve_worker_restarts",
            "Worker processes that died and were replaced since serve started",
            value=float(self.replaced),
        )


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
