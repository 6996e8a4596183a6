"""One JSON array of log entries (what ``gcloud logging read --format=json`` prints), read an
entry at a time: memory holds one entry and one block, whatever the array's size.

Read whole, a 1.5 MB gzip file of one array grew to 4 GB of Python objects. Here each entry is
decoded from a text buffer as soon as it is complete; an entry over ``MAX_ENTRY_CHARS``, or
text that is no JSON array, stops the reading with ``NotAnArray``, which carries the bytes not
yet read as entries, so the caller scans them as lines.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

MAX_ENTRY_CHARS = 1 << 20  # one entry of an array; Cloud Logging caps a LogEntry at 256 KB
_WHITESPACE = " \t\n\r"
_NUMBER_GOES_ON = "0123456789+-.eE"


class NotAnArray(Exception):
    """The array stops being one: ``reason``, and ``rest``, the bytes from there on."""

    def __init__(self, reason: str, rest: Iterator[bytes]) -> None:
        super().__init__(reason)
        self.rest = rest


class _Text:
    """The blocks decoded as UTF-8 (a character split between blocks waits for its end)."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.buffer = ""
        self.at = 0
        self.ended = False

    def more(self) -> bool:
        """Read one more block into the buffer, dropping what was read; False at the end."""
        block = next(self.blocks, None)
        if block is None:
            self.ended = True
            return False
        self.buffer = self.buffer[self.at :] + self.decoder.decode(block)
        self.at = 0
        return True

    def skip_whitespace(self) -> str:
        """The next character after whitespace ("" at the end of the text)."""
        while True:
            while self.at < len(self.buffer) and self.buffer[self.at] in _WHITESPACE:
                self.at += 1
            if self.at < len(self.buffer) or not self.more():
                return self.buffer[self.at : self.at + 1]

    def rest(self) -> Iterator[bytes]:
        """The bytes from the reading position on, for a scan as lines."""
        pending = self.buffer[self.at :].encode("utf-8", "replace")
        pending += self.decoder.getstate()[0]  # the start of a character split between blocks
        if pending:
            yield pending
        yield from self.blocks


def entries(first: bytes, blocks: Iterator[bytes]) -> Iterator[Any]:
    """Each element of the array that starts ``first``; raises ``NotAnArray`` where it stops
    being one. Whatever follows the closing ``]`` is not read."""
    text = _Text(_chain(first, blocks))
    decoder = json.JSONDecoder()
    if text.skip_whitespace() != "[":
        raise NotAnArray("it does not start with '['", text.rest())
    text.at += 1
    if text.skip_whitespace() == "]":
        return
    while True:
        yield _entry(text, decoder)
        separator = text.skip_whitespace()
        if separator == "]":
            return
        if separator != ",":
            found = repr(separator) if separator else "the end"
            raise NotAnArray(f"expected ',' or ']' after an entry, found {found}", text.rest())
        text.at += 1
        text.skip_whitespace()


def _entry(text: _Text, decoder: json.JSONDecoder) -> Any:
    """The next entry, reading more blocks until it is complete."""
    while True:
        try:
            value, end = decoder.raw_decode(text.buffer, text.at)
        except json.JSONDecodeError as error:
            # An entry cut by the block's end fails too: read on, up to the size one entry may
            # have, before calling it wrong.
            if len(text.buffer) - text.at <= MAX_ENTRY_CHARS and text.more():
                continue
            cut = error.pos >= len(text.buffer) - 1 or "Unterminated string" in error.msg
            if cut and not text.ended:
                reason = f"an entry over {MAX_ENTRY_CHARS >> 20} MiB"
            else:
                reason = f"{error.msg} (character {error.pos - text.at} of an entry)"
            raise NotAnArray(reason, text.rest()) from None
        except RecursionError:
            raise NotAnArray("an entry nested past any depth", text.rest()) from None
        # A number cut by the block's end ("12|34", "2.5|e10") reads as a shorter one.
        if _may_go_on(value, text.buffer, end) and text.more():
            continue
        text.at = end
        return value


def _may_go_on(value: Any, buffer: str, end: int) -> bool:
    """Whether a number may go on past ``end`` (containers and strings end with their mark)."""
    if isinstance(value, dict | list | str):
        return False
    return end >= len(buffer) or buffer[end] in _NUMBER_GOES_ON


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
