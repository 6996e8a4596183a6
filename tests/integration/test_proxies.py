"""Real nginx and HAProxy in front of the real app: their own error pages vs the app's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers import free_port
from tests.servers.app import AppServer, HangupServer
from tests.servers.common import CliResult
from tests.servers.haproxy import HAProxyFactory
from tests.servers.nginx import NginxFactory


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    """``diagnose(name=spec, ...)`` writes a stack and runs ``faultfinder diagnose --json``."""

    def run(**components: dict[str, Any]) -> CliResult:
        return run_cli("diagnose", str(write_stack(components)), "--json")

    return run


def http_phase(result: CliResult, name: str) -> dict[str, Any]:
    phase: dict[str, Any] = result.component(name)["phases"][-1]
    assert phase["layer"] == "http"
    return phase


def test_nginx_in_front_of_a_dead_upstream(diagnose: Any, nginx_proxy: NginxFactory) -> None:
    nginx = nginx_proxy(free_port())

    result = diagnose(lb={"url": nginx.url("/ok")})

    component = result.component("lb")
    assert component["code"] == "proxy.no_healthy_upstream"
    assert component["http_status"] == 502
    assert http_phase(result, "lb")["detail"] == "502 from nginx: 502 Bad Gateway"
    cause = result.json()["root_causes"][0]
    assert (cause["code"], cause["layer"], cause["owner"]) == (
        "proxy.no_healthy_upstream",
        "http",
        "infrastructure",
    )
    assert "connect() failed (111: Connection refused)" in nginx.error_log()


def test_nginx_in_front_of_a_dead_backend_blames_the_backend(
    diagnose: Any, nginx_proxy: NginxFactory
) -> None:
    backend_port = free_port()
    nginx = nginx_proxy(backend_port)

    result = diagnose(
        lb={"url": nginx.url("/ok"), "via": ["backend"]},
        backend={"url": f"http://127.0.0.1:{backend_port}/ok"},
    )

    document = result.json()
    assert [(c["component"], c["code"]) for c in document["root_causes"]] == [
        ("backend", "tcp.refused"),
    ]
    lb = result.component("lb")
    assert (lb["code"], lb["own_code"], lb["symptom_of"]) == (
        "dependency.failed",
        "proxy.no_healthy_upstream",
        ["backend"],
    )


def test_nginx_upstream_read_timeout(
    diagnose: Any, nginx_proxy: NginxFactory, app_server: AppServer
) -> None:
    nginx = nginx_proxy(app_server.port, read_timeout="1s")

    result = diagnose(lb={"url": nginx.url("/slow"), "timeout": "3s"})

    component = result.component("lb")
    assert component["code"] == "proxy.upstream_timeout"
    assert component["http_status"] == 504
    assert http_phase(result, "lb")["detail"] == "504 from nginx: 504 Gateway Time-out"


def test_nginx_passes_the_app_s_own_500_through(
    diagnose: Any, nginx_proxy: NginxFactory, app_server: AppServer
) -> None:
    nginx = nginx_proxy(app_server.port)

    result = diagnose(lb={"url": nginx.url("/fail")})

    component = result.component("lb")
    assert component["code"] == "app.error"
    assert http_phase(result, "lb")["detail"].startswith("500 from the service: {")
    # nginx stamps its Server header on the app's answer; the body still says it is the app's.
    assert any("Server: nginx" in line for line in component["evidence"])
    assert result.json()["root_causes"][0]["owner"] == "application"


def test_nginx_passes_the_app_s_own_502_through(
    diagnose: Any, nginx_proxy: NginxFactory, app_server: AppServer
) -> None:
    nginx = nginx_proxy(app_server.port)

    result = diagnose(lb={"url": nginx.url("/status/502")})

    component = result.component("lb")
    assert component["http_status"] == 502
    assert component["code"] == "app.error"
    assert '"source":"app"' in http_phase(result, "lb")["detail"]


def test_nginx_healthy_path(
    diagnose: Any, nginx_proxy: NginxFactory, app_server: AppServer
) -> None:
    nginx = nginx_proxy(app_server.port)

    result = diagnose(
        lb={"url": nginx.url("/ok"), "via": ["app"]}, app={"url": app_server.url("/ok")}
    )

    assert result.status == 0, result.out
    assert result.json()["status"] == "healthy"


def test_haproxy_with_every_backend_down(diagnose: Any, haproxy_balancer: HAProxyFactory) -> None:
    balancer = haproxy_balancer(all_down=True)

    result = diagnose(lb={"url": balancer.url("/ok")})

    component = result.component("lb")
    assert component["code"] == "proxy.no_healthy_upstream"
    assert component["http_status"] == 503
    assert http_phase(result, "lb")["detail"] == (
        "503 from HAProxy: No server is available to handle this request."
    )
    assert result.json()["verdict"]["owner"] == "infrastructure"


def test_haproxy_in_front_of_a_hanging_backend(
    diagnose: Any, haproxy_balancer: HAProxyFactory, app_server: AppServer
) -> None:
    balancer = haproxy_balancer([app_server.port], server_timeout="1s")

    result = diagnose(lb={"url": balancer.url("/slow"), "timeout": "3s"})

    component = result.component("lb")
    assert component["code"] == "proxy.upstream_timeout"
    assert component["http_status"] == 504
    assert http_phase(result, "lb")["detail"] == (
        "504 from HAProxy: The server didn't respond in time."
    )


def test_haproxy_in_front_of_a_backend_that_hangs_up(
    diagnose: Any, haproxy_balancer: HAProxyFactory, hangup_server: HangupServer
) -> None:
    # Unchecked, so the request itself reaches the backend, which closes without answering.
    balancer = haproxy_balancer([hangup_server.port], check=False)

    result = diagnose(lb={"url": balancer.url("/ok")})

    component = result.component("lb")
    assert component["code"] == "proxy.no_healthy_upstream"
    assert component["http_status"] == 502
    assert http_phase(result, "lb")["detail"] == (
        "502 from HAProxy: The server returned an invalid or incomplete response."
    )


def test_haproxy_passes_the_app_s_own_503_through(
    diagnose: Any, haproxy_balancer: HAProxyFactory, app_server: AppServer
) -> None:
    balancer = haproxy_balancer([app_server.port])

    result = diagnose(lb={"url": balancer.url("/status/503")})

    component = result.component("lb")
    assert component["http_status"] == 503
    assert component["code"] == "app.error"
