"""The rungs most probers share: resolve, connect and TLS, each timed on the ladder."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass

from faultfinder.classify import (
    Finding,
    classify_os_error,
    classify_resolve_error,
    classify_socket_error,
    classify_tls_error,
    describe,
)
from faultfinder.classify.protocols import describe as describe_speaker
from faultfinder.clock import utc_seconds
from faultfinder.errors import ProbeFault
from faultfinder.probe._certificate import read_certificate
from faultfinder.probe._ladder import Ladder
from faultfinder.probe.identify import what_speaks

SHOWN_ADDRESSES = 32  # of a lookup, in the result (a DNS answer over TCP may hold thousands)


@dataclass
class Connection:
    """An open connection the next rung can use, and the address it reached."""

    address: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def where(self, port: int) -> str:
        """``host:port`` for evidence, or the socket's path."""
        return self.address if self.address.startswith("/") else _join(self.address, port)

    def close(self) -> None:
        # Abort, not close: closing TLS waits for the peer's close_notify, which a short-lived
        # event loop (the CLI's) never sees, leaving the socket to the garbage collector.
        self.writer.transport.abort()


def server_name(ladder: Ladder) -> str:
    """The name for SNI and certificate checks: tls.server_name, else the URL's host."""
    return ladder.component.tls.server_name or ladder.component.host


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(ladder: Ladder) -> list[str]:
    """Resolve the host as the application would (getaddrinfo), keeping every address."""
    host, port = ladder.component.host, ladder.component.port

    try:
        addresses = await ladder.rung(
            "dns",
            lambda: resolve_addresses(host, port or None),
            classify=lambda error: classify_resolve_error(host, error),
            detail=lambda found: ", ".join(found),
        )
    except ProbeFault as fault:
        if fault.__cause__ is None:  # the deadline passed (a failed lookup chains its error)
            ladder.evidence.append(
                f"getaddrinfo({host!r}) gave no answer within the "
                f"{ladder.component.timeout:g}s deadline: the resolver did not reply"
            )
        raise
    ladder.addresses = tuple(addresses[:SHOWN_ADDRESSES])  # every one is still tried
    ladder.timings["resolve"] = ladder.phases[-1].ms
    return addresses


async def resolve_addresses(host: str, port: int | None) -> list[str]:
    """The addresses ``socket.getaddrinfo`` gives, in its order, from a daemon thread of its own.

    getaddrinfo blocks and cannot be cancelled. A thread per lookup means a hung resolver never
    queues the other components' lookups behind it, and a daemon thread means a lookup still
    hanging after the deadline does not hold the process open at exit (a ThreadPoolExecutor's
    threads are joined at exit, which kept the CLI waiting out glibc's own resolver timeouts).
    """
    literal = _literal_addresses(host, port)
    if literal is not None:
        # A literal needs no lookup, so getaddrinfo cannot block: no thread (starting one costs
        # more CPU than the rest of a TCP probe, which /probe pays on every request).
        return list(literal)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[str]] = loop.create_future()

    def settle(addresses: list[str], error: Exception | None) -> None:
        if answer.done():  # the deadline passed: nobody waits for this lookup any more
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(addresses)

    def work() -> None:
        addresses: list[str] = []
        failure: Exception | None = None
        try:
            for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                address = str(info[4][0])
                if address not in addresses:
                    addresses.append(address)
        except Exception as error:
            failure = error
        with contextlib.suppress(RuntimeError):  # the loop closed while the lookup hung
            loop.call_soon_threadsafe(settle, addresses, failure)

    threading.Thread(target=work, name=f"faultfinder-resolve {host}", daemon=True).start()
    return await answer


@functools.lru_cache(maxsize=4096)
def _literal_addresses(host: str, port: int | None) -> tuple[str, ...] | None:
    """What getaddrinfo gives for an address literal; None for a name, which needs a lookup.

    Cached: a literal always gives the same answer, and `watch` asks 200 times a second."""
    if not is_address(host):
        return None
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


async def connect(ladder: Ladder, addresses: list[str]) -> Connection:
    """Connect to the addresses in resolver order, as socket.create_connection does.

    Each attempt is recorded, so a dead first address is never hidden by a live second one.
    """
    port = ladder.component.port
    failures: list[str] = []
    trying: list[str] = []

    async def attempt() -> Connection:
        last: Finding | None = None
        for address in addresses:
            target = _join(address, port)
            trying.append(target)
            try:
                reader, writer = await asyncio.open_connection(address, port)
            except OSError as error:
                last = classify_os_error(target, error) or Finding(
                    "tcp.unreachable", describe(error), f"connect to {target}: {describe(error)}"
                )
                failures.append(last.evidence)
                continue
            return Connection(address, reader, writer)
        assert last is not None
        raise ProbeFault(last.code, last.detail, "; ".join(failures))

    try:
        connection = await ladder.rung(
            "tcp",
            attempt,
            classify=lambda error: None,
            detail=lambda opened: _join(opened.address, port),
        )
    except ProbeFault as fault:
        if fault.code == "tcp.timeout":
            ladder.evidence.extend(failures)
            ladder.evidence.append(f"connect to {trying[-1]}: no answer (SYN unanswered?)")
        raise
    finally:
        ladder.timings["connect"] = ladder.phases[-1].ms
    ladder.evidence.extend(failures)
    return connection


