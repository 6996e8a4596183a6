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
sample line the signatures match passes the prefilter. A keyword that holds one of the error
words (``"connection attempt failed"``) costs the prefilter nothing: the word already lets the
line through, and the literal is dropped from its alternation.

The patterns are case-insensitive. Where only case tells two codes apart (HAProxy's
termination states ``sC`` and ``SC``), a signature's ``refine`` reads the matched line again,
case and all, and picks the code; grep and RE2 still read the pattern alike.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from faultfinder.classify.engine import compile_set


@dataclass(frozen=True)
class Signature:
    code: str
    pattern: str  # case-insensitive; see the module docstring for the dialect
    keywords: tuple[str, ...]  # lower-case literals the pattern cannot match without
    # A line the pattern matched → its code, where case tells codes apart that a
    # case-insensitive pattern cannot (HAProxy's "sC" and "SC"); ``code`` when it returns None.
    refine: Callable[[str], str | None] | None = field(default=None, compare=False)
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))


# HAProxy's termination state (doc/configuration.txt, "Session state at disconnection"): the
# first letter says who ended the session (S the server, s the server-side timeout; C and c,
# the client, are no fault of the service), the second at what stage (C connect, H response
# headers, D data). In an HTTP log (option httplog) it stands before the connection counts,
# "1/1/0/0/3" (the last one the retries, "+3" after a redispatch), with two cookie letters, "--"
# without cookies. (A TCP log's two-letter state is not read: only a keyword led by a space
# could find it, and a space starts a search at every word of every line.)
_HAPROXY_STATE = re.compile(r"(?:^|\s)([sS][CHD])-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+?[0-9]+ ")
_HAPROXY_CODES = {
    "SC": "tcp.refused",  # the server (or a device before it) refused the connection
    "sC": "tcp.timeout",  # timeout connect
    "SH": "http.no_response",  # the server closed or crashed before its response headers
    "sH": "proxy.upstream_timeout",  # timeout server before the headers: HAProxy's 504
    "SD": "tcp.closed_mid_session",  # the server's connection died during the data
    "sD": "tcp.closed_mid_session",  # timeout server during the data (a stalled transfer)
}


def _haproxy_state(text: str) -> str | None:
    """HAProxy's own state, case and all; ``backend/<NOSRV>`` with SC: no server to try."""
    match = _HAPROXY_STATE.search(text)
    if match is None:
        return None
    if match.group(1) == "SC" and "/<NOSRV> " in text:
        return "proxy.no_healthy_upstream"
    return _HAPROXY_CODES[match.group(1)]


