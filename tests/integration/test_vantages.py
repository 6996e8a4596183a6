"""Several vantage points, one diagnosis: two agents (``serve --agent``) in two network
namespaces, a real Prometheus scraping both, and ``diagnose --prometheus`` joining their views.

Agent ``vpc`` resolves through a dead resolver (its resolv.conf names 127.0.0.1 in its own
namespace, where nothing answers), so the one dependency only a resolver can name fails from
there; agent ``office`` names it (its hosts file) and reaches it. Both reach ``api``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers import Process, free_port
from tests.servers.common import StackWriter, run_cli_process
from tests.servers.exporters import Prometheus
from tests.servers.netns import DEFAULT_HOSTS, Namespace, machine_listener

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="network namespaces")


def start_agent(namespace: Namespace, stack: Path, name: str, address: str) -> tuple[Process, str]:
    port = free_port()
    process = namespace.start(
        sys.executable,
        "-m",
        "faultfinder",
        "serve",
        str(stack),
        "--agent",
        name,
        "--listen",
        f"{address}:{port}",
        "--no-history",
        "--no-alerts",
        label=f"agent-{name}",
    )
    namespace.wait_for_port(port, address)
    return process, f"{address}:{port}"


def diagnose(stack: Path, prometheus: Prometheus, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli_process(
        "diagnose", str(stack), "--json", "--prometheus", prometheus.url(), *args
    )
    assert result.status in (0, 1), result.err
    return result.status, result.json()


def test_a_fault_seen_from_one_agent_is_that_agents_path(
    netns: Callable[..., Namespace],
    write_stack: StackWriter,
    prometheus_server: Callable[[list[dict[str, Any]]], Prometheus],
    tmp_path: Path,
) -> None:
    office, vpc = netns(), netns()
    office_outside, office_inside = office.link()
    vpc_outside, vpc_inside = vpc.link()
    port = free_port()
    dependency = machine_listener(tmp_path, port)
    try:
        # Each namespace names api through its hosts file; only office's names cache, and vpc's
        # lookups of it go to its resolver, which is dead.
        (office.etc / "hosts").write_text(
            DEFAULT_HOSTS + f"{office_outside} api.internal cache.internal\n"
        )
        (vpc.etc / "hosts").write_text(DEFAULT_HOSTS + f"{vpc_outside} api.internal\n")
        stack = write_stack(
            {
                "api": {"url": f"http://api.internal:{port}/"},
                "cache": {"url": f"tcp://cache.internal:{port}"},
            },
            defaults={
                "timeout": "1s",
                "interval": "250ms",
                "failure_threshold": 1,
                "success_threshold": 1,
            },
        )
        # Another stack in the same Prometheus, with a component of the same name that fails:
        # its agent says so (faultfinder_agent_info{stack="other"}) and is left out.
        other = write_stack(
            {"cache": {"url": f"tcp://cache.internal:{free_port()}"}},
            name="other",
            defaults={"interval": "250ms"},
        )
        _, office_address = start_agent(office, stack, "office", office_inside)
        vpc_agent, vpc_address = start_agent(vpc, stack, "vpc", vpc_inside)
        _, other_address = start_agent(office, other, "office-other", office_inside)
        prometheus = prometheus_server(
            [
                {
                    "job_name": "faultfinder",
                    "static_configs": [{"targets": [office_address, vpc_address, other_address]}],
                },
            ]
        )
        prometheus.wait_for('count(faultfinder_component_fault_info{component="cache"}) == 2')
        prometheus.wait_for("count(faultfinder_probe_timestamp_seconds) == 5")

        status, document = diagnose(stack, prometheus, "--staleness", "30s")
        assert status == 1
        (cause,) = document["root_causes"]
        assert (cause["component"], cause["vantage"], cause["layer"]) == ("cache", "vpc", "dns")
        assert cause["code"].startswith("dns.")
        assert "vpc's path" in cause["explanation"]
        assert "resolver" in cause["explanation"]
        assert "office reaches cache fine" in " ".join(cause["evidence"])
        components = {c["name"]: c for c in document["components"]}
        cache = {v["agent"]: (v["status"], v["code"]) for v in components["cache"]["vantages"]}
        assert cache == {"office": ("healthy", None), "vpc": ("down", cause["code"])}
        # vpc's probe stopped at its first rung: the phases shown are the failing agent's
        assert [(p["layer"], p["ok"]) for p in components["cache"]["phases"]] == [("dns", False)]
        api = {v["agent"]: v["status"] for v in components["api"]["vantages"]}
        assert api == {"office": "healthy", "vpc": "healthy"}
        assert components["api"]["status"] == "healthy"
        assert [(a["name"], a["stale"]) for a in document["agents"]] == [
            ("office", False),
            ("vpc", False),
        ]
        # the hand-off document cites the vantage points
        saved = tmp_path / "diagnosis.json"
        saved.write_text(json.dumps(document))
        handoff = run_cli_process("report", str(stack), "--diagnosis", str(saved))
        assert handoff.status == 0, handoff.err
        assert "## Vantage points" in handoff.out
        assert f"| cache | healthy | {cause['code']} |" in handoff.out
        assert "| api | healthy | healthy |" in handoff.out
        assert "seen from vpc" in handoff.out

        # The vpc agent stops: once Prometheus' scrape of it fails (its series marked stale),
        # it is listed as stale, well within the staleness limit, and its view is not guessed.
        vpc_agent.stop()
        prometheus.wait_for('absent(faultfinder_component_up{agent="vpc"})')
        status, document = diagnose(stack, prometheus, "--staleness", "30s")
        assert status == 0
        assert [(a["name"], a["stale"]) for a in document["agents"]] == [
            ("office", False),
            ("vpc", True),
        ]
        assert document["root_causes"] == []
        assert any("agent vpc has not probed" in note for note in document["notes"])
        assert {v["agent"] for c in document["components"] for v in c["vantages"]} == {"office"}
    finally:
        dependency.stop()
