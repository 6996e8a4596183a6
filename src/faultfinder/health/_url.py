"""URL checks: a dependency reached by URL, climbed with faultfinder's own probers.

Its own module because it needs the stack file's validation (pydantic) and the probers: an app
that builds no URL check never imports them (``faultfinder.health`` loads this on first use).
"""

from __future__ import annotations

from typing import Any

from faultfinder.config import Component, component_from_url
from faultfinder.health._checks import (
    CHECK_OPTIONS,
    Check,
    Observation,
    component_type_of,
    rounded,
)
from faultfinder.model import CheckResult, Grade
from faultfinder.probe import probe_component, prober
from faultfinder.redact import header_secrets, url_secrets


class UrlCheck(Check):
    """A dependency reached by URL, probed layer by layer with faultfinder's own probers."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout: float = 2.0,
        component_type: str | None = None,
        **options: Any,
    ) -> None:
        # The Check's own keywords; the rest are the stack file's keys for this component.
        own = {key: options.pop(key) for key in CHECK_OPTIONS if key in options}
        super().__init__(name, timeout=timeout, component_type=component_type, **own)
        self.component: Component = component_from_url(name, url, timeout=timeout, **options)
        self.kind = self.component.kind
        if not component_type:
            self.component_type = component_type_of(self.kind)
        prober(self.kind)  # import the prober now, not on the event loop at the first request

    async def measure(self) -> Observation:
        return observe_result(await probe_component(self.component))

    def secrets(self) -> frozenset[str]:
        found = url_secrets(self.component.parts)
        for value in self.component.spec.headers.values():
            found |= header_secrets(value) if value else set()
        return frozenset(found)


def observe_result(result: CheckResult) -> Observation:
    """A prober's result as the ``responseTime`` observation of a health check."""
    failed = result.failed_phase
    took = rounded(result.duration_ms)
    if result.code is not None:
        output = "; ".join(result.evidence) or (failed.detail if failed else result.code)
        layer = failed.layer if failed else None
        return Observation("responseTime", Grade.FAIL, took, "ms", output, result.code, layer)
    if result.warning is not None:
        output = "; ".join(result.evidence) or result.warning
        return Observation("responseTime", Grade.WARN, took, "ms", output, result.warning)
    return Observation("responseTime", Grade.PASS, took, "ms")
