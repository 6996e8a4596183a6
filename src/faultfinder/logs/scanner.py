"""Scan a stream of log bytes for the catalogue's signatures and for unknown errors.

Blocks of raw bytes go through one prefilter search each (``engine``): most lines of a log are
noise that holds none of the keywords, and they are never decoded, split or parsed. Only a
line the prefilter hits is parsed (``records``) and classified (``signatures``).

Two things need the lines around a hit:

- a Python traceback (``tracebacks``): a chain of them is one event, under the code of its
  outermost exception a signature names ("Error -3 connecting to …", with that line as the
  evidence), else ``app.traceback``. A trace cut by the end of a block waits for the next one.
- a line without its own time (a traceback's exception line) takes the time of the nearest
  line above it that has one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from faultfinder.classify.engine import Searcher, compile_bytes
from faultfinder.classify.signatures import (
    TRACEBACK_HEADER,
    TRACEBACK_LINKS,
    classify,
    prefilter_source,
)
from faultfinder.logs.codes import TRACEBACK, code_of
from faultfinder.logs.prefixes import STAMP_BYTES
from faultfinder.logs.records import (
    MAX_TEXT,
    Record,
    message_says_error,
    own_timed_plain,
    parse_line,
    plain_message,
    stamped_plain,
)
from faultfinder.logs.times import LEADING_ISO_BYTES, leading_iso_time, parse_timestamp
from faultfinder.logs.tracebacks import Trace, read_chain

MAX_LINE = 1 << 20  # a longer line is scanned in pieces of this size
MAX_PENDING = 8 << 20  # a traceback still open after this much is counted as it stands
LOOKBACK_LINES = 100  # how far up a line without a time looks for one
REPEATED_TEXT = 400  # a stamped line's rest up to this long is remembered with its outcome
REPEATED_TEXTS = 4096  # how many (the memory is bounded: all are forgotten at once past this)
# What a rest makes of its line: its text, severity, code, its own time when that wins over
# the runtime's (a time with a zone at the start of the message), and its labels (shared by
# the records of that rest; no reader changes a record's labels).
Outcome = tuple[str, str | None, str | None, datetime | None, Mapping[str, str]]
_DROPPED: Outcome = ("", None, None, None, {})  # a remembered rest whose line is dropped
# A request log's 5xx ("status": 503 in its httpRequest): what the access log says of an outage,
# at whatever severity the entry was written.
FAILED_REQUEST = r'"status" ?: ?"?5[0-9][0-9]\b'


@dataclass(frozen=True)
class Event:
    """A line the scan kept: ``code`` is its fault code, or None for an unknown error."""

    code: str | None
    record: Record


@dataclass(frozen=True)
class Window:
    """``--since``/``--until``; a record without a time is kept (it cannot be ruled out)."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, when: datetime | None) -> bool:
        if when is None:
            return True
        return (self.since is None or when >= self.since) and (
            self.until is None or when <= self.until
        )

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None


@cache
def prefilter(use_re2: bool = True) -> tuple[Searcher, str]:
    return compile_bytes(f"{prefilter_source()}|{FAILED_REQUEST}", use_re2=use_re2)


