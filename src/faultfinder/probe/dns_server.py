"""Ask a DNS server one question, as blackbox_exporter's dns prober does (``/probe``'s dns
modules): the target is the server (``host[:port]``, port 53 by default), not the name.

The rungs: ``dns`` (the server's own name, looked up as every prober does), ``tcp`` (over TCP
only: the connection), and a second ``dns``, the query: one query out, one answer in, under the
probe's deadline. No retry, no fallback from UDP to TCP on a truncated answer, no EDNS: what
blackbox sends (prober/dns.go, ``client.Exchange``). An answer is at most 64 KiB by the
protocol (a datagram, or TCP's 16-bit length), and is read only for its rcode, its sections'
counts and an SOA's serial (probe/_dns_wire.py).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from faultfinder.classify import Finding, describe
from faultfinder.errors import ProbeFault
from faultfinder.model import DnsAnswer
from faultfinder.probe._dns_wire import (
    QUERY_CLASSES,
    QUERY_TYPES,
    RCODES,
    DnsWireError,
    Reply,
    encode_name,
    encode_query,
    parse_reply,
)
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import connect, resolve

__all__ = [
    "QUERY_CLASSES",
    "QUERY_TYPES",
    "RCODES",
    "DnsWireError",
    "Question",
    "encode_name",
    "probe",
]

_MAX_DATAGRAM = 65535
# A datagram from elsewhere, or an answer to an older query, is skipped; this many at most.
_STRAY_DATAGRAMS = 16


@dataclass(frozen=True)
class Question:
    """A dns module's query (blackbox's ``dns:`` keys): what to ask and which rcodes pass."""

    name: str
    query_type: int
    query_class: int = 1
    valid_rcodes: frozenset[str] = frozenset({"NOERROR"})
    tcp: bool = False  # transport_protocol: tcp
    soa: bool = False  # an SOA query: blackbox then exports the zone's serial


async def probe(ladder: Ladder, question: Question) -> None:
    """Resolve the server, ask it ``question``; fails on an rcode not in ``valid_rcodes``."""
    addresses = await resolve(ladder)
    query_id = secrets.randbits(16)
    query = encode_query(query_id, question.name, question.query_type, question.query_class)
    port = ladder.component.port or 53
    where = _join(addresses[0], port)
    if not question.tcp:
        await _ask(ladder, where, question, _over_udp(ladder, addresses[0], port, query, query_id))
        return
    connection = await connect(ladder, addresses[:1])  # blackbox dials the first address only
    try:
        await _ask(ladder, where, question, _over_tcp(connection.reader, connection.writer, query))
    finally:
        connection.close()


async def _ask(ladder: Ladder, where: str, question: Question, exchange: Awaitable[Reply]) -> Reply:
    """The query rung: the exchange, then the rcode judged against the module's."""

    async def ask() -> Reply:
        started = time.perf_counter()
        try:
            reply = await exchange
        finally:
            ladder.timings["request"] = (time.perf_counter() - started) * 1000
        serial = (reply.serial or 0) if question.soa else None
        ladder.dns = DnsAnswer(
            reply.rcode_name, reply.answers, reply.authorities, reply.additionals, serial
        )
        if reply.rcode_name not in question.valid_rcodes:
            code = "dns.nxdomain" if reply.rcode_name == "NXDOMAIN" else "dns.temporary_failure"
            accepted = ", ".join(sorted(question.valid_rcodes))
            raise ProbeFault(
                code,
                reply.rcode_name,
                f"the DNS server at {where} answered {question.name!r} with "
                f"{reply.rcode_name}; the module accepts {accepted}",
            )
        return reply

    return await ladder.rung(
        "dns",
        ask,
        classify=lambda error: _classify(where, error),
        detail=lambda reply: f"{reply.rcode_name}, answer section: {reply.answers}",
    )


async def _over_udp(ladder: Ladder, address: str, port: int, query: bytes, query_id: int) -> Reply:
    """One datagram out, the first answer to it in. A connected socket: the kernel drops
    datagrams from other addresses, and an ICMP port unreachable comes back as a refusal."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    started = time.perf_counter()
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
        finally:
            ladder.timings["connect"] = (time.perf_counter() - started) * 1000
        await loop.sock_sendall(sock, query)
        for _ in range(_STRAY_DATAGRAMS):
            reply = parse_reply(await loop.sock_recv(sock, _MAX_DATAGRAM))
            if reply.query_id == query_id:
                return reply
    raise DnsWireError(f"{_STRAY_DATAGRAMS} answers, none to this query")


async def _over_tcp(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, query: bytes
) -> Reply:
    """RFC 1035 §4.2.2: each message behind its length in two bytes."""
    writer.write(len(query).to_bytes(2, "big") + query)
    await writer.drain()
    length = int.from_bytes(await reader.readexactly(2), "big")
    return parse_reply(await reader.readexactly(length))


def _classify(where: str, error: BaseException) -> Finding | None:
    """The query's errors: the server is unreachable or spoke something else."""
    if isinstance(error, DnsWireError):
        return Finding(
            "protocol.mismatch",
            str(error),
            f"{where} answered, but not with a DNS answer to the query: {error}",
        )
    if isinstance(error, ConnectionRefusedError):
        return Finding(
            "dns.temporary_failure",
            "refused",
            f"the DNS query to {where} was refused (ICMP port unreachable): no DNS server "
            "listens there",
        )
    if isinstance(error, asyncio.IncompleteReadError):
        return Finding(
            "dns.temporary_failure",
            "closed without an answer",
            f"the DNS server at {where} closed the connection without an answer",
        )
    if isinstance(error, OSError):
        return Finding(
            "dns.temporary_failure",
            describe(error),
            f"the DNS query to {where} failed: {describe(error)}",
        )
    return None


def _join(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
