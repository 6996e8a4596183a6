"""A directory of Kubernetes manifests → components: each Service (its kind told by the image
of the workload it selects, its address its cluster DNS name), each Ingress host in front of
the Services it routes to (``via``), ``depends_on`` from the workloads' environment, and
``health: true`` where a readiness probe has an HTTP path.

Fields as the Kubernetes API reference defines them: Service ``spec.selector``,
``spec.ports[].port``/``targetPort``; Deployment, StatefulSet and DaemonSet
``spec.template.metadata.labels`` and ``spec.template.spec.containers[]`` (``image``, ``env[]``
with ``value`` or ``valueFrom.secretKeyRef``, ``readinessProbe.httpGet.path``); Ingress
``spec.rules[].host``, ``http.paths[].path``, ``backend.service.name``, ``spec.tls[].hosts``.
"""

from __future__ import annotations

from typing import Any

from faultfinder.scaffold import images
from faultfinder.scaffold.compose import port_number
from faultfinder.scaffold.connections import connections
from faultfinder.scaffold.model import Draft, Scaffold

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


def scaffold(documents: list[dict[str, Any]], source: str, name: str) -> Scaffold:
    result = Scaffold(name=name, source=source)
    workloads = [d for d in documents if d.get("kind") in WORKLOADS]
    services = [d for d in documents if d.get("kind") == "Service"]
    service_names: dict[str, str] = {}  # every DNS form of a Service → its component
    selected_by: dict[str, list[dict[str, Any]]] = {}
    for service in services:
        metadata = _map(service.get("metadata"))
        service_name = str(metadata.get("name") or "service")
        namespace = str(metadata.get("namespace") or "default")
        selected = [w for w in workloads if _selects(_map(service.get("spec")).get("selector"), w)]
        draft = _service(service, service_name, namespace, selected)
        if draft is None:
            result.skipped.append(f"Service {service_name}: no TCP port")
            continue
        added = result.add(service_name, draft)
        selected_by[added] = selected
        for form in (
            service_name,
            f"{service_name}.{namespace}",
            f"{service_name}.{namespace}.svc",
            f"{service_name}.{namespace}.svc.cluster.local",
        ):
            service_names[form] = added
    # Every Service is known before any environment is read: a workload may name one below it.
    for component, selected in selected_by.items():
        draft = result.components[component]
        for workload in selected:
            _dependencies(result, draft, workload, service_names)
        draft.depends_on = [d for d in dict.fromkeys(draft.depends_on) if d != component]
    for ingress in (d for d in documents if d.get("kind") == "Ingress"):
        _ingress(result, ingress, service_names)
    return result


def _service(
    service: dict[str, Any], name: str, namespace: str, selected: list[dict[str, Any]]
) -> Draft | None:
    ports = [
        p
        for p in _seq(_map(service.get("spec")).get("ports"))
        if isinstance(p, dict)
        and p.get("protocol", "TCP") == "TCP"
        and port_number(str(p.get("port")))
    ]
    if not ports:
        return None
    port = port_number(str(ports[0]["port"]))
    host = f"{name}.{namespace}.svc.cluster.local"
    containers = [c for w in selected for c in _containers(w)]
    image = str(containers[0].get("image") or "") if containers else ""
    kind = images.family(image) if image else "http"
    if "grpc" in f"{ports[0].get('name', '')} {ports[0].get('appProtocol', '')}".lower():
        kind = "tcp"  # gRPC speaks HTTP/2 only: faultfinder can reach its port, not call it
    comment = f"Service {namespace}/{name}" + (f" (image {image})" if image else "")
    note = "a cluster DNS name: it resolves inside the cluster (run faultfinder there)"
    if kind == "postgresql":
        environment = _environment(containers[0])
        user = environment.get("POSTGRES_USER") or "postgres"
        password = ":${POSTGRES_PASSWORD}" if "POSTGRES_PASSWORD" in environment else ""
        database = environment.get("POSTGRES_DB") or user
        url = f"postgresql://{user}{password}@{host}:{port}/{database}"
        return Draft(url=url, comment=comment, notes=[note])
    if kind == "redis":
        return Draft(url=f"redis://{host}:{port}/0", comment=comment, notes=[note])
    if kind == "tcp":
        return Draft(url=f"tcp://{host}:{port}", comment=comment, notes=[note])
    path = next((p for c in containers if (p := _readiness_path(c))), "")
    draft = Draft(url=f"http://{host}:{port}{path or '/'}", comment=comment, notes=[note])
    draft.health = bool(path)
    draft.critical = kind == "proxy"
    return draft


def _dependencies(
    result: Scaffold, draft: Draft, workload: dict[str, Any], service_names: dict[str, str]
) -> None:
    for container in _containers(workload):
        for connection in connections(_environment(container)):
            if connection.host in service_names:
                draft.depends_on.append(service_names[connection.host])
                continue
            added = result.add(
                connection.name,
                Draft(url=connection.url, comment=f"from {connection.variable} in its environment"),
            )
            result.variables |= connection.references
            draft.depends_on.append(added)


def _ingress(result: Scaffold, ingress: dict[str, Any], service_names: dict[str, str]) -> None:
    spec = _map(ingress.get("spec"))
    secure = {
        str(h) for t in _seq(spec.get("tls")) if isinstance(t, dict) for h in _seq(t.get("hosts"))
    }
    name = str(_map(ingress.get("metadata")).get("name") or "ingress")
    for rule in _seq(spec.get("rules")):
        if not isinstance(rule, dict) or not rule.get("host"):
            continue
        host = str(rule["host"])
        behind = []
        for path in _seq(_map(rule.get("http")).get("paths")):
            backend = _map(_map(_map(path).get("backend")).get("service")).get("name")
            if backend and str(backend) in service_names:
                behind.append(service_names[str(backend)])
        scheme = "https" if host in secure else "http"
        draft = Draft(
            url=f"{scheme}://{host}/",
            comment=f"Ingress {name}, host {host}",
            via=list(dict.fromkeys(behind)),
            critical=True,
        )
        result.add(host.split(".")[0], draft)


def _selects(selector: object, workload: dict[str, Any]) -> bool:
    if not isinstance(selector, dict) or not selector:
        return False
    template = _map(_map(workload.get("spec")).get("template"))
    labels = _map(_map(template.get("metadata")).get("labels"))
    return all(labels.get(key) == value for key, value in selector.items())


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    template = _map(_map(workload.get("spec")).get("template"))
    return [c for c in _seq(_map(template.get("spec")).get("containers")) if isinstance(c, dict)]


def _environment(container: dict[str, Any]) -> dict[str, str | None]:
    """``env[]``: a ``value`` as written; ``valueFrom`` (a Secret, a ConfigMap) is not known."""
    return {
        str(env["name"]): None if "valueFrom" in env else str(env.get("value", ""))
        for env in _seq(container.get("env"))
        if isinstance(env, dict) and env.get("name")
    }


def _readiness_path(container: dict[str, Any]) -> str:
    for probe in ("readinessProbe", "startupProbe", "livenessProbe"):
        path = _map(_map(container.get(probe)).get("httpGet")).get("path")
        if path:
            return str(path)
    return ""


def _map(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seq(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
