"""A factory for real nginx reverse proxies on free loopback ports, stopped at teardown.

Each proxy gets its own directory (config, pid, logs, temp paths) and runs in the foreground
(``daemon off``) so the fixture owns the process. It proxies HTTP and WebSocket upgrades to
one upstream port; ``read_timeout`` is short so 504 tests stay fast.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import Process, free_port, require_binary, wait_for_port

__all__ = ["nginx_proxy"]

_CONFIG = """\
{user}
worker_processes 1;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_connect_timeout 1s;
            proxy_read_timeout {read_timeout};
        }}
    }}
}}
"""


@dataclass
class Nginx:
    port: int
    root: Path
    process: Process

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


NginxFactory = Callable[..., Nginx]


@pytest.fixture
def nginx_proxy(tmp_path: Path) -> Iterator[NginxFactory]:
    """``nginx_proxy(upstream_port, read_timeout="1s")`` starts an nginx in front of it."""
    binary = require_binary("nginx")
    started: list[Nginx] = []
    counter = itertools.count()

    def start(upstream: int, *, read_timeout: str = "1s") -> Nginx:
        root = tmp_path / f"nginx-{next(counter)}"
        (root / "temp").mkdir(parents=True)
        port = free_port()
        config = root / "nginx.conf"
        config.write_text(_CONFIG.format(
            # As root the workers would become `nobody`, who cannot enter pytest's tmp dirs.
            user="user root;" if os.geteuid() == 0 else "",
            root=root, port=port, upstream=upstream, read_timeout=read_timeout,
        ))
        process = Process(
            [binary, "-p", str(root), "-e", str(root / "error.log"), "-c", str(config),
             "-g", f"daemon off; pid {root / 'nginx.pid'};"],
            log=root / "stdout.log",
        )
        nginx = Nginx(port, root, process)
        started.append(nginx)
        try:
            wait_for_port(port)
        except TimeoutError:
            raise RuntimeError(f"nginx did not start:\n{nginx.error_log()}") from None
        return nginx

    try:
        yield start
    finally:
        for nginx in started:
            nginx.process.stop()
