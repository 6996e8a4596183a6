"""The TLS rung against real handshakes: nginx, redis-server and raw sockets serving certificates.

Every certificate is for ``api.example.test`` (unless the name is the fault) and comes from a
private CA; components point at 127.0.0.1 and name the host with ``tls.server_name``.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from tests.servers.app import AppServer
from tests.servers.common import CliResult
from tests.servers.tls import EXPIRING_DAYS, NAME, Certificates, PlainServer

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    """``diagnose(name=spec, ...)`` writes a stack and runs ``faultfinder diagnose --json``."""

    def run(defaults: dict[str, Any] | None = None, **components: dict[str, Any]) -> CliResult:
        extra = {"defaults": {"timeout": "2s", **defaults}} if defaults else {}
        return run_cli("diagnose", str(write_stack(components, **extra)), "--json")

    return run


@pytest.fixture
def trust(certificates: Certificates) -> Any:
    """The ``tls`` options of a component: our CA, the certificate's name, anything else."""

    def options(server_name: str = NAME, **extra: Any) -> dict[str, Any]:
        return {"server_name": server_name, "ca": str(certificates.ca_file), **extra}

    return options


def layers(component: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(phase["layer"], phase["ok"]) for phase in component["phases"]]


def assert_fault_among(result: CliResult, name: str, code: str) -> dict[str, Any]:
    """Component ``name`` failed at the TLS rung with ``code`` and is a root cause."""
    component = result.component(name)
    assert component["code"] == code, component
    assert layers(component) == [("dns", True), ("tcp", True), ("tls", False)]
    causes = {cause["component"]: cause for cause in result.json()["root_causes"]}
    assert (causes[name]["code"], causes[name]["layer"]) == (code, "tls")
    return component


def assert_fault(result: CliResult, name: str, code: str, owner: str) -> dict[str, Any]:
    """As ``assert_fault_among``, for the only component and root cause, owned by ``owner``."""
    assert result.status == 1, result.out
    component = assert_fault_among(result, name, code)
    (cause,) = result.json()["root_causes"]
    assert (cause["component"], cause["owner"]) == (name, owner)
    return component


def assert_presented(component: dict[str, Any], names: list[str]) -> None:
    """The certificate the server presented was read, unverified, into the evidence."""
    certificate = component["certificate"]
    assert certificate["names"] == names
    assert ISO_UTC.match(certificate["not_before"])
    assert ISO_UTC.match(certificate["not_after"])
    presented = [line for line in component["evidence"] if "certificate presented" in line]
    assert presented, component["evidence"]
    assert ", ".join(names) in presented[0]
    assert f"valid {certificate['not_before']} to {certificate['not_after']}" in presented[0]


# --- tls:// ---------------------------------------------------------------------------------


def test_healthy_handshake_reads_the_certificate(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.valid)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    assert result.status == 0, result.out
    document = result.json()
    assert (document["status"], document["root_causes"]) == ("healthy", [])
    component = result.component("edge")
    assert component["code"] is None
    assert "warning" not in component
    assert layers(component) == [("dns", True), ("tcp", True), ("tls", True)]
    assert "TLSv1.3" in component["phases"][-1]["detail"]
    certificate = component["certificate"]
    assert certificate["names"] == [NAME]
    assert certificate["subject"] == NAME
    assert certificate["issuer"] != NAME
    assert ISO_UTC.match(certificate["not_after"])
    not_after = datetime.datetime.fromisoformat(certificate["not_after"])
    expected_days = (not_after - datetime.datetime.now(datetime.UTC)).total_seconds() / 86400
    assert certificate["days_left"] == pytest.approx(expected_days, abs=0.2)
    assert certificate["days_left"] > 14
    assert "tls" in component["timings_ms"]


@pytest.mark.parametrize("kind", ["expired", "not_yet_valid"])
def test_certificate_outside_its_validity_is_expired(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates, kind: str
) -> None:
    server = tls_server(getattr(certificates, kind))

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    component = assert_fault(result, "edge", "tls.expired", "infrastructure")
    assert_presented(component, [NAME])
    days_left = component["certificate"]["days_left"]
    assert days_left < 0 if kind == "expired" else days_left > 0
    detail = component["phases"][-1]["detail"]
    assert detail == (
        "certificate has expired" if kind == "expired" else "certificate is not yet valid"
    )


