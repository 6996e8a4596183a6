"""The rules for containers: Kubernetes pods and the endpoints of their Services, and Docker
Compose containers (crash loops, OOM kills, no ready endpoint, exits, ports). docs/platform.md,
"What it concludes"."""

from __future__ import annotations

from faultfinder.config import Stack
from faultfinder.platform import join
from faultfinder.platform.evidence import Collector
from faultfinder.platform.facts import (
    ComposeContainer,
    Endpoints,
    PlatformFacts,
    Pod,
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


def by_service(found: tuple[Endpoints, ...]) -> list[Endpoints]:
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


def judge_endpoints(stack: Stack, facts: PlatformFacts, found: Endpoints, view: Collector) -> None:
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
        judge_pod(stack, facts, pod, components, view)


def judge_pod(
    stack: Stack, facts: PlatformFacts, pod: Pod, components: list[str], view: Collector
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


def _subjects(view: Collector, components: list[str]) -> set[str]:
    return {f.subject for name in components for f in view.findings.get(name, [])}


def judge_compose(stack: Stack, container: ComposeContainer, view: Collector) -> None:
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
