"""``/probe``: blackbox_exporter's endpoint and metric names, against real servers, plus
``probe_failure_info`` (side by side with Debian's blackbox_exporter: test_serve_parity.py)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from faultfinder.serve.app import create_app
from faultfinder.serve.modules import Modules, load_modules
from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.asgi import AsgiFactory, ServedApp
from tests.servers.exporters import Exposition, Served
from tests.servers.nginx import NginxFactory
from tests.servers.redis import RedisServer
from tests.servers.tls import NAME, Certificates, ServedCertificate, TlsServerFactory


@pytest.fixture
def modules_file(tmp_path: Path, certificates: Certificates) -> Path:
    path = tmp_path / "modules.yml"
    path.write_text(
        "modules:\n"
        "  tls_internal:\n"
        "    prober: tcp\n"
        f"    tcp: {{tls: true, tls_config: {{ca_file: '{certificates.ca_file}'}}}}\n"
        "  https_internal:\n"
        "    prober: http\n"
        "    timeout: 2s\n"
        "    http:\n"
        "      valid_status_codes: [200]\n"
        f"      tls_config: {{ca_file: '{certificates.ca_file}'}}\n"
        "  dns_quick:\n"
        "    prober: dns\n"
        "    timeout: 1s\n"
        "    dns: {query_name: api.example.test, query_type: A}\n"
    )
    return path


@pytest.fixture
def exporter(asgi_server: AsgiFactory, modules_file: Path) -> ServedApp:
    return asgi_server.start(create_app(modules=Modules(load_modules(modules_file))))


def probe(
    served: ServedApp | Served, headers: dict[str, str] | None = None, **params: str
) -> Exposition:
    response = httpx.get(
        served.url("/probe"), params=params, headers=headers, timeout=15, trust_env=False
    )
    assert response.status_code == 200, response.text
    return Exposition.parse(response.text)


def failure(metrics: Exposition) -> dict[str, str]:
    (labels,) = metrics.labels("probe_failure_info")
    return labels


def not_after(certificate: ServedCertificate) -> float:
    return x509.load_pem_x509_certificate(certificate.leaf_pem).not_valid_after_utc.timestamp()


def test_http_2xx_success(exporter: ServedApp, app_server: AppServer) -> None:
    metrics = probe(exporter, target=app_server.url("/ok"), module="http_2xx")
    assert metrics.value("probe_success") == 1
    assert metrics.value("probe_http_status_code") == 200
    assert metrics.value("probe_http_version") == 1.1
    assert metrics.value("probe_http_ssl") == 0
    assert metrics.value("probe_ip_protocol") == 4
    phases = {s["phase"] for s in metrics.labels("probe_http_duration_seconds")}
    assert phases == {"resolve", "connect", "tls", "processing", "transfer"}
    assert metrics.value("probe_http_duration_seconds", phase="connect") > 0
    assert (
        0 < metrics.value("probe_dns_lookup_time_seconds") < metrics.value("probe_duration_seconds")
    )
    assert "probe_failure_info" not in metrics.names()


def test_http_target_without_a_scheme_is_http(exporter: ServedApp, app_server: AppServer) -> None:
    metrics = probe(exporter, target=f"127.0.0.1:{app_server.port}/ok")  # module: http_2xx
    assert metrics.value("probe_success") == 1


def test_the_service_s_own_500_is_the_application_s(
    exporter: ServedApp, app_server: AppServer
) -> None:
    metrics = probe(exporter, target=app_server.url("/fail"), module="http_2xx")
    assert metrics.value("probe_success") == 0
    assert metrics.value("probe_http_status_code") == 500
    assert failure(metrics) == {"code": "app.error", "layer": "http", "owner": "application"}


def test_a_proxy_s_502_is_the_infrastructure_s(
    exporter: ServedApp, nginx_proxy: NginxFactory
) -> None:
    proxy = nginx_proxy(free_port())  # nothing listens behind it
    metrics = probe(exporter, target=proxy.url("/"), module="http_2xx")
    assert metrics.value("probe_http_status_code") == 502
    assert failure(metrics) == {
        "code": "proxy.no_healthy_upstream",
        "layer": "http",
        "owner": "infrastructure",
    }


def test_tcp_connect(exporter: ServedApp, app_server: AppServer) -> None:
    metrics = probe(exporter, target=f"127.0.0.1:{app_server.port}", module="tcp_connect")
    assert metrics.value("probe_success") == 1
    refused = probe(exporter, target=f"127.0.0.1:{free_port()}", module="tcp_connect")
    assert refused.value("probe_success") == 0
    assert failure(refused) == {"code": "tcp.refused", "layer": "tcp", "owner": "infrastructure"}


def test_tls_connect_reads_the_certificate(
    exporter: ServedApp, tls_server: TlsServerFactory, certificates: Certificates
) -> None:
    server = tls_server(certificates.valid)
    metrics = probe(
        exporter, target=f"127.0.0.1:{server.port}", module="tls_internal", hostname=NAME
    )
    assert metrics.value("probe_success") == 1
    assert metrics.value("probe_ssl_earliest_cert_expiry") == not_after(certificates.valid)
    assert metrics.labels("probe_tls_version_info") == [{"version": "TLS 1.3"}]


def test_expired_certificate(
    exporter: ServedApp, tls_server: TlsServerFactory, certificates: Certificates
) -> None:
    server = tls_server(certificates.expired)
    metrics = probe(
        exporter, target=f"127.0.0.1:{server.port}", module="tls_internal", hostname=NAME
    )
    assert failure(metrics) == {"code": "tls.expired", "layer": "tls", "owner": "infrastructure"}
    expiry = metrics.value("probe_ssl_earliest_cert_expiry")
    assert expiry == not_after(certificates.expired) < time.time()


def test_https_with_the_hostname_parameter(
    exporter: ServedApp, tls_server: TlsServerFactory, certificates: Certificates
) -> None:
    server = tls_server(certificates.valid)
    metrics = probe(exporter, target=server.url("/"), module="https_internal", hostname=NAME)
    assert metrics.value("probe_success") == 1
    assert metrics.value("probe_http_ssl") == 1
    assert metrics.value("probe_http_duration_seconds", phase="tls") > 0
    mismatch = probe(
        exporter, target=server.url("/"), module="https_internal", hostname="other.example.test"
    )
    assert failure(mismatch)["code"] == "tls.hostname_mismatch"


def test_dns_module_resolves_a_name(exporter: ServedApp) -> None:
    metrics = probe(exporter, target="localhost", module="dns")  # from /etc/hosts
    assert metrics.value("probe_success") == 1
    assert metrics.value("probe_dns_lookup_time_seconds") > 0


@contextlib.contextmanager
def udp_server(answer: Callable[[bytes], bytes | None]) -> Iterator[int]:
    """A UDP port on loopback that answers each datagram with ``answer(query)`` (None: silence).
    Its port, while it runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            reply = answer(query)
            if reply is not None:
                sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()


