"""Every exception faultfinder raises, in one tree; each user-facing error knows its exit status.

    FaultfinderError            a user-facing error: the CLI prints one line, exits 2
    ├── ConfigError             the stack file is wrong: carries file, line and key
    ├── UsageError              the command line asks for something that cannot be done
    ├── StoreError              the history store cannot be opened, migrated or read
    ├── AlertError              an alert channel could not deliver (logged, never fatal)
    └── QueryError              Prometheus could not be queried (diagnose --prometheus)

    ProbeFault                  a rung failed, with its fault code: raised inside a prober,
                                turned into a result by probe_component, never escapes it
    NoResponse                  an HTTP or WebSocket peer closed before it answered (inside
                                a prober, classified there as http.no_response)

A probe's failure is never a ``FaultfinderError``: probers turn it into a fault code
(``faultfinder.faults``). The fault lab's own errors (``faultfinder_lab.errors``) derive from
``FaultfinderError`` too, so the CLI treats them alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

# C0, DEL and C1: a line break forges a line, an escape sequence drives the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class FaultfinderError(Exception):
    """Base of every error faultfinder reports to a user."""

    exit_code = 2


class ConfigError(FaultfinderError):
    """A stack file that cannot be used; the message names file:line:key."""

    def __init__(self, message: str, *, file: str, line: int | None = None, key: str = "") -> None:
        # One line, whatever the parser said or the file holds: a key with a line break in it
        # could otherwise write a line of output of its own ("FAKE: all healthy").
        self.file = printable(file)
        self.line = line
        self.key = printable(key)
        message = printable(" ".join(message.split()))
        self.reason = message
        where = self.file if line is None else f"{self.file}:{line}"
        if self.key:
            where = f"{where}: {self.key}"
        super().__init__(f"{where}: {message}")

    def masked(self, redact: Callable[[str], str]) -> ConfigError:
        """The same error with ``redact`` applied to what it quotes from the file."""
        key = redact(self.key)
        return ConfigError(redact(self.reason), file=self.file, line=self.line, key=key)


def printable(text: str) -> str:
    """Control characters written as escapes (``\\n``, ``\\x1b``), so the text stays on one
    line and drives no terminal: what a file or a server says, before anyone reads it."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda match: repr(match.group(0))[1:-1], text)


class UsageError(FaultfinderError):
    """The command line asks for something that cannot be done."""


class StoreError(FaultfinderError):
    """The history store cannot be opened, migrated or read."""


class AlertError(FaultfinderError):
    """A channel could not deliver an alert."""


class _Found(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def evidence(self) -> str: ...


class ProbeFault(Exception):
    """Raised inside a prober when a rung fails; never escapes ``probe_component``."""

    def __init__(self, code: str, detail: str, evidence: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.evidence = evidence or detail

    @classmethod
    def of(cls, finding: _Found) -> ProbeFault:
        """The fault a classifier's finding names (``faultfinder.classify.Finding``)."""
        return cls(finding.code, finding.detail, finding.evidence)


class NoResponse(Exception):
    """The server closed the connection before its response was complete."""


class QueryError(FaultfinderError):
    """A metrics backend (Prometheus, Thanos, Mimir) could not be queried or answered nonsense:
    unreachable, an HTTP error, a body that is not its JSON, an answer too large."""
