"""Two tiny real TCP servers on loopback: one that resets every connection, one that never speaks.

``reset_server`` accepts and closes at once with ``SO_LINGER`` 0, so the kernel sends RST instead
of FIN: what a crashing or firewalled-at-the-host service looks like to a client mid set-up.
``silent_server`` accepts and holds the connection without reading or writing a byte: a wedged
service whose kernel still completes the handshake.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

__all__ = ["reset_server", "silent_server"]


@dataclass
class TcpServer:
    """A listener on 127.0.0.1 served by a thread; ``accepted`` counts connections it took."""

    port: int
    accepted: int = 0
    held: list[socket.socket] = field(default_factory=list)


def _serve(handle: Callable[[TcpServer, socket.socket], None], name: str) -> Iterator[TcpServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = TcpServer(listener.getsockname()[1])

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was shut down at teardown
                return
            server.accepted += 1
            handle(server, connection)

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        for connection in server.held:
            connection.close()


def _reset(server: TcpServer, connection: socket.socket) -> None:
    # Linger on, zero seconds: close() discards the socket and answers with RST.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _hold(server: TcpServer, connection: socket.socket) -> None:
    server.held.append(connection)


@pytest.fixture(scope="session")
def reset_server() -> Iterator[TcpServer]:
    """A port that accepts every connection and resets it at once."""
    yield from _serve(_reset, "reset-server")


@pytest.fixture(scope="session")
def silent_server() -> Iterator[TcpServer]:
    """A port that accepts every connection and then never sends or reads anything."""
    yield from _serve(_hold, "silent-server")
