"""A foreign exception → fault code, as data: EAI codes, errno, OpenSSL verify codes and reasons.

Each function takes an exception (with everything it was raised from) and returns the most
specific ``Finding`` it can, or ``None`` when the evidence is not one it knows.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl

from faultfinder.classify.finding import Finding

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
    "WRONG_VERSION_NUMBER": "the port does not speak TLS: it answered the hello with other bytes",
    "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version both sides allow (protocol version alert)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "no cipher both sides allow (handshake failure alert)",
}

# OpenSSL's words for a peer that answered the hello with bytes that are no TLS record.
PLAINTEXT_REASONS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST"})

# errno from connecting to a Unix socket → fault code.
SOCKET_ERRNOS: dict[int, str] = {
    errno.ENOENT: "socket.missing",
    errno.ENOTDIR: "socket.missing",
    errno.EACCES: "socket.permission_denied",
    errno.EPERM: "socket.permission_denied",
    errno.ECONNREFUSED: "socket.refused",
    errno.ENOTSOCK: "socket.refused",
    errno.EAGAIN: "socket.timeout",  # a Unix socket's full backlog refuses at once with EAGAIN
}
# Cloud Run mounts Cloud SQL sockets at /cloudsql/INSTANCE; the Auth Proxy's --unix-socket
# directory is named so too, by convention.
CLOUD_SQL_SOCKETS = "/cloudsql/"


def chain(error: BaseException) -> list[BaseException]:
    """The error and everything it was raised from or during, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


DESCRIBED = 300  # characters of an error's text kept: a server's error may claim megabytes


def describe(error: BaseException) -> str:
    """A one-line description of an exception without secrets from its arguments, at most
    ``DESCRIBED`` characters of it."""
    text = str(error)[: DESCRIBED * 4].strip() or type(error).__name__
    line = text.splitlines()[0]
    return line if len(line) <= DESCRIBED else line[: DESCRIBED - 1] + "…"


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
            # a reply that is no TLS record at all: the port speaks another protocol
            code = "protocol.mismatch" if reason in PLAINTEXT_REASONS else "tls.handshake_failed"
            return Finding(code, message, f"TLS handshake with {target}: {describe(link)}")
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


def classify_socket_error(path: str, error: BaseException) -> Finding | None:
    """Connecting to a Unix socket failed → the socket.* code its errno means."""
    for link in chain(error):
        if isinstance(link, OSError) and link.errno in SOCKET_ERRNOS:
            reason = f"[Errno {link.errno}] {os.strerror(link.errno)}"
            evidence = f"connect to the Unix socket {path} failed: {reason}"
            code = SOCKET_ERRNOS[link.errno]
            if code == "socket.missing" and CLOUD_SQL_SOCKETS in path:
                evidence += (
                    f"; {os.path.dirname(path)} is a Cloud SQL socket directory: on Cloud Run it "
                    "exists only when the service has the instance in its Cloud SQL "
                    "connections (--add-cloudsql-instances); elsewhere the Cloud SQL Auth "
                    "Proxy creates it (--unix-socket /cloudsql)"
                )
            return Finding(code, reason, evidence)
    return None
