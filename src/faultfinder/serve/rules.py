"""A stack's Prometheus alerting and recording rules, over what ``serve --agent`` exports.

Pure: a ``Stack`` in, the rule file's document out (``cli/rules.py`` writes it as YAML). Every
alert carries ``owner`` (infrastructure, application, configuration …) and ``code``, taken
from the agents' own series, so Alertmanager routes the infrastructure team's pages and the
application team's apart (docs/serve.md, "Alerting rules").
"""

from __future__ import annotations

import json
import re
from typing import Any

from faultfinder.config import Stack
from faultfinder.faults import fault

# The labels that tell one agent's series from another's (agent only with --agent).
SERIES = "job, instance, agent, component"
EXPIRING = "tls.expiring_soon"
AGENT = "{{ or $labels.agent $labels.instance }}"  # the vantage point, without --agent too


def rules_document(stack: Stack, *, down_for: str, changed_within: str) -> dict[str, Any]:
    """``groups:`` as Prometheus reads a rule file; ``down_for`` and ``changed_within`` are
    Prometheus durations (``5m``)."""
    names = sorted(stack.components)
    selector = f"component=~{_string('|'.join(re.escape(name) for name in names))}"
    alerts: list[dict[str, Any]] = []
    for name in names:
        component = stack.components[name]
        labels = {"stack": stack.name, "severity": "page" if component.spec.critical else "ticket"}
        alerts.append(_down(name, down_for, labels))
        if component.scheme.tls:
            alerts.append(_expiring(name, component.tls.min_days_left, labels))
    alerts.append(_root_cause_changed(selector, changed_within, stack.name))
    prefix = f"faultfinder-{stack.name}"
    return {
        "groups": [
            {"name": f"{prefix}-records", "rules": _records(selector)},
            {"name": f"{prefix}-alerts", "rules": alerts},
        ]
    }


def _string(text: str) -> str:
    """A PromQL string literal (its escapes are Go's, which JSON's are a subset of)."""
    return json.dumps(text)


def _down(name: str, down_for: str, labels: dict[str, str]) -> dict[str, Any]:
    component = f"component={_string(name)}"
    # The fault's own series gives code, layer and owner; `and` keeps them, for as long as
    # the agent's (flap-controlled) state is down.
    expr = (
        f"max by ({SERIES}, code, layer, owner) (faultfinder_component_fault_info{{{component}}})"
        f"\nand on ({SERIES})\n(faultfinder_component_up{{{component}}} == 0)"
    )
    return {
        "alert": "FaultfinderComponentDown",
        "expr": expr,
        "for": down_for,
        "labels": labels,
        "annotations": {
            "summary": f"{name} is down from {AGENT}: {{{{ $labels.code }}}} at the "
            "{{ $labels.layer }} layer (owner {{ $labels.owner }})",
            "description": f"{name} has been down for {down_for} as seen from {AGENT}. "
            "`faultfinder diagnose STACK --prometheus URL` says whether every agent sees it "
            "(the component's own fault) or only some (their path to it).",
        },
    }


def _expiring(name: str, days: int, labels: dict[str, str]) -> dict[str, Any]:
    expr = (
        f"faultfinder_certificate_expiry_timestamp_seconds{{component={_string(name)}}} "
        f"- time() < {days} * 86400"
    )
    return {
        "alert": "FaultfinderCertificateExpiring",
        "expr": expr,
        "for": "10m",
        "labels": {
            **labels,
            "severity": "ticket",
            "code": EXPIRING,
            "owner": str(fault(EXPIRING).owner.value),
            "layer": "tls",
        },
        "annotations": {
            "summary": f"{name}'s certificate has fewer than {days} days left, as seen from "
            f"{AGENT}",
            "description": fault(EXPIRING).remediation,
        },
    }


def _root_cause_changed(selector: str, within: str, stack: str) -> dict[str, Any]:
    # A root cause series that did not exist `within` ago: a new fault, or a known one moved
    # to another component or code. It fires once per change, for `within`.
    expr = (
        f"faultfinder_root_cause_info{{{selector}}}\nunless on ({SERIES}, code)\n"
        f"(faultfinder_root_cause_info{{{selector}}} offset {within})"
    )
    return {
        "alert": "FaultfinderRootCauseChanged",
        "expr": expr,
        "labels": {"stack": stack, "severity": "info"},
        "annotations": {
            "summary": "new root cause: {{ $labels.component }} {{ $labels.code }} "
            "({{ $labels.owner }}), seen from {{ $labels.vantage }}",
        },
    }


def _records(selector: str) -> list[dict[str, Any]]:
    """Views across agents, named level:metric:operations as Prometheus' practices advise."""
    return [
        {
            # 1 healthy from every agent; 0 down from at least one
            "record": "component:faultfinder_component_up:min",
            "expr": f"min by (component) (faultfinder_component_up{{{selector}}})",
        },
        {
            # how many vantage points see it down: all of them, or only some (a path)
            "record": "component:faultfinder_component_up:agents_down",
            "expr": f"count by (component) (faultfinder_component_up{{{selector}}} == 0)",
        },
        {
            "record": "owner:faultfinder_root_cause_info:count",
            "expr": f"count by (owner, code) (faultfinder_root_cause_info{{{selector}}})",
        },
    ]
