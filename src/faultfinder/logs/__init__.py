"""Log evidence: failure signatures in logs, named with the probes' fault codes.

``collect`` scans sources (files, gzip, stdin, a growing file) into a ``Summary``; its
``document()`` is the ``faultfinder.logs/v1`` JSON of ``faultfinder logs --json``
(docs/logs.md). ``signatures.classify`` names one message's fault code.
"""

from __future__ import annotations

from faultfinder.classify.signatures import classify
from faultfinder.logs.collection import collect
from faultfinder.logs.scanner import Event, Window
from faultfinder.logs.summary import Attribution, Summary

__all__ = ["Attribution", "Event", "Summary", "Window", "classify", "collect"]
