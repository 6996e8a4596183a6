"""DNS faults produced for real: a dead or blackholed resolver, and dnsmasq serving a test zone.

Each test runs the CLI inside a network namespace whose resolv.conf points at 127.0.0.1 there,
so getaddrinfo asks only what the test put on that loopback (dnsmasq, or nothing at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import free_port
from tests.servers.common import CliResult
from tests.servers.dnsmasq import start_dnsmasq
from tests.servers.netns import Namespace
from tests.servers.timing import by_deadline

pytestmark = pytest.mark.netns

EAI_AGAIN_TEXT = "[Errno -3] Temporary failure in name resolution"


def stack_file(directory: Path, components: dict[str, Any], timeout: str = "2s") -> Path:
    path = directory / "stack.yaml"
    document = {
        "version": 1,
        "name": "dns",
        "defaults": {"timeout": timeout},
        "components": components,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliResult]:
    """One diagnosis, inside a namespace, of names that dnsmasq answers for the zone internal.

    Shared by the tests below: each asserts on its own component of the one real run.
    """
    workdir = tmp_path_factory.mktemp("zone")
    namespace = Namespace(workdir)
    try:
        start_dnsmasq(
            workdir,
            namespace,
            hosts={"redis.internal": ["127.0.0.1"]},
            txt_records={"text.internal": "v=only-text"},
            mx_hosts={"mail.internal": "redis.internal"},
        )
        redis_port = free_port()
        namespace.redis(redis_port)
        stack = stack_file(
            workdir,
            {
                "redis": {"url": f"redis://redis.internal:{redis_port}/0"},
                "redis_name": {"url": "dns://redis.internal"},
                "missing": {"url": "dns://missing.internal"},
                "missing_tcp": {"url": "tcp://missing.internal:80"},
                "text_only": {"url": "dns://text.internal"},
                "mail_only": {"url": f"redis://mail.internal:{redis_port}"},
            },
        )
        yield namespace.diagnose(stack)
    finally:
        namespace.close()


def test_name_served_by_dnsmasq_resolves_and_redis_passes(zone):
    redis = zone.component("redis")
    assert redis["status"] == "healthy", redis
    assert redis["addresses"] == ["127.0.0.1"]
    assert [phase["layer"] for phase in redis["phases"]] == ["dns", "tcp", "redis"]
    assert all(phase["ok"] for phase in redis["phases"])


def test_dns_scheme_healthy(zone):
    name = zone.component("redis_name")
    assert name["status"] == "healthy"
    assert name["phases"] == [
        {**name["phases"][0], "layer": "dns", "ok": True, "detail": "127.0.0.1"}
    ]


@pytest.mark.parametrize("component", ["missing", "missing_tcp"])
def test_name_missing_from_authoritative_zone_is_nxdomain(zone, component):
    missing = zone.component(component)
    assert missing["code"] == "dns.nxdomain"
    assert missing["phases"][-1]["layer"] == "dns"
    assert any("[Errno -2] Name or service not known" in line for line in missing["evidence"])
    cause = next(c for c in zone.json()["root_causes"] if c["component"] == component)
    assert cause["owner"] == "configuration"


@pytest.mark.parametrize("component", ["text_only", "mail_only"])
def test_name_with_no_a_record_is_no_address(zone, component):
    # glibc 2.36 turns a NOERROR answer without A/AAAA (NODATA) into EAI_NODATA (-5), distinct
    # from NXDOMAIN's EAI_NONAME (-2), so the EAI code alone tells the two apart.
    found = zone.component(component)
    assert found["code"] == "dns.no_address", found
    assert found["phases"][-1]["layer"] == "dns"
    evidence = " ".join(found["evidence"])
    assert "[Errno -5] No address associated with hostname" in evidence
    cause = next(c for c in zone.json()["root_causes"] if c["component"] == component)
    assert cause["owner"] == "configuration"


def test_dead_resolver_is_temporary_failure(netns, write_stack):
    # resolv.conf points at 127.0.0.1 in the namespace, where nothing listens on port 53.
    namespace = netns()
    stack = write_stack({"api_dns": {"url": "dns://api.internal"}})

    result = namespace.diagnose(stack)

    found = result.component("api_dns")
    assert found["code"] == "dns.temporary_failure"
    assert found["phases"] == [{**found["phases"][0], "layer": "dns", "ok": False}]
    evidence = " ".join(found["evidence"])
    assert "[Errno -3]" in evidence
    assert "Temporary failure in name resolution" in evidence
    assert result.json()["root_causes"][0]["owner"] == "infrastructure"


@pytest.mark.xdist_group("wall_clock")  # see test_network.py
def test_blackholed_resolver_answers_within_the_deadline(netns, write_stack):
    # glibc's defaults (5 s, 2 attempts, A and AAAA) would hang getaddrinfo for 10 s or more;
    # the lookup thread cannot be cancelled, yet the run must end on the component's deadline.
    # No hosts file either: the prober's own footing check (a lookup of localhost) hangs too.
    namespace = netns(resolv="nameserver 127.0.0.1\n", hosts="")
    namespace.drop(53, "udp")
    stack = write_stack({"api_dns": {"url": "dns://api.internal"}}, timeout="2s")

    result, elapsed = namespace.timed_diagnose(stack)

    found = result.component("api_dns")
    assert found["code"] == "dns.temporary_failure"
    assert found["phases"][-1]["layer"] == "dns"
    assert found["phases"][-1]["ms"] >= 1900
    assert any("getaddrinfo('api.internal') gave no answer" in line for line in found["evidence"])
    probing = result.json()["duration_ms"]
    # The hung lookup thread must neither delay the answer nor hold the process open at exit:
    # that would be glibc's 5 s × 2 attempts, 10 s or more. The limit, twice the 2 s deadline
    # and 1 s, holds at twice CI's load (tests/servers/timing.py).
    limit = by_deadline(2.0)
    assert elapsed < limit, f"diagnose took {elapsed:.2f}s beyond start-up (probing {probing}ms)"


def test_incident_redis_name_with_dead_resolver(netns, write_stack):
    # Redis itself is up; only its name cannot be resolved: the verdict must say DNS, not Redis.
    namespace = netns()
    port = free_port()
    namespace.redis(port)
    stack = write_stack({"redis": {"url": f"redis://redis.internal:{port}/0", "critical": True}})

    result = namespace.diagnose(stack)

    assert result.status == 1
    document = result.json()
    assert document["status"] == "down"
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["code"], cause["layer"], cause["owner"]) == (
        "redis",
        "dns.temporary_failure",
        "dns",
        "infrastructure",
    )
    assert any(EAI_AGAIN_TEXT in line for line in cause["evidence"])
    assert document["verdict"]["owner"] == "infrastructure"
    assert "redis" in document["verdict"]["summary"]
    assert "redis.internal" in document["verdict"]["summary"]
