"""Servers that answer in ways no rule reads never crash a probe, and what they say is kept to
a bounded size (docs/bounds.md).

Each server here is hostile on purpose, on loopback: a Redis that sends a line with no end, a
PostgreSQL whose error claims megabytes of text. The probe ends by its deadline with a code:
``probe.unexpected_error`` when no rule reads the answer, its evidence the error it met.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import struct
from typing import Any

import pytest

from tests.servers.hostile import Answer, hostile
from tests.servers.tls import Certificates

COMPONENT_JSON = 64 << 10  # docs/bounds.md: one component's JSON, at most


def endless_redis_line(connection: socket.socket) -> None:
    """A simple-string reply that never ends: 1 MiB of ``x`` and no CRLF."""
    connection.sendall(b"+" + b"x" * (1 << 20))


def huge_postgres_error(connection: socket.socket) -> None:
    """The answer to the start-up: an ErrorResponse of 900 KiB, within the 1 MiB bound."""
    text = b"C28P01\x00SFATAL\x00M" + b"m" * (900 << 10) + b"\x00\x00"
    connection.sendall(b"E" + struct.pack("!I", len(text) + 4) + text)


@pytest.fixture
def diagnose(write_stack: Any, run_cli: Any) -> Any:
    def run(url: str) -> dict[str, Any]:
        result = run_cli("diagnose", str(write_stack({"target": {"url": url}})), "--json")
        assert result.status == 1, result.out
        target: dict[str, Any] = result.component("target")
        assert len(json.dumps(target)) < COMPONENT_JSON  # whatever the server said
        return target

    return run


def test_a_redis_line_without_an_end_is_a_result_not_a_crash(diagnose: Any) -> None:
    with hostile(endless_redis_line) as server:
        target = diagnose(f"redis://127.0.0.1:{server.port}/0")
    assert target["code"] == "probe.unexpected_error"
    assert target["phases"][-1]["layer"] == "redis"
    assert any("the prober raised" in line for line in target["evidence"])


def test_a_postgresql_error_within_the_bound_is_read_and_cut_to_size(diagnose: Any) -> None:
    with hostile(huge_postgres_error) as server:
        target = diagnose(f"postgresql://app@127.0.0.1:{server.port}/app?sslmode=disable")
    assert target["code"] == "postgres.auth_failed"  # SQLSTATE 28P01, whatever the text
    assert max(len(line) for line in target["evidence"]) <= 1000
    assert len(target["phases"][-1]["detail"]) <= 300


def test_a_body_nested_past_any_depth_is_no_json_not_a_crash(
    write_stack: Any, run_cli: Any
) -> None:
    deep = b"[" * 100_000

    def answer(connection: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(deep)}\r\n\r\n".encode()
        connection.sendall(head + deep)

    with hostile(answer) as server:
        stack = write_stack(
            {
                "api": {
                    "url": f"http://127.0.0.1:{server.port}/",
                    "expect": {"json": {"$.status": "ok"}},
                }
            }
        )
        result = run_cli("diagnose", str(stack), "--json")
    assert result.status == 1
    api = result.component("api")
    assert api["code"] == "http.unexpected_body"
    assert "is not JSON" in api["phases"][-1]["detail"]


def test_an_endless_body_is_read_to_256_kib_and_no_further(write_stack: Any, run_cli: Any) -> None:
    def answer(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
        chunk = b"y" * 65536
        for _ in range(200):  # 12.5 MiB, far more than is read
            connection.sendall(chunk)

    with hostile(answer) as server:
        stack = write_stack({"api": {"url": f"http://127.0.0.1:{server.port}/"}})
        result = run_cli("diagnose", str(stack), "--json")
    assert result.status == 0, result.out
    assert result.component("api")["http_status"] == 200


def test_ten_megabytes_of_headers_are_no_response(write_stack: Any, run_cli: Any) -> None:
    def answer(connection: socket.socket) -> None:
        header = b"X-Filler: " + b"z" * 1000 + b"\r\n"
        connection.sendall(b"HTTP/1.1 200 OK\r\n" + header * 10_000)

    with hostile(answer) as server:
        stack = write_stack({"api": {"url": f"http://127.0.0.1:{server.port}/"}})
        result = run_cli("diagnose", str(stack), "--json")
    api = result.component("api")
    assert api["code"] == "http.no_response"
    assert max(len(line) for line in api["evidence"]) <= 1000


def streaming_bulk_string(connection: socket.socket) -> None:
    """``$1000000000`` and then bytes for as long as anyone reads them."""
    connection.sendall(b"$1000000000\r\n")
    with contextlib.suppress(OSError):
        for _ in range(4096):  # up to 256 MiB, unless the reader hangs up first
            connection.sendall(b"a" * 65536)


def nested_arrays(connection: socket.socket) -> None:
    connection.sendall(b"*1\r\n" * 200_000)


def endless_array(connection: socket.socket) -> None:
    connection.sendall(b"*1000000000\r\n" + b":1\r\n" * 50_000)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (streaming_bulk_string, "the server sent a bulk string of 1,000,000,000 bytes"),
        (nested_arrays, "the server sent arrays nested past any depth"),
        (endless_array, "the server sent a reply of more than 10,000 elements"),
    ],
)
def test_a_redis_reply_past_the_bounds_is_a_fault_read_no_further(
    diagnose: Any, answer: Answer, says: str
) -> None:
    with hostile(answer) as server:
        target = diagnose(f"redis://127.0.0.1:{server.port}/0")
    assert target["code"] == "redis.error"
    assert any(says in line for line in target["evidence"]), target["evidence"]
    assert target["duration_ms"] < 2000  # refused at once, long before the 2 s deadline


def websocket_upgrade(connection: socket.socket, request: bytes) -> None:
    """Answer the upgrade ``request`` with 101 as RFC 6455 says (section 4.2.2)."""
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    connection.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def test_a_websocket_message_past_1_mib_is_refused_at_its_header(
    write_stack: Any, run_cli: Any
) -> None:
    """After the upgrade, a text frame whose header says 1 GB, then bytes for as long as anyone
    reads them: the probe refuses it at the header (close 1009) and says so."""

    def answer(connection: socket.socket) -> None:
        request = connection.recv(65536)  # the upgrade request
        if not request:  # the TCP rung's connection, closed without a word
            return
        websocket_upgrade(connection, request)
        connection.recv(65536)  # the probe's message
        connection.sendall(b"\x81\x7f" + struct.pack("!Q", 1 << 30))
        with contextlib.suppress(OSError):
            for _ in range(4096):
                connection.sendall(b"w" * 65536)

    with hostile(answer, read_first=False) as server:
        stack = write_stack(
            {
                "chat": {
                    "url": f"ws://127.0.0.1:{server.port}/ws",
                    "send": "hello",
                    "expect": {"message": "hi"},
                }
            }
        )
        result = run_cli("diagnose", str(stack), "--json")
    chat = result.component("chat")
    assert chat["code"] == "ws.unexpected_message"
    assert "the server sent a message over the 1 MiB bound" in chat["phases"][-1]["detail"]
    assert chat["duration_ms"] < 2000


def test_a_server_s_words_are_shown_as_text_not_markup_or_escapes(
    write_stack: Any, run_cli: Any
) -> None:
    """A Redis error holding rich markup ('[/]' once ended the whole diagnosis with MarkupError)
    and a terminal escape sequence (clear the screen): the table shows both as text."""

    def answer(connection: socket.socket) -> None:
        connection.sendall(b"-ERR a [/] tag [bold]x\x1b[2J\xc2\x9b1m\r\n")  # ESC, then CSI (U+009B)

    with hostile(answer) as server:
        stack = write_stack({"cache": {"url": f"redis://127.0.0.1:{server.port}/0"}})
        human = run_cli("diagnose", str(stack))
        document = run_cli("diagnose", str(stack), "--json")
    assert human.status == 1, human.err
    assert "[/] tag [bold]x\\x1b[2J\\x9b1m" in human.out
    assert "\x1b" not in human.out
    assert "\x9b" not in human.out
    assert document.component("cache")["phases"][-1]["detail"].endswith("\\x1b[2J\\x9b1m")


def test_a_certificate_of_a_thousand_names_shows_a_hundred(
    write_stack: Any, run_cli: Any, certificates: Certificates
) -> None:
    names = [f"n{number}.example.test" for number in range(1000)]
    served = certificates.issue("thousand-names", *names)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(served.chain, served.key)

    def answer(connection: socket.socket) -> None:
        with context.wrap_socket(connection, server_side=True) as secured:
            secured.recv(1)

    with hostile(answer, read_first=False) as server:
        stack = write_stack(
            {
                "edge": {
                    "url": f"tls://127.0.0.1:{server.port}",
                    "tls": {"ca": str(certificates.ca_file), "server_name": "n999.example.test"},
                }
            }
        )
        result = run_cli("diagnose", str(stack), "--json")
    assert result.status == 0, result.out
    edge = result.component("edge")
    assert edge["certificate"]["names"] == names[:100]
    assert len(json.dumps(edge)) < COMPONENT_JSON