def test_a_silent_dns_server_fails_at_the_module_s_deadline(exporter: ServedApp) -> None:
    with udp_server(lambda query: None) as port:
        started = time.monotonic()
        metrics = probe(exporter, target=f"127.0.0.1:{port}", module="dns_quick")
        elapsed = time.monotonic() - started
    assert failure(metrics) == {
        "code": "dns.temporary_failure",
        "layer": "dns",
        "owner": "infrastructure",
    }
    assert metrics.value("probe_dns_query_succeeded") == 0
    assert elapsed < 6  # the module's 1 s, with room for a busy machine


def test_a_server_answering_in_another_protocol_is_a_mismatch(exporter: ServedApp) -> None:
    # the query's ID, then bytes that are no DNS message (shorter than its 12-byte header)
    def answer(query: bytes) -> bytes:
        return query[:2] + b"\x80" + b"garbage"

    with udp_server(answer) as port:
        metrics = probe(exporter, target=f"127.0.0.1:{port}", module="dns_quick")
    assert failure(metrics)["code"] == "protocol.mismatch"
    assert metrics.value("probe_dns_query_succeeded") == 0


def test_an_answer_to_another_query_is_skipped(exporter: ServedApp) -> None:
    # RFC 5452 §9.1: an answer whose ID is not the query's is not its answer
    def answer(query: bytes) -> bytes:
        other = bytes([query[0] ^ 0xFF, query[1]])
        header = b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00"
        return other + header + query[12:]

    with udp_server(answer) as port:
        metrics = probe(exporter, target=f"127.0.0.1:{port}", module="dns_quick")
    assert failure(metrics)["code"] == "dns.temporary_failure"  # the deadline, never that answer
    assert metrics.value("probe_dns_query_succeeded") == 0


