"""A large file scanned on two cores gives the very document a scan in one process gives: line
numbers, first-seen times, examples, templates and all, whether the second half's result is
used or the split falls where the first half must read on (a traceback across it).

Each scan runs in a fresh interpreter: the file is split only in a process without threads
(a fork does not carry them over), and a test runner may have some."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_logs_scanner import LOG

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2,
    reason="a file is split between two cores only on Linux with two CPUs",
)

DATA = Path(__file__).parent.parent / "data" / "logs"
# Real wordings, in every shape the scanner reads (tests/data/logs/README.md says where each
# comes from): plain Python logging with tracebacks, JSON lines, Cloud Logging's export, the CRI
# format kubelet keeps, kubectl describe.
FIRST = LOG + (DATA / "json-lines-families.jsonl").read_bytes()
SECOND = b"".join(
    (DATA / name).read_bytes()
    for name in ("kubernetes-cri.log", "cloud-logging-families.jsonl", "kubectl-describe-pod.txt")
)
# an error no signature names, only in the second half: its template comes after the first's
UNKNOWN = b"2024-05-01 13:00:00,000 ERROR app.export: couldn't write report 7: quota reached\n"
UNTIMED = b"postgresql://app:hunter22@db:5432/app connection timed out\n"  # takes the time above
FILLER = b"2024-05-01 12:59:00,000 INFO app: "

SCRIPT = """
import json, sys
from faultfinder.logs import Summary, collect
from faultfinder.logs import parallel
from faultfinder.logs.parallel import scan_in_two, splittable

parallel.SPOOL_BATCH = 3  # the second half's unknown errors spooled a few at a time, and the rest
from faultfinder.logs.scanner import Scanner
from faultfinder.logs.summary import SourceStats

path = sys.argv[1]
serial = collect([path], Summary(), parallel_from=None).document()
parallel = collect([path], Summary(), parallel_from=1).document()
split = splittable(path, b"", 1)
merged = scan_in_two(
    path, split, Summary(), SourceStats(path), lambda emit: Scanner(path, emit)
)
print(json.dumps({"serial": serial, "parallel": parallel, "split": split, "merged": merged}))
"""


def scan_both(path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def with_middle_at(first: bytes, middle: bytes, second: bytes) -> bytes:
    """``first + middle + second``, padded so the file's middle falls in ``first``'s last line:
    the split (the start of the line after the middle) is then where ``middle`` starts."""
    last_line = len(first) - first.rstrip(b"\n").rfind(b"\n") - 1
    # middle // 2 in the last line's second half: total // 2 == len(first) - last_line // 2
    pad = 2 * (len(first) - last_line // 2) - len(first) - len(middle) - len(second)
    assert pad > len(FILLER) + 1, "the first part must be the longer"
    filler = FILLER + b"x" * (pad - len(FILLER) - 1) + b"\n"
    data = first + middle + second + filler
    assert len(first) - last_line < len(data) // 2 < len(first)
    return data


@pytest.mark.parametrize(
    ("middle", "merged"),
    [
        (UNKNOWN, True),  # a plain line at the split: the second half's result is used
        (UNTIMED, True),  # its first line has no time: it takes the one above the split
        (LOG[LOG.index(b"2024-05-01 12:02") :], True),  # a traceback starting at the split
    ],
    ids=["plain", "untimed", "traceback-after"],
)
def test_two_cores_give_the_serial_document(tmp_path: Path, middle: bytes, merged: bool) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(with_middle_at(FIRST * 80, middle, SECOND * 20 + UNKNOWN))
    result = scan_both(path)
    assert result["split"] == len(FIRST * 80)
    assert result["merged"] is merged
    assert result["parallel"] == result["serial"]
    document = result["serial"]
    assert isinstance(document, dict)
    assert document["lines"] == path.read_bytes().count(b"\n")
    assert document["matched"] > 80 * 5 + 20 * 5  # codes on both sides of the split
    assert len(document["unclassified"]["templates"]) >= 2


def test_a_traceback_across_the_split_is_read_by_the_first_half(tmp_path: Path) -> None:
    # the header and its first frame before the split, the rest after: the first half reads on
    header = LOG.index(b"2024-05-01 12:00:02")
    frame = LOG.index(b"    r.ping()")
    first = FIRST * 80 + LOG[header:frame]
    path = tmp_path / "app.log"
    path.write_bytes(with_middle_at(first, LOG[frame:], SECOND * 20))
    result = scan_both(path)
    assert result["merged"] is False
    assert result["parallel"] == result["serial"]
    document = result["serial"]
    assert isinstance(document, dict)
    codes = {entry["code"]: entry["count"] for entry in document["codes"]}
    assert codes["dns.temporary_failure"] >= 81  # the trace across the split counts once
