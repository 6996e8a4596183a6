"""N agents, M targets, one Prometheus: ``/probe`` shared out with hashmod relabelling.

Run from the repository root: ``.venv/bin/python benchmarks/bench_agents.py``. It starts an
nginx answering ``200 ok`` (the M targets are M URLs on it), then, for each N of ``--agents``,
N ``faultfinder serve`` processes (no stack: ``/probe`` only, each its own process) and a real
Prometheus whose scrape configuration is the one docs/serve.md shows ("Sharding /probe"): one
job per agent, each keeping the targets whose ``hashmod`` of the address is its number. After
a warm-up, it reads from Prometheus what happened over ``--seconds``: scrapes attempted and
answered (``up``), probes that succeeded (``probe_success``), and how evenly the targets were
spread. It prints probes/s and scrape success as N grows. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

# The target nginx as bench_probe starts it (run as a script, this folder is on sys.path),
# and the server helpers the tests use: run from a checkout, not an install.
from bench_probe import start_nginx  # noqa: E402
from tests.servers import Process, free_port, require_binary, wait_for_port, wait_until  # noqa: E402


@dataclass
class Round:
    agents: int
    targets: int
    wanted_per_second: float  # scrapes Prometheus should make: targets / interval
    scrapes: float
    answered: float
    probes_ok: float
    seconds: float
    fewest: int  # targets of the agent with the fewest
    most: int
    cpu_seconds: float  # all agents together, over the window

    @property
    def probes_per_second(self) -> float:
        return self.probes_ok / self.seconds

    @property
    def scrape_success(self) -> float:
        return self.answered / self.scrapes if self.scrapes else 0.0


def sharded_jobs(agents: list[str], targets: list[str], module: str) -> list[dict[str, Any]]:
    """One job per agent, as docs/serve.md writes it: every job lists every target, and keeps
    those whose hash modulo the number of agents is its own number."""
    return [
        {
            "job_name": f"probe-{index}",
            "metrics_path": "/probe",
            "params": {"module": [module]},
            "static_configs": [{"targets": targets}],
            "relabel_configs": [
                {
                    "source_labels": ["__address__"],
                    "modulus": len(agents),
                    "target_label": "__tmp_hash",
                    "action": "hashmod",
                },
                {"source_labels": ["__tmp_hash"], "regex": str(index), "action": "keep"},
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": agent},
            ],
        }
        for index, agent in enumerate(agents)
    ]


def cpu_seconds(process: Process) -> float:
    fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def started(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


def query(port: int, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/query",
        params={"query": promql},
        trust_env=False,
        timeout=30,
    ).json()
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def scalar(port: int, promql: str) -> float:
    result = query(port, promql)
    return float(result[0]["value"][1]) if result else 0.0


def measure(workdir: Path, agents: int, targets: list[str], args: argparse.Namespace) -> Round:
    processes: list[Process] = []
    with started(processes):
        addresses = []
        for index in range(agents):
            port = free_port()
            processes.append(
                Process(
                    [
                        sys.executable,
                        "-m",
                        "faultfinder",
                        "serve",
                        "--listen",
                        f"127.0.0.1:{port}",
                        "--max-probes",
                        "2000",
                    ],
                    log=workdir / f"agent-{agents}-{index}.log",
                    env={"PYTHONPATH": str(ROOT / "src")},
                )
            )
            addresses.append(f"127.0.0.1:{port}")
        for address in addresses:
            wait_for_port(int(address.rpartition(":")[2]))
        directory = workdir / f"prometheus-{agents}"
        (directory / "data").mkdir(parents=True)
        interval = f"{int(args.interval * 1000)}ms"  # Prometheus durations are whole units
        config = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval},
            "scrape_configs": sharded_jobs(addresses, targets, "http_2xx"),
        }
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        processes.append(
            Process(
                [
                    require_binary("prometheus"),
                    f"--config.file={directory / 'prometheus.yml'}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                log=directory / "prometheus.log",
            )
        )
        wait_until(lambda: _ready(port), 30, "prometheus to be ready")
        time.sleep(args.warmup)
        agent_processes = processes[:agents]
        cpu_before = sum(cpu_seconds(process) for process in agent_processes)
        time.sleep(args.seconds)
        cpu = sum(cpu_seconds(process) for process in agent_processes) - cpu_before
        window = f"{int(args.seconds)}s"
        spread = query(port, 'count by (job) (up{job=~"probe-.*"})')
        shares = [int(float(result["value"][1])) for result in spread]
        return Round(
            agents=agents,
            targets=len(targets),
            wanted_per_second=len(targets) / args.interval,
            scrapes=scalar(port, f'sum(count_over_time(up{{job=~"probe-.*"}}[{window}]))'),
            answered=scalar(port, f'sum(sum_over_time(up{{job=~"probe-.*"}}[{window}]))'),
            probes_ok=scalar(port, f"sum(sum_over_time(probe_success[{window}]))"),
            seconds=args.seconds,
            fewest=min(shares, default=0),
            most=max(shares, default=0),
            cpu_seconds=cpu,
        )


def _ready(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (
            httpx.get(f"http://127.0.0.1:{port}/-/ready", trust_env=False, timeout=1).status_code
            == 200
        )
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="1,2,4", help="the Ns, comma-separated")
    parser.add_argument("--targets", type=int, default=1000, help="M: targets, all HTTP")
    parser.add_argument("--interval", type=float, default=1.0, help="scrape interval, seconds")
    parser.add_argument("--seconds", type=float, default=15.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as temporary:
        workdir = Path(temporary)
        port, nginx = start_nginx(workdir)
        with started([nginx]):
            wait_for_port(port)
            targets = [f"http://127.0.0.1:{port}/t{index}" for index in range(args.targets)]
            rounds = [measure(workdir, int(n), targets, args) for n in args.agents.split(",")]
    print(
        f"{args.targets} HTTP targets every {args.interval:g}s "
        f"({args.targets / args.interval:.0f} probes/s wanted), {args.seconds:g}s measured, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'agents':>6} {'probes/s ok':>12} {'scrape success':>15} {'targets/agent':>14} "
        f"{'agent CPU s/s':>14}"
    )
    for run in rounds:
        print(
            f"{run.agents:>6} {run.probes_per_second:>12.0f} {run.scrape_success:>14.1%} "
            f"{run.fewest:>6}–{run.most:<7} {run.cpu_seconds / run.seconds:>14.2f}"
        )
    return 0 if all(run.scrapes for run in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
