"""The stack file: its shape (``spec``), how it is read (``load``) and what it resolves to
(``stack``). Every error is a ``ConfigError`` naming file:line:key.

This package imports pydantic and PyYAML; the health library reaches it only when an app
builds a URL check, so an app that does not pays nothing for it.
"""

from __future__ import annotations

from faultfinder.config.load import component_from_url, load_stack, parse_stack
from faultfinder.config.spec import (
    AlertSpec,
    ComponentSpec,
    Criteria,
    Defaults,
    Duration,
    Expect,
    FlowSpec,
    HistorySpec,
    LogsSpec,
    StackSpec,
    StepSpec,
    TlsCriteria,
    TlsOptions,
    ValidationSpec,
)
from faultfinder.config.stack import Component, Stack

__all__ = [
    "AlertSpec",
    "Component",
    "ComponentSpec",
    "Criteria",
    "Defaults",
    "Duration",
    "Expect",
    "FlowSpec",
    "HistorySpec",
    "LogsSpec",
    "Stack",
    "StackSpec",
    "StepSpec",
    "TlsCriteria",
    "TlsOptions",
    "ValidationSpec",
    "component_from_url",
    "load_stack",
    "parse_stack",
]
