"""``postgresql://``: resolve, connect, then the start-up handshake and ``SELECT 1`` (asyncpg)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote

import asyncpg

from faultfinder.diagnose.classify import (
    Finding,
    classify_os_error,
    classify_sqlstate,
    classify_text,
    describe,
)
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import join_host_port, reach


async def probe(ladder: Ladder) -> None:
    await select_one(ladder, await reach(ladder))


async def select_one(ladder: Ladder, address: str) -> None:
    component = ladder.component
    parts = component.parts
    user = unquote(parts.username or "") or os.environ.get("PGUSER") or "postgres"
    password = unquote(parts.password) if parts.password else os.environ.get("PGPASSWORD")
    database = unquote(parts.path.lstrip("/")) or user
    sslmode = parse_qs(parts.query).get("sslmode", ["prefer"])[0]
    # verify-full checks the certificate against a name, so it must connect by that name.
    host = component.host if sslmode == "verify-full" else address
    target = join_host_port(address, component.port)

    async def run() -> str:
        connection = await asyncpg.connect(
            host=host,
            port=component.port,
            user=user,
            password=password,
            database=database,
            ssl=sslmode,
            timeout=max(ladder.remaining(), 0.001),
            server_settings={"application_name": "faultfinder"},
        )
        try:
            version = await connection.fetchval("SHOW server_version")
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close(timeout=max(ladder.remaining(), 0.001))
        return str(version)

    await ladder.rung(
        "postgres",
        run,
        timeout_code="postgres.timeout",
        classify=lambda error: classify_postgres_error(target, error),
        detail=lambda version: f"SELECT 1 ok (server {version})",
    )


def classify_postgres_error(target: str, error: BaseException) -> Finding | None:
    """What asyncpg raised → the fault; any asyncpg or socket error becomes a finding."""
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
