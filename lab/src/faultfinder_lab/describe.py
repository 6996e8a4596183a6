"""The lab as a platform would describe it: its services in the shape `docker compose ps
--format json` prints (one JSON object a line), and the Compose and Kubernetes descriptions
of its services (``descriptions/``) that `faultfinder init` turns into a stack file.

The lab runs its services as processes, not containers, and keeps no exit status: a process
that is gone is written as ``exited`` with exit code 1 (a server that stopped unasked), one
stopped with SIGSTOP as ``paused``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from faultfinder_lab.topology import (
    APP,
    APP_PORT,
    CACHE,
    CACHE_PORT,
    HAPROXY,
    HTTP_PORT,
    NGINX,
    POSTGRES,
    POSTGRES_PORT,
    REDIS,
    REDIS_PORT,
)

if TYPE_CHECKING:
    from faultfinder_lab.control import Lab

DESCRIPTIONS = Path(__file__).parent / "descriptions"
COMPOSE_FILE = DESCRIPTIONS / "docker-compose.yml"
KUBERNETES_DIRECTORY = DESCRIPTIONS / "kubernetes"
# The services of the Compose description → (lab address, port), as published there.
PUBLISHED = {
    "postgres": (POSTGRES, POSTGRES_PORT),
    "redis": (REDIS, REDIS_PORT),
    "cache": (CACHE, CACHE_PORT),
    "app": (APP, APP_PORT),
    "haproxy": (HAPROXY, HTTP_PORT),
    "nginx": (NGINX, HTTP_PORT),
}


def compose_ps(lab: Lab) -> str:
    """Compose's ContainerSummary for each service (docker/compose ``pkg/api/api.go``)."""
    lines = []
    for service, (address, port) in PUBLISHED.items():
        if lab.paused(service):
            state, exit_code, status = "paused", 0, "Up (Paused)"
        elif lab.running(service):
            state, exit_code, status = "running", 0, "Up"
        else:
            state, exit_code, status = "exited", 1, "Exited (1)"
        summary = {
            "Name": f"{lab.name}-{service}-1",
            "Project": lab.name,
            "Service": service,
            "State": state,
            "Status": status,
            "Health": "",
            "ExitCode": exit_code,
            "Publishers": [
                {"URL": address, "TargetPort": port, "PublishedPort": port, "Protocol": "tcp"}
            ],
        }
        lines.append(json.dumps(summary, sort_keys=True))
    return "\n".join(lines) + "\n"


def secrets_environment(lab: Lab) -> dict[str, str]:
    """The variables the stack `init` writes from the Compose description refers to."""
    state = lab.require_state()
    return {
        "POSTGRES_PASSWORD": state.postgres_password,
        "REDIS_PASSWORD": state.redis_password,
        "CACHE_PASSWORD": state.cache_password,
    }
