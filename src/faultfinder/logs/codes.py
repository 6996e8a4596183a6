"""The fault code a record means: its message's, else the first its error fields give.

A structured entry's message may say only "request failed", or say it at level info, while its
``err``/``exception`` field holds "Error -3 connecting to redis:6379": the code is the field's,
and the record's text becomes the message and the line of the field that gave it, so the
examples show the evidence. A multi-line field (a stack) is read a line at a time from its
end: a Python traceback ends with its outermost exception, the one the scanner counts too.
"""

from __future__ import annotations

import dataclasses

from faultfinder.classify.signatures import TRACEBACK_HEADER, classify
from faultfinder.logs.records import Record

TRACEBACK = "app.traceback"  # the code of a trace no other signature names: the weakest
FIELD_LINES = 400  # lines of one field read, from its end


def code_of(
    record: Record, known: tuple[str, str | None] | None = None
) -> tuple[str | None, Record]:
    """The record's code (None when nothing names one), and the record to count under it;
    ``known`` is a text already classified and its code (the scanner's look at a line)."""
    code = known[1] if known is not None and known[0] == record.text else classify(record.text)
    if not record.details or code not in (None, TRACEBACK):
        return code, record
    traced: Record | None = None
    for detail in record.details:
        found, line = _field_code(detail)
        if found is not None and found != TRACEBACK:
            return found, _with_evidence(record, line)
        if found == TRACEBACK and traced is None:
            traced = _with_evidence(record, line)
    if code is not None:
        return code, record
    if traced is not None:
        return TRACEBACK, traced
    if record.is_error:  # no code: the template shows what the error field says
        return None, _with_evidence(record, _telling_line(record.details[0]))
    return None, record


def _field_code(text: str) -> tuple[str | None, str]:
    """The code of one error field, and the line that carries it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return classify(text), text.strip()
    for line in reversed(lines[-FIELD_LINES:]):
        code = classify(line)
        if code is not None and code != TRACEBACK:
            return code, line
    if classify(text) == TRACEBACK:
        return TRACEBACK, f"{lines[0]} … {_telling_line(text)}"
    return None, lines[0]


def _telling_line(text: str) -> str:
    """The line of a field that says what failed: a Python traceback's last exception line,
    else the first line (a JavaScript or Java stack starts with its error)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if TRACEBACK_HEADER in text:
        unindented = [line for line in lines if not line[0].isspace()]
        return (unindented or lines)[-1].strip()
    return lines[0].strip()


def _with_evidence(record: Record, evidence: str) -> Record:
    """The record with its message and the evidence as its text ("request failed: Error -3 …")."""
    message = record.text.strip()
    if not evidence or evidence in message:
        return record
    text = evidence if not message or message in evidence else f"{message}: {evidence}"
    return dataclasses.replace(record, text=text)
