"""``redis://`` and ``rediss://``: resolve, connect (TLS), then ``PING`` and a tiny write.

The write (``SET faultfinder:probe … PX 10000``) is what makes OOM and READONLY visible, as an
application that writes would see them; ``write: false`` on the component turns it off.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, unquote

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from redis._parsers import _AsyncRESP3Parser
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig

from faultfinder.classify import (
    Finding,
    chain,
    classify_os_error,
    classify_text,
    describe,
)
from faultfinder.classify.protocols import describe as describe_speaker
from faultfinder.errors import ProbeFault
from faultfinder.probe._answer import mismatch
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import Connection, join_host_port, reach_open
from faultfinder.probe.identify import what_speaks

PROBE_KEY = "faultfinder:probe"
# What one reply may hold (docs/bounds.md): a hostile server's "$1000000000" would otherwise be
# read whole, and "*1" nested 200,000 deep would be followed all the way down.
REPLY_BYTES = 1 << 20  # one bulk string
REPLY_LINES = 10_000  # lines of one reply: every element of its arrays, however nested


class ReplyTooLarge(redis_errors.InvalidResponse):
    """A reply past the bounds above: a fault with its evidence, never the memory spent."""


class _BoundedParser(_AsyncRESP3Parser):
    """redis-py's own parser (RESP3, which redis-py speaks to any Redis 6 or newer), refusing a
    reply past the bounds before reading it."""

    _lines = 0

    async def read_response(
        self, disable_decoding: bool = False, push_request: bool = False
    ) -> Any:
        self._lines = 0
        try:
            return await super().read_response(
                disable_decoding=disable_decoding, push_request=push_request
            )
        except RecursionError:  # arrays nested deeper than Python's stack, before the line bound
            raise ReplyTooLarge("the server sent arrays nested past any depth") from None

    async def _readline(self) -> bytes:
        self._lines += 1
        if self._lines > REPLY_LINES:
            raise ReplyTooLarge(f"the server sent a reply of more than {REPLY_LINES:,} elements")
        return await super()._readline()

    async def _read(self, length: int) -> bytes:
        if length > REPLY_BYTES:
            raise ReplyTooLarge(f"the server sent a bulk string of {length:,} bytes")
        return await super()._read(length)


async def probe(ladder: Ladder) -> None:
    connection = await reach_open(ladder)
    try:
        await ping(ladder, connection.address, connection)
    finally:
        connection.close()  # redis-py closed it already, unless it never got to use it


async def ping(ladder: Ladder, address: str, connection: Connection | None = None) -> None:
    """PING (and the write or command) on ``connection`` when given, else on a new one."""
    component = ladder.component
    parts = component.parts
    socket = component.socket_path
    # the database: the URL's path, or for a socket (whose path is the socket's) ?db=N
    database = parse_qs(parts.query).get("db", ["0"])[0] if socket else parts.path.lstrip("/")
    target = socket or join_host_port(address, component.port)
    remaining = max(ladder.remaining(), 0.001)
    tls = component.scheme.tls
    where: dict[str, Any] = (
        {"unix_socket_path": socket}
        if socket
        else {
            "host": address,
            "port": component.port,
        }
    )
    client = aioredis.Redis(
        **where,
        db=int(database) if database.isdigit() else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        socket_timeout=remaining,
        socket_connect_timeout=remaining,
        retry=Retry(NoBackoff(), 0),  # a probe is one attempt; retries would hide the fault
        single_connection_client=True,
        ssl=tls,
        ssl_ca_certs=component.tls.ca if tls else None,
        # the TLS rung verified the certificate against the name; this connection uses the address
        ssl_check_hostname=False,
        # a parser of our own (bounded); a probe needs no maintenance notifications
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    client.connection_pool.connection_kwargs["parser_class"] = _BoundedParser
    if connection is not None:
        pool = client.connection_pool
        pool.connection_class = _adopting(pool.connection_class, connection)

    async def run() -> str:
        try:
            try:
                await client.ping()
            except (redis_errors.ConnectionError, redis_errors.InvalidResponse) as error:
                if connection is not None:
                    await _raise_reset(connection, error)
                if _no_redis_reply(error):
                    await _other_protocol(ladder, address, error)
                raise
            if component.spec.command:
                return await _command(ladder, client, component.spec.command)
            if component.spec.write:
                await client.set(PROBE_KEY, "1", px=10_000)
                return "PING ok, write ok"
            return "PING ok"
        finally:
            await client.aclose()

    await ladder.rung(
        "redis",
        run,
        classify=lambda error: classify_error(target, error),
        detail=lambda answer: answer,
    )


async def _raise_reset(connection: Connection, error: BaseException) -> None:
    """A reset that lands between the TCP rung and PING closes the adopted transport before
    redis-py writes ("Connection closed by the server before write"); the loop tells the stream
    why a moment later. Raise that reset (tcp.reset), as a fresh connection would have."""
    if connection.writer.transport.is_closing():
        await asyncio.sleep(0)
        reason = connection.reader.exception()
        if isinstance(reason, ConnectionResetError):
            raise reason from error


def _adopting(base: type[Any], connection: Connection) -> type[Any]:
    """redis-py's connection class, taking the ladder's open (TLS-verified) streams instead of
    connecting again: the TCP and TLS rungs' connection is the one PING goes over, so a probe
    costs the server one connection, as the application's client would."""

    class Adopting(base):  # type: ignore[misc]
        async def _connect(self) -> None:
            self._reader, self._writer = connection.reader, connection.writer

    return Adopting


