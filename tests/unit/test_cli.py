"""The command line: exit statuses, one-line errors, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.common import CliResult, StackWriter, run_cli_process

Run = Callable[..., CliResult]


@pytest.mark.parametrize(
    "text",
    [
        "components:\n  a: {url: 'tcp://h:1', colour: red}\n",
        "components:\n  a: {url: 'ftp://h'}\n",
        "defaults: {timeout: never}\ncomponents: {}\n",
        "components:\n  a: {url: 'tcp://h:1', depends_on: [ghost]}\n",
        "components: [\n",
        "\x00\x01 binary",
    ],
)
def test_bad_stack_file_is_one_line_exit_2_in_a_real_process(
    write_stack: StackWriter, text: str
) -> None:
    path = write_stack(text=text)
    for command in ("diagnose", "check"):
        result = run_cli_process(command, str(path))
        assert result.status == 2
        assert result.out == ""
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, result.err
        assert lines[0].startswith(f"faultfinder: error: {path}")
        assert "Traceback" not in result.err


def test_missing_file_and_bad_call_exit_2(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("diagnose", str(tmp_path / "nope.yaml"))
    assert result.status == 2
    assert "cannot read the stack file" in result.err
    with pytest.raises(SystemExit) as exited:
        run_cli("diagnose")
    assert exited.value.code == 2


def test_check_validates_without_probing(run_cli: Run, write_stack: StackWriter) -> None:
    path = write_stack({"a": {"url": "tcp://unresolvable.invalid:1"}})
    result = run_cli("check", str(path))
    assert result.status == 0
    assert "ok (1 components)" in result.out


def test_healthy_diagnosis_exits_0_with_the_contract_keys(
    run_cli: Run, write_stack: StackWriter
) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        path = write_stack({"smtp": {"url": f"tcp://127.0.0.1:{port}"}})
        result = run_cli("diagnose", str(path), "--json")
    assert result.status == 0, result.out
    document = result.json()
    assert set(document) >= {
        "schema",
        "stack",
        "started_at",
        "duration_ms",
        "status",
        "verdict",
        "root_causes",
        "components",
        "why",
    }
    assert document["schema"] == "faultfinder.diagnosis/v1"
    assert document["status"] == "healthy"
    assert document["root_causes"] == []
    assert document["verdict"]["owner"] == "none"
    component = result.component("smtp")
    assert [phase["layer"] for phase in component["phases"]] == ["dns", "tcp"]
    assert all(phase["ok"] for phase in component["phases"])
    assert component["symptom_of"] == []


def test_failing_diagnosis_exits_1_and_human_output_names_the_fault(
    run_cli: Run, write_stack: StackWriter
) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    path = write_stack({"smtp": {"url": f"tcp://127.0.0.1:{port}"}})
    result = run_cli("diagnose", str(path))
    assert result.status == 1
    assert "tcp.refused" in result.out
    assert "infrastructure" in result.out
    assert "DOWN" in result.out


def _closing_reader(*args: str) -> tuple[int, bytes]:
    """Run ``faultfinder ARGS | head -c1``: the reader takes one byte and goes away."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "faultfinder", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    with process:
        process.stdout.read(1)
        process.stdout.close()  # as head does: the rest of the output has no reader
        error = process.stderr.read()
        return process.wait(timeout=60), error


@pytest.mark.parametrize("arguments", [("--json",), ()])
def test_a_reader_that_goes_away_ends_diagnose_quietly(
    write_stack: StackWriter, arguments: tuple[str, ...]
) -> None:
    # enough components that the output outgrows the pipe's buffer, so writing must fail
    path = write_stack({f"c{index}": {"url": "tcp://127.0.0.1:9"} for index in range(300)})
    status, error = _closing_reader("diagnose", str(path), *arguments)
    assert status in (0, 1)
    assert error == b""


def test_a_reader_that_goes_away_ends_logs_quietly(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("Error 111 connecting to 10.0.0.5:6379. Connection refused.\n" * 20_000)
    status, error = _closing_reader("logs", str(log), "--json")
    assert status in (0, 1)
    assert error == b""
