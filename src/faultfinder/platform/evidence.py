"""What the platform files say about a stack, as findings: each fault on the component it
belongs to (deepest first), what the platform calls fine, and the objects no component matched;
``Collector`` gathers them while the rules run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

# The deeper cause first when one component has several: a pod OOM-killed is why it crash-
# loops, a database out of reach (no route, a broken connector) is why a service fails to
# start, and a crash loop is why its Service has no ready endpoint.
PRIORITY = (
    "platform.memory_exceeded",
    "platform.secret_unavailable",
    "platform.port_mismatch",
    "platform.connector_not_ready",
    "platform.no_vpc_egress",
    "platform.startup_failed",
    "platform.container_exited",
    "cloudsql.not_runnable",
    "cloudsql.connection_missing",
    "cloudsql.ip_type_missing",
    "cloudsql.ssl_mismatch",
    "platform.no_ready_endpoint",
    "app.unhealthy",
)


@dataclass(frozen=True)
class PlatformFinding:
    """A fault the platform's description names, on one component."""

    component: str
    code: str
    subject: str  # what said it: "Cloud Run service api", "pod api-7d9f-x2"
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class PlatformEvidence:
    """What the platform files say about the stack: faults per component (deepest first),
    what they say is fine, and the objects no component matched."""

    findings: Mapping[str, tuple[PlatformFinding, ...]] = field(default_factory=dict)
    healthy: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unjoined: tuple[str, ...] = ()


@dataclass
class Collector:
    findings: dict[str, list[PlatformFinding]] = field(default_factory=lambda: defaultdict(list))
    healthy: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unjoined: list[str] = field(default_factory=list)

    def found(self, components: list[str], code: str, subject: str, *evidence: str) -> None:
        said = tuple(line for line in evidence if line)
        for component in components:
            finding = PlatformFinding(component, code, subject, said)
            if finding not in self.findings[component]:
                self.findings[component].append(finding)

    def fine(self, components: list[str], statement: str) -> None:
        for component in components:
            self.healthy[component].append(statement)

    def evidence(self) -> PlatformEvidence:
        rank = {code: index for index, code in enumerate(PRIORITY)}
        return PlatformEvidence(
            findings={
                name: tuple(sorted(found, key=lambda f: rank.get(f.code, len(rank))))
                for name, found in sorted(self.findings.items())
                if found
            },
            healthy={name: tuple(said) for name, said in sorted(self.healthy.items()) if said},
            unjoined=tuple(self.unjoined),
        )
