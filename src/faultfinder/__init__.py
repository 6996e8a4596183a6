"""faultfinder: which layer broke, in which component, and whose move is it."""

from __future__ import annotations

from faultfinder.config import Component, Stack, load_stack, parse_stack
from faultfinder.errors import ConfigError, FaultfinderError, UsageError
from faultfinder.faults import FAULTS, Fault
from faultfinder.model import (
    Certificate,
    CheckResult,
    ComponentReport,
    Diagnosis,
    Phase,
    RootCause,
    Status,
    Verdict,
)

__version__ = "0.1.0"

__all__ = [
    "FAULTS",
    "Certificate",
    "CheckResult",
    "Component",
    "ComponentReport",
    "ConfigError",
    "Diagnosis",
    "Fault",
    "FaultfinderError",
    "Phase",
    "RootCause",
    "Stack",
    "Status",
    "UsageError",
    "Verdict",
    "__version__",
    "diagnose",
    "load_stack",
    "parse_stack",
    "probe_component",
    "probe_stack",
    "run_diagnosis",
]

from faultfinder.diagnose import diagnose
from faultfinder.probe import probe_component, probe_stack
from faultfinder.runner import run_diagnosis
