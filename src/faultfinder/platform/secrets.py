"""Secret Manager: ``gcloud secrets versions list SECRET --format=json`` (or ``describe``).

Fields as the Secret Manager API v1 defines a SecretVersion
(https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions#SecretVersion):
``name`` (projects/*/secrets/*/versions/*) and ``state`` (ENABLED, DISABLED, DESTROYED). Only
names and states are read: a secret's value is never in these files, nor read if it were.
"""

from __future__ import annotations

import re

from faultfinder.platform._fields import Node
from faultfinder.platform.facts import PlatformFacts, SecretVersion

_NAME = re.compile(r"projects/[^/]+/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)")


def recognises(node: Node) -> bool:
    value = node.value
    return isinstance(value, dict) and bool(_NAME.fullmatch(str(value.get("name", ""))))


def read(node: Node) -> PlatformFacts:
    match = _NAME.fullmatch(node.text("name"))
    if match is None:
        raise node.error("not a secret version's name (projects/*/secrets/*/versions/*)", "name")
    version = SecretVersion(
        secret=match["secret"], version=match["version"], state=node.text("state"), source=node.file
    )
    return PlatformFacts(secret_versions=(version,))
