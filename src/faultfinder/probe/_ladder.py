"""The ladder every prober climbs: timed rungs under one deadline, stopping at the first fault."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from faultfinder.classify import Finding, describe
from faultfinder.config import Component
from faultfinder.errors import ProbeFault, printable
from faultfinder.model import Certificate, CheckResult, DnsAnswer, HttpAnswer, Phase, StepResult

T = TypeVar("T")


Classifier = Callable[[BaseException], Finding | None]

# What one result keeps of what a server said (docs/bounds.md): a rung's detail, an evidence
# line, and how many evidence lines. A server's error may claim megabytes.
DETAIL_LIMIT = 300
EVIDENCE_LIMIT = 1000
EVIDENCE_LINES = 20


def bounded(text: str, limit: int) -> str:
    """``text`` with its control characters escaped, cut to ``limit`` characters, the cut
    marked: what a server says is shown as text, on one line."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Ladder:
    """Records the rungs of one component's probe and enforces its single deadline."""

    def __init__(self, component: Component) -> None:
        self.component = component
        loop = asyncio.get_running_loop()
        self.started = time.perf_counter()
        self.deadline = loop.time() + component.timeout
        self.phases: list[Phase] = []
        self.evidence: list[str] = []
        self.timings: dict[str, float] = {}
        self.addresses: tuple[str, ...] = ()
        self.status_code: int | None = None
        self.certificate: Certificate | None = None
        self.warning: str | None = None
        self.body = ""
        self.content_type = ""
        self.steps: list[StepResult] = []  # a flow's
        self.http: HttpAnswer | None = None
        self.dns: DnsAnswer | None = None  # a DNS server's answer (probe/dns_server.py)

    def remaining(self) -> float:
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    async def rung(
        self,
        layer: str,
        action: Callable[[], Awaitable[T]],
        *,
        classify: Classifier,
        detail: Callable[[T], str] | None = None,
    ) -> T:
        """Run one rung under the deadline; a failure is recorded and raised as ``ProbeFault``.

        Running out of time is the rung's timeout code in the registry (``tcp.timeout`` on the
        tcp rung, ``redis.timeout`` on Redis's own)."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout_at(self.deadline):
                value = await action()
        except ProbeFault as fault:
            self._record(layer, started, ok=False, detail=fault.detail, evidence=fault.evidence)
            raise
        except TimeoutError:
            text = f"no answer within the {self.component.timeout:g}s deadline"
            self._record(layer, started, ok=False, detail=text, evidence=f"{layer}: {text}")
            raise ProbeFault(self.component.scheme.timeout_code_at(layer), text) from None
        except Exception as error:
            finding = classify(error)
            if finding is None:  # probe_component makes it probe.unexpected_error
                unread = f"{type(error).__name__}: {describe(error)}"
                self._record(layer, started, ok=False, detail=unread)
                raise
            found = ProbeFault.of(finding)
            self._record(layer, started, ok=False, detail=found.detail, evidence=found.evidence)
            raise found from error
        self._record(layer, started, ok=True, detail=detail(value) if detail else "")
        return value

    def _record(
        self, layer: str, started: float, *, ok: bool, detail: str, evidence: str = ""
    ) -> None:
        took = (time.perf_counter() - started) * 1000
        self.phases.append(Phase(layer, ok, took, bounded(detail, DETAIL_LIMIT)))
        if evidence:
            self.evidence.append(bounded(evidence, EVIDENCE_LIMIT))

    def result(self, code: str | None) -> CheckResult:
        component = self.component
        evidence = [bounded(line, EVIDENCE_LIMIT) for line in self.evidence[:EVIDENCE_LINES]]
        return CheckResult(
            component=component.name,
            kind=component.kind,
            target=component.display_url,
            phases=tuple(self.phases),
            code=code,
            warning=self.warning,
            evidence=tuple(evidence),
            status_code=self.status_code,
            certificate=self.certificate,
            addresses=self.addresses,
            body=self.body,
            content_type=self.content_type,
            duration_ms=(time.perf_counter() - self.started) * 1000,
            timings=dict(self.timings),
            steps=tuple(self.steps),
            http=self.http,
            dns=self.dns,
        )
