"""The one exception tree of faultfinder; every user-facing error knows its exit status.

    FaultfinderError            exit 2 unless a subclass says otherwise
    ├── ConfigError             the stack file is wrong: carries file, line and key
    └── UsageError              the command line is wrong

Probe failures are never exceptions: probers turn them into fault codes (see ``faults``).
"""

from __future__ import annotations


class FaultfinderError(Exception):
    """Base of every error faultfinder reports to a user."""

    exit_code = 2


class ConfigError(FaultfinderError):
    """A stack file that cannot be used; the message names file:line:key."""

    def __init__(self, message: str, *, file: str, line: int | None = None, key: str = "") -> None:
        self.file = file
        self.line = line
        self.key = key
        message = " ".join(message.split())  # one line, whatever the parser said
        self.reason = message
        where = file if line is None else f"{file}:{line}"
        if key:
            where = f"{where}: {key}"
        super().__init__(f"{where}: {message}")


class UsageError(FaultfinderError):
    """The command line asks for something that cannot be done."""
