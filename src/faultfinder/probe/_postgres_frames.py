"""A PostgreSQL server's messages, read by their headers before asyncpg reads them whole.

asyncpg buffers a whole message before it parses it: an ErrorResponse claiming 100 MB is
100 MB of memory and, in pieces, seconds of an event loop that serves other probes. Each
message starts with a type byte and a length (protocol v3), so the length is known from the
first five bytes: a message past ``MESSAGE_BYTES`` ends the connection there, with evidence.

asyncpg takes the event loop to use (``asyncpg.connect(loop=…)``). ``FramedLoop`` hands it
the running loop with the connection calls wrapped, so the bytes pass through ``_Frames`` on
every path asyncpg takes: plain TCP, a Unix socket, TLS after an SSLRequest, direct TLS.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

from asyncpg import protocol as asyncpg_protocol

# What one connection may carry (docs/bounds.md). A probe asks for one value; no honest answer
# comes near these.
MESSAGE_BYTES = 1 << 20  # one message
CONNECTION_BYTES = 4 << 20  # every message of one connection
CONNECTION_MESSAGES = 100_000  # e.g. an endless stream of NoticeResponse or ParameterStatus

# The first message a server sends in answer to a start-up (protocol v3): an Authentication
# request, an error or notice, or NegotiateProtocolVersion. Any other byte is no PostgreSQL.
FIRST_TYPES = frozenset(b"ENRv")
NAMES = {ord("E"): "an ErrorResponse", ord("N"): "a NoticeResponse", ord("D"): "a DataRow"}


class ReplyTooLarge(ConnectionError):
    """A message past the bounds above, with what the server sent; ``from_postgresql`` is
    False when it could be no PostgreSQL's first message."""

    def __init__(self, detail: str, from_postgresql: bool = True) -> None:
        super().__init__(detail)
        self.from_postgresql = from_postgresql


class _Frames(asyncio.Protocol):
    """Reads each message's header as the bytes pass on to asyncpg's protocol."""

    def __init__(self, inner: asyncio.Protocol, loop: FramedLoop) -> None:
        self.inner = inner
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.header = bytearray()  # the first bytes of a header split between reads
        self.left = 0  # bytes of the current message still to come
        self.received = 0
        self.messages = 0
        self.refused: ReplyTooLarge | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.refused is not None:
            return
        self.received += len(data)
        self.refused = self._read_headers(data)
        if self.refused is None:
            self.inner.data_received(data)
            return
        self.loop.refused = self.refused
        if self.transport is not None:
            self.transport.abort()  # read no further; connection_lost tells asyncpg why

    def _read_headers(self, data: bytes) -> ReplyTooLarge | None:
        if self.received > CONNECTION_BYTES:
            return ReplyTooLarge(f"the server sent more than {CONNECTION_BYTES >> 20} MiB")
        at = 0
        while at < len(data):
            if self.left:
                step = min(self.left, len(data) - at)
                self.left -= step
                at += step
                continue
            taken = data[at : at + 5 - len(self.header)]
            self.header += taken
            at += len(taken)
            if len(self.header) < 5:
                break
            kind, length = self.header[0], int.from_bytes(self.header[1:5], "big")
            self.header.clear()
            self.messages += 1
            first = self.messages == 1
            if first and kind not in FIRST_TYPES:
                if length < 4 or length - 4 > MESSAGE_BYTES:
                    return _stranger(kind, length)
            elif length < 4:
                detail = f"the server sent a message whose length ({length}) is impossible"
                return ReplyTooLarge(detail)
            if length - 4 > MESSAGE_BYTES:
                return _too_large(kind, length, data[at : at + 200])
            if self.messages > CONNECTION_MESSAGES:
                detail = f"the server sent more than {CONNECTION_MESSAGES:,} messages"
                return ReplyTooLarge(detail)
            self.left = length - 4
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(self.refused or exc)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _stranger(kind: int, length: int) -> ReplyTooLarge:
    """A first message no PostgreSQL sends, its header read as one ('HTTP' claims 1.4 GB)."""
    shown = bytes([kind]).decode("latin-1")
    detail = f"the server's first byte {shown!r} starts no PostgreSQL answer to a start-up"
    return ReplyTooLarge(f"{detail} (read as a length: {length:,} bytes)", from_postgresql=False)


def _too_large(kind: int, length: int, start: bytes) -> ReplyTooLarge:
    """'the server sent an ErrorResponse of 100,000,024 bytes (SQLSTATE 28P01)'."""
    name = NAMES.get(kind, f"a {bytes([kind]).decode('latin-1')!r} message")
    detail = f"the server sent {name} of {length:,} bytes"
    sqlstate = _field(start, b"C") if kind in (ord("E"), ord("N")) else None
    if sqlstate:
        detail += f" (SQLSTATE {sqlstate})"
    return ReplyTooLarge(f"{detail}, over the {MESSAGE_BYTES >> 20} MiB bound")


def _field(body: bytes, code: bytes) -> str | None:
    """One field of an ErrorResponse's start: type byte, text, NUL; None when cut short."""
    for field in body.split(b"\x00"):
        if field[:1] == code and len(field) <= 6:
            return field[1:].decode("ascii", "replace")
    return None


class _FramedTransport:
    """A transport whose new protocol (``set_protocol``) is read through ``_Frames``."""

    def __init__(self, transport: Any, loop: FramedLoop) -> None:
        self._transport = transport
        self._loop = loop

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        framed = self._loop.frame(protocol)
        if isinstance(framed, _Frames):
            framed.transport = self._transport
        self._transport.set_protocol(framed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class FramedLoop:
    """The running loop for asyncpg, its connections read through ``_Frames``.

    ``refused`` holds the bound a server broke, for the prober's verdict. ``sock``: a socket
    the TCP rung connected, used by asyncpg's first connection instead of connecting again, so
    a probe costs the server one connection."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket | None = None) -> None:
        self._loop = loop
        self.refused: ReplyTooLarge | None = None
        self.sock = sock

    def _connected(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """The arguments of a connect: the rung's socket in place of the address, once."""
        if self.sock is None or "sock" in kwargs:
            return args
        kwargs["sock"], self.sock = self.sock, None
        return ()  # host and port (or the socket's path): the socket is connected already

    def close(self) -> None:
        """Close the rung's socket if asyncpg never used it (a failure before connecting)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def frame(self, protocol: Any) -> Any:
        # Only asyncpg's own protocol: the SSLRequest's one-byte answer has a reader of its own.
        if isinstance(protocol, asyncpg_protocol.Protocol):
            return _Frames(protocol, self)
        return protocol

    async def create_connection(self, factory: Any, *args: Any, **kwargs: Any) -> Any:
        args = self._connected(args, kwargs)
        transport, protocol = await self._loop.create_connection(
            lambda: self.frame(factory()), *args, **kwargs
        )
        return _FramedTransport(transport, self), _unframed(protocol)

    async def create_unix_connection(self, factory: Any, *args: Any, **kwargs: Any) -> Any:
        args = self._connected(args, kwargs)
        transport, protocol = await self._loop.create_unix_connection(
            lambda: self.frame(factory()), *args, **kwargs
        )
        return _FramedTransport(transport, self), _unframed(protocol)

    async def start_tls(self, transport: Any, *args: Any, **kwargs: Any) -> Any:
        raw = transport._transport if isinstance(transport, _FramedTransport) else transport
        upgraded = await self._loop.start_tls(raw, *args, **kwargs)
        return None if upgraded is None else _FramedTransport(upgraded, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


def _unframed(protocol: Any) -> Any:
    return protocol.inner if isinstance(protocol, _Frames) else protocol
