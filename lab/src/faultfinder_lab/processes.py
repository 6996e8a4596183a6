"""The lab's long-running processes: started detached, known by pid and start time, stopped by id.

Services must outlive the ``faultfinder lab up`` that started them, so they are spawned in a
session of their own (``posix_spawn`` with ``setsid``; no ``Popen`` object is left behind to
complain). A process is identified by its pid *and* its start time, so a recycled pid is never
signalled by mistake.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessId:
    """A process as the lab started it: its pid and its start time in clock ticks."""

    pid: int
    started: int

    def to_json(self) -> list[int]:
        return [self.pid, self.started]

    @classmethod
    def from_json(cls, value: Sequence[int]) -> ProcessId:
        return cls(int(value[0]), int(value[1]))


def spawn(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> ProcessId:
    """Start ``argv`` detached, its output appended to ``log``; returns its id."""
    executable = shutil.which(argv[0]) or argv[0]
    log.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    pid = os.posix_spawn(
        executable,
        list(argv),
        {**os.environ, **(env or {})},
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), flags, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        # Python ignores SIGPIPE; a server must not inherit that.
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
    )
    return ProcessId(pid, _start_time(pid) or 0)


def alive(process: ProcessId) -> bool:
    """Whether the process the lab started is still running (not exited, not a zombie)."""
    _reap(process.pid)
    stat = _stat(process.pid)
    return stat is not None and stat[0] != "Z" and int(stat[19]) == process.started


def paused(process: ProcessId) -> bool:
    """Whether the process is stopped by a signal (SIGSTOP): alive, but answering nothing."""
    stat = _stat(process.pid)
    return alive(process) and stat is not None and stat[0] == "T"


def send(process: ProcessId, signum: int) -> None:
    """Signal the process, its group and every descendant, if it is still ours.

    Descendants matter: PostgreSQL's backends leave the postmaster's process group (each
    calls setsid), and stopping a server must stop the sessions it already has too.
    """
    if not alive(process):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
    for pid in descendants(process.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` in the process tree, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def stop(process: ProcessId, signum: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Ask the process to stop, then kill its group if it has not gone within ``timeout``."""
    if not alive(process):
        return
    send(process, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
    send(process, signum)
    if wait_gone(process, timeout):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    wait_gone(process, timeout)


def wait_gone(process: ProcessId, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _reap(pid: int) -> None:
    """Collect an exited child of this process, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, …, starttime at 19]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _start_time(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[19]) if stat else None
