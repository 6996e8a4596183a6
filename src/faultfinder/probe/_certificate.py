"""Read a DER certificate with ``cryptography``: names, issuer, validity, days left."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from faultfinder.model import Certificate


def read_certificate(der: bytes, now: datetime.datetime | None = None) -> Certificate:
    certificate = x509.load_der_x509_certificate(der)
    now = now or datetime.datetime.now(datetime.UTC)
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    return Certificate(
        subject=_common_name(certificate.subject),
        issuer=_common_name(certificate.issuer),
        names=_names(certificate),
        not_before=not_before.isoformat().replace("+00:00", "Z"),
        not_after=not_after.isoformat().replace("+00:00", "Z"),
        days_left=(not_after - now).total_seconds() / 86400,
    )


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if values:
        return str(values[0].value)
    return name.rfc4514_string()


def _names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    dns_names = extension.value.get_values_for_type(x509.DNSName)
    addresses = [str(address) for address in extension.value.get_values_for_type(x509.IPAddress)]
    return (*dns_names, *addresses)
