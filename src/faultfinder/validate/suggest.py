"""Success criteria for a fix, generated from what a diagnosis found failing. Pure.

Each root cause asks for its component to pass ``SUGGESTED_CONSECUTIVE`` times in a row with
a latency bound for its kind ("redis reachable from backend: 20 consecutive passes, p95 ≤
50 ms"); each symptom asks to pass again; a certificate fault or warning asks for days left.
The criteria come with the exact ``faultfinder validate`` command that checks them, and the
same criteria as a ``validation:`` section to keep in the stack file.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faultfinder.config import Stack
from faultfinder.validate.criteria import critical_categories, percent

SUGGESTED_CONSECUTIVE = 20
CERTIFICATE_CODES = {"tls.expired", "tls.expiring_soon"}
# What passing means, by the layer of the fault it replaces.
_PHRASES = {
    "dns": "resolves",
    "tcp": "accepts connections",
    "tls": "completes a verified TLS handshake",
    "postgres": "answers SELECT 1",
    "redis": "answers PING",
    "ws": "accepts WebSocket connections",
}


@dataclass(frozen=True)
class Suggestion:
    """One criterion for the fix, for people (``text``) and for ``validate`` (the figures)."""

    component: str
    text: str
    consecutive: int
    p95_ms: float | None = None
    min_days_left: int | None = None

    def option(self) -> str:
        """The ``--component`` value that asks ``validate`` for exactly this."""
        values = [f"consecutive={self.consecutive}"]
        if self.p95_ms is not None:
            values.append(f"p95_ms={self.p95_ms:g}")
        if self.min_days_left is not None:
            values.append(f"tls.min_days_left={self.min_days_left}")
        return f"{self.component}:{','.join(values)}"


def suggest(stack: Stack, diagnosis: dict[str, Any]) -> list[Suggestion]:
    """A criterion per failing (or warning) component of a ``faultfinder.diagnosis/v1`` document."""
    suggestions: dict[str, Suggestion] = {}
    for cause in diagnosis["root_causes"]:
        name = cause["component"]
        if name in stack.components and name not in suggestions:
            suggestions[name] = _for_root_cause(stack, cause)
    for report in diagnosis["components"]:
        name = report["name"]
        if name in suggestions or name not in stack.components:
            continue
        if report["status"] == "down":
            below = ", ".join(report.get("symptom_of") or ()) or "another failure"
            text = f"{name} passes again (it failed as a symptom of {below})"
            suggestions[name] = Suggestion(name, _with_figures(text, None), SUGGESTED_CONSECUTIVE)
        elif report.get("warning") in CERTIFICATE_CODES:
            suggestions[name] = _certificate(stack, name, f"{name} keeps passing")
    return list(suggestions.values())  # root causes first, then symptoms and warnings


def baseline(stack: Stack) -> list[str]:
    """The run-wide criteria the stack file sets: the pass rate and the critical categories."""
    lines = [f"overall pass rate ≥ {percent(stack.validation.pass_rate)}"]
    critical = critical_categories(stack, stack.validation)
    if critical:
        lines.append(f"every check in the critical categories passes: {', '.join(critical)}")
    return lines


def command(stack: Stack, suggestions: Sequence[Suggestion]) -> str:
    """The exact ``faultfinder validate`` call that checks ``suggestions`` and the baseline."""
    words = ["faultfinder", "validate", stack.path]
    for suggestion in suggestions:
        words += ["--component", suggestion.option()]
    return shlex.join(words)


def stack_section(suggestions: Sequence[Suggestion]) -> str:
    """The same criteria as a ``validation:`` section to keep in the stack file."""
    lines = ["validation:", "  components:"]
    for suggestion in suggestions:
        values = [f"consecutive: {suggestion.consecutive}"]
        if suggestion.p95_ms is not None:
            values.append(f"p95_ms: {suggestion.p95_ms:g}")
        if suggestion.min_days_left is not None:
            values.append(f"tls: {{min_days_left: {suggestion.min_days_left}}}")
        lines.append(f"    {suggestion.component}: {{{', '.join(values)}}}")
    return "\n".join(lines) + "\n"


def _for_root_cause(stack: Stack, cause: dict[str, Any]) -> Suggestion:
    name, vantage, code = cause["component"], cause["vantage"], cause["code"]
    if code in CERTIFICATE_CODES:
        return _certificate(stack, name, f"{name} {_PHRASES['tls']}")
    component = stack.components[name]
    if vantage != "faultfinder":
        what = f"{name} reachable from {vantage}"
    else:
        what = f"{name} {_PHRASES.get(code.split('.', 1)[0], 'answers as expected')}"
    # a healthy probe of its kind on a working network finishes well within this
    bound = min(component.scheme.latency_bound_ms, component.timeout * 1000)
    return Suggestion(name, _with_figures(what, bound), SUGGESTED_CONSECUTIVE, p95_ms=bound)


def _certificate(stack: Stack, name: str, what: str) -> Suggestion:
    days = stack.components[name].tls.min_days_left
    text = f"{_with_figures(what, None)}, certificate with ≥ {days} days left"
    return Suggestion(name, text, SUGGESTED_CONSECUTIVE, min_days_left=days)


def _with_figures(what: str, p95_ms: float | None) -> str:
    text = f"{what}: {SUGGESTED_CONSECUTIVE} consecutive passes"
    return text if p95_ms is None else f"{text}, p95 ≤ {p95_ms:g} ms"
