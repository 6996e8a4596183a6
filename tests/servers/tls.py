"""Certificates for TLS tests and real TLS servers (nginx, redis-server, raw sockets) serving them.

``certificates`` (session) is a private CA and one leaf per fault, all for ``api.example.test``
unless the fault is the name: valid, expired, not yet valid, for another name, a wildcard,
self-signed, issued by an intermediate but served without it, from a CA the client does not
trust, and one expiring in a few days. Clients trust ``certificates.ca_file`` through the
stack's ``tls: {ca: …, server_name: api.example.test}``; the machine's /etc/hosts is untouched.

``tls_server(certificate, …)`` starts an nginx that terminates TLS on a free loopback port and
answers ``200 ok`` (or proxies to an upstream port, WebSocket upgrades included).
``redis_tls_server(certificate)`` starts a redis-server that speaks only TLS.
``banner_server``, ``closing_server`` and ``resetting_server`` are plain TCP ports where a
client expects TLS.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import Process, free_port, require_binary, wait_for_port
from tests.servers.listener import LoopbackServer, serve
from tests.servers.nginx_instance import NginxInstance, proxy_to, start_nginx

__all__ = [
    "banner_server",
    "certificates",
    "closing_server",
    "redis_tls_server",
    "resetting_server",
    "tls_server",
]

NAME = "api.example.test"
EXPIRING_DAYS = 5  # the expiring-soon certificate's days left, below the default minimum of 14


@dataclass(frozen=True)
class ServedCertificate:
    """What a server is configured with: the chain it presents (leaf first) and its key."""

    chain: Path
    key: Path

    @property
    def leaf_pem(self) -> bytes:
        """The leaf certificate alone (the first PEM block of the chain)."""
        text = self.chain.read_bytes()
        end = b"-----END CERTIFICATE-----"
        return text[: text.index(end) + len(end)] + b"\n"


class Certificates:
    """A private CA and the leaf certificates the TLS tests serve, written to ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca = trustme.CA(organization_name="faultfinder test CA")
        self.ca_file = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        now = datetime.datetime.now(datetime.UTC)
        day = datetime.timedelta(days=1)
        self.valid = self.issue("valid", NAME)
        self.expired = self.issue("expired", NAME, not_before=now - 30 * day, not_after=now - day)
        self.not_yet_valid = self.issue(
            "not-yet-valid", NAME, not_before=now + day, not_after=now + 30 * day
        )
        self.mismatch = self.issue("mismatch", "other.example.test")
        self.wildcard = self.issue("wildcard", "*.example.test")
        self.expiring_soon = self.issue(
            "expiring-soon", NAME, not_before=now - day, not_after=now + EXPIRING_DAYS * day
        )
        self.other_ca = self.issue("other-ca", NAME, issuer=trustme.CA())
        intermediate = self.ca.create_child_ca()
        self.full_chain = self.issue("full-chain", NAME, issuer=intermediate)
        self.incomplete_chain = self.issue(
            "incomplete-chain", NAME, issuer=intermediate, leaf_only=True
        )
        self.self_signed = self._self_signed("self-signed", NAME)
        # RSA, for servers restricted to RSA key exchange (ciphers the client refuses).
        self.rsa = self.issue("rsa", NAME, key_type=trustme.KeyType.RSA)

    def issue(
        self,
        label: str,
        *names: str,
        issuer: trustme.CA | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        leaf_only: bool = False,
        key_type: trustme.KeyType = trustme.KeyType.ECDSA,
    ) -> ServedCertificate:
        """A leaf for ``names`` from ``issuer`` (default: the trusted CA), written to disk."""
        leaf = (issuer or self.ca).issue_cert(
            *names,
            common_name=names[0],
            key_type=key_type,
            not_before=not_before,
            not_after=not_after,
        )
        # trustme's chain is the leaf and its intermediates, never the root.
        pems = leaf.cert_chain_pems[:1] if leaf_only else leaf.cert_chain_pems
        return self._write(
            label, b"".join(pem.bytes() for pem in pems), leaf.private_key_pem.bytes()
        )

    def _self_signed(self, label: str, name: str) -> ServedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return self._write(label, certificate.public_bytes(serialization.Encoding.PEM), key_pem)

    def _write(self, label: str, chain: bytes, key: bytes) -> ServedCertificate:
        served = ServedCertificate(self.directory / f"{label}.pem", self.directory / f"{label}.key")
        served.chain.write_bytes(chain)
        served.key.write_bytes(key)
        return served


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("certificates"))


