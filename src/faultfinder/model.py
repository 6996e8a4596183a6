"""Frozen result types shared by probers, diagnosis and every output.

Two vocabularies, each with one job: a component or a stack has a ``Status`` (healthy,
degraded, down); a check, a criterion or a health document's entry gets a ``Grade`` (pass,
warn, fail, as the IETF health format says them). Times are aware UTC datetimes; they become
text only at the edge (``clock.utc_iso``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from faultfinder.clock import utc_iso, utc_seconds
from faultfinder.faults import Owner


class Status(StrEnum):
    """How one component, or the whole stack, is doing."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    # A monitored component before its first settled state (never a diagnosis'): not yet
    # observed, or observed fewer times in a row than flap control needs to settle.
    PENDING = "pending"


class Grade(StrEnum):
    """How one check or criterion came out: the IETF health format's words, and validate's."""

    PASS = "pass"
    WARN = "warn"  # it held, with a warning; or some checks failed but no criterion did
    FAIL = "fail"
    NOT_EVALUATED = "not_evaluated"  # validate: a criterion with nothing to judge

    @classmethod
    def of_status(cls, status: Status) -> Grade:
        """A component's status as a grade: down fails, degraded warns, healthy passes."""
        return {Status.DOWN: cls.FAIL, Status.DEGRADED: cls.WARN}.get(status, cls.PASS)


@dataclass(frozen=True)
class Phase:
    """One rung of the layer ladder: which layer, whether it held, how long it took."""

    layer: str
    ok: bool
    ms: float
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"layer": self.layer, "ok": self.ok, "ms": round(self.ms, 1)}
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True)
class Certificate:
    """What the leaf certificate said, read with ``cryptography``."""

    subject: str
    issuer: str
    names: tuple[str, ...]
    not_before: datetime.datetime
    not_after: datetime.datetime
    days_left: float
    # For blackbox_exporter's probe_ssl_last_chain_info: the SHA-256 of the DER, and the whole
    # subject and issuer names in RFC 4514 order (subject and issuer above are common names).
    fingerprint_sha256: str = ""
    subject_name: str = ""
    issuer_name: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "names": list(self.names),
            "not_before": utc_seconds(self.not_before),
            "not_after": utc_seconds(self.not_after),
            "days_left": round(self.days_left, 1),
        }


@dataclass(frozen=True)
class HttpAnswer:
    """What an HTTP answer said besides its status, as blackbox_exporter reports it."""

    version: str  # "1.1", "1.0": the status line's
    content_length: int  # the Content-Length header; -1 without one (chunked, or until close)
    body_bytes: int  # the body's bytes as read (the prober reads at most 256 KiB)
    last_modified: datetime.datetime | None = None  # the Last-Modified header, when valid


@dataclass(frozen=True)
class DnsAnswer:
    """What a DNS server answered a query (``/probe``'s dns module), as blackbox reports it."""

    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL …
    answers: int  # the records in each section
    authorities: int
    additionals: int
    serial: int | None = None  # the zone's serial, for an SOA query (0 without an SOA record)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of probing one component from one vantage point.

    ``code`` is ``None`` when every rung held; ``warning`` is a warning code (for example
    ``tls.expiring_soon``) that does not make the component fail.
    """

    component: str
    kind: str
    target: str
    phases: tuple[Phase, ...]
    code: str | None = None
    warning: str | None = None
    evidence: tuple[str, ...] = ()
    status_code: int | None = None
    certificate: Certificate | None = None
    addresses: tuple[str, ...] = ()
    body: str = ""
    content_type: str = ""
    duration_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # blackbox phase names → ms
    steps: tuple[StepResult, ...] = ()  # a flow's steps, in the order they ran
    http: HttpAnswer | None = None  # an HTTP prober's answer, when one came
    dns: DnsAnswer | None = None  # a DNS server's answer to /probe's dns module, when one came

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def failed_phase(self) -> Phase | None:
        return next((phase for phase in self.phases if not phase.ok), None)


@dataclass(frozen=True)
class StepResult:
    """One step of a flow: its probe's result, or why it did not run."""

    name: str
    kind: str
    target: str
    result: CheckResult | None  # None: the step did not run (see ``skipped``)
    cleanup: bool = False
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "kind": self.kind, "target": self.target}
        if self.cleanup:
            data["cleanup"] = True
        result = self.result
        if result is None:
            data.update(ok=False, skipped=self.skipped)
            return data
        data.update(ok=result.ok, code=result.code, ms=round(result.duration_ms, 1))
        if result.status_code is not None:
            data["status_code"] = result.status_code
        data["phases"] = [phase.to_json() for phase in result.phases]
        if result.evidence:
            data["evidence"] = list(result.evidence)
        return data


