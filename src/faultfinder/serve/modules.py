"""blackbox_exporter's modules → faultfinder components: what ``/probe?module=…`` runs.

The built-in modules carry blackbox's names for its common probes (``http_2xx``,
``http_post_2xx``, ``tcp_connect``) and two of ours (``tls_connect``: TCP with a verified
handshake; ``dns``: resolve a name as the application would, ``prober: resolve``). More come
from a modules file in blackbox's shape (a subset of its keys; unknown keys are errors naming
file:line:key); ``prober: dns`` is blackbox's, a query to the target as a DNS server:

.. code-block:: yaml

    modules:
      internal_api:
        prober: http
        timeout: 3s
        http: {method: GET, valid_status_codes: [200], tls_config: {ca_file: /etc/ca.pem}}
      zone_serial:
        prober: dns
        dns: {query_name: example.com, query_type: SOA, transport_protocol: tcp}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from faultfinder.config import Component, Duration, _yaml, component_from_url
from faultfinder.errors import ConfigError, UsageError
from faultfinder.probe import Prober, dns_server
from faultfinder.probe.dns_server import (
    QUERY_CLASSES,
    QUERY_TYPES,
    RCODES,
    DnsWireError,
    encode_name,
)

# Prometheus sends its scrape timeout; blackbox keeps this much of it for the reply.
TIMEOUT_OFFSET = 0.5
# Without a scrape timeout header or a module timeout: Prometheus's default scrape timeout
# (10 s) less the offset, rather than blackbox's 120 s nobody waits for.
DEFAULT_TIMEOUT = 9.5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Strict):
    ca_file: str | None = None
    server_name: str | None = None


class HttpOptions(_Strict):
    method: str = "GET"
    valid_status_codes: tuple[int, ...] = ()  # empty: any 2xx/3xx (redirects are not followed)
    headers: dict[str, str] = Field(default_factory=dict)
    tls_config: TlsConfig = TlsConfig()


class TcpOptions(_Strict):
    tls: bool = False
    tls_config: TlsConfig = TlsConfig()


class DnsOptions(_Strict):
    """blackbox's ``dns:`` keys (config/config.go, DNSProbe) that faultfinder reads; the rest
    (validate_*_rrs, dns_over_tls, source_ip_address …) are unknown keys, so an option that
    would not apply is an error, never silently ignored."""

    query_name: str = ""  # required: blackbox's "query name must be set for DNS module"
    query_type: str = "ANY"  # blackbox's default
    query_class: str = "IN"
    valid_rcodes: tuple[str, ...] = ("NOERROR",)  # blackbox: only NOERROR when not given
    transport_protocol: Literal["udp", "tcp"] = "udp"

    @field_validator("query_name")
    @classmethod
    def _sendable_name(cls, value: str) -> str:
        try:
            encode_name(value)
        except DnsWireError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("query_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _one_of(value, QUERY_TYPES, "query type")

    @field_validator("query_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        return _one_of(value, QUERY_CLASSES, "query class")

    @field_validator("valid_rcodes")
    @classmethod
    def _known_rcodes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_one_of(rcode, RCODES, "rcode") for rcode in value)

    def question(self) -> dns_server.Question:
        return dns_server.Question(
            name=self.query_name,
            query_type=QUERY_TYPES[self.query_type],
            query_class=QUERY_CLASSES[self.query_class],
            valid_rcodes=frozenset(self.valid_rcodes),
            tcp=self.transport_protocol == "tcp",
            soa=self.query_type == "SOA",
        )


def _one_of(value: str, known: Mapping[str, int], what: str) -> str:
    if value.upper() not in known:
        raise ValueError(f"unknown {what} {value!r}: one of {', '.join(known)}")
    return value.upper()


class Module(_Strict):
    """One module: which prober, its timeout and its options, as in blackbox's config."""

    # ``faultfinder``: the target is a URL of any scheme faultfinder probes (postgresql://…);
    # ``resolve``: the target is a name, looked up with getaddrinfo (the built-in ``dns``).
    prober: Literal["http", "tcp", "dns", "resolve", "faultfinder"]
    timeout: Duration | None = None
    http: HttpOptions = HttpOptions()
    tcp: TcpOptions = TcpOptions()
    dns: DnsOptions = DnsOptions()

    @model_validator(mode="after")
    def _dns_has_a_question(self) -> Module:
        if self.prober == "dns" and not self.dns.query_name:
            raise ValueError(
                "query name must be set for DNS module (dns.query_name; `prober: resolve` "
                "looks the target up with getaddrinfo instead)"
            )
        return self


