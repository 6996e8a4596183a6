"""The HTTP prober against a real Starlette app: healthy paths, each fault code, secrets."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from faultfinder.probe import prober
from tests.servers.app import BODY_TEXT, AppServer, HangupServer
from tests.servers.common import CliResult
from tests.servers.timing import by_deadline

LAYERS = ["dns", "tcp", "http"]


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    """``diagnose(name=spec, ...)`` writes a stack and runs ``faultfinder diagnose --json``."""

    def run(**components: dict[str, Any]) -> CliResult:
        return run_cli("diagnose", str(write_stack(components)), "--json")

    return run


def test_healthy_endpoint_passes_every_layer(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/ok")})

    assert result.status == 0, result.out
    document = result.json()
    assert document["status"] == "healthy"
    assert document["root_causes"] == []
    component = result.component("api")
    assert component["code"] is None
    assert component["http_status"] == 200
    assert [phase["layer"] for phase in component["phases"]] == LAYERS
    assert all(phase["ok"] for phase in component["phases"])
    assert component["phases"][-1]["detail"] == "200 OK"
    assert {"resolve", "connect", "processing", "transfer"} <= set(component["timings_ms"])


@pytest.mark.parametrize("status", [200, 204, 301, 302, 304])
def test_default_expectation_is_any_2xx_or_3xx(
    diagnose: Any, app_server: AppServer, status: int
) -> None:
    result = diagnose(api={"url": app_server.url(f"/status/{status}")})

    assert result.status == 0, result.out
    assert result.component("api")["http_status"] == status


def test_expected_status_mismatch(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/ok"), "expect": {"status": 201}})

    assert result.status == 1
    component = result.component("api")
    assert component["code"] == "http.unexpected_status"
    assert component["phases"][-1] == {
        **component["phases"][-1],
        "layer": "http",
        "ok": False,
        "detail": "200 from the service, expected 201",
    }
    cause = result.json()["root_causes"][0]
    assert (cause["code"], cause["layer"], cause["owner"]) == (
        "http.unexpected_status",
        "http",
        "application",
    )


def test_expected_status_list_accepts_any_member(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/status/201"), "expect": {"status": [200, 201]}})

    assert result.status == 0, result.out


def test_not_found_with_default_expectation(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/status/404")})

    assert result.status == 1
    component = result.component("api")
    assert component["code"] == "http.unexpected_status"
    assert component["http_status"] == 404


def test_application_500_is_the_application_s_error(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/fail")})

    assert result.status == 1
    document = result.json()
    assert document["status"] == "down"
    cause = document["root_causes"][0]
    assert (cause["component"], cause["code"], cause["layer"], cause["owner"]) == (
        "api",
        "app.error",
        "http",
        "application",
    )
    assert document["verdict"]["owner"] == "application"
    assert "boom: the handler raised" in result.component("api")["phases"][-1]["detail"]


def test_application_503_without_a_proxy_page_is_the_application_s(
    diagnose: Any, app_server: AppServer
) -> None:
    result = diagnose(api={"url": app_server.url("/status/503")})

    assert result.component("api")["code"] == "app.error"


def test_expected_body_found(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/body"), "expect": {"body": "brown fox"}})

    assert result.status == 0, result.out


def test_expected_body_missing(diagnose: Any, app_server: AppServer) -> None:
    result = diagnose(api={"url": app_server.url("/body"), "expect": {"body": "red fox"}})

    assert result.status == 1
    component = result.component("api")
    assert component["code"] == "http.unexpected_body"
    assert component["http_status"] == 200
    assert "'red fox'" in component["phases"][-1]["detail"]
    assert any(BODY_TEXT in line for line in component["evidence"])


def test_slow_response_times_out_within_the_deadline(diagnose: Any, app_server: AppServer) -> None:
    prober("http")  # one-time module imports are not the answer time being measured
    started = time.monotonic()
    result = diagnose(api={"url": app_server.url("/slow"), "timeout": "2s"})
    elapsed = time.monotonic() - started

    component = result.component("api")
    # /slow answers after 30 s. The limit, twice the 2 s deadline and 1 s, holds at twice CI's
    # load (tests/servers/timing.py).
    limit = by_deadline(2.0)
    assert elapsed < limit, f"{elapsed:.2f}s wall, the probe itself {component['duration_ms']} ms"
    assert component["code"] == "http.timeout"
    assert [phase["layer"] for phase in component["phases"]] == LAYERS
    assert [phase["ok"] for phase in component["phases"]] == [True, True, False]


def test_connection_closed_without_a_response(diagnose: Any, hangup_server: HangupServer) -> None:
    accepted = hangup_server.accepted
    result = diagnose(api={"url": f"http://127.0.0.1:{hangup_server.port}/ok"})

    assert hangup_server.accepted >= accepted + 1  # the TCP rung's connection carries the request
    component = result.component("api")
    assert component["code"] == "http.no_response"
    assert component["phases"][-1]["layer"] == "http"
    cause = result.json()["root_causes"][0]
    assert cause["owner"] == "unknown"


def test_connection_reset_after_the_request_is_no_response(
    diagnose: Any, reset_after_request_server: HangupServer
) -> None:
    # TCP set-up succeeded and the request went out: the reset is the service's answer.
    result = diagnose(api={"url": f"http://127.0.0.1:{reset_after_request_server.port}/ok"})

    component = result.component("api")
    assert component["code"] == "http.no_response"
    assert [phase["ok"] for phase in component["phases"]] == [True, True, False]
    assert "Connection reset by peer" in component["phases"][-1]["detail"]


def test_method_and_headers_are_sent(diagnose: Any, app_server: AppServer) -> None:
    request = {"url": app_server.url("/echo"), "method": "PUT", "headers": {"X-Probe": "hello"}}
    result = diagnose(
        method={**request, "expect": {"body": '"method":"PUT"'}},
        header={**request, "expect": {"body": '"x-probe":"hello"'}},
        agent={**request, "expect": {"body": '"user-agent":"faultfinder/'}},
    )

    assert result.status == 0, result.out


def test_secrets_never_appear_in_output(
    run_cli: Any, write_stack: Any, app_server: AppServer
) -> None:
    password, token, bearer = "pw-Secret-1", "tok-Secret-2", "hdr-Secret-3"
    basic = base64.b64encode(f"probe:{password}".encode()).decode()
    # /echo answers 500 with the request's Authorization and query at the start of its body,
    # so the secrets reach the evidence and must be masked there too.
    url = app_server.url(f"/echo?status=500&token={token}&page=1").replace(
        "http://", f"http://probe:{password}@"
    )
    path = write_stack(
        {
            "basic": {"url": url},
            "bearer": {"url": url, "headers": {"Authorization": f"Bearer {bearer}"}},
        }
    )

    as_json = run_cli("diagnose", str(path), "--json")
    as_text = run_cli("diagnose", str(path))

    for output in (as_json.out, as_json.err, as_text.out, as_text.err):
        for secret in (password, token, bearer, basic):
            assert secret not in output
    basic_result, bearer_result = as_json.component("basic"), as_json.component("bearer")
    assert basic_result["code"] == bearer_result["code"] == "app.error"
    assert "token=***" in basic_result["target"]
    assert "page=1" in basic_result["target"]
    # The credentials did reach the server, masked in the evidence that shows them: the URL's
    # as Basic, and a configured Authorization header instead of them (as curl -H does).
    assert '"authorization":"Basic ***"' in basic_result["evidence"][0]
    assert '"authorization":"***"' in bearer_result["evidence"][0]
