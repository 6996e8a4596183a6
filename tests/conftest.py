"""Shared test set-up: server fixtures come from the modules of ``tests.servers``."""

from __future__ import annotations

pytest_plugins = [
    "tests.servers.fixtures",
]
