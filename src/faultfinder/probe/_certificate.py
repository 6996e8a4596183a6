"""Read a DER certificate with ``cryptography``: names, issuer, validity, days left."""

from __future__ import annotations

import datetime
import hashlib
import itertools

from cryptography import x509
from cryptography.x509.oid import NameOID

from faultfinder import clock
from faultfinder.errors import printable
from faultfinder.model import Certificate

MAX_NAMES = 100  # a certificate may carry thousands (docs/bounds.md)


def read_certificate(der: bytes, now: datetime.datetime | None = None) -> Certificate:
    """The leaf's subject and issuer (common name, else the whole name), names and validity.

    ``names`` are the subjectAltName DNS names and IP addresses, in certificate order, the
    first ``MAX_NAMES``; ``days_left`` is negative once the certificate has expired. What the
    certificate says is text a server chose: control characters are escaped.
    """
    certificate = x509.load_der_x509_certificate(der)
    now = now or clock.now()
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    return Certificate(
        subject=_common_name(certificate.subject),
        issuer=_common_name(certificate.issuer),
        names=_names(certificate),
        not_before=not_before,
        not_after=not_after,
        days_left=(not_after - now).total_seconds() / 86400,
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        subject_name=printable(certificate.subject.rfc4514_string()),
        issuer_name=printable(certificate.issuer.rfc4514_string()),
    )


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if values:
        return printable(str(values[0].value))
    return printable(name.rfc4514_string())


def _names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    # DNS names and IP addresses, in the certificate's order; other kinds (email, URI) name no host.
    names = (
        printable(str(name.value))
        for name in extension.value
        if isinstance(name, x509.DNSName | x509.IPAddress)
    )
    return tuple(itertools.islice(names, MAX_NAMES))