async def _command(ladder: Ladder, client: aioredis.Redis, command: list[str]) -> str:
    """Run the check's own command; its reply (as JSON) must be what ``expect`` says."""
    reply = _decoded(await client.execute_command(*command))  # type: ignore[no-untyped-call]
    ladder.body = json.dumps(reply)
    reason = mismatch(ladder.component.spec.expect, ladder.body)
    if reason is not None:
        raise ProbeFault("redis.unexpected_reply", f"{command[0]}: the reply {reason}")
    return f"PING ok, {command[0]} ok"


def _decoded(reply: Any) -> Any:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    if isinstance(reply, list | tuple):
        return [_decoded(item) for item in reply]
    if isinstance(reply, dict):
        return {str(_decoded(key)): _decoded(value) for key, value in reply.items()}
    return reply


def classify_error(target: str, error: BaseException) -> Finding | None:
    """What redis-py raised → the fault; any redis-py or socket error becomes a finding."""
    if isinstance(error, redis_errors.TimeoutError):
        return Finding("redis.timeout", "no reply in time", f"redis at {target}: no reply to PING")
    message = describe(error)
    if isinstance(error, redis_errors.RedisError):
        code = classify_text(message)
        if code is None or not code.startswith("redis."):
            code = _by_type(error)
        if code is not None:
            return Finding(code, message, f"redis at {target} answered: {message}")
    finding = classify_os_error(target, error) or _lost(error)
    if finding is not None:  # TCP set-up held on its own rung: this came after it
        evidence = f"redis at {target}: {finding.detail} after the TCP connect"
        return Finding(finding.code, finding.detail, evidence)
    if isinstance(error, redis_errors.ConnectionError | OSError):
        # "Connection closed by server.": a close (FIN) before any reply, as from a proxy with
        # no backend; not an answer from Redis.
        return Finding("redis.error", message, f"redis at {target}: {message} (no reply)")
    if isinstance(error, redis_errors.RedisError):
        return Finding("redis.error", message, f"redis at {target} answered: {message}")
    return None


def _no_redis_reply(error: BaseException) -> bool:
    """No reply a Redis server ever gives to PING: a close before any reply, or bytes that are
    not RESP (redis-py's "Protocol Error")."""
    if isinstance(error, ReplyTooLarge):  # a Redis reply, only far too large
        return False
    if isinstance(error, redis_errors.InvalidResponse):
        return True
    return type(error) is redis_errors.ConnectionError and "closed by server" in str(error)


async def _other_protocol(ladder: Ladder, address: str, error: BaseException) -> None:
    """Raise ``protocol.mismatch`` when another protocol answers at the address."""
    speaker = await what_speaks(ladder, address)
    if speaker is not None and speaker.protocol != "redis":
        detail = f"no Redis reply to PING: {describe_speaker(speaker)}"
        where = ladder.component.socket_path or join_host_port(address, ladder.component.port)
        raise ProbeFault("protocol.mismatch", detail, f"{where}: {detail}") from error


def _lost(error: BaseException) -> Finding | None:
    """A write that found the connection already torn down by the peer (a reset, racing with
    the read's ECONNRESET): asyncio says so with an errno-less ConnectionResetError("Connection
    lost"), uvloop with a RuntimeError ("unable to perform operation on <TCPTransport
    closed=True …>; the handler is closed")."""
    for link in chain(error):
        lost = isinstance(link, ConnectionResetError) and link.errno is None
        if lost or (isinstance(link, RuntimeError) and "the handler is closed" in str(link)):
            detail = f"connection reset ({describe(link)})"
            return Finding("tcp.reset", detail, detail)
    return None


def _by_type(error: BaseException) -> str | None:
    table: tuple[tuple[type[BaseException], str], ...] = (
        (redis_errors.AuthenticationError, "redis.auth_failed"),
        (redis_errors.AuthenticationWrongNumberOfArgsError, "redis.auth_failed"),
        (redis_errors.BusyLoadingError, "redis.loading"),
        (redis_errors.OutOfMemoryError, "redis.oom"),
        (redis_errors.ReadOnlyError, "redis.readonly"),
    )
    return next((code for kind, code in table if isinstance(error, kind)), None)
