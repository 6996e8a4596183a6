"""/probe's modules: blackbox's target forms and timeouts → components; the modules file."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultfinder.errors import ConfigError, UsageError
from faultfinder.serve.modules import BUILTIN, DEFAULT_TIMEOUT, Module, Modules, load_modules


@pytest.fixture
def modules() -> Modules:
    return Modules()


@pytest.mark.parametrize(
    ("module", "target", "url"),
    [
        ("http_2xx", "http://example.test/health", "http://example.test/health"),
        ("http_2xx", "https://example.test", "https://example.test"),
        ("http_2xx", "example.test:8080/x", "http://example.test:8080/x"),  # blackbox adds http://
        ("http_post_2xx", "example.test", "http://example.test"),
        ("tcp_connect", "db.example.test:5432", "tcp://db.example.test:5432"),
        ("tcp_connect", "[::1]:5432", "tcp://[::1]:5432"),
        ("tls_connect", "example.test:443", "tls://example.test:443"),
        ("dns", "example.test", "dns://example.test"),
        ("dns", "dns://example.test", "dns://example.test"),
        ("faultfinder", "redis://cache.example.test:6379/0", "redis://cache.example.test:6379/0"),
    ],
)
def test_targets_become_urls(modules: Modules, module: str, target: str, url: str) -> None:
    component = modules.component(module, target, None, 2.0)
    assert component.url == url
    assert component.timeout == 2.0


def test_http_post_2xx_posts(modules: Modules) -> None:
    assert modules.component("http_post_2xx", "example.test", None, 1.0).spec.method == "POST"


def test_hostname_sets_the_host_header_and_the_server_name(modules: Modules) -> None:
    component = modules.component("http_2xx", "https://192.0.2.7/", "api.example.test", 1.0)
    assert component.spec.headers == {"Host": "api.example.test"}
    assert component.tls.server_name == "api.example.test"
    tls = modules.component("tls_connect", "192.0.2.7:443", "api.example.test", 1.0)
    assert tls.tls.server_name == "api.example.test"


def test_components_are_built_once(modules: Modules) -> None:
    first = modules.component("tcp_connect", "example.test:1", None, 1.0)
    assert modules.component("tcp_connect", "example.test:1", None, 1.0) is first


@pytest.mark.parametrize(
    ("module", "target", "message"),
    [
        ("nope", "example.test", "Unknown module 'nope'"),
        ("tcp_connect", "", "Target parameter is missing"),
        ("tcp_connect", "example.test", "a tcp target is host:port"),
        ("tcp_connect", "tcp://example.test:1", "a tcp target is host:port"),
        ("faultfinder", "ftp://example.test", "unknown scheme 'ftp'"),
        ("http_2xx", "http://", "the URL has no host"),
    ],
)
def test_bad_requests(modules: Modules, module: str, target: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        modules.component(module, target, None, 1.0)


def test_timeout_is_the_scrape_timeout_less_the_offset(modules: Modules) -> None:
    assert modules.timeout("http_2xx", None) == DEFAULT_TIMEOUT
    assert modules.timeout("http_2xx", "4") == 3.5
    assert modules.timeout("http_2xx", "60") == DEFAULT_TIMEOUT
    assert modules.timeout("http_2xx", "0.2") == DEFAULT_TIMEOUT  # nothing left: ignore it
    with pytest.raises(UsageError, match="scrape timeout"):
        modules.timeout("http_2xx", "soon")


def test_a_module_timeout_caps_the_scrape_timeout() -> None:
    modules = Modules({"quick": Module(prober="tcp", timeout=1.0)})
    assert modules.timeout("quick", "10") == 1.0
    assert modules.timeout("quick", "1.2") == pytest.approx(0.7)


def test_modules_file_adds_modules_in_blackbox_s_shape(tmp_path: Path) -> None:
    path = tmp_path / "modules.yml"
    path.write_text(
        "modules:\n"
        "  internal:\n"
        "    prober: http\n"
        "    timeout: 2s\n"
        "    http:\n"
        "      method: HEAD\n"
        "      valid_status_codes: [204]\n"
        "      headers: {X-Probe: faultfinder}\n"
        "      tls_config: {server_name: api.example.test}\n"
    )
    loaded = load_modules(path)
    assert set(BUILTIN) < set(loaded)
    modules = Modules(loaded)
    assert modules.timeout("internal", None) == 2.0
    component = modules.component("internal", "https://192.0.2.7/", None, 2.0)
    assert component.spec.method == "HEAD"
    assert component.spec.expect.status == [204]
    assert component.spec.headers == {"X-Probe": "faultfinder"}
    assert component.tls.server_name == "api.example.test"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "modules:\n  a:\n    prober: http\n    http:\n      follow: true\n",
            ":5: modules.a.http.follow",
            "unknown key",
        ),
        ("modules:\n  a:\n    prober: icmp\n", ":3: modules.a.prober", "Input should be"),
        (
            "modules:\n  a:\n    prober: tcp\n    timeout: later\n",
            ":4: modules.a.timeout",
            "not a duration",
        ),
        ("modules: [\n", "", "not valid YAML"),
    ],
)
def test_modules_file_errors_name_file_line_and_key(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = tmp_path / "modules.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_modules(path)
    assert str(raised.value).startswith(f"{path}{where}")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("target", "url"),
    [
        # blackbox's dns targets (prober/dns.go): host:port, or a host alone for port 53
        ("192.0.2.53", "tcp://192.0.2.53:53"),
        ("192.0.2.53:5353", "tcp://192.0.2.53:5353"),
        ("ns1.example.test", "tcp://ns1.example.test:53"),
        ("[2001:db8::53]:5353", "tcp://[2001:db8::53]:5353"),
        ("[2001:db8::53]", "tcp://[2001:db8::53]:53"),
        ("2001:db8::53", "tcp://[2001:db8::53]:53"),
    ],
)
def test_a_dns_module_s_target_is_the_server(target: str, url: str) -> None:
    modules = Modules(
        {
            "dns_a": Module.model_validate(
                {"prober": "dns", "dns": {"query_name": "example.test", "query_type": "A"}}
            )
        }
    )
    assert modules.component("dns_a", target, None, 1.0).url == url
    assert modules.climb("dns_a") is not None
    assert Modules().climb("dns") is None  # the built-in dns module resolves with getaddrinfo


def test_modules_file_reads_blackbox_s_dns_keys(tmp_path: Path) -> None:
    path = tmp_path / "modules.yml"
    path.write_text(
        "modules:\n"
        "  zone:\n"
        "    prober: dns\n"
        "    dns:\n"
        "      query_name: example.test\n"
        "      query_type: soa\n"
        "      valid_rcodes: [NOERROR, NXDOMAIN]\n"
        "      transport_protocol: tcp\n"
    )
    question = load_modules(path)["zone"].dns.question()
    assert (question.name, question.query_type, question.tcp, question.soa) == (
        "example.test",
        6,
        True,
        True,
    )  # SOA is type 6 (RFC 1035 §3.2.2)
    assert question.valid_rcodes == {"NOERROR", "NXDOMAIN"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        # blackbox refuses it too: "query name must be set for DNS module" (config/config.go)
        ("modules:\n  a:\n    prober: dns\n", ":2: modules.a", "query name must be set"),
        (
            "modules:\n  a:\n    prober: dns\n    dns: {query_name: x.test, query_type: AAA}\n",
            ":4: modules.a.dns.query_type",
            "unknown query type 'AAA'",
        ),
        (
            "modules:\n  a:\n    prober: dns\n    dns: {query_name: x.test, valid_rcodes: [NOPE]}\n",
            ":4: modules.a.dns.valid_rcodes",
            "unknown rcode 'NOPE'",
        ),
        (
            "modules:\n  a:\n    prober: dns\n    dns: {query_name: x.test, dns_over_tls: true}\n",
            ":4: modules.a.dns.dns_over_tls",
            "unknown key",
        ),
        (
            "modules:\n  a:\n    prober: dns\n    dns: {query_name: x.test, transport_protocol: quic}\n",
            ":4: modules.a.dns.transport_protocol",
            "Input should be",
        ),
    ],
)
def test_dns_module_errors_name_file_line_and_key(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = tmp_path / "modules.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_modules(path)
    assert str(raised.value).startswith(f"{path}{where}")
    assert message in str(raised.value)
