"""The lab app's password hashes, bearer tokens and answers, tested with data (no lab needed)."""

from __future__ import annotations

import pytest

from faultfinder_lab.accounts import (
    TOKEN_LIFETIME,
    TOKEN_PREFIX,
    bearer,
    hash_password,
    issue_token,
    verify_password,
    verify_token,
)
from faultfinder_lab.answers import answer_to

KEY = b"the lab's signing key"


def test_a_password_hash_verifies_only_its_password_and_never_holds_it() -> None:
    stored = hash_password("s3cret-Pa55")

    assert stored.startswith("scrypt$")
    assert "s3cret-Pa55" not in stored
    assert verify_password("s3cret-Pa55", stored)
    assert not verify_password("s3cret-pa55", stored)
    assert not verify_password("s3cret-Pa55", "not a hash")
    assert hash_password("same") != hash_password("same")  # salted


def test_a_token_names_its_user_until_it_expires() -> None:
    token = issue_token("demo", KEY, now=1_000_000.0)

    assert token.startswith(TOKEN_PREFIX)
    assert verify_token(token, KEY, now=1_000_000.0) == "demo"
    assert verify_token(token, KEY, now=1_000_000.0 + TOKEN_LIFETIME + 1) is None


@pytest.mark.parametrize(
    "token",
    [
        issue_token("demo", b"another key"),
        issue_token("demo", KEY)[:-2] + "xx",
        TOKEN_PREFIX + "garbage",
        "",
        "Bearer",
    ],
    # Fixed ids: the issued tokens carry the time, and xdist workers must collect the same names.
    ids=["other-key", "bad-signature", "garbage", "empty", "bare-scheme"],
)
def test_forged_or_malformed_tokens_name_no_user(token: str) -> None:
    assert verify_token(token, KEY) is None


def test_bearer_reads_the_authorization_header() -> None:
    assert bearer("Bearer labtok_abc") == "labtok_abc"
    assert bearer("bearer  labtok_abc ") == "labtok_abc"
    assert bearer("Basic dXNlcg==") == ""
    assert bearer(None) == ""


@pytest.mark.parametrize(
    ("question", "answer"),
    [("6 x 7", "42"), ("6*7?", "42"), ("2 + 3", "5"), ("10 - 4", "6"), ("hi", "you asked: hi")],
)
def test_answers_are_deterministic(question: str, answer: str) -> None:
    assert answer_to(question) == answer
