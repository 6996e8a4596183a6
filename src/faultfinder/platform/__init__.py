"""The platform's own word: what Cloud Run, Cloud SQL, Serverless VPC Access, Secret Manager,
Kubernetes and Docker Compose say about a stack's components, read from the output of their
own command-line tools (``diagnose --platform FILE``; docs/platform.md).

``files`` reads the files into facts (one module per source: ``cloudrun``, ``cloudsql``,
``vpcaccess``, ``secrets``, ``kubernetes``, ``compose``), ``join`` finds the component each
object is, ``rules`` turns facts into findings (``conclude``, with ``cloud_rules`` and
``container_rules``; ``evidence`` holds what they find), ``render`` shows them. Nothing
here needs credentials or touches a network: the user runs the CLI, faultfinder reads what it
printed.
"""

from __future__ import annotations

from faultfinder.platform.facts import PlatformFacts
from faultfinder.platform.files import read_platform_files
from faultfinder.platform.rules import PlatformEvidence, PlatformFinding, conclude

__all__ = [
    "PlatformEvidence",
    "PlatformFacts",
    "PlatformFinding",
    "conclude",
    "read_platform_files",
]
