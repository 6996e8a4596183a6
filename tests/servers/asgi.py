"""Serve an ASGI app built inside a test with a real uvicorn, in a thread, on a free port.

``asgi_server.start(app)`` returns once the port accepts connections; every server is stopped
when the test ends. The app runs on uvicorn's own event loop, so a test can watch it from its
own loop (or from the CLI) exactly as an outside client would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from tests.servers import free_port, wait_for_port

__all__ = ["asgi_server"]


@dataclass
class ServedApp:
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class AsgiFactory:
    served: list[ServedApp] = field(default_factory=list)

    def start(self, app: Any) -> ServedApp:
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        served = ServedApp(port, server, thread)
        self.served.append(served)
        wait_for_port(port)
        return served

    def stop_all(self) -> None:
        for served in self.served:
            served.stop()
        self.served.clear()


@pytest.fixture
def asgi_server() -> Iterator[AsgiFactory]:
    """Start apps with ``asgi_server.start(app)``; all are stopped when the test ends."""
    factory = AsgiFactory()
    try:
        yield factory
    finally:
        factory.stop_all()
