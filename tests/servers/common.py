"""Fixtures every test can use: a stack-file writer and the CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from faultfinder.cli import main

StackWriter = Callable[..., Path]


@pytest.fixture
def write_stack(tmp_path: Path) -> StackWriter:
    """Write a stack file from a components dict (or raw text) and return its path."""

    def write(
        components: dict[str, Any] | None = None,
        *,
        text: str | None = None,
        name: str = "test",
        timeout: str = "2s",
        **extra: Any,
    ) -> Path:
        path = tmp_path / f"{name}.yaml"
        if text is None:
            document = {
                "version": 1,
                "name": name,
                "defaults": {"timeout": timeout},
                "components": components or {},
                **extra,
            }
            text = yaml.safe_dump(document, sort_keys=False)
        path.write_text(text)
        return path

    return write


class CliResult:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)  # type: ignore[no-any-return]

    def component(self, name: str) -> dict[str, Any]:
        return next(c for c in self.json()["components"] if c["name"] == name)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``faultfinder`` in-process with arguments; returns status, stdout, stderr."""

    def run(*args: str) -> CliResult:
        status = main(list(args))
        captured = capsys.readouterr()
        return CliResult(status, captured.out, captured.err)

    return run


def run_cli_process(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), timeout: float = 60
) -> CliResult:
    """Run ``faultfinder`` as a subprocess (for namespaces: ``prefix=('ip','netns','exec',ns)``)."""
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "faultfinder", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