def test_certificate_for_another_name_is_a_hostname_mismatch(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.mismatch)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    component = assert_fault(result, "edge", "tls.hostname_mismatch", "configuration")
    assert_presented(component, ["other.example.test"])
    assert component["evidence"][0] == (
        f"TLS handshake with {NAME} at 127.0.0.1:{server.port}: "
        f"Hostname mismatch, certificate is not valid for '{NAME}'."
    )


def test_wildcard_covers_one_label_only(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.wildcard)
    url = server.url(scheme="tls")

    result = diagnose(
        one_label={"url": url, "tls": trust()},
        two_labels={"url": url, "tls": trust("a.b.example.test")},
    )

    assert result.status == 1, result.out
    assert result.component("one_label")["status"] == "healthy"
    assert result.component("one_label")["certificate"]["names"] == ["*.example.test"]
    two_labels = result.component("two_labels")
    assert two_labels["code"] == "tls.hostname_mismatch"
    assert_presented(two_labels, ["*.example.test"])
    assert [cause["component"] for cause in result.json()["root_causes"]] == ["two_labels"]


def test_address_without_server_name_is_checked_against_ip_names(
    diagnose: Any, tls_server: Any, certificates: Certificates
) -> None:
    with_ip = tls_server(certificates.issue("with-ip", NAME, "127.0.0.1"))
    without_ip = tls_server(certificates.valid)
    ca = {"ca": str(certificates.ca_file)}

    result = diagnose(
        with_ip={"url": with_ip.url(scheme="tls"), "tls": ca},
        without_ip={"url": without_ip.url(scheme="tls"), "tls": ca},
    )

    assert result.component("with_ip")["status"] == "healthy", result.out
    assert result.component("with_ip")["certificate"]["names"] == [NAME, "127.0.0.1"]
    without = result.component("without_ip")
    assert without["code"] == "tls.hostname_mismatch"
    assert without["phases"][-1]["detail"].startswith("IP address mismatch")
    # No server_name: the address itself is the name, and the evidence says it once.
    assert f"TLS handshake with 127.0.0.1:{without_ip.port}: IP" in without["evidence"][0]


@pytest.mark.parametrize("kind", ["self_signed", "incomplete_chain", "other_ca"])
def test_unverifiable_chain_is_untrusted(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates, kind: str
) -> None:
    server = tls_server(getattr(certificates, kind))

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    component = assert_fault(result, "edge", "tls.untrusted", "infrastructure")
    assert_presented(component, [NAME])
    detail = component["phases"][-1]["detail"]
    assert detail == (
        "self-signed certificate"
        if kind == "self_signed"
        else "unable to get local issuer certificate"
    )


