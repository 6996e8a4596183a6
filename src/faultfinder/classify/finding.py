"""What a classifier concludes: a fault code, the detail for its rung, the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A fault code with the short detail for its phase and the evidence line behind it."""

    code: str
    detail: str
    evidence: str = ""
