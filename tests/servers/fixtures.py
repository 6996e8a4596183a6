"""Every server fixture module, in one place, so test files need no imports for fixtures."""

from __future__ import annotations

# Each module below defines pytest fixtures; importing them here makes pytest see them.
from tests.servers.common import *  # noqa: F403
