"""A PostgreSQL server whose messages claim far more than any answer needs is refused at the
message's header (docs/bounds.md: 1 MiB a message, 4 MiB and 100,000 messages a connection),
whichever way the connection goes: plain, after an SSLRequest answered ``N``, inside TLS.

The servers are hostile on purpose, on loopback. Before these bounds, an ErrorResponse claiming
100 MB held a 2 s probe for 11 s and 350 MB of memory, and starved every other probe of the
event loop (`serve`'s /-/healthy missed polls).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import ssl
import struct
import time
from typing import Any

import httpx
import pytest

from faultfinder.serve.app import create_app
from tests.servers.asgi import AsgiFactory
from tests.servers.hostile import Answer, hostile
from tests.servers.tls import Certificates

CLAIMED = 100_000_000  # what the ErrorResponse says it holds


def error_claiming_100_mb(connection: socket.socket) -> None:
    """An ErrorResponse (SQLSTATE 28P01) whose length says 100 MB, then bytes for as long as
    anyone reads them."""
    connection.sendall(b"E" + struct.pack("!I", CLAIMED + 4) + b"C28P01\x00SFATAL\x00M")
    with contextlib.suppress(OSError):
        for _ in range(CLAIMED >> 16):
            connection.sendall(b"m" * 65536)


def refuses_tls_then_errs(connection: socket.socket) -> None:
    """``N`` to the SSLRequest (sslmode=prefer goes on in plain text), then the error above."""
    connection.sendall(b"N")
    connection.recv(65536)  # the start-up message
    error_claiming_100_mb(connection)


def notices_without_end(connection: socket.socket) -> None:
    """Small NoticeResponse messages, 120,000 of them, before any answer to the start-up."""
    fields = b"SNOTICE\x00C00000\x00Mhello\x00\x00"
    notice = b"N" + struct.pack("!I", len(fields) + 4) + fields
    connection.sendall(notice * 120_000)


def http_to_anything(connection: socket.socket) -> None:
    """An HTTP server that answers any bytes at once: 'HTTP' read as a header claims 1.4 GB."""
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    def run(url: str, **component: Any) -> dict[str, Any]:
        stack = write_stack({"db": {"url": url, **component}})
        result = run_cli("diagnose", str(stack), "--json")
        assert result.status == 1, result.out
        db: dict[str, Any] = result.component("db")
        return db

    return run


@pytest.mark.parametrize(
    ("answer", "sslmode", "says"),
    [
        (
            error_claiming_100_mb,
            "disable",
            "the server sent an ErrorResponse of 100,000,004 bytes (SQLSTATE 28P01), over the "
            "1 MiB bound; read no further",
        ),
        (refuses_tls_then_errs, "prefer", "an ErrorResponse of 100,000,004 bytes"),
        (notices_without_end, "disable", "the server sent more than 100,000 messages"),
    ],
)
def test_a_message_past_the_bounds_is_refused_at_its_header(
    diagnose: Any, answer: Answer, sslmode: str, says: str
) -> None:
    with hostile(answer) as server:
        db = diagnose(f"postgresql://app@127.0.0.1:{server.port}/app?sslmode={sslmode}")
    assert db["code"] == "postgres.error"
    assert any(says in line for line in db["evidence"]), db["evidence"]
    assert db["duration_ms"] < 2000  # refused at once, not read to the 2 s deadline


def test_inside_tls_too(diagnose: Any, certificates: Certificates) -> None:
    """``S`` to the SSLRequest, a real TLS handshake, then the 100 MB error inside TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.valid.chain, certificates.valid.key)

    def answer(connection: socket.socket) -> None:
        connection.sendall(b"S")
        with context.wrap_socket(connection, server_side=True) as secured:
            secured.recv(65536)  # the start-up message
            error_claiming_100_mb(secured)

    with hostile(answer) as server:
        db = diagnose(f"postgresql://app@127.0.0.1:{server.port}/app?sslmode=require")
    assert db["code"] == "postgres.error"
    assert any("ErrorResponse of 100,000,004 bytes" in line for line in db["evidence"])


def test_bytes_that_are_no_postgresql_are_the_other_protocol(diagnose: Any) -> None:
    with hostile(http_to_anything) as server:
        db = diagnose(f"postgresql://app@127.0.0.1:{server.port}/app?sslmode=disable")
    assert db["code"] == "protocol.mismatch"
    assert any("HTTP" in line for line in db["evidence"]), db["evidence"]


def test_serve_answers_its_health_check_through_an_attack(asgi_server: AsgiFactory) -> None:
    """/probe requests at the server above, six at a time for two seconds: /-/healthy answers
    every poll within the promised second, with room for a machine twice as busy."""
    served = asgi_server.start(create_app())
    params = {"module": "faultfinder", "timeout": "2"}

    with hostile(error_claiming_100_mb) as server:
        params["target"] = f"postgresql://app@127.0.0.1:{server.port}/app?sslmode=disable"
        attack_ends = time.monotonic() + 2

        def attack() -> int:
            probes = 0
            while time.monotonic() < attack_ends:
                httpx.get(served.url("/probe"), params=params, timeout=15, trust_env=False)
                probes += 1
            return probes

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            attackers = [pool.submit(attack) for _ in range(6)]
            slowest = 0.0
            while time.monotonic() < attack_ends:
                started = time.monotonic()
                health = httpx.get(served.url("/-/healthy"), timeout=5, trust_env=False)
                assert health.status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                time.sleep(0.1)
            probes = sum(attacker.result() for attacker in attackers)
    assert slowest < 2.0, f"/-/healthy took {slowest:.2f} s"
    assert probes >= 12  # each probe ended at the header, long before its 2 s timeout
