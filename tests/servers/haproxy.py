"""A factory for real HAProxy load balancers on free loopback ports, stopped at teardown.

``haproxy -f cfg -db`` keeps HAProxy in the foreground. The backend health-checks its servers
(``option httpchk GET /health``, every 100 ms, down at the first failure), so a balancer
whose servers are all dead answers its own 503 page, as in production.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import Process, free_port, require_binary, wait_for_port, wait_until

__all__ = ["haproxy_balancer"]

_CONFIG = """\
global
    maxconn 64

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server {server_timeout}
    retries 0

frontend web
    bind 127.0.0.1:{port}
    default_backend app

backend app
    option httpchk GET /health
{servers}
"""
_SERVER = "    server s{index} 127.0.0.1:{port}{check}\n"
_CHECK = " check inter 100ms fall 1 rise 1"


@dataclass
class HAProxy:
    port: int
    root: Path
    process: Process

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


HAProxyFactory = Callable[..., HAProxy]


@pytest.fixture
def haproxy_balancer(tmp_path: Path) -> Iterator[HAProxyFactory]:
    """``haproxy_balancer(backend_ports, server_timeout="1s")`` starts HAProxy in front of them.

    With ``all_down=True`` the backend ports are free ones nothing listens on, and the
    factory returns once HAProxy's health checks have marked every server down. With
    ``check=False`` the servers are not health-checked: every request reaches them.
    """
    binary = require_binary("haproxy")
    started: list[HAProxy] = []
    counter = itertools.count()

    def start(
        backends: Sequence[int] = (),
        *,
        server_timeout: str = "1s",
        all_down: bool = False,
        check: bool = True,
    ) -> HAProxy:
        if all_down:
            backends = [free_port(), free_port()]
        root = tmp_path / f"haproxy-{next(counter)}"
        root.mkdir()
        port = free_port()
        config = root / "haproxy.cfg"
        config.write_text(
            _CONFIG.format(
                port=port,
                server_timeout=server_timeout,
                servers="".join(
                    _SERVER.format(index=index, port=port, check=_CHECK if check else "")
                    for index, port in enumerate(backends)
                ),
            )
        )
        process = Process([binary, "-f", str(config), "-db"], log=root / "haproxy.log")
        balancer = HAProxy(port, root, process)
        started.append(balancer)
        try:
            wait_for_port(port)
            if all_down:
                # HAProxy reports the state change itself; wait for it, not for a time.
                wait_until(
                    lambda: "has no server available" in process.output(),
                    what="HAProxy to mark every server down",
                )
        except TimeoutError:
            raise RuntimeError(f"haproxy did not get ready:\n{process.output()}") from None
        return balancer

    try:
        yield start
    finally:
        for balancer in started:
            balancer.process.stop()
