"""A Cloud Run service export (``gcloud run services describe SERVICE --format=export``) →
the service as a component, and what its environment and Cloud SQL connections say it needs.

Fields as the Cloud Run Admin API v1 defines a Service (cited in
``faultfinder.platform.cloudrun``): ``metadata.name``, ``status.url`` (absent from an export),
the template's ``run.googleapis.com/cloudsql-instances`` annotation, and each container's
``env[]`` (``value``, or ``valueFrom.secretKeyRef``: a secret, never read) and probes'
``httpGet.path``.
"""

from __future__ import annotations

from typing import Any

from faultfinder.scaffold import probes
from faultfinder.scaffold.connections import connections
from faultfinder.scaffold.model import Draft, Scaffold


def recognises(document: object) -> bool:
    return (
        isinstance(document, dict)
        and str(document.get("apiVersion", "")).startswith("serving.knative.dev/")
        and document.get("kind") == "Service"
    )


def scaffold(document: dict[str, Any], source: str) -> Scaffold:
    metadata = _mapping(document.get("metadata"))
    service = str(metadata.get("name") or "service")
    result = Scaffold(name=service, source=source)
    template = _mapping(_mapping(document.get("spec")).get("template"))
    annotations = _mapping(_mapping(template.get("metadata")).get("annotations"))
    containers = [
        c
        for c in _sequence(_mapping(template.get("spec")).get("containers"))
        if isinstance(c, dict)
    ]
    environment: dict[str, str | None] = {}
    path, health = "/", False
    for container in containers:
        for env in _sequence(container.get("env")):
            if isinstance(env, dict) and env.get("name"):
                # a secretKeyRef's value is never known here: the variable stands for it
                environment[str(env["name"])] = (
                    None if "valueFrom" in env else str(env.get("value", ""))
                )
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = _mapping(_mapping(container.get(probe)).get("httpGet"))
            if get.get("path") and probes.is_health_path(str(get["path"])) and not health:
                path, health = str(get["path"]), True
    url = str(_mapping(document.get("status")).get("url") or "")
    variable = ""
    if not url:  # an export has no status: the URL comes from the environment
        variable = service.upper().replace("-", "_") + "_URL"
        url = f"${{{variable}}}"
        result.variables.add(variable)
    app = Draft(url=url.rstrip("/") + path, comment=f"Cloud Run service {service}", health=health)
    if variable:
        app.notes.append(
            f"set {variable} to the service's URL: gcloud run services describe {service} "
            "--format='value(status.url)'"
        )
    result.components[service] = app
    for name in str(annotations.get("run.googleapis.com/cloudsql-instances") or "").split(","):
        if name.strip():
            environment.setdefault("CLOUD_SQL_CONNECTION_NAME", name.strip())
    for connection in connections(environment):
        added = result.add(
            connection.name,
            Draft(url=connection.url, comment=f"from {service}'s {connection.variable}"),
        )
        result.variables |= connection.references
        app.depends_on.append(added)
    return result


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
