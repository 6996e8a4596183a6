"""How much does probing 100 components at once cost over probing the slowest one alone?

Run as root from the repository root: ``.venv/bin/python benchmarks/bench_diagnose.py``.
It builds a network namespace (only its loopback is used), starts redis-server and an HTTP
listener in it, blackholes some ports and the resolver with iptables, and writes a stack of
100 components at a 2 s timeout. Then, inside the namespace, it times one diagnosis of all
100 and one diagnosis of each kind of component alone, and prints the ratio (goal <= 1.2).
It also times the whole CLI (interpreter start-up included) the same two ways.
See benchmarks/README.md for the figures measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

# The namespace and server helpers the tests use: run from a checkout, not an install.
from tests.servers import free_port  # noqa: E402
from tests.servers.netns import Namespace  # noqa: E402

TIMEOUT = "2s"
ROUNDS = 3

# How many components of each kind; one of each kind is also probed alone.
MIX = {
    "tcp_ok": 25,  # tcp:// to the HTTP listener, by a name from the hosts file
    "http_ok": 25,  # http:// GET / from the HTTP listener
    "redis_ok": 20,  # redis:// PING and a write
    "tcp_blackhole": 25,  # tcp:// to a port whose SYNs are dropped
    "dns_blackhole": 5,  # tcp:// to a name the (dropped) resolver must answer
}


def build_stack(namespace: Namespace, workdir: Path) -> dict[str, dict[str, Any]]:
    """Start the servers and firewall rules; return the 100 components."""
    http_port, redis_port = free_port(), free_port()
    namespace.listen(http_port)
    namespace.redis(redis_port)
    namespace.drop(53, "udp")
    components: dict[str, dict[str, Any]] = {}
    for kind, count in MIX.items():
        for index in range(count):
            name = f"{kind}_{index:02}"
            if kind == "tcp_ok":
                url = f"tcp://service.internal:{http_port}"
            elif kind == "http_ok":
                url = f"http://127.0.0.1:{http_port}/"
            elif kind == "redis_ok":
                url = f"redis://127.0.0.1:{redis_port}/0"
            elif kind == "tcp_blackhole":
                port = free_port()
                namespace.drop(port)
                url = f"tcp://127.0.0.1:{port}"
            else:
                url = f"tcp://lost-{index}.internal:80"
            components[name] = {"url": url}
    return components


def write_stack(path: Path, components: dict[str, dict[str, Any]]) -> Path:
    document = {
        "version": 1,
        "name": path.stem,
        "defaults": {"timeout": TIMEOUT},
        "components": components,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def inside(stacks: list[str]) -> None:
    """In the namespace: time ``run_diagnosis`` on each stack file, ROUNDS times; print JSON."""
    from faultfinder.config import load_stack
    from faultfinder.diagnosis.run import run_diagnosis

    # A warm-up run first: it imports the probers' client libraries (httpx, redis), a one-off
    # start-up cost that the CLI rows below include and the concurrency figure should not.
    asyncio.run(run_diagnosis(load_stack(stacks[0])))
    report: dict[str, Any] = {}
    for path in stacks:
        stack = load_stack(path)
        seconds: list[float] = []
        codes: dict[str, int] = {}
        for _ in range(ROUNDS):
            started = time.perf_counter()
            diagnosis = asyncio.run(run_diagnosis(stack))
            seconds.append(time.perf_counter() - started)
            codes = {}
            for component in diagnosis.components:
                code = component.code or "ok"
                codes[code] = codes.get(code, 0) + 1
        report[Path(path).stem] = {"seconds": seconds, "codes": codes}
    print(json.dumps(report))


def time_cli(namespace: Namespace, stack: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*namespace.prefix, sys.executable, "-m", "faultfinder", "diagnose", str(stack), "--json"],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inside", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.inside)
        return 0
    if os.geteuid() != 0:
        print("bench_diagnose: run as root (it creates a network namespace)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ff-bench-") as directory:
        workdir = Path(directory)
        namespace = Namespace(
            workdir, resolv="nameserver 127.0.0.1\n", hosts="127.0.0.1 localhost service.internal\n"
        )
        try:
            return run(namespace, workdir)
        finally:
            namespace.close()


def run(namespace: Namespace, workdir: Path) -> int:
    components = build_stack(namespace, workdir)
    everything = write_stack(workdir / "all_100.yaml", components)
    alone = [
        write_stack(workdir / f"alone_{kind}.yaml", {f"{kind}_00": components[f"{kind}_00"]})
        for kind in MIX
    ]
    inner = subprocess.run(
        [
            *namespace.prefix,
            sys.executable,
            __file__,
            "--inside",
            str(everything),
            *map(str, alone),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(inner.stdout)

    print(
        f"faultfinder diagnose: {len(components)} components, timeout {TIMEOUT}, "
        f"median of {ROUNDS} rounds, {os.cpu_count()} CPUs\n"
    )
    print(f"{'stack':<22} {'median s':>9} {'max s':>7}  codes")
    for name, figures in report.items():
        seconds = figures["seconds"]
        codes = ", ".join(f"{code} x{count}" for code, count in sorted(figures["codes"].items()))
        print(f"{name:<22} {statistics.median(seconds):>9.3f} {max(seconds):>7.3f}  {codes}")

    all_median = statistics.median(report["all_100"]["seconds"])
    slowest = max(statistics.median(report[path.stem]["seconds"]) for path in alone)
    ratio = all_median / slowest
    print(
        f"\nprobe+diagnose, all 100 / slowest alone: {all_median:.3f} / {slowest:.3f} "
        f"= {ratio:.3f} (goal <= 1.2)"
    )

    cli_all = statistics.median(time_cli(namespace, everything) for _ in range(ROUNDS))
    cli_one = statistics.median(time_cli(namespace, alone[3]) for _ in range(ROUNDS))
    print(
        f"whole CLI run (start-up included), all 100 / one blackhole: "
        f"{cli_all:.3f} / {cli_one:.3f} = {cli_all / cli_one:.3f}"
    )

    expected = {"ok": 70, "tcp.timeout": 25, "dns.temporary_failure": 5}
    if report["all_100"]["codes"] != expected:
        print(f"unexpected codes: {report['all_100']['codes']} != {expected}", file=sys.stderr)
        return 1
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
