"""Every stack file, however broken, is a ``Stack`` or one ``ConfigError`` line: never a
traceback, never a second line, never a substituted secret in the message.

Seeded: hypothesis runs from ``SEED`` (printed in pytest's header; ``FAULTFINDER_FUZZ_SEED``
sets another), so every run with the same seed tries the same examples, and a failure prints
the example that made it. ``FAULTFINDER_FUZZ_EXAMPLES`` asks for more (the CI runs 5,000;
``FAULTFINDER_FUZZ_EXAMPLES=100000`` is the long run, by hand).
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from faultfinder.config import parse_stack
from faultfinder.errors import ConfigError

EXAMPLES = int(os.environ.get("FAULTFINDER_FUZZ_EXAMPLES", "5000"))
SEED = int(os.environ.get("FAULTFINDER_FUZZ_SEED", "20261204"))
SECRET = "Fuzz-Secret-7788"
ENVIRON = {"DB_PASSWORD": SECRET, "PORT": "5432", "EMPTY": ""}

# The values people and tools put in stack files, and the ones that broke it before.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "3s",
            "250ms",
            "0s",
            "-1s",
            "1y",
            "${DB_PASSWORD}",
            "${MISSING}",
            "${PORT}",
            "tcp://127.0.0.1:9",
            "http://[::1/x",
            "http://[abc]/",
            "redis://h:0",
            "tcp://h",
            "postgresql://u:${DB_PASSWORD}@/db?host=/cloudsql/p:r:i",
            "unix:///run/x.sock",
            "http+unix://%2Frun%2Fa.sock/h",
            "tcp://exa\x00mple:1",
            "a\nFAKE: all healthy",
            "https://h/${DB_PASSWORD}",
            "ftp://h",
            "",
            " ",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)
component_keys = st.sampled_from(
    [
        "url",
        "timeout",
        "expect",
        "via",
        "depends_on",
        "category",
        "critical",
        "health",
        "tls",
        "method",
        "headers",
        "body",
        "json",
        "send",
        "within",
        "write",
        "command",
        "query",
        "interval",
        "failure_threshold",
        "success_threshold",
        "flow",
        "colour",
    ]
)
components = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.dictionaries(component_keys, values, max_size=5),
    max_size=4,
)
documents = st.fixed_dictionaries(
    {"components": components},
    optional={
        "version": values,
        "name": values,
        "defaults": st.dictionaries(
            st.sampled_from(["timeout", "tls", "interval", "failure_threshold"]), values
        ),
        "validation": st.dictionaries(
            st.sampled_from(["repetitions", "pass_rate", "consecutive", "p95_ms", "interval"]),
            values,
        ),
        "alerts": st.lists(st.dictionaries(st.sampled_from(["type", "url", "command"]), values)),
    },
)


def render(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


def assert_one_line_or_a_stack(text: str) -> None:
    try:
        parse_stack(text, "fuzz.yaml", ENVIRON)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message, message
        assert "\r" not in message, message
        assert message.startswith("fuzz.yaml"), message
        assert SECRET not in message, message


@settings(
    max_examples=EXAMPLES,
    database=None,  # seeded: nothing to remember between runs
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@seed(SEED)
@given(documents)
def test_a_generated_stack_file_is_a_stack_or_one_line(document: dict[str, Any]) -> None:
    assert_one_line_or_a_stack(render(document))


@settings(
    max_examples=max(EXAMPLES // 5, 100),
    database=None,  # seeded: nothing to remember between runs
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@seed(SEED)
@given(documents, st.data())
def test_a_damaged_stack_file_is_a_stack_or_one_line(document: dict[str, Any], data: Any) -> None:
    """The rendered file, cut and spliced with YAML's own punctuation (and a few deep nests)."""
    text = render(document)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    splice = data.draw(
        st.sampled_from(
            [
                "",
                "[",
                "]",
                "{",
                "}",
                ":",
                "&a ",
                "*a",
                "!!float x",
                "\t",
                "\x00",
                "- ",
                "[" * 200,
                "{a: " * 100,
                "!!python/object:os.system ",
                "<<: *a",
            ]
        )
    )
    assert_one_line_or_a_stack(text[:cut] + splice + text[cut:])
