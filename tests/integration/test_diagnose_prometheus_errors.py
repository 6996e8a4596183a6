"""``diagnose --prometheus`` when Prometheus is not there, is not Prometheus, answers an error or
never answers: one line naming it, exit 2, never a traceback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.common import CliResult, StackWriter, run_cli_process
from tests.servers.exporters import Prometheus
from tests.servers.listener import LoopbackServer, serve


def diagnose(write_stack: StackWriter, url: str, *args: str) -> CliResult:
    stack = write_stack({"api": {"url": "http://api.internal/"}})
    return run_cli_process("diagnose", str(stack), "--prometheus", url, *args)


def assert_one_line(result: CliResult, *words: str) -> None:
    assert result.status == 2, result.err
    assert result.out == ""
    (line,) = result.err.splitlines()
    assert line.startswith("faultfinder: error: prometheus at ")
    for word in words:
        assert word in line


def test_nothing_listens(write_stack: StackWriter) -> None:
    result = diagnose(write_stack, f"http://127.0.0.1:{free_port()}")
    assert_one_line(result, "cannot connect")


def test_not_prometheus(write_stack: StackWriter, app_server: AppServer) -> None:
    # Starlette answers an unknown path with 404 and the text "Not Found"
    result = diagnose(write_stack, app_server.url(""))
    assert_one_line(result, "HTTP 404", "not JSON")


def test_prometheus_error_answer(
    write_stack: StackWriter,
    prometheus_server: Callable[[list[dict[str, Any]]], Prometheus],
) -> None:
    prometheus = prometheus_server([])
    # A path prefix Prometheus does not serve: its router's "404 page not found"
    result = diagnose(write_stack, prometheus.url("/thanos"))
    assert_one_line(result, "HTTP 404")
    # Reached, but no agent has reported this stack
    empty = diagnose(write_stack, prometheus.url())
    assert empty.status == 2, empty.err
    assert "no agent has probed test's components within 5m" in empty.err


def test_a_server_that_never_answers(write_stack: StackWriter) -> None:
    # The kernel completes the handshake into the backlog; nothing ever reads or answers.
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        port = listener.getsockname()[1]
        result = diagnose(write_stack, f"http://127.0.0.1:{port}", "--query-timeout", "1s")
    assert_one_line(result, "no answer within the query's deadline")


def _endless_answer(server: LoopbackServer, connection: socket.socket) -> None:
    """A 200 whose JSON body never ends: what a wrong URL or a runaway fleet could send."""

    def send() -> None:
        with contextlib.suppress(OSError), connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            connection.sendall(b'{"status": "success", "data": "')
            chunk = b"x" * 1024 * 1024
            for _ in range(40):  # 40 MiB, past the 32 MiB bound
                connection.sendall(chunk)

    threading.Thread(target=send, daemon=True).start()


def test_an_answer_too_large(write_stack: StackWriter) -> None:
    with serve(LoopbackServer, _endless_answer, "endless") as server:
        result = diagnose(write_stack, f"http://127.0.0.1:{server.port}")
    assert_one_line(result, "the answer is larger than 32 MiB")


@pytest.mark.parametrize("option", ["--staleness", "--query-timeout"])
def test_bad_durations(write_stack: StackWriter, option: str) -> None:
    result = diagnose(write_stack, "http://127.0.0.1:9", option, "soon")
    assert result.status == 2
    assert result.err.startswith(f"faultfinder: error: {option}: ")