def test_the_scrape_timeout_bounds_the_probe(exporter: ServedApp, app_server: AppServer) -> None:
    started = time.monotonic()
    metrics = probe(
        exporter,
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
        target=app_server.url("/slow?seconds=10"),
        module="http_2xx",
    )
    elapsed = time.monotonic() - started
    assert failure(metrics)["code"] == "http.timeout"
    # The probe's deadline is the 1.5 s scrape timeout less blackbox's 0.5 s offset (not /slow's
    # 10 s, nor the 9.5 s default); the answer must reach Prometheus within its 1.5 s, or the
    # scrape is lost: that limit is Prometheus's, not ours. The offset leaves 0.5 s for the
    # answer, which takes milliseconds (under 0.1 s with both cores busy), so it holds at twice
    # CI's load. A timer never fires early: no load can break the lower bound.
    assert 0.9 < elapsed < 1.5, f"{elapsed:.2f}s"


def test_bad_requests_are_refused_and_counted(exporter: ServedApp, app_server: AppServer) -> None:
    bad = [
        {"target": "x", "module": "nope"},
        {"module": "tcp_connect"},
        {"target": "127.0.0.1", "module": "tcp_connect"},
    ]
    answers = [httpx.get(exporter.url("/probe"), params=params, trust_env=False) for params in bad]
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert "Unknown module 'nope'" in answers[0].text
    assert "Target parameter is missing" in answers[1].text
    probe(exporter, target=f"127.0.0.1:{app_server.port}", module="tcp_connect")
    metrics = Exposition.parse(httpx.get(exporter.url("/metrics"), trust_env=False).text)
    assert metrics.value("faultfinder_probe_requests_rejected_total") == 3
    assert (
        metrics.value("faultfinder_probe_requests_total", module="tcp_connect", result="success")
        == 1
    )


def test_debug_shows_the_rungs_without_secrets(
    exporter: ServedApp, redis_server: RedisServer
) -> None:
    target = f"redis://:hunter2secret@127.0.0.1:{redis_server.port}/0"
    response = httpx.get(
        exporter.url("/probe"),
        trust_env=False,
        timeout=10,
        params={"target": target, "module": "faultfinder", "debug": "true"},
    )
    assert "tcp: ok" in response.text
    assert "probe_success 1.0" in response.text
    assert "redis://:***@127.0.0.1" in response.text
    assert "hunter2secret" not in response.text


def test_a_storm_past_max_probes_is_refused_at_once_and_health_still_answers(
    asgi_server: AsgiFactory, silent_server: Any
) -> None:
    """Probes at a hung port hold a connection each until their deadline: past --max-probes
    the rest are refused with 503 at once, and /-/healthy and /metrics answer throughout."""
    served = asgi_server.start(create_app(max_probes=3))
    target = f"127.0.0.1:{silent_server.port}"

    def probe_hung() -> int:
        # the silent port accepts, then never answers the request: the probe waits it out
        response = httpx.get(
            served.url("/probe"),
            params={"target": target, "module": "http_2xx"},
            timeout=15,
            trust_env=False,
        )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        storm = [pool.submit(probe_hung) for _ in range(8)]
        time.sleep(0.3)  # the storm is in flight
        healthy = httpx.get(served.url("/-/healthy"), timeout=5, trust_env=False)
        statuses = sorted(future.result() for future in storm)
    assert healthy.status_code == 200
    assert statuses.count(503) >= 5  # at most three were probed
    assert statuses.count(200) <= 3
    metrics = httpx.get(served.url("/metrics"), timeout=5, trust_env=False).text
    busy = f"faultfinder_probe_requests_busy_total {float(statuses.count(503))}"
    assert busy in metrics, metrics
