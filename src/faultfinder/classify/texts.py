"""A server's or a log's error text → fault code: SQLSTATEs and the error wordings of Redis,
PostgreSQL, resolvers, sockets and TLS libraries, first match wins."""

from __future__ import annotations

import re

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
