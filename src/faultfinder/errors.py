"""Every exception faultfinder raises, in one tree; each user-facing error knows its exit status.

    FaultfinderError            a user-facing error: the CLI prints one line, exits 2
    ├── ConfigError             the stack file is wrong: carries file, line and key
    ├── UsageError              the command line asks for something that cannot be done
    ├── StoreError              the history store cannot be opened, migrated or read
    └── AlertError              an alert channel could not deliver (logged, never fatal)

    ProbeFault                  a rung failed, with its fault code: raised inside a prober,
                                turned into a result by probe_component, never escapes it
    NoResponse                  an HTTP or WebSocket peer closed before it answered (inside
                                a prober, classified there as http.no_response)

A probe's failure is never a ``FaultfinderError``: probers turn it into a fault code
(``faultfinder.faults``). The fault lab's own errors (``faultfinder_lab.errors``) derive from
``FaultfinderError`` too, so the CLI treats them alike.
"""

from __future__ import annotations

from typing import Protocol


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
