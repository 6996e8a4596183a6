"""A stack file, resolved: each component with its kind, parsed URL, deadline and options."""

from __future__ import annotations

import functools
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict

from faultfinder.config.spec import (
    AlertSpec,
    ComponentSpec,
    HistorySpec,
    LogsSpec,
    TlsOptions,
    ValidationSpec,
)
from faultfinder.redact import Redactor, redact_url
from faultfinder.schemes import Scheme, scheme


class Component(BaseModel):
    """One component, resolved: its kind, parsed URL, deadline and options."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: str
    url: str
    spec: ComponentSpec
    timeout: float
    tls: TlsOptions
    interval: float = 30.0
    failure_threshold: int = 3
    success_threshold: int = 2

    @property
    def parts(self) -> SplitResult:
        return _split(self.url)

    @property
    def host(self) -> str:
        return self.parts.hostname or ""

    @property
    def scheme(self) -> Scheme:
        """What its kind means to every layer (``faultfinder.schemes``)."""
        return scheme(self.kind)

    @property
    def port(self) -> int:
        return self.parts.port or self.scheme.default_port or 0

    @property
    def socket_path(self) -> str | None:
        """The Unix socket it is reached through (``unix://``, ``redis+unix://``,
        ``http+unix://``, PostgreSQL's ``?host=/dir``), or None for TCP."""
        return socket_path(self.kind, self.url)

    @property
    def rungs(self) -> tuple[str, ...]:
        """The layers its probe climbs: its kind's, with ``socket`` for a Unix socket."""
        return self.scheme.rungs_over(socket=self.socket_path is not None)

    @property
    def display_url(self) -> str:
        """The URL with its password and secret-looking query values masked; for a flow, its
        steps in order."""
        if self.spec.flow is not None:
            return "flow: " + " → ".join(str(step.name) for step in self.spec.flow.steps)
        return redact_url(self.url)

    @property
    def category(self) -> str:
        """Its ``category`` for ``validate``; without one, its kind (``redis``, ``https``)."""
        return self.spec.category or self.kind


class Stack(BaseModel):
    """A validated stack file."""

    model_config = ConfigDict(frozen=True, ignored_types=(functools.cached_property,))

    name: str
    path: str
    components: dict[str, Component]
    secrets: frozenset[str] = frozenset()
    validation: ValidationSpec = ValidationSpec()
    alerts: tuple[AlertSpec, ...] = ()
    history: HistorySpec = HistorySpec()
    logs: LogsSpec = LogsSpec()

    def component(self, name: str) -> Component:
        return self.components[name]

    @functools.cached_property
    def redactor(self) -> Redactor:
        """Masks this stack's secrets: every output about it goes through this."""
        return Redactor(self.secrets)


@functools.lru_cache(maxsize=8192)
def socket_path(kind: str, url: str) -> str | None:
    """The Unix socket a URL names, the way each client library reads it:

    - redis-py: ``unix:///run/redis.sock?db=0`` (and ``redis+unix://``): the path;
    - requests-unixsocket and httpx users: ``http+unix://%2Frun%2Fapp.sock/health``: the host,
      percent-encoded;
    - libpq and asyncpg: ``postgresql://user@/db?host=/cloudsql/PROJECT:REGION:INSTANCE`` (or a
      percent-encoded host): a directory holding ``.s.PGSQL.<port>``.
    """
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme in ("unix", "redis+unix"):
        return unquote(parts.path) or None
    if scheme == "http+unix":
        return unquote(parts.netloc.rpartition("@")[2]) or None
    if kind != "postgresql":
        return None
    options = parse_qs(parts.query)
    host = parts.netloc.rpartition("@")[2]
    written = unquote(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)
    directory = options.get("host", [""])[0] or written
    if not directory.startswith("/"):
        return None
    port = options.get("port", [""])[0] or str(parts.port or 5432)
    return f"{directory.rstrip('/')}/.s.PGSQL.{port}"


@functools.lru_cache(maxsize=8192)
def _split(url: str) -> SplitResult:
    # host and port are read on every probe, 200 a second in `watch`; keyed on the URL text,
    # so a copy of a component with another URL never sees a stale answer
    return urlsplit(url)
