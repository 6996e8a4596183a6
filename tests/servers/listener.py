"""A plain TCP listener on 127.0.0.1 served by a thread: the base of the tiny hand-made servers.

``serve(make, handle, name)`` accepts connections until teardown and hands each to ``handle``,
which owns it: it closes it, or keeps it in ``server.held`` (closed at teardown).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar


@dataclass
class LoopbackServer:
    """A listener on 127.0.0.1; ``accepted`` counts the connections it took."""

    port: int
    accepted: int = 0
    held: list[socket.socket] = field(default_factory=list)


Server = TypeVar("Server", bound=LoopbackServer)


@contextlib.contextmanager
def serve(
    make: Callable[[int], Server], handle: Callable[[Server, socket.socket], None], name: str
) -> Iterator[Server]:
    """``make(port)`` the server, then serve it from a daemon thread until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = make(listener.getsockname()[1])

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was shut down at teardown
                return
            server.accepted += 1
            handle(server, connection)

    thread = threading.Thread(target=accept, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        for connection in server.held:
            connection.close()
