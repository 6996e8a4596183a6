"""The header reader in front of asyncpg: messages pass whole whatever the reads' sizes, and
the bounds hold when a header is split between reads (the real servers are in
tests/integration/test_hostile_postgres.py)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from faultfinder.probe._postgres_frames import (
    CONNECTION_MESSAGES,
    MESSAGE_BYTES,
    FramedLoop,
    ReplyTooLarge,
    _Frames,
)


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


AUTH_OK = message(b"R", struct.pack("!I", 0))
READY = message(b"Z", b"I")


class Received(asyncio.Protocol):
    """What asyncpg's protocol would be given."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lost: Exception | None = None

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc


class Transport(asyncio.Transport):
    aborted = False

    def abort(self) -> None:
        self.aborted = True


def frames() -> tuple[_Frames, Received, Transport]:
    inner, transport = Received(), Transport()
    loop = asyncio.new_event_loop()
    loop.close()  # held, never run: the reader only notes on it what a server broke
    framed = _Frames(inner, FramedLoop(loop))
    framed.connection_made(transport)
    return framed, inner, transport


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_messages_pass_whole_in_reads_of_any_size(size: int) -> None:
    stream = AUTH_OK + message(b"S", b"server_version\x0017.0\x00") + READY
    framed, inner, transport = frames()
    for at in range(0, len(stream), size):
        framed.data_received(stream[at : at + size])
    assert bytes(inner.data) == stream
    assert framed.messages == 3
    assert framed.left == 0
    assert not transport.aborted


def test_a_header_split_between_reads_is_still_refused() -> None:
    header = b"E" + struct.pack("!I", MESSAGE_BYTES + 5)
    framed, inner, transport = frames()
    framed.data_received(AUTH_OK + header[:3])
    framed.data_received(header[3:] + b"CXX000\x00")
    assert transport.aborted
    assert bytes(inner.data) == AUTH_OK + header[:3]  # the refused read never reaches asyncpg
    framed.connection_lost(None)
    assert isinstance(inner.lost, ReplyTooLarge)
    assert str(inner.lost) == (
        f"the server sent an ErrorResponse of {MESSAGE_BYTES + 5:,} bytes (SQLSTATE XX000), "
        "over the 1 MiB bound"
    )


def test_a_message_of_exactly_the_bound_passes() -> None:
    framed, _, transport = frames()
    framed.data_received(AUTH_OK + b"D" + struct.pack("!I", MESSAGE_BYTES + 4))
    assert not transport.aborted


def test_a_first_byte_no_postgresql_sends_is_a_stranger() -> None:
    framed, _, transport = frames()
    framed.data_received(b"-ERR unknown command\r\n")  # Redis, read as a header
    assert transport.aborted
    assert framed.refused is not None
    assert not framed.refused.from_postgresql


def test_an_impossible_length_is_refused() -> None:
    framed, _, transport = frames()
    framed.data_received(AUTH_OK + b"Z" + struct.pack("!I", 3))
    assert transport.aborted
    assert "length (3) is impossible" in str(framed.refused)


def test_the_message_count_is_bounded() -> None:
    framed, _, transport = frames()
    framed.data_received(AUTH_OK + READY * CONNECTION_MESSAGES)
    assert transport.aborted
    assert f"more than {CONNECTION_MESSAGES:,} messages" in str(framed.refused)


def test_the_bytes_of_a_connection_are_bounded() -> None:
    """Rows of half a MiB each, every one within the message bound: past 4 MiB in all, no more."""
    row = message(b"D", b"\x00\x01" + struct.pack("!I", 512 << 10) + b"r" * (512 << 10))
    framed, _, transport = frames()
    framed.data_received(AUTH_OK)
    for _ in range(7):  # 3.5 MiB
        framed.data_received(row)
    assert not transport.aborted
    framed.data_received(row)
    assert transport.aborted
    assert str(framed.refused) == "the server sent more than 4 MiB"
