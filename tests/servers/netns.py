"""Network namespaces for tests: a private loopback with its own resolver, hosts file and firewall.

Everything a test runs inside a namespace (servers, the CLI) talks only over that namespace's
``lo``, so iptables rules and a dead resolver there touch nothing else on the machine.
``ip netns exec NAME`` bind-mounts /etc/netns/NAME/{resolv.conf,hosts} over /etc's files.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import Process, wait_for_port
from tests.servers.common import CliResult, run_cli_process

__all__ = ["netns"]

NETNS_ETC = Path("/etc/netns")

# A resolver on the namespace's own loopback that gives up fast: nothing leaves the namespace.
DEFAULT_RESOLV = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
DEFAULT_HOSTS = "127.0.0.1 localhost\n::1 localhost\n"

# Polls a port from inside the namespace (the test process itself lives outside it).
_WAIT_FOR_PORT = """
import socket, sys, time
host, port, deadline = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
"""


# A listener that answers any GET with 200: a TCP and HTTP target. The backlog is raised from
# socketserver's 5, which silently drops bursts of concurrent probes.
_LISTENER = """
import http.server, socket, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\\n")
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
"""


def machine_listener(workdir: Path, port: int) -> Process:
    """The same listener outside any namespace, on every address of the machine (``0.0.0.0``),
    so each namespace linked with ``Namespace.link`` reaches it at its own outside address."""
    process = Process(
        [sys.executable, "-c", _LISTENER, "0.0.0.0", str(port)],
        log=workdir / f"machine-listener-{port}.log",
    )
    wait_for_port(port)
    return process


class Namespace:
    """One network namespace with ``lo`` up; ``close`` stops its processes and deletes it."""

    def __init__(
        self, workdir: Path, *, resolv: str = DEFAULT_RESOLV, hosts: str = DEFAULT_HOSTS
    ) -> None:
        # Unique across xdist workers and runs: the pid and a random suffix.
        self.name = f"ff-{os.getpid()}-{secrets.token_hex(3)}"
        self.workdir = workdir
        self.prefix: tuple[str, ...] = ("ip", "netns", "exec", self.name)
        self.processes: list[Process] = []
        self.links: list[str] = []  # veth ends on the machine's side
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.etc = NETNS_ETC / self.name
            self.etc.mkdir(parents=True)
            (self.etc / "resolv.conf").write_text(resolv)
            (self.etc / "hosts").write_text(hosts)
            self.run("ip", "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace and wait for it."""
        return subprocess.run([*self.prefix, *argv], check=check, capture_output=True, text=True)

    def start(self, *argv: str, label: str = "server") -> Process:
        """Start a long-running process inside the namespace; stopped at ``close``."""
        log = self.workdir / f"{self.name}-{label}-{len(self.processes)}.log"
        process = Process([*self.prefix, *argv], log=log)
        self.processes.append(process)
        return process

    def wait_for_port(self, port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
        waited = self.run(
            sys.executable, "-c", _WAIT_FOR_PORT, host, str(port), str(timeout), check=False
        )
        if waited.returncode != 0:
            logs = "\n".join(process.output()[-2000:] for process in self.processes)
            raise TimeoutError(f"{host}:{port} never accepted in {self.name}\n{logs}")

    def link(self) -> tuple[str, str]:
        """A veth pair between the machine and the namespace: (the machine's address, the
        namespace's). A server the test starts outside on 0.0.0.0 is reachable from inside at
        the first; one inside listening on the second is reachable from outside (Prometheus)."""
        # A random /30 in 10.200.0.0/13: distinct across xdist workers and concurrent runs.
        block = 0x0AC80000 + secrets.randbelow(1 << 17) * 4
        outside, inside = (ipaddress.IPv4Address(block + 1), ipaddress.IPv4Address(block + 2))
        host_end = f"ffh{secrets.token_hex(4)}"  # interface names: 15 characters at most
        subprocess.run(
            [
                "ip",
                "link",
                "add",
                host_end,
                "type",
                "veth",
                "peer",
                "name",
                "ffn0",
                "netns",
                self.name,
            ],
            check=True,
        )
        self.links.append(host_end)
        subprocess.run(["ip", "addr", "add", f"{outside}/30", "dev", host_end], check=True)
        subprocess.run(["ip", "link", "set", host_end, "up"], check=True)
        self.run("ip", "addr", "add", f"{inside}/30", "dev", "ffn0")
        self.run("ip", "link", "set", "ffn0", "up")
        return str(outside), str(inside)

    def iptables(self, *rule: str) -> None:
        """Add a firewall rule in the namespace's own tables (gone with the namespace)."""
        self.run("iptables", "-w", *rule)

    def drop(self, port: int, protocol: str = "tcp") -> None:
        """Blackhole a local port: SYNs (or datagrams) vanish without an answer."""
        self.iptables("-A", "INPUT", "-p", protocol, "--dport", str(port), "-j", "DROP")

    def reject(self, port: int, reject_with: str = "icmp-host-unreachable") -> None:
        """Answer connects to a local port with an ICMP error, as a router without a route would."""
        self.iptables(
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            str(port),
            "-j",
            "REJECT",
            "--reject-with",
            reject_with,
        )

    def listen(self, port: int, host: str = "127.0.0.1") -> Process:
        """A TCP and HTTP listener on ``host:port`` that answers any GET with 200 "ok"."""
        process = self.start(sys.executable, "-c", _LISTENER, host, str(port), label="listener")
        self.wait_for_port(port, "::1" if ":" in host else host)
        return process

    def redis(self, port: int) -> Process:
        """A throwaway redis-server on 127.0.0.1:port, no persistence."""
        process = self.start(
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            label="redis",
        )
        self.wait_for_port(port)
        return process

    def diagnose(self, stack: Path, *args: str, timeout: float = 60) -> CliResult:
        """``faultfinder diagnose STACK --json`` run inside the namespace."""
        return run_cli_process(
            "diagnose", str(stack), "--json", *args, prefix=self.prefix, timeout=timeout
        )

    def timed_diagnose(self, stack: Path) -> tuple[CliResult, float]:
        """``diagnose`` inside the namespace, and the seconds it took beyond the CLI's start-up.

        The start-up (interpreter and imports, slow on a loaded machine) is measured in the same
        run with ``check`` on the same stack, so what remains is the probing and the exit: the
        part the deadline governs.
        """
        started = time.monotonic()
        run_cli_process("check", str(stack), prefix=self.prefix)
        startup = time.monotonic() - started
        started = time.monotonic()
        result = self.diagnose(stack)
        return result, time.monotonic() - started - startup

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)
        for link in self.links:  # deleting the namespace deletes the pair; this is in case not
            subprocess.run(["ip", "link", "delete", link], check=False, capture_output=True)
        shutil.rmtree(NETNS_ETC / self.name, ignore_errors=True)


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[Callable[..., Namespace]]:
    """Factory: ``netns(resolv=..., hosts=...)`` makes a namespace; all deleted at teardown."""
    created: list[Namespace] = []

    def create(*, resolv: str = DEFAULT_RESOLV, hosts: str = DEFAULT_HOSTS) -> Namespace:
        namespace = Namespace(tmp_path, resolv=resolv, hosts=hosts)
        created.append(namespace)
        return namespace

    yield create
    for namespace in reversed(created):
        namespace.close()