class Scanner:
    """One source's scan: ``feed`` it blocks of bytes, then ``finish``; events go to ``emit``."""

    def __init__(
        self,
        source: str,
        emit: Callable[[Event], None],
        *,
        labels: Mapping[str, str] | None = None,
        window: Window = Window(),
        codes: frozenset[str] = frozenset(),
        use_re2: bool = True,
    ) -> None:
        self.source = source
        self.labels = dict(labels or {})
        self.window = window
        self._windowed = window.active
        self.codes = codes  # only these codes (and no unknown errors) when given
        self.emit = emit
        self.search, engine = prefilter(use_re2)
        self._lower = engine == "re"  # Python's re searches lower-cased text
        self.lines = 0  # lines consumed so far
        self.bytes = 0
        self.untimed = 0  # kept events that had no time while a window was set
        self._pending = b""
        self._last_time: datetime | None = None
        self._lookback_misses = 0
        # What a line behind a runtime's time turned out to be, by the rest of the line: an
        # incident repeats the same lines with only the time changing (``_repeated``).
        self._outcomes: dict[bytes, Outcome] = {}
        self._stamp = b""
        self._stamp_time: datetime | None = None
        # The same for a plain line that starts with its own ISO time (Python's logging,
        # PostgreSQL, gunicorn), by the rest after that time.
        self._own_outcomes: dict[bytes, Outcome] = {}
        self._own = b""
        self._own_time: datetime | None = None

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        buffer = self._pending + data if self._pending else data
        limit = buffer.rfind(b"\n") + 1
        if limit == 0:
            if len(buffer) < MAX_LINE:
                self._pending = buffer
                return
            limit = len(buffer)  # one huge line: scan this piece of it on its own
        consumed = self._scan(buffer, limit, final=len(buffer) > MAX_PENDING)
        self._pending = buffer[consumed:]

    def finish(self) -> None:
        if self._pending:
            self._scan(self._pending, len(self._pending), final=True)
            if not self._pending.endswith(b"\n"):
                self.lines += 1  # the last line, without its newline
            self._pending = b""

    def entry(self, code: str | None, record: Record) -> None:
        """A whole entry parsed elsewhere (an element of a JSON array): no lines around it."""
        self._emit(code, record)

    def _scan(self, buffer: bytes, limit: int, *, final: bool) -> int:
        """Handle the lines in ``buffer[:limit]``; how many bytes were consumed."""
        position = counted = 0
        consumed = limit
        haystack = buffer.lower() if self._lower else buffer
        while position < limit:
            hit = self.search(haystack, position, limit)
            if hit is None:
                break
            start = buffer.rfind(b"\n", 0, hit[0]) + 1
            end = buffer.find(b"\n", hit[1], limit)
            end = limit if end < 0 else end
            self.lines += buffer.count(b"\n", counted, start)
            counted = start
            following = self._line(buffer, start, end, limit, hit[0], final=final)
            if following is None:  # a traceback that goes on past the block
                consumed = start
                break
            position = following
        self.lines += buffer.count(b"\n", counted, consumed)
        if consumed:  # the next block's lines without a time look back into this one
            self._last_time = self._latest_time(buffer, consumed) or self._last_time
        return consumed

    def _line(
        self, buffer: bytes, start: int, end: int, limit: int, hit: int, *, final: bool
    ) -> int | None:
        """Handle the hit line ``buffer[start:end]``; where to search next (None: wait)."""
        stamp = STAMP_BYTES.match(buffer, start, end)
        rest = own_rest = b""
        if stamp is not None and end - stamp.end() <= REPEATED_TEXT:
            rest = buffer[stamp.end() : end]
            outcome = self._outcomes.get(rest)
            if outcome is not None and self._repeated(outcome, stamp.group(1)):
                return end + 1
        elif stamp is None:
            own = LEADING_ISO_BYTES.match(buffer, start, end)
            # no prefix is peeled off a line that starts with "[" or whose date and time a
            # space parts: its rest alone says what it is
            if (
                own is not None
                and end - own.end() <= REPEATED_TEXT
                and (buffer[start] == 0x5B or buffer[start + 10] == 0x20)
            ):
                own_rest = buffer[own.end() : end]
                outcome = self._own_outcomes.get(own_rest)
                if outcome is not None and self._repeated_own(outcome, own.group(0)):
                    return end + 1
        if end - start > MAX_TEXT:  # a huge line: the part around the hit
            start_text = max(start, hit - MAX_TEXT // 2)
            raw = buffer[start_text : min(end, start_text + MAX_TEXT)]
        else:
            raw = buffer[start:end]
        message = plain_message(raw)
        known = None if message is None else (message, classify(message))
        if known is not None and self._drop(*known):
            if rest:  # the same rest behind another time: dropped the same
                self._remember(self._outcomes, rest, _DROPPED)
            elif own_rest:
                self._remember(self._own_outcomes, own_rest, _DROPPED)
            return end + 1
        record = self._timed(self._parse(raw), buffer, start)
        text = record.text
        if text.lstrip().startswith(TRACEBACK_LINKS):
            return end + 1
        code, record = code_of(record, known)
        header = record.text == text and "\n" not in text and TRACEBACK_HEADER in text
        if code == TRACEBACK and header:  # a traceback written line by line follows
            trace = read_chain(buffer, end + 1, limit, self._text_of, final=final)
            if trace is None:
                return None
            self._traceback(buffer, start, record, trace)
            return trace.end
        if rest and not record.details:
            plain, own_time = stamped_plain(raw)
            if plain:
                outcome = (record.text, record.severity, code, own_time, record.labels)
                self._remember(self._outcomes, rest, outcome)
        elif (
            own_rest
            and not record.details
            and record.labels is self.labels
            and own_timed_plain(raw)
        ):
            outcome = (record.text, record.severity, code, None, record.labels)
            self._remember(self._own_outcomes, own_rest, outcome)
        self._emit(code, record)
        return end + 1

    def _repeated(self, outcome: Outcome, stamp: bytes) -> bool:
        """Handle a line whose rest (after its runtime's time, ``stamp``) was seen before: its
        record is that one's with this line's time and number. False when the stamp is no
        time (the line is read in full)."""
        if outcome is _DROPPED:
            return True
        if stamp != self._stamp:
            self._stamp, self._stamp_time = stamp, parse_timestamp(stamp.decode("ascii"))
        if self._stamp_time is None:
            return False
        text, severity, code, own_time, labels = outcome
        when = own_time or self._stamp_time
        self._last_time = when
        self._emit(code, Record(self.source, self.lines + 1, text, when, severity, labels))
        return True

    def _repeated_own(self, outcome: Outcome, prefix: bytes) -> bool:
        """``_repeated`` for a line that starts with its own ISO time, ``prefix``."""
        if outcome is _DROPPED:
            return True
        if prefix != self._own:
            self._own, self._own_time = prefix, leading_iso_time(prefix.decode("ascii"))
        when = self._own_time
        if when is None:
            return False
        text, severity, code, _, labels = outcome
        self._last_time = when
        self._emit(code, Record(self.source, self.lines + 1, text, when, severity, labels))
        return True

    @staticmethod
    def _remember(outcomes: dict[bytes, Outcome], rest: bytes, outcome: Outcome) -> None:
        if len(outcomes) >= REPEATED_TEXTS:
            outcomes.clear()
        outcomes[rest] = outcome

    def _traceback(self, buffer: bytes, start: int, header: Record, trace: Trace) -> None:
        """A chain of tracebacks is one event: under the code of its outermost exception that a
        signature names (with that line as evidence), else ``app.traceback``."""
        for line_start, line_end, exception in reversed(trace.exceptions):
            code = classify(exception)
            if code not in (None, "app.traceback"):
                number = self.lines + 1 + buffer.count(b"\n", start, line_start)
                record = parse_line(buffer[line_start:line_end], self.source, number, self.labels)
                self._emit(code, self._timed(record, buffer, line_start))
                return
        last = trace.exceptions[-1][2] if trace.exceptions else ""
        text = f"{header.text.strip()} … {last}" if last else header.text.strip()
        self._emit("app.traceback", dataclasses.replace(header, text=text))

    def _text_of(self, raw: bytes) -> str:
        return parse_line(raw, self.source, 0, self.labels).text

    def _drop(self, message: str, code: str | None) -> bool:
        """Whether a plain line (``code`` its message's) can be dropped without parsing it: most
        prefilter hits are noise ("timeout set to 30s" at INFO), and building their times is
        the costly part."""
        if code is None:
            return bool(self.codes) or not message_says_error(message)
        return bool(self.codes) and code not in self.codes

    def _timed(self, record: Record, buffer: bytes, start: int) -> Record:
        if record.time is None:
            return dataclasses.replace(record, time=self._time_above(buffer, start))
        self._last_time = record.time
        return record

    def _emit(self, code: str | None, record: Record) -> None:
        if code is None:
            if self.codes or not (record.is_error or record.failed_request):
                return
        elif self.codes and code not in self.codes:
            return
        if not self._windowed:
            self.emit(Event(code, record))
            return
        if not self.window.contains(record.time):
            return
        if record.time is None:
            self.untimed += 1
        self.emit(Event(code, record))

    def _parse(self, raw: bytes) -> Record:
        return parse_line(raw, self.source, self.lines + 1, self.labels)

    def _time_above(self, buffer: bytes, start: int) -> datetime | None:
        """The time of the nearest line above ``start`` that has one: in this block, else the
        last one the previous blocks had."""
        if self._lookback_misses < 50:  # a log without times: stop looking
            when = self._latest_time(buffer, start)
            if when is not None:
                self._lookback_misses = 0
                self._last_time = when
                return when
            self._lookback_misses += 1
        return self._last_time

    def _latest_time(self, buffer: bytes, start: int) -> datetime | None:
        """The time of the nearest of the ``LOOKBACK_LINES`` lines above ``start`` that has one."""
        end = start - 1
        for _ in range(LOOKBACK_LINES):
            if end < 0:
                return None
            line_start = buffer.rfind(b"\n", 0, end) + 1
            when = parse_line(buffer[line_start:end], self.source, 0, self.labels).time
            if when is not None:
                return when
            end = line_start - 1
        return None
