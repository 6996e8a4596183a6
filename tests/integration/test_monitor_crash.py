"""``kill -9`` of a real ``faultfinder watch``: the history loses at most the last interval,
and a restart continues it — same file, same states, no outage announced twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.servers import wait_until
from tests.servers.common import run_cli_process
from tests.servers.monitor import SwitchableServer

INTERVAL_MS = 200
FLUSH_MS = INTERVAL_MS / 2  # the monitor writes every half of the shortest interval
SLACK_MS = 150  # a probe's own time, the write itself, a busy CI machine


def query(store: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as connection:
        return list(connection.execute(sql))


def newest_ms(store: Path) -> dict[str, int]:
    try:
        rows = query(
            store, "SELECT component, MAX(at_ms) FROM faultfinder_observations GROUP BY component"
        )
    except sqlite3.OperationalError:  # the file exists, its first migration is not in yet
        return {}
    return {str(name): int(at) for name, at in rows}  # type: ignore[call-overload]


def changes(store: Path) -> list[tuple[object, ...]]:
    return query(store, "SELECT component, old, new FROM faultfinder_changes ORDER BY id")


def watch(path: Path, store: Path, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-m",
        "faultfinder",
        "watch",
        str(path),
        "--store",
        str(store),
        "--agent",
        "crash",
        "--plain",
    ]
    with log.open("ab") as output:
        return subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def test_kill_9_loses_at_most_the_last_interval_and_a_restart_continues(
    switchable_server: Callable[[], SwitchableServer],
    write_stack: Callable[..., Path],
    tmp_path: Path,
) -> None:
    target = switchable_server()
    components = {name: {"url": f"tcp://127.0.0.1:{target.port}"} for name in ("api", "db")}
    path = write_stack(
        components,
        defaults={
            "timeout": "1s",
            "interval": f"{INTERVAL_MS}ms",
            "failure_threshold": 2,
            "success_threshold": 2,
        },
    )
    store, log = tmp_path / "history.db", tmp_path / "watch.log"
    first = watch(path, store, log)
    try:
        wait_until(lambda: store.exists() and len(newest_ms(store)) == 2, what="first results")
        # each starts pending; its first settled state is recorded as its start (issue 19)
        wait_until(lambda: len(changes(store)) == 2, what="both components settled")
        target.stop()
        wait_until(lambda: len(changes(store)) == 4, what="both components down")
        before = query(store, "SELECT COUNT(*) FROM faultfinder_observations")[0][0]
        wait_until(
            lambda: (
                query(store, "SELECT COUNT(*) FROM faultfinder_observations")[0][0] > before + 4
            ),
            what="more results",
        )
        killed_at_ms = time.time() * 1000
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert query(store, "PRAGMA integrity_check") == [("ok",)]
    for component, newest in newest_ms(store).items():
        lost = killed_at_ms - newest
        assert lost <= INTERVAL_MS + FLUSH_MS + SLACK_MS, f"{component} lost {lost:.0f} ms"
    kept = query(store, "SELECT COUNT(*) FROM faultfinder_observations")[0][0]

    second = watch(path, store, log)
    try:
        wait_until(
            lambda: min(newest_ms(store).values()) > killed_at_ms + INTERVAL_MS,
            what="results after the restart",
        )
        assert sorted(changes(store)) == [
            ("api", "healthy", "down"),
            ("api", "pending", "healthy"),
            ("db", "healthy", "down"),
            ("db", "pending", "healthy"),
        ]
        target.start()
        wait_until(lambda: len(changes(store)) == 6, what="both components back")
        second.send_signal(signal.SIGTERM)  # a clean stop: exit 0, everything written
        assert second.wait(timeout=10) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()

    assert sorted(changes(store)[4:]) == [("api", "down", "healthy"), ("db", "down", "healthy")]
    assert query(store, "SELECT COUNT(*) FROM faultfinder_observations")[0][0] > kept
    output = log.read_text()
    assert output.count("-> down") == 2  # the restart did not announce the outage again
    assert output.count("down -> healthy") == 2

    history = run_cli_process("history", str(path), "--store", str(store), "--json")
    document = json.loads(history.out)
    incidents = {i["component"]: i for i in document["incidents"]}
    assert sorted(incidents) == ["api", "db"]
    assert all(i["ended_at"] is not None and i["code"] == "tcp.refused" for i in incidents.values())
