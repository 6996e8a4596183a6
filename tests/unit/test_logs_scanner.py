"""The scanner: tracebacks, times from the lines above, windows, block boundaries, templates and
hostile input. Pure: bytes in, events out."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from faultfinder.logs.scanner import MAX_LINE, Event, Scanner, Window
from faultfinder.logs.templates import TemplateMiner, mask

LOG = b"""\
2024-05-01 12:00:01,000 INFO app: started
2024-05-01 12:00:02,000 ERROR app: request failed
Traceback (most recent call last):
  File "/app/main.py", line 10, in handler
    r.ping()
redis.exceptions.ConnectionError: Error -3 connecting to redis.internal:6379. Temporary failure \
in name resolution.
2024-05-01 12:01:03,000 ERROR app: request failed
Traceback (most recent call last):
  File "/app/main.py", line 12, in handler
    raise KeyError("user_id")
KeyError: 'user_id'
2024-05-01 12:02:00,000 ERROR app: request failed
Traceback (most recent call last):
  File "/app/main.py", line 20, in handler
ConnectionRefusedError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/main.py", line 22, in handler
    raise RuntimeError("cache down")
RuntimeError: cache down
2024-05-01 12:03:00,000 WARNING app: retry timeout is 5s
postgresql://app:hunter22@db:5432/app connection timed out
"""


def scan(
    data: bytes, *, pieces: list[int] | None = None, **options: object
) -> tuple[list[Event], Scanner]:
    events: list[Event] = []
    scanner = Scanner("test.log", events.append, **options)  # type: ignore[arg-type]
    position = 0
    for size in pieces or [len(data)]:
        scanner.feed(data[position : position + size])
        position += size
    scanner.feed(data[position:])
    scanner.finish()
    return events, scanner


def summary(events: list[Event]) -> list[tuple[str | None, int, str | None, str]]:
    return [
        (
            e.code,
            e.record.line,
            e.record.time and e.record.time.strftime("%H:%M:%S"),
            e.record.text[:40],
        )
        for e in events
    ]


def test_tracebacks_count_once_under_the_most_telling_code() -> None:
    events, scanner = scan(LOG)
    assert scanner.lines == 24
    assert [(code, line, when) for code, line, when, _ in summary(events)] == [
        (None, 2, "12:00:02"),  # "request failed": an error no signature names
        ("dns.temporary_failure", 6, "12:00:02"),  # the exception line, its time from above
        (None, 7, "12:01:03"),
        ("app.traceback", 8, "12:01:03"),  # no signature names KeyError: the trace is the fault
        (None, 12, "12:02:00"),
        ("tcp.refused", 15, "12:02:00"),  # a chain is one event: its exception with a code
        ("tcp.timeout", 24, "12:03:00"),  # a line without a time takes the one above it
    ]
    trace = events[3].record.text
    assert trace == "Traceback (most recent call last): … KeyError: 'user_id'"


@pytest.mark.parametrize("size", [1, 7, 64, 333])
def test_block_boundaries_change_nothing(size: int) -> None:
    whole, scanner = scan(LOG)
    pieces = [size] * (len(LOG) // size + 1)
    split, split_scanner = scan(LOG, pieces=pieces)
    assert summary(split) == summary(whole)
    assert split_scanner.lines == scanner.lines


@pytest.mark.parametrize("seed", [7], ids=lambda seed: f"seed={seed}")
def test_random_block_boundaries_in_a_large_log(seed: int) -> None:
    chunks = random.Random(seed)
    data = LOG * 400
    pieces = [chunks.randint(1, 5000) for _ in range(len(data) // 2000)]
    whole, _ = scan(data)
    split, _ = scan(data, pieces=pieces)
    assert len(whole) == 7 * 400
    assert summary(split) == summary(whole)


def test_the_python_re_engine_finds_the_same() -> None:
    assert summary(scan(LOG * 3, use_re2=False)[0]) == summary(scan(LOG * 3)[0])


def test_window_and_codes() -> None:
    since = datetime(2024, 5, 1, 12, 1, tzinfo=UTC)
    until = datetime(2024, 5, 1, 12, 2, 30, tzinfo=UTC)
    events, _ = scan(LOG, window=Window(since, until))
    assert [e.record.line for e in events] == [7, 8, 12, 15]
    events, _ = scan(LOG, codes=frozenset({"tcp.refused", "tcp.timeout"}))
    assert [e.code for e in events] == ["tcp.refused", "tcp.timeout"]


def test_a_log_without_times_is_kept_and_counted_under_a_window() -> None:
    data = b"boot\nError 111 connecting to 127.0.0.1:1. Connection refused.\n"
    events, scanner = scan(data, window=Window(since=datetime(2024, 1, 1, tzinfo=UTC)))
    assert [(e.code, e.record.time) for e in events] == [("tcp.refused", None)]
    assert scanner.untimed == 1


@pytest.mark.parametrize("seed", [3], ids=lambda seed: f"seed={seed}")
def test_binary_garbage_does_not_stop_the_scan(seed: int) -> None:
    garbage = random.Random(seed).randbytes(3 << 20)
    data = (
        garbage
        + b"\nERROR Connection refused\n"
        + garbage
        + b"\x00\xff\nNOAUTH Authentication required.\n"
    )
    events, _ = scan(data)
    codes = [e.code for e in events if e.code]
    assert codes == ["tcp.refused", "redis.auth_failed"]


def test_a_ten_megabyte_line_is_scanned_in_pieces() -> None:
    huge = b"Error -3 connecting to a:1. " + b"x" * (10 << 20) + b" Connection refused\n"
    events, scanner = scan(
        huge + b"2024-05-01T12:00:00Z ERROR No route to host\n", pieces=[1 << 16] * 200
    )
    assert [e.code for e in events] == ["dns.temporary_failure", "tcp.refused", "tcp.unreachable"]
    assert scanner.lines == 2
    assert events[-1].record.line == 2
    assert all(len(e.record.text) <= MAX_LINE for e in events)


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    data = b"\xc3\x28 caf\xe9 \xff ERROR Connection reset by peer \xed\xa0\x80\n"
    events, _ = scan(data)
    assert [e.code for e in events] == ["tcp.reset"]
    assert "\ufffd" in events[0].record.text


def test_a_lone_surrogate_in_json_is_harmless() -> None:
    events, _ = scan(b'{"message": "\\ud800 Connection refused", "level": "error"}\n')
    assert [e.code for e in events] == ["tcp.refused"]


def test_deeply_nested_json_is_read_as_text() -> None:
    data = b'{"a":' * 100_000 + b'"ERROR Connection refused"' + b"}" * 100_000 + b"\n"
    events, _ = scan(data)
    assert [e.code for e in events] == ["tcp.refused"]


def test_a_traceback_cut_by_the_end_of_the_log_still_counts() -> None:
    events, _ = scan(b'Traceback (most recent call last):\n  File "x.py", line 1\n')
    assert [e.code for e in events] == ["app.traceback"]


@pytest.mark.parametrize("seed", range(8), ids=lambda seed: f"seed={seed}")
def test_random_bytes_never_crash(seed: int) -> None:
    # Every byte comes from the seed, which names the test: a failure replays exactly.
    generator = random.Random(seed)
    words = [
        b"Traceback (most recent call last):",
        b"\n",
        b"  ",
        b"{",
        b'"',
        b"ERROR",
        b"Connection refused",
        b"\xff",
        b"2024-05-01T12:00:00Z ",
        generator.randbytes(50),
    ]
    data = b"".join(generator.choice(words) for _ in range(1500))
    scan(data, pieces=[generator.randint(1, 900) for _ in range(50)])


def test_masks_and_templates() -> None:
    assert (
        mask(
            "2024-05-01T12:00:00Z user 42 at 10.0.0.5:6379 id=5f2a9c1e8b7d6a4f "
            "'alice' took 3.5ms 550e8400-e29b-41d4-a716-446655440000"
        )
        == "<TIME> user <NUM> at <IP> id=<HEX> <STR> took <NUM>ms <UUID>"
    )
    miner = TemplateMiner()
    for number in range(300):
        miner.add(f"payment failed for order {number}: card declined")
        miner.add(f"worker {number} lost heartbeat after {number * 3} s")
        miner.add(f"unexpected status {500 + number % 4} from ledger")
    assert sorted(t.text for t in miner.templates) == [
        "payment failed for order <NUM>: card declined",
        "unexpected status <NUM> from ledger",
        "worker <NUM> lost heartbeat after <NUM> s",
    ]
    bounded = TemplateMiner(max_templates=2)
    for word in ("alpha", "beta", "gamma", "delta"):
        bounded.add(f"{word} exploded")
        bounded.add(f"{word} {word} {word} {word}")
    assert len(bounded.templates) == 2
    assert bounded.overflow > 0


def test_templates_merge_differing_words() -> None:
    miner = TemplateMiner()
    for user in ("alice", "bob", "carol"):
        miner.add(f"login refused for {user} from the admin console")
    assert [t.text for t in miner.templates] == ["login refused for <*> from the admin console"]


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        # two apostrophes on a line once made one "string" of the words between them
        (
            "ERROR couldn't reach the ledger, it wasn't up",
            "ERROR couldn't reach the ledger, it wasn't up",
        ),
        (
            "the server's cache isn't warm: key 'user_id' missing",
            "the server's cache isn't warm: key <STR> missing",
        ),
        (
            "users' sessions dropped for 'eu-west' and 'us-east'",
            "users' sessions dropped for <STR> and <STR>",
        ),
        ("KeyError: 'user_id'", "KeyError: <STR>"),
        ("can't open \"/var/lib/app/it's.db\"", "can't open <STR>"),
    ],
)
def test_an_apostrophe_in_a_word_is_not_a_quote(message: str, masked: str) -> None:
    assert mask(message) == masked
    miner = TemplateMiner()
    miner.add(message)
    assert miner.templates[0].text == masked


# ``docker logs -t`` puts an RFC 3339 time in front of every line (Docker's docs:
# "2014-09-16T06:17:46.000000000Z"); the rests are real lines of the signature tests (redis-py,
# PostgreSQL, Python logging, nginx's error.log, syslog) and the keyword noise bench_logs.py
# writes.
_RESTS = (
    "ERROR app: redis.exceptions.ConnectionError: Error -3 connecting to redis.internal:6379. "
    "Temporary failure in name resolution.",
    "2024-05-01 12:00:00.123 UTC [81] FATAL:  sorry, too many clients already",  # its own time
    "2024-05-01 12:00:00,123 ERROR app: request failed",  # its own time, without a zone
    "2024/05/01 12:00:00 [error] 12#12: *3 no live upstreams while connecting to upstream",
    "May  1 12:00:00 db01 postgres[81]: FATAL:  sorry, too many clients already",  # syslog
    "stdout F ERROR app: request failed",  # the CRI format: a stream label
    '{"level": "error", "msg": "query failed", "error": "connect: connection refused"}',
    "INFO app.http: client timeout set to 30s for /api",  # noise: dropped
    "ERROR app: request failed",
    "WARNING app: retry timeout is 5s",
)
_STAMPS = (
    "2024-05-01T12:00:01Z",
    "2024-05-01T12:00:01.5Z",
    "2024-05-01T14:00:02.123456789+02:00",
    "2024-13-45T12:00:03Z",  # shaped like a time, but none: the whole line is read as it is
    "2024-05-01T12:01:00Z",
)


@pytest.mark.parametrize("codes", [frozenset(), frozenset({"dns.temporary_failure"})])
def test_a_repeated_line_behind_another_time_is_read_as_anew(
    monkeypatch: pytest.MonkeyPatch, codes: frozenset[str]
) -> None:
    """A line whose rest (after a runtime's time) was seen before is not parsed again: its
    record must be the one a full parse gives, whatever the rest and the time are."""
    lines = [f"{stamp} {rest}" for stamp in _STAMPS for rest in _RESTS] * 2
    data = "\n".join(lines).encode() + b"\n"
    remembered, _ = scan(data, codes=codes, window=Window(since=datetime(2024, 5, 1, tzinfo=UTC)))
    # the DNS line behind every time (twice); without --code, eight lines a time are kept
    assert len(remembered) == 2 * len(_STAMPS) * (8 if not codes else 1)
    monkeypatch.setattr("faultfinder.logs.scanner.REPEATED_TEXT", -1)  # every line parsed
    parsed, _ = scan(data, codes=codes, window=Window(since=datetime(2024, 5, 1, tzinfo=UTC)))
    assert remembered == parsed


# Lines that start with their own time: Python's logging ("%(asctime)s"), PostgreSQL's
# log_line_prefix '%m', gunicorn's "[2025-08-19 20:57:37 +0000]"; and shapes that are not read
# as such (a date of no day, a "T" without a zone that the CRI format's shape takes).
_OWN_LINES = (
    "{t} ERROR app: redis.exceptions.ConnectionError: Error -3 connecting to "
    "redis.internal:6379. Temporary failure in name resolution.",
    "{t} UTC [81] FATAL:  sorry, too many clients already",
    "[{t} +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:8)",
    "{t} INFO app.http: client timeout set to 30s for /api",
    "{t} ERROR app: request failed",
    "{t} Zookeeper session expired",  # a "Z" right after the time reads as its zone
)
_OWN_TIMES = (
    "2024-05-01 12:00:01,250",
    "2024-05-01 12:00:01.5",
    "2024-05-01 12:00:02",
    "2024-13-45 12:00:03,000",  # shaped like a time, but none
    "2024-05-01 12:01:00.123456",
)


def test_a_repeated_line_behind_its_own_time_is_read_as_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = [line.format(t=when) for when in _OWN_TIMES for line in _OWN_LINES] * 2
    lines += ["2024-05-01T12:00:00 stdout F ERROR app: request failed"] * 2
    data = "\n".join(lines).encode() + b"\n"
    remembered, _ = scan(data)
    assert len(remembered) > 2 * len(_OWN_TIMES) * 4
    monkeypatch.setattr("faultfinder.logs.scanner.REPEATED_TEXT", -1)  # every line parsed
    parsed, _ = scan(data)
    assert remembered == parsed