async def transport(ladder: Ladder) -> Connection:
    """An open connection: through the component's Unix socket, or resolved and connected."""
    if ladder.component.socket_path is not None:
        return await connect_socket(ladder, ladder.component.socket_path)
    return await connect(ladder, await resolve(ladder))


async def connect_socket(ladder: Ladder, path: str) -> Connection:
    """The ``socket`` rung: connect to a Unix socket (it stands for the dns and tcp rungs)."""

    async def attempt() -> Connection:
        reader, writer = await asyncio.open_unix_connection(path)
        return Connection(path, reader, writer)

    try:
        return await ladder.rung(
            "socket",
            attempt,
            classify=lambda error: classify_socket_error(path, error),
            detail=lambda opened: path,
        )
    finally:
        ladder.timings["connect"] = ladder.phases[-1].ms


async def reach(ladder: Ladder) -> str:
    """The transport rungs every prober shares: resolve and connect (or the Unix socket) and,
    for a TLS scheme, the verified handshake. Returns the address that answered (the socket's
    path), for the protocol rung to use."""
    connection = await reach_open(ladder)
    connection.close()
    return connection.address


async def reach_open(ladder: Ladder) -> Connection:
    """``reach``, leaving the connection open for the protocol rung: one connection a probe."""
    connection = await transport(ladder)
    try:
        if ladder.component.scheme.tls:  # TLS from the first byte (PostgreSQL negotiates it)
            await handshake(ladder, connection)
    except BaseException:
        connection.close()
        raise
    return connection


def tls_context(ladder: Ladder) -> ssl.SSLContext:
    """A verifying client context: the configured CA bundle, else the system store."""
    ca = ladder.component.tls.ca
    return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()


async def handshake(ladder: Ladder, connection: Connection) -> None:
    """TLS with SNI over ``connection``, verified; reads the leaf certificate."""
    name = server_name(ladder)
    address = _join(connection.address, ladder.component.port)
    # Evidence names both what was verified (the name) and where (the address it reached).
    target = address if name == connection.address else f"{name} at {address}"

    async def start_tls() -> str:
        await connection.writer.start_tls(tls_context(ladder), server_hostname=name)
        ssl_object = connection.writer.get_extra_info("ssl_object")
        cipher = ssl_object.cipher() if ssl_object else None
        return f"{cipher[1]} {cipher[0]}" if cipher else ""

    try:
        await ladder.rung(
            "tls",
            start_tls,
            classify=lambda error: classify_tls_error(target, error),
            detail=lambda negotiated: negotiated,
        )
    except ProbeFault as fault:
        if fault.code.startswith("tls.") and fault.code != "tls.handshake_failed":
            await _read_unverified(ladder, connection.address)
        if fault.code == "protocol.mismatch":  # plain bytes answered the hello: say whose
            speaker = await what_speaks(ladder, connection.address)
            if speaker is not None:
                ladder.evidence.append(f"{address}: {describe_speaker(speaker)}")
        raise
    finally:
        ladder.timings["tls"] = ladder.phases[-1].ms
    ssl_object = connection.writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    if der:
        _note_certificate(ladder, der)


def _note_certificate(ladder: Ladder, der: bytes) -> None:
    certificate = read_certificate(der)
    ladder.certificate = certificate
    minimum = ladder.component.tls.min_days_left
    if 0 <= certificate.days_left < minimum:
        ladder.warning = "tls.expiring_soon"
        ladder.evidence.append(
            f"certificate for {', '.join(certificate.names) or certificate.subject} expires "
            f"{utc_seconds(certificate.not_after)} ({certificate.days_left:.1f} days left, "
            f"minimum {minimum})"
        )


async def _read_unverified(ladder: Ladder, address: str) -> None:
    """After a verification failure, read the certificate anyway, as evidence of why."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no trust store: nothing is verified
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(min(ladder.remaining(), 1.0)):
            _, writer = await asyncio.open_connection(
                address, ladder.component.port, ssl=context, server_hostname=server_name(ladder)
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if der:
            certificate = read_certificate(der)
            ladder.certificate = certificate
            ladder.evidence.append(
                f"certificate presented: subject {certificate.subject}, names "
                f"{', '.join(certificate.names) or '(none)'}, issuer {certificate.issuer}, "
                f"valid {utc_seconds(certificate.not_before)} to "
                f"{utc_seconds(certificate.not_after)}"
            )
    finally:
        writer.transport.abort()  # as Connection.close: no close_notify round trip to wait for


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


join_host_port = _join
