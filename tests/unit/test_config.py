"""Stack files: the contract's example parses; bad input is one line naming file:line:key."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultfinder import ConfigError, load_stack, parse_stack
from faultfinder.clock import parse_duration
from faultfinder.redact import redact_url

CONTRACT_EXAMPLE = """\
version: 1
name: staging
defaults:
  timeout: 3s
components:
  lb:
    url: https://api.staging.example.com/health
    expect: {status: 200}
    via: [backend]
    category: load_balancer
    critical: true
  backend:
    url: http://10.0.0.12:8080/health/infrastructure
    depends_on: [postgres, redis]
    health: true
  postgres:
    url: postgresql://app@db.internal:5432/app
  redis:
    url: redis://redis.internal:6379/0
  ws:
    url: wss://api.staging.example.com/ws
    via: [backend]
  api_dns:
    url: dns://api.staging.example.com
  smtp:
    url: tcp://mail.internal:25
  edge_cert:
    url: tls://api.staging.example.com:443
"""


def test_contract_example_parses_with_kinds_ports_and_defaults() -> None:
    stack = parse_stack(CONTRACT_EXAMPLE, "staging.yaml", {})
    kinds = {name: component.kind for name, component in stack.components.items()}
    assert kinds == {
        "lb": "https",
        "backend": "http",
        "postgres": "postgresql",
        "redis": "redis",
        "ws": "wss",
        "api_dns": "dns",
        "smtp": "tcp",
        "edge_cert": "tls",
    }
    assert stack.name == "staging"
    assert stack.components["lb"].spec.expect.status == [200]
    assert stack.components["lb"].spec.critical is True
    assert stack.components["postgres"].port == 5432
    assert stack.components["ws"].port == 443
    assert stack.components["backend"].timeout == 3.0
    assert stack.components["backend"].spec.depends_on == ["postgres", "redis"]


def test_postgres_alias_and_rediss_are_known_schemes() -> None:
    text = "components:\n  a: {url: 'postgres://u@h/db'}\n  b: {url: 'rediss://h:6380'}\n"
    stack = parse_stack(text, "s.yaml", {})
    assert stack.components["a"].kind == "postgresql"
    assert stack.components["b"].kind == "rediss"
    assert stack.components["b"].port == 6380


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("250ms", 0.25), ("3s", 3.0), ("1m", 60.0), ("1.5s", 1.5), (2, 2.0), ("2h", 7200.0)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["3 parsecs", "fast", "-1s", "0s", True, ""])
def test_bad_durations_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(value)


def _error(text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_stack(text, "stack.yaml", environ or {})
    return caught.value


def test_unknown_key_names_file_line_and_key() -> None:
    error = _error("components:\n  lb:\n    url: http://a\n    expect: {statuss: 200}\n")
    assert str(error) == "stack.yaml:4: components.lb.expect.statuss: unknown key"


def test_unknown_top_level_key() -> None:
    error = _error("components: {}\nfrobnicate: 1\n")
    assert (error.line, error.key) == (2, "frobnicate")


def test_bad_duration_names_its_line() -> None:
    error = _error("defaults:\n  timeout: soon\ncomponents:\n  a: {url: 'tcp://h:1'}\n")
    assert (error.line, error.key) == (2, "defaults.timeout")
    assert "duration" in error.reason


def test_unknown_scheme_names_the_url_line() -> None:
    error = _error("components:\n  a:\n    url: gopher://h:70\n")
    assert (error.line, error.key) == (3, "components.a.url")
    assert "unknown scheme 'gopher'" in error.reason


@pytest.mark.parametrize(
    ("request_keys", "key", "reason"),
    [
        (
            'headers: {X-Note: "a\\r\\nX-Injected: 1"}',
            "components.a.headers",
            "the value of header 'X-Note' holds a line break",
        ),
        ('headers: {"X Note": ok}', "components.a.headers", "'X Note' is not a header name"),
        ("method: GET /admin", "components.a.method", "is not an HTTP method"),
    ],
)
def test_a_request_http_cannot_carry_is_refused_at_load(
    request_keys: str, key: str, reason: str
) -> None:
    error = _error(f"components:\n  a:\n    url: http://h\n    {request_keys}\n")
    assert (error.line, error.key) == (4, key)
    assert reason in error.reason
    assert "Injected" not in str(error)  # a value may be a secret: never echoed


def test_dangling_reference_names_the_item_line() -> None:
    error = _error(
        "components:\n  a:\n    url: http://h\n    depends_on:\n      - b\n      - nope\n"
        "  b: {url: 'tcp://h:1'}\n"
    )
    assert (error.line, error.key) == (6, "components.a.depends_on")
    assert "'nope'" in error.reason


def test_dependency_cycle_is_named() -> None:
    error = _error(
        "components:\n  a: {url: 'http://h', depends_on: [b]}\n"
        "  b: {url: 'http://h', via: [c]}\n  c: {url: 'http://h', depends_on: [a]}\n"
    )
    assert error.reason == "dependency cycle: a -> b -> c -> a"
    assert error.line == 2


def test_missing_environment_variable_is_named() -> None:
    error = _error("components:\n  db:\n    url: postgresql://u:${DB_PASSWORD}@h/db\n")
    assert (error.line, error.key) == (3, "components.db.url")
    assert "DB_PASSWORD" in error.reason


def test_environment_values_are_substituted_and_secret_ones_remembered() -> None:
    text = (
        "components:\n  db:\n    url: postgresql://app:${DB_PASSWORD}@${DB_HOST}/app\n"
        "  api:\n    url: https://api/x?token=${T}\n    headers: {Authorization: 'Bearer ${B}'}\n"
    )
    stack = parse_stack(
        text,
        "s.yaml",
        {"DB_PASSWORD": "pw-1", "DB_HOST": "db.internal", "T": "tok-2", "B": "bear-3"},
    )
    assert stack.components["db"].host == "db.internal"
    assert stack.components["db"].display_url == "postgresql://app:***@db.internal/app"
    assert stack.components["api"].display_url == "https://api/x?token=***"
    assert {"pw-1", "tok-2", "bear-3"} <= stack.secrets
    assert "db.internal" not in stack.secrets


def test_not_yaml_names_the_line() -> None:
    error = _error("components:\n  a: {url: 'http://h'\n  b: [\n")
    assert error.line is not None
    assert error.reason.startswith("not valid YAML")


def test_duplicate_keys_are_rejected() -> None:
    error = _error("components:\n  a: {url: 'tcp://h:1'}\n  a: {url: 'tcp://h:2'}\n")
    assert "duplicate key 'a'" in error.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]\n", "a stack file is a mapping"),
        ("name: x\n", "required key is missing"),
        ("version: 2\ncomponents: {}\n", "only version 1 is known"),
        ("components:\n  a: {url: 'http://'}\n", "the URL has no host"),
        ("components:\n  a: {url: 'tcp://h:99999'}\n", "not a valid URL"),
        ("components:\n  a: {url: 'http://h', depends_on: [a]}\n", "cannot depend on itself"),
    ],
)
def test_other_bad_files(text: str, reason: str) -> None:
    assert reason in _error(text).reason


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read the stack file"):
        load_stack(tmp_path / "missing.yaml")


def test_redact_url_masks_password_and_secret_query_values() -> None:
    assert redact_url("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert redact_url("https://h/p?api_key=abc&page=2") == "https://h/p?api_key=***&page=2"
    assert redact_url("http://h/p") == "http://h/p"


def test_a_component_needs_a_url_or_a_flow() -> None:
    error = _error("components:\n  a:\n    critical: true\n")
    assert (error.line, error.key) == (2, "components.a")
    assert error.reason == "a component needs `url` (or `flow`)"


def test_request_keys_beside_a_flow_belong_in_its_steps() -> None:
    text = (
        "components:\n  a:\n    method: POST\n    json: {x: 1}\n"
        "    flow:\n      steps: [{url: 'http://h/'}]\n"
    )
    error = _error(text)
    assert error.key == "components.a"
    assert error.reason == "a flow takes `json`, `method` in its steps, not beside `flow`"


def test_a_flow_without_timeout_gets_its_steps_together_and_secrets_are_kept() -> None:
    text = (
        "defaults: {timeout: 2s}\ncomponents:\n  golden:\n    flow:\n"
        "      variables: {user: ada, api_token: s3cr3t-value}\n"
        "      steps:\n"
        "        - {url: 'http://h/a', headers: {X-Key: literal-key-value}}\n"
        "        - {url: 'http://h/b', timeout: 5s}\n"
        "      cleanup: [{url: 'http://h/c'}]\n"
    )
    stack = parse_stack(text, "stack.yaml", {})
    golden = stack.components["golden"]
    assert (golden.kind, golden.timeout) == ("flow", 9.0)
    assert golden.display_url == "flow: step1 → step2"
    assert {"s3cr3t-value", "literal-key-value"} <= stack.secrets
    assert "ada" not in stack.secrets
