"""The lab's proxies: HAProxy (the load balancer) and nginx configuration, and HAProxy's view.

HAProxy terminates TLS for the API and passes WebSockets on plain HTTP, each through a backend
whose health check reads the app's health document, as the incident's load balancer did.
nginx is a second way in, whose short read timeout turns a hanging app into its own 504.
"""

from __future__ import annotations

import socket
from pathlib import Path

from faultfinder_lab.topology import APP, APP_PORT, DOMAIN, HAPROXY, HTTP_PORT, HTTPS_PORT, NGINX

HEALTH_PATH = "/health/infrastructure"


def haproxy_config(socket_path: Path, certificate: Path, api_check: str) -> str:
    """The API backend checks ``api_check``; the WebSocket backend always the health document."""
    return f"""global
    stats socket {socket_path} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout check 2s
    timeout tunnel 1h

frontend api
    bind {HAPROXY}:{HTTPS_PORT} ssl crt {certificate}
    default_backend api

frontend websocket
    bind {HAPROXY}:{HTTP_PORT}
    default_backend websocket

backend api
    option httpchk
    http-check send meth GET uri {api_check} ver HTTP/1.1 hdr Host app.{DOMAIN}
    http-check expect status 200
    server app {APP}:{APP_PORT} check inter 300ms fall 2 rise 2

backend websocket
    option httpchk
    http-check send meth GET uri {HEALTH_PATH} ver HTTP/1.1 hdr Host app.{DOMAIN}
    http-check expect status 200
    server app {APP}:{APP_PORT} check inter 300ms fall 2 rise 2
"""


def nginx_config(prefix: Path) -> str:
    return f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client-body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen {NGINX}:{HTTP_PORT};
        location / {{
            proxy_pass http://{APP}:{APP_PORT};
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }}
    }}
}}
"""


def haproxy_servers(socket_path: Path) -> dict[str, str]:
    """HAProxy's view of its servers, ``{"api/app": "UP", …}``, from its stats socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stats:
            stats.settimeout(1.0)
            stats.connect(str(socket_path))
            stats.sendall(b"show stat\n")
            data = bytearray()
            while chunk := stats.recv(65536):
                data.extend(chunk)
    except OSError:
        return {}
    lines = data.decode(errors="replace").splitlines()
    if not lines or not lines[0].startswith("#"):
        return {}
    header = lines[0].lstrip("# ").split(",")
    servers: dict[str, str] = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("svname") not in (None, "FRONTEND", "BACKEND"):
            servers[f"{row['pxname']}/{row['svname']}"] = row.get("status", "")
    return servers
