"""Who gets a health document's details: bearer tokens, a configured header, networks."""

from __future__ import annotations

import pytest

from faultfinder.health._access import Access

TOKEN = "t0ken-4f9a"


def test_nobody_gets_details_when_nothing_is_configured() -> None:
    access = Access.of()

    assert not access.allows({"authorization": f"Bearer {TOKEN}"}, "127.0.0.1")
    assert not access.allows({"authorization": "Bearer "}, None)


@pytest.mark.parametrize(
    ("authorization", "allowed"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"Bearer  {TOKEN} ", True),
        (f"Bearer {TOKEN}x", False),
        (f"Basic {TOKEN}", False),
        ("Bearer", False),
        ("", False),
    ],
)
def test_bearer_token(authorization: str, allowed: bool) -> None:
    access = Access.of(tokens=[TOKEN, "other-token"])

    assert access.allows({"authorization": authorization}, "203.0.113.9") is allowed


def test_configured_header_with_its_value() -> None:
    access = Access.of(headers={"X-Health-Key": TOKEN})

    assert access.allows({"x-health-key": TOKEN}, None)
    assert not access.allows({"x-health-key": "wrong"}, None)
    assert not access.allows({"x-other": TOKEN}, None)
    assert not access.allows({"authorization": f"Bearer {TOKEN}"}, None)


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        ("10.1.2.3", True),
        ("127.0.0.1", True),
        ("::ffff:10.9.9.9", True),
        ("fd00::1", True),
        ("11.0.0.1", False),
        ("::1", False),
        ("testclient", False),
        (None, False),
    ],
)
def test_allowed_networks(client: str | None, allowed: bool) -> None:
    access = Access.of(networks=["10.0.0.0/8", "127.0.0.1", "fd00::/8"])

    assert access.allows({}, client) is allowed


def test_a_bad_network_is_refused_when_configured() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        Access.of(networks=["10.0.0.0/33"])


def test_tokens_and_header_values_are_secrets() -> None:
    access = Access.of(tokens=[TOKEN], headers={"X-Health-Key": "h3ader-value"})

    assert access.secrets() == {TOKEN, "h3ader-value"}
