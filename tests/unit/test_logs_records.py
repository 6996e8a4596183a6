"""Records read through their wrappers: the error fields of structured loggers (each sample in the
shape its library writes, the source named), Cloud Logging's request logs, and the prefixes
``kubectl logs`` and ``docker logs -t`` put in front of a container's lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from faultfinder.logs.codes import code_of
from faultfinder.logs.records import Record, parse_entry, parse_line, plain_message
from faultfinder.logs.scanner import Event, Scanner
from tests.servers.common import CliResult

Run = Callable[..., CliResult]
DATA = Path(__file__).parents[1] / "data" / "logs"
DNS = "Error -3 connecting to redis.internal:6379. Temporary failure in name resolution."
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/orders/cache.py", line 41, in get\n'
    "    return await self.redis.get(key)\n"
    '  File "/usr/local/lib/python3.12/site-packages/redis/asyncio/connection.py", line 297, '
    "in connect\n"
    "    raise ConnectionError(self._error_message(e))\n"
    f"redis.exceptions.ConnectionError: {DNS}"
)


def record(entry: dict[str, Any] | str, labels: dict[str, str] | None = None) -> Record:
    line = entry if isinstance(entry, str) else json.dumps(entry)
    return parse_line(line.encode(), "app.log", 1, labels or {})


def classified(entry: dict[str, Any] | str) -> tuple[str | None, Record]:
    return code_of(record(entry))


# Each shape as its library writes it; the error sits beside a message that names no fault.
SHAPES: dict[str, tuple[dict[str, Any], str, str | None]] = {
    # pino-std-serializers' err (pinojs/pino-std-serializers, lib/err.js and its Readme):
    # {type, message, stack}; pino writes level 50 for error and the time in ms since the epoch
    "pino": (
        {
            "level": 50,
            "time": 1717402441123,
            "pid": 7,
            "hostname": "orders-1",
            "err": {
                "type": "Error",
                "message": "connect ECONNREFUSED 10.0.0.7:5432",
                "stack": "Error: connect ECONNREFUSED 10.0.0.7:5432\n    at TCPConnectWrap."
                "afterConnect [as oncomplete] (node:net:1595:16)",
                "errno": -111,
                "code": "ECONNREFUSED",
                "syscall": "connect",
            },
            "msg": "query failed",
        },
        "tcp.refused",
        "ERROR",
    ),
    # Bunyan's stdSerializers.err (trentm/node-bunyan, lib/bunyan.js): {message, name, stack,
    # code, signal}; "v": 0 is Bunyan's format version
    "bunyan": (
        {
            "name": "orders",
            "hostname": "orders-1",
            "pid": 7,
            "level": 30,
            "err": {
                "message": "getaddrinfo EAI_AGAIN redis.internal",
                "name": "Error",
                "stack": "Error: getaddrinfo EAI_AGAIN redis.internal\n    at GetAddrInfoReqWrap"
                ".onlookup [as oncomplete] (node:dns:107:26)",
                "code": "EAI_AGAIN",
            },
            "msg": "cache read failed",
            "time": "2024-06-03T08:14:01.123Z",
            "v": 0,
        },
        "dns.temporary_failure",
        "INFO",  # level 30: logged as info, the error field says otherwise
    ),
    # zap's production encoder (uber-go/zap, config.go: "ts", "msg", "stacktrace") and
    # zap.Error's key "error" (zapcore/error.go, which adds "errorVerbose" for rich errors)
    "zap": (
        {
            "level": "info",
            "ts": 1717402441.123,
            "caller": "orders/db.go:42",
            "msg": "retrying query",
            "error": "dial tcp 10.0.0.7:5432: connect: connection refused",
        },
        "tcp.refused",
        "INFO",
    ),
    # logrus' JSONFormatter with WithError (sirupsen/logrus, entry.go: ErrorKey = "error")
    "logrus": (
        {
            "error": "dial tcp: lookup redis.internal on 10.0.0.10:53: no such host",
            "level": "warning",
            "msg": "cache unavailable",
            "time": "2024-06-03T08:14:01Z",
        },
        "dns.nxdomain",
        "WARNING",
    ),
    # structlog's format_exc_info (hynek/structlog, src/structlog/processors.py): the
    # traceback as a string under "exception"; the message is "event"
    "structlog": (
        {
            "event": "cache read failed",
            "level": "info",
            "timestamp": "2024-06-03T08:14:01Z",
            "exception": TRACEBACK,
        },
        "dns.temporary_failure",
        "INFO",
    ),
    # structlog's dict_tracebacks (src/structlog/tracebacks.py, ExceptionDictTransformer): a
    # list of Stack dicts, the outermost exception first
    "structlog dict_tracebacks": (
        {
            "event": "cache read failed",
            "level": "error",
            "timestamp": "2024-06-03T08:14:01Z",
            "exception": [
                {
                    "exc_type": "ConnectionError",
                    "exc_value": DNS,
                    "exc_notes": [],
                    "syntax_error": None,
                    "is_cause": False,
                    "frames": [
                        {
                            "filename": "/app/orders/cache.py",
                            "lineno": 41,
                            "name": "get",
                            "locals": None,
                        }
                    ],
                    "is_group": False,
                    "exceptions": [],
                }
            ],
        },
        "dns.temporary_failure",
        "ERROR",
    ),
    # python-json-logger (madzak/python-json-logger, src/pythonjsonlogger/jsonlogger.py): the
    # formatted exception under "exc_info"
    "python-json-logger": (
        {
            "asctime": "2024-06-03 08:14:01,123",
            "levelname": "ERROR",
            "name": "orders.db",
            "message": "checkout failed",
            "exc_info": 'Traceback (most recent call last):\n  File "/app/orders/db.py", line 12, '
            "in connect\n    return await asyncpg.connect(DSN)\n"
            "asyncpg.exceptions.TooManyConnectionsError: sorry, too many clients "
            "already",
        },
        "postgres.too_many_connections",
        "ERROR",
    ),
    # ecs-logging-python (elastic/ecs-logging-python, ecs_logging/_stdlib.py): "log.level"
    # dotted at the top, "error" nested {type, message, stack_trace} (format_tb: frames only)
    "ECS nested": (
        {
            "@timestamp": "2024-06-03T08:14:01.123Z",
            "log.level": "info",
            "message": "login attempt rejected",
            "ecs.version": "1.6.0",
            "error": {
                "message": 'password authentication failed for user "orders"',
                "stack_trace": '  File "/app/orders/db.py", line 12, in connect\n',
                "type": "InvalidPasswordError",
            },
            "log": {"logger": "orders.db", "original": "login attempt rejected"},
        },
        "postgres.auth_failed",
        "INFO",
    ),
    # ecs-logging-java (elastic/ecs-logging-java, EcsJsonSerializer): dotted keys at the top
    "ECS dotted": (
        {
            "@timestamp": "2024-06-03T08:14:01.123Z",
            "log.level": "ERROR",
            "message": "Lookup failed",
            "ecs.version": "1.2.0",
            "service.name": "orders",
            "error.type": "java.net.UnknownHostException",
            "error.message": "redis.internal: Name or service not known",
            "error.stack_trace": "java.net.UnknownHostException: redis.internal: Name or service "
            "not known\n\tat java.base/java.net.InetAddress.getAllByName0"
            "(InetAddress.java:1534)",
        },
        "dns.nxdomain",
        "ERROR",
    ),
    # loguru's serialize=True (Delgan/loguru, loguru/_handler.py, _serialize_record): "text"
    # is the formatted line with its traceback, "record" the fields
    "loguru": (
        {
            "text": "2024-06-03 08:14:01.123 | ERROR    | orders.cache:get:41 - cache read "
            f"failed\n{TRACEBACK}\n",
            "record": {
                "elapsed": {"repr": "0:00:01.500000", "seconds": 1.5},
                "exception": {"type": "ConnectionError", "value": DNS, "traceback": True},
                "extra": {"service": "orders"},
                "file": {"name": "cache.py", "path": "/app/orders/cache.py"},
                "function": "get",
                "level": {"icon": "❌", "name": "ERROR", "no": 40},
                "line": 41,
                "message": "cache read failed",
                "module": "cache",
                "name": "orders.cache",
                "process": {"id": 7, "name": "MainProcess"},
                "thread": {"id": 1, "name": "MainThread"},
                "time": {"repr": "2024-06-03 08:14:01.123000+00:00", "timestamp": 1717402441.123},
            },
        },
        "dns.temporary_failure",
        "ERROR",
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_the_error_field_of_each_logger_gives_the_code(name: str) -> None:
    entry, code, severity = SHAPES[name]
    found, counted = classified(entry)
    assert found == code
    assert record(entry).severity == severity
    message = record(entry).text
    assert counted.text.startswith(f"{message}: "), counted.text  # the message, then the evidence
    assert code_of(Record("app.log", 1, message))[0] is None  # the message alone names nothing


def test_an_info_record_with_a_known_failure_in_its_error_field_counts(
    run_cli: Run, tmp_path: Path
) -> None:
    """Through the whole command: every shape above in one JSON-lines file."""
    log = tmp_path / "structured.jsonl"
    log.write_text("".join(json.dumps(entry) + "\n" for entry, _, _ in SHAPES.values()))
    result = run_cli("logs", str(log), "--json")
    assert result.status == 1
    document = result.json()
    expected: dict[str, int] = {}
    for _, code, _ in SHAPES.values():
        expected[code] = expected.get(code, 0) + 1
    assert {entry["code"]: entry["count"] for entry in document["codes"]} == expected
    assert document["unclassified"]["count"] == 0
    zap = next(e for e in document["codes"] if e["code"] == "tcp.refused")["examples"]
    assert [example["text"] for example in zap] == [
        "query failed: Error: connect ECONNREFUSED 10.0.0.7:5432",
        "retrying query: dial tcp 10.0.0.7:5432: connect: connection refused",
    ]


def test_loguru_s_record_gives_the_time_level_and_labels() -> None:
    loguru = record(SHAPES["loguru"][0])
    assert loguru.text == "cache read failed"
    assert loguru.time == datetime(2024, 6, 3, 8, 14, 1, 123000, tzinfo=UTC)
    assert loguru.labels["service"] == "orders"
    # record.exception first ({type, value}), then the traceback in "text"
    assert code_of(loguru)[1].text == f"cache read failed: ConnectionError: {DNS}"


def test_the_message_s_code_comes_first() -> None:
    entry = {
        "level": "error",
        "msg": "Error 111 connecting to 10.0.0.5:6379. Connection refused.",
        "error": DNS,
    }
    code, counted = classified(entry)
    assert code == "tcp.refused"
    assert counted.text == entry["msg"]


def test_a_python_traceback_counts_its_outermost_exception_a_signature_names() -> None:
    """As the scanner counts a traceback written line by line: a chain's last exception."""
    chained = (
        f"{TRACEBACK}\n\nDuring handling of the above exception, another exception occurred:"
        '\n\nTraceback (most recent call last):\n  File "/app/orders/api.py", line 9, in get\n'
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    code, counted = classified({"event": "request failed", "level": "error", "exception": chained})
    assert code == "tcp.refused"
    assert counted.text == "request failed: ConnectionRefusedError: [Errno 111] Connection refused"
    plain = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'user_id'"
    code, counted = classified({"event": "request failed", "level": "error", "exception": plain})
    assert code == "app.traceback"
    assert counted.text == (
        "request failed: Traceback (most recent call last): … KeyError: 'user_id'"
    )


def test_an_unknown_error_field_is_shown_in_the_template_and_the_level_still_rules(
    run_cli: Run, tmp_path: Path
) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text(
        "".join(
            json.dumps(entry) + "\n"
            for entry in [
                {"level": "error", "msg": "charge failed", "error": "card 7781 declined by issuer"},
                {"level": "info", "msg": "charge retried", "error": "card 7781 declined by issuer"},
                {"msg": "export done", "err": {"message": "disk quota exceeded"}},
                {"msg": "export done", "err": {"message": "none"}},
            ]
        )
    )
    document = run_cli("logs", str(log), "--json").json()
    assert [t["template"] for t in document["unclassified"]["templates"]] == [
        "charge failed: card <NUM> declined by issuer",  # an error by its level
        "export done: disk quota exceeded",  # no level: its error field's words
    ]


def test_without_a_message_the_error_field_is_the_text() -> None:
    """pino's ``logger.error(err)`` with a serializer that drops ``msg``, a jsonPayload with
    only a ``stack_trace``: the error shows, not the whole entry as JSON."""
    code, counted = classified(
        {
            "level": 50,
            "time": 1717402441123,
            "err": {"type": "Error", "message": "connect ECONNREFUSED 10.0.0.7:5432"},
        }
    )
    assert (code, counted.text) == ("tcp.refused", "Error: connect ECONNREFUSED 10.0.0.7:5432")
    code, counted = classified({"jsonPayload": {"stack_trace": TRACEBACK}, "severity": "ERROR"})
    assert (code, counted.text) == (
        "dns.temporary_failure",
        f"redis.exceptions.ConnectionError: {DNS}",
    )
    assert record({"level": "info", "detail": {"rows": 3}}).text == (
        '{"detail": {"rows": 3}, "level": "info"}'  # neither: the entry is its own text
    )


def test_a_cloud_logging_entry_s_json_payload_fields() -> None:
    """Error Reporting reads a jsonPayload's ``stack_trace`` and ``exception`` (Google's
    "Format a log entry to report error events")."""
    entry = {
        "jsonPayload": {"message": "checkout failed", "stack_trace": TRACEBACK},
        "severity": "INFO",
        "timestamp": "2024-05-31T12:00:05.950861Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "checkout"}},
        "logName": "projects/shop-staging/logs/run.googleapis.com%2Fstdout",
    }
    code, counted = classified(entry)
    assert code == "dns.temporary_failure"
    assert counted.labels["service_name"] == "checkout"


def test_bounded_and_hostile_error_fields() -> None:
    deep: dict[str, Any] = {"message": "top"}
    for _ in range(50):
        deep = {"message": "wrapped", "cause": deep}
    found = record(
        {
            "level": "error",
            "msg": "x",
            "err": deep,
            "error": [1, {"a": None}],
            "exception": "\n" * 10,
            "stack": ["at a", "at b"],
        }
    )
    assert found.details == ("wrapped", "at a\nat b")
    # an array's entry has no line to cut: its fields are cut one by one
    huge = parse_entry({"msg": "m", "error": "y" * 200_000}, "a.json", 1, {})
    assert len(huge.details[0]) == 64 * 1024


# ------------------------------------------------------------------ Cloud Run's request log


def test_cloud_run_request_log_counts_failed_requests_by_status(run_cli: Run) -> None:
    document = run_cli("logs", str(DATA / "cloud-run-requests.jsonl"), "--json").json()
    requests = document["requests"]
    assert (requests["count"], requests["by_status"]) == (4, {"500": 1, "503": 3})
    assert requests["components"] == {"checkout": 4}
    assert (requests["first_seen"], requests["last_seen"]) == (
        "2024-05-31T12:00:05.481Z",
        "2024-05-31T12:03:00.600Z",
    )
    assert requests["examples"][0] == {
        "time": "2024-05-31T12:00:05.481Z",
        "source": str(DATA / "cloud-run-requests.jsonl"),
        "line": 2,
        "component": "checkout",
        "text": "POST https://checkout-abc123-ew.a.run.app/api/checkout 503",
    }
    assert document["timeline"] == [
        {
            "minute": "2024-05-31T12:00Z",
            "counts": {"dns.temporary_failure": 1},
            "requests": {"503": 2},
        },
        {"minute": "2024-05-31T12:01Z", "counts": {}, "requests": {"500": 1}},
        {"minute": "2024-05-31T12:03Z", "counts": {}, "requests": {"503": 1}},
    ]
    assert document["unclassified"]["count"] == 0  # a failed request is not an unknown error
    assert document["matched"] == 1  # nor a fault code: the status is the app's line's


def test_failed_requests_in_the_text_view_and_filtered_by_code(run_cli: Run) -> None:
    result = run_cli("logs", str(DATA / "cloud-run-requests.jsonl"), "--color", "never")
    assert ", 4 failed requests (5xx)" in result.out
    assert "failed requests (request log): 500 ×1, 503 ×3 from checkout 4" in result.out
    assert (
        "2024-05-31 12:00  ████████████████████████████████████████ 3  HTTP 503 2, "
        "dns.temporary_failure 1" in result.out
    )
    coded = run_cli(
        "logs", str(DATA / "cloud-run-requests.jsonl"), "--code", "dns.temporary_failure", "--json"
    ).json()
    assert coded["requests"]["count"] == 0  # --code keeps only that code


def test_a_5xx_is_found_whatever_its_severity() -> None:
    """The prefilter looks for the status itself: a load balancer writes INFO for a 502."""
    line = json.dumps(
        {
            "httpRequest": {"requestMethod": "GET", "requestUrl": "https://x.test/", "status": 502},
            "severity": "INFO",
            "timestamp": "2024-05-31T12:00:00Z",
            "logName": "projects/p/logs/requests",
        }
    ).encode()
    events: list[Event] = []
    scanner = Scanner("lb.jsonl", events.append)
    scanner.feed(line + b"\n" + line.replace(b"502", b"200") + b"\n")
    scanner.finish()
    assert [(e.code, e.record.status, e.record.failed_request) for e in events] == [
        (None, 502, True)
    ]


# ------------------------------------------------------------- kubectl and docker prefixes

PY_LINE = "2024-06-03 10:14:01,120 ERROR orders.cache: " + DNS  # Python logging: no zone


def test_docker_logs_t_time_stands_in_for_a_time_without_a_zone() -> None:
    """``docker logs -t``: an RFC 3339 time with nanoseconds in front of the line (Docker's
    docs: "2014-09-16T06:17:46.000000000Z"). The line's own time has no zone, so it is only a
    guess in this machine's zone: the runtime's exact time wins."""
    found = record(f"2024-06-03T08:14:01.123456789Z {PY_LINE}")
    assert found.time == datetime(2024, 6, 3, 8, 14, 1, 123456, tzinfo=UTC)
    assert found.text == "ERROR orders.cache: " + DNS
    assert found.severity == "ERROR"
    zoned = record("2024-06-03T08:14:01.123456789Z 2024-06-03T10:14:00.5+02:00 ERROR boom")
    assert zoned.time == datetime(2024, 6, 3, 8, 14, 0, 500000, tzinfo=UTC)  # its own, exact
    assert zoned.text == "ERROR boom"
    bare = record("2024-06-03T08:14:01.000000000Z Connection refused")
    assert (bare.time, bare.text) == (
        datetime(2024, 6, 3, 8, 14, 1, tzinfo=UTC),
        "Connection refused",
    )


def test_a_json_line_behind_a_prefix_is_read_as_json() -> None:
    line = json.dumps(
        {
            "level": "error",
            "msg": "query failed",
            "error": "dial tcp 10.0.0.7:5432: connect: connection refused",
        }
    )
    for prefixed in (
        f"2024-06-03T08:14:01.5Z {line}",
        f"2024-06-03T08:14:01.5Z stdout F {line}",
        f"[pod/orders-7d9f8b6c5-k7m2p/orders] 2024-06-03T08:14:01.5Z {line}",
    ):
        code, counted = classified(prefixed)
        assert code == "tcp.refused", prefixed
        assert counted.time == datetime(2024, 6, 3, 8, 14, 1, 500000, tzinfo=UTC)
        assert plain_message(prefixed.encode()) is None  # the cheap look leaves JSON alone


def test_kubectl_prefix_names_the_pod_and_container() -> None:
    """``kubectl logs --prefix``: ``[pod/NAME/CONTAINER] `` (kubectl's addPrefixIfNeeded); with
    ``--timestamps`` the time comes after it."""
    found = record(
        f"[pod/orders-7d9f8b6c5-k7m2p/orders] 2024-06-03T08:14:01.123456789Z {PY_LINE}",
        {"source": "kubectl.log"},
    )
    assert found.labels == {
        "source": "kubectl.log",
        "pod_name": "orders-7d9f8b6c5-k7m2p",
        "container_name": "orders",
        "workload": "orders",
    }
    assert found.time == datetime(2024, 6, 3, 8, 14, 1, 123456, tzinfo=UTC)
    assert found.text == "ERROR orders.cache: " + DNS
    no_time = record(f"[pod/orders-7d9f8b6c5-k7m2p/orders] {PY_LINE}")
    assert no_time.time == datetime(2024, 6, 3, 10, 14, 1, 120000).astimezone()
    assert plain_message(f"[pod/web-0/nginx] {PY_LINE}".encode()) == "ERROR orders.cache: " + DNS


def test_kubectl_logs_of_a_deployment_with_prefix_and_timestamps(
    run_cli: Run, tmp_path: Path
) -> None:
    """``kubectl logs -l app=shop --all-containers --prefix --timestamps``: two pods, two
    containers, a traceback read through the prefixes (its frames keep their indentation)."""
    orders = "[pod/orders-7d9f8b6c5-k7m2p/orders] 2024-06-03T08:14:0{}.000000001Z {}\n"
    proxy = "[pod/orders-7d9f8b6c5-x2x9q/envoy] 2024-06-03T08:15:0{}.000000001Z {}\n"
    log = tmp_path / "kubectl.log"
    log.write_text(
        orders.format(1, "INFO:     started")
        + orders.format(2, "ERROR:    Exception in ASGI application")
        + "".join(orders.format(3, line) for line in TRACEBACK.splitlines())
        + proxy.format(1, "[2024-06-03 08:15:01.000][1][warning] upstream request timeout")
        + orders.format(4, "Traceback (most recent call last):")
        + orders.format(4, '  File "/app/orders/api.py", line 9, in get')
        + orders.format(4, "KeyError: 'user_id'")
    )
    document = run_cli("logs", str(log), "--json").json()
    codes = {entry["code"]: entry for entry in document["codes"]}
    assert {code: entry["components"] for code, entry in codes.items()} == {
        "dns.temporary_failure": {"orders": 1},
        "proxy.upstream_timeout": {"envoy": 1},
        "app.traceback": {"orders": 1},
    }
    dns = codes["dns.temporary_failure"]["examples"][0]
    assert (dns["line"], dns["time"]) == (8, "2024-06-03T08:14:03.000Z")
    assert dns["text"] == f"redis.exceptions.ConnectionError: {DNS}"
    assert codes["app.traceback"]["examples"][0]["text"] == (
        "Traceback (most recent call last): … KeyError: 'user_id'"
    )


def test_cri_lines_keep_their_runtime_time_over_a_guess() -> None:
    cri = record(f"2024-06-03T08:15:09.201334567Z stderr F {PY_LINE}")
    assert cri.time == datetime(2024, 6, 3, 8, 15, 9, 201334, tzinfo=UTC)
    assert cri.labels == {"stream": "stderr"}
    assert cri.text == "ERROR orders.cache: " + DNS
