"""Hostile servers on loopback: each reads what the client sends first, then answers as a
test says (a line with no end, an error claiming megabytes, a flood of messages)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

from tests.servers.listener import LoopbackServer, serve

__all__ = ["Answer", "hostile"]

Answer = Callable[[socket.socket], None]


@contextlib.contextmanager
def hostile(answer: Answer, *, read_first: bool = True) -> Iterator[LoopbackServer]:
    """A loopback server that reads what the client sends first (unless ``read_first`` is
    False: the answer reads it), then ``answer``s."""

    def handle(server: LoopbackServer, connection: socket.socket) -> None:
        def talk() -> None:
            with connection, contextlib.suppress(OSError):
                connection.settimeout(5)
                if read_first:
                    connection.recv(65536)
                answer(connection)

        threading.Thread(target=talk, daemon=True).start()

    with serve(LoopbackServer, handle, "hostile-server") as server:
        yield server
