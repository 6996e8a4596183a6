"""Does a health endpoint under load spare its dependencies? 1,000 requests/s, counted on them.

Run as root from the repository root: ``.venv/bin/python benchmarks/bench_health.py``.
It starts a real PostgreSQL 15 (with pg_stat_statements) and a real redis-server on loopback,
serves a Starlette app with ``faultfinder.health`` mounted at /health from uvicorn in a
process of its own, and sends it an open-loop load of 1,000 requests/s for 10 s from an
asyncio client, spread over three groups (/health/ready, /health/db,
/health/infrastructure) and two access levels (half the requests with the token, which gets
details; half anonymous). Then it reads, on the servers themselves, how many checks reached
them (Redis ``INFO commandstats`` PINGs, Postgres ``pg_stat_statements`` calls of
``SELECT 1``) and prints the figures. It exits 1 if a dependency saw more than one check per
TTL (per refresh interval with ``--refresh``) or if the p99 latency reached the endpoint's
deadline. See benchmarks/README.md for the figures measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

# The server factories the tests use: run from a checkout, not an install.
from tests.servers import free_port, wait_for_port  # noqa: E402
from tests.servers.postgres import PostgresFactory, PostgresServer, postgres_template  # noqa: E402
from tests.servers.redis import RedisFactory, RedisServer  # noqa: E402

PATHS = ("/health/ready", "/health/db", "/health/infrastructure")
TOKEN = "bench-health-token"


@dataclass
class Load:
    """What the load client saw: latencies from each request's scheduled start, statuses."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this load client
    server_cpu: float = 0.0  # CPU seconds of the app's process

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


# The app: what the benchmark serves in its own process.


def build_app(
    postgres_url: str, redis_url: str, ttl: float, timeout: float, refresh: float | None
) -> object:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from faultfinder.health import Group, Health, url_check

    health = Health(
        [
            url_check("postgres", postgres_url, timeout=timeout, tags=["db"]),
            url_check("redis", redis_url, timeout=timeout, write=False),
        ],
        ttl=ttl,
        refresh=refresh,
        tokens=[TOKEN],  # half the requests send it and get the whole document
        groups={"db": Group.of(["db"])},
    )
    return Starlette(routes=[Mount("/health", app=health)])


def serve(arguments: argparse.Namespace) -> None:
    import uvicorn

    app = build_app(
        arguments.postgres, arguments.redis, arguments.ttl, arguments.timeout, arguments.refresh
    )
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, log_level="warning", access_log=False)


# The load client: open loop, keep-alive connections, raw HTTP/1.1 on asyncio streams.


async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> int:
    """Request ``number``: its path and access level in turn (3 paths × 2 levels)."""
    path = PATHS[number % len(PATHS)]
    auth = f"Authorization: Bearer {TOKEN}\r\n" if (number // len(PATHS)) % 2 else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: app\r\n{auth}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def worker(port: int, queue: asyncio.Queue[tuple[int, float] | None], load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (item := await queue.get()) is not None:
            number, scheduled = item
            try:
                status = await request(reader, writer, number)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                load.errors[type(error).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            load.statuses[status] += 1
            load.latencies.append(time.perf_counter() - scheduled)
    finally:
        writer.close()


async def run_load(port: int, rate: int, seconds: float, connections: int) -> Load:
    """Send ``rate`` requests/s for ``seconds``, on schedule whatever the answers take.

    A latency counts from the moment the request was due, not from when a connection was free,
    so a slow server cannot hide its queue (no coordinated omission).
    """
    load = Load()
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    workers = [asyncio.create_task(worker(port, queue, load)) for _ in range(connections)]
    total = int(rate * seconds)
    started = time.perf_counter()
    while load.sent < total:
        now = time.perf_counter()
        due = min(total, int((now - started) * rate) + 1)
        for index in range(load.sent, due):
            queue.put_nowait((index, started + index / rate))
        load.sent = due
        await asyncio.sleep(0.002)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    load.seconds = time.perf_counter() - started
    return load


# The servers, and the checks counted on them.


@contextlib.contextmanager
def servers(workdir: Path) -> Iterator[tuple[PostgresServer, RedisServer]]:
    template = postgres_template.__wrapped__()  # the fixture's generator: initdb once
    postgres = PostgresFactory(next(template))
    redis = RedisFactory(workdir)
    try:
        yield (postgres.start(shared_preload_libraries="pg_stat_statements"), redis.start())
    finally:
        redis.stop_all()
        postgres.stop_all()
        template.close()


async def postgres_checks(server: PostgresServer) -> int:
    """``SELECT 1`` statements run in the app's database, from pg_stat_statements."""
    connection = await server.connect(superuser=True)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        calls = await connection.fetchval(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid"
            " WHERE d.datname = 'app' AND s.query = 'SELECT $1'"
        )
    finally:
        await connection.close()
    return int(calls)


def redis_checks(server: RedisServer) -> int:
    with server.client() as client:
        stats = client.info("commandstats")
    return int(stats.get("cmdstat_ping", {}).get("calls", 0))


@contextlib.contextmanager
def app_process(
    postgres: PostgresServer, redis: RedisServer, arguments: argparse.Namespace, log: Path
) -> Iterator[tuple[int, int]]:
    port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--port",
        str(port),
        "--postgres",
        postgres.url(),
        "--redis",
        redis.url(),
        "--ttl",
        str(arguments.ttl),
        "--timeout",
        str(arguments.timeout),
    ]
    if arguments.refresh is not None:
        command += ["--refresh", str(arguments.refresh)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench(arguments: argparse.Namespace) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="bench-health-") as directory,
        servers(Path(directory)) as (postgres, redis),
        app_process(postgres, redis, arguments, Path(directory) / "app.log") as (port, pid),
    ):
        await run_load(port, 50, 0.2, 4)  # warm-up: imports, first checks, connections
        before = await postgres_checks(postgres), redis_checks(redis)
        cpu = process_cpu(pid), time.process_time()
        load = await run_load(port, arguments.rate, arguments.seconds, arguments.connections)
        load.server_cpu = process_cpu(pid) - cpu[0]
        load.client_cpu = time.process_time() - cpu[1]
        after = await postgres_checks(postgres), redis_checks(redis)
    counted = {"postgres": after[0] - before[0], "redis": after[1] - before[1]}
    return report(load, counted, arguments)


