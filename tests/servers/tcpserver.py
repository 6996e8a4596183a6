"""Two tiny real TCP servers on loopback: one that resets every connection, one that never speaks.

``reset_server`` accepts and closes at once with ``SO_LINGER`` 0, so the kernel sends RST instead
of FIN: what a crashing or firewalled-at-the-host service looks like to a client mid set-up.
``silent_server`` accepts and holds the connection without reading or writing a byte: a wedged
service whose kernel still completes the handshake.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from tests.servers.listener import LoopbackServer, serve

__all__ = ["reset_server", "silent_server"]


class TcpServer(LoopbackServer):
    """A listener on 127.0.0.1 served by a thread; ``held`` are the connections it keeps."""


def _reset(server: TcpServer, connection: socket.socket) -> None:
    # Linger on, zero seconds: close() discards the socket and answers with RST.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _hold(server: TcpServer, connection: socket.socket) -> None:
    server.held.append(connection)


@pytest.fixture(scope="session")
def reset_server() -> Iterator[TcpServer]:
    """A port that accepts every connection and resets it at once."""
    with serve(TcpServer, _reset, "reset-server") as server:
        yield server


@pytest.fixture(scope="session")
def silent_server() -> Iterator[TcpServer]:
    """A port that accepts every connection and then never sends or reads anything."""
    with serve(TcpServer, _hold, "silent-server") as server:
        yield server
