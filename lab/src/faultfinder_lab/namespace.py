"""The lab's network namespace: create, run in, look inside, delete.

Commands run inside with ``ip netns exec``. Quick checks (is a port open, does a resolver
answer, what does a URL return) run in a short-lived thread that has joined the namespace
with ``setns``: sockets belong to the namespace of the thread that creates them, so the rest
of this process stays where it is.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from faultfinder_lab.topology import NETNS_ETC

T = TypeVar("T")

NETNS_RUN = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)


def exists(name: str) -> bool:
    return (NETNS_RUN / name).exists()


def create(name: str, resolv: str) -> None:
    """Add the namespace with ``lo`` up and faultfinder's resolv.conf for ``ip netns exec``."""
    if not exists(name):
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True)
    etc = NETNS_ETC / name
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text(resolv)
    run(name, ["ip", "link", "set", "lo", "up"])


def delete(name: str) -> None:
    if exists(name):
        subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


def prefix(name: str) -> list[str]:
    return ["ip", "netns", "exec", name]


def run(name: str, argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command inside the namespace and wait for it."""
    return subprocess.run(
        [*prefix(name), *argv], check=check, capture_output=True, text=True, timeout=60
    )


def pids(name: str) -> list[int]:
    """Every process whose network namespace is this one."""
    found = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    return [int(word) for word in found.stdout.split() if word.isdigit()]


def inside(name: str, function: Callable[[], T]) -> T:
    """Call ``function`` in a thread that has joined the namespace; return or raise its result."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            descriptor = os.open(NETNS_RUN / name, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _LIBC.setns(descriptor, CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns into {name}: {os.strerror(error)}")
            finally:
                os.close(descriptor)
            outcome["value"] = function()
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name=f"lab-{name}", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP at host:port (call it ``inside`` the namespace)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def resolver_answers(server: str, name: str) -> bool:
    """Whether the DNS server at ``server`` answers an A query for ``name`` with an address."""
    query_id = 0x4C42
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    query = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + b"\0\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.3)
        try:
            udp.sendto(query, (server, 53))
            reply = udp.recv(512)
        except OSError:
            return False
    if len(reply) < 12:
        return False
    answer_id, flags, _, answers = struct.unpack(">HHHH", reply[:8])
    return bool(answer_id == query_id and flags & 0x000F == 0 and answers > 0)


def http_status(host: str, port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of ``GET path`` over plain HTTP; None when nothing answers in time."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def http_json(host: str, port: int, path: str, timeout: float = 2.0) -> Any:
    """The JSON body of ``GET path`` over plain HTTP (any status); None when there is none."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()
