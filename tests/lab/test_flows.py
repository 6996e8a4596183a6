"""Issue 8 in the lab: the golden path is a real flow (log in through HAProxy over HTTPS, ask
over a WebSocket with the captured token, log out) that passes when the lab is healthy and
stops at the right step, with the right root cause, under each of the four faults.

The app's own routes are checked directly too (inside the namespace, bypassing HAProxy), so a
failing flow is known to fail for the reason the scenario claims. A captured token (``labtok_``)
and the demo password never reach the text, JSON or Markdown output.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from faultfinder_lab.accounts import TOKEN_PREFIX, issue_token
from faultfinder_lab.control import Lab
from faultfinder_lab.scenarios import GOLDEN_PATH, SCENARIOS
from faultfinder_lab.topology import APP, APP_PORT, DEMO_USER
from tests.servers.common import CliResult, run_cli_process
from tests.servers.lab import assert_no_lab_secrets, lab_diagnose

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]

APP_URL = f"http://{APP}:{APP_PORT}"
ASK_URL = f"ws://{APP}:{APP_PORT}/ws/ask"
QUESTION = json.dumps({"question": "6 x 7"})

# Issue 8's four faults: scenario → (failing step, root cause component, code, owner).
FLOW_FAULTS = {
    "postgres-hung": ("login", "postgres", "postgres.timeout", "infrastructure"),
    "cache-down": ("ask", "cache", "tcp.refused", "infrastructure"),
    "haproxy-no-healthy-backend": ("login", "lb", "proxy.no_healthy_upstream", "infrastructure"),
    "ws-upgrade-refused": ("ask", GOLDEN_PATH, "ws.handshake_rejected", "application"),
}


@dataclass(frozen=True)
class Asked:
    """What the app's /ws/ask did: its upgrade status, the reply, and the close code."""

    status: int
    reply: dict[str, Any] | None = None
    close_code: int | None = None
    body: str = ""


@dataclass(frozen=True)
class AppView:
    """The app's own routes, reached directly (not through HAProxy)."""

    login_status: int
    login: dict[str, Any]
    asked: Asked
    asked_without_token: Asked
    health_status: int
    health: dict[str, Any]


async def ask_directly(token: str | None) -> Asked:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        async with connect(ASK_URL, additional_headers=headers, open_timeout=5) as websocket:
            await websocket.send(QUESTION)
            reply = json.loads(await asyncio.wait_for(websocket.recv(), 5))
            if "error" not in reply:
                return Asked(101, reply)
            try:  # after an error, the app closes: with which code?
                await asyncio.wait_for(websocket.recv(), 5)
            except ConnectionClosed as closed:
                return Asked(101, reply, closed.rcvd.code if closed.rcvd else 1006)
            return Asked(101, reply)
    except InvalidStatus as refused:
        body = bytes(refused.response.body or b"").decode()
        return Asked(refused.response.status_code, body=body)


async def read_app(lab: Lab) -> AppView:
    credentials = {"user": DEMO_USER, "password": lab.require_state().demo_password}
    # A token signed with the lab's key: asking is checked even when login cannot work.
    token = issue_token(DEMO_USER, lab.require_state().token_key.encode())
    async with httpx.AsyncClient(base_url=APP_URL, timeout=10) as client:
        login, health = await asyncio.gather(
            client.post("/login", json=credentials), client.get("/health/infrastructure")
        )
    asked, without_token = await asyncio.gather(ask_directly(token), ask_directly(None))
    return AppView(
        login.status_code, login.json(), asked, without_token, health.status_code, health.json()
    )


def app_view(lab: Lab) -> AppView:
    return lab.inside(lambda: asyncio.run(read_app(lab)))


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in document["components"] if entry["name"] == name)


def lab_outputs(lab: Lab, out: Path) -> tuple[CliResult, CliResult, CliResult, str]:
    """``diagnose --json``, ``diagnose`` (text) and ``report`` (Markdown), run side by side."""
    prefix = tuple(lab.namespace_prefix)
    stack = str(lab.paths.stack)
    text = ("diagnose", stack, "--color", "never")
    report = ("report", stack, "--out", str(out))
    with ThreadPoolExecutor(3) as runs:
        json_run = runs.submit(lab_diagnose, lab)
        text_run = runs.submit(run_cli_process, *text, prefix=prefix)
        report_run = runs.submit(run_cli_process, *report, prefix=prefix)
        return json_run.result(), text_run.result(), report_run.result(), out.read_text()


def test_the_healthy_golden_path_passes_every_step(lab: Lab) -> None:
    view = app_view(lab)
    result = lab_diagnose(lab)

    # The app's routes: a signed token for the right password, an answer for it, 403 without.
    assert view.login_status == 200
    assert view.login["user"] == DEMO_USER
    assert view.login["token"].startswith(TOKEN_PREFIX)
    assert view.asked == Asked(101, {"answer": "42"})
    assert view.asked_without_token.status == 403
    assert view.health_status == 200
    assert view.health["status"] == "pass"
    # The flow through HAProxy: every step passes, each on its own ladder.
    assert result.status == 0, result.out
    flow = component(result.json(), GOLDEN_PATH)
    assert (flow["kind"], flow["status"], flow["failed_step"]) == ("flow", "healthy", None)
    steps = [(step["name"], step["ok"], step.get("status_code")) for step in flow["steps"]]
    assert steps == [("login", True, 200), ("ask", True, 101), ("logout", True, 200)]
    layers = {step["name"]: [phase["layer"] for phase in step["phases"]] for step in flow["steps"]}
    assert layers["login"] == ["dns", "tcp", "tls", "http"]
    assert layers["ask"] == ["dns", "tcp", "websocket"]
    assert_no_lab_secrets(lab, result.out)


