"""The rungs most probers share: resolve, connect and TLS, each timed on the ladder."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from faultfinder.diagnose.classify import (
    Finding,
    classify_os_error,
    classify_resolve_error,
    classify_tls_error,
    describe,
)
from faultfinder.probe._certificate import read_certificate
from faultfinder.probe._ladder import Ladder, ProbeFault

# getaddrinfo blocks and cannot be cancelled: give it its own threads so that a hung resolver
# for one component never queues the lookups of the others behind it.
_RESOLVER_THREADS = ThreadPoolExecutor(max_workers=128, thread_name_prefix="faultfinder-resolve")


@dataclass
class Connection:
    """An open connection the next rung can use, and the address it reached."""

    address: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


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

    async def lookup() -> list[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.run_in_executor(
            _RESOLVER_THREADS,
            lambda: socket.getaddrinfo(host, port or None, type=socket.SOCK_STREAM),
        )
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0])
            if address not in addresses:
                addresses.append(address)
        return addresses

    addresses = await ladder.rung(
        "dns",
        lookup,
        timeout_code="dns.temporary_failure",
        classify=lambda error: classify_resolve_error(host, error),
        detail=lambda found: ", ".join(found),
    )
    ladder.addresses = tuple(addresses)
    ladder.timings["resolve"] = ladder.phases[-1].ms
    return addresses


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
            timeout_code="tcp.timeout",
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


def tls_context(ladder: Ladder) -> ssl.SSLContext:
    """A verifying client context: the configured CA bundle, else the system store."""
    ca = ladder.component.tls.ca
    return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()


async def handshake(ladder: Ladder, connection: Connection) -> None:
    """TLS with SNI over ``connection``, verified; reads the leaf certificate."""
    name = server_name(ladder)
    target = _join(name, ladder.component.port)

    async def start_tls() -> None:
        await connection.writer.start_tls(tls_context(ladder), server_hostname=name)

    try:
        await ladder.rung(
            "tls",
            start_tls,
            timeout_code="tls.handshake_failed",
            classify=lambda error: classify_tls_error(target, error),
        )
    except ProbeFault as fault:
        if fault.code.startswith("tls.") and fault.code != "tls.handshake_failed":
            await _read_unverified(ladder, connection.address)
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
            f"{certificate.not_after} ({certificate.days_left:.1f} days left, minimum {minimum})"
        )


async def _read_unverified(ladder: Ladder, address: str) -> None:
    """After a verification failure, read the certificate anyway, as evidence of why."""
    context = ssl.create_default_context()
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
                f"valid {certificate.not_before} to {certificate.not_after}"
            )
    finally:
        writer.close()


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


join_host_port = _join
