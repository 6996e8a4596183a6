"""``faultfinder logs --events``: one JSON object per line with a fault code, written as the line
is found (JSON Lines), so a pipeline can act on each one while the scan goes on.

Nothing is kept per event: memory stays flat whatever the log's size. The text is an
example's (``summary.example``): on one line, secrets masked, cut at 400 characters.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from faultfinder.faults import FAULTS
from faultfinder.logs.records import Record
from faultfinder.logs.scanner import Event, Window
from faultfinder.logs.summary import Attribution, SourceStats, example
from faultfinder.redact import INLINE, Redactor


class EventLines:
    """Collects into ``out`` as ``collect`` scans: one line per event with a code."""

    def __init__(
        self,
        out: TextIO,
        attribution: Attribution,
        redactor: Redactor = INLINE,
        window: Window | None = None,
    ) -> None:
        self.out = out
        self.attribution = attribution
        self.redactor = redactor
        self.window = window or Window()
        self.sources: list[SourceStats] = []
        self.untimed = 0
        self.matched = 0

    def add(self, event: Event) -> None:
        if event.code is None:  # an unknown error or a failed request: no code, no owner
            return
        self.matched += 1
        line = self.line(event.code, event.record)
        self.out.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        self.out.flush()  # a reader acts on each line as it comes

    def line(self, code: str, record: Record) -> dict[str, Any]:
        """``{code, component, line, owner, source, text, time}`` for one line."""
        shown = example(record, self.attribution.component(record), self.redactor)
        return {**shown, "code": code, "owner": str(FAULTS[code].owner)}
