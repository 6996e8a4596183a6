"""probe/_dns_wire.py: a DNS query built and an answer read from bytes (RFC 1035 §4), sans-IO."""

from __future__ import annotations

import struct

import pytest

from faultfinder.probe._dns_wire import (
    QUERY_TYPES,
    DnsWireError,
    encode_name,
    encode_query,
    parse_reply,
)

# RFC 1035 §4.1.1: ID, flags (QR, opcode, AA, TC, RD, RA, Z, RCODE), then four counts.
RESPONSE = 0x8000


def header(
    query_id: int = 0x1234,
    flags: int = RESPONSE | 0x0100 | 0x0080,
    qd: int = 1,
    an: int = 0,
    ns: int = 0,
    ar: int = 0,
) -> bytes:
    return struct.pack("!HHHHHH", query_id, flags, qd, an, ns, ar)


QUESTION = encode_name("example.test") + struct.pack("!HH", QUERY_TYPES["SOA"], 1)
# An SOA record whose owner is a pointer to the question's name (offset 12, RFC 1035 §4.1.4),
# MNAME ns.example.test, RNAME a pointer too, then serial 2026120701 and four more 32-bit
# fields (RFC 1035 §3.3.13).
SOA_DATA = (
    encode_name("ns.example.test")
    + b"\xc0\x0c"
    + struct.pack("!IIIII", 2026120701, 7200, 3600, 1209600, 300)
)
SOA_RECORD = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 3600, len(SOA_DATA)) + SOA_DATA
A_RECORD = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 7])


def test_a_query_is_a_header_with_recursion_desired_and_one_question() -> None:
    query = encode_query(0xBEEF, "api.example.test", QUERY_TYPES["A"])
    assert query[:12] == struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0)
    assert query[12:] == b"\x03api\x07example\x04test\x00" + b"\x00\x01\x00\x01"


def test_names_are_made_fully_qualified_and_the_root_is_one_zero() -> None:
    assert encode_name("example.test.") == encode_name("example.test")
    assert encode_name(".") == b"\x00"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 64 + ".test", "longer than 63"),
        (".".join(["abcdefgh"] * 30), "longer than 255"),
        ("\u2028x.test", "not a valid name"),  # IDNA refuses a line separator
    ],
)
def test_names_the_protocol_cannot_carry_are_refused(name: str, message: str) -> None:
    with pytest.raises(DnsWireError, match=message):
        encode_name(name)


def test_an_answer_gives_its_rcode_counts_and_the_soa_serial() -> None:
    data = header(an=2, ns=1, ar=2) + QUESTION + A_RECORD + SOA_RECORD + SOA_RECORD + A_RECORD * 2
    reply = parse_reply(data)
    assert (reply.query_id, reply.rcode_name) == (0x1234, "NOERROR")
    assert (reply.answers, reply.authorities, reply.additionals) == (2, 1, 2)
    assert reply.serial == 2026120701
    assert not reply.truncated


def test_nxdomain_and_an_unknown_rcode_are_named() -> None:
    assert parse_reply(header(flags=RESPONSE | 3) + QUESTION).rcode_name == "NXDOMAIN"
    assert parse_reply(header(flags=RESPONSE | 12) + QUESTION).rcode_name == "RCODE12"


def test_a_truncated_answer_counts_the_records_it_holds() -> None:
    # blackbox counts the records miekg/dns unpacked (len(response.Answer)), not the header's
    reply = parse_reply(header(flags=RESPONSE | 0x0200, an=40) + QUESTION + A_RECORD + A_RECORD[:5])
    assert reply.truncated
    assert reply.answers == 1
    assert reply.serial is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x12\x34\x81", "shorter than a DNS header"),
        (header(flags=0x0100) + QUESTION, "a query, not a response"),
        (header() + b"\x07exam", "runs past the end"),
        (header() + b"\xc0", "pointer runs past the end"),
        (header() + b"\x80abc", "label type 0x80"),
        (
            header(an=1) + QUESTION + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 400) + b"\x00",
            "a record runs past the end",
        ),
        (header(an=2) + QUESTION + A_RECORD, "runs past the end"),  # not truncated: an error
        (
            header(an=1)
            + QUESTION
            + b"\xc0\x0c"
            + struct.pack("!HHIH", 6, 1, 60, 3)
            + b"\x00\x00\x00",
            "too short for its serial",
        ),
    ],
)
def test_hostile_answers_are_one_error(data: bytes, message: str) -> None:
    with pytest.raises(DnsWireError, match=message):
        parse_reply(data)


def test_a_name_pointing_at_itself_does_not_loop() -> None:
    # A pointer is never followed, so a loop of pointers costs nothing.
    looped = header(an=1) + QUESTION + b"\xc0\x2d" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x00" * 4
    assert parse_reply(looped).answers == 1
