"""The app's own client errors → fault codes, through the probers' classifiers (CONTRACT §2).

The app's redis-py, asyncpg or SQLAlchemy call fails with the client's exception, which
wraps the real cause (a resolver error, a refused connect, a server's error reply). The whole
chain is read, most specific evidence first, so the app's view names the same codes a probe
from outside would.
"""

from __future__ import annotations

import socket

from faultfinder.diagnose.classify import (
    chain,
    classify_os_error,
    classify_resolve_error,
    classify_text,
    describe,
)

# What a check of each kind that gets no answer in time means.
TIMEOUT_CODES = {
    "postgresql": "postgres.timeout",
    "redis": "redis.timeout",
    "rediss": "redis.timeout",
    "http": "http.timeout",
    "https": "http.timeout",
    "ws": "http.timeout",
    "wss": "http.timeout",
    "tcp": "tcp.timeout",
    "tls": "tls.handshake_failed",
    "dns": "dns.temporary_failure",
}
_UNKNOWN_CODES = {"postgresql": "postgres.error", "redis": "redis.error"}


def fault_code_of(error: BaseException, kind: str, target: str) -> str | None:
    """The fault code an exception from the app's client of ``kind`` means, or None."""
    kind = "redis" if kind == "rediss" else kind
    links = chain(error)
    for link in links:
        if isinstance(link, socket.gaierror):
            finding = classify_resolve_error(target, link)
            if finding is not None:
                return finding.code
    if kind == "redis" and _redis_connect_timed_out(links):
        return "tcp.timeout"
    code = _client_code(links, kind, target)
    if code is not None:
        return code
    finding = classify_os_error(target, error)
    if finding is not None:
        return finding.code
    if any(isinstance(link, TimeoutError) for link in links) and kind in TIMEOUT_CODES:
        return TIMEOUT_CODES[kind]
    for link in links:
        code = classify_text(describe(link))
        if code is not None:
            return code
    return _UNKNOWN_CODES.get(kind)


def _redis_connect_timed_out(links: list[BaseException]) -> bool:
    """redis-py's own connect got no answer ("Timeout connecting to server"): a TCP timeout.

    The prober connects on a rung of its own, so its classifier reads every redis-py timeout
    as Redis not replying; the app's client connects itself, and says which one it was.
    """
    import redis.exceptions as redis_errors

    return any(
        isinstance(link, redis_errors.TimeoutError) and "timeout connecting" in str(link).lower()
        for link in links
    )


def _client_code(links: list[BaseException], kind: str, target: str) -> str | None:
    """The prober's own classifier for this client library, on every link of the chain."""
    if kind == "redis":
        from faultfinder.probe.redis import classify_redis_error as classify
    elif kind == "postgresql":
        from faultfinder.probe.postgres import classify_postgres_error as classify
    else:
        return None
    for link in links:
        finding = classify(target, link)
        if finding is not None and not finding.code.endswith(".error"):
            return finding.code
    return None
