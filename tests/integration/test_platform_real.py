"""`diagnose --platform` against real servers: the probes are real (the tests' HTTP app,
PostgreSQL, Redis, a port nothing listens on), the platform's word comes from recorded CLI
output (tests/data/platform, shapes cited there), and the verdict joins both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.common import CliResult, StackWriter
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

DATA = Path(__file__).parents[1] / "data" / "platform"


def diagnose(run_cli: Any, stack: Path, *platform: str) -> CliResult:
    options = [option for name in platform for option in ("--platform", name)]
    result: CliResult = run_cli("diagnose", str(stack), "--json", *options)
    return result


def test_a_compose_service_that_exited_is_the_root_cause_behind_a_refused_port(
    write_stack: StackWriter, run_cli: Any, app_server: AppServer
) -> None:
    # web: nothing listens on its port (tcp.refused for real); compose ps says it exited (1)
    stack = write_stack(
        {
            "front": {"url": app_server.url("/ok"), "depends_on": ["web"]},
            "web": {"url": f"http://127.0.0.1:{free_port()}/", "platform": "web"},
        }
    )
    result = diagnose(run_cli, stack, str(DATA / "compose-ps.jsonl"))
    assert result.status == 1
    document = result.json()
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["code"], cause["vantage"]) == (
        "web",
        "platform.container_exited",
        "platform",
    )
    assert cause["owner"] == "application"
    assert any("exited with exit code 1" in line for line in cause["evidence"])
    assert any("Connection refused" in line for line in cause["evidence"])  # the real probe
    assert document["platform"]["findings"][0]["code"] == "platform.container_exited"
    assert "shop-db-1" in " ".join(document["platform"]["unjoined"])


def test_cloud_sql_not_runnable_while_the_real_database_answers_is_said_not_hidden(
    write_stack: StackWriter, run_cli: Any, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    instance = json.loads((DATA / "cloudsql-instance.json").read_text())
    instance["state"] = "MAINTENANCE"
    instance["ipAddresses"] = [{"type": "PRIVATE", "ipAddress": "127.0.0.1"}]
    described = tmp_path / "instance.json"
    described.write_text(json.dumps(instance))
    stack = write_stack({"db": {"url": postgres_server.url()}})  # joined by its address
    result = diagnose(run_cli, stack, str(described))
    document = result.json()
    db = document["components"][0]
    assert [phase["layer"] for phase in db["phases"]] == ["dns", "tcp", "postgres"]
    assert all(phase["ok"] for phase in db["phases"])  # the real server answers SELECT 1
    (cause,) = document["root_causes"]
    assert cause["code"] == "cloudsql.not_runnable"
    assert cause["confidence"] == 0.75  # the platform's word, which the probe does not share
    assert any("probe of db passes" in line for line in cause["evidence"])
    assert any("faultfinder's probe passes" in note for note in db["notes"])
    assert "pg-Secret" not in result.out  # the URL's password stays masked


def test_the_platform_saying_running_while_the_real_probe_is_refused_is_a_note(
    write_stack: StackWriter, run_cli: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    # compose says cache is running; the stack points at a port nothing listens on
    port = free_port()
    ps = [
        {
            "Service": "cache",
            "Name": "shop-cache-1",
            "State": "running",
            "Health": "",
            "ExitCode": 0,
            "Publishers": [
                {"URL": "0.0.0.0", "TargetPort": 6379, "PublishedPort": port, "Protocol": "tcp"}
            ],
        }
    ]
    described = tmp_path / "ps.json"
    described.write_text(json.dumps(ps))
    stack = write_stack(
        {
            "cache": {"url": f"redis://127.0.0.1:{port}/0"},
            "real": {"url": redis_server.url()},
        }
    )
    document = diagnose(run_cli, stack, str(described)).json()
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["code"]) == ("cache", "tcp.refused")
    cache = next(c for c in document["components"] if c["name"] == "cache")
    (note,) = cache["notes"]
    assert "the platform says it is fine" in note
    assert "shop-cache-1" in note
    real = next(c for c in document["components"] if c["name"] == "real")
    assert real["status"] == "healthy"


def test_text_output_shows_the_platform_section(
    write_stack: StackWriter, run_cli: Any, app_server: AppServer
) -> None:
    stack = write_stack({"api": {"url": app_server.url("/ok"), "platform": "api"}})
    result = run_cli(
        "diagnose",
        str(stack),
        "--color",
        "never",
        "--platform",
        str(DATA / "cloudrun-revisions.json"),
    )
    assert result.status == 1
    assert "platform.memory_exceeded" in result.out
    assert "Memory limit of 512 MiB exceeded" in result.out


def test_logs_and_platform_together_keep_both_keys(
    write_stack: StackWriter, run_cli: Any, app_server: AppServer, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    # a Cloud Run line (docs/logs.md): "Memory limit of … exceeded"
    log.write_text("Memory limit of 512 MiB exceeded with 530 MiB used.\n")
    stack = write_stack({"api": {"url": app_server.url("/ok"), "platform": "api"}})
    result = run_cli(
        "diagnose",
        str(stack),
        "--json",
        "--logs",
        str(log),
        "--platform",
        str(DATA / "cloudrun-revisions.json"),
    )
    document = result.json()
    assert [code["code"] for code in document["logs"]["codes"]] == ["platform.memory_exceeded"]
    assert document["platform"]["findings"][0]["code"] == "platform.memory_exceeded"
    assert document["root_causes"][0]["vantage"] == "platform"