def test_wrong_credentials_and_forged_tokens_are_refused(lab: Lab) -> None:
    async def refusals() -> tuple[int, int, int, Asked, Asked]:
        async with httpx.AsyncClient(base_url=APP_URL, timeout=10) as client:
            wrong = await client.post("/login", json={"user": DEMO_USER, "password": "wrong"})
            unknown = await client.post("/login", json={"user": "nobody", "password": "x"})
            logout = await client.post("/logout", headers={"Authorization": "Bearer nonsense"})
        forged = issue_token(DEMO_USER, b"not the lab's key")
        return (
            wrong.status_code,
            unknown.status_code,
            logout.status_code,
            await ask_directly(forged),
            await ask_directly("labtok_garbage"),
        )

    wrong, unknown, logout, forged, garbage = lab.inside(lambda: asyncio.run(refusals()))

    assert (wrong, unknown, logout) == (401, 401, 401)
    assert (forged.status, garbage.status) == (403, 403)
    assert "bearer token" in forged.body


def test_the_four_faults_of_issue_8_are_lab_scenarios() -> None:
    for name, (step, cause, code, owner) in FLOW_FAULTS.items():
        expected = SCENARIOS[name].expected
        assert (expected.flow_step, expected.component, expected.code, expected.owner) == (
            step,
            cause,
            code,
            owner,
        ), name


@pytest.mark.parametrize("name", sorted(FLOW_FAULTS))
def test_a_fault_stops_the_golden_path_at_its_step(lab: Lab, name: str, tmp_path: Path) -> None:
    step, cause, code, owner = FLOW_FAULTS[name]
    lab.break_scenario(name)
    try:
        view = app_view(lab)
        haproxy = lab.haproxy_servers()
        result, text, report, markdown = lab_outputs(lab, tmp_path / "report.md")
    finally:
        lab.fix()

    document = result.json()
    assert result.status == 1
    assert document["status"] == "down"  # the golden path is critical
    assert [
        (entry["component"], entry["code"], entry["owner"]) for entry in document["root_causes"]
    ] == [(cause, code, owner)]
    flow = component(document, GOLDEN_PATH)
    assert (flow["status"], flow["failed_step"]) == ("down", step)
    steps = {entry["name"]: entry for entry in flow["steps"]}
    assert steps[step]["ok"] is False
    if step == "ask":
        assert steps["login"]["ok"] is True  # the token was captured, then used
        assert steps["logout"]["ok"] is True  # cleanup runs after a failed step
    if name == "cache-down":  # the app's last word before the close is evidence
        assert "the answer cache failed" in steps["ask"]["phases"][-1]["detail"]
    if cause != GOLDEN_PATH:
        assert flow["code"] == "dependency.failed"
    # The app's own view agrees with the scenario's claim.
    _assert_app_view(name, view, haproxy)
    # Secrets: neither the token the flow captured nor the demo password in any output.
    assert text.status == 1, text.err
    assert GOLDEN_PATH in text.out
    assert report.status in (0, 1), report.err
    assert cause in markdown
    assert code in markdown
    for output in (result.out, text.out, markdown):
        assert_no_lab_secrets(lab, output)


def _assert_app_view(name: str, view: AppView, haproxy: dict[str, str]) -> None:
    if name == "postgres-hung":
        # Directly, login answers 503 with the app's JSON error; asking needs no database.
        assert view.login_status == 503
        assert "the user database failed" in view.login["error"]
        assert view.asked == Asked(101, {"answer": "42"})
    elif name == "cache-down":
        # Login works; the answer cache fails: an error, then close 1011. The document only
        # warns (HTTP 200), so HAProxy keeps the app in rotation.
        assert view.login_status == 200
        assert view.asked.status == 101
        assert view.asked.reply is not None
        assert "the answer cache failed" in view.asked.reply["error"]
        assert view.asked.close_code == 1011
        assert (view.health_status, view.health["status"]) == (200, "warn")
        (check,) = view.health["checks"]["cache:responseTime"]
        assert (check["status"], check["faultCode"]) == ("fail", "tcp.refused")
        assert haproxy == {"api/app": "UP", "websocket/app": "UP"}
    elif name == "haproxy-no-healthy-backend":
        # The app is fine; only HAProxy's health check is wrong.
        assert view.login_status == 200
        assert view.asked == Asked(101, {"answer": "42"})
        assert haproxy["api/app"] == "DOWN"
    else:  # ws-upgrade-refused: the upgrade is answered 503 by the app itself
        assert view.login_status == 200
        assert view.asked.status == 503
        assert "refuses" in json.loads(view.asked.body)["error"]
        assert view.health_status == 200
