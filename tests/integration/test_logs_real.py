"""Every signature we can produce here, produced for real: the clients' own exception texts
(redis-py, asyncpg, SQLAlchemy, Python's ssl and OS errors) written by Python's logging as an
app would, and the servers' own log files (PostgreSQL, nginx), then read by ``faultfinder logs``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
import sqlalchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.pool import QueuePool

from tests.servers import free_port
from tests.servers.common import CliResult, StackWriter
from tests.servers.postgres import DATABASE, PASSWORD, ROLE

Run = Callable[..., CliResult]
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@pytest.fixture
def app_log(tmp_path: Path) -> Iterator[tuple[Path, Callable[[Callable[[], Any]], None]]]:
    """A log file and ``call(action)``: runs the action and, when it raises, logs the
    exception with its traceback as an app's ``logger.exception`` would."""
    path = tmp_path / "app.log"
    logger = logging.getLogger(f"backend.{secrets.token_hex(3)}")
    logger.propagate = False
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)

    def call(action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception:
            logger.exception("request failed")
        else:
            raise AssertionError(f"{action} did not fail")

    try:
        yield path, call
    finally:
        logger.removeHandler(handler)
        handler.close()


def codes(run_cli: Run, *sources: Path | str) -> Counter[str]:
    result = run_cli("logs", *map(str, sources), "--json")
    assert result.status in (0, 1), result.err
    return Counter({entry["code"]: entry["count"] for entry in result.json()["codes"]})


def _redis(port: int, **options: Any) -> redis.Redis:
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
        **options,
    )


def test_redis_py_errors_in_an_apps_log(redis_factory: Any, app_log: Any, run_cli: Run) -> None:
    path, call = app_log
    call(lambda: _redis(free_port()).ping())  # Error 111 … Connection refused.
    paused = redis_factory.start()
    paused.pause()
    call(lambda: _redis(paused.port).ping())  # Timeout reading from socket
    paused.resume()
    locked = redis_factory.start(requirepass="pw-1234")
    call(lambda: _redis(locked.port).ping())  # AuthenticationError (NOAUTH, via HELLO)
    call(lambda: _redis(locked.port, password="nope").ping())  # WRONGPASS
    full = redis_factory.start(maxclients=2)  # 1 would race the fixture's own readiness check
    with (
        socket.create_connection(("127.0.0.1", full.port)) as first,
        socket.create_connection(("127.0.0.1", full.port)) as second,
    ):
        for held in (first, second):
            held.sendall(b"PING\r\n")
            assert held.recv(16) == b"+PONG\r\n"  # both client slots are taken
        call(lambda: _redis(full.port).ping())  # max number of clients reached
    small = redis_factory.start(maxmemory="1mb", maxmemory_policy="noeviction")
    call(lambda: _redis(small.port).set("key", "x" * 2_000_000))  # OOM command not allowed
    replica = redis_factory.start(replicaof=f"127.0.0.1 {small.port}")
    call(lambda: _redis(replica.port).set("key", "value"))  # READONLY
    text = path.read_text()
    assert "Error 111 connecting to 127.0.0.1" in text
    assert codes(run_cli, path) == Counter(
        {
            "tcp.refused": 1,
            "redis.timeout": 1,
            "redis.auth_failed": 2,
            "redis.max_clients": 1,
            "redis.oom": 1,
            "redis.readonly": 1,
        }
    )  # each traceback once, under its exception's code: no app.traceback


# Runs inside a namespace: redis-py against each target, each failure logged with its traceback.
_REDIS_IN_NAMESPACE = """
import logging, sys, redis
from redis.backoff import NoBackoff
from redis.retry import Retry
logging.basicConfig(filename=sys.argv[1], format=sys.argv[2])
log = logging.getLogger("backend")
for target in sys.argv[3:]:
    host, port = target.rsplit(":", 1)
    client = redis.Redis(host=host, port=int(port), socket_connect_timeout=0.5,
                         socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    except Exception:
        log.exception("cache call to %s failed", target)
"""


