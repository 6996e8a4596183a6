"""``/probe`` throughput, side by side with Debian's blackbox_exporter, under the same load.

Run from the repository root: ``.venv/bin/python benchmarks/bench_probe.py``. It starts, on
free loopback ports, an nginx answering ``200 ok`` (the target), Debian's
``prometheus-blackbox-exporter`` and ``faultfinder serve --workers N`` (no stack: ``/probe``
only; N defaults to the number of cores, as serve's does), then drives each exporter's
``/probe`` with wrk, in turns, for the HTTP (``http_2xx``) and TCP (``tcp_connect``) modules:
the same URL, connections, threads and duration for both, who goes first alternating by round.
Each exporter's CPU time (its whole process tree: serve's workers too) is read from /proc. It
prints requests/s, p50/p99 latency and CPU per probe, and the ratios ours/theirs of the median
requests/s and p99. See benchmarks/README.md for the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

# The server helpers the tests use: run from a checkout, not an install.
from tests.servers import Process, free_port, require_binary, wait_for_port, wait_until  # noqa: E402

NGINX_CONFIG = """\
{user}
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}
}}
"""
BLACKBOX_CONFIG = "modules:\n  http_2xx: {prober: http}\n  tcp_connect: {prober: tcp}\n"


@dataclass
class Run:
    exporter: str
    module: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors
    cpu_ms_per_probe: float


@dataclass
class Exporter:
    name: str
    port: int
    process: Process

    def url(self, module: str, target: str) -> str:
        return f"http://127.0.0.1:{self.port}/probe?module={module}&target={target}"

    def cpu_seconds(self) -> float:
        """user + system CPU of the exporter's process and its children (serve's workers),
        from /proc; the workers live through the whole run, so none is lost between reads."""
        return sum(_cpu(pid) for pid in _tree(self.process.pid))


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [pid, *(found for child in children for found in _tree(int(child)))]


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_nginx(workdir: Path) -> tuple[int, Process]:
    """An nginx answering ``200 ok`` on a free loopback port (the benchmarks' target); the
    caller stops it, then waits for its port."""
    port = free_port()
    (workdir / "nginx.conf").write_text(
        NGINX_CONFIG.format(user="user root;" if os.geteuid() == 0 else "", root=workdir, port=port)
    )
    nginx = Process(
        [
            require_binary("nginx"),
            "-p",
            str(workdir),
            "-c",
            str(workdir / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        log=workdir / "nginx.log",
    )
    return port, nginx


@contextlib.contextmanager
def servers(workdir: Path, workers: int) -> Iterator[tuple[int, list[Exporter]]]:
    started: list[Process] = []
    try:
        port, nginx = start_nginx(workdir)
        started.append(nginx)
        wait_for_port(port)
        (workdir / "blackbox.yml").write_text(BLACKBOX_CONFIG)
        theirs = free_port()
        started.append(
            Process(
                [
                    require_binary("prometheus-blackbox-exporter"),
                    f"--config.file={workdir / 'blackbox.yml'}",
                    f"--web.listen-address=127.0.0.1:{theirs}",
                ],
                log=workdir / "blackbox.log",
            )
        )
        ours = free_port()
        started.append(
            Process(
                [
                    sys.executable,
                    "-m",
                    "faultfinder",
                    "serve",
                    "--listen",
                    f"127.0.0.1:{ours}",
                    "--workers",
                    str(workers),
                ],
                log=workdir / "serve.log",
                env={"PYTHONPATH": str(ROOT / "src")},
            )
        )
        exporters = [
            Exporter("faultfinder", ours, started[2]),
            Exporter("blackbox", theirs, started[1]),
        ]
        for exporter in exporters:
            wait_until(lambda e=exporter: answers(e), what=f"{exporter.name} to answer")
        yield port, exporters
    finally:
        for process in reversed(started):
            process.stop()


def answers(exporter: Exporter) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        url = f"http://127.0.0.1:{exporter.port}/metrics"
        return httpx.get(url, trust_env=False, timeout=1).status_code == 200
    return False


def probe_succeeds(exporter: Exporter, module: str, target: str) -> bool:
    text = httpx.get(exporter.url(module, target), trust_env=False, timeout=10).text
    return re.search(r"^probe_success 1(\.0)?$", text, re.MULTILINE) is not None


def wrk(
    url: str, seconds: float, connections: int, threads: int
) -> tuple[float, float, float, int]:
    """requests/s, p50 and p99 latency (ms) and errors, from wrk's own report."""
    output = subprocess.run(
        [
            require_binary("wrk"),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50, p99 = (
        _milliseconds(re.search(rf"^\s+{share}%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
        for share in (50, 99)
    )
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, p50, p99, errors + (int(non_2xx.group(1)) if non_2xx else 0)


def _milliseconds(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(exporter: Exporter, module: str, target: str, args: argparse.Namespace) -> Run:
    cpu_before = exporter.cpu_seconds()
    rate, p50, p99, errors = wrk(
        exporter.url(module, target), args.seconds, args.connections, args.threads
    )
    cpu = exporter.cpu_seconds() - cpu_before
    probes = rate * args.seconds
    return Run(exporter.name, module, rate, p50, p99, errors, cpu / probes * 1000 if probes else 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per exporter and module")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="faultfinder serve's worker processes (default: the cores)",
    )
    args = parser.parse_args()
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-probe-") as directory,
        servers(Path(directory), args.workers) as (port, exporters),
    ):
        targets = {"http_2xx": f"http://127.0.0.1:{port}/", "tcp_connect": f"127.0.0.1:{port}"}
        for module, target in targets.items():
            for exporter in exporters:
                if not probe_succeeds(exporter, module, target):
                    print(f"{exporter.name} {module}: the probe fails", file=sys.stderr)
                    return 1
                wrk(exporter.url(module, target), 1, args.connections, args.threads)  # warm-up
        for module, target in targets.items():
            for round_number in range(args.rounds):
                # alternate who goes first, so drift in the machine's load hits both alike
                order = exporters if round_number % 2 == 0 else exporters[::-1]
                runs += [measure(exporter, module, target, args) for exporter in order]
    report(runs, args)
    return 1 if any(run.errors for run in runs) else 0


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"/probe throughput: wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s, "
        f"{args.rounds} rounds each, target nginx on loopback, {os.cpu_count()} CPUs, "
        f"serve --workers {args.workers}, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        f"{'module':<12} {'exporter':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms/probe':>13} {'errors':>7}"
    )
    for run in runs:
        print(
            f"{run.module:<12} {run.exporter:<12} {run.requests_per_second:>8.0f} "
            f"{run.p50_ms:>8.2f} {run.p99_ms:>8.2f} {run.cpu_ms_per_probe:>13.3f} "
            f"{run.errors:>7}"
        )
    print()
    for module in dict.fromkeys(run.module for run in runs):
        ours, theirs = (
            Summary.of([r for r in runs if r.module == module and r.exporter == name])
            for name in ("faultfinder", "blackbox")
        )
        print(
            f"{module}: faultfinder {ours.rate:.0f}/s, blackbox {theirs.rate:.0f}/s, "
            f"ratio ours/theirs {ours.rate / theirs.rate:.2f} (goal >= 1.0); p99 "
            f"{ours.p99:.1f} vs {theirs.p99:.1f} ms, ratio {ours.p99 / theirs.p99:.2f} "
            f"(goal <= 2.0); CPU per probe {ours.cpu:.2f} ms vs {theirs.cpu:.2f} ms"
        )


@dataclass
class Summary:
    """Medians over an exporter's rounds for one module."""

    rate: float
    p99: float
    cpu: float

    @classmethod
    def of(cls, runs: list[Run]) -> Summary:
        return cls(
            statistics.median(r.requests_per_second for r in runs),
            statistics.median(r.p99_ms for r in runs),
            statistics.median(r.cpu_ms_per_probe for r in runs),
        )


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"\n({time.monotonic() - started:.0f} s)")
    sys.exit(status)
