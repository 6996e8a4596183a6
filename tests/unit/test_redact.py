"""Secrets never survive the redactor, whatever text they hide in."""

from __future__ import annotations

import pytest

from faultfinder.redact import INLINE, Redactor


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("connect to postgresql://app:hunter2@db/app failed", "hunter2"),
        ("GET /x?token=abc123&page=2", "abc123"),
        ("password=s3cr3t host=db", "s3cr3t"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("api_key=K-42 in query", "K-42"),
    ],
)
def test_inline_credentials_are_masked(text: str, hidden: str) -> None:
    scrubbed = INLINE(text)
    assert hidden not in scrubbed
    assert "***" in scrubbed


def test_known_secrets_are_masked_everywhere_longest_first() -> None:
    text = "pw is hunter22 and hunter2 and HUNTER22"
    assert Redactor({"hunter2", "hunter22"})(text) == "pw is *** and *** and HUNTER22"


def test_prose_with_secret_words_is_left_alone() -> None:
    text = "secret: NOAUTH or WRONGPASS: authentication rejected"
    assert INLINE(text) == text
