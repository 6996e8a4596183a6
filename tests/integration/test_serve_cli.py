"""``faultfinder serve`` as users run it: one-line errors, /probe without a stack, and a clean
stop on SIGTERM that leaves the monitor's history written."""

from __future__ import annotations

import signal
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.servers import wait_until
from tests.servers.app import AppServer
from tests.servers.common import StackWriter, run_cli_process
from tests.servers.exporters import Exposition, Served


def one_line_error(*args: str) -> str:
    result = run_cli_process("serve", *args, timeout=30)
    assert result.status == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_a_taken_port_is_a_one_line_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_line_error("--listen", f"127.0.0.1:{port}")
    assert line.startswith(f"faultfinder: error: cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("--listen", "localhost"), "faultfinder: error: --listen: 'localhost' is not HOST:PORT"),
        (("--refresh", "often"), "faultfinder: error: --refresh:"),
        (("--workers", "0"), "faultfinder: error: --workers: between 1 and 256"),
    ],
)
def test_bad_options_are_one_line_errors(args: tuple[str, ...], start: str) -> None:
    assert one_line_error(*args).startswith(start)


def test_bad_files_name_file_line_and_key(tmp_path: Path, write_stack: StackWriter) -> None:
    modules = tmp_path / "modules.yml"
    modules.write_text("modules:\n  a:\n    prober: tcp\n    tcp: {tls: maybe}\n")
    assert one_line_error("--modules", str(modules)).startswith(
        f"faultfinder: error: {modules}:4: modules.a.tcp.tls"
    )
    stack = write_stack(text="components:\n  a: {url: 'tcp://h:1', colour: red}\n")
    assert one_line_error(str(stack)).startswith(f"faultfinder: error: {stack}:2")


def test_without_a_stack_only_probe_and_metrics(
    serve_process: Callable[..., Served], app_server: AppServer
) -> None:
    serve = serve_process()
    metrics = Exposition.parse(
        serve.get("/probe", target=app_server.url("/ok"), module="http_2xx").text
    )
    assert metrics.value("probe_success") == 1
    assert "/probe" in serve.get("/").text
    assert serve.get("/api/status").status_code == 404
    own = Exposition.parse(serve.get("/metrics").text)
    assert own.value("faultfinder_probe_requests_total", module="http_2xx", result="success") == 1
    assert own.value("process_cpu_seconds_total") > 0  # the agent's own figures, as exporters


def test_sigterm_stops_cleanly_and_the_history_is_written(
    serve_process: Callable[..., Served], app_server: AppServer, write_stack: StackWriter
) -> None:
    stack = write_stack(
        {"app": {"url": f"tcp://127.0.0.1:{app_server.port}"}},
        defaults={"timeout": "1s", "interval": "100ms"},
    )
    serve = serve_process(stack, "--agent", "agent-a", "--no-alerts")

    def probes() -> float:
        text = serve.get("/metrics").text
        return Exposition.parse(text).value(
            "faultfinder_component_probes_total", component="app", result="success"
        )

    wait_until(lambda: probes() >= 5, what="five probes")
    seen = probes()
    serve.process.signal(signal.SIGTERM)
    assert serve.process.popen.wait(timeout=10) == 0
    with pytest.raises(httpx.ConnectError):
        serve.get("/-/healthy")
    history = run_cli_process("history", str(stack), "--json")
    (component,) = history.json()["components"]
    assert component["agents"]["agent-a"]["checks"] >= seen


def test_answers_do_not_wait_for_delayed_acks(serve_process: Callable[..., Served]) -> None:
    """TCP_NODELAY on the listener's connections: else each answer waits ~40 ms for an ACK."""
    serve = serve_process()
    seconds: list[float] = []
    with httpx.Client(trust_env=False) as client:  # one keep-alive connection
        client.get(serve.url("/-/healthy"))
        for _ in range(20):
            started = time.perf_counter()
            assert client.get(serve.url("/probe"), params={"module": "nope"}).status_code == 400
            seconds.append(time.perf_counter() - started)
    # When Nagle meets delayed ACKs every answer waits 40 ms (the kernel's least delayed-ACK
    # timer), on any machine; an answer takes a few ms, at twice CI's load too. The median is
    # the figure: a busy machine can hold up a few requests, not half of them.
    assert statistics.median(seconds) < 0.02, seconds
