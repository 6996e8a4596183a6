"""The lab's scenarios: name → how to break it for real, how to fix it, what diagnosis must say.

Each break really breaks something (a process killed or stopped, a firewall rule, a changed
password, a different certificate) and waits until the damage is visible where it would be in
production (HAProxy's health checks marking the backend down, say); each fix restores it.
``expected`` is what ``faultfinder diagnose`` must conclude; tests/lab checks every one,
including the step at which the golden path (log in through HAProxy, then ask over a
WebSocket) stops.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis
import yaml

from faultfinder.faults import Owner
from faultfinder_lab import namespace
from faultfinder_lab.errors import LabError
from faultfinder_lab.holder import READY
from faultfinder_lab.proxies import HEALTH_PATH
from faultfinder_lab.topology import (
    APP,
    APP_PORT,
    HAPROXY,
    HTTP_PORT,
    HTTPS_PORT,
    NGINX,
    POSTGRES,
    POSTGRES_DATABASE,
    POSTGRES_PORT,
    POSTGRES_USER,
    REDIS,
    REDIS_PORT,
)

if TYPE_CHECKING:  # the lab runs the scenarios (control imports this module)
    from faultfinder_lab.control import Lab


GOLDEN_PATH = "golden_path"  # the lab stack's flow component


@dataclass(frozen=True)
class Expected:
    """The diagnosis a scenario must get: its one root cause, and components that are symptoms."""

    component: str
    code: str
    owner: Owner
    vantage: str = "faultfinder"
    symptoms: tuple[str, ...] = ()
    app_says: str = ""  # when seen from the app: words of the app's own error for it
    flow_step: str = ""  # the golden path's step that must fail; "" when it must pass
    note: str = ""  # words of a note the diagnosis must make on the app (component backend)
    warns: tuple[str, ...] = ()  # components left degraded with a warning code (not down)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    breaks: Callable[[Lab], None]
    fixes: Callable[[Lab], None]
    expected: Expected


def _backend_marked_down(lab: Lab) -> None:
    """HAProxy's health check on the app's health document has taken it out of rotation."""
    lab.wait_haproxy("DOWN", server="api/app")


# --- the incident: the app's own resolver is dead, Redis resolves fine from outside ---------


def _kill_app_resolver(lab: Lab) -> None:
    lab.stop("app-resolver")
    _backend_marked_down(lab)


def _restart_app_resolver(lab: Lab) -> None:
    lab.start("app-resolver")


def _kill_app_resolver_answering_200(lab: Lab) -> None:
    # Its health document fails, but answers 200: HAProxy's check, which reads only the
    # status, keeps the app in rotation.
    lab.set_app_mode("health-200")
    lab.stop("app-resolver")
    lab.wait(lambda: _app_sees(lab, "redis", "fail"), "the app's document to show redis fail")


def _restart_app_resolver_answering_truthfully(lab: Lab) -> None:
    lab.set_app_mode("ok")
    lab.start("app-resolver")


# --- Redis ------------------------------------------------------------------------------------

_DROP_REDIS = ["INPUT", "-d", REDIS, "-p", "tcp", "--dport", str(REDIS_PORT), "-j", "DROP"]


def _blackhole_redis(lab: Lab) -> None:
    lab.run(["iptables", "-w", "-I", *_DROP_REDIS])
    _backend_marked_down(lab)


def _unblock_redis(lab: Lab) -> None:
    lab.run(["iptables", "-w", "-D", *_DROP_REDIS])


def _hang_redis(lab: Lab) -> None:
    lab.signal("redis", signal.SIGSTOP)
    _backend_marked_down(lab)


def _resume_redis(lab: Lab) -> None:
    lab.signal("redis", signal.SIGCONT)


def _set_requirepass(lab: Lab, current: str, new: str) -> None:
    def change() -> None:
        client = redis.Redis(host=REDIS, port=REDIS_PORT, password=current, socket_timeout=2)
        try:
            client.config_set("requirepass", new)
        finally:
            client.close()

    lab.inside(change)


def _rotate_redis_password(lab: Lab) -> None:
    # Someone rotates Redis's password; neither the app nor the stack file got the new one.
    rotated = "rotated-" + secrets.token_urlsafe(9)
    lab.set_option("redis.requirepass", rotated)
    _set_requirepass(lab, lab.settings.redis_password, rotated)
    _backend_marked_down(lab)


def _restore_redis_password(lab: Lab) -> None:
    settings = lab.settings
    rotated = settings.options.get("redis.requirepass")
    if rotated:
        _set_requirepass(lab, rotated, settings.redis_password)
    lab.set_option("redis.requirepass", None)


def _stop_cache(lab: Lab) -> None:
    # Only /ws/ask needs the cache: the app's document warns, HAProxy keeps the app in rotation.
    lab.stop("cache")
    lab.wait(lambda: _app_sees(lab, "cache", "fail"), "the app's document to show the cache fail")


def _app_sees(lab: Lab, check: str, status: str) -> bool:
    """The app's health document reports ``check`` with ``status`` (past its cache's TTL)."""
    document = lab.inside(lambda: namespace.http_json(APP, APP_PORT, HEALTH_PATH))
    entries = (document or {}).get("checks", {}).get(f"{check}:responseTime", [{}])
    return bool(entries and entries[0].get("status") == status)


def _start_cache(lab: Lab) -> None:
    lab.start("cache")


# --- PostgreSQL -------------------------------------------------------------------------------


def _hold_postgres_slots(lab: Lab) -> None:
    lab.spawn(
        "holder",
        [
            *lab.namespace_prefix,
            sys.executable,
            "-m",
            "faultfinder_lab.holder",
            "--host",
            POSTGRES,
            "--port",
            str(POSTGRES_PORT),
            "--user",
            POSTGRES_USER,
            "--database",
            POSTGRES_DATABASE,
        ],
        {"LAB_POSTGRES_PASSWORD": lab.settings.postgres_password},
    )
    lab.wait(
        lambda: lab.log_tail("holder").startswith(READY) or not lab.running("holder"),
        "the holder to take every connection slot",
    )
    if not lab.running("holder"):
        raise LabError(f"the connection holder exited: {lab.log_tail('holder')}")


def _release_postgres_slots(lab: Lab) -> None:
    lab.stop("holder")


def _hang_postgres(lab: Lab) -> None:
    lab.signal("postgres", signal.SIGSTOP)
    _backend_marked_down(lab)


def _resume_postgres(lab: Lab) -> None:
    lab.signal("postgres", signal.SIGCONT)


def _app_wrong_password(lab: Lab) -> None:
    # A bad deploy: the app's secret holds a wrong database password; the server is fine.
    lab.set_option("app.postgres_password", "wrong-" + secrets.token_urlsafe(9))
    lab.restart("app")
    _backend_marked_down(lab)


def _app_right_password(lab: Lab) -> None:
    lab.set_option("app.postgres_password", None)
    lab.restart("app")


# --- Cloud SQL's socket: what an app on Cloud Run reaches PostgreSQL through ----------------


def _moved(lab: Lab) -> Path:
    return lab.paths.cloud_sql.with_name(lab.paths.cloud_sql.name + ".moved")


def _remove_cloud_sql_socket(lab: Lab) -> None:
    # The service lost its Cloud SQL connection (or the Auth Proxy never started): no socket.
    lab.paths.cloud_sql.rename(_moved(lab))


def _leave_a_dead_cloud_sql_socket(lab: Lab) -> None:
    # The Auth Proxy died and left its socket file: it exists, nothing listens on it.
    _remove_cloud_sql_socket(lab)
    lab.paths.cloud_sql.mkdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(lab.paths.cloud_sql / f".s.PGSQL.{POSTGRES_PORT}"))
    stale.close()


def _restore_cloud_sql_socket(lab: Lab) -> None:
    if lab.paths.cloud_sql.exists():
        shutil.rmtree(lab.paths.cloud_sql)
    _moved(lab).rename(lab.paths.cloud_sql)


# --- a URL in the stack file at the wrong service: the mistake is the stack's own -----------


def _aim(component: str, host: str, port: int, scheme: str = "") -> Callable[[Lab], None]:
    """Point a component of the stack file at another host and port (and scheme), as a
    copy-paste slip in a stack file would: nothing else in the lab changes."""

    def aim(lab: Lab) -> None:
        stack, kept = lab.paths.stack, lab.paths.stack_as_written
        if not kept.exists():
            shutil.copy2(stack, kept)
        document = yaml.safe_load(stack.read_text())
        parts = urlsplit(document["components"][component]["url"])
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
        url = parts._replace(scheme=scheme or parts.scheme, netloc=netloc).geturl()
        document["components"][component]["url"] = url
        stack.write_text(yaml.safe_dump(document, sort_keys=False))

    return aim


def _restore_stack(lab: Lab) -> None:
    lab.paths.stack_as_written.replace(lab.paths.stack)


# --- HAProxy and nginx --------------------------------------------------------------------


def _misconfigure_haproxy_check(lab: Lab) -> None:
    # The API backend's health check asks for a path the app does not serve (404).
    lab.set_option("haproxy.check_path", "/healthz")
    lab.restart("haproxy")
    _backend_marked_down(lab)


def _restore_haproxy_check(lab: Lab) -> None:
    lab.set_option("haproxy.check_path", None)
    lab.restart("haproxy")


def _serve_certificate(variant: str) -> Callable[[Lab], None]:
    def serve(lab: Lab) -> None:
        lab.set_option("haproxy.certificate", None if variant == "valid" else variant)
        lab.restart("haproxy")

    return serve


# --- the app itself ---------------------------------------------------------------------------


def _app_mode(mode: str, *, settle: bool) -> Callable[[Lab], None]:
    def switch(lab: Lab) -> None:
        lab.set_app_mode(mode)
        if settle:
            _backend_marked_down(lab)

    return switch


def _app_fails_at_startup(lab: Lab) -> None:
    lab.set_option("app.fail_at_startup", "1")
    lab.stop("app")
    lab.start("app", wait=False)
    lab.wait_exited("app")
    _backend_marked_down(lab)


def _app_starts_normally(lab: Lab) -> None:
    lab.set_option("app.fail_at_startup", None)
    lab.restart("app")


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "app-resolver-dead",
            "the incident: the app's own resolver (its VPC DNS) is dead; "
            "Redis resolves fine from faultfinder's side",
            _kill_app_resolver,
            _restart_app_resolver,
            Expected(
                "redis",
                "dns.temporary_failure",
                Owner.INFRASTRUCTURE,
                "backend",
                ("backend", "lb"),
                app_says="Error -3 connecting to redis.lab.internal:6379. "
                "Temporary failure in name resolution.",
                flow_step="login",
            ),
        ),
        Scenario(
            "app-200-while-failing",
            "the incident again, with an app whose health endpoint answers 200 while its "
            "document says it fails: HAProxy keeps routing to it, and the golden path passes "
            "on the app's pooled connections, so only the document tells",
            _kill_app_resolver_answering_200,
            _restart_app_resolver_answering_truthfully,
            Expected(
                "redis",
                "dns.temporary_failure",
                Owner.INFRASTRUCTURE,
                "backend",
                ("backend",),
                app_says="Error -3 connecting to redis.lab.internal:6379. "
                "Temporary failure in name resolution.",
                note="answers 200 while its health document says it fails",
            ),
        ),
        Scenario(
            "cloud-sql-socket-missing",
            "the Cloud SQL socket directory is gone (a service without its Cloud SQL "
            "connection); PostgreSQL over TCP and the golden path are fine",
            _remove_cloud_sql_socket,
            _restore_cloud_sql_socket,
            Expected("postgres_socket", "socket.missing", Owner.CONFIGURATION),
        ),
        Scenario(
            "cloud-sql-socket-dead",
            "a socket file is left where Cloud SQL's was, with nothing listening (a dead Auth "
            "Proxy); PostgreSQL over TCP and the golden path are fine",
            _leave_a_dead_cloud_sql_socket,
            _restore_cloud_sql_socket,
            Expected("postgres_socket", "socket.refused", Owner.INFRASTRUCTURE),
        ),
        Scenario(
            "stack-redis-url-at-postgres",
            "the stack file's redis URL names PostgreSQL's address and port (a copy-paste slip)",
            _aim("redis", POSTGRES, POSTGRES_PORT),
            _restore_stack,
            Expected("redis", "protocol.mismatch", Owner.CONFIGURATION),
        ),
        Scenario(
            "stack-http-url-at-redis",
            "the stack file's web URL names Redis's address and port",
            _aim("web", REDIS, REDIS_PORT),
            _restore_stack,
            Expected("web", "protocol.mismatch", Owner.CONFIGURATION),
        ),
        Scenario(
            "stack-postgres-url-at-http",
            "the stack file's postgres URL names nginx's HTTP port, which waits in silence for "
            "the rest of a request after PostgreSQL's SSLRequest",
            _aim("postgres", NGINX, HTTP_PORT),
            _restore_stack,
            Expected("postgres", "protocol.mismatch", Owner.CONFIGURATION),
        ),
        Scenario(
            "stack-https-at-a-plain-port",
            "the stack file asks nginx's plain HTTP port for TLS (https:// on port 80)",
            _aim("web", NGINX, HTTP_PORT, "https"),
            _restore_stack,
            Expected("web", "protocol.mismatch", Owner.CONFIGURATION),
        ),
        Scenario(
            "stack-http-at-a-tls-port",
            "the stack file speaks plain HTTP to HAProxy's TLS port (http:// on port 443)",
            _aim("lb", HAPROXY, HTTPS_PORT, "http"),
            _restore_stack,
            Expected("lb", "protocol.mismatch", Owner.CONFIGURATION),
        ),
        Scenario(
            "app-pool-exhausted",
            "the app's own code holds every connection of its SQLAlchemy pool (a leak); "
            "PostgreSQL is fine, and HAProxy takes the app out of rotation on its 503",
            _app_mode("exhaust-pool", settle=True),
            _app_mode("ok", settle=False),
            Expected(
                "backend",
                "app.pool_exhausted",
                Owner.APPLICATION,
                "backend",
                ("lb",),
                app_says="QueuePool limit of size 2 overflow 0 reached",
                flow_step="login",
            ),
        ),
        Scenario(
            "redis-blackholed",
            "a firewall rule drops every packet to Redis",
            _blackhole_redis,
            _unblock_redis,
            Expected(
                "redis",
                "tcp.timeout",
                Owner.INFRASTRUCTURE,
                symptoms=("backend", "lb"),
                flow_step="login",
            ),
        ),
        Scenario(
            "redis-hung",
            "Redis is stopped (SIGSTOP): the kernel accepts connections, nothing answers",
            _hang_redis,
            _resume_redis,
            Expected(
                "redis",
                "redis.timeout",
                Owner.INFRASTRUCTURE,
                symptoms=("backend", "lb"),
                flow_step="login",
            ),
        ),
        Scenario(
            "redis-auth-required",
            "Redis's password was rotated behind the app's back",
            _rotate_redis_password,
            _restore_redis_password,
            Expected(
                "redis",
                "redis.auth_failed",
                Owner.CONFIGURATION,
                symptoms=("backend", "lb"),
                flow_step="login",
            ),
        ),
        Scenario(
            "postgres-slots-exhausted",
            "another client holds every PostgreSQL connection slot",
            _hold_postgres_slots,
            _release_postgres_slots,
            # The app's pool was connected before: users still log in and get answers.
            Expected("postgres", "postgres.too_many_connections", Owner.INFRASTRUCTURE),
        ),
        Scenario(
            "postgres-hung",
            "PostgreSQL is stopped (SIGSTOP): connections are accepted, never answered",
            _hang_postgres,
            _resume_postgres,
            Expected(
                "postgres",
                "postgres.timeout",
                Owner.INFRASTRUCTURE,
                symptoms=("backend", "lb"),
                flow_step="login",
            ),
        ),
        Scenario(
            "postgres-wrong-password",
            "the app was deployed with a wrong database password; the database is fine",
            _app_wrong_password,
            _app_right_password,
            Expected(
                "postgres",
                "postgres.auth_failed",
                Owner.CONFIGURATION,
                "backend",
                ("backend", "lb"),
                app_says='password authentication failed for user "app"',
                flow_step="login",
            ),
        ),
        Scenario(
            "haproxy-no-healthy-backend",
            "HAProxy's health check asks the app for a path it does not serve; the app is fine",
            _misconfigure_haproxy_check,
            _restore_haproxy_check,
            Expected("lb", "proxy.no_healthy_upstream", Owner.INFRASTRUCTURE, flow_step="login"),
        ),
        Scenario(
            "nginx-504-hung-app",
            "the app hangs on every request; nginx in front of it answers 504",
            _app_mode("hang", settle=False),
            _app_mode("ok", settle=False),
            Expected(
                "backend", "http.timeout", Owner.UNKNOWN, symptoms=("web",), flow_step="login"
            ),
        ),
        Scenario(
            "app-500",
            "the app answers 500 on its routes (a bad deploy); its dependencies are fine",
            _app_mode("error", settle=True),
            _app_mode("ok", settle=False),
            Expected(
                "backend", "app.error", Owner.APPLICATION, symptoms=("lb",), flow_step="login"
            ),
        ),
        Scenario(
            "app-startup-failure",
            "the app exits during start-up; nothing listens on its port",
            _app_fails_at_startup,
            _app_starts_normally,
            Expected(
                "backend",
                "tcp.refused",
                Owner.INFRASTRUCTURE,
                symptoms=("lb", "web", "ws"),
                flow_step="login",
            ),
        ),
        Scenario(
            "cert-expired",
            "HAProxy serves an expired certificate for the API",
            _serve_certificate("expired"),
            _serve_certificate("valid"),
            Expected("lb", "tls.expired", Owner.INFRASTRUCTURE, flow_step="login"),
        ),
        Scenario(
            "wildcard-two-label",
            "HAProxy serves the *.lab.internal wildcard for api.edge.lab.internal (two labels)",
            _serve_certificate("wildcard"),
            _serve_certificate("valid"),
            Expected("lb", "tls.hostname_mismatch", Owner.CONFIGURATION, flow_step="login"),
        ),
        Scenario(
            "cache-down",
            "the answer cache (a second Redis, behind /ws/ask only) is stopped; login still works",
            _stop_cache,
            _start_cache,
            Expected(
                "cache",
                "tcp.refused",
                Owner.INFRASTRUCTURE,
                symptoms=(GOLDEN_PATH,),
                flow_step="ask",
                # its document warns (a non-critical check fails) and answers 200
                warns=("backend",),
            ),
        ),
        Scenario(
            "ws-upgrade-refused",
            "the app answers the upgrade of /ws/ask with 503 (its ask service is switched off); "
            "its health, /ws and login are fine, so only the golden path sees it",
            _app_mode("refuse-websocket", settle=False),
            _app_mode("ok", settle=False),
            Expected(GOLDEN_PATH, "ws.handshake_rejected", Owner.APPLICATION, flow_step="ask"),
        ),
    )
}
