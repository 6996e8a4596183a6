"""The log-side catalogue: a log line's text → the fault code it means, first match wins.

The codes are the probes' codes where a line means the same thing (``dns.temporary_failure``
for redis-py's "Error -3 connecting to …"), plus log-only codes (``platform.*`` and some
``app.*``), all in ``faultfinder.faults``. The patterns are narrower than the probers' error
texts in ``classify/texts.py``: there the text is a server's reply to our own probe, here it
is any line an application wrote, so every pattern carries its context ("password
authentication failed for user", never a bare "invalid password").

Patterns are written in the subset that Python's ``re``, RE2 and POSIX ``grep -E`` all read the
same way (groups, classes, ``\\b``, bounded repeats; no look-arounds, no ``\\d``), so the
benchmark can hand the very same patterns to ``grep -E -i``.

Each signature also names its ``keywords``: lower-case literals, one of which is in every line
the pattern matches. The scanner's prefilter searches only for keywords (and the generic error
words below), so most lines of a log cost one search over a large block; a test checks every
sample line the signatures match passes the prefilter.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from faultfinder.classify.engine import compile_set


@dataclass(frozen=True)
class Signature:
    code: str
    pattern: str  # case-insensitive; see the module docstring for the dialect
    keywords: tuple[str, ...]  # lower-case literals the pattern cannot match without
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))


# Most specific first: a pool timeout says "connection timed out", an nginx read timeout says
# "Connection timed out" too, so both come before tcp.timeout.
SIGNATURES: tuple[Signature, ...] = (
    # Cloud Run (both wordings in use), Cloud Run's startup probe, Kubernetes crash loops
    Signature(
        "platform.startup_failed",
        r"failed to start and (then )?listen on the port"
        r"|STARTUP (TCP|HTTP|GRPC) probe failed"
        r"|failed the configured startup probe"
        r"|Back-off restarting failed container|CrashLoopBackOff",
        (
            "listen on the port",
            "probe failed",
            "startup probe",
            "back-off restarting",
            "crashloopbackoff",
        ),
    ),
    # Cloud Run, Kubernetes (pod status and kubelet events), the kernel's OOM killer, App Engine
    Signature(
        "platform.memory_exceeded",
        r"Memory limit of [0-9.]+ ?[A-Za-z]* exceeded"
        r"|\bOOMKill(ed|ing)\b"
        r"|Memory cgroup out of memory|Out of memory: Kill(ed)? process|\boom-kill:"
        r"|Exceeded (soft|hard) (private )?memory limit",
        ("memory limit", "oomkill", "out of memory", "oom-kill"),
    ),
    # SQLAlchemy's QueuePool, HikariCP
    Signature(
        "app.pool_exhausted",
        r"QueuePool limit of size [0-9]+ overflow -?[0-9]+ reached"
        r"|Connection is not available, request timed out after",
        ("queuepool limit", "connection is not available"),
    ),
    # nginx reading the response, Envoy (while *connecting* it is the upstream's tcp.timeout)
    Signature(
        "proxy.upstream_timeout",
        r"upstream timed out .{0,60}while (reading|sending)|upstream request timeout",
        ("upstream timed out", "upstream request timeout"),
    ),
    # nginx with every server of an upstream block down, Envoy, HAProxy
    Signature(
        "proxy.no_healthy_upstream",
        r"no live upstreams|no healthy upstream|has no server available",
        ("no live upstreams", "no healthy upstream", "has no server available"),
    ),
    Signature(
        "postgres.too_many_connections",
        r"too many clients already|remaining connection slots are reserved"
        r"|too many connections for (role|database)",
        ("too many clients", "connection slots are reserved", "too many connections for"),
    ),
    Signature(
        "postgres.starting_up",
        r"the database system is (starting up|shutting down|in recovery mode"
        r"|not (yet )?accepting connections)",
        ("the database system is",),
    ),
    Signature(
        "postgres.auth_failed",
        r"password authentication failed for user|no pg_hba\.conf entry for",
        ("password authentication failed", "pg_hba.conf entry"),
    ),
    Signature(
        "postgres.database_missing",
        r"database \"[^\"]*\" does not exist",
        ("does not exist",),
    ),
    Signature(
        "redis.auth_failed",
        r"\bNOAUTH\b|\bWRONGPASS\b|invalid username-password pair"
        r"|AUTH <password> called without any password configured"
        r"|redis\.exceptions\.AuthenticationError",  # redis-py drops the NOAUTH prefix
        (
            "noauth",
            "wrongpass",
            "username-password pair",
            "called without any password",
            "redis.exceptions.authenticationerror",
        ),
    ),
    Signature(
        "redis.loading",
        r"Redis is loading the dataset|\bLOADING Redis\b",
        ("is loading the dataset", "loading redis"),
    ),
    Signature(
        "redis.oom",
        r"OOM command not allowed|command not allowed when used memory",
        ("command not allowed",),
    ),
    Signature(
        "redis.readonly",
        r"You can't write against a read only replica|\bREADONLY You\b",
        ("read only replica", "readonly you"),
    ),
    Signature(
        "redis.max_clients",
        r"max number of clients reached",
        ("max number of clients",),
    ),
    # redis-py's words for a server that accepted the connection and then never answered
    Signature(
        "redis.timeout",
        r"Timeout reading from socket|Timeout reading from [^ ]+:[0-9]+",
        ("timeout reading from",),
    ),
    # files (EACCES), PostgreSQL grants, Google Cloud IAM, AWS
    Signature(
        "app.permission_denied",
        r"permission denied|PERMISSION_DENIED|Permission '[^']*' denied|\bAccessDenied",
        ("permission denied", "permission_denied", "permission '", "accessdenied"),
    ),
    Signature(
        "tls.expired",
        r"certificate has expired|certificate is not yet valid|CERT_HAS_EXPIRED",
        ("certificate has expired", "certificate is not yet valid", "cert_has_expired"),
    ),
    Signature(
        "tls.hostname_mismatch",
        r"Hostname mismatch|certificate is not valid for|ERR_TLS_CERT_ALTNAME_INVALID"
        r"|certificate is valid for [^ ]+, not|doesn't match either of|IP address mismatch",
        (
            "hostname mismatch",
            "certificate is not valid for",
            "altname_invalid",
            "certificate is valid for",
            "match either of",
            "ip address mismatch",
        ),
    ),
    Signature(
        "tls.untrusted",
        r"self[- ]signed certificate|unable to get local issuer certificate"
        r"|certificate signed by unknown authority|unable to verify the first certificate"
        r"|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT|certificate verify failed",
        (
            "signed certificate",
            "local issuer",
            "unknown authority",
            "verify the first certificate",
            "unable_to_verify",
            "self_signed_cert",
            "certificate verify failed",
        ),
    ),
    # a client speaking the wrong protocol to a port, in the client's words (OpenSSL's
    # WRONG_VERSION_NUMBER: the hello was answered with plain bytes) and in the servers':
    # PostgreSQL (postmaster.c), Redis (networking.c's cross-protocol guard), nginx
    Signature(
        "protocol.mismatch",
        r"WRONG_VERSION_NUMBER|wrong version number|invalid length of startup packet"
        r"|Possible SECURITY ATTACK detected|plain HTTP request (was sent )?to HTTPS port"
        r"|http: server gave HTTP response to HTTPS client",
        (
            "wrong_version_number",
            "wrong version number",
            "invalid length of startup packet",
            "possible security attack",
            "plain http request",
            "gave http response to https client",
        ),
    ),
    Signature(
        "tls.handshake_failed",
        r"alert protocol version"
        r"|alert handshake failure|SSL_do_handshake\(\) failed|TLS handshake (error|timeout)"
        r"|tls: handshake failure|rejected SSL upgrade",
        (
            "alert protocol version",
            "alert handshake failure",
            "ssl_do_handshake",
            "tls handshake",
            "handshake failure",
            "rejected ssl upgrade",
        ),
    ),
    # glibc EAI_AGAIN/EAI_FAIL in Python, libpq, Node, redis-py; Go's resolver
    Signature(
        "dns.temporary_failure",
        r"Temporary failure in name resolution|Non-recoverable failure in name resolution"
        r"|\bError -3 connecting|\[Errno -3\]|\bEAI_AGAIN\b"
        r"|lookup [^ ]+ on [^ ]+: server misbehaving|lookup [^ ]+ on [^ ]+: .{0,80}i/o timeout",
        (
            "name resolution",
            "error -3",
            "errno -3",
            "eai_again",
            "server misbehaving",
            "i/o timeout",
        ),
    ),
    Signature(
        "dns.nxdomain",
        r"Name or service not known|\bError -2 connecting|\[Errno -2\] Name"
        r"|getaddrinfo ENOTFOUND|nodename nor servname provided"
        r"|lookup [^ ]+ on [^ ]+: no such host|\bNXDOMAIN\b",
        (
            "not known",
            "error -2",
            "errno -2",
            "enotfound",
            "nodename nor servname",
            "no such host",
            "nxdomain",
        ),
    ),
    Signature(
        "dns.no_address",
        r"No address associated with hostname|\[Errno -5\]|\bError -5 connecting",
        ("no address associated", "errno -5", "error -5"),
    ),
    Signature(
        "tcp.refused",
        # redis-py's asyncio client says "Error 111 connecting to …. Connect call failed (…)"
        r"Connection refused|\bECONNREFUSED\b|\bError 111 connecting|\[Errno 111\]",
        ("connection refused", "econnrefused", "error 111", "errno 111"),
    ),
    Signature(
        "tcp.unreachable",
        r"No route to host|Network is unreachable|\bEHOSTUNREACH\b|\bENETUNREACH\b"
        r"|\bError 11[3] connecting|\bError 101 connecting|\[Errno 11[3]\]|\[Errno 101\]",
        (
            "no route to host",
            "network is unreachable",
            "ehostunreach",
            "enetunreach",
            "error 113",
            "error 101",
            "errno 113",
            "errno 101",
        ),
    ),
    Signature(
        "tcp.reset",
        r"Connection reset by peer|\bECONNRESET\b",
        ("connection reset by peer", "econnreset"),
    ),
    Signature(
        "tcp.timeout",
        r"Connection timed out|\bETIMEDOUT\b|Timeout connecting to|timed out while connecting"
        r"|\[Errno 110\]|dial tcp [^ ]+: i/o timeout|connect timeout",
        (
            "connection timed out",
            "etimedout",
            "timeout connecting to",
            "timed out while connecting",
            "errno 110",
            "i/o timeout",
            "connect timeout",
        ),
    ),
    # an unhandled exception no pattern above names: Python's traceback header, a Go panic
    Signature(
        "app.traceback",
        r"Traceback \(most recent call last\)|goroutine [0-9]+ \[running\]",
        ("traceback (most recent call last)", "goroutine"),
    ),
)

# Words that make a line worth a closer look even when no signature names it: the unknown
# errors, which are clustered into templates. journald writes priorities 0-3 as numbers, and a
# message that is not valid UTF-8 as an array of bytes, whose words no literal can see.
ERROR_WORDS: tuple[str, ...] = (
    "error",
    "fail",
    "fatal",
    "exception",
    "traceback",
    "panic",
    "critical",
    "denied",
    "refused",
    "timed out",
    "timeout",
    "unreachable",
    "killed",
    "exceeded",
    "crash",
)
ERROR_PATTERNS: tuple[str, ...] = (r'"priority" ?: ?"[0-3]"', r'"message" ?: ?\[')

# A line with no level of its own is an error when it says so in one of these words.
ERROR_TEXT = re.compile(
    r"\b(errors?|fail(s|ed|ure)?|fatal|exception|traceback|panic|critical|denied|refused"
    r"|timed out|timeout|unreachable|killed|exceeded|crash(ed)?)\b",
    re.IGNORECASE,
)

TRACEBACK_HEADER = "Traceback (most recent call last):"
# Lines between chained tracebacks: part of the trace, never an error of their own.
TRACEBACK_LINKS = (
    "During handling of the above exception, another exception occurred",
    "The above exception was the direct cause of the following exception",
)


def classify(text: str) -> str | None:
    """The fault code a log message means, or None when no signature names it."""
    matcher = _signature_set()
    if matcher is None:
        return classify_each(text)
    indices = matcher(text)
    return on_a_literal(SIGNATURES[min(indices)].code, text) if indices else None


def classify_each(text: str) -> str | None:
    """``classify`` without RE2: each signature whose keywords are in the text is searched, in
    the catalogue's order (substring tests are far cheaper than searches)."""
    lowered = text.lower()
    present = {index for word, index in _KEYWORD_INDEX if word in lowered}
    for index in sorted(present):
        if SIGNATURES[index].compiled.search(text):
            return on_a_literal(SIGNATURES[index].code, text)
    return None


