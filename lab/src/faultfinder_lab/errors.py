"""The lab's errors: each knows its exit status, and its message is one line for the CLI."""

from __future__ import annotations

from faultfinder.errors import FaultfinderError


class LabError(FaultfinderError):
    """The lab could not do what was asked (a service did not start, no lab is up)."""

    exit_code = 1


class LabUnavailable(FaultfinderError):
    """This machine cannot run the lab: not root, not Linux, or namespaces are not allowed."""

    exit_code = 2
