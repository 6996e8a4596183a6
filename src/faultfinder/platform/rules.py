"""Platform facts + the stack → findings: the faults the platform's own description names,
each on the component it belongs to, and what the platform says is fine (so a probe that
disagrees can say so). Pure: the rules of docs/platform.md, "What it concludes"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from faultfinder.config import Stack
from faultfinder.platform import join
from faultfinder.platform.facts import (
    CloudRunRevision,
    CloudRunService,
    ComposeContainer,
    Condition,
    Endpoints,
    PlatformFacts,
    Pod,
    SqlInstance,
)

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
# Kubernetes waiting reasons that mean the container cannot start (kubelet's
# images/types.go and kuberuntime: ErrImagePull, ImagePullBackOff, CreateContainerConfigError…).
NOT_STARTING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
}
ENCRYPTED_ONLY = {"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}


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
class _Collector:
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


def conclude(stack: Stack, facts: PlatformFacts) -> PlatformEvidence:
    view = _Collector()
    for service in facts.services:
        _cloud_run(stack, facts, service, view)
    # an export has no status: its revisions list says which revision is the newest
    served = {service.name for service in facts.services if service.latest_created}
    for revision in _latest_revisions(facts, served):
        _revision(stack, revision, view)
    for instance in facts.sql_instances:
        _sql_instance(stack, instance, view)
    for endpoints in _by_service(facts.endpoints):
        _endpoints(stack, facts, endpoints, view)
    for pod in facts.pods:
        _pod(stack, facts, pod, join.pod(stack, pod), view)
    for container in facts.containers:
        _compose(stack, container, view)
    return view.evidence()


def _by_service(found: tuple[Endpoints, ...]) -> list[Endpoints]:
    """One Endpoints per Service: its EndpointSlices (or a repeated file) read together."""
    merged: dict[tuple[str, str], Endpoints] = {}
    for item in found:
        key = (item.namespace, item.name)
        if key not in merged:
            merged[key] = item
            continue
        first = merged[key]
        merged[key] = Endpoints(
            name=first.name,
            namespace=first.namespace,
            source=first.source,
            ready=tuple(dict.fromkeys(first.ready + item.ready)),
            not_ready=tuple(dict.fromkeys(first.not_ready + item.not_ready)),
            pods=tuple(dict.fromkeys(first.pods + item.pods)),
            ports=tuple(dict.fromkeys(first.ports + item.ports)),
        )
    return list(merged.values())


def _failed(conditions: tuple[Condition, ...]) -> list[Condition]:
    return [condition for condition in conditions if condition.failed]


def _memory(text: str) -> bool:
    # Cloud Run: "Memory limit of 512 MiB exceeded with 530 MiB used."; Kubernetes: OOMKilled.
    return "memory limit" in text.lower() or "oomkilled" in text.lower()


def _cloud_run(
    stack: Stack, facts: PlatformFacts, service: CloudRunService, view: _Collector
) -> None:
    subject = f"Cloud Run service {service.name} ({service.source})"
    components = join.cloud_run(stack, service)
    if not components:
        view.unjoined.append(subject)
        return
    failed = _failed(service.conditions)
    if failed:
        said = [condition.describe() for condition in failed]
        if service.latest_created and service.latest_created != service.latest_ready:
            said.append(
                f"latest revision {service.latest_created} is not ready"
                + (f"; traffic stays on {service.latest_ready}" if service.latest_ready else "")
            )
        code = "platform.memory_exceeded" if _memory(" ".join(said)) else "platform.startup_failed"
        view.found(components, code, subject, *said)
    elif any(c.type == "Ready" and c.status == "True" for c in service.conditions):
        view.fine(components, f"{subject} is Ready (revision {service.latest_ready or '?'})")
    _egress(stack, facts, service, components, subject, view)
    _cloudsql_connections(stack, service, components, subject, view)
    _secrets(facts, service, components, subject, view)
    for container in service.containers:
        for probe, port in container.probe_ports:
            if port not in container.ports:
                view.found(
                    components,
                    "platform.port_mismatch",
                    subject,
                    f"container {container.name or '(unnamed)'} declares port "
                    f"{', '.join(map(str, container.ports))}, but its {probe} checks port {port}",
                )


def _latest_revisions(facts: PlatformFacts, served: set[str]) -> list[CloudRunRevision]:
    """The revision each service runs or tries to: the one its describe names as latest
    created, else the newest listed (revision names end in an increasing number)."""
    latest_named = {service.latest_created for service in facts.services}
    newest: dict[str, CloudRunRevision] = {}
    for revision in facts.revisions:
        if revision.service in served:
            if revision.name in latest_named:
                newest[revision.service] = revision
            continue
        current = newest.get(revision.service)
        if current is None or revision.name > current.name:
            newest[revision.service] = revision
    return [newest[name] for name in sorted(newest)]


def _revision(stack: Stack, revision: CloudRunRevision, view: _Collector) -> None:
    subject = f"Cloud Run revision {revision.name} ({revision.source})"
    as_service = CloudRunService(name=revision.service, source=revision.source)
    components = join.cloud_run(stack, as_service)
    failed = _failed(revision.conditions)
    if not components:
        view.unjoined.append(subject)
    elif failed:
        said = [condition.describe() for condition in failed]
        code = "platform.memory_exceeded" if _memory(" ".join(said)) else "platform.startup_failed"
        view.found(components, code, subject, *said)


def _egress(
    stack: Stack,
    facts: PlatformFacts,
    service: CloudRunService,
    components: list[str],
    subject: str,
    view: _Collector,
) -> None:
    """Private addresses the service's dependencies live at, against its VPC route."""
    connector = next((c for c in facts.connectors if c.name == service.connector), None)
    for app in components:
        for needed in stack.components[app].spec.depends_on:
            dependency = stack.components[needed]
            address = join.private_address(dependency.host) if not dependency.socket_path else None
            if address is None:
                continue
            if not service.connector and not service.direct_vpc:
                view.found(
                    [app],
                    "platform.no_vpc_egress",
                    subject,
                    f"{needed} is at the private address {address}, but {service.name} has no "
                    "VPC connector (run.googleapis.com/vpc-access-connector) and no Direct VPC "
                    "egress (run.googleapis.com/network-interfaces)",
                )
            elif service.egress == "private-ranges-only" and not join.in_rfc_1918(address):
                view.found(
                    [app],
                    "platform.no_vpc_egress",
                    subject,
                    f"{needed} is at {address}, outside RFC 1918, and {service.name}'s egress "
                    "is private-ranges-only: that address goes to the internet, not the VPC",
                )
    if connector is None:
        return
    about = (
        f"VPC connector {connector.name} ({connector.source}): state {connector.state or '?'}, "
        f"instances {connector.min_instances}..{connector.max_instances}"
    )
    if connector.state != "READY":
        view.found(components, "platform.connector_not_ready", subject, about)
    else:
        room = (
            "; it cannot grow: minInstances equals maxInstances"
            if connector.max_instances and connector.min_instances >= connector.max_instances
            else ""
        )
        view.fine(components, about + room)


