"""The monitor against real targets the tests stop and start: flap thresholds, a fresh
diagnosis at each change, resuming from history, the dashboard and the plain output."""

from __future__ import annotations

import datetime
import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from faultfinder.config import Stack, load_stack
from faultfinder.model import Status
from faultfinder.monitor import Monitor, open_store
from faultfinder.monitor.dashboard import build
from tests.servers import free_port
from tests.servers.common import run_cli_process
from tests.servers.monitor import SwitchableServer, until

HEALTHY, DOWN, PENDING = Status.HEALTHY, Status.DOWN, Status.PENDING
MINUTE = datetime.timedelta(minutes=1)
Starter = Callable[[], SwitchableServer]


def fast_stack(
    write_stack: Callable[..., Path],
    components: dict[str, Any],
    *,
    failures: int = 3,
    successes: int = 2,
    **extra: Any,
) -> Stack:
    defaults = {
        "timeout": "1s",
        "interval": "100ms",
        "failure_threshold": failures,
        "success_threshold": successes,
    }
    return load_stack(write_stack(components, defaults=defaults, **extra))


async def test_down_after_n_failures_in_a_row_and_back_after_m_successes(
    switchable_server: Starter, write_stack: Callable[..., Path]
) -> None:
    target = switchable_server()
    stack = fast_stack(write_stack, {"web": {"url": f"tcp://127.0.0.1:{target.port}"}})
    monitor = Monitor(stack, agent="test")
    await monitor.start()
    try:
        await until(lambda: len(monitor.recent("web")) >= 2, what="two healthy probes")
        assert monitor.states()["web"][0] is HEALTHY
        (start,) = monitor.changes()  # its first settled state: the start (issue 19)
        assert (start.old, start.new) == (PENDING, HEALTHY)
        target.stop()
        await until(lambda: len(monitor.changes()) == 2, what="the change to down")
        down = monitor.changes()[-1]
        failures = [o for o in monitor.recent("web") if not o.result.ok and o.at <= down.at]
        assert len(failures) == 3  # not one earlier: the third failure in a row decides
        assert down.at == failures[-1].at
        assert (down.old, down.new, down.code, down.layer, down.owner) == (
            HEALTHY,
            DOWN,
            "tcp.refused",
            "tcp",
            "infrastructure",
        )
        assert "nothing listens" in down.summary
        assert down.why[0] == (
            "web fails at the tcp layer: tcp.refused — nothing listens at that address and port."
        )
        assert monitor.states()["web"] == (DOWN, down.at)

        target.start()
        await until(lambda: len(monitor.changes()) == 3, what="the change back to healthy")
        up = monitor.changes()[-1]
        successes = [o for o in monitor.recent("web") if o.result.ok and o.at > down.at]
        assert len(successes) == 2
        assert up.at == successes[-1].at
        assert (up.old, up.new, up.code, up.owner, up.why) == (DOWN, HEALTHY, None, "none", ())
        assert monitor.changes(since=down.at) == [up]
        done, failed = monitor.counts()["web"]
        assert failed >= 3
        assert done >= failed + 4
    finally:
        await monitor.stop()


async def test_a_blip_shorter_than_the_threshold_changes_nothing(
    switchable_server: Starter, write_stack: Callable[..., Path]
) -> None:
    target = switchable_server()
    stack = fast_stack(write_stack, {"web": {"url": f"tcp://127.0.0.1:{target.port}"}}, failures=4)
    monitor = Monitor(stack, agent="test")
    await monitor.start()
    try:
        await until(lambda: monitor.states()["web"][0] is HEALTHY, what="a settled start")
        target.stop()
        await until(lambda: monitor.pending("web") >= 1, what="a first failure")
        target.start()
        seen = len(monitor.recent("web"))
        await until(lambda: len(monitor.recent("web")) >= seen + 3, what="three more probes")
        assert any(not o.result.ok for o in monitor.recent("web"))
        assert [(c.old, c.new) for c in monitor.changes()] == [(PENDING, HEALTHY)]
        assert monitor.states()["web"][0] is HEALTHY
        assert monitor.pending("web") == 0
    finally:
        await monitor.stop()


