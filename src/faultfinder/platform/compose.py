"""Docker Compose: ``docker compose ps --all --format json`` and ``docker inspect CONTAINER…``.

``compose ps`` writes one object per container (a JSON line each since Compose v2.21, one JSON
array before), with the fields of Compose's ContainerSummary (docker/compose ``pkg/api/api.go``,
https://docs.docker.com/reference/cli/docker/compose/ps/): ``Service``, ``Name``, ``State``
(running, exited, restarting, created, paused, dead), ``Health`` (healthy, unhealthy,
starting or empty), ``ExitCode`` and ``Publishers[]`` (``URL``, ``TargetPort``,
``PublishedPort``, ``Protocol``).

``docker inspect`` writes the Engine API's ContainerInspectResponse
(https://docs.docker.com/reference/api/engine/version/v1.45/#tag/Container/operation/ContainerInspect):
``Name``, ``State.Status``, ``State.ExitCode``, ``State.OOMKilled``, ``State.Health.Status``,
``Config.Labels["com.docker.compose.service"]`` and ``NetworkSettings.Ports`` ("80/tcp" →
[{HostIp, HostPort}]).
"""

from __future__ import annotations

from faultfinder.platform._fields import Node
from faultfinder.platform.facts import ComposeContainer, PlatformFacts

SERVICE_LABEL = "com.docker.compose.service"


def recognises(node: Node) -> bool:
    value = node.value
    if not isinstance(value, dict):
        return False
    from_ps = "Service" in value and "State" in value
    from_inspect = isinstance(value.get("State"), dict) and isinstance(value.get("Config"), dict)
    return from_ps or from_inspect


def read(node: Node) -> PlatformFacts:
    if isinstance(node.value.get("State"), dict):
        return PlatformFacts(containers=(_inspected(node),))
    container = ComposeContainer(
        service=node.text("Service"),
        name=node.text("Name"),
        source=node.file,
        state=node.text("State"),
        health=node.text("Health"),
        exit_code=node.integer("ExitCode"),
        published=tuple(
            (publisher.integer("PublishedPort"), publisher.integer("TargetPort"))
            for publisher in node.items("Publishers")
            if publisher.integer("PublishedPort")  # 0: exposed, not published
        ),
    )
    return PlatformFacts(containers=(container,))


def _inspected(node: Node) -> ComposeContainer:
    state = node.get("State")
    labels = node.get("Config").strings("Labels")
    name = node.text("Name").lstrip("/")
    published = []
    ports = node.get("NetworkSettings").get("Ports")
    for target, bindings in ports.value.items():
        if not isinstance(bindings, list):
            continue  # null: exposed, not published
        for index, binding in enumerate(bindings):
            host_port = ports.child(target, bindings).child(index, binding).text("HostPort")
            if host_port.isdigit() and target.split("/")[0].isdigit():
                published.append((int(host_port), int(target.split("/")[0])))
    return ComposeContainer(
        service=labels.get(SERVICE_LABEL, name),
        name=name,
        source=node.file,
        state=state.text("Status"),
        health=state.get("Health").text("Status"),
        exit_code=state.integer("ExitCode"),
        oom_killed=state.flag("OOMKilled") is True,
        published=tuple(dict.fromkeys(published)),
    )
