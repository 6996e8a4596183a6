"""Where everything lives in the lab: loopback addresses, DNS names, ports and file paths.

Every service listens on its own 127.0.x.y address inside the lab's namespace, so no packet
ever leaves that namespace's ``lo``. Two resolvers serve the same ``lab.internal`` zone:
faultfinder's (127.0.0.1, like the operator's laptop or a monitoring host) and the app's own
(127.0.0.2, like the VPC DNS an app reaches through its connector).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DOMAIN = "lab.internal"
RESOLVER = "127.0.0.1"  # faultfinder's resolver: /etc/netns/NAME/resolv.conf points here
APP_RESOLVER = "127.0.0.2"  # the app's own resolver, bind-mounted over its /etc/resolv.conf
REDIS = "127.0.10.2"
POSTGRES = "127.0.10.3"
APP = "127.0.10.4"
HAPROXY = "127.0.10.5"
NGINX = "127.0.10.6"
CACHE = "127.0.10.7"  # the answer cache: a second Redis, only /ws/ask uses it

REDIS_PORT = 6379
CACHE_PORT = 6379
POSTGRES_PORT = 5432
APP_PORT = 8000
HTTPS_PORT = 443
HTTP_PORT = 80

# The lab's zone, served by both resolvers. The load balancer's name has two labels under
# the zone on purpose: a `*.lab.internal` wildcard certificate does not cover it.
HOSTS = {
    f"redis.{DOMAIN}": REDIS,
    f"postgres.{DOMAIN}": POSTGRES,
    f"app.{DOMAIN}": APP,
    f"api.edge.{DOMAIN}": HAPROXY,
    f"ws.{DOMAIN}": HAPROXY,
    f"web.{DOMAIN}": NGINX,
    f"cache.{DOMAIN}": CACHE,
}
LB_NAME = f"api.edge.{DOMAIN}"

POSTGRES_USER = "app"
DEMO_USER = "demo"  # the golden path's user; its password is generated per lab
POSTGRES_DATABASE = "app"
CLOUD_SQL_INSTANCE = "lab:europe-west1:orders"  # PROJECT:REGION:INSTANCE, as Cloud SQL names it
MAX_CONNECTIONS = 20  # small, so that holding every slot takes a moment, not a minute

STATE_ROOT = Path("/run/faultfinder-lab")
NETNS_ETC = Path("/etc/netns")
DEFAULT_NAME = "ff-lab"


@dataclass(frozen=True)
class Paths:
    """The files of one lab, all under its state directory."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def stack(self) -> Path:
        return self.root / "stack.yaml"

    @property
    def stack_as_written(self) -> Path:
        """The stack file as `up` wrote it, kept while a scenario edits the stack itself."""
        return self.root / "stack.yaml.orig"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def certificates(self) -> Path:
        return self.root / "certs"

    @property
    def ca(self) -> Path:
        return self.certificates / "ca.pem"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def postgres_data(self) -> Path:
        return self.root / "postgres" / "data"

    @property
    def cloud_sql(self) -> Path:
        """Where PostgreSQL's socket lives, in Cloud SQL's shape: /cloudsql/INSTANCE on Cloud
        Run (the lab keeps its own under its state directory)."""
        return self.root / "cloudsql" / CLOUD_SQL_INSTANCE

    @property
    def app_resolv(self) -> Path:
        return self.config / "app-resolv.conf"

    @property
    def app_mode(self) -> Path:
        return self.root / "app-mode"

    @property
    def haproxy_socket(self) -> Path:
        return self.root / "haproxy.sock"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def compose_ps(self) -> Path:
        """The lab's services as `docker compose ps --format json` (faultfinder_lab.describe)."""
        return self.root / "compose-ps.json"

    @property
    def described(self) -> Path:
        """The stack `faultfinder init` writes from the lab's Compose description."""
        return self.root / "described.yaml"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def created(self) -> list[Path]:
        """Everything the lab creates in its state directory (and nothing else there)."""
        return [
            self.state,
            self.state.with_suffix(".tmp"),
            self.stack,
            self.stack_as_written,
            self.logs,
            self.certificates,
            self.config,
            self.postgres_data.parent,
            self.cloud_sql.parent,
            self.app_mode,
            self.haproxy_socket,
            self.redis,
            self.cache,
            self.nginx,
            self.compose_ps,
            self.described,
        ]


