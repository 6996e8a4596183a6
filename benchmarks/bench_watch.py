"""Does ``faultfinder watch`` of 2,000 local targets at a 10 s interval stay under 25 % of one
core, with steady memory?

Run from the repository root: ``.venv/bin/python benchmarks/bench_watch.py`` (no root needed:
every target listens on 127.0.0.1). It starts one nginx on a free loopback port (``return 200``,
no access log) and, for each kind of target, a real ``faultfinder watch --plain`` subprocess on a
stack of 2,000 components with ``interval: 10s`` and the default SQLite history. It reads the
watch process's CPU time and resident memory from /proc every 10 s for ``--seconds`` (default
780: memory grows until each component holds its 60 recent results, ten minutes at 10 s),
skipping the first ``WARM_UP`` seconds (start-up imports, the first round). Then it looks for
gaps in the history. Exits 1 if CPU goes over 25 % of one core, if memory grows more than 5 %
once the recent window is full, if a component's history has a gap over 1.1 intervals, or if
SIGTERM does not stop watch cleanly within ``STOP_LIMIT``.
See benchmarks/README.md for the figures measured.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.servers import Process, free_port, require_binary, wait_for_port  # noqa: E402

TARGETS = 2000
INTERVAL = 10  # seconds
WARM_UP = 20.0  # seconds before measuring: imports, the first round spread over one interval
SAMPLE_EVERY = 10.0
CPU_GOAL = 25.0  # % of one core
MEMORY_GROWTH = 0.05  # steady: at most this much growth once the recent window is full
WINDOW_FULL = 60 * INTERVAL + 30  # s: every component holds its 60 recent results (RECENT_KEPT)
STOP_LIMIT = 30.0  # s: SIGTERM must stop watch (history flushed) within this
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
KINDS = {"tcp": "tcp://127.0.0.1:{port}", "http": "http://127.0.0.1:{port}/"}

NGINX = """\
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {root}/temp;
    proxy_temp_path {root}/temp;
    fastcgi_temp_path {root}/temp;
    uwsgi_temp_path {root}/temp;
    scgi_temp_path {root}/temp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, all threads


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def write_stack(workdir: Path, kind: str, port: int) -> Path:
    url = KINDS[kind].format(port=port)
    document = {
        "version": 1,
        "name": f"bench_{kind}",
        "defaults": {"timeout": "3s", "interval": f"{INTERVAL}s"},
        "components": {f"{kind}_{index:04}": {"url": url} for index in range(TARGETS)},
    }
    path = workdir / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def stored(store: Path) -> tuple[int, int, float, str]:
    """Results kept, failed, the longest gap (s) between two of one component's results, and
    the commonest failure codes."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        codes = connection.execute(
            "SELECT code, COUNT(*) FROM faultfinder_observations WHERE ok = 0 "
            "GROUP BY code ORDER BY 2 DESC LIMIT 3"
        ).fetchall()
        total, failed = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(1 - ok), 0) FROM faultfinder_observations"
        ).fetchone()
        (gap,) = connection.execute(
            "SELECT MAX(at_ms - previous) FROM (SELECT at_ms, LAG(at_ms) OVER "
            "(PARTITION BY component ORDER BY at_ms) AS previous FROM faultfinder_observations)"
        ).fetchone()
    return int(total), int(failed), (gap or 0) / 1000, ", ".join(f"{c} ×{n}" for c, n in codes)


def measure(stack: Path, seconds: float) -> dict[str, object]:
    store = stack.with_suffix(".history.db")
    log = stack.with_suffix(".log").open("wb")
    watch = subprocess.Popen(
        [sys.executable, "-m", "faultfinder", "watch", str(stack), "--plain"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    samples: list[tuple[float, float, float]] = []  # (elapsed s, cpu s, rss MB)
    print(f"{stack.stem}: watching for {WARM_UP + seconds:.0f} s …", file=sys.stderr)
    started = time.monotonic()
    try:
        time.sleep(WARM_UP)
        while time.monotonic() - started <= WARM_UP + seconds:
            samples.append((time.monotonic() - started, cpu_seconds(watch.pid), rss_mb(watch.pid)))
            time.sleep(SAMPLE_EVERY)
        if watch.poll() is not None:
            raise RuntimeError(f"watch exited early: {stack.with_suffix('.log').read_text()}")
    finally:
        stopping = time.monotonic()
        watch.send_signal(signal.SIGTERM)
        try:
            watch.wait(timeout=STOP_LIMIT)
        except subprocess.TimeoutExpired:
            watch.kill()  # counted as a failure below (exit -9)
            watch.wait()
        stop = time.monotonic() - stopping
        log.close()
    elapsed = samples[-1][0] - samples[0][0]
    cpu = (samples[-1][1] - samples[0][1]) / elapsed * 100
    total, failed, gap, codes = stored(store)
    return {
        "cpu": cpu,
        "rss": {round(elapsed): rss for elapsed, _, rss in samples},
        "stored": total,
        "failed": failed,
        "codes": codes,
        "gap": gap,
        "exit": watch.returncode,
        "stop": stop,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=780.0, help="measured time per kind")
    parser.add_argument(
        "--kind",
        action="append",
        choices=sorted(KINDS),
        help="only these kinds (repeatable; default: all)",
    )
    args = parser.parse_args()
    kinds = args.kind or list(KINDS)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ff-bench-watch-") as directory:
        workdir = Path(directory)
        (workdir / "temp").mkdir()
        port = free_port()
        config = workdir / "nginx.conf"
        config.write_text(NGINX.format(root=workdir, port=port))
        user = ["-g", "user root;"] if os.geteuid() == 0 else []
        nginx = Process(
            [
                require_binary("nginx"),
                "-p",
                str(workdir),
                "-c",
                str(config),
                "-e",
                str(workdir / "error.log"),
                *user,
                "-g",
                "daemon off;",
            ],
            log=workdir / "nginx.log",
        )
        try:
            wait_for_port(port)
            for kind in kinds:
                results[kind] = run = measure(write_stack(workdir, kind, port), args.seconds)
                print(
                    f"{kind}: cpu {run['cpu']:.1f} % of a core, exit {run['exit']} after "
                    f"{run['stop']:.1f} s; failures: {run['codes'] or 'none'}",
                    file=sys.stderr,
                )
        finally:
            nginx.stop()
    print(
        f"faultfinder watch: {TARGETS} targets, interval {INTERVAL} s, measured "
        f"{args.seconds:.0f} s after a {WARM_UP:.0f} s warm-up, {os.cpu_count()} CPUs\n"
    )
    print(
        f"{'kind':<6} {'cpu % of a core':>16} {'rss MB, window full → end':>26} "
        f"{'results kept':>13} {'failed':>7} {'longest gap s':>14} {'exit':>5} {'stop s':>7}"
    )
    ok = True
    for kind, run in results.items():
        rss: dict[int, float] = run["rss"]  # type: ignore[assignment]
        # memory grows until every component holds its RECENT_KEPT results; steady after
        full = min((t for t in rss if t >= WINDOW_FULL), default=min(rss))
        growth = (rss[max(rss)] - rss[full]) / rss[full]
        gap = float(run["gap"])  # type: ignore[arg-type]
        memory = f"{rss[full]:.0f} → {rss[max(rss)]:.0f} ({growth:+.1%})"
        print(
            f"{kind:<6} {run['cpu']:>16.1f} {memory:>26} "
            f"{run['stored']:>13} {run['failed']:>7} {gap:>14.2f} {run['exit']:>5} "
            f"{run['stop']:>7.1f}"
        )
        ok &= float(run["cpu"]) <= CPU_GOAL  # type: ignore[arg-type]
        ok &= growth <= MEMORY_GROWTH and run["failed"] == 0 and run["exit"] == 0
        ok &= gap <= INTERVAL * 1.1  # no result missing from the history
    for kind, run in results.items():
        print(f"{kind} failures: {run['codes'] or 'none'}")
    print("\nrss MB over time (s): ")
    for kind, run in results.items():
        curve: dict[int, float] = run["rss"]  # type: ignore[assignment]
        shown = [t for t in curve if t in (min(curve), max(curve)) or t % 120 < SAMPLE_EVERY]
        print(f"  {kind}: " + ", ".join(f"{t}: {curve[t]:.0f}" for t in shown))
    print(
        f"\ngoal: cpu <= {CPU_GOAL:.0f} % of one core, memory growth <= "
        f"{MEMORY_GROWTH:.0%} once the recent window is full, no gap over 1.1 intervals: "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
