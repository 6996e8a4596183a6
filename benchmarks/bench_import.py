"""What ``import faultfinder.health`` costs an app, against what the app already pays for Starlette.

Run from the repository root: ``.venv/bin/python benchmarks/bench_import.py [--python PATH]``.

Each round starts fresh interpreters, in turn (A B A B …, so a drift of the machine's speed
hits both alike), and times, inside each, the import alone with ``time.perf_counter``:

- the peer: ``import starlette.applications, starlette.routing`` (what a Starlette or FastAPI
  app has imported before it mounts the health endpoints);
- the subject: the same, then ``import faultfinder.health``; its own cost is the difference.

It prints the medians, the ratio of faultfinder.health's own cost to Starlette's, and which
heavy libraries the import pulled in (pydantic, PyYAML, cryptography, asyncpg, redis…), and
exits 1 if any of those libraries is imported: the health library must cost only what it
needs. ``--python`` runs another checkout's interpreter (the figures before a change).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

# Libraries the health endpoints never need to import up front: the stack file's loader
# (pydantic, PyYAML), certificate reading, the probers' clients, the command line's renderers.
HEAVY = (
    "pydantic",
    "yaml",
    "cryptography",
    "asyncpg",
    "redis",
    "websockets",
    "h11",
    "rich",
    "prometheus_client",
    "uvicorn",
)

PEER = "import starlette.applications, starlette.routing"
TIMED = """
import json, sys, time
{before}
started = time.perf_counter()
{subject}
seconds = time.perf_counter() - started
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print(json.dumps({{"seconds": seconds, "heavy": heavy}}))
"""


def once(python: str, subject: str, before: str = "") -> dict[str, object]:
    code = TIMED.format(before=before, subject=subject, heavy=HEAVY)
    output = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    peer: list[float] = []
    own: list[float] = []
    heavy: list[str] = []
    for _ in range(args.rounds):
        peer.append(float(once(args.python, PEER)["seconds"]))  # type: ignore[arg-type]
        result = once(args.python, "import faultfinder.health", before=PEER)
        own.append(float(result["seconds"]))  # type: ignore[arg-type]
        heavy = list(result["heavy"])  # type: ignore[call-overload]
    peer_ms = statistics.median(peer) * 1000
    own_ms = statistics.median(own) * 1000
    print(f"import time, median of {args.rounds} fresh interpreters ({args.python})")
    print(f"  starlette (the peer)          {peer_ms:7.1f} ms")
    print(f"  faultfinder.health on top     {own_ms:7.1f} ms")
    print(f"  ratio faultfinder.health / starlette: {own_ms / peer_ms:.2f}")
    print(f"  heavy libraries imported: {', '.join(heavy) or 'none'}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