BUILTIN: dict[str, Module] = {
    "http_2xx": Module(prober="http"),
    "http_post_2xx": Module(prober="http", http=HttpOptions(method="POST")),
    "tcp_connect": Module(prober="tcp"),
    "tls_connect": Module(prober="tcp", tcp=TcpOptions(tls=True)),
    "dns": Module(prober="resolve"),
    "faultfinder": Module(prober="faultfinder"),
}


class _ModulesFile(_Strict):
    modules: dict[str, Module]


def load_modules(path: str | Path) -> dict[str, Module]:
    """The built-in modules plus those of a modules file (which may replace a built-in)."""
    file = str(path)
    try:
        document = _yaml.load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the modules file: {error}", file=file) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=file) from None
    try:
        parsed = _ModulesFile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(part for part in first["loc"] if isinstance(part, int | str))
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(
            message.removeprefix("Value error, "),
            file=file,
            line=_yaml.line_of(document, where),
            key=".".join(map(str, where)),
        ) from None
    return {**BUILTIN, **parsed.modules}


class Modules:
    """The modules ``/probe`` knows, and the components their targets make (cached)."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        self.modules = dict(BUILTIN if modules is None else modules)
        # Validating a component costs more than probing a local port: build each only once.
        self.component = functools.lru_cache(maxsize=1024)(self._component)

    def timeout(self, name: str, scrape_timeout: str | None) -> float:
        """The probe's deadline: the scrape timeout less the offset, capped by the module's."""
        module = self._module(name)
        limit = module.timeout if module.timeout is not None else DEFAULT_TIMEOUT
        if scrape_timeout is None:
            return limit
        try:
            seconds = float(scrape_timeout) - TIMEOUT_OFFSET
        except ValueError:
            raise UsageError(f"cannot parse the scrape timeout {scrape_timeout!r}") from None
        return min(limit, seconds) if seconds > 0 else limit

    def _module(self, name: str) -> Module:
        try:
            return self.modules[name]
        except KeyError:
            raise UsageError(f"Unknown module {name!r}") from None

    def climb(self, name: str) -> Prober | None:
        """What probes this module's components, when not their kind's own prober: a dns
        module's question to the server at the target."""
        module = self._module(name)
        if module.prober != "dns":
            return None
        question = module.dns.question()
        return lambda ladder: dns_server.probe(ladder, question)

    def _component(self, name: str, target: str, hostname: str | None, timeout: float) -> Component:
        module = self._module(name)
        url, options = _url_and_options(module, target.strip(), hostname)
        try:
            return component_from_url(name, url, timeout=timeout, **options)
        except ConfigError as error:
            raise UsageError(f"bad target {target!r} for module {name!r}: {error.reason}") from None


def _url_and_options(
    module: Module, target: str, hostname: str | None
) -> tuple[str, dict[str, Any]]:
    """blackbox's target forms: http(s) URLs (``http://`` assumed), ``host:port`` for TCP."""
    if not target:
        raise UsageError("Target parameter is missing")
    if module.prober == "faultfinder":
        return target, {}
    if module.prober == "resolve":
        return f"dns://{target.removeprefix('dns://')}", {}
    if module.prober == "dns":
        return f"tcp://{_dns_server(target)}", {}
    if module.prober == "http":
        url = target if target.startswith(("http://", "https://")) else f"http://{target}"
        options: dict[str, Any] = {"method": module.http.method}
        headers = dict(module.http.headers)
        if hostname:  # blackbox's `hostname` parameter: the Host header and the SNI name
            headers["Host"] = hostname
        if headers:
            options["headers"] = headers
        if module.http.valid_status_codes:
            options["expect"] = {"status": list(module.http.valid_status_codes)}
        return url, {**options, **_tls(module.http.tls_config, hostname)}
    if "://" in target or not target.rpartition(":")[2].isdigit():
        raise UsageError(f"a {module.prober} target is host:port, not {target!r}")
    scheme = "tls" if module.tcp.tls else "tcp"
    return f"{scheme}://{target}", _tls(module.tcp.tls_config, hostname)


def _dns_server(target: str) -> str:
    """blackbox's dns targets: ``host:port``, or a host alone for port 53 (Go's SplitHostPort:
    an IPv6 address with a port is bracketed, one without is not)."""
    if target.startswith("["):
        return target if "]:" in target else f"{target}:53"
    host, colon, _port = target.rpartition(":")
    if not colon:
        return f"{target}:53"
    return f"[{target}]:53" if ":" in host else target


def _tls(config: TlsConfig, hostname: str | None) -> dict[str, Any]:
    options = {"ca": config.ca_file, "server_name": config.server_name or hostname}
    present = {key: value for key, value in options.items() if value}
    return {"tls": present} if present else {}
