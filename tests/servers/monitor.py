"""Servers for the monitor's tests: a target that stops and starts on the same port, and a
receiver that records the alerts posted to it.

``switchable_server()`` starts a small HTTP server (200 "ok" to every GET) on a free port;
``stop()`` closes its listener (connections are refused) and ``start()`` listens again on the
same port. ``webhook_receiver`` is a real HTTP server that keeps every POSTed JSON body by
path; ``fail_with`` makes it answer an error status instead.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.servers import free_port, wait_for_port

__all__ = ["switchable_server", "webhook_receiver"]


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Ok(_Quiet):
    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Reusable(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


@dataclass
class SwitchableServer:
    """An HTTP server the test can stop (refused) and start again on the same port."""

    port: int
    _server: _Reusable | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Reusable(("127.0.0.1", self.port), _Ok)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"switchable-{self.port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = self._thread = None


@pytest.fixture
def switchable_server() -> Iterator[Callable[[], SwitchableServer]]:
    """``switchable_server()`` starts one; every one is stopped at teardown."""
    started: list[SwitchableServer] = []

    def start() -> SwitchableServer:
        server = SwitchableServer(free_port())
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@dataclass
class WebhookReceiver:
    """Every JSON body POSTed to it, by path, in arrival order."""

    port: int
    received: dict[str, list[Any]] = field(default_factory=dict)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_with(self, status: int) -> None:
        self.status = status

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return list(self.received.get(path, []))

    async def wait_for(
        self, path: str, predicate: Callable[[list[Any]], bool], seconds: float = 10.0
    ) -> list[Any]:
        """Until the bodies posted to ``path`` satisfy ``predicate`` (the event loop runs on)."""
        await until(lambda: predicate(self.bodies(path)), seconds, f"alerts on {path}")
        return self.bodies(path)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())

    class Handler(_Quiet):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            with receiver.lock:
                receiver.received.setdefault(self.path, []).append(body)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = _Reusable(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="webhook-receiver",
        daemon=True,
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def until(condition: Callable[[], bool], seconds: float = 10.0, what: str = "") -> None:
    """In an async test: poll ``condition`` until it holds, letting the event loop run."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds}s waiting for {what or condition}")
        await asyncio.sleep(0.01)
