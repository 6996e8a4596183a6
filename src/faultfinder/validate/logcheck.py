"""``log_absent``: scan the given logs for the codes a fix must have made disappear.

The scan reuses ``faultfinder logs`` (its sources, signatures and time window); this only asks
it for the listed codes and turns their tallies into criteria.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faultfinder.config import Stack
from faultfinder.model import Grade
from faultfinder.validate.model import Criterion

NOT_GIVEN = "not evaluated (give --logs SOURCE)"


@dataclass(frozen=True)
class LogTally:
    """How often one code appeared in the logs, and when first and last."""

    count: int
    first: str | None = None
    last: str | None = None


def log_document(
    stack: Stack,
    sources: Sequence[str],
    since: datetime.datetime | None = None,
    codes: Sequence[str] = (),
) -> dict[str, Any]:
    """``faultfinder logs --json`` over ``sources`` (only ``codes`` when given), redacted."""
    from faultfinder.logs import Attribution, Summary, Window, collect

    summary = Summary(Attribution(dict(stack.logs.components)), stack.redactor, Window(since=since))
    collect(sources, summary, codes=frozenset(codes))
    return summary.document()


def scan_logs(
    stack: Stack, codes: Sequence[str], sources: Sequence[str], since: datetime.datetime | None
) -> dict[str, LogTally]:
    """Every listed code's tally in ``sources`` from ``since`` on (0 for an absent code)."""
    document = log_document(stack, sources, since, codes)
    found = {entry["code"]: entry for entry in document["codes"]}
    return {
        code: LogTally(found[code]["count"], found[code]["first_seen"], found[code]["last_seen"])
        if code in found
        else LogTally(0)
        for code in codes
    }


def log_criteria(
    codes: Sequence[str], tallies: Mapping[str, LogTally] | None, since: str = ""
) -> list[Criterion]:
    """One ``log_absent`` criterion per code: it passes when the code never appears."""
    window = f" since {since}" if since else ""
    criteria = []
    for code in codes:
        expected = f"absent from the logs{window}"
        if tallies is None:
            criteria.append(Criterion("log_absent", code, expected, NOT_GIVEN, Grade.NOT_EVALUATED))
            continue
        tally = tallies[code]
        if tally.count == 0:
            actual, outcome = "0 lines", Grade.PASS
        else:
            seen = f", first {tally.first}, last {tally.last}" if tally.first else ""
            actual, outcome = f"{tally.count} lines{seen}", Grade.FAIL
        criteria.append(
            Criterion("log_absent", code, expected, actual, outcome, threshold=0, value=tally.count)
        )
    return criteria
