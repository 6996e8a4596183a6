"""Can this machine run the lab? Checked before any of the lab's machinery is imported, so the
answer is one line even where that machinery would not load."""

from __future__ import annotations

import os
import shutil
import sys

from faultfinder_lab.errors import LabUnavailable


def check_environment(command: str = "faultfinder lab demo") -> None:
    """Raise LabUnavailable (one line, with what to run instead) when the lab cannot run here."""
    if not sys.platform.startswith("linux"):
        raise LabUnavailable(
            f"the lab needs Linux network namespaces; run `sudo {command}` on a Linux host or VM"
        )
    if os.geteuid() != 0:
        raise LabUnavailable(
            f"the lab needs root to create network namespaces; run `sudo {command}` "
            "(or `sudo make demo`)"
        )
    if shutil.which("ip") is None:
        raise LabUnavailable("the lab needs iproute2's `ip`: install it (run `make setup`)")
