"""A factory for real nginx reverse proxies on free loopback ports, stopped at teardown.

Each proxy gets its own directory (config, pid, logs, temp paths) and runs in the foreground
(``daemon off``) so the fixture owns the process. It proxies HTTP and WebSocket upgrades to
one upstream port; ``read_timeout`` is short so 504 tests stay fast.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.servers.nginx_instance import NginxInstance, proxy_to, start_nginx

__all__ = ["nginx_proxy"]


class Nginx(NginxInstance):
    """A reverse proxy in front of one upstream port."""


NginxFactory = Callable[..., Nginx]


@pytest.fixture
def nginx_proxy(tmp_path: Path) -> Iterator[NginxFactory]:
    """``nginx_proxy(upstream_port, read_timeout="1s")`` starts an nginx in front of it."""
    started: list[Nginx] = []
    counter = itertools.count()

    def start(upstream: int, *, read_timeout: str = "1s") -> Nginx:
        port = free_port()
        block = f"""listen 127.0.0.1:{port};
        location / {{
            {proxy_to(upstream)}
            proxy_connect_timeout 1s;
            proxy_read_timeout {read_timeout};
        }}"""
        nginx = start_nginx(Nginx, tmp_path / f"nginx-{next(counter)}", port, block)
        started.append(nginx)
        return nginx

    try:
        yield start
    finally:
        for nginx in started:
            nginx.process.stop()
