"""Which protocol answers at a component's address, asked on connections of its own.

Used only after a protocol rung failed in a way its protocol never fails (no reply at all to
PING, a status line that is not HTTP), to tell a URL aimed at the wrong service
(``protocol.mismatch``, with what answers there) from a server that is merely broken. Two short
exchanges at most, within what is left of the component's deadline and never more than
``IDENTIFY_SECONDS``: first a banner (SSH, MySQL and SMTP speak first) or the answer to a
``HEAD`` request (HTTP answers it, Redis says ``-ERR unknown command``, TLS sends an alert);
then, if the server closed in silence, PostgreSQL's 8-byte SSLRequest on a second connection
(PostgreSQL closes silently on anything else, and answers this with one byte); last, a TLS
hello of its own (a TLS server closes without a word on plain bytes, as OpenSSL does on an
HTTP request, and answers a hello). Three short exchanges at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from faultfinder.classify.protocols import Speaker, identify
from faultfinder.probe._ladder import Ladder

IDENTIFY_SECONDS = 1.0
BANNER_SECONDS = 0.15  # servers that speak first do so at once
HEAD_REQUEST = b"HEAD / HTTP/1.0\r\n\r\n"
SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"  # length 8, code 80877103
READ_SIZE = 512


async def what_speaks(ladder: Ladder, address: str) -> Speaker | None:
    """The protocol that answers at ``address`` (the one the TCP rung reached, or the socket
    path), or None when it cannot be told in time."""
    budget = min(ladder.remaining(), IDENTIFY_SECONDS)
    if budget <= 0.05:
        return None
    try:
        async with asyncio.timeout(budget):
            answer = await _exchange(ladder, address, HEAD_REQUEST, banner=True)
            if answer:
                return identify(answer)
            answer = await _exchange(ladder, address, SSL_REQUEST)
            if answer:
                return identify(answer, asked_ssl_request=True)
            return await _tls_hello(ladder, address)
    except (OSError, TimeoutError, EOFError):
        return None


async def _tls_hello(ladder: Ladder, address: str) -> Speaker | None:
    """A TLS server completes a handshake (nothing is verified: only who answers matters)."""
    component = ladder.component
    if component.socket_path:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.open_connection(address, component.port, ssl=context)
    except (ssl.SSLError, ConnectionError):  # answered, but not with TLS
        return None
    writer.transport.abort()
    return Speaker("tls", "completed a TLS handshake")


async def _exchange(ladder: Ladder, address: str, request: bytes, *, banner: bool = False) -> bytes:
    component = ladder.component
    if component.socket_path:
        reader, writer = await asyncio.open_unix_connection(component.socket_path)
    else:
        reader, writer = await asyncio.open_connection(address, component.port)
    try:
        if banner:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(BANNER_SECONDS):
                    first = await reader.read(READ_SIZE)
                    if first:
                        return first
        writer.write(request)
        await writer.drain()
        return await reader.read(READ_SIZE)
    finally:
        writer.transport.abort()