async def test_the_change_carries_a_fresh_diagnosis_naming_the_root_cause_behind_a_proxy(
    switchable_server: Starter,
    nginx_proxy: Callable[..., Any],
    write_stack: Callable[..., Path],
) -> None:
    app = switchable_server()
    nginx = nginx_proxy(app.port)
    components = {
        "lb": {"url": nginx.url("/"), "via": ["app"], "critical": True},
        "app": {"url": app.url("/")},
    }
    stack = fast_stack(write_stack, components, failures=2)
    monitor = Monitor(stack, agent="test")
    await monitor.start()
    try:
        await until(lambda: monitor.diagnosis() is not None, what="a first round")
        assert monitor.diagnosis().status is HEALTHY  # type: ignore[union-attr]
        app.stop()
        await until(
            lambda: {c.component for c in monitor.changes()} == {"lb", "app"}, what="both down"
        )
        lb = next(c for c in monitor.changes() if c.component == "lb")
        assert (lb.code, lb.symptom_of, lb.owner) == (
            "dependency.failed",
            ("app",),
            "infrastructure",
        )
        assert lb.layer == "http"
        assert [(c.component, c.code) for c in lb.root_causes] == [("app", "tcp.refused")]
        assert lb.summary.startswith("app: nothing listens at that address and port")
        assert lb.why[0].startswith("lb fails at http (")
        assert lb.why[0].endswith("because app, which it needs, fails.")
        assert lb.why[1].startswith("app fails at the tcp layer: tcp.refused")
        diagnosis = monitor.diagnosis()
        assert diagnosis is not None
        assert diagnosis.status is DOWN
        assert [cause.component for cause in diagnosis.root_causes] == ["app"]
    finally:
        await monitor.stop()


async def test_a_restart_resumes_each_state_from_history_instead_of_announcing_it_again(
    switchable_server: Starter, write_stack: Callable[..., Path], tmp_path: Path
) -> None:
    target = switchable_server()
    stack = fast_stack(write_stack, {"web": {"url": f"tcp://127.0.0.1:{target.port}"}}, failures=2)
    store = await open_store(f"sqlite://{tmp_path / 'history.db'}")
    try:
        first = Monitor(stack, store, agent="eu-1")
        await first.start()
        target.stop()
        await until(lambda: len(first.changes()) == 1, what="down")
        (down,) = first.changes()
        await first.stop()

        second = Monitor(stack, store, agent="eu-1")
        await second.start()
        try:
            assert second.states() == {"web": (DOWN, down.at)}  # before any probe
            assert second.changes() == [down]
            await until(lambda: len(second.recent("web")) >= 4, what="four probes")
            assert second.changes() == [down]  # still down: nothing new to say
            target.start()
            await until(lambda: len(second.changes()) == 2, what="back up")
        finally:
            await second.stop()
        window = {"since": down.at - MINUTE, "until": down.at + MINUTE}
        stored = await store.changes(stack.name, **window)
        # down from its first probe: recorded as its start, not as a change from healthy
        assert [(c.old, c.new, c.agent) for c in stored] == [
            (PENDING, DOWN, "eu-1"),
            (DOWN, HEALTHY, "eu-1"),
        ]
        (row,) = await store.availability(stack.name, **window)
        assert row.agent == "eu-1"
        assert row.failures >= 4
        assert row.checks > row.failures

        other = Monitor(stack, store, agent="us-1")  # another vantage has a history of its own
        await other.start()
        try:
            assert other.states() == {"web": (PENDING, other.started_at)}
        finally:
            await other.stop()
    finally:
        await store.close()


async def test_the_dashboard_has_a_row_per_component_and_the_verdict_below(
    switchable_server: Starter, write_stack: Callable[..., Path]
) -> None:
    target = switchable_server()
    components = {
        "web": {"url": target.url("/"), "depends_on": ["db"]},
        "db": {"url": f"tcp://127.0.0.1:{free_port()}"},
    }
    stack = fast_stack(write_stack, components, failures=1)
    monitor = Monitor(stack, agent="eu-1")
    await monitor.start()
    try:
        await until(
            lambda: (
                {c.component for c in monitor.changes()} == {"web", "db"}
                and len(monitor.recent("web")) >= 3
            )
        )
        console = Console(width=140, record=True, file=io.StringIO())
        console.print(build(monitor, stack, agent=monitor.agent))
        text = console.export_text()
    finally:
        await monitor.stop()
    lines = text.splitlines()
    assert "faultfinder watch — test (agent eu-1)" in lines[0]
    db_row = next(line for line in lines if line.startswith("│ db "))
    web_row = next(line for line in lines if line.startswith("│ web "))
    assert "down" in db_row
    assert "tcp" in db_row
    assert "tcp.refused" in db_row
    assert " ms" in db_row
    assert "healthy" in web_row
    assert "—" in web_row
    verdict = next(line for line in lines if line.startswith("verdict: "))
    assert verdict.startswith("verdict: down — db: nothing listens at that address and port")
    assert "(owner: infrastructure, confidence 0.90)" in " ".join(text.split())
    assert any(line.startswith("  why: db fails at the tcp layer") for line in lines)


