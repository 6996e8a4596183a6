"""Components reached through Unix sockets, against real servers listening on them.

PostgreSQL as libpq and asyncpg read it (``?host=/dir``, a percent-encoded host, Cloud SQL's
``/cloudsql/PROJECT:REGION:INSTANCE``), Redis as redis-py reads it (``unix://``,
``redis+unix://``) and HTTP as requests-unixsocket users write it (``http+unix://``). The
ladder climbs a ``socket`` rung instead of ``dns`` and ``tcp``, with codes of its own.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.servers import Process, wait_until
from tests.servers.app import REPOSITORY
from tests.servers.common import CliResult, StackWriter, run_cli_process
from tests.servers.postgres import PASSWORD, ROLE


@pytest.fixture
def diagnose(write_stack: StackWriter, run_cli: Any) -> Any:
    def run(**components: dict[str, Any]) -> CliResult:
        result: CliResult = run_cli("diagnose", str(write_stack(components)), "--json")
        return result

    return run


@pytest.fixture(scope="module")
def http_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests' HTTP app, served by uvicorn on a Unix socket."""
    directory = tmp_path_factory.mktemp("http-socket")
    path = directory / "app.sock"
    process = Process(
        [sys.executable, "-m", "tests.servers.app", str(path)],
        log=directory / "uvicorn.log",
        env={"PYTHONPATH": str(REPOSITORY)},
    )
    try:
        wait_until(path.is_socket, what="uvicorn on its Unix socket")
        yield path
    finally:
        process.stop()


def layers(result: CliResult, name: str) -> list[str]:
    return [phase["layer"] for phase in result.component(name)["phases"]]


def test_postgresql_through_its_socket_directory(diagnose: Any, postgres_server: Any) -> None:
    directory = postgres_server.sockets
    result = diagnose(
        query={
            "url": f"postgresql://{ROLE}:{PASSWORD}@/app?host={directory}"
            f"&port={postgres_server.port}"
        },
        encoded={
            "url": f"postgresql://{ROLE}:{PASSWORD}@{quote(str(directory), safe='')}:"
            f"{postgres_server.port}/app"
        },
    )
    assert result.status == 0, result.out
    assert layers(result, "query") == ["socket", "postgres"]
    assert result.component("encoded")["status"] == "healthy"


def test_a_missing_cloud_sql_socket_names_the_connection_setting(diagnose: Any) -> None:
    result = diagnose(db={"url": "postgresql://app@/app?host=/cloudsql/shop-prod:europe-west1:db"})

    [cause] = result.json()["root_causes"]
    assert (cause["code"], cause["owner"], cause["layer"]) == (
        "socket.missing",
        "configuration",
        "socket",
    )
    evidence = " ".join(cause["evidence"])
    assert "/cloudsql/shop-prod:europe-west1:db/.s.PGSQL.5432" in evidence
    assert "--add-cloudsql-instances" in evidence
    assert "Cloud SQL Auth Proxy" in evidence


def test_a_socket_nobody_listens_on_is_refused(diagnose: Any, tmp_path: Path) -> None:
    path = tmp_path / ".s.PGSQL.5432"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # the file stays, nothing listens: a server that died
    stale.close()
    result = diagnose(db={"url": f"postgresql://app@/app?host={tmp_path}"})
    assert result.component("db")["code"] == "socket.refused"
    assert result.json()["root_causes"][0]["owner"] == "infrastructure"


def test_redis_through_its_socket(diagnose: Any, redis_factory: Any, tmp_path: Path) -> None:
    path = tmp_path / "redis.sock"
    redis_factory.start(unixsocket=str(path), unixsocketperm=700)
    result = diagnose(
        unix={"url": f"unix://{path}?db=1"},
        plus={"url": f"redis+unix://{path}"},
    )
    assert result.status == 0, result.out
    assert layers(result, "unix") == ["socket", "redis"]
    assert result.component("plus")["phases"][-1]["detail"] == "PING ok, write ok"


def test_http_through_its_socket(diagnose: Any, http_socket: Path) -> None:
    url = f"http+unix://{quote(str(http_socket), safe='')}/ok"
    result = diagnose(app={"url": url, "expect": {"body": "ok"}})
    assert result.status == 0, result.out
    assert layers(result, "app") == ["socket", "http"]


def test_a_socket_this_user_may_not_open(http_socket: Path) -> None:
    """The socket sits in a directory of mode 0700 (root's); faultfinder runs as nobody.
    (pytest's own temporary directories are root's alone, so this one is made apart.)"""
    with tempfile.TemporaryDirectory(prefix="faultfinder-socket-") as place:
        root = Path(place)
        root.chmod(0o755)
        private = root / "private"
        private.mkdir(mode=0o700)
        linked = private / "app.sock"
        os.symlink(http_socket, linked)
        stack = root / "stack.yaml"
        url = f"http+unix://{quote(str(linked), safe='')}/ok"
        stack.write_text(f"components:\n  app: {{url: '{url}'}}\n")
        stack.chmod(0o644)

        result = run_cli_process(
            "diagnose",
            str(stack),
            "--json",
            prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
        )

    assert result.component("app")["code"] == "socket.permission_denied", result.err
