"""A URL at the wrong service is ``protocol.mismatch`` (configuration), with what answers there.

Each mix-up against the real server: PostgreSQL reads a Redis PING as a start-up packet of
absurd length and closes; Redis answers an HTTP request with ``-ERR`` and drops it; an HTTP
server answers (or waits for the rest of) PostgreSQL's SSLRequest; nginx answers plain HTTP at
its TLS port with its own 400 page; an HTTP server answers a TLS hello with a status line.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers.common import CliResult


@pytest.fixture
def diagnose_url(write_stack: Any, run_cli: Any) -> Any:
    def run(url: str, timeout: str = "2s") -> dict[str, Any]:
        stack = write_stack({"target": {"url": url}}, timeout=timeout)
        result: CliResult = run_cli("diagnose", str(stack), "--json")
        assert result.status == 1, result.out
        [cause] = result.json()["root_causes"]
        assert (cause["component"], cause["code"], cause["owner"]) == (
            "target",
            "protocol.mismatch",
            "configuration",
        ), cause
        return result.component("target")

    return run


def test_redis_url_at_postgresql(diagnose_url: Any, postgres_server: Any) -> None:
    target = diagnose_url(f"redis://127.0.0.1:{postgres_server.port}/0")
    assert "a PostgreSQL server answers there" in " ".join(target["evidence"])
    assert target["phases"][-1]["layer"] == "redis"


def test_http_url_at_redis(diagnose_url: Any, redis_server: Any) -> None:
    target = diagnose_url(f"http://127.0.0.1:{redis_server.port}/")
    assert "a Redis server answers there (it answered with a Redis reply: " in " ".join(
        target["evidence"]
    )


def test_postgresql_url_at_an_http_app(diagnose_url: Any, app_server: Any) -> None:
    """uvicorn answers the 8-byte SSLRequest with 400 at once: asyncpg reads 'H'."""
    target = diagnose_url(f"postgresql://app@127.0.0.1:{app_server.port}/app")
    assert "an HTTP server answers there" in " ".join(target["evidence"])


def test_postgresql_url_at_nginx_that_waits(
    diagnose_url: Any, nginx_proxy: Any, app_server: Any
) -> None:
    """nginx waits for the rest of a request line after the SSLRequest: the time kept back
    from the start-up is enough to ask what answers, within the deadline."""
    proxy = nginx_proxy(app_server.port)
    target = diagnose_url(f"postgresql://app@127.0.0.1:{proxy.port}/app")
    assert "an HTTP server answers there" in " ".join(target["evidence"])
    assert target["duration_ms"] < 2 * 2000 + 1000  # the 2 s deadline, with room for load


def test_plain_http_at_a_tls_port(diagnose_url: Any, tls_server: Any, certificates: Any) -> None:
    server = tls_server(certificates.valid)
    target = diagnose_url(f"http://127.0.0.1:{server.port}/")
    assert target["http_status"] == 400
    assert "The plain HTTP request was sent to HTTPS port" in target["phases"][-1]["detail"]


def test_tls_at_a_plain_http_port(diagnose_url: Any, app_server: Any) -> None:
    target = diagnose_url(f"https://127.0.0.1:{app_server.port}/")
    assert target["phases"][-1]["layer"] == "tls"
    assert "an HTTP server answers there" in " ".join(target["evidence"])


def test_a_hung_postgresql_is_still_a_timeout(
    write_stack: Any, run_cli: Any, postgres_factory: Any
) -> None:
    """A stopped PostgreSQL answers nothing, to the start-up or to the question of what speaks:
    the kept-back time changes nothing about its code."""
    server = postgres_factory.start()
    server.pause()
    try:
        stack = write_stack({"db": {"url": server.url()}}, timeout="1s")
        result = run_cli("diagnose", str(stack), "--json")
    finally:
        server.resume()
    assert result.component("db")["code"] == "postgres.timeout"
