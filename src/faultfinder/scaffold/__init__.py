"""``faultfinder init``: a commented stack file from what a project already has — a Compose
file, a directory of Kubernetes manifests, a Cloud Run service export or a ``.env`` file.

``source`` reads the source and picks its module (``compose``, ``kubernetes``, ``cloudrun``,
``dotenv``); ``connections`` reads connection URLs and host/port variables; ``images`` tells a
database from a cache or a proxy by its image; ``write`` renders the file, checks it loads, and
diffs it against one already there. Secrets are written as ``${NAME}`` references only.
"""

from __future__ import annotations

from faultfinder.scaffold.model import Draft, Scaffold
from faultfinder.scaffold.source import scaffold_source
from faultfinder.scaffold.write import check, diff, render

__all__ = ["Draft", "Scaffold", "check", "diff", "render", "scaffold_source"]
