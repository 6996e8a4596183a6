"""One nginx in the foreground with a directory of its own: the shared part of ``nginx_proxy``
(plain HTTP in front of an upstream) and ``tls_server`` (TLS termination).

``start_nginx(kind, root, port, block)`` writes a config around one ``server { block }`` (logs,
pid and temp paths under ``root``) and runs nginx with ``daemon off`` so the fixture owns the
process; ``proxy_to(upstream)`` is the ``location`` body that proxies HTTP and WebSocket upgrades.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from tests.servers import Process, require_binary, wait_for_port

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
        {block}
    }}
}}
"""


def proxy_to(upstream: int) -> str:
    return f"""proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;"""


@dataclass
class NginxInstance:
    scheme: ClassVar[str] = "http"  # what ``url`` gives by default
    port: int
    root: Path
    process: Process

    def url(self, path: str = "", scheme: str | None = None) -> str:
        return f"{scheme or self.scheme}://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


Instance = TypeVar("Instance", bound=NginxInstance)


def start_nginx(kind: type[Instance], root: Path, port: int, block: str) -> Instance:
    """nginx serving one ``server { block }`` from ``root``, once ``port`` accepts."""
    (root / "temp").mkdir(parents=True)
    config = root / "nginx.conf"
    config.write_text(
        _CONFIG.format(
            # As root the workers would become `nobody`, who cannot enter pytest's tmp dirs.
            user="user root;" if os.geteuid() == 0 else "",
            root=root,
            block=block,
        )
    )
    process = Process(
        [
            require_binary("nginx"),
            "-p",
            str(root),
            "-e",
            str(root / "error.log"),
            "-c",
            str(config),
            "-g",
            f"daemon off; pid {root / 'nginx.pid'};",
        ],
        log=root / "stdout.log",
    )
    instance = kind(port, root, process)
    try:
        wait_for_port(port)
    except TimeoutError:
        process.stop()
        raise RuntimeError(f"nginx did not start:\n{instance.error_log()}") from None
    return instance