def _cloudsql_connections(
    stack: Stack,
    service: CloudRunService,
    components: list[str],
    subject: str,
    view: _Collector,
) -> None:
    for app in components:
        for needed in stack.components[app].spec.depends_on:
            wanted = join.cloudsql_socket(stack.components[needed])
            if wanted and wanted not in service.cloudsql:
                listed = ", ".join(service.cloudsql) or "none"
                view.found(
                    [needed],
                    "cloudsql.connection_missing",
                    subject,
                    f"{needed} opens /cloudsql/{wanted}, but {service.name}'s Cloud SQL "
                    f"connections (run.googleapis.com/cloudsql-instances) are: {listed}",
                )


def _secrets(
    facts: PlatformFacts,
    service: CloudRunService,
    components: list[str],
    subject: str,
    view: _Collector,
) -> None:
    for container in service.containers:
        for reference in container.secrets:
            versions = [v for v in facts.secret_versions if v.secret == reference.secret]
            if not versions:
                continue  # its versions were not given: nothing to say
            states = ", ".join(f"{v.version} {v.state}" for v in versions)
            if reference.version == "latest":
                usable = any(v.state == "ENABLED" for v in versions)
            else:
                usable = any(
                    v.version == reference.version and v.state == "ENABLED" for v in versions
                )
            if not usable:
                view.found(
                    components,
                    "platform.secret_unavailable",
                    subject,
                    f"{reference.used_as} reads secret {reference.secret} version "
                    f"{reference.version}; its versions: {states}",
                )


def _sql_instance(stack: Stack, instance: SqlInstance, view: _Collector) -> None:
    subject = f"Cloud SQL instance {instance.name} ({instance.source})"
    components = join.sql_instance(stack, instance)
    if not components:
        view.unjoined.append(subject)
        return
    if instance.state != "RUNNABLE":
        view.found(
            components, "cloudsql.not_runnable", subject, f"state {instance.state or '(none)'}"
        )
    else:
        view.fine(components, f"{subject} is RUNNABLE")
    addresses = ", ".join(f"{kind} {address}" for kind, address in instance.addresses) or "none"
    for name in components:
        component = stack.components[name]
        if component.socket_path is not None:
            continue  # through the Cloud SQL connection or Auth Proxy: it encrypts, it picks the IP
        if component.host not in {address for _, address in instance.addresses}:
            wanted = "PRIVATE" if join.private_address(component.host) else "PRIMARY"
            view.found(
                [name],
                "cloudsql.ip_type_missing",
                subject,
                f"{name} connects to {component.host} ({wanted}); the instance's addresses: "
                f"{addresses}",
            )
        _ssl(component.url, instance, name, subject, view)


