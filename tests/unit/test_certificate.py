"""``read_certificate`` on certificates built here: names, subject, issuer, validity, days left."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from faultfinder.probe._certificate import read_certificate

NOW = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
KEY = ec.generate_private_key(ec.SECP256R1())


def build(
    *,
    subject: x509.Name | None = None,
    issuer: x509.Name | None = None,
    names: list[x509.GeneralName] | None = None,
    not_before: datetime.datetime = NOW - DAY,
    not_after: datetime.datetime = NOW + 10 * DAY,
) -> bytes:
    """A DER certificate with exactly these fields (signed by one throwaway key)."""
    subject = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.example.test")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_names_are_dns_names_and_ip_addresses_in_certificate_order() -> None:
    der = build(
        names=[
            x509.DNSName("api.example.test"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("*.example.test"),
            x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
            x509.RFC822Name("ops@example.test"),
            x509.UniformResourceIdentifier("https://example.test/"),
        ]
    )

    certificate = read_certificate(der, now=NOW)

    assert certificate.names == ("api.example.test", "127.0.0.1", "*.example.test", "2001:db8::1")


def test_without_subject_alternative_names_there_are_no_names() -> None:
    assert read_certificate(build(), now=NOW).names == ()


def test_subject_and_issuer_are_common_names() -> None:
    certificate = read_certificate(build(names=[x509.DNSName("api.example.test")]), now=NOW)

    assert (certificate.subject, certificate.issuer) == ("api.example.test", "Test CA")


def test_name_without_common_name_is_shown_whole() -> None:
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Platform"),
        ]
    )

    certificate = read_certificate(build(issuer=issuer), now=NOW)

    assert certificate.issuer == "OU=Platform,O=Example"


def test_validity_is_iso_8601_utc_with_z() -> None:
    der = build(
        not_before=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        not_after=datetime.datetime(2027, 6, 7, 8, 9, 10, tzinfo=datetime.UTC),
    )

    certificate = read_certificate(der, now=NOW)

    document = certificate.to_json()
    assert (document["not_before"], document["not_after"]) == (
        "2026-01-02T03:04:05Z",
        "2027-06-07T08:09:10Z",
    )


def test_validity_past_2049_is_read_from_generalized_time() -> None:
    far = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)

    certificate = read_certificate(build(not_after=far), now=NOW)

    assert certificate.not_after == far
    assert certificate.to_json()["not_after"] == "3000-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("not_after", "days_left"),
    [
        (NOW + 10 * DAY, 10.0),
        (NOW + datetime.timedelta(hours=36), 1.5),
        (NOW, 0.0),
        (NOW - 3 * DAY, -3.0),
    ],
)
def test_days_left_counts_from_now(not_after: datetime.datetime, days_left: float) -> None:
    der = build(not_before=NOW - 30 * DAY, not_after=not_after)

    assert read_certificate(der, now=NOW).days_left == pytest.approx(days_left)


def test_days_left_defaults_to_the_current_time() -> None:
    in_five_days = datetime.datetime.now(datetime.UTC) + 5 * DAY

    certificate = read_certificate(build(not_after=in_five_days))

    assert certificate.days_left == pytest.approx(5.0, abs=0.01)


def test_json_rounds_days_left_and_lists_names() -> None:
    der = build(
        names=[x509.DNSName("api.example.test")],
        not_after=NOW + datetime.timedelta(days=4, hours=3),
    )

    document = read_certificate(der, now=NOW).to_json()

    assert document == {
        "subject": "api.example.test",
        "issuer": "Test CA",
        "names": ["api.example.test"],
        "not_before": "2026-11-27T12:00:00Z",
        "not_after": "2026-12-02T15:00:00Z",
        "days_left": 4.1,
    }


def test_certificate_from_a_ca_chain() -> None:
    # What a server really presents: a leaf issued by an intermediate of a private CA.
    intermediate = trustme.CA(organization_name="faultfinder test CA").create_child_ca()
    leaf = intermediate.issue_cert(
        "api.example.test", "127.0.0.1", "::1", common_name="api.example.test"
    )
    pem = leaf.cert_chain_pems[0].bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)

    certificate = read_certificate(der, now=NOW)

    assert certificate.names == ("api.example.test", "127.0.0.1", "::1")
    assert certificate.subject == "api.example.test"
    # trustme's CAs have no common name: the issuer is the intermediate's whole name.
    issuer = x509.load_pem_x509_certificate(intermediate.cert_pem.bytes()).subject
    assert certificate.issuer == issuer.rfc4514_string()
    assert certificate.days_left > 300_000  # trustme's leaves are valid until the year 3000
