"""What a container image is, by its name: a database, a cache, a proxy, or an app. The names
are the official images' (Docker Hub ``postgres``, ``redis``, ``nginx``…) and common forks."""

from __future__ import annotations

import re

POSTGRES = ("postgres", "postgis", "timescaledb", "pgvector", "supabase/postgres")
REDIS = ("redis", "valkey", "keydb", "redis-stack")
PROXIES = ("nginx", "traefik", "haproxy", "caddy", "envoy", "httpd", "openresty")
# Images faultfinder can only reach over TCP, with their default port.
TCP_IMAGES = {
    "mysql": 3306,
    "mariadb": 3306,
    "mongo": 27017,
    "rabbitmq": 5672,
    "memcached": 11211,
    "nats": 4222,
    "kafka": 9092,
    "zookeeper": 2181,
}


def family(image: str) -> str:
    """``postgresql``, ``redis``, ``proxy``, ``tcp`` or ``http`` (anything else serving)."""
    name = _base(image)
    if any(name == known or name.endswith(f"/{known}") for known in POSTGRES):
        return "postgresql"
    if any(name == known or name.endswith(f"/{known}") for known in REDIS):
        return "redis"
    if any(name == known or name.endswith(f"/{known}") for known in PROXIES):
        return "proxy"
    if tcp_port(image):
        return "tcp"
    return "http"


def tcp_port(image: str) -> int:
    name = _base(image)
    return next(
        (
            port
            for known, port in TCP_IMAGES.items()
            if name == known or name.endswith(f"/{known}") or name.endswith(f"/cp-{known}")
        ),
        0,
    )


def default_port(kind: str) -> int:
    return {"postgresql": 5432, "redis": 6379, "proxy": 80}.get(kind, 0)


def _base(image: str) -> str:
    """``docker.io/library/postgres:16-alpine@sha256:…`` → ``postgres`` (registry dropped
    when it is Docker Hub's, the repository path kept otherwise)."""
    name = image.split("@", 1)[0]
    name = re.sub(r":[^/]+$", "", name).lower()
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name
