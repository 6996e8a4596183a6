"""Metric parity with the real blackbox_exporter: the same target, probed by Debian's
``prometheus-blackbox-exporter`` and by faultfinder's ``/probe``, gives the same metric names,
types, help texts and label names, for every prober and outcome (success, 5xx, refused, DNS
failure, TLS failure; for the dns prober, a name dnsmasq answers, NXDOMAIN, nothing at the
port, over UDP and TCP). What faultfinder adds is listed here by name, so neither side can drift
without a test failing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from faultfinder.serve.app import create_app
from faultfinder.serve.modules import Modules, load_modules
from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.asgi import AsgiFactory, ServedApp
from tests.servers.dnsmasq import DnsServer
from tests.servers.exporters import Exposition, Served
from tests.servers.tls import NAME, Certificates, TlsServerFactory

# A name no resolver answers (RFC 6761 reserves .invalid): the DNS failure of each prober.
NO_SUCH_NAME = "no-such-host.invalid"
# dnsmasq's zone (local=/internal/: NXDOMAIN for any name it has no record for) and its name.
ZONE = "internal"
ANSWERED = f"api.{ZONE}"
# faultfinder's own series, on top of blackbox's: why a probe failed (docs/serve.md).
OURS_ONLY = {"probe_failure_info"}
# … and, after a failed TLS handshake, the certificate it read: blackbox's tcp prober only
# registers the TLS series once the handshake held (prober/tcp.go, `if module.TCP.TLS` after
# a successful DialContext), so an expired certificate's date would not show.
OURS_ONLY_AFTER_TLS_FAILURE = {"probe_ssl_earliest_cert_expiry"}


def modules(certificates: Certificates) -> dict[str, Any]:
    """One modules document for both exporters (faultfinder reads blackbox's shape)."""
    trusted = {"ca_file": str(certificates.ca_file), "server_name": NAME}
    return {
        "http_2xx": {"prober": "http"},
        "https_trusted": {"prober": "http", "http": {"tls_config": trusted}},
        "tcp_connect": {"prober": "tcp"},
        "tls_trusted": {"prober": "tcp", "tcp": {"tls": True, "tls_config": trusted}},
        # blackbox's dns prober asks the target, a DNS server (prober/dns.go); its keys are
        # config/config.go's DNSProbe: query_name, query_type, transport_protocol
        "dns_a": {"prober": "dns", "dns": {"query_name": ANSWERED, "query_type": "A"}},
        "dns_a_tcp": {
            "prober": "dns",
            "dns": {"query_name": ANSWERED, "query_type": "A", "transport_protocol": "tcp"},
        },
        "dns_nxdomain": {"prober": "dns", "dns": {"query_name": f"nope.{ZONE}", "query_type": "A"}},
        # an SOA query: blackbox adds probe_dns_serial (dnsmasq's local zone has no SOA: 0)
        "dns_soa": {"prober": "dns", "dns": {"query_name": ZONE, "query_type": "SOA"}},
        "dns_nxdomain_valid": {
            "prober": "dns",
            "dns": {"query_name": f"nope.{ZONE}", "valid_rcodes": ["NXDOMAIN"]},
        },
    }


def signature(metrics: Exposition) -> dict[str, tuple[str, str, frozenset[str]]]:
    """Per family: its type, its help text and the label names its samples carry."""
    return {
        name: (
            family.type,
            family.documentation,
            frozenset(label for sample in family.samples for label in sample.labels),
        )
        for name, family in metrics.families.items()
    }


def label_values(metrics: Exposition, name: str) -> list[dict[str, str]]:
    return sorted((metrics.labels(name)), key=lambda labels: sorted(labels.items()))


def probe(served: ServedApp | Served, **params: str) -> Exposition:
    response = httpx.get(served.url("/probe"), params=params, timeout=15, trust_env=False)
    assert response.status_code == 200, response.text
    return Exposition.parse(response.text)


@pytest.fixture
def both(
    tmp_path: Path,
    certificates: Certificates,
    asgi_server: AsgiFactory,
    blackbox_exporter: Callable[[dict[str, Any]], Served],
) -> tuple[ServedApp, Served]:
    document = modules(certificates)
    path = tmp_path / "modules.yml"
    path.write_text(yaml.safe_dump({"modules": document}))
    ours = asgi_server.start(create_app(modules=Modules(load_modules(path))))
    return ours, blackbox_exporter(document)


# The figures both exporters read the same way (the rest are timings).
SAME_VALUES = (
    "probe_success",
    "probe_http_status_code",
    "probe_http_version",
    "probe_http_ssl",
    "probe_http_redirects",
    "probe_ip_protocol",
    "probe_ip_addr_hash",
    "probe_failed_due_to_regex",
    "probe_http_content_length",
    "probe_http_uncompressed_body_length",
    "probe_ssl_earliest_cert_expiry",
    "probe_ssl_last_chain_expiry_timestamp_seconds",
    "probe_dns_answer_rrs",
    "probe_dns_authority_rrs",
    "probe_dns_additional_rrs",
    "probe_dns_query_succeeded",
    "probe_dns_serial",
)

CASES = [
    # (case, module, target template): {app} the app server's port, {refused} a closed port,
    # {tls} nginx with a trusted certificate, {expired} nginx with an expired one.
    ("http success", "http_2xx", "http://127.0.0.1:{app}/ok"),
    ("http 5xx", "http_2xx", "http://127.0.0.1:{app}/fail"),
    ("http refused", "http_2xx", "http://127.0.0.1:{refused}/"),
    ("http dns failure", "http_2xx", f"http://{NO_SUCH_NAME}/"),
    ("https success", "https_trusted", "https://127.0.0.1:{tls}/"),
    ("https tls failure", "https_trusted", "https://127.0.0.1:{expired}/"),
    ("tcp success", "tcp_connect", "127.0.0.1:{app}"),
    ("tcp refused", "tcp_connect", "127.0.0.1:{refused}"),
    ("tcp dns failure", "tcp_connect", f"{NO_SUCH_NAME}:80"),
    ("tls success", "tls_trusted", "127.0.0.1:{tls}"),
    ("tls failure", "tls_trusted", "127.0.0.1:{expired}"),
    ("tls refused", "tls_trusted", "127.0.0.1:{refused}"),
    # {dns}: dnsmasq on a free port; the target is the server, the module holds the question
    ("dns success", "dns_a", "127.0.0.1:{dns}"),
    ("dns tcp success", "dns_a_tcp", "127.0.0.1:{dns}"),
    ("dns nxdomain", "dns_nxdomain", "127.0.0.1:{dns}"),
    ("dns nxdomain accepted", "dns_nxdomain_valid", "127.0.0.1:{dns}"),
    ("dns soa", "dns_soa", "127.0.0.1:{dns}"),
    ("dns refused", "dns_a", "127.0.0.1:{refused}"),  # UDP: ICMP port unreachable
    ("dns tcp refused", "dns_a_tcp", "127.0.0.1:{refused}"),
    ("dns server name failure", "dns_a", f"{NO_SUCH_NAME}:53"),
]


@pytest.mark.parametrize(("case", "module", "template"), CASES, ids=[c[0] for c in CASES])
def test_same_series_as_blackbox_exporter(
    both: tuple[ServedApp, Served],
    app_server: AppServer,
    tls_server: TlsServerFactory,
    certificates: Certificates,
    dnsmasq: Callable[..., DnsServer],
    case: str,
    module: str,
    template: str,
) -> None:
    ours_server, theirs_server = both
    ports = {"app": app_server.port, "refused": free_port()}
    if "{dns}" in template:
        ports["dns"] = dnsmasq(hosts={ANSWERED: ["127.0.0.1"]}, local_zones=[ZONE]).port
    if "{tls}" in template:
        ports["tls"] = tls_server(certificates.valid).port
    if "{expired}" in template:
        ports["expired"] = tls_server(certificates.expired).port
    target = template.format(**ports)
    ours = probe(ours_server, target=target, module=module)
    theirs = probe(theirs_server, target=target, module=module)

    assert ours.value("probe_success") == theirs.value("probe_success"), case
    mine, expected = signature(ours), signature(theirs)
    missing = {name: expected[name] for name in set(expected) - set(mine)}
    assert not missing, f"{case}: blackbox gives, faultfinder does not: {missing}"
    differing = {
        name: (mine[name], expected[name]) for name in expected if mine[name] != expected[name]
    }
    assert not differing, f"{case}: (ours, blackbox's): {differing}"
    allowed = OURS_ONLY | (OURS_ONLY_AFTER_TLS_FAILURE if "tls failure" in case else set())
    extra = set(mine) - set(expected) - allowed
    assert not extra, f"{case}: series blackbox would not give: {extra}"
    if theirs.value("probe_success") == 0:
        assert "probe_failure_info" in mine, case  # faultfinder's own: why it failed
    for name in (
        "probe_http_duration_seconds",
        "probe_tls_version_info",
        "probe_dns_duration_seconds",
    ):
        assert label_values(ours, name) == label_values(theirs, name), (case, name)
    for name in SAME_VALUES:  # what was measured, not only its name
        if name in expected:
            assert ours.value(name) == theirs.value(name), (case, name)
