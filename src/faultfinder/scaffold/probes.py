"""The health path a container declares: a Compose ``healthcheck.test`` that fetches a local
URL (curl, wget), or a Kubernetes/Cloud Run probe's ``httpGet``."""

from __future__ import annotations

import re

# curl -f http://localhost:8000/health, wget -qO- 127.0.0.1:3000/health, localhost:4000/api/…
_LOCAL_URL = re.compile(
    r"(?:https?://)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>\d{1,5}))?"
    r"(?P<path>/[^\s'\"|;&)]*)"
)
HEALTH_WORDS = ("health", "ready", "readiness", "live", "status", "ping", "actuator")


def from_command(test: object) -> tuple[int, str] | None:
    """(port or 0, path) of the URL a healthcheck's test fetches, or None."""
    text = " ".join(str(part) for part in test) if isinstance(test, list) else str(test or "")
    match = _LOCAL_URL.search(text)
    if match is None:
        return None
    return int(match["port"] or 0), match["path"]


def is_health_path(path: str) -> bool:
    """A path that names a health or readiness endpoint (the body may be a health document)."""
    return any(word in path.lower() for word in HEALTH_WORDS)
