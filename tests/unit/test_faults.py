"""The fault catalogue keeps every code and owner of docs/contract.md §2, and the docs list
every code: the contract with its owner, docs/faults.md with its meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultfinder.faults import FAULTS

# docs/contract.md §2, as promised to users: code → owner. Codes may be added, never changed.
CONTRACT_OWNERS = {
    "dns.nxdomain": "configuration",
    "dns.temporary_failure": "infrastructure",
    "dns.no_address": "configuration",
    "tcp.refused": "infrastructure",
    "tcp.timeout": "infrastructure",
    "tcp.unreachable": "infrastructure",
    "tcp.reset": "infrastructure",
    "tls.expired": "infrastructure",
    "tls.hostname_mismatch": "configuration",
    "tls.untrusted": "infrastructure",
    "tls.handshake_failed": "infrastructure",
    "tls.expiring_soon": "infrastructure",
    "proxy.no_healthy_upstream": "infrastructure",
    "proxy.upstream_timeout": "infrastructure",
    "http.timeout": "unknown",
    "http.unexpected_status": "application",
    "app.error": "application",
    "app.unhealthy": "application",
    "postgres.auth_failed": "configuration",
    "postgres.database_missing": "configuration",
    "postgres.too_many_connections": "infrastructure",
    "postgres.starting_up": "infrastructure",
    "postgres.timeout": "infrastructure",
    "redis.auth_failed": "configuration",
    "redis.loading": "infrastructure",
    "redis.oom": "infrastructure",
    "redis.readonly": "infrastructure",
    "redis.max_clients": "infrastructure",
    "redis.timeout": "infrastructure",
    "ws.handshake_rejected": "application",
    "ws.closed_abnormally": "unknown",
    "dependency.failed": "none",
    # issue 14's log-only codes
    "tcp.closed_mid_session": "unknown",
    "platform.no_instance_available": "infrastructure",
    "platform.container_exited": "application",
    "app.worker_timeout": "application",
    "app.fd_exhausted": "application",
}
DOCS = Path(__file__).parents[2] / "docs" / "faults.md"
CONTRACT = Path(__file__).parents[2] / "docs" / "contract.md"


@pytest.mark.parametrize(("code", "owner"), sorted(CONTRACT_OWNERS.items()))
def test_contract_code_keeps_its_owner(code: str, owner: str) -> None:
    assert FAULTS[code].owner == owner


def test_every_code_is_well_formed_and_documented() -> None:
    docs = DOCS.read_text()
    for code, fault in FAULTS.items():
        layer, _, name = code.partition(".")
        assert code == code.lower()
        assert layer
        assert name
        assert fault.layer == layer
        assert fault.meaning
        assert fault.remediation[-1] in ".?"
        assert f"`{code}`" in docs, f"{code} has no row in docs/faults.md"
    assert sorted(code for code, fault in FAULTS.items() if fault.warning) == [
        "app.degraded",
        "tls.expiring_soon",
    ]


def test_the_contract_lists_every_code_with_its_owner() -> None:
    rows = {
        cells[1].strip("` "): cells[2].strip().removesuffix("\\*")  # * marks a footnote
        for line in CONTRACT.read_text().splitlines()
        if line.startswith("| `") and len(cells := line.split("|")) > 3
    }
    for code, fault in FAULTS.items():
        assert rows.get(code) == fault.owner, f"{code}: docs/contract.md §2 says {rows.get(code)}"