def test_intermediate_served_with_the_leaf_is_trusted(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    # The same leaf and intermediate as the incomplete-chain case, served in full.
    server = tls_server(certificates.full_chain)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    assert result.status == 0, result.out


def test_system_store_does_not_trust_a_private_ca(
    diagnose: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.valid)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": {"server_name": NAME}})

    assert_fault(result, "edge", "tls.untrusted", "infrastructure")


def test_plain_text_answer_on_the_tls_port_is_a_protocol_mismatch(
    diagnose: Any, trust: Any, banner_server: PlainServer
) -> None:
    url = f"tls://127.0.0.1:{banner_server.port}"

    result = diagnose(edge={"url": url, "tls": trust()})

    component = assert_fault(result, "edge", "protocol.mismatch", "configuration")
    assert "certificate" not in component
    assert component["phases"][-1]["detail"] == (
        "the port does not speak TLS: it answered the hello with other bytes"
    )
    assert "[SSL: WRONG_VERSION_NUMBER]" in component["evidence"][0]
    assert "an SSH server answers there (it sent an SSH banner" in component["evidence"][1]


def test_peer_closing_during_the_handshake_fails_it(
    diagnose: Any, trust: Any, closing_server: PlainServer, resetting_server: PlainServer
) -> None:
    result = diagnose(
        closing={"url": f"tls://127.0.0.1:{closing_server.port}", "tls": trust()},
        resetting={"url": f"tls://127.0.0.1:{resetting_server.port}", "tls": trust()},
    )

    closing = assert_fault_among(result, "closing", "tls.handshake_failed")
    assert closing["phases"][-1]["detail"] == (
        "the peer closed the connection during the handshake"
    )
    resetting = assert_fault_among(result, "resetting", "tls.handshake_failed")
    assert resetting["phases"][-1]["detail"] == (
        "the peer reset the connection during the handshake ([Errno 104] Connection reset by peer)"
    )


@pytest.mark.parametrize(
    ("kind", "protocols", "ciphers", "detail"),
    [
        # TLS 1.0 only (at security level 0, so OpenSSL 3 lets nginx offer it): the client's
        # default context starts at TLS 1.2.
        (
            "valid",
            "TLSv1",
            "DEFAULT:@SECLEVEL=0",
            "no TLS version both sides allow (protocol version alert)",
        ),
        # TLS 1.2 with RSA key exchange only: the client's default ciphers all need (EC)DHE.
        (
            "rsa",
            "TLSv1.2",
            "AES128-GCM-SHA256",
            "no cipher both sides allow (handshake failure alert)",
        ),
    ],
)
def test_protocol_or_cipher_the_client_refuses_fails_the_handshake(
    diagnose: Any,
    trust: Any,
    tls_server: Any,
    certificates: Certificates,
    kind: str,
    protocols: str,
    ciphers: str,
    detail: str,
) -> None:
    server = tls_server(getattr(certificates, kind), protocols=protocols, ciphers=ciphers)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    component = assert_fault(result, "edge", "tls.handshake_failed", "infrastructure")
    assert component["phases"][-1]["detail"] == detail
    assert "certificate" not in component


def test_expiring_soon_is_a_warning(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.expiring_soon)

    result = diagnose(edge={"url": server.url(scheme="tls"), "tls": trust()})

    assert result.status == 1, result.out
    document = result.json()
    assert document["status"] == "degraded"
    assert document["root_causes"] == []
    component = result.component("edge")
    assert (component["status"], component["code"], component["warning"]) == (
        "degraded",
        None,
        "tls.expiring_soon",
    )
    assert all(phase["ok"] for phase in component["phases"])
    assert component["certificate"]["days_left"] == pytest.approx(EXPIRING_DAYS, abs=0.2)
    assert any("minimum 14" in line for line in component["evidence"])
    assert document["verdict"]["owner"] == "infrastructure"
    assert "tls.expiring_soon" in document["verdict"]["summary"]


def test_min_days_left_sets_the_threshold(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.expiring_soon)
    url = server.url(scheme="tls")

    result = diagnose(
        relaxed={"url": url, "tls": trust(min_days_left=EXPIRING_DAYS - 1)},
        strict={"url": url, "tls": trust(min_days_left=EXPIRING_DAYS + 1)},
    )

    assert result.component("relaxed")["status"] == "healthy", result.out
    assert "warning" not in result.component("relaxed")
    assert result.component("strict")["warning"] == "tls.expiring_soon"


def test_tls_defaults_apply_to_every_component(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.expiring_soon)

    result = diagnose(
        defaults={"tls": trust(min_days_left=1)},
        edge={"url": server.url(scheme="tls")},
    )

    assert result.status == 0, result.out


# --- https://, wss://, rediss:// ------------------------------------------------------------


def test_https_healthy(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.valid)

    result = diagnose(api={"url": server.url("/health"), "tls": trust()})

    assert result.status == 0, result.out
    component = result.component("api")
    assert layers(component) == [("dns", True), ("tcp", True), ("tls", True), ("http", True)]
    assert component["http_status"] == 200
    assert component["certificate"]["names"] == [NAME]


@pytest.mark.parametrize(
    ("kind", "code", "owner"),
    [
        ("expired", "tls.expired", "infrastructure"),
        ("mismatch", "tls.hostname_mismatch", "configuration"),
        ("self_signed", "tls.untrusted", "infrastructure"),
    ],
)
def test_https_certificate_fault_stops_before_http(
    diagnose: Any,
    trust: Any,
    tls_server: Any,
    certificates: Certificates,
    kind: str,
    code: str,
    owner: str,
) -> None:
    server = tls_server(getattr(certificates, kind))

    result = diagnose(api={"url": server.url("/health"), "tls": trust()})

    component = assert_fault(result, "api", code, owner)
    assert "http_status" not in component
    assert (server.root / "access.log").read_text() == ""  # no request reached nginx


def test_https_expiring_soon_warns_after_a_good_response(
    diagnose: Any, trust: Any, tls_server: Any, certificates: Certificates
) -> None:
    server = tls_server(certificates.expiring_soon)

    result = diagnose(api={"url": server.url("/health"), "tls": trust()})

    assert result.status == 1, result.out
    component = result.component("api")
    assert (component["status"], component["warning"]) == ("degraded", "tls.expiring_soon")
    assert component["http_status"] == 200
    assert result.json()["root_causes"] == []


def test_wss_healthy(
    diagnose: Any,
    trust: Any,
    tls_server: Any,
    certificates: Certificates,
    app_server: AppServer,
) -> None:
    server = tls_server(certificates.valid, upstream=app_server.port)

    result = diagnose(
        ws={
            "url": server.url("/ws", scheme="wss"),
            "tls": trust(),
            "send": "ping",
            "expect": {"message": "ping"},
        }
    )

    assert result.status == 0, result.out
    component = result.component("ws")
    assert layers(component) == [
        ("dns", True),
        ("tcp", True),
        ("tls", True),
        ("websocket", True),
    ]
    assert component["certificate"]["names"] == [NAME]


def test_wss_expired(
    diagnose: Any,
    trust: Any,
    tls_server: Any,
    certificates: Certificates,
    app_server: AppServer,
) -> None:
    server = tls_server(certificates.expired, upstream=app_server.port)

    result = diagnose(ws={"url": server.url("/ws", scheme="wss"), "tls": trust()})

    assert_fault(result, "ws", "tls.expired", "infrastructure")


def test_rediss_healthy(
    diagnose: Any, trust: Any, redis_tls_server: Any, certificates: Certificates
) -> None:
    server = redis_tls_server(certificates.valid)

    result = diagnose(cache={"url": server.url(), "tls": trust()})

    assert result.status == 0, result.out
    component = result.component("cache")
    assert layers(component) == [("dns", True), ("tcp", True), ("tls", True), ("redis", True)]
    assert component["phases"][-1]["detail"] == "PING ok, write ok"
    assert component["certificate"]["names"] == [NAME]


def test_rediss_expired(
    diagnose: Any, trust: Any, redis_tls_server: Any, certificates: Certificates
) -> None:
    server = redis_tls_server(certificates.expired)

    result = diagnose(cache={"url": server.url(), "tls": trust()})

    component = assert_fault(result, "cache", "tls.expired", "infrastructure")
    assert_presented(component, [NAME])


def test_rediss_against_a_plain_redis_port_fails_the_handshake(
    diagnose: Any, trust: Any, redis_server: Any
) -> None:
    # Redis reads the ClientHello as an unfinished command and waits: the handshake times out.
    url = f"rediss://127.0.0.1:{redis_server.port}/0"
    result = diagnose(cache={"url": url, "tls": trust(), "timeout": "500ms"})

    component = assert_fault(result, "cache", "tls.handshake_failed", "infrastructure")
    assert component["phases"][-1]["detail"] == "no answer within the 0.5s deadline"


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_unloadable_ca_bundle_is_a_stack_file_error(
    write_stack: Any, run_cli: Any, tmp_path: Any, content: str | None
) -> None:
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_text(content)
    stack = write_stack({"edge": {"url": "tls://127.0.0.1:443", "tls": {"ca": str(bundle)}}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 2
    assert result.out == ""
    (line,) = result.err.splitlines()
    assert "components.edge.tls.ca: cannot load the CA bundle" in line
