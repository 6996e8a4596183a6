"""redis-server instances for tests: free port on 127.0.0.1, no persistence unless asked.

``redis_factory.start(requirepass="…", maxclients=2, replicaof="127.0.0.1 6380")`` passes
each option as ``--name value`` (underscores become dashes, a value with spaces is several
arguments), after the defaults, so a test can override them.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.servers import Process, free_port, port_open, require_binary, wait_until

__all__ = ["redis_factory", "redis_server"]


@dataclass
class RedisServer:
    """A running redis-server: its port, directory, password and URL/client builders."""

    port: int
    directory: Path
    process: Process
    password: str | None = None

    def url(self, *, password: str | None = None, database: int = 0) -> str:
        credentials = f":{password}@" if password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/{database}"

    def client(self, database: int = 0) -> redis.Redis:
        """A synchronous client for setting a fault up (authenticated when needed)."""
        # One try, no retries: a LOADING reply must show, not be waited out.
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            db=database,
            password=self.password,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )

    def pause(self) -> None:
        """SIGSTOP the server: the kernel still accepts TCP, PING gets no reply."""
        self.process.pause()

    def resume(self) -> None:
        self.process.resume()

    def kill(self) -> None:
        """SIGKILL: nothing is persisted anyway, and a server loading a dataset is slow to stop."""
        self.process.signal(signal.SIGKILL)
        self.process.popen.wait(timeout=10)
        self.process.stop()

    def stop(self) -> None:
        self.process.stop()


@dataclass
class RedisFactory:
    """Starts redis-servers in one directory; ``stop_all`` stops every one at teardown."""

    directory: Path
    servers: list[RedisServer] = field(default_factory=list)

    def start(self, *, wait: bool = True, **options: str | int) -> RedisServer:
        """A new server; ``wait=False`` returns once it listens, even if it is still loading."""
        port = free_port()
        directory = Path(tempfile.mkdtemp(prefix=f"redis-{port}-", dir=self.directory))
        defaults: dict[str, str | int] = {
            "bind": "127.0.0.1",
            "port": port,
            "save": "",
            "appendonly": "no",
            "dir": str(directory),
        }
        argv = [require_binary("redis-server")]
        for name, value in {**defaults, **options}.items():
            argv += [f"--{name.replace('_', '-')}", *(str(value).split() or [""])]
        process = Process(argv, log=directory / "redis.log")
        password = options.get("requirepass")
        server = RedisServer(port, directory, process, str(password) if password else None)
        self.servers.append(server)
        wait_until(lambda: _listening(server), what=f"redis-server on port {port}")
        if wait:
            wait_until(lambda: _answers(server), what=f"redis-server on port {port} to answer")
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()


def _listening(server: RedisServer) -> bool:
    if server.process.popen.poll() is not None:
        raise RuntimeError(f"redis-server exited: {server.process.output()[-2000:]}")
    return port_open(server.port)


def _answers(server: RedisServer) -> bool:
    try:
        with server.client() as client:
            return bool(client.ping())
    except redis.BusyLoadingError:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The shared server: no password, no limits; tests must not change its settings."""
    factory = RedisFactory(tmp_path_factory.mktemp("redis-shared"))
    try:
        yield factory.start()
    finally:
        factory.stop_all()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[RedisFactory]:
    """Start servers with options of their own; all are stopped when the test ends."""
    factory = RedisFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()
