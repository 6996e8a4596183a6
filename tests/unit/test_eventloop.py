"""Every command runs on one loop: uvloop (a dependency here), or asyncio's when asked."""

from __future__ import annotations

import asyncio

import pytest

from faultfinder import eventloop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_commands_run_on_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAULTFINDER_LOOP", raising=False)
    assert eventloop.run(_loop_module()).startswith("uvloop")


def test_faultfinder_loop_asyncio_rules_uvloop_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTFINDER_LOOP", "asyncio")
    assert eventloop.loop_factory() is None
    assert eventloop.run(_loop_module()).startswith("asyncio")


async def test_in_process_tests_share_the_commands_loop() -> None:
    # FAULTFINDER_LOOP=asyncio runs the whole suite on asyncio's loop instead
    expected = "uvloop" if eventloop.loop_factory() else "asyncio"
    assert (await _loop_module()).startswith(expected)
