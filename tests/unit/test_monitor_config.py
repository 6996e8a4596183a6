"""The stack-file keys of ``watch``: intervals, flap thresholds, ``alerts:`` and ``history:``."""

from __future__ import annotations

import pytest

from faultfinder import ConfigError, parse_stack
from faultfinder.clock import parse_duration
from faultfinder.monitor.store import default_store_url, store_url

COMPONENTS = """\
components:
  api:
    url: http://127.0.0.1:8080/health
    interval: 5s
    failure_threshold: 1
  cache:
    url: redis://127.0.0.1:6379/0
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack(text, "stack.yaml", {})
    return str(caught.value)


def test_defaults_are_gatus_like_and_a_component_overrides_them() -> None:
    stack = parse_stack(COMPONENTS, "s.yaml", {})
    api, cache = stack.components["api"], stack.components["cache"]
    assert (api.interval, api.failure_threshold, api.success_threshold) == (5.0, 1, 2)
    assert (cache.interval, cache.failure_threshold, cache.success_threshold) == (30.0, 3, 2)
    assert stack.alerts == ()
    assert stack.history.raw_retention == 2 * 86400
    assert stack.history.retention == 90 * 86400
    assert stack.history.rollup == 3600


def test_the_defaults_section_sets_every_component() -> None:
    text = "defaults:\n  interval: 250ms\n  failure_threshold: 5\n  success_threshold: 4\n"
    stack = parse_stack(text + COMPONENTS, "s.yaml", {})
    cache = stack.components["cache"]
    assert (cache.interval, cache.failure_threshold, cache.success_threshold) == (0.25, 5, 4)
    assert stack.components["api"].interval == 5.0


def test_days_are_a_duration_unit() -> None:
    assert parse_duration("7d") == 7 * 86400
    stack = parse_stack(
        COMPONENTS + "history:\n  raw_retention: 1d\n  retention: 30d\n", "s.yaml", {}
    )
    assert (stack.history.raw_retention, stack.history.retention) == (86400, 30 * 86400)


def test_alerts_of_each_type_parse_and_a_command_string_is_split_without_a_shell() -> None:
    text = COMPONENTS + (
        "alerts:\n"
        "  - type: webhook\n"
        "    url: http://127.0.0.1:9/hook\n"
        "    headers: {Authorization: Bearer tok-123}\n"
        "    resend: 30m\n"
        "  - type: slack\n"
        "    url: https://hooks.slack.example/services/T1/B2/sekrit\n"
        "    send_resolved: false\n"
        "    components: [api]\n"
        "  - type: command\n"
        "    command: notify-team --urgent 'on call'\n"
    )
    stack = parse_stack(text, "s.yaml", {})
    webhook, slack, command = stack.alerts
    assert webhook.resend == 1800.0
    assert webhook.send_resolved is True
    assert slack.components == ["api"]
    assert slack.send_resolved is False
    assert command.command == ["notify-team", "--urgent", "on call"]
    # a header value and a Slack URL's token path are secrets, masked in every output
    assert "Bearer tok-123" in stack.secrets
    assert "services/T1/B2/sekrit" in stack.secrets


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("alerts:\n  - type: webhook\n", "stack.yaml:9: alerts.0: a webhook alert needs `url`"),
        (
            "alerts:\n  - type: command\n    url: http://x\n",
            "stack.yaml:9: alerts.0: a command alert needs `command`",
        ),
        (
            "alerts:\n  - type: email\n    url: x\n",
            "stack.yaml:9: alerts.0.type: Input should be 'webhook', 'slack' or 'command'",
        ),
        (
            "alerts:\n  - type: slack\n    url: http://x\n    colour: red\n",
            "stack.yaml:11: alerts.0.colour: unknown key",
        ),
        (
            "alerts:\n  - type: webhook\n    url: http://x\n    components: [api, nope]\n",
            "stack.yaml:11: alerts.0.components: names no component: 'nope'",
        ),
        (
            "history:\n  retention: 1w\n",
            "stack.yaml:9: history.retention: '1w' is not a duration like 250ms, 3s or 1m",
        ),
        ("history:\n  keep: 3d\n", "stack.yaml:9: history.keep: unknown key"),
    ],
)
def test_bad_watch_keys_name_file_line_and_key(extra: str, message: str) -> None:
    assert _error(COMPONENTS + extra) == message


def test_bad_thresholds_and_intervals_name_their_component() -> None:
    text = "components:\n  a:\n    url: tcp://127.0.0.1:1\n    failure_threshold: 0\n"
    assert _error(text) == (
        "stack.yaml:4: components.a.failure_threshold: Input should be greater than or equal to 1"
    )
    text = "components:\n  a:\n    url: tcp://127.0.0.1:1\n    interval: soon\n"
    assert _error(text) == (
        "stack.yaml:4: components.a.interval: 'soon' is not a duration like 250ms, 3s or 1m"
    )


def test_the_store_defaults_to_a_file_beside_the_stack_and_paths_are_relative_to_it() -> None:
    stack = parse_stack(COMPONENTS, "/srv/stacks/staging.yaml", {})
    assert default_store_url(stack) == "sqlite:///srv/stacks/staging.history.db"
    assert store_url(stack) == "sqlite:///srv/stacks/staging.history.db"
    assert store_url(stack, "/tmp/h.db") == "sqlite:///tmp/h.db"
    in_file = parse_stack(COMPONENTS + "history:\n  store: data/h.db\n", "/srv/s.yaml", {})
    assert store_url(in_file) == "sqlite:///srv/data/h.db"
    shared = parse_stack(
        COMPONENTS + "history:\n  store: postgresql://ff:${PGPW}@127.0.0.1/history\n",
        "/srv/s.yaml",
        {"PGPW": "pw-42"},
    )
    assert store_url(shared) == "postgresql://ff:pw-42@127.0.0.1/history"
    assert "pw-42" in shared.secrets
