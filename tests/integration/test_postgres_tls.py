"""sslmode=verify-ca/verify-full against a real PostgreSQL 15 serving a certificate from the
test CA: the prober trusts ``tls.ca`` (or the URL's ``sslrootcert``) and checks the name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from faultfinder import CheckResult, parse_stack, probe_component
from faultfinder.faults import FAULTS
from tests.servers.postgres import PostgresFactory, PostgresServer
from tests.servers.tls import NAME, Certificates


@pytest.fixture(scope="module")
def tls_postgres(postgres_template: Path, certificates: Certificates) -> Iterator[PostgresServer]:
    """A server with ssl on, presenting the test CA's certificate for api.example.test."""
    factory = PostgresFactory(postgres_template)
    try:
        yield factory.start(tls=certificates.valid)
    finally:
        factory.stop_all()


async def probe(url: str, **options: Any) -> CheckResult:
    document = {"version": 1, "components": {"db": {"url": url, "timeout": "3s", **options}}}
    stack = parse_stack(yaml.safe_dump(document), "test.yaml", os.environ)
    return await probe_component(stack.components["db"])


def assert_fault(result: CheckResult, code: str) -> None:
    """The exact code, caught at the postgres rung (PostgreSQL negotiates TLS in-protocol)."""
    assert result.code == code, result
    assert FAULTS[code].layer == "tls"
    assert [(phase.layer, phase.ok) for phase in result.phases] == [
        ("dns", True),
        ("tcp", True),
        ("postgres", False),
    ], result.phases


async def test_verify_full_trusting_tls_ca_is_healthy(tls_postgres, certificates):
    result = await probe(
        tls_postgres.url() + "?sslmode=verify-full",
        tls={"ca": str(certificates.ca_file), "server_name": NAME},
    )

    assert result.code is None, result
    assert result.phases[-1].detail.startswith("SELECT 1 ok (server 15."), result.phases


async def test_sslrootcert_in_the_url_is_trusted(tls_postgres, certificates):
    url = f"{tls_postgres.url()}?sslmode=verify-full&sslrootcert={certificates.ca_file}"

    result = await probe(url, tls={"server_name": NAME})

    assert result.code is None, result


async def test_an_sslrootcert_that_cannot_be_read_is_named(tls_postgres, tmp_path):
    missing = tmp_path / "no-such-ca.pem"
    result = await probe(f"{tls_postgres.url()}?sslmode=verify-ca&sslrootcert={missing}")

    assert result.code == "postgres.error", result
    assert result.phases[-1].layer == "postgres"
    assert any(str(missing) in line for line in result.evidence), result.evidence


async def test_without_the_ca_the_certificate_is_untrusted(tls_postgres):
    result = await probe(tls_postgres.url() + "?sslmode=verify-full", tls={"server_name": NAME})

    assert_fault(result, "tls.untrusted")
    assert any("unable to get local issuer certificate" in line for line in result.evidence), (
        result.evidence
    )


async def test_sslrootcert_system_trusts_only_the_system_store(tls_postgres):
    url = tls_postgres.url() + "?sslmode=verify-ca&sslrootcert=system"

    assert_fault(await probe(url), "tls.untrusted")


async def test_a_name_the_certificate_does_not_cover_is_hostname_mismatch(
    tls_postgres, certificates
):
    result = await probe(
        tls_postgres.url() + "?sslmode=verify-full",
        tls={"ca": str(certificates.ca_file), "server_name": "db.example.test"},
    )

    assert_fault(result, "tls.hostname_mismatch")
    assert any("db.example.test" in line for line in result.evidence), result.evidence


async def test_verify_full_checks_the_url_host_without_server_name(tls_postgres, certificates):
    # The certificate names api.example.test, not the address 127.0.0.1 the URL holds.
    result = await probe(
        tls_postgres.url() + "?sslmode=verify-full", tls={"ca": str(certificates.ca_file)}
    )

    assert_fault(result, "tls.hostname_mismatch")


async def test_verify_ca_checks_the_chain_but_not_the_name(tls_postgres, certificates):
    url = tls_postgres.url() + "?sslmode=verify-ca"

    assert (await probe(url, tls={"ca": str(certificates.ca_file)})).code is None
    assert_fault(await probe(url), "tls.untrusted")
