"""``faultfinder logs`` on generated ~200 MB incident logs, side by side with ``grep -E``.

Generates, into a fresh directory under /tmp (deleted at the end, whatever happens), one log per
mix of failure lines (1 %, 5 %, 20 % by default): real failure wordings of many families (the
signature tests' lines), errors no signature names, Python tracebacks, lines that hold a keyword
without being a fault, and INFO/DEBUG noise for the rest. Then, for each log, it runs in turn,
A B A B …, as whole processes, start-up included:

- A: ``faultfinder logs FILE --json`` (its output thrown away);
- B: ``grep -E -i -c -f PHRASES FILE`` in the C locale, PHRASES being the fixed phrases
  faultfinder's prefilter searches for (every signature's keywords and the error words).

With ``--patterns``, also once per log ``grep -E -i -c`` over every signature's pattern (the
very patterns faultfinder classifies with), which GNU grep runs far slower than the phrases.

and reports each one's wall time, CPU time (user + system) and peak RSS, from the operating
system's accounting of the finished child (``wait4``), as medians, with the ratio A/B pair by
pair. Last, the peak RSS of ``faultfinder logs`` on the first half of the 5 % log, to show
memory does not grow with the file.

Run from the repository root: ``.venv/bin/python benchmarks/bench_logs.py [--size-mb 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the signature tests' lines: real wordings, each with its code

from tests.unit.test_logs_signatures import LINES  # noqa: E402

from faultfinder.classify.signatures import SIGNATURES, prefilter_source  # noqa: E402
from faultfinder.logs.codes import code_of  # noqa: E402
from faultfinder.logs.records import parse_line  # noqa: E402

# Noise: what a busy service writes when nothing is wrong.
_PATHS = ("/api/users/{}", "/api/orders/{}", "/health", "/static/app.{}.js", "/api/cart/{}")
_QUIET = (
    '{time} INFO uvicorn.access 10.{a}.{b}.{c}:{port} - "GET {path} HTTP/1.1" 200 OK',
    '{time} INFO uvicorn.access 10.{a}.{b}.{c}:{port} - "POST {path} HTTP/1.1" 201 Created',
    "{time} INFO app.orders: order {n} placed by user {m} total={cents} cents",
    "{time} DEBUG app.cache: hit key=user:{m} ttl={a}s",
    "{time} DEBUG sqlalchemy.engine: SELECT orders.id FROM orders WHERE orders.user_id = {m}",
    '{{"time": "{time}", "level": "info", "msg": "request done", "path": "{path}", '
    '"ms": {cents}, "request_id": "{hex}"}}',
)
# A keyword without a fault ("timeout", "error_count"): the prefilter's hits to throw away.
_KEYWORD_NOISE = (
    "{time} INFO app.http: client timeout set to 30s for {path}",
    "{time} DEBUG app.metrics: error_count=0 retries=0 failures=0",
    "{time} DEBUG gunicorn.error: timeout: 30",
)
# Errors no signature names (they become templates), and a traceback (five lines, one event).
_UNKNOWN = (
    "{time} ERROR app.payments: charge {n} failed: card declined by issuer",
    "{time} ERROR app.export: couldn't write report {n} for user {m}: quota reached",
    '{{"time": "{time}", "level": "error", "msg": "webhook delivery failed", "id": "{hex}"}}',
)
_TRACEBACK = (
    "{time} ERROR app: request failed\nTraceback (most recent call last):\n"
    '  File "/app/orders/api.py", line 88, in create\n    total = cart["total"]\n'
    "KeyError: 'total'"
)


def fault_lines() -> list[str]:
    """The signature tests' lines as templates, behind a time: those that keep their code so."""
    kept = []
    for line, code in LINES:
        if code is None or "\n" in line or line.lstrip().startswith(("{", "[")):
            continue
        template = "{time} " + line.strip().replace("{", "{{").replace("}", "}}")
        stamped = template.format(time="2024-05-01T00:00:00Z")
        if code_of(parse_line(stamped.encode(), "app.log", 1, {}))[0] == code:
            kept.append(template)
    return kept


@dataclass(frozen=True)
class Mix:
    failures: float  # the share of lines that are failures (a traceback's lines all count)
    unknown: float = 0.10  # of the failures: errors no signature names
    tracebacks: float = 0.02  # of the failures: five-line tracebacks
    keyword_noise: float = 0.01  # of all lines


def generate(path: Path, size: int, mix: Mix, seed: int = 1) -> dict[str, int]:
    """Write about ``size`` bytes of log; the count of each kind of line written."""
    chance = random.Random(seed)
    faults = fault_lines()
    written = {"noise": 0, "keyword_noise": 0, "faults": 0, "unknown": 0, "traceback_lines": 0}
    start = time.mktime((2024, 5, 1, 0, 0, 0, 0, 0, -1))
    known = mix.failures * (1 - mix.unknown - mix.tracebacks)
    unknown = known + mix.failures * mix.unknown
    traced = unknown + mix.failures * mix.tracebacks / 5  # one draw writes five lines
    keyword = traced + mix.keyword_noise
    total = 0
    with path.open("w") as log:
        while total < size:
            lines = []
            for _ in range(20_000):
                second = start + total / 200_000  # about 200 kB of log a second
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + "Z"
                roll = chance.random()
                if roll < known:
                    template, kind = chance.choice(faults), "faults"
                elif roll < unknown:
                    template, kind = chance.choice(_UNKNOWN), "unknown"
                elif roll < traced:
                    template, kind = _TRACEBACK, "traceback_lines"
                elif roll < keyword:
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
                written[kind] += line.count("\n") + 1
            log.write("\n".join(lines) + "\n")
    return written


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    output: bytes


