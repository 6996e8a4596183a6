"""What each kind of component is: one registry every layer reads, so a scheme is added once.

A component's kind comes from its URL scheme (``redis://`` → ``redis``; ``postgres://`` is an
alias of ``postgresql``), or is ``flow`` for a golden path of steps. Everything the rest of
faultfinder needs to know about a kind lives in its ``Scheme`` here:

- the stack file: which URL schemes name it, its default port;
- the probers: which module of ``faultfinder.probe`` climbs it, its rungs in order, and the
  fault code for running out of time at each rung (``timeout_code``) or at all;
- the answers: the code for an answer that is not the expected one, and for a client error no
  classifier knows;
- the health library and the inside view: the IETF ``componentType`` of such a dependency and
  the names apps give it in their health documents (Spring Boot calls PostgreSQL ``db``);
- ``validate``: the latency a healthy probe of this kind stays within.

Adding a scheme: a ``Scheme`` below and its prober module (``async def probe(ladder)``, and
``classify_error(target, error)`` when it has a client library of its own).
tests/unit/test_schemes.py walks every scheme through every consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The transport rungs, with the code for running out of time on each: a URL scheme climbs dns
# and tcp (and tls), a component reached through a Unix socket climbs socket instead.
TRANSPORT_TIMEOUTS: Mapping[str, str] = {
    "dns": "dns.temporary_failure",
    "tcp": "tcp.timeout",
    "socket": "socket.timeout",
    "tls": "tls.handshake_failed",
}


@dataclass(frozen=True)
class Scheme:
    """One kind of component and what every layer needs to know about it."""

    name: str  # the component kind, as in the JSON's ``kind``
    prober: str  # the module of faultfinder.probe that probes it
    rungs: tuple[str, ...]  # the layers its ladder climbs, in order
    protocol_timeout: str  # the code for running out of time on its own (last) rung
    default_port: int | None = None
    aliases: tuple[str, ...] = ()  # other URL schemes that name it
    unexpected_answer: str | None = None  # an answer that is not the expected one
    unknown_error: str | None = None  # its client's error that no classifier knows
    component_type: str = "component"  # IETF health+json componentType
    inside_names: frozenset[str] = frozenset()  # what apps call it in their health documents
    latency_bound_ms: float = 500.0  # a healthy probe of this kind on a working network

    @property
    def url_schemes(self) -> tuple[str, ...]:
        """The URL schemes that name this kind (none for a flow)."""
        return () if self.name == "flow" else (self.name, *self.aliases)

    @property
    def tls(self) -> bool:
        """TLS from the first byte, so the ladder has a ``tls`` rung and a certificate."""
        return "tls" in self.rungs

    def rungs_over(self, socket: bool) -> tuple[str, ...]:
        """The rungs of a component of this kind: through a Unix socket, ``socket`` stands for
        the ``dns`` and ``tcp`` rungs (a path needs no lookup and no port)."""
        if not socket:
            return self.rungs
        return ("socket", *(rung for rung in self.rungs if rung not in ("dns", "tcp")))

    @property
    def timeout_code(self) -> str:
        """The code of a probe of this kind that ran out of time without saying where."""
        return self.protocol_timeout

    def timeout_code_at(self, rung: str) -> str:
        """The code for running out of time on ``rung``."""
        return TRANSPORT_TIMEOUTS.get(rung, self.protocol_timeout)


_DATASTORE_NAMES = {
    "postgresql": frozenset({"db", "database", "postgres", "postgresql", "pg", "datasource"}),
    "redis": frozenset({"redis", "cache"}),
}

SCHEMES: Mapping[str, Scheme] = {
    scheme.name: scheme
    for scheme in (
        Scheme(
            "http",
            "http",
            ("dns", "tcp", "http"),
            "http.timeout",
            default_port=80,
            aliases=("http+unix",),  # http+unix://%2Fvar%2Frun%2Fapp.sock/health
            unexpected_answer="http.unexpected_body",
        ),
        Scheme(
            "https",
            "http",
            ("dns", "tcp", "tls", "http"),
            "http.timeout",
            default_port=443,
            unexpected_answer="http.unexpected_body",
        ),
        Scheme(
            "ws",
            "websocket",
            ("dns", "tcp", "websocket"),
            "http.timeout",
            default_port=80,
            unexpected_answer="ws.unexpected_message",
        ),
        Scheme(
            "wss",
            "websocket",
            ("dns", "tcp", "tls", "websocket"),
            "http.timeout",
            default_port=443,
            unexpected_answer="ws.unexpected_message",
        ),
        Scheme(
            "tcp",
            "tcp",
            ("dns", "tcp"),
            "tcp.timeout",
            component_type="system",
            latency_bound_ms=50,
        ),
        Scheme(
            "tls",
            "tls",
            ("dns", "tcp", "tls"),
            "tls.handshake_failed",
            default_port=443,
            component_type="system",
            latency_bound_ms=200,
        ),
        Scheme(
            "dns",
            "dns",
            ("dns",),
            "dns.temporary_failure",
            component_type="system",
            latency_bound_ms=50,
        ),
        Scheme(
            "postgresql",
            "postgres",
            ("dns", "tcp", "postgres"),
            "postgres.timeout",
            default_port=5432,
            aliases=("postgres",),
            unexpected_answer="postgres.unexpected_result",
            unknown_error="postgres.error",
            component_type="datastore",
            inside_names=_DATASTORE_NAMES["postgresql"],
            latency_bound_ms=100,
        ),
        Scheme(
            "redis",
            "redis",
            ("dns", "tcp", "redis"),
            "redis.timeout",
            default_port=6379,
            aliases=("unix", "redis+unix"),  # unix:///run/redis.sock?db=0, as redis-py reads it
            unexpected_answer="redis.unexpected_reply",
            unknown_error="redis.error",
            component_type="datastore",
            inside_names=_DATASTORE_NAMES["redis"],
            latency_bound_ms=50,
        ),
        Scheme(
            "rediss",
            "redis",
            ("dns", "tcp", "tls", "redis"),
            "redis.timeout",
            default_port=6379,
            unexpected_answer="redis.unexpected_reply",
            unknown_error="redis.error",
            component_type="datastore",
            inside_names=_DATASTORE_NAMES["redis"],
            latency_bound_ms=100,
        ),
        # A golden path: its steps are components of the kinds above, climbed in turn
        # (probe/flow.py); a flow that overruns every step's deadline is an HTTP timeout.
        Scheme("flow", "flow", (), "http.timeout"),
    )
}

# URL scheme (lower case) → the kind it names.
URL_SCHEMES: Mapping[str, str] = {
    url_scheme: scheme.name for scheme in SCHEMES.values() for url_scheme in scheme.url_schemes
}


def scheme(kind: str) -> Scheme:
    """The registry entry of a component kind; an unknown kind is a programming error."""
    return SCHEMES[kind]


def kind_of_url_scheme(url_scheme: str) -> str | None:
    """The kind a URL scheme names (``postgres`` → ``postgresql``), or None if unknown."""
    return URL_SCHEMES.get(url_scheme.lower())
