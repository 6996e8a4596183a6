"""Shared test set-up: server fixtures come from the modules of ``tests.servers``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from faultfinder.eventloop import loop_factory

pytest_plugins = [
    "tests.servers.fixtures",
]


def pytest_asyncio_loop_factories(
    config: Any, item: Any
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """In-process async tests run on the loop the commands use (faultfinder.eventloop)."""
    return {"loop": loop_factory() or asyncio.new_event_loop}


def pytest_report_header(config: Any) -> str:
    """The fuzzers' seed and size, so a failing run can be run again exactly."""
    from tests.unit.test_config_fuzz import EXAMPLES, SEED

    return f"stack-file fuzzer: seed {SEED} (FAULTFINDER_FUZZ_SEED), {EXAMPLES:,} examples"
