"""``faultfinder health-check URL``, the container HEALTHCHECK, against a real uvicorn app
whose checks reach a real Redis, and a real HTTP server that hangs."""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from faultfinder.health import Health, url_check
from tests.servers.common import run_cli_process
from tests.servers.timing import by_deadline

TOKEN = "cli-token-0b93"


def serve(asgi_server: Any, redis: Any) -> Any:
    health = Health([url_check("redis", redis.url(), timeout=0.5)], ttl=0, tokens=[TOKEN])
    return asgi_server.start(Starlette(routes=[Mount("/health", app=health)]))


def test_exit_0_while_the_app_passes_and_1_when_it_fails(
    redis_factory: Any, asgi_server: Any, run_cli: Any
) -> None:
    redis = redis_factory.start()
    served = serve(asgi_server, redis)
    url = served.url("/health/infrastructure")

    passing = run_cli("health-check", url, "--header", f"Authorization: Bearer {TOKEN}")
    redis.stop()
    failing = run_cli("health-check", url, "--header", f"Authorization: Bearer {TOKEN}")

    assert passing.status == 0, passing.out
    assert passing.out.startswith(f"pass: {url} answered 200, document pass")
    assert failing.status == 1, failing.out
    assert failing.out.startswith(f"fail: {url} answered 503, document fail")
    assert "redis:responseTime fail" in failing.out  # the document's own words
    assert TOKEN not in passing.out + failing.out


def test_a_hung_endpoint_fails_by_the_deadline(app_server: Any) -> None:
    url = app_server.url("/slow?seconds=30")  # answers after 30 s
    started = time.perf_counter()

    result = run_cli_process("health-check", url, "--timeout", "0.5")

    elapsed = time.perf_counter() - started
    assert result.status == 1, result.out
    assert "within the 0.5s deadline" in result.out
    # By the deadline, far from the endpoint's 30 s (tests/servers/timing.py).
    assert elapsed < by_deadline(0.5, margin=3.0), elapsed


def test_nothing_listening_fails_and_a_bad_url_is_a_usage_error(run_cli: Any) -> None:
    from tests.servers import free_port

    closed = run_cli("health-check", f"http://127.0.0.1:{free_port()}/health/ready")
    bad = run_cli("health-check", "redis://127.0.0.1:6379")

    assert closed.status == 1, closed.out
    assert "Connection refused" in closed.out
    assert bad.status == 2, bad.err
    assert "not an http:// or https:// URL" in bad.err


def test_a_malformed_url_is_one_line_and_exit_2(run_cli: Any) -> None:
    # the attack report's IPv6 URLs (issue 20), and a port out of range
    for url in ("http://[::1/x", "http://[abc]/", "http://127.0.0.1:99999/"):
        result = run_cli("health-check", url)
        assert result.status == 2, (url, result.err)
        assert "not a valid URL" in result.err
        assert "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_garbage_instead_of_http_fails_without_a_traceback(run_cli: Any) -> None:
    # An SSH server's identification line (RFC 4253 §4.2: "SSH-protoversion-softwareversion"),
    # OpenSSH's as it sends it; http.client raises BadStatusLine (not an OSError) for it.
    from tests.servers.hostile import hostile

    with hostile(lambda connection: connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")) as server:
        result = run_cli("health-check", f"http://127.0.0.1:{server.port}/health/ready")
    assert result.status == 1, result.out
    assert "BadStatusLine" in result.out
    assert "Traceback" not in result.err
