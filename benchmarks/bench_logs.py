"""``faultfinder logs`` on a generated 1 GB log, side by side with ``grep -E`` in the same run.

Generates a log into a fresh directory under /tmp (deleted at the end, whatever happens), then
times, each pinned to one CPU:

- faultfinder's scan (the ``collect`` loop the CLI runs) with RE2, the default engine;
- the same with Python's ``re`` as the prefilter's engine, on the first part of the file;
- the whole CLI, ``faultfinder logs FILE --json``, start-up included;
- ``grep -E -i -c`` over the same file with the prefilter's literals, and with every
  signature's pattern (the very patterns faultfinder classifies with), in the C locale and in
  C.UTF-8.

Run from the repository root: ``.venv/bin/python benchmarks/bench_logs.py [--size-mb 1024]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from faultfinder.classify.signatures import SIGNATURES, prefilter_source
from faultfinder.logs import Summary, collect

# Noise: what a busy service writes when nothing is wrong. A few lines hold a keyword without
# being a fault ("timeout", "error_count"), so the prefilter has work to throw away.
_PATHS = ("/api/users/{}", "/api/orders/{}", "/health", "/static/app.{}.js", "/api/cart/{}")
_QUIET = (
    '{time} INFO uvicorn.access 10.{a}.{b}.{c}:{port} - "GET {path} HTTP/1.1" 200 OK',
    '{time} INFO uvicorn.access 10.{a}.{b}.{c}:{port} - "POST {path} HTTP/1.1" 201 Created',
    "{time} INFO app.orders: order {n} placed by user {m} total={cents} cents",
    "{time} DEBUG app.cache: hit key=user:{m} ttl={a}s",
    '{{"time": "{time}", "level": "info", "msg": "request done", "path": "{path}", '
    '"ms": {cents}, "request_id": "{hex}"}}',
)
_KEYWORD_NOISE = (
    "{time} INFO app.http: client timeout set to 30s for {path}",
    "{time} DEBUG app.metrics: error_count=0 retries=0 failures=0",
)
# Faults, in the shapes the signature tests use: each generated line names one code.
_FAULTS = (
    "{time} ERROR app: redis.exceptions.ConnectionError: Error -3 connecting to "
    "redis.internal:6379. Temporary failure in name resolution.",
    "{time} ERROR app: redis.exceptions.ConnectionError: Error 111 connecting to "
    "10.0.0.5:6379. Connection refused.",
    '{time} UTC [81] FATAL:  password authentication failed for user "app"',
    "{time} UTC [82] FATAL:  sorry, too many clients already",
    "{time} ERROR app: sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 "
    "reached, connection timed out, timeout 30.00",
    "{time} [error] 12#12: *{n} upstream timed out (110: Connection timed out) while reading "
    "response header from upstream",
)
_UNKNOWN = "{time} ERROR app.payments: charge {n} failed: card declined by issuer"
_TRACEBACK = (
    "{time} ERROR app: request failed\nTraceback (most recent call last):\n"
    '  File "/app/orders/api.py", line 88, in create\n    total = cart["total"]\n'
    "KeyError: 'total'"
)


def generate(path: Path, size: int, seed: int = 1) -> dict[str, int]:
    """Write about ``size`` bytes of log; the count of each kind of line written."""
    chance = random.Random(seed)
    written = {"noise": 0, "keyword_noise": 0, "faults": 0, "unknown": 0, "tracebacks": 0}
    start = time.mktime((2024, 5, 1, 0, 0, 0, 0, 0, -1))
    total = 0
    with path.open("w") as log:
        while total < size:
            lines = []
            for _ in range(20_000):
                second = start + total / 1_000_000  # about 1 MB of log a second
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + "Z"
                roll = chance.random()
                if roll < 0.0010:
                    template, kind = chance.choice(_FAULTS), "faults"
                elif roll < 0.0015:
                    template, kind = _UNKNOWN, "unknown"
                elif roll < 0.0016:
                    template, kind = _TRACEBACK, "tracebacks"
                elif roll < 0.0116:
                    template, kind = chance.choice(_KEYWORD_NOISE), "keyword_noise"
                else:
                    template, kind = chance.choice(_QUIET), "noise"
                number = chance.randrange(1, 10**6)
                line = template.format(
                    time=stamp,
                    a=number % 250,
                    b=number % 17,
                    c=number % 200,
                    port=1024 + number % 60000,
                    n=number,
                    m=number % 9973,
                    cents=number % 99999,
                    hex=f"{number * 2654435761 % 2**64:016x}",
                    path=chance.choice(_PATHS).format(number),
                )
                lines.append(line)
                total += len(line) + 1
                written[kind] += 1
            log.write("\n".join(lines) + "\n")
    return written


def on_one_cpu() -> int:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def time_scan(path: Path, *, use_re2: bool, limit: int | None = None) -> tuple[float, float, int]:
    """Seconds (wall, CPU) to scan ``path`` (or its first ``limit`` bytes), and events found."""
    source = path
    if limit is not None:
        source = path.with_suffix(".head")
        with path.open("rb") as whole, source.open("wb") as head:
            head.write(whole.read(limit))
    started, cpu = time.perf_counter(), time.process_time()
    summary = collect([str(source)], Summary(), use_re2=use_re2)
    result = time.perf_counter() - started, time.process_time() - cpu
    document = summary.document()
    if limit is not None:
        source.unlink()
    return result[0], result[1], document["matched"] + document["unclassified"]["count"]


def time_command(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv[0]} failed: {done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--re-mb", type=int, default=16, help="how much Python's re scans")
    options = parser.parse_args()
    grep = shutil.which("grep") or "grep"
    directory = Path(tempfile.mkdtemp(prefix="faultfinder-bench-logs-", dir="/tmp"))
    try:
        cpu = on_one_cpu()
        path = directory / "app.log"
        started = time.perf_counter()
        written = generate(path, options.size_mb << 20)
        size = path.stat().st_size
        megabytes = size / 1e6
        print(
            f"generated {megabytes:,.0f} MB ({sum(written.values()):,} lines: "
            + ", ".join(f"{kind} {count:,}" for kind, count in written.items())
            + f") in {time.perf_counter() - started:.1f} s; everything below runs on CPU {cpu}"
        )
        literals = directory / "prefilter.txt"
        literals.write_text("\n".join(prefilter_source().split("|")) + "\n")
        patterns = directory / "signatures.txt"
        patterns.write_text("\n".join(signature.pattern for signature in SIGNATURES) + "\n")
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache

        rows: list[tuple[str, float, float | None, str]] = []
        wall, cpu_seconds, found = time_scan(path, use_re2=True)
        rows.append(("faultfinder scan, RE2 prefilter", wall, cpu_seconds, f"{found:,} events"))
        limit = min(size, options.re_mb << 20)
        wall, cpu_seconds, found = time_scan(path, use_re2=False, limit=limit)
        scale = size / limit
        rows.append(
            (
                f"faultfinder scan, Python re prefilter (first {limit >> 20} MB)",
                wall * scale,
                cpu_seconds * scale,
                f"{found:,} events in that part",
            )
        )
        wall, out = time_command([sys.executable, "-m", "faultfinder", "logs", str(path), "--json"])
        document = json.loads(out)
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(
            (
                "faultfinder logs FILE --json (whole CLI)",
                wall,
                None,
                f"{document['matched']:,} with a code, "
                f"{document['unclassified']['count']:,} unclassified, "
                f"peak RSS {child:.0f} MB",
            )
        )
        c_locale = {**os.environ, "LC_ALL": "C"}
        utf8 = {**os.environ, "LC_ALL": "C.UTF-8"}
        for label, argv, env in (
            ("grep -E -i -c, prefilter literals, LC_ALL=C", ["-f", str(literals)], c_locale),
            ("grep -E -i -c, signature patterns, LC_ALL=C", ["-f", str(patterns)], c_locale),
            ("grep -E -i -c, signature patterns, C.UTF-8", ["-f", str(patterns)], utf8),
        ):
            wall, out = time_command([grep, "-E", "-i", "-c", *argv, str(path)], env)
            rows.append((label, wall, None, f"{int(out):,} lines"))

        print(f"\n{'':<62}{'MB/s':>8}{'wall s':>9}{'cpu s':>8}  result")
        for label, wall, cpu_seconds, result in rows:
            cpu_text = f"{cpu_seconds:8.2f}" if cpu_seconds is not None else f"{'':>8}"
            print(f"{label:<62}{megabytes / wall:8.0f}{wall:9.2f}{cpu_text}  {result}")
        print(
            f"\nwritten: {written['faults'] + written['tracebacks']:,} lines with a code "
            f"({written['faults']:,} fault lines, {written['tracebacks']:,} tracebacks, one "
            f"event each) and {written['unknown'] + written['tracebacks']:,} unknown errors "
            "(each traceback follows an unknown 'request failed' line)"
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
