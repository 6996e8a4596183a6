"""DNS messages on the wire (RFC 1035 §4), sans-IO: one query out, the few facts of an answer in.

blackbox_exporter's dns prober needs only the answer's rcode, how many records each section
holds and, for an SOA query, the zone's serial (prober/dns.go). So the query is built here and
the answer read as far as that, with every length and pointer checked against the bytes there
are: a hostile server gets a ``DnsWireError``, never an IndexError or a loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Query types and classes blackbox's modules name (miekg/dns's StringToType), by their numbers
# in the IANA registry.
QUERY_TYPES = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "PTR": 12,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "SRV": 33,
    "NAPTR": 35,
    "DS": 43,
    "SSHFP": 44,
    "RRSIG": 46,
    "NSEC": 47,
    "DNSKEY": 48,
    "TLSA": 52,
    "HTTPS": 65,
    "SVCB": 64,
    "CAA": 257,
    "ANY": 255,
}
QUERY_CLASSES = {"IN": 1, "CH": 3, "HS": 4, "ANY": 255}
# RFC 1035 §4.1.1 and RFC 6895 §2.3: the rcodes by their names, as valid_rcodes spells them.
RCODES = {
    "NOERROR": 0,
    "FORMERR": 1,
    "SERVFAIL": 2,
    "NXDOMAIN": 3,
    "NOTIMP": 4,
    "REFUSED": 5,
    "YXDOMAIN": 6,
    "YXRRSET": 7,
    "NXRRSET": 8,
    "NOTAUTH": 9,
    "NOTZONE": 10,
}
RCODE_NAMES = {number: name for name, number in RCODES.items()}
SOA = QUERY_TYPES["SOA"]
_HEADER = struct.Struct("!HHHHHH")
_RECORD = struct.Struct("!HHIH")  # type, class, TTL, RDLENGTH after the owner name


class DnsWireError(ValueError):
    """The bytes are not a DNS answer to our query."""


@dataclass(frozen=True)
class Reply:
    """What an answer says that blackbox exports."""

    query_id: int
    rcode: int
    truncated: bool
    answers: int
    authorities: int
    additionals: int
    serial: int | None  # the SOA's serial in the answer section, when there is one

    @property
    def rcode_name(self) -> str:
        return RCODE_NAMES.get(self.rcode, f"RCODE{self.rcode}")


def encode_query(query_id: int, name: str, query_type: int, query_class: int = 1) -> bytes:
    """A query for ``name`` with recursion desired, as blackbox sends it (``msg.RecursionDesired
    = true``, no EDNS)."""
    header = _HEADER.pack(query_id, 0x0100, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack("!HH", query_type, query_class)


def encode_name(name: str) -> bytes:
    """``name`` as labels (made fully qualified, as miekg's ``dns.Fqdn``)."""
    labels = [label for label in name.rstrip(".").split(".") if label] if name != "." else []
    out = bytearray()
    for label in labels:
        try:
            raw = label.encode("ascii") if label.isascii() else label.encode("idna")
        except UnicodeError:
            raise DnsWireError(f"the label {label!r} is not a valid name") from None
        if len(raw) > 63:
            raise DnsWireError(f"the label {label!r} is longer than 63 bytes")
        out += bytes([len(raw)]) + raw
    out += b"\x00"
    if len(out) > 255:
        raise DnsWireError(f"the name {name!r} is longer than 255 bytes")
    return bytes(out)


def parse_reply(data: bytes) -> Reply:
    """The rcode, the records each section holds, and the serial of an SOA among the answers.

    A section's count is the records read, as blackbox counts them (``len(response.Answer)``):
    a truncated answer (TC) ends where its bytes do, with the records read so far; anywhere
    else, a record that runs past the end is an error."""
    if len(data) < _HEADER.size:
        raise DnsWireError(f"{len(data)} bytes: shorter than a DNS header")
    query_id, flags, questions, *counts = _HEADER.unpack_from(data)
    if not flags & 0x8000:
        raise DnsWireError("the message is a query, not a response")
    truncated = bool(flags & 0x0200)
    offset = _HEADER.size
    for _ in range(questions):
        offset = _skip_name(data, offset) + 4
    sections: list[list[tuple[int, int, int]]] = [[], [], []]
    try:
        for records, count in zip(sections, counts, strict=True):
            for _ in range(count):
                record, offset = _record(data, offset)
                records.append(record)
    except DnsWireError:
        if not truncated:
            raise
    soa = next((record for record in sections[0] if record[0] == SOA), None)
    return Reply(
        query_id=query_id,
        rcode=flags & 0x000F,
        truncated=truncated,
        answers=len(sections[0]),
        authorities=len(sections[1]),
        additionals=len(sections[2]),
        serial=_soa_serial(data, soa[1], soa[2]) if soa else None,
    )


def _record(data: bytes, offset: int) -> tuple[tuple[int, int, int], int]:
    """One resource record at ``offset``: (its type, where its data starts and ends), and the
    offset past it."""
    offset = _skip_name(data, offset)
    if offset + _RECORD.size > len(data):
        raise DnsWireError("a record runs past the end of the message")
    record_type, _class, _ttl, length = _RECORD.unpack_from(data, offset)
    offset += _RECORD.size
    if offset + length > len(data):
        raise DnsWireError("a record runs past the end of the message")
    return (record_type, offset, offset + length), offset + length


def _soa_serial(data: bytes, start: int, end: int) -> int:
    """RFC 1035 §3.3.13: MNAME, RNAME, then SERIAL as 32 bits."""
    offset = _skip_name(data, _skip_name(data, start))
    if offset + 4 > end:
        raise DnsWireError("an SOA record too short for its serial")
    serial: int = struct.unpack_from("!I", data, offset)[0]
    return serial


def _skip_name(data: bytes, offset: int) -> int:
    """The offset past the name at ``offset`` (labels, ending in a zero or a pointer). A
    pointer is never followed: the name's text is not needed, so it cannot loop."""
    while True:  # each label moves on by at least one byte, so this ends at the message's end
        if offset >= len(data):
            raise DnsWireError("a name runs past the end of the message")
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name here (RFC 1035 §4.1.4)
            if offset + 2 > len(data):
                raise DnsWireError("a name's pointer runs past the end of the message")
            return offset + 2
        if length & 0xC0:
            raise DnsWireError(f"a label type 0x{length & 0xC0:02x} this reader does not know")
        offset += 1 + length
