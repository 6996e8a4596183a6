"""The fault lab for tests: one lab per test session (per xdist worker), torn down at the end.

Each lab has a unique name (the pid and a random suffix), which is also its network namespace,
so workers running lab tests in parallel never meet. Scenario tests break and fix the shared
lab; ``Lab.fix`` waits until faultfinder sees it healthy again before the next test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from faultfinder_lab.accounts import TOKEN_PREFIX
from faultfinder_lab.control import Lab
from tests.servers.common import CliResult, run_cli_process

__all__ = ["lab"]


def unique_lab_name(kind: str = "lab") -> str:
    return f"ff-{kind}-{os.getpid()}-{secrets.token_hex(2)}"


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """A running lab, healthy at the start of every test that leaves it fixed."""
    running = Lab(unique_lab_name())
    running.up()
    try:
        yield running
    finally:
        running.down()


def lab_secrets(lab: Lab) -> dict[str, str]:
    """Every secret a lab holds, by name: none may appear in any output."""
    state = lab.require_state()
    return {
        "postgres_password": state.postgres_password,
        "redis_password": state.redis_password,
        "cache_password": state.cache_password,
        "demo_password": state.demo_password,
        "token_key": state.token_key,
    }


def assert_no_lab_secrets(lab: Lab, text: str) -> None:
    """Neither the lab's passwords nor a bearer token the golden path captured (``labtok_``)."""
    for name, secret in lab_secrets(lab).items():
        assert secret not in text, f"the {name} appears in the output"
    assert TOKEN_PREFIX not in text, "a captured token appears in the output"


def lab_diagnose(lab: Lab, *args: str) -> CliResult:
    """``faultfinder diagnose STACK --json`` as a user would run it: inside the lab."""
    return run_cli_process(
        "diagnose", str(lab.paths.stack), "--json", *args, prefix=tuple(lab.namespace_prefix)
    )
