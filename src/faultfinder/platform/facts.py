"""What the platform files say, as frozen facts: one type per kind of object, each holding
only the fields faultfinder reads (the readers cite where each field is defined)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Condition:
    """A Knative/Kubernetes status condition: ``type``, ``status`` ("True"/"False"/"Unknown")."""

    type: str
    status: str
    reason: str = ""
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "False"

    def describe(self) -> str:
        said = ": ".join(part for part in (self.reason, self.message) if part)
        return f"{self.type}={self.status}" + (f" ({said})" if said else "")


@dataclass(frozen=True)
class SecretReference:
    """A secret a container reads (an environment variable or a mounted file)."""

    secret: str
    version: str  # "latest" or a version number
    used_as: str  # the variable or the mount path


@dataclass(frozen=True)
class Container:
    name: str
    ports: tuple[int, ...] = ()
    probe_ports: tuple[tuple[str, int], ...] = ()  # (probe, port) of its startup/liveness probes
    secrets: tuple[SecretReference, ...] = ()


@dataclass(frozen=True)
class CloudRunService:
    name: str
    source: str
    url: str = ""
    conditions: tuple[Condition, ...] = ()
    latest_created: str = ""
    latest_ready: str = ""
    connector: str = ""  # run.googleapis.com/vpc-access-connector
    egress: str = ""  # run.googleapis.com/vpc-access-egress
    direct_vpc: bool = False  # run.googleapis.com/network-interfaces
    cloudsql: tuple[str, ...] = ()  # run.googleapis.com/cloudsql-instances
    containers: tuple[Container, ...] = ()


@dataclass(frozen=True)
class CloudRunRevision:
    name: str
    service: str
    source: str
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class SqlInstance:
    name: str
    source: str
    connection_name: str = ""
    state: str = ""
    addresses: tuple[tuple[str, str], ...] = ()  # (type, address): PRIMARY, PRIVATE, OUTGOING
    require_ssl: bool | None = None
    ssl_mode: str = ""


@dataclass(frozen=True)
class Connector:
    name: str  # the short name (the last part of projects/*/locations/*/connectors/*)
    source: str
    state: str = ""
    min_instances: int = 0
    max_instances: int = 0
    ip_range: str = ""


@dataclass(frozen=True)
class SecretVersion:
    secret: str
    version: str
    state: str
    source: str


@dataclass(frozen=True)
class ContainerState:
    """One container of a pod, as its status says."""

    name: str
    ready: bool
    restarts: int = 0
    waiting: str = ""  # state.waiting.reason: CrashLoopBackOff, ImagePullBackOff …
    waiting_message: str = ""
    terminated: str = ""  # state.terminated.reason
    last_terminated: str = ""  # lastState.terminated.reason: OOMKilled, Error …
    exit_code: int | None = None


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    source: str
    labels: dict[str, str] = field(default_factory=dict)
    phase: str = ""
    conditions: tuple[Condition, ...] = ()
    containers: tuple[ContainerState, ...] = ()
    ports: tuple[int, ...] = ()  # every containerPort its spec declares


@dataclass(frozen=True)
class Endpoints:
    name: str
    namespace: str
    source: str
    ready: tuple[str, ...] = ()  # "ip (pod name)"
    not_ready: tuple[str, ...] = ()
    pods: tuple[str, ...] = ()  # the pods they point at (targetRef), ready or not
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class Event:
    kind: str  # the involved object's kind
    name: str  # and name
    type: str  # Normal, Warning
    reason: str
    message: str
    count: int = 1


@dataclass(frozen=True)
class ComposeContainer:
    service: str
    name: str
    source: str
    state: str = ""  # running, exited, restarting, created, paused, dead
    health: str = ""  # healthy, unhealthy, starting, ""
    exit_code: int = 0
    oom_killed: bool = False  # docker inspect's State.OOMKilled
    published: tuple[tuple[int, int], ...] = ()  # (published port, target port)


@dataclass(frozen=True)
class PlatformFacts:
    """Everything read from every platform file given."""

    services: tuple[CloudRunService, ...] = ()
    revisions: tuple[CloudRunRevision, ...] = ()
    sql_instances: tuple[SqlInstance, ...] = ()
    connectors: tuple[Connector, ...] = ()
    secret_versions: tuple[SecretVersion, ...] = ()
    pods: tuple[Pod, ...] = ()
    endpoints: tuple[Endpoints, ...] = ()
    events: tuple[Event, ...] = ()
    containers: tuple[ComposeContainer, ...] = ()

    def __add__(self, other: PlatformFacts) -> PlatformFacts:
        return PlatformFacts(
            *(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__)
        )