def report(load: Load, counted: dict[str, int], arguments: argparse.Namespace) -> int:
    period = arguments.refresh if arguments.refresh is not None else arguments.ttl
    # A run may straddle each end; background runs may come up to 10% early (jitter).
    allowed = math.ceil(load.seconds / (period * 0.9)) + 1
    answered = sum(load.statuses.values())
    p99 = load.percentile(0.99)
    deadline = min(arguments.timeout + 0.75, 0.9)  # Health's default deadline
    refresh = f"refresh {arguments.refresh:g}s, " if arguments.refresh is not None else ""
    print(
        f"faultfinder.health under load: GET {', '.join(PATHS)}, anonymous and with a "
        f"token, ttl {arguments.ttl:g}s, {refresh}check timeout {arguments.timeout:g}s, "
        f"deadline {deadline:g}s, {arguments.connections} connections"
    )
    print(
        f"sent       {load.sent} requests in {load.seconds:.2f} s "
        f"({load.sent / load.seconds:.0f}/s), answered {answered}, "
        f"statuses {dict(load.statuses)}, errors {dict(load.errors) or 'none'}"
    )
    print(
        f"latency    p50 {load.percentile(0.5) * 1000:.1f} ms  "
        f"p90 {load.percentile(0.9) * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  "
        f"max {max(load.latencies) * 1000:.1f} ms  "
        f"mean {statistics.fmean(load.latencies) * 1000:.1f} ms"
    )
    print(
        f"cpu        app {load.server_cpu:.2f} s ({load.server_cpu / load.sent * 1e6:.0f} µs a "
        f"request), load client {load.client_cpu:.2f} s, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    for name, count in counted.items():
        print(
            f"{name:<10} {count} checks reached the server (allowed: at most {allowed}, "
            f"one per {period:g}s {'refresh interval' if arguments.refresh else 'TTL'})"
        )
    failures = [name for name, count in counted.items() if count > allowed or count < 1]
    if p99 >= deadline:
        failures.append(f"p99 {p99 * 1000:.0f} ms >= the endpoint's deadline")
    if answered != load.sent or set(load.statuses) != {200}:
        failures.append("not every request was answered 200")
    print("result     " + ("ok" if not failures else "FAILED: " + ", ".join(failures)))
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--ttl", type=float, default=2.0, help="the health endpoint's TTL")
    parser.add_argument("--timeout", type=float, default=1.0, help="each check's timeout")
    parser.add_argument("--refresh", type=float, help="background refresh interval (seconds)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--postgres", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments)
        return 0
    return asyncio.run(bench(arguments))


if __name__ == "__main__":
    sys.exit(main())
