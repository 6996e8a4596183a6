"""Keep secrets out of every output: mask known secret values wherever they appear."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# Credentials that appear inline in text even when we never saw them configured.
_INLINE = (
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+):([^@/\s]+)@"), r"\1:" + MASK + "@"),
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer|basic)\s+)\S+"), r"\1" + MASK),
    # key=value pairs as in DSNs and query strings ("password: x" is too often prose)
    (
        re.compile(r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)=)[^\s&,;'\"]+"),
        r"\1" + MASK,
    ),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every inline credential masked."""
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text
