"""``faultfinder serve``'s command line: the parser and ``--listen``."""

from __future__ import annotations

import pytest

from faultfinder.cli import build_parser
from faultfinder.cli.serve import parse_listen
from faultfinder.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9180", ("127.0.0.1", 9180)),
        (":9180", ("0.0.0.0", 9180)),
        ("[::1]:9180", ("::1", 9180)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["localhost", "127.0.0.1:http", "127.0.0.1:70000", ""])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(UsageError, match="is not HOST:PORT"):
        parse_listen(text)


def test_serve_is_a_command_with_watch_s_options() -> None:
    args = build_parser().parse_args(["serve", "stack.yaml", "--no-alerts", "--agent", "eu"])
    assert (args.command, args.stack, args.no_alerts, args.no_history) == (
        "serve",
        "stack.yaml",
        True,
        False,
    )
    assert (args.agent, args.listen, args.refresh) == ("eu", "127.0.0.1:9180", "5s")
    assert build_parser().parse_args(["serve"]).stack is None  # /probe only
