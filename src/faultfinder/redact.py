"""Keep secrets out of every output: mask known secret values wherever they appear."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

MASK = "***"
# Credentials that appear inline in text even when we never saw them configured.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+):([^@/\s]+)@")
_AUTHORIZATION = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer|basic)\s+)\S+")
# key=value pairs as in DSNs and query strings ("password: x" is too often prose)
_KEY_VALUE = re.compile(r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)=)[^\s&,;'\"]+")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every inline credential masked."""
    for secret in _longest_first(secrets if isinstance(secrets, frozenset) else frozenset(secrets)):
        text = text.replace(secret, MASK)
    # Each pattern runs only where its fixed part occurs: `watch` scrubs every result it keeps,
    # and most hold none of them.
    if "@" in text and "://" in text:
        text = _URL_CREDENTIALS.sub(r"\1:" + MASK + "@", text)
    if "uthorization" in text.lower():
        text = _AUTHORIZATION.sub(r"\1" + MASK, text)
    if "=" in text:
        text = _KEY_VALUE.sub(r"\1" + MASK, text)
    return text


@functools.lru_cache(maxsize=256)
def _longest_first(secrets: frozenset[str]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True))
