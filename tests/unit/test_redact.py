"""Secrets never survive the redactor, whatever text they hide in."""

from __future__ import annotations

import pytest

from faultfinder.redact import INLINE, Redactor


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("connect to postgresql://app:hunter2@db/app failed", "hunter2"),
        ("Error connecting to redis://:S3cret-pw@cache:6379/0", "S3cret-pw"),  # no user name
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


def test_every_form_of_a_stack_secret_is_masked() -> None:
    """A percent-encoded URL password (the only way to write one with @ or /) in both forms,
    the bare token of a Bearer header, and what a Basic header encodes."""
    from faultfinder.config import parse_stack

    text = (
        "components:\n"
        "  db: {url: 'postgresql://app:PgPw%40Enc-1212@db.internal/app'}\n"
        "  api: {url: 'https://api.internal/', headers: {Authorization: 'Bearer tok-9f3a7c'}}\n"
        "  old: {url: 'https://old.internal/',\n"
        "        headers: {Authorization: 'Basic YWRtaW46QmFzaWMtUHctNDQ='}}\n"
    )
    stack = parse_stack(text, "s.yaml", {})
    echoed = (
        "login as app with PgPw@Enc-1212 (PgPw%40Enc-1212); the page said: invalid token "
        "tok-9f3a7c; admin:Basic-Pw-44 YWRtaW46QmFzaWMtUHctNDQ="
    )
    masked = stack.redactor(echoed)
    for secret in (
        "PgPw@Enc-1212",
        "PgPw%40Enc-1212",
        "tok-9f3a7c",
        "Basic-Pw-44",
        "YWRtaW46QmFzaWMtUHctNDQ=",
    ):
        assert secret not in masked, masked


def test_a_config_error_never_quotes_a_substituted_secret() -> None:
    from faultfinder.config import parse_stack
    from faultfinder.errors import ConfigError

    text = "defaults: {timeout: '${DB_PASSWORD}'}\ncomponents: {}\n"
    with pytest.raises(ConfigError) as raised:
        parse_stack(text, "s.yaml", {"DB_PASSWORD": "FuzzDbPw-7788"})
    assert "FuzzDbPw-7788" not in str(raised.value)
    assert "defaults.timeout" in str(raised.value)


def test_a_password_the_prober_reads_from_the_environment_is_masked() -> None:
    """A URL without a password leaves it to libpq's PGPASSWORD, which the prober reads: the
    value is a secret of the stack though the file never names it."""
    from faultfinder.config import parse_stack

    text = "components:\n  db: {url: 'postgresql://app@db.internal/app'}\n"
    stack = parse_stack(text, "s.yaml", {"PGPASSWORD": "EnvPgPw-3141"})
    assert stack.redactor("password EnvPgPw-3141 was refused") == "password *** was refused"