class TlsServer(NginxInstance):
    """An nginx terminating TLS: it answers ``200 ok``, or proxies to an upstream port."""

    scheme = "https"


TlsServerFactory = Callable[..., TlsServer]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServerFactory]:
    """``tls_server(certificate, protocols=…, ciphers=…, upstream=port)`` starts an nginx."""
    started: list[TlsServer] = []
    counter = itertools.count()

    def start(
        certificate: ServedCertificate,
        *,
        protocols: str = "TLSv1.2 TLSv1.3",
        ciphers: str = "HIGH:!aNULL",
        upstream: int | None = None,
    ) -> TlsServer:
        port = free_port()
        location = 'return 200 "ok\\n";' if upstream is None else proxy_to(upstream)
        block = f"""listen 127.0.0.1:{port} ssl;
        ssl_certificate {certificate.chain};
        ssl_certificate_key {certificate.key};
        ssl_protocols {protocols};
        ssl_ciphers {ciphers};
        location / {{
            {location}
        }}"""
        server = start_nginx(TlsServer, tmp_path / f"nginx-tls-{next(counter)}", port, block)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.process.stop()


@dataclass
class RedisTlsServer:
    port: int
    process: Process

    def url(self, database: int = 0) -> str:
        return f"rediss://127.0.0.1:{self.port}/{database}"


@pytest.fixture
def redis_tls_server(
    tmp_path: Path,
    certificates: Certificates,
) -> Iterator[Callable[[ServedCertificate], RedisTlsServer]]:
    """``redis_tls_server(certificate)``: a redis-server with only a TLS port, no persistence."""
    started: list[RedisTlsServer] = []

    def start(certificate: ServedCertificate) -> RedisTlsServer:
        port = free_port()
        directory = tmp_path / f"redis-tls-{port}"
        directory.mkdir()
        argv = [
            require_binary("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(certificate.chain),
            "--tls-key-file",
            str(certificate.key),
            "--tls-ca-cert-file",
            str(certificates.ca_file),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ]
        server = RedisTlsServer(port, Process(argv, log=directory / "redis.log"))
        started.append(server)
        try:
            wait_for_port(port)
        except TimeoutError:
            raise RuntimeError(f"redis-server did not start:\n{server.process.output()}") from None
        return server

    try:
        yield start
    finally:
        for server in started:
            server.process.stop()


class PlainServer(LoopbackServer):
    """A plain TCP listener on 127.0.0.1 where a client expects TLS."""


@contextlib.contextmanager
def _plain(handle: Callable[[socket.socket], None], name: str) -> Iterator[PlainServer]:
    def answer(server: PlainServer, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            handle(connection)

    with serve(PlainServer, answer, name) as server:
        yield server


def _banner(connection: socket.socket) -> None:
    # An SSH server on the TLS port: it speaks first, in plain text, and never TLS.
    try:
        connection.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")
        connection.recv(65536)
        connection.sendall(b"Invalid SSH identification string.\r\n")
    except OSError:
        return


def _close_after_hello(connection: socket.socket) -> None:
    # Read the ClientHello, answer nothing, close (FIN): a peer that gives up mid-handshake.
    try:
        connection.recv(65536)
    except OSError:
        return


def _reset_after_hello(connection: socket.socket) -> None:
    # Linger on, zero seconds: close() answers the ClientHello with RST instead of FIN.
    try:
        connection.recv(65536)
    except OSError:
        return
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.fixture(scope="session")
def banner_server() -> Iterator[PlainServer]:
    """A port that answers in plain text (an SSH banner) instead of TLS."""
    with _plain(_banner, "banner-server") as server:
        yield server


@pytest.fixture(scope="session")
def closing_server() -> Iterator[PlainServer]:
    """A port that reads the ClientHello and closes the connection without a word."""
    with _plain(_close_after_hello, "closing-server") as server:
        yield server


@pytest.fixture(scope="session")
def resetting_server() -> Iterator[PlainServer]:
    """A port that reads the ClientHello and resets the connection."""
    with _plain(_reset_after_hello, "resetting-server") as server:
        yield server
