"""The first bytes a server sent → which protocol it speaks (for ``protocol.mismatch``).

A URL aimed at the wrong service is a configuration mistake with a tell-tale answer: a
``redis://`` URL at PostgreSQL's port gets no reply to PING (PostgreSQL reads the bytes as a
start-up packet of absurd length, logs "invalid length of startup packet" and closes), an
``http://`` URL at Redis gets ``-ERR …`` where a status line belongs, a plain request at a TLS
port gets a TLS alert. Each wording below was produced by the real server in
tests/integration/test_protocol_mismatch.py. Pure: bytes in, a name out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Speaker:
    """What answered: the protocol's name, and the evidence in a phrase."""

    protocol: str  # http | postgresql | redis | tls | ssh | mysql | smtp
    said: str  # "answered: HTTP/1.1 400 Bad Request"


_PRINTABLE = re.compile(rb"[\x20-\x7e]+")


def identify(data: bytes, *, asked_ssl_request: bool = False) -> Speaker | None:
    """The protocol whose server sends ``data`` first (as a banner, or in answer to a request
    of another protocol); ``asked_ssl_request``: the bytes answer PostgreSQL's SSLRequest."""
    if not data:
        return None
    first_line = _quote(data.split(b"\r\n", 1)[0].split(b"\n", 1)[0])
    if data.startswith(b"HTTP/"):
        return Speaker("http", f"answered with an HTTP status line: {first_line}")
    if data[:1] in (b"-", b"+", b"$", b"*", b":") and b"\r\n" in data[:512]:
        return Speaker("redis", f"answered with a Redis reply: {first_line}")
    if len(data) >= 2 and data[0] in (0x15, 0x16) and data[1] == 0x03:
        kind = "an alert" if data[0] == 0x15 else "a handshake record"
        return Speaker("tls", f"answered with {kind} of TLS")
    if asked_ssl_request and data in (b"S", b"N"):
        return Speaker("postgresql", f"answered PostgreSQL's SSLRequest with {data.decode()!r}")
    if data[:1] == b"E" and (b"SFATAL" in data[:64] or b"SERROR" in data[:64]):
        return Speaker("postgresql", "answered with a PostgreSQL ErrorResponse")
    if data.startswith(b"SSH-"):
        return Speaker("ssh", f"sent an SSH banner: {first_line}")
    if len(data) > 5 and data[3] == 0 and data[4] == 0x0A:  # length, sequence 0, protocol 10
        return Speaker("mysql", "sent a MySQL greeting")
    if re.match(rb"220[ -]", data):
        return Speaker("smtp", f"sent a greeting: {first_line}")
    return None


def describe(speaker: Speaker) -> str:
    """``a PostgreSQL server answers there (it answered PostgreSQL's SSLRequest with 'N')``."""
    names = {
        "http": "an HTTP server",
        "postgresql": "a PostgreSQL server",
        "redis": "a Redis server",
        "tls": "a TLS server",
        "ssh": "an SSH server",
        "mysql": "a MySQL server",
        "smtp": "an SMTP (or FTP) server",
    }
    return f"{names.get(speaker.protocol, speaker.protocol)} answers there (it {speaker.said})"


def _quote(line: bytes, limit: int = 80) -> str:
    text = b" ".join(_PRINTABLE.findall(line[:limit])).decode("ascii")
    return repr(text + ("…" if len(line) > limit else ""))
