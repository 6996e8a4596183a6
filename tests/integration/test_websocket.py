"""The WebSocket prober against the real app, directly and through a real nginx."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.servers import free_port
from tests.servers.app import AppServer, HangupServer
from tests.servers.common import CliResult
from tests.servers.haproxy import HAProxyFactory
from tests.servers.nginx import Nginx, NginxFactory
from tests.servers.timing import by_deadline

LAYERS = ["dns", "tcp", "websocket"]


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    """``diagnose(name=spec, ...)`` writes a stack and runs ``faultfinder diagnose --json``."""

    def run(**components: dict[str, Any]) -> CliResult:
        return run_cli("diagnose", str(write_stack(components)), "--json")

    return run


@pytest.fixture
def nginx(nginx_proxy: NginxFactory, app_server: AppServer) -> Nginx:
    return nginx_proxy(app_server.port)


@pytest.fixture(params=["direct", "nginx"])
def ws_url(request: pytest.FixtureRequest, app_server: AppServer) -> Any:
    """Builds ws:// URLs to the app, either directly or through nginx in front of it."""
    if request.param == "direct":
        return app_server.ws_url
    proxy: Nginx = request.getfixturevalue("nginx")
    return lambda path: proxy.url(path, "ws")


def websocket_phase(result: CliResult, name: str) -> dict[str, Any]:
    phases = result.component(name)["phases"]
    assert [phase["layer"] for phase in phases] == LAYERS
    phase: dict[str, Any] = phases[-1]
    return phase


def test_upgrade_succeeds(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(ws={"url": ws_url("/ws")})

    assert result.status == 0, result.out
    component = result.component("ws")
    assert component["code"] is None
    assert component["http_status"] == 101
    assert websocket_phase(result, "ws") == {
        **websocket_phase(result, "ws"),
        "ok": True,
        "detail": "101 Switching Protocols",
    }


def test_send_and_expected_reply(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(
        ws={"url": ws_url("/ws"), "send": "ping-42", "expect": {"message": "ping-42"}}
    )

    assert result.status == 0, result.out
    assert websocket_phase(result, "ws")["detail"] == "101 Switching Protocols, reply received"


def test_unexpected_reply(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(ws={"url": ws_url("/ws"), "send": "ping-42", "expect": {"message": "pong"}})

    assert result.component("ws")["code"] == "ws.unexpected_message"
    assert "'ping-42'" in websocket_phase(result, "ws")["detail"]


def test_upgrade_refused_by_the_service(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(ws={"url": ws_url("/ws-reject")})

    component = result.component("ws")
    assert component["code"] == "ws.handshake_rejected"
    assert component["http_status"] == 403
    assert websocket_phase(result, "ws")["detail"] == "upgrade answered 403 by the service, not 101"
    assert result.json()["root_causes"][0]["owner"] == "application"


def test_close_1011_after_send(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(ws={"url": ws_url("/ws-crash"), "send": "hello"})

    assert result.component("ws")["code"] == "ws.closed_abnormally"
    assert websocket_phase(result, "ws")["detail"] == "closed 1011 internal error"


def test_drop_without_close_frame(diagnose: Any, ws_url: Any) -> None:
    result = diagnose(ws={"url": ws_url("/ws-drop"), "send": "hello"})

    assert result.component("ws")["code"] == "ws.closed_abnormally"
    assert websocket_phase(result, "ws")["detail"] == "closed 1006 (no close frame)"


def test_upgrade_through_nginx_to_a_dead_upstream(diagnose: Any, nginx_proxy: NginxFactory) -> None:
    nginx = nginx_proxy(free_port())

    result = diagnose(ws={"url": nginx.url("/ws", "ws")})

    component = result.component("ws")
    assert component["code"] == "proxy.no_healthy_upstream"
    assert component["http_status"] == 502
    # The failed upgrade's own 502 page was read: it names nginx.
    assert websocket_phase(result, "ws")["detail"] == "502 from nginx: 502 Bad Gateway"
    assert result.json()["root_causes"][0]["owner"] == "infrastructure"


def test_upgrade_to_a_closed_port_is_refused(diagnose: Any) -> None:
    result = diagnose(ws={"url": f"ws://127.0.0.1:{free_port()}/ws"})

    component = result.component("ws")
    assert component["code"] == "tcp.refused"
    assert [phase["layer"] for phase in component["phases"]] == ["dns", "tcp"]


def test_no_reply_times_out_within_the_deadline(diagnose: Any, ws_url: Any) -> None:
    started = time.monotonic()
    result = diagnose(ws={"url": ws_url("/ws-silent"), "send": "hello", "timeout": "1s"})
    elapsed = time.monotonic() - started

    # /ws-silent never answers. The limit, twice the 1 s deadline and 1 s, holds at twice CI's
    # load (tests/servers/timing.py).
    assert elapsed < by_deadline(1.0), f"diagnose took {elapsed:.2f}s with a 1s timeout"
    assert result.component("ws")["code"] == "http.timeout"
    assert websocket_phase(result, "ws")["ok"] is False


def test_upgrade_answered_by_a_hang_up(diagnose: Any, hangup_server: HangupServer) -> None:
    result = diagnose(ws={"url": f"ws://127.0.0.1:{hangup_server.port}/ws"})

    assert result.component("ws")["code"] == "http.no_response"
    assert websocket_phase(result, "ws")["ok"] is False


def test_upgrade_through_nginx_to_a_hung_upstream(
    diagnose: Any, nginx_proxy: NginxFactory, silent_server: Any
) -> None:
    nginx = nginx_proxy(silent_server.port, read_timeout="1s")

    result = diagnose(ws={"url": nginx.url("/ws", "ws"), "timeout": "3s"})

    component = result.component("ws")
    assert component["code"] == "proxy.upstream_timeout"
    assert websocket_phase(result, "ws")["detail"] == "504 from nginx: 504 Gateway Time-out"


def test_upgrade_through_haproxy_with_every_backend_down(
    diagnose: Any, haproxy_balancer: HAProxyFactory
) -> None:
    balancer = haproxy_balancer(all_down=True)

    result = diagnose(ws={"url": balancer.url("/ws").replace("http://", "ws://")})

    component = result.component("ws")
    assert component["code"] == "proxy.no_healthy_upstream"
    assert component["http_status"] == 503
    assert websocket_phase(result, "ws")["detail"] == (
        "503 from HAProxy: No server is available to handle this request."
    )
