"""dnsmasq as an authoritative resolver for test zones, in a namespace or on a loopback port.

Inside a namespace it listens on 127.0.0.1:53, where that namespace's resolv.conf points, so
getaddrinfo in the namespace asks it. Outside one it takes a free port on 127.0.0.1 (useful to
a client that can be told the port; glibc always asks port 53).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import Process, free_port, require_binary, wait_for_port
from tests.servers.netns import Namespace

__all__ = ["dnsmasq"]


@dataclass
class DnsServer:
    host: str
    port: int
    process: Process


def dnsmasq_config(
    *,
    hosts: Mapping[str, Sequence[str]],
    local_zones: Sequence[str],
    txt_records: Mapping[str, str],
    mx_hosts: Mapping[str, str],
) -> str:
    """The zone data as dnsmasq.conf lines.

    ``local=/zone/`` makes dnsmasq authoritative for the zone: a name it has no record for gets
    NXDOMAIN, and a name with only TXT or MX records gets NOERROR with no A/AAAA (NODATA).
    """
    lines = [f"local=/{zone}/" for zone in local_zones]
    lines += [f"host-record={name},{','.join(addresses)}" for name, addresses in hosts.items()]
    lines += [f"txt-record={name},{text}" for name, text in txt_records.items()]
    lines += [f"mx-host={name},{target},10" for name, target in mx_hosts.items()]
    return "\n".join(lines) + "\n"


def start_dnsmasq(
    workdir: Path,
    namespace: Namespace | None = None,
    *,
    hosts: Mapping[str, Sequence[str]] | None = None,
    local_zones: Sequence[str] = ("internal",),
    txt_records: Mapping[str, str] | None = None,
    mx_hosts: Mapping[str, str] | None = None,
) -> DnsServer:
    """Start dnsmasq serving the given records; the caller stops ``server.process``."""
    config = workdir / f"dnsmasq-{secrets.token_hex(3)}.conf"
    config.write_text(
        dnsmasq_config(
            hosts=hosts or {},
            local_zones=local_zones,
            txt_records=txt_records or {},
            mx_hosts=mx_hosts or {},
        )
    )
    port = 53 if namespace else free_port()
    argv = [
        require_binary("dnsmasq"),
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        f"--port={port}",
        f"--conf-file={config}",
        "--pid-file=",  # no shared /run/dnsmasq.pid between parallel instances
        "--log-queries",
        "--log-facility=-",
    ]
    if namespace is not None:
        process = namespace.start(*argv, label="dnsmasq")
        namespace.wait_for_port(port)  # dnsmasq answers over TCP too
    else:
        process = Process(argv, log=config.with_suffix(".log"))
        wait_for_port(port)
    return DnsServer("127.0.0.1", port, process)


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Callable[..., DnsServer]]:
    """Factory: ``dnsmasq(namespace, hosts={"redis.internal": ["127.0.0.1"]}, ...)``."""
    started: list[DnsServer] = []

    def start(namespace: Namespace | None = None, **records: Any) -> DnsServer:
        server = start_dnsmasq(tmp_path, namespace, **records)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.process.stop()
