"""PostgreSQL 15 servers for tests: one initdb per session, then a copy of it per server.

The servers run as the ``postgres`` user (``initdb`` refuses root), listen on a free port on
127.0.0.1 with SCRAM password auth, and keep their unix socket in their own directory, where
the superuser ``postgres`` connects without a password (to set up and to hold connections).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from tests.servers import Process, free_port, require_binary, wait_until
from tests.servers.tls import ServedCertificate

__all__ = ["postgres_factory", "postgres_server", "postgres_template"]

SYSTEM_USER = "postgres"
ROLE = "faultfinder"
PASSWORD = "pg-Secret-4a7f"
DATABASE = "app"
AS_POSTGRES = ("setpriv", f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups", "--")

# Settings every server gets; a test's own settings are added after these and win.
BASE_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_wal_senders": "0",
    "logging_collector": "off",
}


@dataclass
class PostgresServer:
    """A running server: its port, where it lives, and URL and connection builders."""

    port: int
    directory: Path
    process: Process

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def sockets(self) -> Path:
        return self.directory / "sockets"

    def url(
        self,
        *,
        user: str = ROLE,
        password: str | None = PASSWORD,
        database: str = DATABASE,
        host: str = "127.0.0.1",
    ) -> str:
        credentials = user if password is None else f"{user}:{password}"
        return f"postgresql://{credentials}@{host}:{self.port}/{database}"

    async def connect(self, *, superuser: bool = False) -> asyncpg.Connection:
        """A real client connection: the app role over TCP, or the superuser over the socket."""
        if superuser:
            return await asyncpg.connect(
                host=str(self.sockets), port=self.port, user=SYSTEM_USER, database="postgres"
            )
        return await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=ROLE, password=PASSWORD, database=DATABASE
        )

    def pause(self) -> None:
        """SIGSTOP the postmaster and every backend: TCP still completes, nothing answers.

        Each backend leads a process group of its own (PostgreSQL calls setsid), so stopping
        the server's group alone would leave open sessions answering.
        """
        self._paused = [self.process.pid, *_children(self.process.pid)]
        for pid in self._paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in getattr(self, "_paused", [self.process.pid]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._paused = []

    def begin_smart_shutdown(self) -> None:
        """SIGTERM: the server refuses new clients, and waits for the connected ones to leave."""
        self.process.popen.send_signal(signal.SIGTERM)
        _wait_for_log(self.process, "received smart shutdown request")

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster): clients are cut, nothing is waited on."""
        if self.process.popen.poll() is None:
            self.process.resume()
            self.process.popen.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.popen.wait(timeout=10)
        self.process.stop()


@dataclass
class PostgresFactory:
    """Starts servers from the session's template data directory; ``stop_all`` at teardown."""

    template: Path
    servers: list[PostgresServer] = field(default_factory=list)

    def start(
        self, *, standby: bool = False, tls: ServedCertificate | None = None, **settings: str | int
    ) -> PostgresServer:
        """A new server; ``standby`` makes it a standby that rejects clients (hot_standby off);
        ``tls`` turns ssl on with that certificate (clients may still connect without TLS)."""
        directory = Path(tempfile.mkdtemp(prefix="pg-", dir=self.template.parent))
        shutil.copytree(self.template, directory / "data", symlinks=True)
        (directory / "sockets").mkdir()
        if standby:
            (directory / "data" / "standby.signal").touch()
        if tls is not None:
            settings = {**_tls_settings(directory, tls), **settings}
        _give_to_postgres(directory)
        port = free_port()
        merged = {
            **BASE_SETTINGS,
            "port": port,
            "unix_socket_directories": directory / "sockets",
            **({"hot_standby": "off"} if standby else {}),
            **settings,
        }
        options = [part for key, value in merged.items() for part in ("-c", f"{key}={value}")]
        # setpriv execs postgres in place, so the process Popen knows is the postmaster itself.
        # (runuser stays as its parent and stops itself when its child stops: after a
        # pause/resume it can sit stopped for good, and stop() then waits out its timeout.)
        argv = [*AS_POSTGRES, require_binary("postgres"), "-D", str(directory / "data"), *options]
        process = Process(argv, log=directory / "postgres.log")
        server = PostgresServer(port, directory, process)
        self.servers.append(server)
        # A standby never becomes ready; it is in place once it says it entered standby mode.
        ready = "entering standby mode" if standby else "ready to accept connections"
        _wait_for_log(process, ready)
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
            shutil.rmtree(server.directory, ignore_errors=True)
        self.servers.clear()


def _tls_settings(directory: Path, certificate: ServedCertificate) -> dict[str, str | int]:
    """Copies the chain and key where the postgres user reads them (pytest's tmp dirs are
    root's alone); postgres refuses a key that others may read."""
    chain, key = directory / "server.crt", directory / "server.key"
    shutil.copyfile(certificate.chain, chain)
    shutil.copyfile(certificate.key, key)
    key.chmod(0o600)
    return {"ssl": "on", "ssl_cert_file": str(chain), "ssl_key_file": str(key)}


def _wait_for_log(process: Process, text: str) -> None:
    def logged() -> bool:
        if process.popen.poll() is not None:
            raise RuntimeError(f"postgres exited: {process.output()[-2000:]}")
        return text in process.output()

    wait_until(logged, what=f"postgres to log {text!r}")


def _scratch() -> str | None:
    """tmpfs when there is one: a data directory is ~1000 files, and copying them to disk
    took seconds on a busy machine, against a fraction of a second in memory."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _give_to_postgres(path: Path) -> None:
    account = pwd.getpwnam(SYSTEM_USER)
    for root, directories, files in os.walk(path):
        for name in [root, *(os.path.join(root, entry) for entry in directories + files)]:
            os.lchown(name, account.pw_uid, account.pw_gid)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[Path]:
    """A fresh cluster with the test role and database, made once per session (per worker)."""
    base = Path(tempfile.mkdtemp(prefix="faultfinder-pg-", dir=_scratch()))
    base.chmod(0o755)  # the postgres user must reach its data directories below
    template = base / "template"
    try:
        template.mkdir()
        _give_to_postgres(base)
        subprocess.run(
            [
                *AS_POSTGRES,
                require_binary("initdb"),
                "-D",
                str(template),
                "-U",
                SYSTEM_USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "--no-instructions",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        # Single-user mode creates the role and database without starting a server.
        script = (
            f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}';\n"
            f"CREATE DATABASE {DATABASE} OWNER {ROLE};\n"
        )
        subprocess.run(
            [
                *AS_POSTGRES,
                require_binary("postgres"),
                "--single",
                "-D",
                str(template),
                "-c",
                "fsync=off",
                "postgres",
            ],
            input=script.encode(),
            check=True,
            capture_output=True,
        )
        yield template
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(postgres_template: Path) -> Iterator[PostgresServer]:
    """The shared server: tests may connect and fail to, but must not change its settings."""
    factory = PostgresFactory(postgres_template)
    try:
        yield factory.start()
    finally:
        factory.stop_all()


@pytest.fixture
def postgres_factory(postgres_template: Path) -> Iterator[PostgresFactory]:
    """Start servers with settings of their own (``max_connections=3``, ``standby=True``)."""
    factory = PostgresFactory(postgres_template)
    try:
        yield factory
    finally:
        factory.stop_all()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
