"""The app's own client errors → fault codes (docs/contract.md §2), as the probers read them.

The app's redis-py, asyncpg or SQLAlchemy call fails with the client's exception, which
wraps the real cause (a resolver error, a refused connect, a server's error reply). The whole
chain is read, most specific evidence first, so the app's view names the same codes a probe
from outside would.
"""

from __future__ import annotations

import socket

from faultfinder.classify import (
    chain,
    classify_os_error,
    classify_resolve_error,
    classify_text,
    describe,
)
from faultfinder.schemes import SCHEMES


def fault_code_of(error: BaseException, kind: str, target: str) -> str | None:
    """The fault code an exception from the app's client of ``kind`` means, or None."""
    scheme = SCHEMES.get(kind)
    links = chain(error)
    for link in links:
        if isinstance(link, socket.gaierror):
            finding = classify_resolve_error(target, link)
            if finding is not None:
                return finding.code
    if scheme is None:  # not a kind faultfinder probes (a SQLAlchemy dialect such as mysql)
        return _generic_code(error, links, target)
    if scheme.prober == "redis" and _redis_connect_timed_out(links):
        return "tcp.timeout"
    code = _client_code(links, kind, target)
    if code is not None:
        return code
    finding = classify_os_error(target, error)
    if finding is not None:
        return finding.code
    if any(isinstance(link, TimeoutError) for link in links):
        return scheme.timeout_code
    return _text_code(links) or scheme.unknown_error


def _generic_code(error: BaseException, links: list[BaseException], target: str) -> str | None:
    finding = classify_os_error(target, error)
    return finding.code if finding is not None else _text_code(links)


def _text_code(links: list[BaseException]) -> str | None:
    """What the errors' texts say, read as ``diagnose`` reads a check's output: the apps' own
    words first (the log signatures: SQLAlchemy's "QueuePool limit … reached" is the app's
    pool, not a network timeout), then the probers' error texts."""
    from faultfinder.classify.signatures import classify  # RE2, only once a check has failed

    for link in links:
        text = describe(link)
        code = classify(text) or classify_text(text)
        if code is not None:
            return code
    return None


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
    """The prober's own classifier for this client library, on every link of the chain.

    Imported only now, when a check has failed: the probers need the stack file's loader,
    which an app that never fails a check never pays for."""
    from faultfinder.probe import client_classifier

    classify = client_classifier(kind)
    if classify is None:
        return None
    for link in links:
        finding = classify(target, link)
        if finding is not None and not finding.code.endswith(".error"):
            return finding.code
    return None
