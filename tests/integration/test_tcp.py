"""TCP-level faults under every scheme that climbs the TCP rung: real listeners on loopback."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import yaml

from faultfinder import CheckResult, parse_stack, probe_component
from tests.servers import free_port
from tests.servers.timing import by_deadline


async def probe(url: str, **options: Any) -> CheckResult:
    document = {"version": 1, "components": {"target": {"url": url, "timeout": "2s", **options}}}
    stack = parse_stack(yaml.safe_dump(document), "test.yaml", os.environ)
    return await probe_component(stack.components["target"])


def test_tcp_healthy_against_a_listener(silent_server, write_stack, run_cli):
    stack = write_stack({"port": {"url": f"tcp://127.0.0.1:{silent_server.port}"}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    port = result.component("port")
    assert port["status"] == "healthy"
    assert [(phase["layer"], phase["ok"]) for phase in port["phases"]] == [
        ("dns", True),
        ("tcp", True),
    ]


async def test_tcp_closed_port_is_refused():
    result = await probe(f"tcp://127.0.0.1:{free_port()}")

    assert result.code == "tcp.refused"
    assert [(phase.layer, phase.ok) for phase in result.phases] == [("dns", True), ("tcp", False)]
    assert any("Connection refused" in line for line in result.evidence), result.evidence


@pytest.mark.parametrize("scheme", ["redis", "postgresql"])
async def test_reset_during_set_up_is_tcp_reset(reset_server, scheme):
    accepted = reset_server.accepted

    result = await probe(f"{scheme}://user:password@127.0.0.1:{reset_server.port}/0")

    assert result.code == "tcp.reset", result
    # The RST can beat asyncio's check of the TCP rung's own connect, or come on the protocol
    # rung's connection: either way the probe stops there with tcp.reset.
    assert result.phases[-1].ok is False
    assert any("reset" in line.lower() for line in result.evidence), result.evidence
    assert reset_server.accepted > accepted  # the server really took the connection


@pytest.mark.parametrize(
    ("scheme", "code"), [("redis", "redis.timeout"), ("postgresql", "postgres.timeout")]
)
async def test_silent_server_is_protocol_timeout_within_the_deadline(silent_server, scheme, code):
    started = time.monotonic()
    result = await probe(f"{scheme}://user:password@127.0.0.1:{silent_server.port}/0", timeout="1s")
    elapsed = time.monotonic() - started

    assert result.code == code, result
    assert [phase.ok for phase in result.phases] == [True, True, False]  # TCP was accepted
    assert result.phases[-1].layer == code.split(".")[0]
    # The server never answers: past its deadline the probe would wait forever. The limit,
    # twice the 1 s deadline and 1 s, holds at twice CI's load (tests/servers/timing.py).
    assert elapsed < by_deadline(1.0), f"the probe took {elapsed:.2f}s with a 1s timeout"


@pytest.mark.parametrize(
    ("scheme", "code"), [("redis", "redis.error"), ("postgresql", "postgres.error")]
)
async def test_close_without_an_answer_is_a_protocol_error(hangup_server, scheme, code):
    # A FIN before any reply (a TCP proxy with no backend): asyncpg's bare ConnectionError
    # escaped the prober and crashed the run.
    result = await probe(f"{scheme}://user:password@127.0.0.1:{hangup_server.port}/0")

    assert result.code == code, result
    assert [phase.ok for phase in result.phases] == [True, True, False]
    assert any("closed" in line for line in result.evidence), result.evidence
