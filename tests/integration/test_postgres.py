"""The PostgreSQL prober against real PostgreSQL 15 servers: each fault produced for real."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

import asyncpg
import pytest
import yaml

from faultfinder import CheckResult, parse_stack, probe_component
from faultfinder.faults import FAULTS
from tests.servers.postgres import PASSWORD
from tests.servers.timing import by_deadline


async def probe(url: str, **options: Any) -> CheckResult:
    document = {"version": 1, "components": {"db": {"url": url, "timeout": "2s", **options}}}
    stack = parse_stack(yaml.safe_dump(document), "test.yaml", os.environ)
    return await probe_component(stack.components["db"])


def assert_fault(result: CheckResult, code: str, phase: str = "postgres") -> None:
    """The exact code, a catalogued one, and the rung where the probe stopped."""
    assert result.code == code, result
    assert code in FAULTS
    assert result.phases[-1].layer == phase, result.phases
    assert result.phases[-1].ok is False


def test_healthy(postgres_server, write_stack, run_cli):
    stack = write_stack({"db": {"url": postgres_server.url()}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    assert result.json()["status"] == "healthy"
    db = result.component("db")
    assert db["status"] == "healthy"
    assert [(phase["layer"], phase["ok"]) for phase in db["phases"]] == [
        ("dns", True),
        ("tcp", True),
        ("postgres", True),
    ]
    assert db["phases"][-1]["detail"].startswith("SELECT 1 ok (server 15.")


async def test_wrong_password_is_auth_failed(postgres_server):
    result = await probe(postgres_server.url(password="not-the-password"))

    assert_fault(result, "postgres.auth_failed")
    assert FAULTS["postgres.auth_failed"].owner == "configuration"
    assert any("28P01" in line for line in result.evidence), result.evidence


async def test_unknown_user_is_auth_failed(postgres_server):
    result = await probe(postgres_server.url(user="nobody"))

    assert_fault(result, "postgres.auth_failed")


async def test_missing_database(postgres_server):
    result = await probe(postgres_server.url(database="no_such_database"))

    assert_fault(result, "postgres.database_missing")
    assert any("3D000" in line for line in result.evidence), result.evidence


async def test_password_from_pgpassword(postgres_server, monkeypatch):
    url = postgres_server.url(password=None)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert (await probe(url)).code is None

    monkeypatch.setenv("PGPASSWORD", "stale-password")
    assert (await probe(url)).code == "postgres.auth_failed"
    # A password in the URL wins over the environment.
    assert (await probe(postgres_server.url())).code is None


async def test_no_password_anywhere_is_auth_failed(postgres_server, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)

    result = await probe(postgres_server.url(password=None))

    assert_fault(result, "postgres.auth_failed")


async def test_connection_limit_is_too_many_connections(postgres_factory):
    # Three slots, one kept for superusers: the app role gets two.
    server = postgres_factory.start(max_connections=3, superuser_reserved_connections=1)
    async with contextlib.AsyncExitStack() as held:
        for _ in range(2):
            connection = await server.connect()
            held.push_async_callback(connection.close)

        # Only the reserved slot is left: "remaining connection slots are reserved …"
        reserved = await probe(server.url())
        assert_fault(reserved, "postgres.too_many_connections")
        assert any("reserved" in line for line in reserved.evidence), reserved.evidence

        # The rejected probe's backend frees its slot as it exits, a moment after the answer.
        superuser = await _connect_when_a_slot_frees(server)
        held.push_async_callback(superuser.close)
        # Every slot is taken: "sorry, too many clients already".
        full = await probe(server.url())
        assert_fault(full, "postgres.too_many_connections")
        assert any("too many clients" in line for line in full.evidence), full.evidence


async def _connect_when_a_slot_frees(server: Any) -> Any:
    deadline = time.monotonic() + 10
    while True:
        try:
            return await server.connect(superuser=True)
        except asyncpg.exceptions.TooManyConnectionsError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_standby_without_hot_standby_is_starting_up(postgres_factory):
    # A standby with hot_standby=off rejects every client with SQLSTATE 57P03.
    server = postgres_factory.start(standby=True)

    result = await probe(server.url())

    assert_fault(result, "postgres.starting_up")
    assert any("57P03" in line for line in result.evidence), result.evidence
    assert FAULTS["postgres.starting_up"].owner == "infrastructure"


async def test_shutting_down_is_starting_up(postgres_factory):
    # A smart shutdown waits for connected clients and refuses new ones with 57P03.
    server = postgres_factory.start()
    connection = await server.connect()
    try:
        server.begin_smart_shutdown()
        result = await probe(server.url())
    finally:
        await connection.close()

    assert_fault(result, "postgres.starting_up")
    assert any("shutting down" in line for line in result.evidence), result.evidence


async def test_sslmode_require_without_tls_on_the_server(postgres_server):
    # asyncpg's bare ConnectionError escaped the prober; it is a TLS mismatch.
    result = await probe(postgres_server.url() + "?sslmode=require")

    assert_fault(result, "tls.handshake_failed", phase="postgres")
    assert any("rejected SSL upgrade" in line for line in result.evidence), result.evidence


async def test_sslmode_disable_is_healthy(postgres_server):
    result = await probe(postgres_server.url() + "?sslmode=disable")

    assert result.code is None, result


def test_stopped_postmaster_is_timeout_within_the_deadline(postgres_factory, write_stack, run_cli):
    server = postgres_factory.start()
    stack = write_stack({"db": {"url": server.url(), "timeout": "2s"}})
    server.pause()
    try:
        started = time.monotonic()
        result = run_cli("diagnose", str(stack), "--json")
        elapsed = time.monotonic() - started
    finally:
        server.resume()

    # A bar of the project: a hung component's answer comes by its deadline; the stopped
    # server would keep it waiting forever. The limit, twice the 2 s deadline and 1 s, holds at
    # twice CI's load (tests/servers/timing.py).
    assert elapsed < by_deadline(2.0), f"diagnose took {elapsed:.2f}s with a 2s timeout"
    assert result.status == 1
    db = result.component("db")
    assert db["code"] == "postgres.timeout"
    # TCP was accepted (the kernel answers for a stopped process); the protocol never was.
    assert [(phase["layer"], phase["ok"]) for phase in db["phases"]] == [
        ("dns", True),
        ("tcp", True),
        ("postgres", False),
    ]
    cause = result.json()["root_causes"][0]
    assert (cause["code"], cause["layer"], cause["owner"]) == (
        "postgres.timeout",
        "postgres",
        "infrastructure",
    )


async def test_stopped_server_is_tcp_refused(postgres_factory):
    server = postgres_factory.start()
    url = server.url()
    server.stop()

    result = await probe(url)

    assert_fault(result, "tcp.refused", phase="tcp")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_both_schemes(postgres_server, scheme):
    url = postgres_server.url().replace("postgresql://", f"{scheme}://")

    result = await probe(url)

    assert result.code is None, result
    assert result.kind == "postgresql"


@pytest.mark.parametrize("json_output", [True, False], ids=["json", "text"])
def test_passwords_never_appear_in_the_output(
    postgres_server, write_stack, run_cli, monkeypatch, json_output
):
    wrong_inline, wrong_env, wrong_pgpassword = "wrong-Inline-61d0", "wrong-Env-0b9e", "wrong-c27a"
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("DB_B", wrong_env)  # secret by its place in the URL, not its name
    monkeypatch.setenv("PGPASSWORD", wrong_pgpassword)
    stack = write_stack(
        {
            "inline": {"url": postgres_server.url()},
            "from_env": {"url": postgres_server.url(password="${DB_PASSWORD}")},
            "wrong_inline": {"url": postgres_server.url(password=wrong_inline)},
            "wrong_env": {"url": postgres_server.url(password="${DB_B}")},
            "wrong_pgpassword": {"url": postgres_server.url(password=None)},
        }
    )

    result = run_cli("diagnose", str(stack), *(["--json"] if json_output else []))

    output = result.out + result.err
    assert result.status == 1
    for secret in (PASSWORD, wrong_inline, wrong_env, wrong_pgpassword):
        assert secret not in output
    if json_output:
        codes = {c["name"]: c.get("code") for c in result.json()["components"]}
        assert codes == {
            "from_env": None,
            "inline": None,
            "wrong_env": "postgres.auth_failed",
            "wrong_inline": "postgres.auth_failed",
            "wrong_pgpassword": "postgres.auth_failed",
        }
    else:
        assert "postgres.auth_failed" in output
