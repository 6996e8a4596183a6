"""The consoles faultfinder prints through: what servers, files and logs say is shown as text.

rich reads ``[bold]`` in a string as markup and ``:smile:`` as an emoji; a server's error
saying ``[/]`` raised MarkupError and ended the whole diagnosis. Nothing faultfinder prints is
written as markup (styles are given as ``Text`` styles), so both are off.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


def console(**options: Any) -> Console:
    """A rich ``Console`` (``options`` as rich takes them) that reads no markup or emoji."""
    return Console(markup=False, emoji=False, **options)
