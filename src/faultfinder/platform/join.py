"""Which stack component each platform object is: by host, by socket path, by service name,
or by the component's explicit ``platform:`` names (docs/platform.md, "Joining")."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from faultfinder.config import Component, Stack
from faultfinder.platform.facts import (
    CloudRunService,
    ComposeContainer,
    Endpoints,
    Pod,
    SqlInstance,
)

# The labels Kubernetes manifests name their app with (the recommended one first).
APP_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "app.kubernetes.io/instance")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def names(component: Component) -> set[str]:
    """The names a component answers to: its own, and its ``platform:`` names."""
    return {component.name, *component.spec.platform}


def cloud_run(stack: Stack, service: CloudRunService) -> list[str]:
    host = urlsplit(service.url).hostname or ""
    return [
        name
        for name, component in sorted(stack.components.items())
        if service.name in names(component) or (host and component.host == host)
    ]


def cloudsql_socket(component: Component) -> str:
    """The connection name of a ``/cloudsql/PROJECT:REGION:INSTANCE`` socket, or ''."""
    path = component.socket_path or ""
    if not path.startswith("/cloudsql/"):
        return ""
    return path.removeprefix("/cloudsql/").split("/", 1)[0]


def sql_instance(stack: Stack, instance: SqlInstance) -> list[str]:
    addresses = {address for _, address in instance.addresses}
    wanted = {instance.name, instance.connection_name} - {""}
    return [
        name
        for name, component in sorted(stack.components.items())
        if wanted & names(component)
        or (instance.connection_name and cloudsql_socket(component) == instance.connection_name)
        or (component.socket_path is None and component.host in addresses)
    ]


def endpoints(stack: Stack, found: Endpoints) -> list[str]:
    """A Service's DNS name is NAME, NAME.NAMESPACE, NAME.NAMESPACE.svc[.cluster.local]."""
    dns_names = {
        found.name,
        f"{found.name}.{found.namespace}",
        f"{found.name}.{found.namespace}.svc",
        f"{found.name}.{found.namespace}.svc.cluster.local",
    }
    return [
        name
        for name, component in sorted(stack.components.items())
        if found.name in names(component) or component.host in dns_names
    ]


def pod(stack: Stack, found: Pod) -> list[str]:
    labels = {found.labels[label] for label in APP_LABELS if label in found.labels}
    return [
        name
        for name, component in sorted(stack.components.items())
        if labels & names(component)
        or any(found.name.startswith(f"{known}-") for known in component.spec.platform)
    ]


def compose(stack: Stack, container: ComposeContainer) -> list[str]:
    """By service name, by the service's name as a host (inside the Compose network), or by a
    published port on this machine."""
    published = {port for port, _ in container.published}
    return [
        name
        for name, component in sorted(stack.components.items())
        if container.service in names(component)
        or component.host == container.service
        or (component.host in LOCAL_HOSTS and component.port in published)
    ]


# RFC 6598's 100.64.0.0/10: used inside VPCs, yet not "private" to Python's ipaddress.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


def private_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The host as a private (non-loopback) address literal, or None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    private = address.is_private or address in SHARED_ADDRESS_SPACE
    return address if private and not address.is_loopback else None


RFC_1918 = tuple(
    ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def in_rfc_1918(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """What Cloud Run's ``private-ranges-only`` egress sends through the VPC."""
    return any(address in block for block in RFC_1918 if block.version == address.version)
