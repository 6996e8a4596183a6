"""The flow's pure parts: JSON paths, ``{name}`` templates and the answer check."""

from __future__ import annotations

import pytest

from faultfinder import jsonpath
from faultfinder.config.spec import Expect
from faultfinder.placeholders import fill, references
from faultfinder.probe._answer import mismatch

DOCUMENT = {"user": {"name": "ada", "roles": ["admin", "dev"]}, "odd key": 1, "n": 42}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", DOCUMENT),
        ("$.user.name", "ada"),
        ("$.user.roles[1]", "dev"),
        ("$.user.roles[-1]", "dev"),
        ('$["odd key"]', 1),
        ("$['user'].name", "ada"),
        ("$.n", 42),
    ],
)
def test_json_paths_find_one_value(path: str, value: object) -> None:
    assert jsonpath.find(DOCUMENT, path) == value


@pytest.mark.parametrize("path", ["$.missing", "$.user.roles[2]", "$.n.deeper", "$.user[0]"])
def test_a_path_that_leads_nowhere_is_missing_not_an_error(path: str) -> None:
    assert jsonpath.find(DOCUMENT, path) is jsonpath.MISSING


@pytest.mark.parametrize("path", ["user.name", "$.user..name", "$[*]", "$.a b"])
def test_anything_beyond_the_subset_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        jsonpath.parse(path)


def test_templates_fill_only_names_in_braces() -> None:
    variables = {"token": "t0k", "user": "ada"}
    body = '{"q": "{user}", "literal": {"a": 1}}'
    assert fill(body, variables) == '{"q": "ada", "literal": {"a": 1}}'
    assert fill({"h": ["Bearer {token}", 3]}, variables) == {"h": ["Bearer t0k", 3]}
    assert fill("{unknown}", variables) == "{unknown}"
    assert references({"a": ["{x}", "{y} {x}"], "b": '{"not": "a var"}'}) == {"x", "y"}


def test_the_answer_check_says_what_was_wrong() -> None:
    expect = Expect.model_validate({"json": {"$.answer": "42", "$.ok": True}})
    assert mismatch(expect, '{"answer": 42, "ok": true}') is None  # "42" reads as 42
    assert mismatch(expect, '{"answer": "41", "ok": true}') == (
        'has $.answer = "41", expected "42"'
    )
    assert mismatch(expect, '{"ok": true}') == "has no $.answer: '{\"ok\": true}'"
    assert mismatch(expect, "<html>") == "is not JSON: '<html>'"
    pong = Expect(match=r"^pong \d+$")
    assert mismatch(pong, "pong x") == "does not match /^pong \\d+$/: 'pong x'"
    assert mismatch(Expect(), "anything", substring="thing") is None
    assert mismatch(Expect(), "x" * 300, substring="y") == (f"does not contain 'y': '{'x' * 120}…'")
