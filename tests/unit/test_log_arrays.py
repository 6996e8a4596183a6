"""One JSON array of log entries, read an entry at a time (logs/arrays.py): the same entries as
``json.loads`` whatever the blocks' sizes, and where it stops being an array, the rest of the
bytes for a scan as lines. The whole command's memory is measured in test_logs_cli.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from faultfinder.logs.arrays import MAX_ENTRY_CHARS, NotAnArray, entries

GCLOUD = Path(__file__).parents[1] / "data" / "logs" / "cloud-run-gcloud-read.json"


def in_blocks(data: bytes, size: int) -> tuple[bytes, Iterator[bytes]]:
    pieces = [data[at : at + size] for at in range(0, len(data), size)]
    return pieces[0], iter(pieces[1:])


def read(data: bytes, size: int) -> list[object]:
    return list(entries(*in_blocks(data, size)))


@pytest.mark.parametrize("size", [1, 2, 7, 64, 4096, 1 << 20])
def test_gcloud_s_array_reads_as_json_loads_does_in_blocks_of_any_size(size: int) -> None:
    data = GCLOUD.read_bytes()
    assert read(data, size) == json.loads(data)


@pytest.mark.parametrize("size", [1, 3, 5])
def test_numbers_literals_and_characters_split_between_blocks(size: int) -> None:
    data = '[1234567, -2.5e10, true, null, "é€😀", {"k": ["ü"]}, []]'.encode()
    assert read(data, size) == json.loads(data)


def test_an_empty_array_and_what_follows_it() -> None:
    assert read(b"  [ ]  trailing words", 4) == []


def remainder(stop: NotAnArray) -> bytes:
    return b"".join(stop.rest)


def test_an_array_cut_short_gives_its_entries_then_the_rest() -> None:
    data = b'[{"textPayload": "one"}, {"textPayload": "Connection ref'
    first, blocks = in_blocks(data, 8)
    reader = entries(first, blocks)
    assert next(reader) == {"textPayload": "one"}
    with pytest.raises(NotAnArray, match="Unterminated string") as stop:
        next(reader)
    assert remainder(stop.value) == b'{"textPayload": "Connection ref'


def test_an_entry_that_is_no_json_stops_there() -> None:
    data = b'[{"a": 1}, {"a": oops}, {"a": 3}]'
    reader = entries(*in_blocks(data, 5))
    assert next(reader) == {"a": 1}
    with pytest.raises(NotAnArray, match="Expecting value") as stop:
        next(reader)
    assert remainder(stop.value) == b'{"a": oops}, {"a": 3}]'


def test_a_missing_comma_stops_there() -> None:
    expected = re.escape("expected ',' or ']' after an entry, found '{'")
    with pytest.raises(NotAnArray, match=expected):
        read(b'[{"a": 1} {"a": 2}]', 3)


def test_an_entry_over_the_bound_is_not_read_whole() -> None:
    huge = b'[{"textPayload": "' + b"x" * (2 * MAX_ENTRY_CHARS) + b'"}]'
    reader = entries(*in_blocks(huge, 1 << 16))
    with pytest.raises(NotAnArray, match="an entry over 1 MiB") as stop:
        next(reader)
    assert remainder(stop.value).startswith(b'{"textPayload": "xxx')


def test_an_entry_nested_past_any_depth_stops_there() -> None:
    with pytest.raises(NotAnArray, match="nested past any depth"):
        read(b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", 1 << 20)
