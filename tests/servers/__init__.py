"""Factories that start real servers for tests: free ports on loopback, stopped at teardown.

Shared pieces live here; each server has its own module (``postgres``, ``redis``, ``nginx``,
``haproxy``, ``dnsmasq``, ``tls``, ``netns``, ``app``) exposing pytest fixtures, registered in
``tests/conftest.py``. Wait on conditions (a port accepting), never on sleeps.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or condition}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    wait_until(lambda: port_open(port, host), timeout, f"{host}:{port} to accept connections")


def require_binary(name: str) -> str:
    """The path of a server binary; a missing one fails loudly (CI installs them all)."""
    path = shutil.which(name) or next(
        (
            str(p)
            for p in (Path("/usr/sbin") / name, Path("/usr/lib/postgresql/15/bin") / name)
            if p.exists()
        ),
        None,
    )
    if path is None:
        raise RuntimeError(f"{name} is not installed: run `make setup` (see README)")
    return path


class Process:
    """A server process started by a fixture; ``stop`` is idempotent and kills the group."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        user: str | None = None,
    ) -> None:
        self.argv = list(argv)
        if user and os.geteuid() == 0:
            # setpriv execs in place (runuser would stay as a parent that stops with its child)
            self.argv = [
                "setpriv",
                f"--reuid={user}",
                f"--regid={user}",
                "--init-groups",
                "--",
                *self.argv,
            ]
        self.log = log
        self._log_file = log.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def pause(self) -> None:
        """SIGSTOP the whole group: the kernel still accepts TCP, nothing answers."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.resume()
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()
