"""Evidence → fault code, as data: the one place that reads what a failure looked like.

Exceptions (``exceptions``: resolver EAI codes, errno, OpenSSL verify codes), servers' and
logs' error texts (``texts``: SQLSTATEs, Redis and PostgreSQL wordings) and HTTP error responses
(``responses``: the fingerprints of proxies' own error pages) each map to a code of the
catalogue (``faultfinder.faults``). Pure: no I/O, standard library only.
"""

from __future__ import annotations

from faultfinder.classify.exceptions import (
    chain,
    classify_os_error,
    classify_resolve_error,
    classify_socket_error,
    classify_tls_error,
    describe,
)
from faultfinder.classify.finding import Finding
from faultfinder.classify.texts import classify_sqlstate, classify_text

__all__ = [
    "Finding",
    "chain",
    "classify_os_error",
    "classify_resolve_error",
    "classify_socket_error",
    "classify_sqlstate",
    "classify_text",
    "classify_tls_error",
    "describe",
]
