"""One probe's result → blackbox_exporter's metrics, plus probe_failure_info (pure)."""

from __future__ import annotations

import datetime

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from faultfinder.model import Certificate, CheckResult, DnsAnswer, HttpAnswer, Phase
from faultfinder.serve.blackbox import ProbeCollector, render_probe
from tests.servers.exporters import Exposition

NOT_AFTER = datetime.datetime(2031, 5, 4, 3, 2, 1, tzinfo=datetime.UTC)
CERTIFICATE = Certificate(
    "api.example.test",
    "test CA",
    ("api.example.test", "192.0.2.7"),
    datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    NOT_AFTER,
    900.0,
    "ab" * 32,
    "CN=api.example.test,O=Example",
    "CN=test CA",
)
ANSWER = HttpAnswer("1.1", 2, 2, datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC))


def metrics(result: CheckResult, prober: str) -> Exposition:
    return Exposition.parse(render_probe(result, prober).decode())


def https_result(**changes: object) -> CheckResult:
    base: dict[str, object] = {
        "component": "http_2xx",
        "kind": "https",
        "target": "https://api.example.test/",
        "phases": (
            Phase("dns", True, 1.0, "192.0.2.7"),
            Phase("tcp", True, 2.0, "192.0.2.7:443"),
            Phase("tls", True, 3.0, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256"),
            Phase("http", True, 4.0, "200 OK"),
        ),
        "status_code": 200,
        "certificate": CERTIFICATE,
        "addresses": ("192.0.2.7",),
        "http": ANSWER,
        "duration_ms": 12.0,
        "timings": {"resolve": 1.0, "connect": 2.0, "tls": 3.0, "processing": 2.5, "transfer": 1.5},
    }
    return CheckResult(**{**base, **changes})  # type: ignore[arg-type]


def test_https_success() -> None:
    found = metrics(https_result(), "http")
    assert found.value("probe_success") == 1
    assert found.value("probe_duration_seconds") == 0.012
    assert found.value("probe_dns_lookup_time_seconds") == 0.001
    assert found.value("probe_http_duration_seconds", phase="processing") == 0.0025
    assert found.value("probe_http_status_code") == 200
    assert found.value("probe_http_ssl") == 1
    assert found.value("probe_http_version") == 1.1
    expiry = datetime.datetime(2031, 5, 4, 3, 2, 1, tzinfo=datetime.UTC).timestamp()
    assert found.value("probe_ssl_earliest_cert_expiry") == expiry
    assert found.labels("probe_tls_version_info") == [{"version": "TLS 1.2"}]
    assert found.value("probe_ip_protocol") == 4
    assert "probe_failure_info" not in found.names()
    assert found.value("probe_http_content_length") == 2
    assert found.value("probe_http_uncompressed_body_length") == 2
    modified = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC).timestamp()
    assert found.value("probe_http_last_modified_timestamp_seconds") == modified
    assert found.value("probe_ssl_last_chain_expiry_timestamp_seconds") == expiry
    # blackbox's labels: the whole names, and the DNS names only (Go's cert.DNSNames)
    assert found.labels("probe_ssl_last_chain_info") == [
        {
            "fingerprint_sha256": "ab" * 32,
            "subject": "CN=api.example.test,O=Example",
            "issuer": "CN=test CA",
            "subjectalternative": "api.example.test",
        }
    ]


def test_an_answer_without_content_length_is_minus_one_as_go_says() -> None:
    found = metrics(https_result(http=HttpAnswer("1.0", -1, 5)), "http")
    assert found.value("probe_http_content_length") == -1
    assert found.value("probe_http_uncompressed_body_length") == 5
    assert found.value("probe_http_version") == 1.0
    assert "probe_http_last_modified_timestamp_seconds" not in found.names()


def test_a_failure_names_the_code_the_layer_and_the_owner() -> None:
    result = https_result(
        phases=(
            Phase("dns", True, 1.0, "192.0.2.7"),
            Phase("tcp", True, 2.0, "192.0.2.7:443"),
            Phase("tls", True, 3.0, "TLSv1.3 TLS_AES_128_GCM_SHA256"),
            Phase("http", False, 4.0, "502 from nginx"),
        ),
        status_code=502,
        code="proxy.no_healthy_upstream",
    )
    found = metrics(result, "http")
    assert found.value("probe_success") == 0
    assert found.labels("probe_failure_info") == [
        {"code": "proxy.no_healthy_upstream", "layer": "http", "owner": "infrastructure"}
    ]
    assert found.value("probe_http_status_code") == 502


def test_no_response_is_status_0_and_version_0() -> None:
    result = https_result(
        phases=(Phase("dns", True, 1.0, "192.0.2.7"), Phase("tcp", False, 2.0, "refused")),
        status_code=None,
        certificate=None,
        code="tcp.refused",
        timings={"resolve": 1.0},
        http=None,
    )
    found = metrics(result, "http")
    # what Debian's blackbox_exporter 0.23 answers for a refused port: every figure 0
    for name in (
        "probe_http_status_code",
        "probe_http_ssl",
        "probe_http_version",
        "probe_http_content_length",
        "probe_http_uncompressed_body_length",
    ):
        assert found.value(name) == 0, name
    assert found.value("probe_http_duration_seconds", phase="tls") == 0
    assert "probe_ssl_earliest_cert_expiry" not in found.names()
    assert found.labels("probe_failure_info") == [
        {"code": "tcp.refused", "layer": "tcp", "owner": "infrastructure"}
    ]