def run(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """One whole process: wall time, and CPU time and peak RSS from GNU time (a peak RSS from
    this process's own wait4 would include this interpreter's, which Linux carries over an
    exec into the child's)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as usage:
        command = ["/usr/bin/time", "-o", usage.name, "-f", "%U %S %M", *argv]
        started = time.perf_counter()
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=env, check=False)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise RuntimeError(f"{argv[:3]} failed: {done.stderr.decode(errors='replace')}")
        user, system, peak_kb = usage.read().split()[-3:]
        out.seek(0)
        return Run(wall, float(user) + float(system), int(peak_kb) / 1024, out.read())


def faultfinder(path: Path) -> list[str]:
    return [sys.executable, "-m", "faultfinder", "logs", str(path), "--json"]


def grep(patterns: Path, path: Path) -> list[str]:
    return [shutil.which("grep") or "grep", "-E", "-i", "-c", "-f", str(patterns), str(path)]


def compare(path: Path, patterns: Path, rounds: int) -> tuple[list[Run], list[Run]]:
    """``faultfinder logs`` and grep in turn, after one warm-up of each."""
    c_locale = {**os.environ, "LC_ALL": "C"}
    run(faultfinder(path))
    run(grep(patterns, path), c_locale)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(run(faultfinder(path)))
        theirs.append(run(grep(patterns, path), c_locale))
    return ours, theirs


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--mixes", default="1,5,20", help="failure shares, in %%")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--patterns", action="store_true", help="also grep the signatures")
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="faultfinder-bench-logs-", dir="/tmp"))
    try:
        phrases = directory / "phrases.txt"
        phrases.write_text("\n".join(prefilter_source().split("|")) + "\n")
        patterns = directory / "signatures.txt"
        patterns.write_text("\n".join(signature.pattern for signature in SIGNATURES) + "\n")
        print(
            "faultfinder logs FILE --json (ff) vs grep -E -i -c -f PHRASES FILE (LC_ALL=C), "
            f"{options.rounds} rounds, alternating, {len(os.sched_getaffinity(0))} CPUs; medians"
        )
        rows = []
        half_rss: tuple[float, float] | None = None
        for share in (float(text) for text in options.mixes.split(",")):
            path = directory / f"app-{share:g}.log"
            written = generate(path, options.size_mb << 20, Mix(share / 100))
            ours, theirs = compare(path, phrases, options.rounds)
            document = json.loads(ours[0].output)
            ratio = median([a.wall / b.wall for a, b in zip(ours, theirs, strict=True)])
            rows.append(
                {
                    "failures": f"{share:g} %",
                    "MB": f"{path.stat().st_size / 1e6:.0f}",
                    "ff wall s": f"{median([r.wall for r in ours]):.2f}",
                    "ff cpu s": f"{median([r.cpu for r in ours]):.2f}",
                    "ff RSS MB": f"{median([r.rss_mb for r in ours]):.0f}",
                    "grep wall s": f"{median([r.wall for r in theirs]):.2f}",
                    "grep cpu s": f"{median([r.cpu for r in theirs]):.2f}",
                    "grep RSS MB": f"{median([r.rss_mb for r in theirs]):.0f}",
                    "wall ff/grep": f"{ratio:.2f}",
                }
            )
            print(
                f"\n{share:g} %: ff found {document['matched']:,} lines with a code and "
                f"{document['unclassified']['count']:,} unclassified errors; grep counted "
                f"{int(theirs[0].output):,} lines with a phrase; written: "
                + ", ".join(f"{kind} {count:,}" for kind, count in written.items())
            )
            if options.patterns:
                every = run(grep(patterns, path), {**os.environ, "LC_ALL": "C"})
                print(
                    f"  grep -E -i -c over the signature patterns: {every.wall:.2f} s wall, "
                    f"{every.cpu:.2f} s cpu, {int(every.output):,} lines"
                )
            if share == 5:
                half_rss = (median([r.rss_mb for r in ours]), _half_rss(path, options.rounds))
            path.unlink()
        print("\n| " + " | ".join(rows[0]) + " |")
        print("|" + "---:|" * len(rows[0]))
        for row in rows:
            print("| " + " | ".join(row.values()) + " |")
        if half_rss is not None:
            print(
                f"\npeak RSS of faultfinder logs at 5 %: {half_rss[1]:.0f} MB on the first half "
                f"of the log, {half_rss[0]:.0f} MB on all of it"
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def _half_rss(path: Path, rounds: int) -> float:
    """Peak RSS (median) of ``faultfinder logs`` on the first half of ``path``'s lines."""
    half = path.with_suffix(".half")
    with path.open("rb") as whole, half.open("wb") as head:
        data = whole.read(path.stat().st_size // 2)
        head.write(data[: data.rfind(b"\n") + 1])
    try:
        return median([run(faultfinder(half)).rss_mb for _ in range(rounds)])
    finally:
        half.unlink()


if __name__ == "__main__":
    sys.exit(main())
