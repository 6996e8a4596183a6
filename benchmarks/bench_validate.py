"""Does ``validate`` of 50 components × 10 repetitions at 100 ms take about 1 s + the slowest probe?

Run from the repository root: ``.venv/bin/python benchmarks/bench_validate.py`` (no root
needed: every server listens on 127.0.0.1). It starts the tests' small HTTP app and one
redis-server on free loopback ports and writes two stacks of 50 components with
``validation: {repetitions: 10, interval: 100ms}``: one of cheap ``tcp://`` probes (what the
scheduling costs) and one mixing TCP, HTTP and Redis (what real probes cost). It times
``run_validation`` (repeat, diagnose every repetition, judge) a few times on each, with the
process's CPU time, then the whole CLI once. It exits 1 if the TCP stack takes longer than
9 × 100 ms + its slowest probe + 0.3 s. See benchmarks/README.md for the figures measured.
"""

from __future__ import annotations

import asyncio
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

# The server helpers the tests use: run from a checkout, not an install.
from tests.servers import Process, free_port, require_binary, wait_for_port  # noqa: E402

REPETITIONS = 10
INTERVAL_MS = 100
ROUNDS = 3
SLACK_SECONDS = 0.3  # what scheduling 50 × 10 probes and 10 diagnoses may add, at most
STACKS = {
    "tcp_only": {"tcp": 50},
    "mixed": {
        "tcp": 15,  # tcp:// connect to the app's port
        "http": 20,  # http:// GET /ok
        "redis": 10,  # redis:// PING and a write
        "http_slow": 5,  # http:// GET /slow?seconds=0.05: a slow probe, by design
    },
}


def build_stack(workdir: Path, name: str, app_port: int, redis_port: int) -> Path:
    components: dict[str, dict[str, Any]] = {}
    for kind, count in STACKS[name].items():
        for index in range(count):
            url = {
                "tcp": f"tcp://127.0.0.1:{app_port}",
                "http": f"http://127.0.0.1:{app_port}/ok",
                "redis": f"redis://127.0.0.1:{redis_port}/0",
                "http_slow": f"http://127.0.0.1:{app_port}/slow?seconds=0.05",
            }[kind]
            components[f"{kind}_{index:02}"] = {"url": url, "category": kind}
    document = {
        "version": 1,
        "name": name,
        "defaults": {"timeout": "2s"},
        "validation": {"repetitions": REPETITIONS, "interval": f"{INTERVAL_MS}ms"},
        "components": components,
    }
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def measure(stack_path: Path) -> list[dict[str, float]]:
    from faultfinder.config import load_stack
    from faultfinder.diagnosis.run import run_diagnosis
    from faultfinder.validate.runner import run_validation

    stack = load_stack(stack_path)
    # A warm-up diagnosis imports the probers' client libraries: a one-off start-up cost.
    asyncio.run(run_diagnosis(stack))
    figures = []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        validation = asyncio.run(run_validation(stack))
        seconds = time.perf_counter() - started
        slowest = max(check.ms for check in validation.checks) / 1000
        floor = (REPETITIONS - 1) * INTERVAL_MS / 1000
        figures.append(
            {
                "seconds": seconds,
                "slowest": slowest,
                "floor": floor,
                "overhead": seconds - floor - slowest,
                "checks": validation.total_checks,
                "passes": validation.total_passes,
                "cpu": time.process_time() - cpu,
            }
        )
    return figures


def time_cli(stack_path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "faultfinder", "validate", str(stack_path), "--json"],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def main() -> int:
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ff-bench-validate-") as directory:
        workdir = Path(directory)
        app_port, redis_port = free_port(), free_port()
        app = Process(
            [sys.executable, "-m", "tests.servers.app", str(app_port)],
            log=workdir / "app.log",
            env={"PYTHONPATH": str(ROOT)},
        )
        redis = Process(
            [
                require_binary("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            log=workdir / "redis.log",
        )
        try:
            wait_for_port(app_port)
            wait_for_port(redis_port)
            stacks = {name: build_stack(workdir, name, app_port, redis_port) for name in STACKS}
            for name, path in stacks.items():
                results[name] = measure(path)
            cli = time_cli(stacks["mixed"])
        finally:
            app.stop()
            redis.stop()
    print(
        f"faultfinder validate: 50 components × {REPETITIONS} repetitions, interval "
        f"{INTERVAL_MS} ms, {ROUNDS} runs per stack, {os.cpu_count()} CPUs\n"
    )
    overheads = {name: report(name, figures) for name, figures in results.items()}
    print(f"whole CLI run on the mixed stack (start-up included, `validate --json`): {cli:.3f} s")
    healthy = all(run["passes"] == run["checks"] for runs in results.values() for run in runs)
    if not healthy:
        print("some checks failed: the local servers did not answer", file=sys.stderr)
    return 0 if healthy and overheads["tcp_only"] <= SLACK_SECONDS else 1


def report(name: str, figures: list[dict[str, float]]) -> float:
    """Print one stack's runs; return the median overhead over intervals + slowest probe."""
    print(f"{name}: " + ", ".join(f"{kind} x{count}" for kind, count in STACKS[name].items()))
    print(
        f"{'run':<4} {'total s':>8} {'floor s':>8} {'slowest probe s':>16} {'overhead s':>11} "
        f"{'cpu s':>6} {'checks passed':>14}"
    )
    for number, run in enumerate(figures, 1):
        print(
            f"{number:<4} {run['seconds']:>8.3f} {run['floor']:>8.3f} {run['slowest']:>16.3f} "
            f"{run['overhead']:>11.3f} {run['cpu']:>6.2f} {int(run['passes']):>8}/"
            f"{int(run['checks'])}"
        )
    median = statistics.median(run["seconds"] for run in figures)
    slowest = statistics.median(run["slowest"] for run in figures)
    floor = figures[0]["floor"]
    overhead = median - floor - slowest
    print(
        f"median: {median:.3f} s = {floor:.1f} s of intervals + {slowest:.3f} s slowest probe "
        f"+ {overhead:.3f} s; one component after another: >= 50 × {floor:.1f} s = "
        f"{50 * floor:.0f} s\n"
    )
    return overhead


if __name__ == "__main__":
    sys.exit(main())