# The host a failed lookup was for: "Error -3 connecting to HOST:PORT", getaddrinfo('HOST'),
# Go's "lookup HOST on RESOLVER".
_LOOKED_UP = re.compile(r"(?:connecting to|getaddrinfo\(|lookup|resolving) *['\"]?([^\s'\"(),;]+)")


def on_a_literal(code: str, text: str) -> str:
    """A lookup failure for an address literal is no DNS failure: a literal needs no lookup,
    so EAI_AGAIN or EAI_NONAME there says the client's own environment failed."""
    if code not in ("dns.temporary_failure", "dns.nxdomain"):
        return code
    match = _LOOKED_UP.search(text)
    if match is None or not _is_literal(match.group(1)):
        return code
    return "platform.network_unavailable"


def _is_literal(host: str) -> bool:
    """``10.0.0.5``, ``10.0.0.5:6379.``, ``[2001:db8::1]:6379``: an IP address, port or not."""
    host = host.rstrip(".:")
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@cache
def _signature_set() -> Callable[[str], list[int]] | None:
    return compile_set([signature.pattern for signature in SIGNATURES])


_KEYWORD_INDEX = tuple(
    (word, index) for index, signature in enumerate(SIGNATURES) for word in signature.keywords
)


def prefilter_source() -> str:
    """One case-insensitive alternation of every keyword and error word: what the scanner
    searches blocks of raw bytes for."""
    literals = sorted({word for s in SIGNATURES for word in s.keywords} | set(ERROR_WORDS))
    # Drop a literal another one contains ("error -3" holds "error"): fewer branches, same lines.
    kept = [word for word in literals if not any(o != word and o in word for o in literals)]
    return "|".join([*(escape(word) for word in kept), *ERROR_PATTERNS])


def escape(literal: str) -> str:
    """A literal as a pattern that Python's re, RE2 and ``grep -E`` all read literally
    (``re.escape`` also escapes ``-``, which newer greps warn about)."""
    return re.sub(r"([\\.^$*+?()\[\]{}|])", r"\\\1", literal)
