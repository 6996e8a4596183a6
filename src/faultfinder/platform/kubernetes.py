"""Kubernetes: ``kubectl get pods,endpoints,events -o json`` (a ``List``), or any one of them.

Fields as the Kubernetes API reference defines them:

- Pod (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/):
  ``metadata.labels``, ``spec.containers[].ports[].containerPort``, ``status.phase``,
  ``status.conditions[]`` (type Ready), ``status.containerStatuses[]`` with ``ready``,
  ``restartCount``, ``state.waiting.reason`` (CrashLoopBackOff, ImagePullBackOff …),
  ``state.terminated`` and ``lastState.terminated`` (``reason``: OOMKilled, Error;
  ``exitCode``);
- Endpoints (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoints-v1/):
  ``subsets[].addresses[]`` (ready), ``subsets[].notReadyAddresses[]``, each with ``ip`` and
  ``targetRef.name``, and ``subsets[].ports[].port``;
- EndpointSlice, which replaces Endpoints from Kubernetes 1.33
  (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/):
  ``metadata.labels["kubernetes.io/service-name"]``, ``endpoints[].addresses[]``,
  ``endpoints[].conditions.ready`` (unset means ready), ``endpoints[].targetRef.name`` and
  ``ports[].port``; a Service's slices are read together, as one Endpoints;
- Event (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/):
  ``involvedObject.kind``/``name``, ``type`` (Normal, Warning), ``reason``, ``message``,
  ``count``.

Other kinds in the list are skipped.
"""

from __future__ import annotations

from faultfinder.platform._fields import Node
from faultfinder.platform.cloudrun import conditions
from faultfinder.platform.facts import ContainerState, Endpoints, Event, PlatformFacts, Pod

KINDS = ("Pod", "Endpoints", "EndpointSlice", "Event")
SERVICE_NAME = "kubernetes.io/service-name"


def recognises(node: Node) -> bool:
    value = node.value
    if not isinstance(value, dict) or "apiVersion" not in value:
        return False
    kind = str(value.get("kind", ""))
    return kind in KINDS or (kind.endswith("List") and isinstance(value.get("items"), list))


def read(node: Node) -> PlatformFacts:
    kind = node.text("kind")
    if kind.endswith("List"):
        facts = PlatformFacts()
        for item in node.items("items"):
            if item.text("kind") in KINDS:
                facts += read(item)
        return facts
    if kind == "Pod":
        return PlatformFacts(pods=(_pod(node),))
    if kind == "Endpoints":
        return PlatformFacts(endpoints=(_endpoints(node),))
    if kind == "EndpointSlice":
        return PlatformFacts(endpoints=(_slice(node),))
    return PlatformFacts(events=(_event(node),))


def _pod(node: Node) -> Pod:
    metadata, status = node.get("metadata"), node.get("status")
    return Pod(
        name=metadata.text("name"),
        namespace=metadata.text("namespace", "default"),
        source=node.file,
        labels=metadata.strings("labels"),
        phase=status.text("phase"),
        conditions=conditions(status),
        containers=tuple(_container(item) for item in status.items("containerStatuses")),
        ports=tuple(
            port.integer("containerPort")
            for container in node.get("spec").items("containers")
            for port in container.items("ports")
        ),
    )


def _container(node: Node) -> ContainerState:
    state, last = node.get("state"), node.get("lastState")
    terminated = state.get("terminated")
    exit_code = terminated.integer("exitCode") if terminated.has("exitCode") else None
    return ContainerState(
        name=node.text("name"),
        ready=node.flag("ready") is True,
        restarts=node.integer("restartCount"),
        waiting=state.get("waiting").text("reason"),
        waiting_message=state.get("waiting").text("message"),
        terminated=terminated.text("reason"),
        last_terminated=last.get("terminated").text("reason"),
        exit_code=exit_code,
    )


def _endpoints(node: Node) -> Endpoints:
    ready: list[str] = []
    not_ready: list[str] = []
    pods: list[str] = []
    ports: list[int] = []
    for subset in node.items("subsets"):
        for key, found in (("addresses", ready), ("notReadyAddresses", not_ready)):
            for address in subset.items(key):
                pod = address.get("targetRef").text("name")
                found.append(address.text("ip") + (f" ({pod})" if pod else ""))
                if pod:
                    pods.append(pod)
        ports += [port.integer("port") for port in subset.items("ports")]
    metadata = node.get("metadata")
    return Endpoints(
        name=metadata.text("name"),
        namespace=metadata.text("namespace", "default"),
        source=node.file,
        ready=tuple(ready),
        not_ready=tuple(not_ready),
        pods=tuple(pods),
        ports=tuple(dict.fromkeys(ports)),
    )


def _slice(node: Node) -> Endpoints:
    ready: list[str] = []
    not_ready: list[str] = []
    pods: list[str] = []
    for endpoint in node.items("endpoints"):
        pod = endpoint.get("targetRef").text("name")
        # conditions.ready: "nil should be interpreted as true" (EndpointConditions)
        found = not_ready if endpoint.get("conditions").flag("ready") is False else ready
        found += [
            str(address) + (f" ({pod})" if pod else "")
            for address in _strings(endpoint, "addresses")
        ]
        if pod:
            pods.append(pod)
    metadata = node.get("metadata")
    return Endpoints(
        name=metadata.strings("labels").get(SERVICE_NAME) or metadata.text("name"),
        namespace=metadata.text("namespace", "default"),
        source=node.file,
        ready=tuple(ready),
        not_ready=tuple(not_ready),
        pods=tuple(pods),
        ports=tuple(dict.fromkeys(port.integer("port") for port in node.items("ports"))),
    )


def _strings(node: Node, key: str) -> list[str]:
    value = node.value.get(key) if isinstance(node.value, dict) else None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise node.error("expected a list of strings", key)
    return value


def _event(node: Node) -> Event:
    involved = node.get("involvedObject")
    return Event(
        kind=involved.text("kind"),
        name=involved.text("name"),
        type=node.text("type"),
        reason=node.text("reason"),
        message=node.text("message"),
        count=node.integer("count", 1),
    )
