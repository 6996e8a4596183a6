"""Keep secrets out of every output: one ``Redactor``, built with a stack's secrets, masks them
wherever they appear (text, URLs, whole documents), with credentials written inline too.

What counts as a secret is found where the stack file is read (``faultfinder.config``):
``${ENV}`` values with secret-looking names or in a URL's user-info or a header, passwords in
URLs (and the Basic credentials built from them), secret-looking query values, header values.
``url_secrets`` is the part of that rule that reads a URL, shared with the health library.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import re
from collections.abc import Iterable
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

MASK = "***"
# A name (an environment variable, a query parameter) whose value is a secret.
SECRET_NAME = re.compile(r"pass|secret|token|key|auth|credential|pwd", re.IGNORECASE)
# Credentials that appear inline in text even when we never saw them configured.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*):([^@/\s]+)@")  # redis://:pw@
_AUTHORIZATION = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer|basic)\s+)\S+")
# key=value pairs as in DSNs and query strings ("password: x" is too often prose)
_KEY_VALUE = re.compile(r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)=)[^\s&,;'\"]+")

T = TypeVar("T")


class Redactor:
    """Masks known secrets, and inline credentials anyone could recognise, as ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = frozenset(secrets)
        self._longest_first = _longest_first(self.secrets)

    def __call__(self, text: str) -> str:
        """``text`` with every known secret and every inline credential masked."""
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, MASK)
        # Each pattern runs only where its fixed part occurs: `watch` scrubs every result it
        # keeps, and most hold none of them.
        if "@" in text and "://" in text:
            text = _URL_CREDENTIALS.sub(r"\1:" + MASK + "@", text)
        if "uthorization" in text.lower():
            text = _AUTHORIZATION.sub(r"\1" + MASK, text)
        if "=" in text:
            text = _KEY_VALUE.sub(r"\1" + MASK, text)
        return text

    def url(self, url: str) -> str:
        """A URL with its password and secret-looking query values masked, then as text."""
        return self(redact_url(url))

    def document(self, value: T) -> T:
        """A copy of ``value`` with every string in it masked: JSON documents (dicts, lists)
        and frozen result types (dataclasses, tuples) alike, before a renderer sees them — a
        table wraps long cells, which could split a secret so the text pass misses it."""
        return self._copy(value)  # type: ignore[no-any-return]

    def _copy(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Enum):
            return value
        if isinstance(value, dict):
            return {key: self._copy(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._copy(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self._copy(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                field.name: self._copy(getattr(value, field.name))
                for field in dataclasses.fields(value)
                if field.init
            }
            return dataclasses.replace(value, **changes)
        return value

    def adding(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that masks these secrets as well."""
        return Redactor(self.secrets | frozenset(secrets))


def redact_url(url: str) -> str:
    """Mask the password and any secret-looking query value of a URL."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:{MASK}@{host}"
    query = parts.query
    if query:
        query = "&".join(
            f"{key}={MASK}" if SECRET_NAME.search(key) else f"{key}={value}" if value else key
            for key, value in parse_qsl(query, keep_blank_values=True)
        )
    return parts._replace(netloc=netloc, query=query).geturl()


def url_secrets(url: str | SplitResult) -> set[str]:
    """A URL's secrets: its password as written and decoded, the Basic credentials an HTTP
    client builds from its user-info, and secret-looking query values."""
    parts = urlsplit(url) if isinstance(url, str) else url
    found: set[str] = set()
    if parts.password:
        found.update({parts.password, unquote(parts.password)})
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password)}"
        found.add(base64.b64encode(pair.encode()).decode("ascii"))
    query = parse_qsl(parts.query)
    found.update(value for key, value in query if value and SECRET_NAME.search(key))
    return found


def header_secrets(value: str) -> set[str]:
    """A header value's secrets: the value, and the credential inside an ``Authorization``
    scheme (``Bearer TOKEN``, ``Basic BASE64`` and the password it encodes), which a server
    may echo without the scheme word."""
    found = {value}
    scheme, _, credential = value.strip().partition(" ")
    credential = credential.strip()
    if not credential or not scheme.isalpha():
        return found
    found.add(credential)
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            pair = base64.b64decode(credential, validate=True).decode()
            found.update({pair, pair.partition(":")[2]} - {""})
    return found


@functools.lru_cache(maxsize=256)
def _longest_first(secrets: frozenset[str]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True))


# Masks nothing configured, only inline credentials: for text made before any stack is read.
INLINE = Redactor()
