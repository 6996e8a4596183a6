"""`log_absent`: a fix is only proven when its failure signature is gone from the logs too.

The log line is real: redis-py's own error for a refused connection, written by the stdlib
logging module the way an app would log it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis
import redis.exceptions

from tests.servers import free_port
from tests.servers.common import CliResult, StackWriter

Run = Callable[..., CliResult]


def _write_app_log(path: Path) -> datetime.datetime:
    """Log what a Redis client says when nothing listens; return when it was logged."""

    async def fail() -> str:
        client = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
        try:
            await client.ping()
        except redis.exceptions.ConnectionError as error:
            return str(error)
        finally:
            await client.aclose()
        raise AssertionError("the connection was expected to be refused")

    message = asyncio.run(fail())
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("app-under-test")
    logger.addHandler(handler)
    try:
        logger.error("cache unavailable: %s", message)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return datetime.datetime.now()


def test_log_absent_fails_while_the_signature_is_in_the_logs(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    logged_at = _write_app_log(log)
    assert "Connection refused" in log.read_text() or "111" in log.read_text()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        stack = write_stack(
            {"cache": {"url": f"tcp://127.0.0.1:{port}"}},
            validation={"repetitions": 2, "interval": "50ms", "log_absent": ["tcp.refused"]},
        )
        without_logs = run_cli("validate", str(stack), "--json")
        with_logs = run_cli("validate", str(stack), "--json", "--logs", str(log))
        later = (logged_at + datetime.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
        since_fix = run_cli(
            "validate", str(stack), "--json", "--logs", str(log), "--logs-since", later
        )

    def log_criterion(result: CliResult) -> dict[str, object]:
        return next(c for c in result.json()["criteria"] if c["name"] == "log_absent")

    assert without_logs.status == 0, without_logs.out
    assert log_criterion(without_logs)["result"] == "not_evaluated"
    assert with_logs.status == 1
    found = log_criterion(with_logs)
    assert found["result"] == "fail"
    assert str(found["actual"]).startswith("1 lines")
    assert since_fix.status == 0, since_fix.out
    assert log_criterion(since_fix)["result"] == "pass"


def test_handoff_cites_the_log_evidence(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    _write_app_log(log)
    port = free_port()  # nothing listens: the probe sees the refusal the log reports
    stack = write_stack({"cache": {"url": f"redis://:hunter2secret@127.0.0.1:{port}/0"}})
    handoff = tmp_path / "handoff.md"

    result = run_cli("report", str(stack), "--logs", str(log), "--out", str(handoff))

    assert result.status == 0, result.err
    text = handoff.read_text()
    section = text.split("## Log evidence", 1)[1]
    assert "| `tcp.refused` | infrastructure | 1 |" in section
    assert "| yes |" in section  # the probe's root cause says the same
    assert "Error 111 connecting to 127.0.0.1" in section
    assert "log_absent: [tcp.refused]" in section
    assert "hunter2secret" not in text