def test_redis_py_behind_a_dead_resolver_a_firewall_and_no_route(
    netns: Callable[..., Any], dnsmasq: Callable[..., Any], tmp_path: Path, run_cli: Run
) -> None:
    dead = netns()  # resolv.conf names 127.0.0.1:53, where nothing answers
    dropped, rejected = free_port(), free_port()
    dead.drop(dropped)
    dead.reject(rejected)
    log = tmp_path / "backend.log"
    ran = dead.run(
        sys.executable,
        "-c",
        _REDIS_IN_NAMESPACE,
        str(log),
        FORMAT,
        "redis.internal:6379",
        f"127.0.0.1:{dropped}",
        f"127.0.0.1:{rejected}",
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    zone = netns()
    dnsmasq(zone)  # authoritative for .internal: an unknown name is NXDOMAIN
    ran = zone.run(
        sys.executable,
        "-c",
        _REDIS_IN_NAMESPACE,
        str(log),
        FORMAT,
        "nope.internal:6379",
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    text = log.read_text()
    assert (
        "Error -3 connecting to redis.internal:6379. Temporary failure in name resolution." in text
    )
    assert "Name or service not known" in text
    result = run_cli("logs", str(log), "--json")
    found = {entry["code"]: entry for entry in result.json()["codes"]}
    assert {code: entry["count"] for code, entry in found.items()} == {
        "dns.temporary_failure": 1,
        "tcp.timeout": 1,
        "tcp.unreachable": 1,
        "dns.nxdomain": 1,
    }
    evidence = found["dns.temporary_failure"]["examples"][0]
    assert evidence["text"].startswith("redis.exceptions.ConnectionError: Error -3 connecting")
    assert found["dns.temporary_failure"]["owner"] == "infrastructure"
    assert evidence["time"] is not None  # the exception line takes the time of its log line


async def _attempt(coroutine: Any) -> str:
    try:
        connection = await coroutine
    except Exception as error:
        return f"{type(error).__module__}.{type(error).__name__}: {error}"
    await connection.close()
    raise AssertionError("the connection succeeded")


async def test_postgres_client_errors_and_the_servers_own_log(
    postgres_factory: Any, tmp_path: Path, run_cli: Run
) -> None:
    server = postgres_factory.start(max_connections=3, superuser_reserved_connections=1)
    superuser = await asyncpg.connect(
        host=str(server.sockets), port=server.port, user="postgres", database=DATABASE
    )
    await superuser.execute("CREATE TABLE secrets (value text)")  # the app role has no grant
    await superuser.close()
    errors = [
        await _attempt(asyncpg.connect(server.url(password="wrong"))),
        await _attempt(asyncpg.connect(server.url(database="nope"))),
    ]
    app = await server.connect()
    try:
        await app.fetch("SELECT * FROM secrets")
    except asyncpg.InsufficientPrivilegeError as error:
        errors.append(f"asyncpg.exceptions.InsufficientPrivilegeError: {error}")
    second = await server.connect()  # both ordinary slots now held
    errors.append(await _attempt(asyncpg.connect(server.url())))  # reserved for superusers
    third = await server.connect(superuser=True)  # … and the reserved one
    errors.append(await _attempt(server.connect(superuser=True)))  # too many clients already
    for connection in (app, second, third):
        await connection.close()
    client_log = tmp_path / "client.log"
    client_log.write_text(
        "".join(f"2024-05-01T12:00:0{n}Z ERROR {line}\n" for n, line in enumerate(errors))
    )
    assert codes(run_cli, client_log) == Counter(
        {
            "postgres.auth_failed": 1,
            "postgres.database_missing": 1,
            "app.permission_denied": 1,
            "postgres.too_many_connections": 2,
        }
    )
    server_log = server.directory / "postgres.log"
    text = server_log.read_text()
    assert f'FATAL:  password authentication failed for user "{ROLE}"' in text
    assert "FATAL:  sorry, too many clients already" in text
    assert "ERROR:  permission denied for table secrets" in text
    found = codes(run_cli, server_log)
    assert found == Counter(
        {
            "postgres.auth_failed": 1,
            "postgres.database_missing": 1,
            "app.permission_denied": 1,
            "postgres.too_many_connections": 2,
        }
    )
    assert PASSWORD not in server_log.read_text()


async def test_postgres_standby_is_starting_up(
    postgres_factory: Any, tmp_path: Path, run_cli: Run
) -> None:
    server = postgres_factory.start(standby=True)
    error = await _attempt(asyncpg.connect(server.url(), timeout=5))
    # Which refusal depends on how far recovery got: "starting up" before it reaches a
    # consistent state, "not accepting connections" (hot standby off) after. Both are start-up.
    assert re.search(r"the database system is (starting up|not accepting connections)", error)
    log = tmp_path / "client.log"
    log.write_text(f"ERROR {error}\n")
    assert codes(run_cli, log) == Counter({"postgres.starting_up": 1})
    assert codes(run_cli, server.directory / "postgres.log")["postgres.starting_up"] >= 1


def test_nginx_error_log_upstream_refused_and_timed_out(
    nginx_proxy: Callable[..., Any], silent_server: Any, run_cli: Run
) -> None:
    refused = nginx_proxy(free_port())
    slow = nginx_proxy(silent_server.port, read_timeout="1s")
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.get(refused.url("/")).status_code == 502
        assert client.get(slow.url("/")).status_code == 504
    assert "(111: Connection refused) while connecting to upstream" in refused.error_log()
    assert "upstream timed out (110: Connection timed out) while reading response header" in (
        slow.error_log()
    )
    assert codes(run_cli, refused.root / "error.log") == Counter({"tcp.refused": 1})
    assert codes(run_cli, slow.root / "error.log") == Counter({"proxy.upstream_timeout": 1})


def test_tracebacks_pools_and_permissions(app_log: Any, tmp_path: Path, run_cli: Run) -> None:
    path, call = app_log
    engine = sqlalchemy.create_engine(
        f"sqlite:///{tmp_path / 'app.db'}",
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.1,
    )
    with engine.connect():
        call(engine.connect)  # QueuePool limit of size 1 overflow 0 reached
    engine.dispose()
    call(lambda: {"cart": 1}["user_id"])  # KeyError: no signature names it
    assert "QueuePool limit of size 1 overflow 0 reached" in path.read_text()
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    secret.chmod(0o600)
    as_nobody = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            "/usr/bin/python3",
            "-c",
            f"open({str(secret)!r})",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PermissionError: [Errno 13] Permission denied" in as_nobody.stderr
    crash = subprocess.run(
        [sys.executable, "-c", "import json; json.loads('{')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert crash.returncode == 1
    stderr = tmp_path / "stderr.log"
    stderr.write_text(as_nobody.stderr + crash.stderr)
    result = run_cli("logs", str(path), str(stderr), "--json")
    found = {entry["code"]: entry for entry in result.json()["codes"]}
    assert {code: entry["count"] for code, entry in found.items()} == {
        "app.pool_exhausted": 1,
        "app.traceback": 2,
        "app.permission_denied": 1,
    }
    traces = [example["text"] for example in found["app.traceback"]["examples"]]
    assert traces[0] == "Traceback (most recent call last): … KeyError: 'user_id'"
    assert traces[1].startswith("Traceback (most recent call last): … json.decoder.JSONDecodeError")


def _handshake(port: int, ca: Path | None, name: str = "api.example.test") -> None:
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name),
    ):
        pass


def test_tls_failures(
    tls_server: Callable[..., Any],
    certificates: Any,
    banner_server: Any,
    app_log: Any,
    run_cli: Run,
) -> None:
    path, call = app_log
    ca = certificates.ca_file
    call(lambda: _handshake(tls_server(certificates.expired).port, ca))
    call(lambda: _handshake(tls_server(certificates.mismatch).port, ca))
    call(lambda: _handshake(tls_server(certificates.self_signed).port, ca))
    call(lambda: _handshake(banner_server.port, ca))  # not TLS at all
    assert codes(run_cli, path) == Counter(
        {
            "tls.expired": 1,
            "tls.hostname_mismatch": 1,
            "tls.untrusted": 1,
            "protocol.mismatch": 1,  # OpenSSL's WRONG_VERSION_NUMBER: plain bytes answered the hello
        }
    )


def test_diagnose_cites_the_logs_next_to_the_probes(
    redis_server: Any, write_stack: StackWriter, app_log: Any, run_cli: Run
) -> None:
    path, call = app_log
    closed = free_port()
    call(lambda: _redis(closed).ping())  # what the backend wrote when redis went away
    stack = write_stack(
        {
            "backend": {"url": f"tcp://127.0.0.1:{redis_server.port}", "depends_on": ["cache"]},
            "cache": {"url": f"redis://127.0.0.1:{closed}/0"},
        },
        logs={"components": {"app.log": "backend"}},
    )
    result = run_cli("diagnose", str(stack), "--json", "--logs", str(path))
    assert result.status == 1
    document = result.json()
    assert [cause["code"] for cause in document["root_causes"]] == ["tcp.refused"]
    assert document["logs"]["codes"] == [
        {
            "code": "tcp.refused",
            "owner": "infrastructure",
            "count": 1,
            "first_seen": document["logs"]["codes"][0]["first_seen"],
            "last_seen": document["logs"]["codes"][0]["last_seen"],
            "components": {"backend": 1},
            "examples": document["logs"]["codes"][0]["examples"],
            "agrees_with": ["cache"],
        }
    ]
    example = document["logs"]["codes"][0]["examples"][0]
    assert "Error 111 connecting to 127.0.0.1" in example["text"]
    text = run_cli("diagnose", str(stack), "--color", "never", "--logs", str(path)).out
    assert "tcp.refused ×1 (infrastructure) from backend 1 — agrees with root cause cache" in text
    missing = run_cli("diagnose", str(stack), "--logs", str(path) + ".nope")
    assert missing.status == 2
    assert asyncio.iscoroutinefunction(_attempt)
