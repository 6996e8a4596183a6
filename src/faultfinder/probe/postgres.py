"""``postgresql://``: resolve, connect, then the start-up handshake and ``SELECT 1`` (asyncpg).

With ``sslmode=verify-ca`` or ``verify-full`` the certificate is checked against ``tls.ca``,
else the URL's ``sslrootcert`` (``system``: the system store), else ``PGSSLROOTCERT``, else
``~/.postgresql/root.crt`` as libpq would, else the system store; verify-full checks it is
for ``tls.server_name``, else the URL's host.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from socket import socket as Socket
from typing import cast
from urllib.parse import parse_qs, unquote

import asyncpg

from faultfinder.classify import (
    Finding,
    chain,
    classify_os_error,
    classify_sqlstate,
    classify_text,
    classify_tls_error,
    describe,
)
from faultfinder.classify.protocols import describe as describe_speaker
from faultfinder.errors import ProbeFault
from faultfinder.probe._answer import mismatch
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._postgres_frames import FramedLoop, ReplyTooLarge
from faultfinder.probe._steps import join_host_port, reach_open, server_name
from faultfinder.probe.identify import what_speaks

VERIFYING = ("verify-ca", "verify-full")
IDENTIFY_RESERVE = 0.5  # seconds kept back from the start-up to ask what answers instead


async def probe(ladder: Ladder) -> None:
    connection = await reach_open(ladder)
    # A copy of the rung's socket for asyncpg: the rung's transport is closed, the TCP
    # connection stays, and the server sees one connection per probe, not two.
    sock = connection.writer.get_extra_info("socket").dup()
    connection.close()
    await select_one(ladder, connection.address, sock)


async def select_one(ladder: Ladder, address: str, sock: Socket | None = None) -> None:
    component = ladder.component
    parts = component.parts
    user = unquote(parts.username or "") or os.environ.get("PGUSER") or "postgres"
    password = unquote(parts.password) if parts.password else os.environ.get("PGPASSWORD")
    database = unquote(parts.path.lstrip("/")) or user
    options = parse_qs(parts.query)
    sslmode = options.get("sslmode", ["prefer"])[0]
    rootcert = options.get("sslrootcert", [""])[0]
    socket = component.socket_path  # asyncpg takes a socket's path as the host
    target = socket or join_host_port(address, component.port)

    async def run() -> str:
        # Inside the rung: a CA bundle that cannot be read is this probe's failure.
        tls = verify_context(ladder, sslmode, rootcert) if sslmode in VERIFYING else sslmode
        # Time is kept back to ask what answers, should the server be no PostgreSQL: an HTTP
        # server waits for the rest of a request after the 8-byte SSLRequest, in silence.
        kept = min(IDENTIFY_RESERVE, ladder.remaining() / 4)
        try:
            return await exchange(tls, kept, framed)
        except Exception as error:
            if framed.refused is None:
                raise
            await _over_bound(ladder, address, framed.refused, error)
            raise

    async def exchange(tls: ssl.SSLContext | str, kept: float, framed: FramedLoop) -> str:
        try:
            async with asyncio.timeout(max(ladder.remaining() - kept, 0.001)):
                connection = await asyncpg.connect(
                    host=socket or address,
                    port=component.port,
                    user=user,
                    password=password,
                    database=database,
                    ssl=tls,
                    timeout=max(ladder.remaining() - kept, 0.001),
                    server_settings={"application_name": "faultfinder"},
                    loop=cast(asyncio.AbstractEventLoop, framed),
                )
        except (TimeoutError, ConnectionError) as error:
            if isinstance(error, TimeoutError) or "rejected SSL upgrade" in str(error):
                await _other_protocol(ladder, address, error)
            raise
        try:
            version = await connection.fetchval("SHOW server_version")
            if component.spec.query:
                return await _query(ladder, connection, component.spec.query)
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close(timeout=max(ladder.remaining(), 0.001))
        return f"SELECT 1 ok (server {version})"

    framed = FramedLoop(asyncio.get_running_loop(), sock)
    try:
        await ladder.rung(
            "postgres",
            run,
            classify=lambda error: classify_error(target, error),
            detail=lambda answer: answer,
        )
    finally:
        framed.close()  # the rung's socket, if it failed before asyncpg took it


class _VerifyAs(ssl.SSLContext):
    """A client context that sends and checks ``name``, whatever host the driver was given.

    asyncpg takes the TLS server name from the host it connects to; the prober connects to the
    address the TCP rung reached, so the name to verify is set here instead.
    """

    name: str | None = None

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side, self.name, session)


def verify_context(ladder: Ladder, sslmode: str, sslrootcert: str) -> ssl.SSLContext:
    """The context for verify-ca (a trusted chain) and verify-full (and for this name)."""
    context = _VerifyAs(ssl.PROTOCOL_TLS_CLIENT)
    bundle = _root_certificates(ladder.component.tls.ca, sslrootcert)
    try:
        if bundle:
            context.load_verify_locations(cafile=bundle)
        else:
            context.load_default_certs()
    except OSError as error:  # ssl.SSLError too: a file that holds no certificate
        detail = f"cannot load the CA bundle {bundle!r}: {describe(error)}"
        raise ProbeFault("postgres.error", detail) from None
    context.check_hostname = sslmode == "verify-full"
    context.name = server_name(ladder)
    return context


async def _over_bound(
    ladder: Ladder, address: str, refused: ReplyTooLarge, error: BaseException
) -> None:
    """Raise the fault for a message past the bounds: ``protocol.mismatch`` when its first byte
    is no PostgreSQL message and another protocol answers, else ``postgres.error``."""
    if not refused.from_postgresql:
        await _other_protocol(ladder, address, error)
    where = ladder.component.socket_path or join_host_port(address, ladder.component.port)
    detail = f"{refused}; read no further"
    raise ProbeFault("postgres.error", detail, f"postgres at {where}: {detail}") from error


async def _other_protocol(ladder: Ladder, address: str, error: BaseException) -> None:
    """Raise ``protocol.mismatch`` when another protocol answers at the address: no answer
    to the start-up, or an answer to the SSLRequest that PostgreSQL never gives."""
    speaker = await what_speaks(ladder, address)
    if speaker is not None and speaker.protocol != "postgresql":
        detail = f"no PostgreSQL answer: {describe_speaker(speaker)}"
        where = ladder.component.socket_path or join_host_port(address, ladder.component.port)
        raise ProbeFault("protocol.mismatch", detail, f"{where}: {detail}") from error


def _root_certificates(ca: str | None, sslrootcert: str) -> str | None:
    """The CA bundle to trust, in the order above; None for the system store."""
    if ca:
        return ca
    configured = sslrootcert or os.environ.get("PGSSLROOTCERT", "")
    if configured:
        return None if configured == "system" else os.path.expanduser(configured)
    default = os.path.expanduser("~/.postgresql/root.crt")
    return default if os.path.isfile(default) else None


async def _query(ladder: Ladder, connection: asyncpg.Connection, query: str) -> str:
    """Run the check's own query; its first value (as JSON) must be what ``expect`` says."""
    ladder.body = json.dumps(await connection.fetchval(query), default=str)
    reason = mismatch(ladder.component.spec.expect, ladder.body)
    if reason is not None:
        raise ProbeFault("postgres.unexpected_result", f"the query's first value {reason}")
    return "query ok"


