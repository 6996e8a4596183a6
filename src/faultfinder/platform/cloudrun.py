"""Cloud Run: ``gcloud run services describe SERVICE --format=export|json`` and ``gcloud run
revisions list --format=json``.

Fields as the Cloud Run Admin API v1 defines them, Knative-shaped
(https://cloud.google.com/run/docs/reference/rest/v1/namespaces.services#Service,
https://cloud.google.com/run/docs/reference/rest/v1/namespaces.revisions#Revision): Service and
Revision carry ``metadata``, ``spec`` and ``status``; ``status.conditions[]`` has ``type``
(Ready, ConfigurationsReady, RoutesReady; a revision's Ready, ContainerHealthy,
ResourcesAvailable), ``status`` ("True", "False", "Unknown"), ``reason`` and ``message``. The
revision template's annotations are Cloud Run's documented settings
(https://cloud.google.com/run/docs/reference/rest/v1/RevisionTemplate#ObjectMeta):
``run.googleapis.com/vpc-access-connector``, ``run.googleapis.com/vpc-access-egress``
(``all-traffic`` or ``private-ranges-only``), ``run.googleapis.com/network-interfaces`` (Direct
VPC egress) and ``run.googleapis.com/cloudsql-instances`` (comma-separated connection names).
"""

from __future__ import annotations

from faultfinder.platform._fields import Node
from faultfinder.platform.facts import (
    CloudRunRevision,
    CloudRunService,
    Condition,
    Container,
    PlatformFacts,
    SecretReference,
)

API_VERSION = "serving.knative.dev/v1"
CONNECTOR = "run.googleapis.com/vpc-access-connector"
EGRESS = "run.googleapis.com/vpc-access-egress"
DIRECT_VPC = "run.googleapis.com/network-interfaces"
CLOUDSQL = "run.googleapis.com/cloudsql-instances"
# Container.startupProbe / livenessProbe: tcpSocket.port, httpGet.port, grpc.port (Probe).
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
PROBE_ACTIONS = ("tcpSocket", "httpGet", "grpc")
# Knative's default when a container declares no port (Cloud Run's $PORT default).
DEFAULT_PORT = 8080


def recognises(node: Node) -> bool:
    value = node.value
    return (
        isinstance(value, dict)
        and str(value.get("apiVersion", "")).startswith("serving.knative.dev/")
        and value.get("kind") in ("Service", "Revision")
    )


def read(node: Node) -> PlatformFacts:
    if node.text("kind") == "Revision":
        return PlatformFacts(revisions=(_revision(node),))
    return PlatformFacts(services=(_service(node),))


def _service(node: Node) -> CloudRunService:
    metadata, spec, status = node.get("metadata"), node.get("spec"), node.get("status")
    template = spec.get("template")
    annotations = template.get("metadata").strings("annotations")
    connector = annotations.get(CONNECTOR, "")
    cloudsql = annotations.get(CLOUDSQL, "")
    return CloudRunService(
        name=metadata.text("name"),
        source=node.file,
        url=status.text("url") or status.get("address").text("url"),
        conditions=conditions(status),
        latest_created=status.text("latestCreatedRevisionName"),
        latest_ready=status.text("latestReadyRevisionName"),
        # The annotation holds a short name or projects/P/locations/R/connectors/NAME.
        connector=connector.rsplit("/", 1)[-1],
        egress=annotations.get(EGRESS, ""),
        direct_vpc=bool(annotations.get(DIRECT_VPC)),
        cloudsql=tuple(name.strip() for name in cloudsql.split(",") if name.strip()),
        containers=_containers(template.get("spec")),
    )


def _revision(node: Node) -> CloudRunRevision:
    metadata = node.get("metadata")
    return CloudRunRevision(
        name=metadata.text("name"),
        # Revision.metadata.labels["serving.knative.dev/service"] names its service.
        service=metadata.strings("labels").get("serving.knative.dev/service", ""),
        source=node.file,
        conditions=conditions(node.get("status")),
    )


def conditions(status: Node) -> tuple[Condition, ...]:
    """``status.conditions[]`` (Knative's and Kubernetes' shape alike)."""
    return tuple(
        Condition(
            type=item.text("type"),
            status=item.text("status"),
            reason=item.text("reason"),
            message=item.text("message"),
        )
        for item in status.items("conditions")
    )


def _containers(spec: Node) -> tuple[Container, ...]:
    """RevisionSpec.containers[]: ports[].containerPort, env[].valueFrom.secretKeyRef
    (``name`` is the secret, ``key`` its version), probes' ports; volumes[].secret."""
    volumes = {volume.text("name"): volume.get("secret") for volume in spec.items("volumes")}
    found = []
    for container in spec.items("containers"):
        ports = tuple(port.integer("containerPort") for port in container.items("ports"))
        secrets = [
            SecretReference(
                secret=ref.text("name"), version=ref.text("key", "latest"), used_as=env.text("name")
            )
            for env in container.items("env")
            if (ref := env.get("valueFrom").get("secretKeyRef")).has("name")
        ]
        for mount in container.items("volumeMounts"):
            secret = volumes.get(mount.text("name"))
            if secret is None or not secret.has("secretName"):
                continue
            versions = [item.text("key", "latest") for item in secret.items("items")] or ["latest"]
            secrets += [
                SecretReference(secret.text("secretName"), version, mount.text("mountPath"))
                for version in versions
            ]
        probe_ports = tuple(
            (probe, container.get(probe).get(action).integer("port"))
            for probe in PROBES
            for action in PROBE_ACTIONS
            if container.get(probe).get(action).has("port")
        )
        found.append(
            Container(
                name=container.text("name"),
                ports=ports or (DEFAULT_PORT,),
                probe_ports=probe_ports,
                secrets=tuple(secrets),
            )
        )
    return tuple(found)
