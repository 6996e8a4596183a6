"""Read a Python traceback that a log wrote line by line: where its exception lines are, and
where it ends, chained tracebacks ("During handling of the above exception …") included.

A traceback is a header line, indented frames, then the exception line: the first line after
the header that is not indented. A chain repeats that, joined by one of ``TRACEBACK_LINKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faultfinder.classify.signatures import TRACEBACK_HEADER, TRACEBACK_LINKS

TRACE_LINES = 400  # frames longer than this: the trace is taken to end without its exception
CHAIN = 10  # tracebacks in one chain, at most


@dataclass(frozen=True)
class Trace:
    exceptions: tuple[tuple[int, int, str], ...]  # (start, end, text) per exception, inner first
    end: int  # where the chain ends: the next position to scan


def read_chain(
    buffer: bytes, position: int, limit: int, text_of: Callable[[bytes], str], *, final: bool
) -> Trace | None:
    """The chain whose first header ends just before ``position``; None when ``buffer[:limit]``
    ends inside it and more may come (not ``final``)."""
    exceptions: list[tuple[int, int, str]] = []
    for _ in range(CHAIN):
        exception = _exception_line(buffer, position, limit, text_of)
        if exception is None:
            return Trace(tuple(exceptions), limit) if final else None
        if not exception[2]:  # no exception line within TRACE_LINES
            return Trace(tuple(exceptions), exception[0])
        exceptions.append(exception)
        position = exception[1] + 1
        link = _next_line(buffer, position, limit, text_of)
        if link is None:
            return Trace(tuple(exceptions), limit) if final else None
        if not link[2].lstrip().startswith(TRACEBACK_LINKS):
            return Trace(tuple(exceptions), position)
        header = _next_line(buffer, link[1] + 1, limit, text_of)
        if header is None:
            return Trace(tuple(exceptions), limit) if final else None
        if TRACEBACK_HEADER not in header[2]:
            return Trace(tuple(exceptions), header[0])
        position = header[1] + 1
    return Trace(tuple(exceptions), position)


def _exception_line(
    buffer: bytes, position: int, limit: int, text_of: Callable[[bytes], str]
) -> tuple[int, int, str] | None:
    for _ in range(TRACE_LINES):
        if position >= limit:
            return None
        end = _end_of_line(buffer, position, limit)
        text = text_of(buffer[position:end])
        if text.strip() and not text[0].isspace() and TRACEBACK_HEADER not in text:
            return position, end, text.strip()
        position = end + 1
    return position, position, ""


def _next_line(
    buffer: bytes, position: int, limit: int, text_of: Callable[[bytes], str]
) -> tuple[int, int, str] | None:
    """The next line with any text on it; None when the block ends first."""
    while position < limit:
        end = _end_of_line(buffer, position, limit)
        text = text_of(buffer[position:end])
        if text.strip():
            return position, end, text
        position = end + 1
    return None


def _end_of_line(buffer: bytes, position: int, limit: int) -> int:
    end = buffer.find(b"\n", position, limit)
    return limit if end < 0 else end
