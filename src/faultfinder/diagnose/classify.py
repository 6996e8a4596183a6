"""Evidence → fault code, as data: errno, EAI codes, SSL verify codes, SQLSTATEs, Redis errors.

Each function takes a foreign exception (or an error text) and returns the most specific
``Finding`` it can, or ``None`` when the evidence is not one it knows.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A fault code with the short detail for its phase and the evidence line behind it."""

    code: str
    detail: str
    evidence: str = ""


# getaddrinfo's EAI codes (glibc numbering, negative) → fault code. glibc gives EAI_NONAME for
# NXDOMAIN and EAI_NODATA for a name with records but no A/AAAA (checked against dnsmasq in
# tests/integration/test_dns.py), so the code alone tells nxdomain from no_address.
EAI_CODES: dict[int, str] = {
    socket.EAI_NONAME: "dns.nxdomain",  # -2 Name or service not known
    socket.EAI_AGAIN: "dns.temporary_failure",  # -3 Temporary failure in name resolution
    socket.EAI_FAIL: "dns.temporary_failure",  # -4 Non-recoverable failure (SERVFAIL)
    getattr(socket, "EAI_NODATA", -5): "dns.no_address",  # -5 No address associated
    getattr(socket, "EAI_ADDRFAMILY", -9): "dns.no_address",  # -9 family has no address
}

# errno from connect() and early reads → fault code.
CONNECT_ERRNOS: dict[int, str] = {
    errno.ECONNREFUSED: "tcp.refused",
    errno.ETIMEDOUT: "tcp.timeout",
    errno.EHOSTUNREACH: "tcp.unreachable",
    errno.ENETUNREACH: "tcp.unreachable",
    errno.EHOSTDOWN: "tcp.unreachable",
    errno.ENETDOWN: "tcp.unreachable",
    errno.EADDRNOTAVAIL: "tcp.unreachable",
    errno.ECONNRESET: "tcp.reset",
    errno.ECONNABORTED: "tcp.reset",
    errno.EPIPE: "tcp.reset",
}

# OpenSSL X509_V_ERR_* verify codes → fault code; anything else unverifiable is untrusted.
VERIFY_CODES: dict[int, str] = {
    9: "tls.expired",  # certificate is not yet valid
    10: "tls.expired",  # certificate has expired
    18: "tls.untrusted",  # self-signed certificate
    20: "tls.untrusted",  # unable to get local issuer: an unknown CA or a missing intermediate
    62: "tls.hostname_mismatch",  # hostname mismatch
    64: "tls.hostname_mismatch",  # IP address mismatch
}

# OpenSSL reasons for a handshake that failed before any certificate check → what they mean
# (each produced for real in tests/integration/test_tls.py); others show the bare reason.
HANDSHAKE_REASONS: dict[str, str] = {
    "WRONG_VERSION_NUMBER": "the port does not speak TLS (wrong version number)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version both sides allow (protocol version alert)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "no cipher both sides allow (handshake failure alert)",
}

# PostgreSQL SQLSTATE → fault code.
SQLSTATES: dict[str, str] = {
    "28P01": "postgres.auth_failed",  # invalid_password
    "28000": "postgres.auth_failed",  # invalid_authorization_specification
    "3D000": "postgres.database_missing",  # invalid_catalog_name
    "53300": "postgres.too_many_connections",  # too_many_connections (and reserved slots)
    "57P03": "postgres.starting_up",  # cannot_connect_now: starting, shutting, recovery
    "57P01": "postgres.starting_up",  # admin_shutdown
    "57P02": "postgres.starting_up",  # crash_shutdown
}

