"""Alerts on real state changes, received by a real HTTP server and a real command: the JSON
webhook, the Slack-shaped message, the command hook; resend while down; resolved on recovery."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faultfinder.config import Stack, load_stack
from faultfinder.monitor import Monitor, open_store
from tests.servers.monitor import SwitchableServer, WebhookReceiver, until

SLACK_PATH = "/services/T0001/B0002/tokentokentoken"
# The command hook under test: append each alert (event + JSON document) as a line to a file.
RECORD = (
    "import os, sys; "
    "open(sys.argv[1], 'a').write(os.environ['FAULTFINDER_EVENT'] + ' ' + sys.stdin.read() + '\\n')"
)


def alert_stack(
    write_stack: Callable[..., Path], target: SwitchableServer, alerts: list[dict[str, Any]]
) -> Stack:
    defaults = {
        "timeout": "1s",
        "interval": "100ms",
        "failure_threshold": 1,
        "success_threshold": 1,
    }
    components = {"api": {"url": f"tcp://127.0.0.1:{target.port}"}}
    return load_stack(write_stack(components, defaults=defaults, alerts=alerts))


def events(bodies: list[dict[str, Any]]) -> list[str]:
    return [body["event"] for body in bodies]


def command_lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        event, _, document = line.partition(" ")
        found.append((event, json.loads(document)))
    return found


async def test_down_resend_and_resolved_reach_webhook_slack_and_command(
    switchable_server: Callable[[], SwitchableServer],
    webhook_receiver: WebhookReceiver,
    write_stack: Callable[..., Path],
    tmp_path: Path,
) -> None:
    target = switchable_server()
    written = tmp_path / "alerts.log"
    stack = alert_stack(
        write_stack,
        target,
        [
            {"type": "webhook", "url": webhook_receiver.url("/hook"), "resend": "300ms"},
            {"type": "slack", "url": webhook_receiver.url(SLACK_PATH)},
            {"type": "command", "command": [sys.executable, "-c", RECORD, str(written)]},
        ],
    )
    monitor = Monitor(stack, agent="eu-1")
    await monitor.start()
    try:
        await until(lambda: len(monitor.recent("api")) >= 1)
        target.stop()
        await until(lambda: len(webhook_receiver.bodies("/hook")) >= 1, what="the down alert")
        down = webhook_receiver.bodies("/hook")[0]
        assert down["schema"] == "faultfinder.alert/v1"
        assert (down["event"], down["component"], down["agent"], down["stack"]) == (
            "down",
            "api",
            "eu-1",
            "test",
        )
        assert (down["status"], down["previous"], down["code"], down["layer"], down["owner"]) == (
            "down",
            "healthy",
            "tcp.refused",
            "tcp",
            "infrastructure",
        )
        assert down["summary"].startswith("api: nothing listens at that address and port")
        assert down["why"] == [
            "api fails at the tcp layer: tcp.refused — nothing listens at that address and port.",
            "Owner: infrastructure. Next step: Start the service or fix its listen address and "
            "port; check it did not crash.",
        ]
        assert [cause["code"] for cause in down["root_causes"]] == ["tcp.refused"]

        # still down: the webhook (resend 300ms) hears again, with the same outage id
        still = (await webhook_receiver.wait_for("/hook", lambda got: len(got) >= 2))[1]
        assert (still["event"], still["id"], still["code"]) == (
            "still_down",
            down["id"],
            "tcp.refused",
        )
        assert still["text"].startswith("[test] api is still DOWN after ")

        target.start()
        bodies = await webhook_receiver.wait_for(
            "/hook", lambda got: bool(got) and got[-1]["event"] == "resolved"
        )
        resolved = bodies[-1]
        assert (resolved["id"], resolved["status"], resolved["previous"], resolved["code"]) == (
            down["id"],
            "healthy",
            "down",
            None,
        )
        assert set(events(bodies[1:-1])) == {"still_down"}

        slack = await webhook_receiver.wait_for(SLACK_PATH, lambda got: len(got) >= 2)
        assert [message["text"] for message in slack] == [
            "[test] api is DOWN: tcp.refused — owner: infrastructure",
            slack[1]["text"],
        ]
        assert slack[1]["text"].startswith("[test] api recovered after ")
        attachment = slack[0]["attachments"][0]
        assert attachment["color"] == "#d00000"
        assert {"title": "Owner", "value": "infrastructure", "short": True} in attachment["fields"]
        assert attachment["text"].startswith("*Diagnosis:* api: nothing listens")
        assert "• api fails at the tcp layer: tcp.refused" in attachment["text"]
        assert slack[1]["attachments"][0]["color"] == "#2eb886"

        await until(
            lambda: [e for e, _ in command_lines(written)][-1:] == ["resolved"],
            what="the command hook's resolved",
        )
        hooked = command_lines(written)
        assert hooked[0][0] == "down"
        assert hooked[0][1]["why"] == down["why"]
        assert hooked[0][1]["id"] == hooked[-1][1]["id"] == down["id"]
    finally:
        await monitor.stop()
    assert monitor.alerts_sent[1] == 0


async def test_a_failing_receiver_is_logged_and_watching_goes_on(
    switchable_server: Callable[[], SwitchableServer],
    webhook_receiver: WebhookReceiver,
    write_stack: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = switchable_server()
    webhook_receiver.fail_with(500)
    stack = alert_stack(
        write_stack,
        target,
        [
            {"type": "webhook", "url": webhook_receiver.url("/hook")},
            {"type": "webhook", "url": webhook_receiver.url("/other"), "components": []},
        ],
    )
    caplog.set_level(logging.WARNING, "faultfinder.monitor")
    monitor = Monitor(stack, agent="eu-1")
    await monitor.start()
    try:
        target.stop()
        await until(lambda: monitor.alerts_sent[1] == 1, what="a failed delivery")
        seen = len(monitor.recent("api"))
        await until(lambda: len(monitor.recent("api")) > seen + 2, what="probing to go on")
    finally:
        await monitor.stop()
    assert len(webhook_receiver.bodies("/hook")) == 1
    assert webhook_receiver.bodies("/other") == []  # a channel for no component hears nothing
    assert "alert down for api not delivered: webhook http://127.0.0.1 answered 500" in caplog.text


async def test_after_a_restart_an_outage_is_not_announced_again_but_is_resolved(
    switchable_server: Callable[[], SwitchableServer],
    webhook_receiver: WebhookReceiver,
    write_stack: Callable[..., Path],
    tmp_path: Path,
) -> None:
    target = switchable_server()
    stack = alert_stack(
        write_stack, target, [{"type": "webhook", "url": webhook_receiver.url("/hook")}]
    )
    store = await open_store(f"sqlite://{tmp_path / 'history.db'}")
    try:
        first = Monitor(stack, store, agent="eu-1")
        await first.start()
        target.stop()
        (down,) = await webhook_receiver.wait_for("/hook", lambda got: len(got) >= 1)
        await first.stop()

        second = Monitor(stack, store, agent="eu-1")
        await second.start()
        try:
            await until(lambda: len(second.recent("api")) >= 3, what="three probes")
            assert webhook_receiver.bodies("/hook") == [down]
            target.start()
            bodies = await webhook_receiver.wait_for("/hook", lambda got: len(got) >= 2)
        finally:
            await second.stop()
    finally:
        await store.close()
    assert [(b["event"], b["id"]) for b in bodies] == [
        ("down", down["id"]),
        ("resolved", down["id"]),
    ]