def classify_error(target: str, error: BaseException) -> Finding | None:
    """What asyncpg raised → the fault; any asyncpg or socket error becomes a finding."""
    if any(isinstance(link, ssl.SSLError) for link in chain(error)):
        # A verification failure carries OpenSSL's verify code: more exact than its text.
        return classify_tls_error(target, error)
    finding = classify_os_error(target, error)
    if finding is not None:  # TCP set-up held on its own rung: this came after it
        evidence = f"postgres at {target}: {finding.detail} after the TCP connect"
        return Finding(finding.code, finding.detail, evidence)
    message = describe(error)
    if isinstance(error, ConnectionError | asyncpg.exceptions.ConnectionDoesNotExistError):
        # A bare ConnectionError is asyncpg's word for "rejected SSL upgrade" and for a close
        # (FIN) before any reply: a proxy with no backend, or a server that dies on start-up.
        code = classify_text(message) or "postgres.error"
        if code == "postgres.error":
            message = f"the server closed the connection without an answer ({message})"
        return Finding(code, message, f"postgres at {target}: {message}")
    if isinstance(error, asyncpg.PostgresError):
        code = classify_sqlstate(error.sqlstate, message) or "postgres.error"
        detail = f"SQLSTATE {error.sqlstate}: {message}"
        return Finding(code, detail, f"postgres at {target} refused: {detail}")
    if isinstance(error, asyncpg.InterfaceError | OSError):
        code = classify_text(message) or "postgres.error"
        return Finding(code, message, f"postgres at {target}: {message}")
    return None
