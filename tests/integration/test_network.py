"""TCP faults produced for real inside a network namespace: blackholes, ICMP errors, address order.

The CLI runs inside the namespace (``ip netns exec``), so every packet stays on its loopback
and the iptables rules touch nothing else on the machine.
"""

from __future__ import annotations

import time

import pytest

from tests.servers import free_port

pytestmark = pytest.mark.netns


def test_blackholed_port_is_tcp_timeout_within_the_deadline(netns, write_stack):
    namespace = netns()
    port = free_port()
    namespace.drop(port)
    stack = write_stack({"backend": {"url": f"tcp://127.0.0.1:{port}"}}, timeout="2s")

    started = time.monotonic()
    result = namespace.diagnose(stack)
    elapsed = time.monotonic() - started

    # A bar of the project: the whole run, start-up included, ends within deadline + 1 s.
    assert elapsed < 3.0, f"diagnose took {elapsed:.2f}s with a 2s timeout"
    assert result.status == 1, result.err
    backend = result.component("backend")
    assert backend["code"] == "tcp.timeout"
    assert backend["phases"][-1]["layer"] == "tcp"
    assert backend["phases"][-1]["ok"] is False
    assert backend["phases"][-1]["ms"] >= 1900  # it really waited for the SYN, not less
    cause = result.json()["root_causes"][0]
    assert (cause["code"], cause["layer"], cause["owner"]) == ("tcp.timeout", "tcp", "infrastructure")


@pytest.mark.parametrize("reject_with", ["icmp-host-unreachable", "icmp-net-unreachable"])
def test_icmp_unreachable_is_tcp_unreachable(netns, write_stack, reject_with):
    namespace = netns()
    port = free_port()
    namespace.reject(port, reject_with)
    stack = write_stack({"backend": {"url": f"tcp://127.0.0.1:{port}"}})

    result = namespace.diagnose(stack)

    backend = result.component("backend")
    assert backend["code"] == "tcp.unreachable", backend
    assert backend["phases"][-1]["layer"] == "tcp"
    reason = "No route to host" if reject_with == "icmp-host-unreachable" else "Network is unreachable"
    assert any(reason in line for line in backend["evidence"]), backend["evidence"]
    assert result.json()["root_causes"][0]["owner"] == "infrastructure"


def test_first_address_refused_second_accepts(netns, write_stack):
    # The hosts file gives ::1 first (glibc sorts it ahead of 127.0.0.1, RFC 6724); only
    # 127.0.0.1 listens. The probe must pass, and say that the first address refused.
    namespace = netns(hosts="127.0.0.1 localhost\n::1 both.internal\n127.0.0.1 both.internal\n")
    port = free_port()
    namespace.listen(port, "127.0.0.1")
    stack = write_stack({"backend": {"url": f"tcp://both.internal:{port}"}})

    result = namespace.diagnose(stack)

    assert result.status == 0, result.out
    backend = result.component("backend")
    assert backend["status"] == "healthy"
    assert backend["addresses"] == ["::1", "127.0.0.1"]
    assert backend["phases"][-1] == {**backend["phases"][-1], "layer": "tcp", "ok": True}
    assert backend["phases"][-1]["detail"] == f"127.0.0.1:{port}"
    assert f"connect to [::1]:{port} failed: [Errno 111] Connection refused" in backend["evidence"]
