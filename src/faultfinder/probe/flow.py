"""``flow:`` components: a golden path of steps, each climbed like a component (flow/run.py)."""

from __future__ import annotations

from faultfinder.flow.run import run_flow as probe

__all__ = ["probe"]
