"""The lab's services: how each one is configured, started inside the namespace and known ready.

Each ``Service`` gives the command to run inside the namespace, its environment, and a
readiness check; ``control.Lab`` starts them in ``ORDER`` and keeps their process ids.
Scenario options (``Settings.options``) change how a service is configured on its next start.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faultfinder_lab import namespace
from faultfinder_lab.certificates import certificate_path
from faultfinder_lab.errors import LabError
from faultfinder_lab.proxies import HEALTH_PATH, haproxy_config, haproxy_servers, nginx_config
from faultfinder_lab.topology import (
    APP,
    APP_PORT,
    APP_RESOLVER,
    CACHE,
    CACHE_PORT,
    DEMO_USER,
    DOMAIN,
    HAPROXY,
    HOSTS,
    HTTP_PORT,
    HTTPS_PORT,
    MAX_CONNECTIONS,
    NGINX,
    POSTGRES,
    POSTGRES_DATABASE,
    POSTGRES_PORT,
    POSTGRES_USER,
    REDIS,
    REDIS_PORT,
    RESOLVER,
    Paths,
)


@dataclass(frozen=True)
class Settings:
    """What a service needs to know about its lab."""

    namespace: str
    paths: Paths
    postgres_password: str
    redis_password: str
    cache_password: str
    demo_password: str  # the golden path's user's
    token_key: str  # signs the app's bearer tokens
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    name: str
    command: Callable[[Settings], list[str]]
    ready: Callable[[Settings], bool]
    env: Callable[[Settings], dict[str, str]] = lambda settings: {}
    stop_signal: int = signal.SIGTERM


def binary(name: str) -> str:
    """The path of a server binary, or a LabError naming what to install."""
    # PostgreSQL's own bin directory first: Debian's /usr/bin wrappers want a cluster config.
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version, reverse=True)
    candidates += [shutil.which(name) or "", f"/usr/sbin/{name}"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise LabError(f"the lab needs {name}, which is not installed (run `make setup`)")


def _version(path: str) -> tuple[int, ...]:
    """/usr/lib/postgresql/15/bin/initdb → (15,): the newest PostgreSQL wins."""
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _inside(settings: Settings, check: Callable[[], bool]) -> bool:
    return namespace.inside(settings.namespace, check)


# --- dnsmasq: faultfinder's resolver and the app's own --------------------------------------


def _dnsmasq(address: str) -> Service:
    def command(settings: Settings) -> list[str]:
        return [
            binary("dnsmasq"),
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            f"--listen-address={address}",
            "--port=53",
            f"--local=/{DOMAIN}/",  # unknown lab names are NXDOMAIN, never forwarded
            "--user=root",
            "--pid-file=",
            "--log-facility=-",
            *(f"--host-record={name},{ip}" for name, ip in sorted(HOSTS.items())),
        ]

    def ready(settings: Settings) -> bool:
        return _inside(settings, lambda: namespace.resolver_answers(address, f"redis.{DOMAIN}"))

    return Service("resolver" if address == RESOLVER else "app-resolver", command, ready)


# --- Redis: the app's own, and the answer cache behind /ws/ask -----------------------------


def _redis(name: str, address: str, port: int, password: Callable[[Settings], str]) -> Service:
    def command(settings: Settings) -> list[str]:
        directory = settings.paths.root / name
        directory.mkdir(exist_ok=True)
        config = settings.paths.config / f"{name}.conf"
        config.write_text(
            f"bind {address}\nport {port}\nrequirepass {password(settings)}\n"
            f'save ""\nappendonly no\nprotected-mode no\ndaemonize no\ndir {directory}\n'
            'logfile ""\n'
        )
        config.chmod(0o600)
        return [binary("redis-server"), str(config)]

    def ready(settings: Settings) -> bool:
        return _inside(settings, lambda: namespace.port_open(address, port))

    return Service(name, command, ready)


# --- PostgreSQL -------------------------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    """Run as the ``postgres`` user (the server refuses root); setpriv execs, keeping the pid."""
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


def prepare_postgres(settings: Settings) -> None:
    """initdb (no fsync), the lab's pg_hba.conf, and the app's role and database."""
    data = settings.paths.postgres_data
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise LabError(
            "the lab runs PostgreSQL as the `postgres` user, which does not exist "
            "(install postgresql: run `make setup`)"
        ) from None
    home = data.parent
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, owner.pw_uid, owner.pw_gid)
    sockets = settings.paths.cloud_sql
    sockets.mkdir(parents=True, exist_ok=True)
    os.chown(sockets, owner.pw_uid, owner.pw_gid)
    password_file = home / "superuser-password"
    password_file.write_text(secrets.token_urlsafe(18) + "\n")
    os.chown(password_file, owner.pw_uid, owner.pw_gid)
    try:
        _run_checked(
            _as_postgres(
                [
                    binary("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={password_file}",
                    "--no-sync",
                    "--no-locale",
                    "-E",
                    "UTF8",
                ]
            ),
            "initdb",
        )
    finally:
        password_file.unlink(missing_ok=True)
    (data / "pg_hba.conf").write_text(
        "host all all 127.0.0.0/8 scram-sha-256\nlocal all all scram-sha-256\n"
    )
    # Single-user mode: the role and database exist before the server ever listens.
    statements = (
        f"CREATE ROLE {POSTGRES_USER} LOGIN PASSWORD '{settings.postgres_password}';\n"
        f"CREATE DATABASE {POSTGRES_DATABASE} OWNER {POSTGRES_USER};\n"
    )
    _run_checked(
        _as_postgres([binary("postgres"), "--single", "-D", str(data), "-F", "postgres"]),
        "postgres --single",
        stdin=statements,
    )


def _postgres_command(settings: Settings) -> list[str]:
    flags = {
        "listen_addresses": POSTGRES,
        "port": str(POSTGRES_PORT),
        "unix_socket_directories": str(settings.paths.cloud_sql),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": str(MAX_CONNECTIONS),
        "superuser_reserved_connections": "3",
        "shared_buffers": "16MB",
        "log_min_messages": "warning",
    }
    arguments = [f"--{name.replace('_', '-')}={value}" for name, value in flags.items()]
    return _as_postgres([binary("postgres"), "-D", str(settings.paths.postgres_data), *arguments])


def _postgres_ready(settings: Settings) -> bool:
    checked = namespace.run(
        settings.namespace,
        [binary("pg_isready"), "-q", "-h", POSTGRES, "-p", str(POSTGRES_PORT), "-t", "1"],
        check=False,
    )
    return checked.returncode == 0


# --- the reference app ------------------------------------------------------------------------


def _app_command(settings: Settings) -> list[str]:
    # Its own mount namespace, with the app's resolv.conf over /etc/resolv.conf: the app
    # resolves through 127.0.0.2 (its "VPC DNS"), faultfinder through 127.0.0.1.
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        str(settings.paths.app_resolv),
        sys.executable,
        "-m",
        "faultfinder_lab.app",
        "--host",
        APP,
        "--port",
        str(APP_PORT),
    ]


def _app_env(settings: Settings) -> dict[str, str]:
    env = {
        "LAB_POSTGRES_HOST": f"postgres.{DOMAIN}",
        "LAB_POSTGRES_PORT": str(POSTGRES_PORT),
        "LAB_POSTGRES_USER": POSTGRES_USER,
        "LAB_POSTGRES_DATABASE": POSTGRES_DATABASE,
        "LAB_POSTGRES_PASSWORD": settings.options.get(
            "app.postgres_password", settings.postgres_password
        ),
        "LAB_REDIS_HOST": f"redis.{DOMAIN}",
        "LAB_REDIS_PORT": str(REDIS_PORT),
        "LAB_REDIS_PASSWORD": settings.redis_password,
        # By address, as managed caches are often given: the app's resolver is not on its path.
        "LAB_CACHE_HOST": CACHE,
        "LAB_CACHE_PORT": str(CACHE_PORT),
        "LAB_CACHE_PASSWORD": settings.cache_password,
        "LAB_DEMO_USER": DEMO_USER,
        "LAB_DEMO_PASSWORD": settings.demo_password,
        "LAB_TOKEN_KEY": settings.token_key,
        "LAB_MODE_FILE": str(settings.paths.app_mode),
        "PYTHONUNBUFFERED": "1",
    }
    if settings.options.get("app.fail_at_startup"):
        env["LAB_FAIL_AT_STARTUP"] = "1"
    return env


def _app_ready(settings: Settings) -> bool:
    return _inside(settings, lambda: namespace.http_status(APP, APP_PORT, "/health/live") == 200)


# --- HAProxy: the load balancer, TLS for the API, plain HTTP for WebSockets -----------------


def _haproxy_command(settings: Settings) -> list[str]:
    paths = settings.paths
    certificate = certificate_path(
        paths.certificates, settings.options.get("haproxy.certificate", "valid")
    )
    api_check = settings.options.get("haproxy.check_path", HEALTH_PATH)
    config = paths.config / "haproxy.cfg"
    config.write_text(haproxy_config(paths.haproxy_socket, certificate, api_check))
    return [binary("haproxy"), "-db", "-f", str(config)]


def _haproxy_ready(settings: Settings) -> bool:
    listening = _inside(
        settings,
        lambda: (
            namespace.port_open(HAPROXY, HTTPS_PORT) and namespace.port_open(HAPROXY, HTTP_PORT)
        ),
    )
    return listening and bool(haproxy_servers(settings.paths.haproxy_socket))


# --- nginx: a second way in, for the 504 a hanging app earns --------------------------------


def _nginx_command(settings: Settings) -> list[str]:
    prefix = settings.paths.nginx
    prefix.mkdir(exist_ok=True)
    config = settings.paths.config / "nginx.conf"
    config.write_text(nginx_config(prefix))
    return [binary("nginx"), "-e", "stderr", "-p", str(prefix), "-c", str(config)]


def _nginx_ready(settings: Settings) -> bool:
    return _inside(settings, lambda: namespace.port_open(NGINX, HTTP_PORT))


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        _dnsmasq(RESOLVER),
        _dnsmasq(APP_RESOLVER),
        _redis("redis", REDIS, REDIS_PORT, lambda settings: settings.redis_password),
        _redis("cache", CACHE, CACHE_PORT, lambda settings: settings.cache_password),
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        Service("postgres", _postgres_command, _postgres_ready, stop_signal=signal.SIGINT),
        Service("app", _app_command, _app_ready, env=_app_env),
        Service("haproxy", _haproxy_command, _haproxy_ready),
        Service("nginx", _nginx_command, _nginx_ready),
    )
}
ORDER = tuple(SERVICES)  # start in this order, stop in reverse
# Started together, batch by batch: the app needs the servers, the proxies need the app.
BATCHES = (ORDER[: ORDER.index("app")], ("app",), ORDER[ORDER.index("app") + 1 :])


def _run_checked(argv: list[str], what: str, stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise LabError(f"{what} failed: {output[-1] if output else f'exit {done.returncode}'}")
