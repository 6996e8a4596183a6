"""faultfinder: which layer broke, in which component, and whose move is it.

The public API, for scripts and other programs::

    stack = faultfinder.load_stack("stack.yaml")
    diagnosis = asyncio.run(faultfinder.run_diagnosis(stack))

Names load on first use (PEP 562): ``import faultfinder.health`` inside an app costs only what
the health library needs, not the stack file's loader, the probers or the renderers.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from faultfinder.config import Component, Stack, load_stack, parse_stack
    from faultfinder.diagnosis import diagnose, run_diagnosis
    from faultfinder.errors import ConfigError, FaultfinderError, UsageError
    from faultfinder.faults import FAULTS, Fault, Owner
    from faultfinder.model import (
        Certificate,
        CheckResult,
        ComponentReport,
        Diagnosis,
        Grade,
        Phase,
        RootCause,
        Status,
        Verdict,
    )
    from faultfinder.probe import probe_component, probe_stack
    from faultfinder.schemes import SCHEMES, Scheme

__version__ = "0.1.0"

# Each public name → the module it lives in.
_HOMES = {
    "Component": "config",
    "Stack": "config",
    "load_stack": "config",
    "parse_stack": "config",
    "diagnose": "diagnosis",
    "run_diagnosis": "diagnosis",
    "ConfigError": "errors",
    "FaultfinderError": "errors",
    "UsageError": "errors",
    "FAULTS": "faults",
    "Fault": "faults",
    "Owner": "faults",
    "Certificate": "model",
    "CheckResult": "model",
    "ComponentReport": "model",
    "Diagnosis": "model",
    "Grade": "model",
    "Phase": "model",
    "RootCause": "model",
    "Status": "model",
    "Verdict": "model",
    "probe_component": "probe",
    "probe_stack": "probe",
    "SCHEMES": "schemes",
    "Scheme": "schemes",
}

__all__ = [
    "FAULTS",
    "SCHEMES",
    "Certificate",
    "CheckResult",
    "Component",
    "ComponentReport",
    "ConfigError",
    "Diagnosis",
    "Fault",
    "FaultfinderError",
    "Grade",
    "Owner",
    "Phase",
    "RootCause",
    "Scheme",
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


def __getattr__(name: str) -> typing.Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return __all__