# Most specific first: a pool timeout says "connection timed out", an nginx read timeout says
# "Connection timed out" too, so both come before tcp.timeout; Envoy's "reset reason: …" and
# nginx's "… while reading response header" come before the proxies' generic words.
SIGNATURES: tuple[Signature, ...] = (
    # Cloud Run (both wordings in use, and its request log's), Cloud Run's startup probe,
    # Kubernetes crash loops
    Signature(
        "platform.startup_failed",
        r"failed to start and (then )?listen on the port"
        r"|STARTUP (TCP|HTTP|GRPC) probe failed"
        r"|failed the configured startup probe"
        r"|request failed because the instance could not start successfully"
        r"|Back-off restarting failed container|CrashLoopBackOff",
        (
            "listen on the port",
            "probe failed",
            "startup probe",
            "failed because the instance could not start",
            "back-off restarting",
            "crashloopbackoff",
        ),
    ),
    # Cloud Run's request log: the platform had no instance to give the request
    Signature(
        "platform.no_instance_available",
        r"request was aborted because there was no available instance",
        ("no available instance",),
    ),
    # Cloud Run, Kubernetes (pod status and kubelet events), the kernel's OOM killer, App Engine
    # and Cloud Run's "using too much memory", gunicorn's guess at a worker's SIGKILL
    Signature(
        "platform.memory_exceeded",
        r"Memory limit of [0-9.]+ ?[A-Za-z]* exceeded"
        r"|\bOOMKill(ed|ing)\b"
        r"|Memory cgroup out of memory|Out of memory: Kill(ed)? process|\boom-kill:"
        r"|Exceeded (soft|hard) (private )?memory limit"
        r"|was found to be using too much memory and was terminated"
        r"|was sent SIGKILL! Perhaps out of memory",
        ("memory limit", "oomkill", "out of memory", "oom-kill", "using too much memory"),
    ),
    # Cloud Run's system log: the container's process exited by itself, with a failure status
    # (exit(0) is a finished job, or a server that stopped on purpose)
    Signature(
        "platform.container_exited",
        r"Container called exit\([1-9][0-9]*\)",
        ("container called exit(",),
    ),
    # gunicorn's arbiter and uWSGI's master kill a worker that held a request past the timeout
    Signature(
        "app.worker_timeout",
        r"\bWORKER TIMEOUT \(pid:[0-9]+\)|HARAKIRI ON WORKER [0-9]+",
        ("worker timeout (pid:", "harakiri on worker"),
    ),
    # EMFILE in Python, Node, Go, nginx ("24: Too many open files", "No file descriptors
    # available" with musl)
    Signature(
        "app.fd_exhausted",
        r"Too many open files|\bEMFILE\b|No file descriptors available",
        ("too many open files", "emfile", "no file descriptors available"),
    ),
    # SQLAlchemy's QueuePool, HikariCP
    Signature(
        "app.pool_exhausted",
        r"QueuePool limit of size [0-9]+ overflow -?[0-9]+ reached"
        r"|Connection is not available, request timed out after",
        ("queuepool limit", "connection is not available"),
    ),
    # HAProxy's access log: the termination state names the code (see _haproxy_state)
    Signature(
        "proxy.upstream_timeout",
        r"(^| )[sS][CHD]-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/[+]?[0-9]+ [0-9]+/[0-9]+",
        ("sc--", "sh--", "sd--"),
        refine=_haproxy_state,
    ),
    # Envoy's local reply and its reset reason (source/common/http/utility.cc), as clients and
    # gRPC statuses quote it: a refused or unroutable connect (the errno of "delayed connect
    # error"), a connect timeout, an upstream that closed or reset before its headers
    Signature(
        "tcp.refused",
        r"transport failure reason: delayed connect error: 111\b",
        ("delayed connect error: 111",),
    ),
    Signature(
        "tcp.unreachable",
        r"transport failure reason: delayed connect error: (113|101)\b",
        ("delayed connect error: 113", "delayed connect error: 101"),
    ),
    Signature(
        "tcp.timeout",
        r"reset before headers\. (retried and the latest )?reset reason: connection timeout",
        ("reset reason: connection timeout",),  # "timeout" lets it through the prefilter
    ),
    # an upstream that closed or reset before any response header: nginx, Envoy (its reset
    # reason, its access log's UC and UR flags after the status, Istio's response details),
    # Cloud Run's front end is proxy.no_healthy_upstream below, as the probe reads its page
    Signature(
        "http.no_response",
        r"upstream prematurely closed connection while reading response header"
        r"|failed \((104: Connection reset by peer|32: Broken pipe)\) while reading response header"
        r"|upstream connect error or disconnect/reset before headers\. "
        r"(retried and the latest )?reset reason: (connection termination|remote reset)"
        r"|\" 503 (UC|UR)[ ,]",
        (
            "prematurely closed connection",
            "connection reset by peer",
            "failed (32: broken pipe)",
            "upstream connect error",
            "503 u",
        ),
    ),
    # nginx reading the response, Envoy (while *connecting* it is the upstream's tcp.timeout),
    # Envoy's access log flag UT
    Signature(
        "proxy.upstream_timeout",
        r"upstream timed out .{0,60}while (reading|sending)|upstream request timeout"
        r"|\" 504 UT[ ,]",
        ("upstream timed out", "upstream request timeout", "504 ut"),
    ),
    # nginx with every server of an upstream block down, Envoy (its page, its UH and UF flags,
    # any other reset reason), HAProxy, Cloud Run's front end (as the probe reads its 503 page)
    Signature(
        "proxy.no_healthy_upstream",
        r"no live upstreams|no healthy upstream|has no server available"
        r"|upstream connect error or disconnect/reset before headers"
        r"|request failed because either the HTTP response was malformed or connection to the "
        r"instance had an error"
        r"|\" 503 (UH|UF)[ ,]",
        (
            "no live upstreams",
            "no healthy upstream",
            "has no server available",
            "upstream connect error",
            "failed because either the http response was malformed",
            "503 u",
        ),
    ),
    Signature(
        "postgres.too_many_connections",
        r"too many clients already|remaining connection slots are reserved"
        r"|too many connections for (role|database)",
        ("too many clients", "connection slots are reserved", "too many connections for"),
    ),
    # the server's own shutdown (SQLSTATE 57P01 ends every session: "terminating connection
    # due to administrator command") reads as the probe reads 57P01
    Signature(
        "postgres.starting_up",
        r"the database system is (starting up|shutting down|in recovery mode"
        r"|not (yet )?accepting connections)"
        r"|terminating connection due to administrator command",
        ("the database system is", "due to administrator command"),
    ),
    # a missing role at log-in is SQLSTATE 28000, as the probe reads it; in DDL it is not
    Signature(
        "postgres.auth_failed",
        r"password authentication failed for user|no pg_hba\.conf entry for"
        r"|(FATAL: +|InvalidAuthorizationSpecificationError: )role \"[^\"]*\" does not exist",
        ("password authentication failed", "pg_hba.conf entry", "does not exist"),
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
    # files (EACCES), PostgreSQL grants, Google Cloud IAM, AWS; the Cloud SQL Admin API's 403
    # as the Auth Proxy v1 and the Python connector word it
    Signature(
        "app.permission_denied",
        r"permission denied|PERMISSION_DENIED|Permission '[^']*' denied|\bAccessDenied"
        r"|Error 403: The client is not authorized to make this request"
        r"|IAM principal does not se+m authorized",
        (
            "permission denied",
            "permission_denied",
            "permission '",
            "accessdenied",
            "error 403: the client is not authorized",
            "iam principal does not",
        ),
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
    # … and the Cloud SQL Auth Proxy's and Go connector's "Dial error: handshake failed"
    Signature(
        "tls.handshake_failed",
        r"alert protocol version"
        r"|alert handshake failure|SSL_do_handshake\(\) failed|TLS handshake (error|timeout)"
        r"|tls: handshake failure|rejected SSL upgrade|Dial error: handshake failed",
        (
            "alert protocol version",
            "alert handshake failure",
            "ssl_do_handshake",
            "tls handshake",
            "handshake failure",
            "rejected ssl upgrade",
            "dial error: handshake failed",
        ),
    ),
    # glibc EAI_AGAIN/EAI_FAIL in Python, libpq, Node, redis-py; Go's resolver (with and
    # without "on RESOLVER"); musl's EAI_AGAIN as libpq words it ("Try again"); nginx's own
    # resolver (ngx_resolver.c: 2 is SERVFAIL, 110 a timeout); Windows' WSATRY_AGAIN
    Signature(
        "dns.temporary_failure",
        r"Temporary failure in name resolution|Non-recoverable failure in name resolution"
        r"|\bError -3 connecting|\[Errno -3\]|\bEAI_AGAIN\b"
        r"|lookup [^ ]+( on [^ ]+)?: server misbehaving"
        r"|(lookup [^ ]+ on [^ ]+|dial (tcp|udp)[46]?: lookup [^ ]+): .{0,80}i/o timeout"
        r"|to address: Try again"
        r"|could not be resolved \((2: Server failure|110: Operation timed out)\)"
        r"|\[Errno 11002\] getaddrinfo failed",  # WSATRY_AGAIN
        (
            "name resolution",
            "error -3",
            "errno -3",
            "eai_again",
            "server misbehaving",
            "i/o timeout",
            "address: try again",
            "2: server failure",
            "110: operation timed out",
            "getaddrinfo failed",
        ),
    ),
    # … glibc's EAI_NONAME, musl's ("Name does not resolve", the default of Alpine images),
    # Go's "no such host", nginx's at start-up ("host not found in upstream") and at run time
    # (3 is NXDOMAIN), Windows' WSAHOST_NOT_FOUND
    Signature(
        "dns.nxdomain",
        r"Name or service not known|\bError -2 connecting|\[Errno -2\] Name"
        r"|getaddrinfo ENOTFOUND|nodename nor servname provided|Name does not resolve"
        r"|lookup [^ ]+( on [^ ]+)?: no such host|\bNXDOMAIN\b"
        r"|host not found in upstream|could not be resolved \(3: Host not found\)"
        r"|\[Errno 11001\] getaddrinfo failed|No such host is known",
        (
            "not known",
            "error -2",
            "errno -2",
            "enotfound",
            "nodename nor servname",
            "name does not resolve",
            "no such host",
            "nxdomain",
            "host not found",
            "getaddrinfo failed",
        ),
    ),
    Signature(
        "dns.no_address",
        r"No address associated with hostname|\[Errno -5\]|\bError -5 connecting",
        ("no address associated", "errno -5", "error -5"),
    ),
    # … and Windows' WSAECONNREFUSED, as Python and .NET print it
    Signature(
        "tcp.refused",
        # redis-py's asyncio client says "Error 111 connecting to …. Connect call failed (…)"
        r"Connection refused|\bECONNREFUSED\b|\bError 111 connecting|\[Errno 111\]"
        r"|target machine actively refused it|\[WinError 10061\]",
        (
            "connection refused",
            "econnrefused",
            "error 111",
            "errno 111",
            "actively refused",
            "winerror 100",
        ),
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
    # … Windows' WSAECONNRESET; libpq's "connection to server … failed:" says the server
    # dropped the connection while it was still being set up
    Signature(
        "tcp.reset",
        r"Connection reset by peer|\bECONNRESET\b"
        r"|existing connection was forcibly closed by the remote host|\[WinError 10054\]"
        r"|connection to server (at|on) .{0,200}failed: "
        r"(server closed the connection unexpectedly|SSL SYSCALL error: EOF detected)",
        (
            "connection reset by peer",
            "econnreset",
            "forcibly closed",
            "winerror 100",
            "failed: server closed the connection",
            "failed: ssl syscall error",
        ),
    ),
    # an established connection dropped: libpq's words for a server gone mid-session (a
    # restart, a failover, a crash, a NAT or load balancer's idle timeout), nginx's upstream
    # gone mid-body, a write to a peer that already closed (Node's EPIPE, Python's errno 32)
    Signature(
        "tcp.closed_mid_session",
        r"server closed the connection unexpectedly|SSL SYSCALL error: EOF detected"
        r"|SSL connection has been closed unexpectedly"
        r"|upstream prematurely closed connection while (reading upstream|sending to client)"
        r"|\bwrite EPIPE\b|\[Errno 32\] Broken pipe",
        (
            "closed the connection unexpectedly",
            "error: eof detected",
            "has been closed unexpectedly",
            "prematurely closed connection",
            "write epipe",
            "errno 32",
        ),
    ),
    # … Windows' WSAETIMEDOUT; the Cloud SQL connectors' refresh (the Admin API call that
    # fetches the instance's address and certificate) that never finished
    Signature(
        "tcp.timeout",
        r"Connection timed out|\bETIMEDOUT\b|Timeout connecting to|timed out while connecting"
        r"|\[Errno 110\]|dial tcp [^ ]+: i/o timeout|connect timeout"
        r"|connection attempt failed because the connected party did not properly respond"
        r"|\[WinError 10060\]"
        r"|refresh (failed|error).{0,200}context deadline exceeded",
        (
            "connection timed out",
            "etimedout",
            "timeout connecting to",
            "timed out while connecting",
            "errno 110",
            "i/o timeout",
            "connect timeout",
            "connection attempt failed",
            "winerror 100",
            "refresh failed",
            "refresh error",
        ),
    ),
    # the websockets library's client (InvalidStatus, InvalidStatusCode before 14), uvicorn's
    # server when the app never accepted, or when no WebSocket library is installed
    Signature(
        "ws.handshake_rejected",
        r"server rejected WebSocket connection: HTTP [0-9]{3}"
        r"|ASGI callable returned without (sending|completing) handshake"
        r"|No supported WebSocket library detected",
        (
            "rejected websocket connection",
            "asgi callable returned without",
            "no supported websocket library",
        ),
    ),
    # the websockets library's ConnectionClosedError: no close frame (1006), or a close with
    # 1011 (internal error, keepalive ping timeout), 1012 (service restart), 1013 (try again
    # later), as frames.py explains the codes; before 10.0 it said "code = 1006 (connection
    # closed abnormally [internal])"
    Signature(
        "ws.closed_abnormally",
        r"no close frame received or sent"
        r"|(received|sent) 10(11 \(internal error|12 \(service restart|13 \(try again later)\)"
        r"|code = 10(06|11|12|13) \(",
        (
            "no close frame",
            "1011 (internal error",
            "(service restart)",
            "(try again later)",
            "code = 10",
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

# A line with no level of its own is an error when it says so in one of these words, unless
# the word is a setting's or a counter's name: a line that is only ``key: value`` (gunicorn's
# configuration dump at debug level, ``  timeout: 30``, one line each; YAML) or a word followed
# by ``=`` and a number (``kubectl describe``'s probes, ``timeout=1s … #failure=3``; logfmt
# counters, ``errors=0``). A value is a number (with a unit), a constant, ``-``, or one token
# with a dot or slash (a path, a module, a host). Per line, so a multi-line message is read
# line by line. (Python's re only, look-arounds and all: it reads a parsed message, and is
# never handed to grep or RE2.)
_SETTING_VALUE = r"(-?[0-9][0-9.]*[a-z%]{0,3}|true|false|none|null|-|[^\s]*[/.][^\s]+)?"
ERROR_TEXT = re.compile(
    r"(?m)^(?![ \t]*[a-z_][a-z0-9_.-]*[ \t]*[:=][ \t]*" + _SETTING_VALUE + r"[ \t]*$)"
    r"[^\n]*?\b(errors?|fail(s|ed|ure)?|fatal|exception|traceback|panic|critical|denied|refused"
    r"|timed out|timeout|unreachable|killed|exceeded|crash(ed)?)\b"
    r"(?!=[0-9][0-9.]*[a-z%]{0,3}(?![^\s,;]))",
    re.IGNORECASE,
)

TRACEBACK_HEADER = "Traceback (most recent call last):"
# Lines between chained tracebacks: part of the trace, never an error of their own.
TRACEBACK_LINKS = (
    "During handling of the above exception, another exception occurred",
    "The above exception was the direct cause of the following exception",
)


CACHED_TEXT = 400  # a shorter text's code is remembered: incidents repeat the same lines


def classify(text: str) -> str | None:
    """The fault code a log message means, or None when no signature names it."""
    return _classify_remembered(text) if len(text) <= CACHED_TEXT else _classify(text)


@lru_cache(maxsize=4096)
def _classify_remembered(text: str) -> str | None:
    return _classify(text)


def _classify(text: str) -> str | None:
    matcher = _signature_set()
    if matcher is None:
        return classify_each(text)
    indices = matcher(text)
    return _code_of(SIGNATURES[min(indices)], text) if indices else None


def classify_each(text: str) -> str | None:
    """``classify`` without RE2: each signature whose keywords are in the text is searched, in
    the catalogue's order (substring tests are far cheaper than searches)."""
    lowered = text.lower()
    present = {index for word, index in _KEYWORD_INDEX if word in lowered}
    for index in sorted(present):
        if SIGNATURES[index].compiled.search(text):
            return _code_of(SIGNATURES[index], text)
    return None


def _code_of(signature: Signature, text: str) -> str:
    """The code of a line ``signature`` matched: its own, or its refinement's."""
    refined = signature.refine(text) if signature.refine is not None else None
    return on_a_literal(refined or signature.code, text)


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
