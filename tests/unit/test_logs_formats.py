"""Log shapes: the recorded platform samples, each format's record, and the times in lines."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from faultfinder.clock import parse_when
from faultfinder.errors import UsageError
from faultfinder.logs.records import parse_line, path_labels
from faultfinder.logs.times import leading_time, parse_timestamp
from tests.servers.common import CliResult

DATA = Path(__file__).parents[1] / "data" / "logs"
Run = Callable[..., CliResult]

# file → (lines, {code: (count, {component: count})}, unclassified templates)
EXPECTED: dict[str, tuple[int, dict[str, tuple[int, dict[str, int]]], list[str]]] = {
    "cloud-run-gcloud-read.json": (
        8,
        {
            "platform.startup_failed": (3, {"checkout": 3}),
            "dns.temporary_failure": (2, {"checkout": 2}),
            "platform.memory_exceeded": (1, {"search": 1}),
        },
        [],  # the request log's 503 is a failed request (``requests``), not an unknown error
    ),
    "cloud-run-requests.jsonl": (
        8,
        # the app's line is at INFO, its message says "failed": the error field has the code
        {"dns.temporary_failure": (1, {"checkout": 1})},
        [],
    ),
    "gke-sink-export.jsonl": (
        6,
        {
            "app.pool_exhausted": (1, {"orders": 1}),
            "postgres.too_many_connections": (1, {"orders": 1}),
            "platform.memory_exceeded": (1, {"orders": 1}),  # the event's pod → its workload
            "platform.startup_failed": (1, {"orders": 1}),
            "app.permission_denied": (1, {"secretmanager.googleapis.com": 1}),
        },
        [],
    ),
    "journald-export.json": (
        6,
        {
            "postgres.too_many_connections": (1, {"postgresql@15-main": 1}),
            "app.permission_denied": (1, {"orders": 1}),
            "platform.memory_exceeded": (1, {"kernel": 1}),
            "tcp.refused": (1, {"orders": 1}),  # a MESSAGE of bytes, not valid UTF-8
        },
        ["worker pool wedged, giving up"],  # PRIORITY 2: an error by its level alone
    ),
    "kubernetes-cri.log": (
        15,
        {"dns.temporary_failure": (1, {"-": 1}), "app.traceback": (1, {"-": 1})},
        ["ERROR: Exception in ASGI application"],
    ),
    "kubernetes-docker-json.log": (
        4,
        {
            "redis.oom": (1, {"-": 1}),
            "postgres.auth_failed": (1, {"-": 1}),
            "tls.expired": (1, {"-": 1}),
        },
        [],
    ),
    "kubectl-describe-pod.txt": (
        17,
        {"platform.startup_failed": (2, {"-": 2}), "platform.memory_exceeded": (1, {"-": 1})},
        [],
    ),
    # issue 14's families in a JSON-lines logger's shape (message/msg, level, service) …
    "json-lines-families.jsonl": (
        10,
        {
            "dns.nxdomain": (1, {"orders": 1}),  # musl through libpq
            "dns.temporary_failure": (1, {"auth": 1}),  # Go's resolver, no "on RESOLVER"
            "tcp.refused": (1, {"cart": 1}),  # Envoy's reset reason
            "tcp.closed_mid_session": (1, {"orders": 1}),  # libpq's EOF
            "app.worker_timeout": (1, {"orders": 1}),
            "app.fd_exhausted": (1, {"orders": 1}),
            "ws.handshake_rejected": (1, {"cart": 1}),
        },
        [],  # gunicorn's "  timeout: 30" without a level is no error
    ),
    # … and in Cloud Logging's (textPayload, jsonPayload.message, Cloud Run's request log)
    "cloud-logging-families.jsonl": (
        12,
        {
            "platform.no_instance_available": (1, {"checkout": 1}),
            "platform.startup_failed": (1, {"checkout": 1}),
            "platform.container_exited": (1, {"checkout": 1}),  # exit(1); exit(0) is none
            "dns.nxdomain": (1, {"checkout": 1}),
            "http.no_response": (1, {"gateway": 1}),
            "tls.handshake_failed": (1, {"checkout": 1}),
            "postgres.starting_up": (1, {"checkout": 1}),
            "platform.memory_exceeded": (1, {"checkout": 1}),
            "app.worker_timeout": (1, {"checkout": 1}),
        },
        [],
    ),
}


def test_every_sample_has_expectations() -> None:
    samples = {path.name for path in DATA.iterdir() if path.name != "README.md"}
    assert samples == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_sample(run_cli: Run, name: str) -> None:
    lines, codes, templates = EXPECTED[name]
    result = run_cli("logs", str(DATA / name), "--json")
    assert result.status == 1, result.err
    document = result.json()
    assert document["schema"] == "faultfinder.logs/v1"
    assert document["lines"] == lines
    found = {entry["code"]: (entry["count"], entry["components"]) for entry in document["codes"]}
    assert found == codes
    assert [t["template"] for t in document["unclassified"]["templates"]] == templates
    assert document["sources"][0]["warnings"] == []


# One line of each issue-14 family (tests/unit/test_logs_signatures.py cites each source), and
# a harmless one: the same code whatever shape carries the line.
FAMILY_LINES = [
    ('could not translate host name "postgres" to address: Name does not resolve', "dns.nxdomain"),
    (
        "127.0.0.1:54666 [04/Dec/2026:05:39:14.894] f app/s1 0/0/0/-1/0 502 209 - - SH-- "
        '1/1/0/0/0 0/0 "GET /close HTTP/1.1"',
        "http.no_response",
    ),
    (
        "127.0.0.1:53894 [04/Dec/2026:05:39:17.918] f none/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- "
        '1/1/0/0/0 0/0 "GET /none HTTP/1.1"',
        "proxy.no_healthy_upstream",
    ),
    (
        '[2024-05-01T12:00:00.000Z] "GET /api/cart HTTP/1.1" 503 UF,URX 0 91 3 - "-" "curl/8.5.0" '
        '"5f2a" "cart" "10.4.1.7:8080"',
        "proxy.no_healthy_upstream",
    ),
    (
        "The request was aborted because there was no available instance.",
        "platform.no_instance_available",
    ),
    (
        "failed to connect to instance: Dial error: handshake failed (connection name = "
        '"p:r:i"): context deadline exceeded',
        "tls.handshake_failed",
    ),
    ("[2024-05-01 12:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:23)", "app.worker_timeout"),
    ("OSError: [Errno 24] Too many open files", "app.fd_exhausted"),
    ("  timeout: 30", None),  # gunicorn's configuration dump: no code, no error
]


def test_family_lines_name_their_code_in_every_shape(tmp_path: Path, run_cli: Run) -> None:
    """A JSON-lines logger's message, a LogEntry's textPayload and its jsonPayload.message,
    Docker's json-file (whose Go encoder writes "<" as "\\u003c"): the prefilter reads the raw,
    escaped line, the signatures its message."""
    resource = {"type": "cloud_run_revision", "labels": {"service_name": "checkout"}}
    shapes: list[str] = []
    for line, _ in FAMILY_LINES:
        shapes.append(json.dumps({"message": line, "service": "checkout"}))
        shapes.append(json.dumps({"textPayload": line, "resource": resource}))
        shapes.append(json.dumps({"jsonPayload": {"message": line}, "resource": resource}))
        shapes.append(json.dumps({"log": line + "\n", "stream": "stderr"}).replace("<", "\\u003c"))
    path = tmp_path / "shapes.jsonl"
    path.write_text("\n".join(shapes) + "\n")
    document = run_cli("logs", str(path), "--json").json()
    found = {entry["code"]: entry["count"] for entry in document["codes"]}
    expected = Counter(code for _, code in FAMILY_LINES if code is not None)
    assert found == {code: 4 * count for code, count in expected.items()}
    assert document["unclassified"]["templates"] == []


def test_cloud_run_entry_keeps_its_time_labels_and_owner(run_cli: Run) -> None:
    document = run_cli("logs", str(DATA / "cloud-run-gcloud-read.json"), "--json").json()
    startup = next(e for e in document["codes"] if e["code"] == "platform.startup_failed")
    assert startup["owner"] == "application"
    assert startup["first_seen"] == "2024-05-27T11:16:58.980Z"
    assert startup["last_seen"] == "2024-05-27T11:21:14.210Z"
    assert document["by_owner"] == {"application": 4, "infrastructure": 2}
    memory = next(e for e in document["codes"] if e["code"] == "platform.memory_exceeded")
    assert memory["examples"][0]["text"].startswith("Memory limit of 512 MiB exceeded")
    assert document["timeline"][0] == {
        "minute": "2024-05-27T11:16Z",
        "counts": {"platform.startup_failed": 1},
    }


def test_kubernetes_node_paths_name_the_container(tmp_path: Path, run_cli: Run) -> None:
    pods = tmp_path / "var/log/pods/shop_orders-7d9f8b6c5-k7m2p_5b1c0c1e/orders"
    pods.mkdir(parents=True)
    shutil.copy(DATA / "kubernetes-cri.log", pods / "0.log")
    containers = tmp_path / "var/log/containers"
    containers.mkdir(parents=True)
    docker = containers / f"orders-7d9f8b6c5-k7m2p_shop_orders-{'ab' * 32}.log"
    shutil.copy(DATA / "kubernetes-docker-json.log", docker)
    document = run_cli("logs", str(pods / "0.log"), str(docker), "--json").json()
    assert document["by_component"]["orders"]["count"] == 5
    assert path_labels(str(docker)) == {
        "source": docker.name,
        "pod_name": "orders-7d9f8b6c5-k7m2p",
        "namespace_name": "shop",
        "container_name": "orders",
        "workload": "orders",
    }


def _record(line: str | bytes, labels: dict[str, str] | None = None) -> Any:
    raw = line.encode() if isinstance(line, str) else line
    return parse_line(raw, "test.log", 1, labels or {})


def test_cloud_logging_json_payload_and_severity() -> None:
    entry = {
        "jsonPayload": {"message": "boom", "logger": "app"},
        "severity": "CRITICAL",
        "timestamp": "2024-05-27T11:33:05.123456789Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "checkout"}},
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
    }
    record = _record(json.dumps(entry))
    assert record.text == "boom"
    assert record.severity == "CRITICAL"
    assert record.is_error is True
    assert record.time == datetime(2024, 5, 27, 11, 33, 5, 123456, tzinfo=UTC)
    assert record.labels["service_name"] == "checkout"
    assert record.labels["log_name"] == "run.googleapis.com/stdout"


def test_json_lines_loggers() -> None:
    pino = _record('{"level":50,"time":1717402441123,"msg":"db down","service":"orders"}')
    assert (pino.severity, pino.text, pino.labels["service"]) == ("ERROR", "db down", "orders")
    assert pino.time == datetime(2024, 6, 3, 8, 14, 1, 123000, tzinfo=UTC)
    structlog = _record('{"event": "started", "level": "info", "timestamp": "2024-06-03T08:14Z"}')
    assert (structlog.severity, structlog.text, structlog.is_error) == ("INFO", "started", False)
    nested = _record('{"level": "warn", "error": {"kind": "Timeout"}}')
    assert nested.text == '{"kind": "Timeout"}'


def test_cri_partial_and_plain_lines() -> None:
    cri = _record('2024-06-03T08:15:09.201334567Z stderr F   File "/app/x.py", line 1')
    assert cri.text == '  File "/app/x.py", line 1'  # indentation kept: it is a frame
    assert cri.labels == {"stream": "stderr"}
    assert cri.time == datetime(2024, 6, 3, 8, 15, 9, 201334, tzinfo=UTC)
    not_json = _record('{"truncated": "li')
    assert not_json.text == '{"truncated": "li'


@pytest.mark.parametrize(
    ("line", "when", "severity", "message"),
    [
        (
            "2024-05-01 12:00:00.123 UTC [81] FATAL:  sorry, too many clients already",
            datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
            "CRITICAL",
            "[81] FATAL:  sorry, too many clients already",
        ),
        (
            "2024-05-01T12:00:00+02:00 ERROR app: boom",
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
            "ERROR",
            "ERROR app: boom",
        ),
        (
            "[2025-08-19 20:57:37 +0000] [1] [INFO] Booting worker",
            datetime(2025, 8, 19, 20, 57, 37, tzinfo=UTC),
            "INFO",
            "[1] [INFO] Booting worker",
        ),
        (
            "1234:M 01 May 2024 12:00:00.123 # WARNING overcommit_memory is set to 0",
            datetime(2024, 5, 1, 12, 0, 0, 123000).astimezone(),
            "WARNING",
            "# WARNING overcommit_memory is set to 0",
        ),
        (
            "2024/05/01 12:00:00 [error] 12#12: *1 connect() failed",
            datetime(2024, 5, 1, 12, 0).astimezone(),
            "ERROR",
            "[error] 12#12: *1 connect() failed",
        ),
        ("no time here, and no level either", None, None, "no time here, and no level either"),
    ],
)
def test_plain_lines(line: str, when: datetime | None, severity: str | None, message: str) -> None:
    record = _record(line)
    assert record.time == when
    assert record.severity == severity
    assert record.text == message


def test_syslog_time_without_a_year_is_never_in_the_future() -> None:
    now = datetime.now().astimezone()
    when, message = leading_time(f"{now:%b %d %H:%M:%S} host app[1]: boom")
    assert when is not None
    assert when <= now + timedelta(seconds=1)
    assert message == "host app[1]: boom"


def test_timestamps_in_fields() -> None:
    assert parse_timestamp("2024-05-27T11:33:05.123456789Z") == datetime(
        2024, 5, 27, 11, 33, 5, 123456, tzinfo=UTC
    )
    assert parse_timestamp(1717402441) == datetime(2024, 6, 3, 8, 14, 1, tzinfo=UTC)
    assert parse_timestamp(1717402441123456789) == parse_timestamp(1717402441.123456789)
    assert parse_timestamp("2024-13-45T00:00:00Z") is None
    assert parse_timestamp(True) is None
    assert parse_timestamp(10**30) is None


def test_since_and_until_forms() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_when("15m", now=now) == now - timedelta(minutes=15)
    assert parse_when("1d", now=now) == now - timedelta(days=1)
    assert parse_when("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_when("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 8, tzinfo=UTC)
    local = datetime(2024, 5, 1).astimezone()
    assert parse_when("2024-05-01") == local
    assert local.tzinfo is not None
    with pytest.raises(UsageError, match="not a time"):
        parse_when("yesterday-ish")