def _ssl(url: str, instance: SqlInstance, name: str, subject: str, view: _Collector) -> None:
    query = parse_qs(urlsplit(url).query)
    sslmode = query.get("sslmode", ["prefer"])[0]
    encrypted_only = instance.ssl_mode in ENCRYPTED_ONLY or (
        instance.require_ssl is True and instance.ssl_mode in ("", "SSL_MODE_UNSPECIFIED")
    )
    # Legacy requireSsl true means "encrypted, with valid client certificates".
    certificates = instance.ssl_mode == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" or (
        instance.require_ssl is True and instance.ssl_mode in ("", "SSL_MODE_UNSPECIFIED")
    )
    setting = f"sslMode {instance.ssl_mode or '(unset)'}, requireSsl {instance.require_ssl}"
    if encrypted_only and sslmode == "disable":
        view.found(
            [name],
            "cloudsql.ssl_mismatch",
            subject,
            f"the instance accepts only TLS ({setting}); {name}'s URL says sslmode=disable",
        )
    elif certificates and "sslcert" not in query:
        view.found(
            [name],
            "cloudsql.ssl_mismatch",
            subject,
            f"the instance requires client certificates ({setting}); {name}'s URL gives no sslcert",
        )


def _endpoints(stack: Stack, facts: PlatformFacts, found: Endpoints, view: _Collector) -> None:
    subject = f"Endpoints {found.namespace}/{found.name} ({found.source})"
    components = join.endpoints(stack, found)
    if not components:
        view.unjoined.append(subject)
        return
    if found.ready:
        view.fine(components, f"{subject} has ready addresses: {', '.join(found.ready)}")
    else:
        waiting = (
            f"not ready: {', '.join(found.not_ready)}"
            if found.not_ready
            else "no address at all: does the Service's selector match any running pod?"
        )
        view.found(components, "platform.no_ready_endpoint", subject, waiting)
    pods = [pod for pod in facts.pods if pod.name in found.pods]
    declared = {port for pod in pods for port in pod.ports}
    if declared and found.ports and not set(found.ports) <= declared:
        view.found(
            components,
            "platform.port_mismatch",
            subject,
            f"the Service sends traffic to port {', '.join(map(str, found.ports))}; its pods "
            f"declare containerPort {', '.join(map(str, sorted(declared)))}",
        )
    for pod in pods:  # the pods behind it speak for the component too
        _pod(stack, facts, pod, components, view)


def _pod(
    stack: Stack, facts: PlatformFacts, pod: Pod, components: list[str], view: _Collector
) -> None:
    subject = f"pod {pod.namespace}/{pod.name} ({pod.source})"
    if not components:
        view.unjoined.append(subject)
        return
    warnings = [
        f"event {event.reason} ×{event.count}: {event.message}"
        for event in facts.events
        if event.kind == "Pod" and event.name == pod.name and event.type == "Warning"
    ]
    for state in pod.containers:
        restarts = f"restarted {state.restarts} times" if state.restarts else ""
        if "OOMKilled" in (state.terminated, state.last_terminated):
            said = f"container {state.name} was OOMKilled"
            view.found(components, "platform.memory_exceeded", subject, said, restarts, *warnings)
        elif state.waiting in NOT_STARTING:
            said = f"container {state.name} is waiting: {state.waiting}"
            message = state.waiting_message
            view.found(
                components, "platform.startup_failed", subject, said, message, restarts, *warnings
            )
    never_ready = [c for c in pod.conditions if c.type == "Ready" and c.failed]
    if never_ready and subject not in _subjects(view, components):
        said = f"pod is {pod.phase or 'not'} but not Ready: {never_ready[0].describe()}"
        view.found(components, "platform.startup_failed", subject, said, *warnings)


def _subjects(view: _Collector, components: list[str]) -> set[str]:
    return {f.subject for name in components for f in view.findings.get(name, [])}


def _compose(stack: Stack, container: ComposeContainer, view: _Collector) -> None:
    subject = (
        f"Compose service {container.service} (container {container.name}, {container.source})"
    )
    components = join.compose(stack, container)
    if not components:
        view.unjoined.append(subject)
        return
    if container.oom_killed:
        view.found(components, "platform.memory_exceeded", subject, "State.OOMKilled true")
    elif container.state == "restarting":
        said = f"restarting (last exit code {container.exit_code})"
        view.found(components, "platform.startup_failed", subject, said)
    elif container.state in ("exited", "dead") and container.exit_code != 0:
        said = f"{container.state} with exit code {container.exit_code}"
        view.found(components, "platform.container_exited", subject, said)
    elif container.health == "unhealthy":
        view.found(components, "app.unhealthy", subject, "its HEALTHCHECK reports unhealthy")
    elif container.state == "running":
        health = f", {container.health}" if container.health else ""
        view.fine(components, f"{subject} is running{health}")
    published = {port for port, _ in container.published}
    for name in components:
        component = stack.components[name]
        local = component.host in join.LOCAL_HOSTS
        if local and published and component.port not in published:
            ports = ", ".join(f"{port}->{target}" for port, target in container.published)
            view.found(
                [name],
                "platform.port_mismatch",
                subject,
                f"{name}'s URL uses port {component.port}; the container publishes {ports}",
            )
