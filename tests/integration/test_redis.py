"""The Redis prober against real redis-servers: each fault produced for real."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

import pytest
import redis
import yaml

from faultfinder import CheckResult, parse_stack, probe_component
from faultfinder.faults import FAULTS
from faultfinder.probe.redis import PROBE_KEY
from tests.servers import wait_until
from tests.servers.timing import by_deadline

PASSWORD = "redis-Secret-93c1"


async def probe(url: str, **options: Any) -> CheckResult:
    document = {"version": 1, "components": {"cache": {"url": url, "timeout": "2s", **options}}}
    stack = parse_stack(yaml.safe_dump(document), "test.yaml", os.environ)
    return await probe_component(stack.components["cache"])


def assert_fault(result: CheckResult, code: str, phase: str = "redis") -> None:
    """The exact code, a catalogued one, and the rung where the probe stopped."""
    assert result.code == code, result
    assert code in FAULTS
    assert result.phases[-1].layer == phase, result.phases
    assert result.phases[-1].ok is False


def test_healthy(redis_server, write_stack, run_cli):
    stack = write_stack({"cache": {"url": redis_server.url()}})

    result = run_cli("diagnose", str(stack), "--json")

    assert result.status == 0, result.out
    assert result.json()["status"] == "healthy"
    cache = result.component("cache")
    assert [(phase["layer"], phase["ok"]) for phase in cache["phases"]] == [
        ("dns", True),
        ("tcp", True),
        ("redis", True),
    ]
    assert cache["phases"][-1]["detail"] == "PING ok, write ok"


async def test_probe_key_is_short_lived(redis_server):
    assert (await probe(redis_server.url(database=3))).code is None

    with redis_server.client(database=3) as client:
        assert 0 < client.pttl(PROBE_KEY) <= 10_000


@pytest.mark.parametrize(
    ("password", "reply"),
    # redis-py keeps the reply's text, not its NOAUTH/WRONGPASS prefix
    [
        (None, "must be called with the client already authenticated"),
        ("not-the-password", "invalid username-password pair"),
    ],
    ids=["no-password", "wrong-password"],
)
async def test_rejected_password_is_auth_failed(redis_factory, password, reply):
    server = redis_factory.start(requirepass=PASSWORD)

    result = await probe(server.url(password=password))

    assert_fault(result, "redis.auth_failed")
    assert any(reply in line for line in result.evidence), result.evidence
    assert FAULTS["redis.auth_failed"].owner == "configuration"
    assert (await probe(server.url(password=PASSWORD))).code is None


async def test_full_memory_is_oom_and_write_false_skips_the_write(redis_factory):
    server = redis_factory.start(maxmemory_policy="noeviction")
    with server.client() as client:
        for index in range(50):  # about 3 MB of data, then a limit well below what is used
            client.set(f"filler:{index}", b"x" * 65536)
        client.config_set("maxmemory", "2mb")
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            client.set("one-more", "x")

    result = await probe(server.url())

    assert_fault(result, "redis.oom")
    assert any("used memory > 'maxmemory'" in line for line in result.evidence), result.evidence
    # PING still works: a component that only reads is healthy.
    read_only = await probe(server.url(), write=False)
    assert read_only.code is None, read_only
    assert read_only.phases[-1].detail == "PING ok"


async def test_replica_is_readonly(redis_factory):
    primary = redis_factory.start(repl_diskless_sync_delay=0)
    replica = redis_factory.start(replicaof=f"127.0.0.1 {primary.port}", replica_read_only="yes")

    def synced() -> bool:
        with replica.client() as client:
            return client.info("replication").get("master_link_status") == "up"

    wait_until(synced, what="the replica to sync")

    result = await probe(replica.url())

    assert_fault(result, "redis.readonly")
    assert any("read only replica" in line for line in result.evidence), result.evidence
    assert (await probe(replica.url(), write=False)).code is None


async def test_client_limit_is_max_clients(redis_factory):
    server = redis_factory.start(maxclients=2)
    with contextlib.ExitStack() as held:
        for _ in range(2):
            connection = held.enter_context(socket.create_connection(("127.0.0.1", server.port)))
            connection.sendall(b"PING\r\n")  # a reply means redis counts this client
            assert connection.recv(64) == b"+PONG\r\n"

        result = await probe(server.url())

    assert_fault(result, "redis.max_clients")
    assert FAULTS["redis.max_clients"].owner == "infrastructure"


async def test_loading_dataset_is_loading(redis_factory, tmp_path):
    # Write an RDB of 20k keys, then start a server that loads it 250 µs a key (5 s),
    # answering clients between every kilobyte it reads.
    writer = redis_factory.start(dir=str(tmp_path), enable_debug_command="yes")
    with writer.client() as client:
        client.execute_command("DEBUG", "POPULATE", 20_000)
        client.save()
    writer.stop()
    server = redis_factory.start(
        wait=False,
        dir=str(tmp_path),
        key_load_delay=250,
        loading_process_events_interval_bytes=1024,
    )
    try:
        with server.client() as client, pytest.raises(redis.exceptions.BusyLoadingError):
            client.ping()

        result = await probe(server.url())
    finally:
        server.kill()

    assert_fault(result, "redis.loading")
    assert any("loading" in line for line in result.evidence), result.evidence


def test_stopped_server_is_timeout_within_the_deadline(redis_factory, write_stack, run_cli):
    server = redis_factory.start()
    stack = write_stack({"cache": {"url": server.url(), "timeout": "2s"}})
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
    cache = result.component("cache")
    assert cache["code"] == "redis.timeout"
    # TCP was accepted (the kernel answers for a stopped process); the protocol never was.
    assert [(phase["layer"], phase["ok"]) for phase in cache["phases"]] == [
        ("dns", True),
        ("tcp", True),
        ("redis", False),
    ]
    cause = result.json()["root_causes"][0]
    assert (cause["code"], cause["layer"], cause["owner"]) == (
        "redis.timeout",
        "redis",
        "infrastructure",
    )


async def test_stopped_server_is_tcp_refused(redis_factory):
    server = redis_factory.start()
    url = server.url()
    server.stop()

    result = await probe(url)

    assert_fault(result, "tcp.refused", phase="tcp")


@pytest.mark.parametrize("json_output", [True, False], ids=["json", "text"])
def test_passwords_never_appear_in_the_output(
    redis_factory, write_stack, run_cli, monkeypatch, json_output
):
    server = redis_factory.start(requirepass=PASSWORD)
    wrong_inline, wrong_env = "wrong-Inline-e41a", "wrong-Env-9d3c"
    monkeypatch.setenv("CACHE_PASSWORD", PASSWORD)
    monkeypatch.setenv("CACHE_B", wrong_env)  # secret by its place in the URL, not its name
    stack = write_stack(
        {
            "inline": {"url": server.url(password=PASSWORD)},
            "from_env": {"url": server.url(password="${CACHE_PASSWORD}")},
            "wrong_inline": {"url": server.url(password=wrong_inline)},
            "wrong_env": {"url": server.url(password="${CACHE_B}")},
            "no_password": {"url": server.url()},
        }
    )

    result = run_cli("diagnose", str(stack), *(["--json"] if json_output else []))

    output = result.out + result.err
    assert result.status == 1
    for secret in (PASSWORD, wrong_inline, wrong_env):
        assert secret not in output
    if json_output:
        codes = {c["name"]: c.get("code") for c in result.json()["components"]}
        assert codes == {
            "from_env": None,
            "inline": None,
            "no_password": "redis.auth_failed",
            "wrong_env": "redis.auth_failed",
            "wrong_inline": "redis.auth_failed",
        }
    else:
        assert "redis.auth_failed" in output