# A server's error text → fault code, first match wins (Redis replies, Postgres messages).
ERROR_TEXTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (
            r"\bNOAUTH\b|\bWRONGPASS\b|invalid password|invalid username-password"
            r"|AUTH <password> called without any password configured",
            "redis.auth_failed",
        ),
        (r"^LOADING\b|Redis is loading the dataset", "redis.loading"),
        (r"^OOM\b|command not allowed when used memory", "redis.oom"),
        (r"^READONLY\b|You can't write against a read only replica", "redis.readonly"),
        (r"max number of clients reached", "redis.max_clients"),
        (
            r"too many clients already|remaining connection slots are reserved",
            "postgres.too_many_connections",
        ),
        (
            r"the database system is (starting up|shutting down|in recovery mode)"
            r"|not (yet )?accepting connections",
            "postgres.starting_up",
        ),
        (r"password authentication failed|no pg_hba\.conf entry", "postgres.auth_failed"),
        (r"database \"[^\"]*\" does not exist", "postgres.database_missing"),
        (
            r"Temporary failure in name resolution|\bError -3\b|EAI_AGAIN|\[Errno -3\]",
            "dns.temporary_failure",
        ),
        (r"Name or service not known|nodename nor servname|\[Errno -2\]|NXDOMAIN", "dns.nxdomain"),
        (r"No address associated with hostname|\[Errno -5\]", "dns.no_address"),
        (r"Connection refused|ECONNREFUSED|\[Errno 111\]", "tcp.refused"),
        (r"No route to host|Network is unreachable|EHOSTUNREACH|ENETUNREACH", "tcp.unreachable"),
        (r"Connection reset by peer|ECONNRESET", "tcp.reset"),
        # asyncpg, when sslmode requires TLS and the server answers SSLRequest with 'N'
        (r"rejected SSL upgrade", "tls.handshake_failed"),
        (r"certificate has expired|certificate is not yet valid", "tls.expired"),
        (r"Hostname mismatch|doesn't match|does not match", "tls.hostname_mismatch"),
        (
            r"self[- ]signed certificate|unable to get local issuer|certificate verify failed",
            "tls.untrusted",
        ),
        (r"timed? ?out|timeout", "tcp.timeout"),
    )
)


def chain(error: BaseException) -> list[BaseException]:
    """The error and everything it was raised from or during, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def describe(error: BaseException) -> str:
    """A one-line description of an exception without secrets from its arguments."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def classify_resolve_error(host: str, error: BaseException) -> Finding | None:
    if isinstance(error, socket.gaierror) and error.errno in EAI_CODES:
        reason = error.strerror or describe(error)
        return Finding(
            EAI_CODES[error.errno],
            f"EAI {error.errno}: {reason}",
            f"getaddrinfo({host!r}) failed: [Errno {error.errno}] {reason}",
        )
    if isinstance(error, socket.gaierror | UnicodeError):
        return Finding("dns.nxdomain", describe(error), f"getaddrinfo({host!r}): {describe(error)}")
    return None


def classify_os_error(target: str, error: BaseException) -> Finding | None:
    """An OSError anywhere in the chain → the tcp.* code its errno means."""
    for link in chain(error):
        if isinstance(link, OSError) and link.errno in CONNECT_ERRNOS:
            # os.strerror: asyncio replaces strerror with "Connect call failed (addr)"
            reason = os.strerror(link.errno)
            return Finding(
                CONNECT_ERRNOS[link.errno],
                f"[Errno {link.errno}] {reason}",
                f"connect to {target} failed: [Errno {link.errno}] {reason}",
            )
    return None


def classify_tls_error(target: str, error: BaseException) -> Finding | None:
    """An ssl error (or a reset during the handshake) → the tls.* code it means."""
    for link in chain(error):
        if isinstance(link, ssl.SSLCertVerificationError):
            code = VERIFY_CODES.get(link.verify_code, "tls.untrusted")
            message = link.verify_message or describe(link)
            return Finding(code, message, f"TLS handshake with {target}: {message}")
        if isinstance(link, ssl.SSLError):
            reason = link.reason or ""
            message = HANDSHAKE_REASONS.get(reason) or reason or describe(link)
            return Finding(
                "tls.handshake_failed", message, f"TLS handshake with {target}: {describe(link)}"
            )
        if isinstance(link, ConnectionError | EOFError):
            message = _closed_during_handshake(link)
            evidence = f"TLS handshake with {target}: {message}"
            return Finding("tls.handshake_failed", message, evidence)
    return None


def _closed_during_handshake(error: BaseException) -> str:
    """A reset carries its errno; asyncio reports a plain close (FIN) as a bare error."""
    if isinstance(error, OSError) and error.errno is not None:
        reason = f"[Errno {error.errno}] {os.strerror(error.errno)}"
        return f"the peer reset the connection during the handshake ({reason})"
    return "the peer closed the connection during the handshake"


def classify_sqlstate(sqlstate: str | None, message: str) -> str | None:
    if sqlstate and sqlstate in SQLSTATES:
        return SQLSTATES[sqlstate]
    return classify_text(message)


def classify_text(text: str) -> str | None:
    """A server's or a log's error text → the fault code it means, or None."""
    for pattern, code in ERROR_TEXTS:
        if pattern.search(text):
            return code
    return None
