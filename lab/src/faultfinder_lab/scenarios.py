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
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from faultfinder.faults import Owner
from faultfinder_lab import namespace
from faultfinder_lab.errors import LabError
from faultfinder_lab.holder import READY
from faultfinder_lab.proxies import HEALTH_PATH
from faultfinder_lab.topology import (
    APP,
    APP_PORT,
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
