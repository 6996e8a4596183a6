"""Flows (golden paths) against the real test app, Redis and PostgreSQL.

Each test runs ``faultfinder diagnose --json`` on a stack with a ``flow:`` component and checks
the step it fails at, that step's code and layer, and that captured tokens stay hidden.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
import pytest

from faultfinder.config import load_stack
from faultfinder.monitor.monitor import Monitor
from tests.servers.app import PASSWORD, TOKEN_PREFIX, AppServer
from tests.servers.common import CliResult
from tests.servers.monitor import until
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer
from tests.servers.timing import by_deadline


def golden_path(
    app: AppServer,
    user: str,
    *,
    password: str = PASSWORD,
    ask: str = "/ws-ask",
    question: str = "6 x 7",
) -> dict[str, Any]:
    """Log in, ask who we are with the token, ask a question over WebSocket, log out."""
    return {
        "flow": {
            "variables": {"user": user, "password": password},
            "steps": [
                {
                    "name": "login",
                    "url": app.url("/login"),
                    "method": "POST",
                    "json": {"user": "{user}", "password": "{password}"},
                    "expect": {"status": 200, "json": {"$.user": "{user}"}},
                    "capture": {"token": "$.token"},
                },
                {
                    "name": "whoami",
                    "url": app.url("/whoami"),
                    "headers": {"Authorization": "Bearer {token}"},
                    "expect": {"json": {"$.user": "{user}"}},
                },
                {
                    "name": "ask",
                    "url": app.ws_url(ask),
                    "headers": {"Authorization": "Bearer {token}"},
                    "send": json.dumps({"question": question}),
                    "expect": {"json": {"$.answer": "42"}},
                    "within": "1s",
                },
            ],
            "cleanup": [
                {
                    "name": "logout",
                    "url": app.url("/logout"),
                    "method": "POST",
                    "headers": {"Authorization": "Bearer {token}"},
                },
            ],
        },
        "critical": True,
    }


def logouts(app: AppServer, user: str) -> int:
    return int(httpx.get(app.url(f"/logouts?user={user}")).json()["logouts"])


def steps(result: CliResult, name: str = "golden") -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in result.component(name)["steps"]}


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    def run(components: dict[str, Any], *extra: str, timeout: str = "2s") -> CliResult:
        return run_cli("diagnose", str(write_stack(components, timeout=timeout)), "--json", *extra)

    return run


def user() -> str:
    return "user-" + secrets.token_hex(4)


def test_a_healthy_golden_path_passes_every_step_and_cleans_up(
    app_server: AppServer, diagnose: Any
) -> None:
    name = user()
    result = diagnose({"golden": golden_path(app_server, name)})
    assert result.status == 0, result.out
    golden = result.component("golden")
    assert golden["status"] == "healthy"
    assert golden["failed_step"] is None
    assert [(step["name"], step["ok"]) for step in golden["steps"]] == [
        ("login", True),
        ("whoami", True),
        ("ask", True),
        ("logout", True),
    ]
    assert steps(result)["logout"]["cleanup"] is True
    assert logouts(app_server, name) == 1  # the cleanup step really ran
    # the flow's ladder is every step's rungs, each named after its step
    assert [phase["layer"] for phase in golden["phases"]] == [
        "dns",
        "tcp",
        "http",
        "dns",
        "tcp",
        "http",
        "dns",
        "tcp",
        "websocket",
    ]
    assert golden["phases"][2]["detail"] == "login: 200 OK"


def test_a_wrong_password_fails_the_login_step_and_skips_what_needed_its_token(
    app_server: AppServer, diagnose: Any
) -> None:
    result = diagnose({"golden": golden_path(app_server, user(), password="wrong")})
    assert result.status == 1
    golden = result.component("golden")
    assert (golden["status"], golden["code"], golden["failed_step"]) == (
        "down",
        "http.unexpected_status",
        "login",
    )
    by_name = steps(result)
    assert by_name["login"]["status_code"] == 401
    assert by_name["whoami"]["skipped"] == "not run: step login failed"
    assert by_name["logout"]["skipped"] == "not run: {token} never captured"
    cause = result.json()["root_causes"][0]
    assert (cause["component"], cause["code"], cause["layer"], cause["owner"]) == (
        "golden",
        "http.unexpected_status",
        "http",
        "application",
    )
    assert "wrong" not in result.out  # the password variable is a secret


def test_a_refused_upgrade_fails_the_ask_step_after_login_and_still_cleans_up(
    app_server: AppServer, diagnose: Any
) -> None:
    name = user()
    result = diagnose({"golden": golden_path(app_server, name, ask="/ws-reject")})
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("ws.handshake_rejected", "ask")
    assert golden["phases"][-1]["layer"] == "websocket"
    assert golden["phases"][-1]["detail"].startswith("ask: upgrade answered 403")
    assert steps(result)["logout"]["ok"] is True
    assert logouts(app_server, name) == 1


def test_a_wrong_answer_fails_the_ask_step_with_the_answer_it_got(
    app_server: AppServer, diagnose: Any
) -> None:
    result = diagnose({"golden": golden_path(app_server, user(), question="7 x 7")})
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("ws.unexpected_message", "ask")
    detail = golden["phases"][-1]["detail"]
    assert 'has $.answer = "no idea", expected "42"' in detail


def test_a_silent_socket_fails_within_the_step_s_time_not_the_flow_s(
    app_server: AppServer, diagnose: Any
) -> None:
    component = golden_path(app_server, user(), ask="/ws-silent")
    component["timeout"] = "10s"
    started = time.monotonic()
    result = diagnose({"golden": component})
    elapsed = time.monotonic() - started
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("http.timeout", "ask")
    assert "no reply within 1s" in golden["phases"][-1]["detail"]
    # Cut by the step's 1 s, not the flow's 10 s: the limit, twice the step's 1 s and 3 s for
    # the login, whoami and logout steps and the run around them, holds at twice CI's load
    # (tests/servers/timing.py) and is half the flow's deadline.
    assert elapsed < by_deadline(1.0, margin=3.0), f"{elapsed:.2f}s for a 1s step"


def test_a_missing_capture_fails_its_step(app_server: AppServer, diagnose: Any) -> None:
    component = golden_path(app_server, user())
    component["flow"]["steps"][0]["capture"] = {"token": "$.session.id"}
    result = diagnose({"golden": component})
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("http.unexpected_body", "login")
    assert "no $.session.id to capture as {token}" in golden["phases"][-1]["detail"]


def test_captured_tokens_never_appear_in_any_output(
    app_server: AppServer, write_stack: Any, run_cli: Any
) -> None:
    # ask /whoami with the token in the query too, so the token is in a URL the result shows
    component = golden_path(app_server, user(), question="7 x 7")  # fails: evidence printed
    component["flow"]["steps"][1]["url"] = app_server.url("/echo?who={token}")
    component["flow"]["steps"][1]["expect"] = {"json": {"$.query": "nothing"}}
    path = str(write_stack({"golden": component}))
    outputs = [
        run_cli("diagnose", path, "--json").out,
        run_cli("diagnose", path).out,
        run_cli("report", path).out,
    ]
    for output in outputs:
        assert "golden" in output
        assert TOKEN_PREFIX not in output, output
        assert PASSWORD not in output
    assert "who=***" in outputs[0]


@pytest.mark.parametrize(
    "captured",
    [
        "{secret}\r\nX-Injected: yes",  # a line break: refused before anything is sent
        "",  # "Bearer " ends in a space: refused by h11 as the request is written
    ],
    ids=["line-break", "empty"],
)
def test_a_captured_value_that_breaks_a_header_is_an_invalid_request(
    app_server: AppServer, diagnose: Any, captured: str
) -> None:
    secret = "s3cret-5f2a9c1e"  # a fixed input: a leak that shows up once shows up again
    component = {
        "flow": {
            "steps": [
                {
                    "name": "note",
                    "url": app_server.url("/echo"),
                    "method": "POST",
                    "body": captured.format(secret=secret),
                    "capture": {"note": "$.body"},
                },
                {
                    "name": "use",
                    "url": app_server.url("/ok"),
                    "headers": {"Authorization": "Bearer {note}"},
                },
            ]
        }
    }
    result = diagnose({"golden": component})
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("http.invalid_request", "use")
    assert steps(result)["use"]["phases"][-1]["layer"] == "http"
    cause = result.json()["root_causes"][0]
    assert (cause["component"], cause["code"], cause["owner"]) == (
        "golden",
        "http.invalid_request",
        "configuration",
    )
    assert secret not in result.out


def test_a_flow_behind_a_failing_component_is_its_symptom(
    app_server: AppServer, diagnose: Any
) -> None:
    closed = "http://127.0.0.1:9/login"  # nothing listens on the discard port
    component = golden_path(app_server, user())
    component["flow"]["steps"][0]["url"] = closed
    component["via"] = ["api"]
    result = diagnose({"golden": component, "api": {"url": "tcp://127.0.0.1:9"}})
    golden = result.component("golden")
    assert (golden["code"], golden["own_code"], golden["symptom_of"]) == (
        "dependency.failed",
        "tcp.refused",
        ["api"],
    )
    assert [cause["component"] for cause in result.json()["root_causes"]] == ["api"]
    assert any("golden" in line for line in result.json()["why"])


def test_redis_and_postgres_steps_check_and_capture_replies(
    redis_server: RedisServer, postgres_server: PostgresServer, diagnose: Any
) -> None:
    key = "flow:" + secrets.token_hex(4)
    component = {
        "flow": {
            "steps": [
                {
                    "name": "count",
                    "url": postgres_server.url(),
                    "query": "SELECT 6 * 7",
                    "expect": {"json": {"$": 42}},
                    "capture": {"answer": "$"},
                },
                {"name": "store", "url": redis_server.url(), "command": ["SET", key, "{answer}"]},
                {
                    "name": "read",
                    "url": redis_server.url(),
                    "command": ["GET", key],
                    "expect": {"json": {"$": "42"}},
                },
            ]
        }
    }
    result = diagnose({"store": component})
    assert result.component("store")["status"] == "healthy", result.out
    component["flow"]["steps"][2]["expect"] = {"json": {"$": "41"}}
    result = diagnose({"store": component})
    store = result.component("store")
    assert (store["code"], store["failed_step"]) == ("redis.unexpected_reply", "read")
    component["flow"]["steps"][0]["query"] = "SELECT 1 WHERE false"
    result = diagnose({"store": component})
    assert result.component("store")["code"] == "postgres.unexpected_result"


def test_a_flow_that_runs_out_of_time_still_runs_its_cleanup(
    app_server: AppServer, diagnose: Any
) -> None:
    name = user()
    component = golden_path(app_server, name)
    component["flow"]["steps"][1]["url"] = app_server.url("/slow?seconds=30")
    component["timeout"] = "1500ms"
    component["flow"]["cleanup"][0]["timeout"] = "500ms"
    started = time.monotonic()
    result = diagnose({"golden": component})
    elapsed = time.monotonic() - started
    golden = result.component("golden")
    assert (golden["code"], golden["failed_step"]) == ("http.timeout", "whoami")
    assert steps(result)["logout"]["ok"] is True
    assert logouts(app_server, name) == 1
    # whoami would answer after 30 s: the flow's 1.5 s and the cleanup's 0.5 s end it first.
    # The limit, twice those 2 s and 1 s, holds at twice CI's load (tests/servers/timing.py).
    assert elapsed < by_deadline(1.5 + 0.5), f"{elapsed:.2f}s for a 1.5s flow, 0.5s cleanup"


@pytest.mark.parametrize(
    ("change", "line", "key", "words"),
    [
        (
            lambda flow: flow["steps"][1]["headers"].update(Authorization="Bearer {tokn}"),
            12,
            "components.golden.flow.steps.1.headers.Authorization",
            "{tokn} is not a variable",
        ),
        (
            lambda flow: flow["steps"][2].update(name="login"),
            14,
            "components.golden.flow.steps.2.name",
            "another step is named 'login'",
        ),
        (
            lambda flow: flow["steps"][0].update(capture={"token": "token"}),
            10,
            "components.golden.flow.steps.0.capture.token",
            "is not a JSON path",
        ),
        (
            lambda flow: flow["steps"][1]["headers"].update({"X-Note": "a\nb"}),
            12,
            "components.golden.flow.steps.1.headers",
            "holds a line break",
        ),
        (
            lambda flow: flow["steps"][0].update(url="gopher://x/"),
            5,
            "components.golden.flow.steps.0.url",
            "unknown scheme 'gopher'",
        ),
    ],
)
def test_a_broken_flow_is_a_one_line_error_naming_file_line_and_key(
    app_server: AppServer,
    write_stack: Any,
    run_cli: Any,
    change: Any,
    line: int,
    key: str,
    words: str,
) -> None:
    component = golden_path(app_server, "someone")
    change(component["flow"])
    path = write_stack({"golden": component})
    result = run_cli("diagnose", str(path))
    assert result.status == 2
    assert result.err.count("\n") == 1, result.err
    assert f"{path}:" in result.err, result.err
    assert key in result.err, result.err
    assert words in result.err, result.err
    assert "Traceback" not in result.err


def test_validate_counts_a_flow_like_any_component(
    app_server: AppServer, write_stack: Any, run_cli: Any
) -> None:
    path = write_stack(
        {
            "golden": golden_path(app_server, user()),
            "broken": golden_path(app_server, user(), password="wrong"),
        },
        validation={"repetitions": 3, "interval": "50ms"},
    )
    result = run_cli("validate", str(path), "--json")
    document = result.json()
    by_name = {c["name"]: c for c in document["components"]}
    assert (by_name["golden"]["passes"], by_name["golden"]["checks"]) == (3, 3)
    assert by_name["golden"]["category"] == "flow"
    assert by_name["broken"]["passes"] == 0
    failures = by_name["broken"]["failures"]
    assert [(f["code"], f["count"]) for f in failures] == [("http.unexpected_status", 3)]
    assert TOKEN_PREFIX not in result.out


async def test_watch_sees_a_golden_path_go_down_at_its_step_with_its_diagnosis(
    app_server: AppServer, write_stack: Any
) -> None:
    component = golden_path(app_server, user(), question="7 x 7")  # the answer is wrong
    component["via"] = ["app"]
    defaults = {
        "timeout": "2s",
        "interval": "100ms",
        "failure_threshold": 2,
        "success_threshold": 1,
    }
    stack = load_stack(
        write_stack({"golden": component, "app": {"url": app_server.url("/ok")}}, defaults=defaults)
    )
    monitor = Monitor(stack, agent="test")
    await monitor.start()
    try:
        await until(
            lambda: any(c.component == "golden" for c in monitor.changes()),
            what="golden to go down",
        )
    finally:
        await monitor.stop()
    change = next(c for c in monitor.changes() if c.component == "golden")
    assert (change.new.value, change.code, change.layer) == (
        "down",
        "ws.unexpected_message",
        "websocket",
    )
    assert change.owner == "application"  # a wrong answer is the service's: the flow's own fault
    assert any("golden" in line for line in change.why)
    assert TOKEN_PREFIX not in " ".join(change.why)
