"""``faultfinder validate`` and ``faultfinder report`` against real servers on loopback.

The stacks here are small and fast (tens of milliseconds between repetitions). A tiny real
HTTP server (``TinyHttp``) plays the app whose health document the incident turned on, and
the component that flaps: the test closes its port and opens it again mid-run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import pty
import re
import shlex
import socket
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faultfinder import CheckResult, load_stack
from faultfinder.cli import main
from faultfinder.validate.runner import run_validation
from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.common import CliResult, StackWriter
from tests.servers.redis import RedisServer
from tests.servers.tls import NAME, Certificates

Run = Callable[..., CliResult]
FAST = {"interval": "20ms"}
PASSING = json.dumps({"status": "pass", "checks": {"redis:connection": [{"status": "pass"}]}})
FAILING = json.dumps(
    {
        "status": "fail",
        "checks": {
            "redis:connection": [
                {
                    "componentType": "datastore",
                    "status": "fail",
                    "output": "Error -3 connecting to redis.internal:6379. Temporary failure in name "
                    "resolution.",
                }
            ]
        },
    }
)


class TinyHttp:
    """A real HTTP/1.1 server on a loopback port answering every request with one document.

    ``stop`` closes the listening socket at once, so the next connect is refused; ``start``
    listens on the same port again. Both are quick enough to call between two repetitions.
    """

    def __init__(self, status: int = 200, body: str = PASSING) -> None:
        self.status, self.body = status, body
        self.port = 0
        self.served = 0
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.start()

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, args=(listener,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            with connection:
                connection.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request:
                    try:
                        chunk = connection.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    request += chunk
                body = self.body.encode()
                head = (
                    f"HTTP/1.1 {self.status} {'OK' if self.status < 400 else 'Failing'}\r\n"
                    "Content-Type: application/health+json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                try:
                    connection.sendall(head.encode() + body)
                except OSError:
                    continue
                self.served += 1


@pytest.fixture
def tiny_http() -> Iterator[Callable[..., TinyHttp]]:
    """``tiny_http(status, body)`` starts a TinyHttp; every one is stopped at teardown."""
    started: list[TinyHttp] = []

    def start(status: int = 200, body: str = PASSING) -> TinyHttp:
        server = TinyHttp(status, body)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def criteria_of(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["name"], c["subject"]): c for c in document["criteria"]}


def component_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in document["components"] if c["name"] == name)


@pytest.mark.parametrize("critical", [True, False])
def test_a_broken_critical_category_fails_the_run_even_at_a_90_percent_pass_rate(
    run_cli: Run, write_stack: StackWriter, app_server: AppServer, critical: bool
) -> None:
    components: dict[str, Any] = {
        f"web{index}": {"url": app_server.url("/ok"), "category": "web"} for index in range(9)
    }
    components["db"] = {"url": f"tcp://127.0.0.1:{free_port()}", "category": "database"}
    validation = {**FAST, "repetitions": 3}
    if critical:
        validation["critical_categories"] = ["database"]
    result = run_cli("validate", str(write_stack(components, validation=validation)), "--json")

    document = result.json()
    assert document["totals"] == {"checks": 30, "passes": 27, "pass_rate": 0.9}
    criteria = criteria_of(document)
    assert criteria["pass_rate", "stack"]["result"] == "pass"
    db = component_of(document, "db")
    assert [f["code"] for f in db["failures"]] == ["tcp.refused"]
    assert db["failures"][0]["root_causes"] == [
        {
            "component": "db",
            "code": "tcp.refused",
            "owner": "infrastructure",
            "vantage": "faultfinder",
        },
    ]
    if critical:
        assert result.status == 1
        assert document["result"] == "fail"
        database = criteria["critical_category", "database"]
        assert (database["result"], database["actual"]) == ("fail", "0/3 pass")
        assert "db failed 3/3: tcp.refused (infrastructure)" in database["detail"]
    else:
        assert result.status == 0, result.out
        assert document["result"] == "pass"
        assert ("critical_category", "database") not in criteria
        assert db["result"] == "warn"


def test_consecutive_catches_a_component_that_flaps(
    write_stack: StackWriter, app_server: AppServer, tiny_http: Callable[..., TinyHttp]
) -> None:
    flapping = tiny_http()
    components: dict[str, Any] = {"flappy": {"url": flapping.url()}}
    components.update({f"steady{index}": {"url": app_server.url("/ok")} for index in range(4)})
    validation = {**FAST, "repetitions": 12, "components": {"flappy": {"consecutive": 10}}}
    stack = load_stack(write_stack(components, validation=validation))

    def observe(name: str, repetition: int, result: CheckResult) -> None:
        if name != "flappy":
            return
        if repetition == 3:
            flapping.stop()  # the server goes away after its third answer …
        elif not result.ok:
            flapping.start()  # … and is back after the first refused connection

    validation_run = asyncio.run(run_validation(stack, on_check=observe))

    flappy = [check for check in validation_run.checks if check.component == "flappy"]
    assert [check.ok for check in flappy] == [True] * 3 + [False] + [True] * 8
    assert flappy[3].code == "tcp.refused"
    criteria = {(c.name, c.subject): c for c in validation_run.criteria}
    assert criteria["pass_rate", "stack"].outcome.value == "pass"  # 59 of 60
    consecutive = criteria["consecutive", "flappy"]
    assert consecutive.outcome.value == "fail"
    assert (consecutive.threshold, consecutive.value) == (10, 8)
    assert "flappy failed 1/12: tcp.refused (infrastructure)" in consecutive.detail
    assert validation_run.outcome.value == "fail"


def test_latency_bounds_on_p95_and_max(
    run_cli: Run, write_stack: StackWriter, app_server: AppServer
) -> None:
    components = {
        "fast": {"url": app_server.url("/ok")},
        "slow": {"url": app_server.url("/slow?seconds=0.25")},
    }
    validation = {
        **FAST,
        "repetitions": 3,
        "components": {
            "fast": {"p95_ms": 2000, "max_ms": 2000},
            "slow": {"p95_ms": 100, "max_ms": 150},
        },
    }
    result = run_cli("validate", str(write_stack(components, validation=validation)), "--json")

    assert result.status == 1
    document = result.json()
    assert document["totals"]["pass_rate"] == 1.0  # slow is not failing, only slow
    criteria = criteria_of(document)
    assert criteria["p95_ms", "fast"]["result"] == "pass"
    assert criteria["max_ms", "fast"]["result"] == "pass"
    for key, bound in (("p95_ms", 100), ("max_ms", 150)):
        slow = criteria[key, "slow"]
        assert slow["result"] == "fail"
        assert slow["threshold"] == bound
        assert slow["value"] >= 250
    assert component_of(document, "slow")["latency_ms"]["max"] >= 250


def test_tls_min_days_left(
    run_cli: Run, write_stack: StackWriter, tls_server: Any, certificates: Certificates
) -> None:
    trust = {"ca": str(certificates.ca_file), "server_name": NAME}
    valid = tls_server(certificates.valid)
    expiring = tls_server(certificates.expiring_soon)
    components = {
        "edge_valid": {"url": f"tls://127.0.0.1:{valid.port}", "tls": trust},
        "edge_expiring": {"url": f"tls://127.0.0.1:{expiring.port}", "tls": trust},
        "plain": {"url": f"tcp://127.0.0.1:{valid.port}"},
    }
    validation = {**FAST, "repetitions": 2, "tls": {"min_days_left": 30}}
    result = run_cli("validate", str(write_stack(components, validation=validation)), "--json")

    assert result.status == 1
    document = result.json()
    assert document["totals"]["pass_rate"] == 1.0  # an expiring certificate only warns
    criteria = criteria_of(document)
    expiring_days = criteria["tls.min_days_left", "edge_expiring"]
    assert expiring_days["result"] == "fail"
    assert 4 < expiring_days["value"] < 5.1
    assert criteria["tls.min_days_left", "edge_valid"]["result"] == "pass"
    assert ("tls.min_days_left", "plain") not in criteria  # tcp:// has no certificate


def test_junit_report_file_parses_with_a_testcase_per_check_and_criterion(
    run_cli: Run, write_stack: StackWriter, app_server: AppServer, tmp_path: Path
) -> None:
    components = {
        "api": {"url": app_server.url("/status/500"), "depends_on": ["db"], "category": "web"},
        "home": {"url": app_server.url("/ok"), "category": "web"},
        "db": {"url": f"tcp://127.0.0.1:{free_port()}", "category": "database"},
    }
    validation = {**FAST, "repetitions": 2, "log_absent": ["redis.oom"]}
    junit = tmp_path / "validation.xml"
    result = run_cli(
        "validate",
        str(write_stack(components, validation=validation)),
        "--report",
        "junit",
        "--out",
        str(junit),
    )

    assert result.status == 1
    root = ElementTree.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["test: criteria", "test: database", "test: web"]
    assert int(root.get("tests", "")) == 2 + 4 + 2 == len(root.findall("testsuite/testcase"))
    assert int(root.get("failures", "")) == len(root.findall("testsuite/testcase/failure"))
    web = suites["test: web"]
    assert (web.get("tests"), web.get("failures"), web.get("errors")) == ("4", "2", "0")
    api_cases = [c for c in web.findall("testcase") if c.get("classname") == "test.web.api"]
    assert [c.get("name") for c in api_cases] == ["api #1", "api #2"]
    failure = api_cases[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "dependency.failed"
    assert failure.get("message") == (
        "dependency.failed (infrastructure), root cause: db tcp.refused (infrastructure)"
    )
    assert "symptom of db" in (failure.text or "")
    criteria = suites["test: criteria"]
    assert criteria.find("properties/property[@name='result']").get("value") == "fail"  # type: ignore[union-attr]
    skipped = criteria.findall("testcase/skipped")
    assert [s.get("message") for s in skipped] == ["not evaluated (give --logs SOURCE)"]
    assert "1 of 2 criteria failed" in result.out  # pass_rate fails; log_absent is not judged


def test_incident_handoff_names_the_owner_and_criteria_and_its_command_checks_them(
    run_cli: Run,
    write_stack: StackWriter,
    redis_server: RedisServer,
    tiny_http: Callable[..., TinyHttp],
    tmp_path: Path,
) -> None:
    # The app says Redis fails to resolve; faultfinder reaches that same Redis fine.
    backend = tiny_http(503, FAILING)
    components = {
        "backend": {
            "url": backend.url("/health/infrastructure"),
            "health": True,
            "depends_on": ["redis"],
            "critical": True,
            "category": "api",
        },
        "redis": {"url": redis_server.url()},
    }
    stack = str(write_stack(components, validation=FAST))
    diagnosis = run_cli("diagnose", stack, "--json")
    assert diagnosis.status == 1
    (tmp_path / "diagnosis.json").write_text(diagnosis.out)
    handoff = tmp_path / "handoff.md"
    written = run_cli(
        "report", stack, "--diagnosis", str(tmp_path / "diagnosis.json"), "--out", str(handoff)
    )
    assert written.status == 0, written.err
    text = handoff.read_text()

    assert "- **Owner:** infrastructure" in text
    assert (
        "### 1. redis: the resolver is unreachable or answered SERVFAIL or timed out "
        "(EAI_AGAIN, error -3) (seen from backend) — dns.temporary_failure, owner "
        "infrastructure"
    ) in text
    assert "Error -3 connecting to redis.internal:6379. Temporary failure" in text
    actions = text[text.index("## Action items by owner") : text.index("## Success criteria")]
    assert re.findall(r"^### (.+)$", actions, re.MULTILINE) == ["Infrastructure"]
    assert "**redis** (`dns.temporary_failure`, seen from backend)" in actions
    criteria = text[text.index("## Success criteria") : text.index("## Sign-off")]
    assert "- [ ] redis reachable from backend: 20 consecutive passes, p95 ≤ 50 ms" in criteria
    assert "- [ ] backend passes again (it failed as a symptom of redis)" in criteria
    assert "- [ ] every check in the critical categories passes: api" in criteria
    (command,) = re.findall(r"```sh\n(.+)\n```", criteria)
    assert command == (
        f"faultfinder validate {stack} --component redis:consecutive=20,p95_ms=50 "
        "--component backend:consecutive=20"
    )

    # The exact command, still broken: redis fails every check, as seen from the backend.
    arguments = shlex.split(command)[1:]
    broken = run_cli(*arguments, "--json")
    assert broken.status == 1
    document = broken.json()
    assert document["settings"]["repetitions"] == 20
    redis = component_of(document, "redis")
    assert redis["passes"] == 0
    assert [(f["code"], f["root_causes"][0]["vantage"]) for f in redis["failures"]] == [
        ("dns.temporary_failure", "backend"),
    ]
    assert criteria_of(document)["consecutive", "redis"]["result"] == "fail"

    # The fix lands; the same command passes its criteria and is signed off.
    backend.status, backend.body = 200, PASSING
    saved = tmp_path / "validation.json"
    fixed = run_cli(
        *arguments, "--json", "--sign-off", "Dana Ops", "--report", "json", "--out", str(saved)
    )
    document = json.loads(saved.read_text())
    assert document == fixed.json()
    results = {key: c["result"] for key, c in criteria_of(document).items()}
    latency = results.pop(("p95_ms", "redis"))  # a loaded machine may be slow; judged all the same
    assert set(results.values()) == {"pass"}, results
    assert fixed.status == (0 if latency == "pass" else 1)
    assert document["sign_off"]["by"] == "Dana Ops"

    final = run_cli(
        "report", stack, "--diagnosis", str(tmp_path / "diagnosis.json"), "--validation", str(saved)
    )
    assert final.status == 0
    sign_off = final.out[final.out.index("## Sign-off") :]
    assert "| signed off by | Dana Ops |" in sign_off
    assert (
        "| consecutive | `redis` | ≥ 20 passes in a row | longest run 20 of 20 | **PASS** |"
        in sign_off
    )


def test_secrets_never_reach_any_report(
    run_cli: Run,
    write_stack: StackWriter,
    app_server: AppServer,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url_password = "url-Pa55word-7c1"
    token, portal_password = "tok-ENV-5e2b9a", "env-Pa55-4411"
    monkeypatch.setenv("API_TOKEN", token)
    monkeypatch.setenv("PORTAL_PASSWORD", portal_password)
    basic = base64.b64encode(f"admin:{portal_password}".encode()).decode()
    secrets = [url_password, token, portal_password, basic]
    port = app_server.port
    components = {
        # The echo route answers 500 with the request's headers: the secrets, in the evidence.
        "api": {
            "url": app_server.url("/echo?status=500"),
            "headers": {"Authorization": "Bearer ${API_TOKEN}"},
        },
        "portal": {"url": f"http://admin:${{PORTAL_PASSWORD}}@127.0.0.1:{port}/echo?status=500"},
        "cache": {"url": f"redis://:{url_password}@127.0.0.1:{redis_server.port}/0"},
    }
    stack = str(write_stack(components, validation={**FAST, "repetitions": 2}))
    reports = {kind: tmp_path / f"validation.{kind}" for kind in ("json", "junit", "markdown")}
    options = [
        part for kind, path in reports.items() for part in ("--report", kind, "--out", str(path))
    ]
    validated = run_cli("validate", stack, "--sign-off", "Dana Ops", *options)
    as_json = run_cli("validate", stack, "--json")
    diagnosis = run_cli("diagnose", stack, "--json")
    (tmp_path / "diagnosis.json").write_text(diagnosis.out)
    handoff = run_cli(
        "report",
        stack,
        "--diagnosis",
        str(tmp_path / "diagnosis.json"),
        "--validation",
        str(reports["json"]),
    )
    fresh = run_cli("report", stack)

    document = as_json.json()
    assert {f["code"] for f in component_of(document, "api")["failures"]} == {"app.error"}
    assert {f["code"] for f in component_of(document, "portal")["failures"]} == {"app.error"}
    outputs = {
        **{kind: path.read_text() for kind, path in reports.items()},
        "validate": validated.out + validated.err,
        "validate --json": as_json.out + as_json.err,
        "report": handoff.out + handoff.err,
        "report (fresh)": fresh.out + fresh.err,
    }
    for name, text in outputs.items():
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{name} shows {leaked}"
    # The echoed headers were in the evidence, and masked.
    assert '"authorization":"***"' in outputs["markdown"]
    assert '"authorization":"Basic ***"' in outputs["markdown"]
    assert "***" in outputs["report"]


def test_repetitions_run_concurrently_across_components(
    write_stack: StackWriter, app_server: AppServer
) -> None:
    # Cheap probes, a long interval: one component after another would take 20 × 1.2 s.
    components = {
        f"port{index:02}": {"url": f"tcp://127.0.0.1:{app_server.port}"} for index in range(20)
    }
    validation = {"repetitions": 4, "interval": "400ms"}
    stack = load_stack(write_stack(components, validation=validation))

    validation_run = asyncio.run(run_validation(stack))

    assert validation_run.total_passes == 80
    # Concurrency shows in the order of the starts, not in how long the run took (which a busy
    # machine decides): one component after another, its repetition 2 would start before the
    # next component's repetition 1.
    starts = {
        r: sorted(c.offset_ms for c in validation_run.checks if c.repetition == r)
        for r in range(1, 5)
    }
    for repetition, offsets in starts.items():
        assert offsets[0] >= (repetition - 1) * 400 - 1  # never early
        if repetition < 4:  # every component's repetition N starts before anyone's N + 1
            assert offsets[-1] < starts[repetition + 1][0], starts


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--report", "json"], "give each --report FORMAT its own --out FILE"),
        (["--component", "ghost:consecutive=2"], "names no component; known: db"),
        (["--component", "db:often=2"], "expected NAME:KEY=VALUE with KEY one of"),
        (["--component", "db"], "expected NAME:KEY=VALUE[,KEY=VALUE]"),
        (["--pass-rate", "1.5"], "pass_rate: Input should be less than or equal to 1"),
        (["--interval", "soon"], "interval:"),
    ],
)
def test_bad_validate_calls_exit_2_with_one_line(
    run_cli: Run, write_stack: StackWriter, arguments: list[str], message: str
) -> None:
    stack = str(write_stack({"db": {"url": f"tcp://127.0.0.1:{free_port()}"}}))
    result = run_cli("validate", stack, *arguments)
    assert result.status == 2
    assert result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line.startswith("faultfinder: error: ")
    assert message in line


def test_bad_report_inputs_exit_2(run_cli: Run, write_stack: StackWriter, tmp_path: Path) -> None:
    stack = str(write_stack({"db": {"url": f"tcp://127.0.0.1:{free_port()}"}}))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"schema": "faultfinder.diagnosis/v1", "stack": "test"}))
    other = tmp_path / "other.json"
    elsewhere = write_stack({"db": {"url": f"tcp://127.0.0.1:{free_port()}"}}, name="elsewhere")
    other.write_text(run_cli("diagnose", str(elsewhere), "--json").out)
    for arguments, message in (
        (["--diagnosis", str(garbage)], "is not a JSON document"),
        (["--validation", str(other)], "is not a faultfinder.validation/v1 document"),
        (["--diagnosis", str(other)], "is about stack 'elsewhere', not 'test'"),
        (["--diagnosis", str(partial)], "lacks started_at, duration_ms, status, verdict"),
        (["--diagnosis", str(tmp_path / "missing.json")], "cannot read"),
    ):
        result = run_cli("report", stack, *arguments)
        assert result.status == 2, arguments
        assert message in result.err
    bad_stack = write_stack(text="validation: {pass_rate: 2}\ncomponents: {}\n", name="bad")
    result = run_cli("validate", str(bad_stack))
    assert result.status == 2
    assert result.err.startswith(f"faultfinder: error: {bad_stack}:1: validation.pass_rate:")


@contextlib.contextmanager
def terminal_stdout() -> Iterator[bytearray]:
    """Point ``sys.stdout`` at a pseudo-terminal, as when a person runs the command."""
    controller, terminal = pty.openpty()
    output = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side is closed and everything was read
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with open(terminal, "w", encoding="utf-8") as stream, contextlib.redirect_stdout(stream):
        yield output
    reader.join(timeout=5)
    os.close(controller)


def test_progress_shows_on_a_terminal_and_never_in_json(
    write_stack: StackWriter, app_server: AppServer
) -> None:
    stack = str(
        write_stack(
            {"web": {"url": app_server.url("/slow?seconds=0.1")}},
            validation={"repetitions": 4, "interval": "100ms"},
        )
    )
    with terminal_stdout() as shown:
        assert main(["validate", stack]) == 0
    assert b"validating" in shown  # the progress bar, drawn while it ran
    assert b"criteria" in shown
    with terminal_stdout() as quiet:
        assert main(["validate", stack, "--json"]) == 0
    assert b"validating" not in quiet
    assert json.loads(quiet.decode())["totals"]["checks"] == 4


def test_report_without_a_diagnosis_file_runs_a_fresh_one(
    run_cli: Run, write_stack: StackWriter, app_server: AppServer
) -> None:
    stack = str(write_stack({"web": {"url": app_server.url("/status/500")}}))
    result = run_cli("report", stack)
    assert result.status == 0
    assert result.out.startswith("# Hand-off: test — down\n")
    assert "### Application" in result.out
    assert "- [ ] **web** (`app.error`)" in result.out
