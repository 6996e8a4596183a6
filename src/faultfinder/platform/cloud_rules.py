"""The rules for Google Cloud: a Cloud Run service and its revisions (start-up, memory, VPC
route and egress, Cloud SQL connections, secrets, probe ports) and a Cloud SQL instance (state,
IP type, SSL). docs/platform.md, "What it concludes"."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from faultfinder.config import Stack
from faultfinder.platform import join
from faultfinder.platform.evidence import Collector
from faultfinder.platform.facts import (
    CloudRunRevision,
    CloudRunService,
    Condition,
    PlatformFacts,
    SqlInstance,
)

ENCRYPTED_ONLY = {"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}


def _failed(conditions: tuple[Condition, ...]) -> list[Condition]:
    return [condition for condition in conditions if condition.failed]


def _memory(text: str) -> bool:
    # Cloud Run: "Memory limit of 512 MiB exceeded with 530 MiB used."; Kubernetes: OOMKilled.
    return "memory limit" in text.lower() or "oomkilled" in text.lower()


def judge_cloud_run(
    stack: Stack, facts: PlatformFacts, service: CloudRunService, view: Collector
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


def latest_revisions(facts: PlatformFacts, served: set[str]) -> list[CloudRunRevision]:
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


def judge_revision(stack: Stack, revision: CloudRunRevision, view: Collector) -> None:
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
    view: Collector,
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
    view: Collector,
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
    view: Collector,
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


def judge_sql_instance(stack: Stack, instance: SqlInstance, view: Collector) -> None:
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


def _ssl(url: str, instance: SqlInstance, name: str, subject: str, view: Collector) -> None:
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