def stack_document(
    name: str,
    paths: Paths,
    postgres_password: str,
    redis_password: str,
    *,
    cache_password: str,
    demo_password: str,
) -> str:
    """The lab's stack file: the incident's shape, seen from inside the namespace."""
    components: dict[str, Any] = {
        "lb": {
            "url": f"https://{LB_NAME}/",
            "via": ["backend"],
            "category": "load_balancer",
            "critical": True,
            "platform": "haproxy",  # its name in descriptions/ (diagnose --platform)
        },
        "ws": {
            "url": f"ws://ws.{DOMAIN}/ws",
            "via": ["backend"],
            "send": "ping",
            "expect": {"message": "ping"},
        },
        "web": {"url": f"http://web.{DOMAIN}/", "via": ["backend"], "platform": "nginx"},
        "backend": {
            "url": f"http://app.{DOMAIN}:{APP_PORT}/health/infrastructure",
            "depends_on": ["postgres", "redis", "cache"],
            "health": True,
            "platform": "app",
        },
        "postgres": {
            "url": f"postgresql://{POSTGRES_USER}:{postgres_password}@postgres.{DOMAIN}:"
            f"{POSTGRES_PORT}/{POSTGRES_DATABASE}"
        },
        # the same server through its Unix socket, as an app on Cloud Run reaches Cloud SQL
        "postgres_socket": {
            "url": f"postgresql://{POSTGRES_USER}:{postgres_password}@/{POSTGRES_DATABASE}"
            f"?host={paths.cloud_sql}&port={POSTGRES_PORT}",
            "depends_on": ["postgres"],
        },
        "redis": {"url": f"redis://:{redis_password}@redis.{DOMAIN}:{REDIS_PORT}/0"},
        "cache": {"url": f"redis://:{cache_password}@cache.{DOMAIN}:{CACHE_PORT}/0"},
        "golden_path": golden_path(demo_password),
    }
    document = {
        "version": 1,
        "name": "lab",
        "defaults": {"timeout": "2s", "tls": {"ca": str(paths.ca)}},
        "components": components,
    }
    header = (
        f"# The faultfinder lab's stack, written by `faultfinder lab up --name {name}`.\n"
        f"# Diagnose it from inside the lab: faultfinder lab diagnose --name {name}\n"
        f"#   (or: ip netns exec {name} faultfinder diagnose {paths.stack})\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False)


def golden_path(demo_password: str) -> dict[str, Any]:
    """The user's path through the load balancer: log in over HTTPS, ask over a WebSocket.

    Login needs only PostgreSQL; the answer needs the cache Redis, so each fault stops the
    flow at the step a user would be stopped at.
    """
    bearer = {"Authorization": "Bearer {token}"}
    return {
        "flow": {
            "variables": {"user": DEMO_USER, "password": demo_password},
            "steps": [
                {
                    "name": "login",
                    "url": f"https://{LB_NAME}/login",
                    "method": "POST",
                    "json": {"user": "{user}", "password": "{password}"},
                    "expect": {"status": 200, "json": {"$.user": "{user}"}},
                    "capture": {"token": "$.token"},
                    "timeout": "2s",
                },
                {
                    "name": "ask",
                    "url": f"ws://ws.{DOMAIN}/ws/ask",
                    "headers": bearer,
                    "send": '{"question": "6 x 7"}',
                    "expect": {"json": {"$.answer": "42"}},
                    "within": "2s",
                    "timeout": "2s",
                },
            ],
            "cleanup": [
                {
                    "name": "logout",
                    "url": f"https://{LB_NAME}/logout",
                    "method": "POST",
                    "headers": bearer,
                    "timeout": "2s",
                }
            ],
        },
        "via": ["lb", "ws"],
        "critical": True,
        "timeout": "6s",  # the three steps' own deadlines together
    }