def test_watch_without_a_terminal_prints_plain_lines_and_history_reads_them_back(
    write_stack: Callable[..., Path], tmp_path: Path
) -> None:
    components = {"db": {"url": f"tcp://127.0.0.1:{free_port()}"}}
    path = write_stack(
        components, defaults={"timeout": "1s", "interval": "100ms", "failure_threshold": 2}
    )
    store = tmp_path / "history.db"
    watched = run_cli_process(
        "watch", str(path), "--for", "1.5s", "--store", str(store), "--agent", "ci", timeout=30
    )
    assert watched.status == 0, watched.err
    lines = watched.out.splitlines()
    assert lines[0] == f"watching 1 component of test as agent ci; history: sqlite://{store}"
    # down from the start: its first settled state is its start, not a change from healthy
    assert " db starts down tcp.refused (owner: infrastructure): db: nothing" in lines[1]
    assert lines[2] == (
        "    why: db fails at the tcp layer: tcp.refused — nothing listens at that address "
        "and port."
    )

    history = run_cli_process("history", str(path), "--store", str(store), "--json")
    assert history.status == 0, history.err
    document = history.json()
    assert document["schema"] == "faultfinder.history/v1"
    (db,) = document["components"]
    assert db["name"] == "db"
    assert db["availability"] == 0.0
    assert db["checks"] >= 5
    assert list(db["agents"]) == ["ci"]
    (incident,) = document["incidents"]
    assert (incident["component"], incident["code"], incident["owner"], incident["ended_at"]) == (
        "db",
        "tcp.refused",
        "infrastructure",
        None,
    )
    assert incident["why"][0].startswith("db fails at the tcp layer")
    text = run_cli_process("history", str(path), "--store", str(store))
    assert "incidents: 1" in text.out
    assert "still down  db [ci] tcp.refused" in text.out


async def test_an_overloaded_process_says_so_in_its_verdict_and_its_log(
    switchable_server: Starter,
    write_stack: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = switchable_server()
    stack = fast_stack(write_stack, {"web": {"url": f"tcp://127.0.0.1:{target.port}"}})
    caplog.set_level(logging.WARNING, "faultfinder.monitor")
    monitor = Monitor(stack, agent="test")

    def notes() -> str:
        diagnosis = monitor.diagnosis()
        return " ".join(diagnosis.notes) if diagnosis else "(no diagnosis yet)"

    await monitor.start()
    try:
        await until(lambda: notes() == "", what="a first diagnosis")
        # hold the event loop, as too much work would: every run now starts over a second late
        time.sleep(1.3)  # noqa: ASYNC251
        await until(lambda: "overloaded" in notes(), what="the overload note")
        assert "watch is overloaded: probes start up to 1." in caplog.text
        await until(lambda: notes() == "", what="the note to go")
        assert "watch keeps up again" in caplog.text
    finally:
        await monitor.stop()


async def test_a_storm_of_changes_is_described_in_batches_one_diagnosis_each(
    write_stack: Callable[..., Path],
) -> None:
    port = free_port()  # nothing listens: every component goes down on its first probe
    components = {f"c{index:03}": {"url": f"tcp://127.0.0.1:{port}"} for index in range(300)}
    defaults = {"timeout": "1s", "interval": "1h", "failure_threshold": 1}
    stack = load_stack(write_stack(components, defaults=defaults))
    monitor = Monitor(stack, agent="test")
    # How many results the monitor held when each change reached a listener: a batch is told
    # in one go, with no result taken in between, and each later batch follows a new result.
    told: list[int] = []
    monitor.subscribe(lambda change: told.append(len(monitor.latest())))
    await monitor.start()
    try:
        await until(lambda: len(monitor.changes()) == 300, what="every component down")
    finally:
        await monitor.stop()
    assert {(c.new, c.code) for c in monitor.changes()} == {(DOWN, "tcp.refused")}
    assert all(c.why and c.root_causes for c in monitor.changes())
    # the first round spreads 300 probes over 1.5 s: one diagnosis per change would be 300
    # batches (counted by what was told, not by the wall clock's gaps between tellings)
    assert told == sorted(told), told
    batches = len(set(told))
    assert 1 < batches <= 100, batches


async def test_an_error_behind_a_probe_is_counted_and_logged_once_and_probing_goes_on(
    switchable_server: Starter,
    write_stack: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug behind one component's probe (here: taking its result raises, three times) must
    not end that component's schedule: it was once dropped from monitoring in silence."""
    target = switchable_server()
    stack = fast_stack(write_stack, {"web": {"url": f"tcp://127.0.0.1:{target.port}"}})
    caplog.set_level(logging.WARNING, "faultfinder.monitor")
    monitor = Monitor(stack, agent="test")
    observe = monitor.observe
    broken = iter(range(3))

    def observe_or_raise(*args: Any) -> None:
        if next(broken, None) is not None:
            raise RuntimeError("a bug behind the probe")
        observe(*args)

    monkeypatch.setattr(monitor, "observe", observe_or_raise)
    await monitor.start()
    try:
        await until(lambda: len(monitor.recent("web")) >= 2, what="probes after the errors")
        assert monitor.errors == {"web": 3}
        assert caplog.text.count("probing web raised RuntimeError: a bug behind the probe") == 1
    finally:
        await monitor.stop()