def test_a_failed_lookup_has_only_the_resolve_phase_and_a_zero_address() -> None:
    result = CheckResult(
        "http_2xx",
        "http",
        "http://nowhere.invalid/",
        (Phase("dns", False, 3.0, "Name or service not known"),),
        code="dns.nxdomain",
        duration_ms=3.5,
    )
    found = metrics(result, "http")
    # blackbox 0.23 returns before it makes the other phases, and leaves the address at 0
    assert found.labels("probe_http_duration_seconds") == [{"phase": "resolve"}]
    assert found.value("probe_dns_lookup_time_seconds") == 0.003
    assert found.value("probe_ip_protocol") == 0
    assert found.value("probe_ip_addr_hash") == 0


def test_warnings_do_not_fail_the_probe() -> None:
    found = metrics(https_result(warning="tls.expiring_soon"), "http")
    assert found.value("probe_success") == 1
    assert found.labels("probe_warning_info") == [
        {"code": "tls.expiring_soon", "layer": "tls", "owner": "infrastructure"}
    ]


def test_tcp_over_ipv6_has_no_http_series() -> None:
    result = CheckResult(
        "tcp_connect",
        "tcp",
        "tcp://[2001:db8::1]:22",
        (Phase("dns", True, 0.5, "2001:db8::1"), Phase("tcp", True, 1.0, "[2001:db8::1]:22")),
        addresses=("2001:db8::1",),
        duration_ms=2.0,
        timings={"resolve": 0.5},
    )
    found = metrics(result, "tcp")
    assert found.value("probe_ip_protocol") == 6
    assert found.value("probe_failed_due_to_regex") == 0
    assert not {name for name in found.names() if name.startswith("probe_http_")}


def test_address_hash_is_blackbox_s() -> None:
    result = CheckResult(
        "tcp_connect",
        "tcp",
        "tcp://127.0.0.1:22",
        (Phase("dns", True, 0.5, "127.0.0.1"), Phase("tcp", True, 1.0, "127.0.0.1:22")),
    )
    # what Debian's blackbox_exporter 0.23 reports for 127.0.0.1 (FNV-1a of the 4 bytes)
    assert metrics(result, "tcp").value("probe_ip_addr_hash") == 3668918509


def test_dns_only_reports_the_lookup() -> None:
    result = CheckResult(
        "dns",
        "dns",
        "dns://example.test",
        (Phase("dns", True, 0.7, ""),),
        duration_ms=0.8,
        timings={"resolve": 0.7},
    )
    found = metrics(result, "resolve")
    assert found.names() == {
        "probe_success",
        "probe_duration_seconds",
        "probe_dns_lookup_time_seconds",
    }


# prober/dns.go registers these before it queries: present whatever the outcome
DNS_SERIES = {
    "probe_success",
    "probe_duration_seconds",
    "probe_dns_lookup_time_seconds",
    "probe_ip_protocol",
    "probe_ip_addr_hash",
    "probe_dns_duration_seconds",
    "probe_dns_answer_rrs",
    "probe_dns_authority_rrs",
    "probe_dns_additional_rrs",
    "probe_dns_query_succeeded",
}


def test_a_dns_server_s_answer_in_blackbox_s_series() -> None:
    result = CheckResult(
        "zone",
        "tcp",
        "tcp://192.0.2.53:53",
        (Phase("dns", True, 0.1, "192.0.2.53"), Phase("dns", True, 2.0, "NOERROR")),
        addresses=("192.0.2.53",),
        duration_ms=2.5,
        timings={"resolve": 0.1, "connect": 0.2, "request": 1.8},
        dns=DnsAnswer("NOERROR", 1, 2, 3, serial=2026120701),
    )
    found = metrics(result, "dns")
    assert found.names() == DNS_SERIES | {"probe_dns_serial"}
    assert found.value("probe_dns_serial") == 2026120701
    assert [
        found.value("probe_dns_answer_rrs"),
        found.value("probe_dns_authority_rrs"),
        found.value("probe_dns_additional_rrs"),
    ] == [1, 2, 3]
    assert found.value("probe_dns_query_succeeded") == 1
    assert found.value("probe_dns_duration_seconds", phase="request") == pytest.approx(0.0018)


def test_a_dns_server_that_never_answered_gives_zeros_and_no_serial() -> None:
    result = CheckResult(
        "zone",
        "tcp",
        "tcp://ns.invalid:53",
        (Phase("dns", False, 3.0),),
        code="dns.nxdomain",
        duration_ms=3.1,
        timings={},
    )
    found = metrics(result, "dns")
    assert found.names() == DNS_SERIES | {"probe_failure_info"}
    assert found.value("probe_dns_query_succeeded") == 0
    assert found.value("probe_ip_protocol") == 0  # as blackbox, when the lookup failed
    assert found.value("probe_dns_duration_seconds", phase="resolve") == 0


@pytest.mark.parametrize(
    "result",
    [
        https_result(),
        https_result(warning="tls.expiring_soon", http=HttpAnswer("1.0", -1, 5)),
        https_result(
            code="app.error",
            status_code=500,
            phases=(Phase("dns", True, 1.0), Phase("http", False, 4.0, "500")),
        ),
        CheckResult(
            "http_2xx",
            "http",
            "http://nowhere.invalid/",
            (Phase("dns", False, 3.0),),
            code="dns.nxdomain",
            duration_ms=3.5,
        ),
        # label values a server chose: quotes, a backslash and a line break must be escaped
        https_result(
            certificate=Certificate(
                "x",
                "y",
                ('we"ird\\na\nme',),
                NOT_AFTER,
                NOT_AFTER,
                1.0,
                "00",
                'CN=a "b"',
                "CN=c\\d",
            )
        ),
    ],
    ids=["https", "warning", "failure", "no-lookup", "escaping"],
)
def test_the_text_is_prometheus_client_s_byte_for_byte(result: CheckResult) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector(result, "http"))
    assert render_probe(result, "http") == generate_latest(registry)
