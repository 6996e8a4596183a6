"""Stack files that once crashed `check` or `diagnose`, or blew up in time and memory: each is
exit 2 with one line naming file:line:key now (issue 20's cases, in the order it lists them)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.servers.common import CliResult, StackWriter

BOMB = (
    'a: &a ["${X}","${X}","${X}","${X}","${X}","${X}","${X}","${X}","${X}"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefg", "bcdefgh", strict=True)
    )
    + "components: {}\n"
)
CHAIN = (
    "components:\n"
    + "".join(
        f"  c{index}: {{url: 'tcp://h:1', depends_on: [c{index + 1}]}}\n" for index in range(1000)
    )
    + "  c1000: {url: 'tcp://h:1'}\n"
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("components:\n  a: {url: 'http://[::1/x'}\n", "2: components.a.url: not a valid URL"),
        ("components:\n  a: {url: 'http://[abc]/'}\n", "2: components.a.url: not a valid URL"),
        ("components: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels"),
        ("defaults: {timeout: !!float abc}\ncomponents: {}\n", "1: not valid YAML: cannot read"),
        ("defaults: {timeout: " + "9" * 400 + "}\ncomponents: {}\n", "at most a year"),
        ("components:\n  a: {url: 'tcp://h:1', within: " + "9" * 400 + "}\n", "at most a year"),
        ("defaults: {timeout: .nan}\ncomponents: {}\n", "a number greater than zero"),
        ("defaults: {timeout: .inf}\ncomponents: {}\n", "at most a year"),
        ("validation: {pass_rate: .nan}\ncomponents: {}\n", "validation.pass_rate"),
        (
            'components:\n  a: {url: "tcp://h:1", "x\\nFAKE: all healthy": 1}\n',
            "components.a.x\\nFAKE: all healthy: unknown key",
        ),
        (BOMB, "more than 100,000 values once its YAML aliases are expanded"),
        ("components:\n  a: {url: 'tcp://127.0.0.1:0'}\n", "port 0 is no port"),
        ("components:\n  a: {url: 'tcp://127.0.0.1'}\n", "needs a port"),
        ('components:\n  a: {url: "tcp://exa\\0mple.com:80"}\n', "control character"),
    ],
)
def test_a_hostile_stack_file_is_one_line_and_exit_2(
    write_stack: StackWriter, run_cli: Any, text: str, says: str
) -> None:
    path = write_stack(text=text)
    started = time.perf_counter()
    result: CliResult = run_cli("check", str(path))
    took = time.perf_counter() - started
    assert result.status == 2, result.out
    (line,) = result.err.splitlines()
    assert line.startswith(f"faultfinder: error: {path}")
    assert says in line
    # the alias bomb took 46 s and 3.3 GB before its expansion was bounded; a few hundred ms
    # now, so 10 s leaves room for a machine many times as busy
    assert took < 10


def test_a_chain_of_a_thousand_dependencies_is_a_stack(
    write_stack: StackWriter, run_cli: Any
) -> None:
    result: CliResult = run_cli("check", str(write_stack(text=CHAIN)))
    assert result.status == 0, result.err
    assert "1001 components" in result.out


def test_a_thousand_long_cycle_is_found_without_recursion(
    write_stack: StackWriter, run_cli: Any
) -> None:
    cycle = CHAIN.replace("  c1000: {url: 'tcp://h:1'}", "  c1000: {url: 'tcp://h:1', via: [c0]}")
    result: CliResult = run_cli("check", str(write_stack(text=cycle)))
    assert result.status == 2
    assert "dependency cycle: c0 -> c1 -> c2" in result.err