@dataclass(frozen=True)
class RootCause:
    """A component whose fault explains the failures above it."""

    component: str
    code: str
    layer: str
    owner: Owner
    vantage: str
    confidence: float
    explanation: str
    evidence: tuple[str, ...]
    remediation: str

    def to_json(self) -> dict[str, object]:
        return {
            "component": self.component,
            "code": self.code,
            "layer": self.layer,
            "owner": self.owner,
            "vantage": self.vantage,
            "confidence": round(self.confidence, 2),
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "remediation": self.remediation,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RootCause:
        evidence = data.get("evidence") or []
        assert isinstance(evidence, list)
        return cls(
            component=str(data["component"]),
            code=str(data["code"]),
            layer=str(data["layer"]),
            owner=Owner(str(data["owner"])),
            vantage=str(data["vantage"]),
            confidence=float(str(data["confidence"])),
            explanation=str(data.get("explanation", "")),
            evidence=tuple(str(line) for line in evidence),
            remediation=str(data.get("remediation", "")),
        )


@dataclass(frozen=True)
class CauseGroup:
    """Root causes that share one cause: the same code on the same host, network, resolver
    or platform object, seen from the same vantage. A lone root cause is a group of one."""

    code: str
    owner: Owner
    layer: str
    vantage: str
    scope: str  # host | network | resolver | platform | component
    where: str  # "127.0.0.1", "10.0.0.0/24", "faultfinder's resolver", or the component
    members: tuple[str, ...]  # in the stack file's order
    confidence: float
    title: str  # "5 components on 127.0.0.1 refuse connections: lb, backend, …"
    remediation: str

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "owner": self.owner,
            "layer": self.layer,
            "vantage": self.vantage,
            "scope": self.scope,
            "where": self.where,
            "members": list(self.members),
            "confidence": round(self.confidence, 2),
            "title": self.title,
            "remediation": self.remediation,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CauseGroup:
        members = data["members"]
        assert isinstance(members, list)
        return cls(
            code=str(data["code"]),
            owner=Owner(str(data["owner"])),
            layer=str(data["layer"]),
            vantage=str(data["vantage"]),
            scope=str(data["scope"]),
            where=str(data["where"]),
            members=tuple(str(member) for member in members),
            confidence=float(str(data["confidence"])),
            title=str(data["title"]),
            remediation=str(data["remediation"]),
        )


@dataclass(frozen=True)
class Vantage:
    """One agent's latest view of one component (``diagnose --prometheus``): the status and
    code that agent's own diagnosis gave it, and when it probed."""

    agent: str
    at: datetime.datetime
    status: Status
    code: str | None
    layer: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "agent": self.agent,
            "at": utc_iso(self.at),
            "status": self.status.value,
            "code": self.code,
            "layer": self.layer,
        }


@dataclass(frozen=True)
class AgentSeen:
    """An agent (a vantage point) Prometheus holds, when it last probed, and whether that is
    too long ago to count (its view is then left out, never guessed)."""

    name: str
    last_probe: datetime.datetime
    stale: bool

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "last_probe": utc_iso(self.last_probe), "stale": self.stale}


@dataclass(frozen=True)
class ComponentReport:
    """One component as the diagnosis sees it: its probe, status and place in the graph."""

    result: CheckResult
    status: Status
    code: str | None
    symptom_of: tuple[str, ...] = ()
    critical: bool = False
    notes: tuple[str, ...] = ()
    vantages: tuple[Vantage, ...] = ()  # diagnose --prometheus: each fresh agent's view


@dataclass(frozen=True)
class Verdict:
    owner: Owner
    summary: str
    confidence: float


@dataclass(frozen=True)
class Diagnosis:
    """Everything ``diagnose`` concluded about one stack at one moment."""

    stack: str
    started_at: datetime.datetime
    duration_ms: float
    status: Status
    verdict: Verdict
    root_causes: tuple[RootCause, ...]
    components: tuple[ComponentReport, ...]
    why: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    agents: tuple[AgentSeen, ...] = field(default=())  # diagnose --prometheus: every agent seen
    groups: tuple[CauseGroup, ...] = field(default=())  # the root causes, by shared cause
