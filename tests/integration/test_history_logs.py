"""``faultfinder history --logs``: the logs' spikes next to `watch`'s state changes.

One history comes from a real ``Monitor`` watching a real redis-server the test pauses
(SIGSTOP) and resumes, while a client app logs redis-py's real errors; the other is written
through the store API at fixed times, with log lines in the formats of redis-py's exceptions
and PostgreSQL's own log, so every row of the timeline can be asserted.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from faultfinder.config import load_stack
from faultfinder.model import Status
from faultfinder.monitor import Monitor, StateChange, open_store
from tests.servers.common import CliResult, StackWriter
from tests.servers.monitor import until

Run = Callable[..., CliResult]
HEALTHY, DOWN = Status.HEALTHY, Status.DOWN
DNS_ERROR = (
    "cache call failed: redis.exceptions.ConnectionError: Error -3 connecting to "
    "redis.internal:6379. Temporary failure in name resolution."
)
REFUSED = (
    "cache call failed: redis.exceptions.ConnectionError: Error 111 connecting to "
    "127.0.0.1:6379. Connection refused."
)


def _app_logger(path: Path) -> tuple[logging.Logger, logging.Handler]:
    """An app's logger writing UTC times, as a container's would."""
    logger = logging.getLogger(f"backend.{secrets.token_hex(3)}")
    logger.propagate = False
    handler = logging.FileHandler(path)
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return logger, handler


def _ping_and_log(port: int, logger: logging.Logger, times: int) -> None:
    """The app's cache calls against a server that does not answer, each failure logged."""
    client = redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=0.05,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    for _ in range(times):
        try:
            client.ping()
        except redis.RedisError:
            logger.exception("cache call failed")
        else:
            raise AssertionError("the paused server answered")
    client.close()


async def _watch_an_outage(
    stack_path: Path,
    store_path: Path,
    app_log: Path,
    port: int,
    pause: Callable[[], None],
    resume: Callable[[], None],
) -> None:
    stack = load_stack(stack_path)
    store = await open_store(f"sqlite://{store_path}")
    logger, handler = _app_logger(app_log)
    monitor = Monitor(stack, store, agent="ci")
    await monitor.start()
    try:
        await until(lambda: len(monitor.recent("cache")) >= 2, what="two healthy probes")
        pause()
        # the app's errors while the monitor sees the outage; 12 lines: at least 6 in one minute
        await asyncio.to_thread(_ping_and_log, port, logger, 12)
        await until(lambda: any(c.new is DOWN for c in monitor.changes()), what="cache down")
        resume()
        await until(lambda: monitor.changes()[-1].new is HEALTHY, what="cache back up")
    finally:
        await monitor.stop()
        await store.close()
        logger.removeHandler(handler)
        handler.close()


def test_a_watched_outage_lines_up_with_the_apps_own_errors(
    redis_factory: Any,
    switchable_server: Any,
    write_stack: StackWriter,
    tmp_path: Path,
    run_cli: Run,
) -> None:
    server = redis_factory.start()
    backend = switchable_server()
    stack_path = write_stack(
        {
            "backend": {"url": backend.url("/"), "depends_on": ["cache"]},
            "cache": {"url": server.url()},
        },
        defaults={
            "timeout": "300ms",
            "interval": "100ms",
            "failure_threshold": 2,
            "success_threshold": 1,
        },
        logs={"components": {"app.log": "backend"}},  # the app's log is the backend's
    )
    store_path, app_log = tmp_path / "history.db", tmp_path / "app.log"
    asyncio.run(
        _watch_an_outage(stack_path, store_path, app_log, server.port, server.pause, server.resume)
    )
    assert "Timeout reading from socket" in app_log.read_text()

    result = run_cli(
        "history",
        str(stack_path),
        "--store",
        str(store_path),
        "--since",
        "10m",
        "--logs",
        str(app_log),
        "--json",
    )
    assert result.status == 0, result.err
    document = result.json()
    # each component's first settled state is its start (issue 19), not a change from healthy
    starts = [(c["component"], c["new"]) for c in document["changes"] if c["old"] == "pending"]
    assert sorted(starts) == [("backend", "healthy"), ("cache", "healthy")]
    assert [
        (c["component"], c["old"], c["new"], c["code"])
        for c in document["changes"]
        if c["old"] != "pending"
    ] == [
        ("cache", "healthy", "down", "redis.timeout"),
        ("cache", "down", "healthy", None),
    ]
    timeline = document["timeline"]
    assert sum(bucket["logs"].get("redis.timeout", 0) for bucket in timeline) == 12
    assert all(
        set(bucket["components"].get("redis.timeout", {})) <= {"backend"} for bucket in timeline
    )
    down = next(
        bucket
        for bucket in timeline
        if any(change["new"] == "down" for change in bucket["changes"])
    )
    # the components' starts (pending → healthy) may share the minute: look at the fall only
    assert next(c["component"] for c in down["changes"] if c["new"] == "down") == "cache"
    assert any(bucket["spike"] and bucket["spikes"] == ["redis.timeout"] for bucket in timeline)
    (correlation,) = document["correlations"]
    assert correlation["code"] == "redis.timeout"
    assert correlation["match"] == ["code"]  # the lines are the backend's, the change the cache's
    assert (correlation["change"]["component"], correlation["change"]["new"]) == ("cache", "down")
    assert abs(correlation["lag_minutes"]) <= 1
    assert correlation["lines"] >= 6
    clock = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d"
    assert re.fullmatch(
        rf"log spike of redis\.timeout at {clock} \(\d+ lines\) "
        rf"(lines up with|precedes|follows) cache → down at {clock} \(redis\.timeout\)"
        r"( by 1 min)?",
        correlation["text"],
    ), correlation["text"]

    text = run_cli(
        "history",
        str(stack_path),
        "--store",
        str(store_path),
        "--since",
        "10m",
        "--logs",
        str(app_log),
    )
    assert text.status == 0, text.err
    # Across midnight UTC the times gain a date and a line may wrap: compare words, not lines.
    words = " ".join(text.out.split())
    assert " ".join(correlation["text"].split()) in words
    assert "cache healthy → down (redis.timeout)" in words


def _at(minute: int, second: int) -> datetime.datetime:
    return datetime.datetime(2024, 5, 1, 12, minute, second, tzinfo=datetime.UTC)


def _change(
    component: str, at: datetime.datetime, old: Status, new: Status, code: str | None
) -> StateChange:
    return StateChange(
        component=component,
        at=at,
        agent="eu-1",
        old=old,
        new=new,
        code=code,
        owner="infrastructure" if code else "none",
        summary=f"{component}: {code or 'healthy'}",
    )


def _write_logs(tmp_path: Path) -> tuple[Path, Path]:
    """The backend's log (a noise line every 20 s, redis-py's errors) and PostgreSQL's own."""
    app: list[str] = []
    for minute in range(10):
        app += [
            f"{_at(minute, second):%Y-%m-%dT%H:%M:%S}.000Z INFO backend: GET /orders 200"
            for second in (0, 20, 40)
        ]
    errors = {0: 1, 1: 1, 2: 2, 3: 42, 5: 1}  # a trickle, and the burst at 12:03
    for minute, count in errors.items():
        app += [
            f"2024-05-01T12:{minute:02d}:{10 + second % 40:02d}.000Z ERROR backend: {DNS_ERROR}"
            for second in range(count)
        ]
    app += [f"2024-05-01T12:08:{second:02d}.000Z ERROR backend: {REFUSED}" for second in range(6)]
    app_log = tmp_path / "app.log"
    app_log.write_text("\n".join(sorted(app)) + "\n")
    postgres_log = tmp_path / "postgresql.log"
    postgres_log.write_text(
        "".join(
            f"2024-05-01 12:05:{second:02d}.123 UTC [{81 + second}] FATAL:  sorry, too many "
            "clients already\n"
            for second in range(8)
        )
    )
    return app_log, postgres_log


def test_spikes_line_up_with_the_changes_of_their_code_or_component(
    write_stack: StackWriter, tmp_path: Path, run_cli: Run
) -> None:
    stack_path = write_stack(
        {
            "backend": {"url": "http://127.0.0.1:9/health", "depends_on": ["redis", "postgres"]},
            "redis": {"url": "redis://127.0.0.1:9/0"},
            "postgres": {"url": "postgresql://app@127.0.0.1:9/app"},
        },
        logs={"components": {"app.log": "backend", "postgresql.log": "postgres"}},
    )
    store_path = tmp_path / "history.db"

    async def write_history() -> None:
        store = await open_store(f"sqlite://{store_path}")
        try:
            await store.append(
                "test",
                [],
                [
                    _change("redis", _at(3, 20), HEALTHY, DOWN, "dns.temporary_failure"),
                    _change("backend", _at(3, 25), HEALTHY, DOWN, "dependency.failed"),
                    _change("postgres", _at(6, 5), HEALTHY, DOWN, "postgres.too_many_connections"),
                    _change("redis", _at(7, 40), DOWN, HEALTHY, None),
                    _change("backend", _at(7, 45), DOWN, HEALTHY, None),
                ],
            )
        finally:
            await store.close()

    asyncio.run(write_history())
    app_log, postgres_log = _write_logs(tmp_path)
    window = ("--since", "2024-05-01T12:00:00Z", "--until", "2024-05-01T12:10:00Z")
    call = (
        "history",
        str(stack_path),
        "--store",
        str(store_path),
        *window,
        "--logs",
        str(app_log),
        "--logs",
        str(postgres_log),
    )

    result = run_cli(*call, "--json")
    assert result.status == 0, result.err
    document = result.json()
    assert document["schema"] == "faultfinder.history/v1"
    assert len(document["incidents"]) == 3  # the existing keys are still there
    logs = document["logs"]
    assert [source["name"] for source in logs["sources"]] == [str(app_log), str(postgres_log)]
    assert logs["lines"] == 30 + 47 + 6 + 8
    assert logs["window_minutes"] == 10
    assert logs["codes"]["dns.temporary_failure"] == {
        "count": 47,
        "median_per_minute": 0.5,
        "threshold": 5.0,
        "spike_minutes": ["2024-05-01T12:03Z"],
    }
    rows = {bucket["minute"][-6:-1]: bucket for bucket in document["timeline"]}
    assert list(rows) == ["12:00", "12:01", "12:02", "12:03", "12:05", "12:06", "12:07", "12:08"]
    assert rows["12:02"] == {
        "minute": "2024-05-01T12:02Z",
        "changes": [],
        "logs": {"dns.temporary_failure": 2},
        "components": {"dns.temporary_failure": {"backend": 2}},
        "spike": False,
        "spikes": [],
    }
    assert rows["12:03"]["logs"] == {"dns.temporary_failure": 42}
    assert rows["12:03"]["spike"] is True
    assert [(c["component"], c["old"], c["new"], c["code"]) for c in rows["12:03"]["changes"]] == [
        ("redis", "healthy", "down", "dns.temporary_failure"),
        ("backend", "healthy", "down", "dependency.failed"),
    ]
    assert rows["12:05"]["components"] == {
        "dns.temporary_failure": {"backend": 1},
        "postgres.too_many_connections": {"postgres": 8},
    }
    assert rows["12:05"]["spikes"] == ["postgres.too_many_connections"]
    assert rows["12:06"]["logs"] == {}
    assert rows["12:08"]["spikes"] == ["tcp.refused"]
    assert [(c["text"], c["relation"], c["match"]) for c in document["correlations"]] == [
        (
            "log spike of dns.temporary_failure at 12:03 (42 lines) lines up with redis → down at "
            "12:03 (dns.temporary_failure)",
            "same_minute",
            ["code"],
        ),
        (
            "log spike of dns.temporary_failure at 12:03 (42 lines) lines up with backend → down at "
            "12:03 (dependency.failed)",
            "same_minute",
            ["component"],
        ),
        (
            "log spike of postgres.too_many_connections at 12:05 (8 lines) precedes postgres → down "
            "at 12:06 (postgres.too_many_connections) by 1 min",
            "precedes",
            ["code", "component"],
        ),
        (
            "log spike of tcp.refused at 12:08 (6 lines) follows backend → healthy at 12:07 by 1 min",
            "follows",
            ["component"],
        ),
    ]

    text = run_cli(*call)
    assert text.status == 0, text.err
    lines = text.out.splitlines()
    assert "timeline per minute (UTC), logs from" in text.out
    row = next(line for line in lines if line.startswith("12:03 ▲"))
    assert "redis healthy → down (dns.temporary_failure)" in row
    assert "dns.temporary_failure backend 42 ▲" in row
    assert next(line for line in lines if line.startswith("12:02")).split() == [
        "12:02",
        "dns.temporary_failure",
        "backend",
        "2",
    ]
    assert any(line.startswith("⋮") for line in lines)  # 12:04 had nothing
    assert "  log spike of postgres.too_many_connections at 12:05 (8 lines) precedes postgres" in (
        text.out
    )


def test_a_window_the_wrong_way_round_is_a_usage_error(
    write_stack: StackWriter, tmp_path: Path, run_cli: Run
) -> None:
    stack_path = write_stack({"web": {"url": "http://127.0.0.1:9/"}})
    result = run_cli(
        "history",
        str(stack_path),
        "--store",
        str(tmp_path / "none.db"),
        "--since",
        "2024-05-01T12:10:00Z",
        "--until",
        "2024-05-01T12:00:00Z",
    )
    assert result.status == 2
    assert result.err.startswith("faultfinder: error: --since (2024-05-01T12:10:00.000Z) is not")
    bad = run_cli("history", str(stack_path), "--since", "yesterday-ish")
    assert bad.status == 2
    assert "--since: not a time: 'yesterday-ish'" in bad.err
