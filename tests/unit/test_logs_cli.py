"""``faultfinder logs``: exit statuses, gzip and stdin, windows, the stack file's mapping and
secrets, damaged input, and following a growing file."""

from __future__ import annotations

import datetime
import gzip
import json
import queue
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import wait_until
from tests.servers.common import CliResult, StackWriter

Run = Callable[..., CliResult]
DATA = Path(__file__).parents[1] / "data" / "logs"

DNS = "Error -3 connecting to redis.internal:6379. Temporary failure in name resolution."
APP_LOG = "".join(
    f"{line}\n"
    for line in [
        "2024-05-01T12:00:01Z INFO app: started",
        f"2024-05-01T12:00:02Z ERROR app: {DNS}",
        f"2024-05-01T12:00:59Z ERROR app: {DNS}",
        "2024-05-01T12:03:10Z ERROR app: Error 111 connecting to 127.0.0.1:6379. Connection refused.",
        "2024-05-01T12:03:11Z ERROR app: cannot reach postgresql://app:s3cr3t-pass@db:5432/app: "
        'password authentication failed for user "app"',
        "2024-05-01T12:04:00Z ERROR app: payment 7781 failed: card declined",
    ]
)


@pytest.fixture
def app_log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text(APP_LOG)
    return path


def test_codes_counts_owners_and_timeline(run_cli: Run, app_log: Path) -> None:
    result = run_cli("logs", str(app_log), "--json")
    assert result.status == 1
    document = result.json()
    assert (document["lines"], document["matched"]) == (6, 4)
    assert [(e["code"], e["count"]) for e in document["codes"]] == [
        ("dns.temporary_failure", 2),
        ("postgres.auth_failed", 1),
        ("tcp.refused", 1),
    ]
    assert document["by_owner"] == {"configuration": 1, "infrastructure": 3}
    dns = document["codes"][0]
    assert (dns["first_seen"], dns["last_seen"]) == (
        "2024-05-01T12:00:02.000Z",
        "2024-05-01T12:00:59.000Z",
    )
    assert dns["examples"][0]["line"] == 2
    assert document["timeline"] == [
        {"minute": "2024-05-01T12:00Z", "counts": {"dns.temporary_failure": 2}},
        {"minute": "2024-05-01T12:03Z", "counts": {"postgres.auth_failed": 1, "tcp.refused": 1}},
        {"minute": "2024-05-01T12:04Z", "counts": {"unclassified": 1}},
    ]
    assert document["unclassified"]["templates"][0]["template"] == (
        "ERROR app: payment <NUM> failed: card declined"
    )
    assert "s3cr3t-pass" not in result.out  # an inline credential is masked even unconfigured


def test_text_view(run_cli: Run, app_log: Path) -> None:
    result = run_cli("logs", str(app_log), "--color", "never")
    assert result.status == 1
    out = result.out
    assert "6 lines, 4 with a fault code, 1 unclassified errors in 1 templates" in out
    assert "dns.temporary_failure" in out
    assert "timeline (UTC, one row per minute)" in out
    assert "2024-05-01 12:01   ·" in out  # an empty minute stays on the timeline
    assert "fix: Check the resolver" in out
    assert "s3cr3t-pass" not in out


def test_a_clean_log_exits_0(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "clean.log"
    path.write_text("2024-05-01T12:00:01Z INFO all good\n" * 100)
    result = run_cli("logs", str(path))
    assert result.status == 0
    assert "100 lines, 0 with a fault code" in result.out


def test_since_until_and_code(run_cli: Run, app_log: Path) -> None:
    document = run_cli(
        "logs",
        str(app_log),
        "--since",
        "2024-05-01T12:01:00Z",
        "--until",
        "2024-05-01T12:03:10Z",
        "--json",
    ).json()
    assert [e["code"] for e in document["codes"]] == ["tcp.refused"]
    assert document["since"] == "2024-05-01T12:01:00.000Z"
    result = run_cli("logs", str(app_log), "--code", "dns.temporary_failure", "--json")
    assert [e["code"] for e in result.json()["codes"]] == ["dns.temporary_failure"]
    assert result.json()["unclassified"]["count"] == 0
    assert run_cli("logs", str(app_log), "--code", "postgres.timeout").status == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "not a time"),
        (["--code", "dns.typo"], "unknown fault code: dns.typo"),
        (["--follow", "--stop-after", "soon"], "--stop-after"),
    ],
)
def test_bad_calls_exit_2_with_one_line(
    run_cli: Run, app_log: Path, args: list[str], message: str
) -> None:
    result = run_cli("logs", str(app_log), *args)
    assert result.status == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_missing_source_exits_2(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("logs", str(tmp_path / "nope.log"))
    assert result.status == 2
    assert result.err.startswith("faultfinder: error: cannot read")


@pytest.mark.parametrize("seed", [1], ids=lambda seed: f"seed={seed}")  # the damaged bytes
def test_gzip_and_truncated_gzip(run_cli: Run, tmp_path: Path, seed: int) -> None:
    whole = tmp_path / "app.log.gz"
    body = APP_LOG.encode() + b"2024-05-01T12:05:00Z INFO filler line\n" * 20_000
    whole.write_bytes(gzip.compress(body))
    document = run_cli("logs", str(whole), "--json").json()
    assert (document["lines"], document["matched"]) == (20_006, 4)
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    result = run_cli("logs", str(cut), "--json")
    assert result.status == 1  # what came before the damage is still scanned
    source = result.json()["sources"][0]
    assert source["warnings"] == [
        f"{cut}: the compressed stream ends early (truncated gzip); scanned what came before it"
    ]
    assert result.json()["matched"] == 4
    damaged = tmp_path / "damaged.gz"
    damaged.write_bytes(b"\x1f\x8b" + random.Random(seed).randbytes(5000))
    result = run_cli("logs", str(damaged), "--json")
    assert result.status == 0
    # (the file's own name, which the warning starts with, says "damaged" too)
    assert "the compressed stream is damaged" in result.json()["sources"][0]["warnings"][0]


@pytest.mark.parametrize("seed", [1], ids=lambda seed: f"seed={seed}")  # the garbage
def test_hostile_files_never_crash(run_cli: Run, tmp_path: Path, seed: int) -> None:
    garbage = tmp_path / "garbage.bin"
    generator = random.Random(seed)
    garbage.write_bytes(
        generator.randbytes(2 << 20)
        + b"\nERROR Connection refused\n"
        + generator.randbytes(1 << 20)
    )
    long_line = tmp_path / "long.log"
    long_line.write_bytes(b"{" + b"x" * (10 << 20) + b" Connection refused\n")
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = run_cli("logs", str(garbage), str(long_line), str(empty), "--json")
    assert result.status == 1
    document = result.json()
    assert document["codes"][0]["code"] == "tcp.refused"
    assert document["codes"][0]["count"] == 2
    assert len(document["codes"][0]["examples"][1]["text"]) < 500


def test_stdin_and_a_gcloud_array(tmp_path: Path) -> None:
    for data in (
        APP_LOG.encode(),
        (DATA / "cloud-run-gcloud-read.json").read_bytes(),
        gzip.compress(APP_LOG.encode()),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "faultfinder", "logs", "-", "--json"],
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 1, completed.stderr
        assert b'"name": "<stdin>"' in completed.stdout


def peak_memory_of_logs(source: Path) -> tuple[dict[str, object], int]:
    """``faultfinder logs SOURCE --json`` in a process of its own: the document and the
    process's peak RSS in KiB."""
    measure = (
        "import json, resource, sys\n"
        "from faultfinder.cli import main\n"
        "status = main(['logs', sys.argv[1], '--json'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", measure, str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return json.loads(completed.stdout), int(completed.stderr.split()[-1])


def test_a_gzip_of_one_json_array_is_read_an_entry_at_a_time(tmp_path: Path) -> None:
    """A gcloud-shaped array of 150,000 small entries (10 MB inflated; read whole, 41 MB more at
    the peak): the peak memory is that of an array a hundred times smaller, within 20 MB."""
    quiet = '{"textPayload": "GET /healthz 200", "severity": "INFO"}'
    failing = json.dumps({"textPayload": DNS, "severity": "ERROR"})

    def array(entries: int) -> Path:
        path = tmp_path / f"array-{entries}.json.gz"
        path.write_bytes(gzip.compress(f"[{', '.join([quiet] * entries)}, {failing}]".encode()))
        return path

    small, small_peak = peak_memory_of_logs(array(1_500))
    large, large_peak = peak_memory_of_logs(array(150_000))
    assert (large["lines"], large["matched"]) == (150_001, 1)  # read to its last entry
    assert small["lines"] == 1_501
    assert large_peak - small_peak < 20_000, (small_peak, large_peak)  # KiB; read whole: +41 MB


def test_the_stack_file_maps_labels_to_components_and_masks_secrets(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path
) -> None:
    stack = write_stack(
        {
            "api": {"url": "https://api.example.test/health"},
            "cache": {"url": "redis://:r3dis-Secret@redis.internal:6379/0"},
        },
        logs={"components": {"checkout": "api", "app.log": "cache"}},
    )
    log = tmp_path / "app.log"
    log.write_text(
        "2024-05-01T12:00:00Z ERROR AUTH r3dis-Secret: WRONGPASS invalid username-password pair\n"
    )
    document = run_cli(
        "logs", str(DATA / "cloud-run-gcloud-read.json"), str(log), "--stack", str(stack), "--json"
    ).json()
    assert set(document["by_component"]) == {"api", "cache", "search"}
    wrongpass = next(e for e in document["codes"] if e["code"] == "redis.auth_failed")
    assert wrongpass["examples"][0]["text"] == (
        "ERROR AUTH ***: WRONGPASS invalid username-password pair"
    )
    forced = run_cli("logs", str(log), "--component", "edge", "--json").json()
    assert set(forced["by_component"]) == {"edge"}


def test_an_unknown_error_is_masked_before_it_becomes_a_template(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path
) -> None:
    """Templating replaces numbers and hex with <NUM> and <HEX>: run first, it would leave the
    rest of a secret ("s3cr3t-") in the template for everyone to read."""
    stack = write_stack({"cache": {"url": "redis://:s3cr3t-abcdef-123456@redis.internal:6379/0"}})
    log = tmp_path / "app.log"
    log.write_text(
        "".join(
            f"2024-05-01T12:00:0{n}Z ERROR replay {n} refused for key s3cr3t-abcdef-123456\n"
            for n in range(3)
        )
    )
    document = run_cli("logs", str(log), "--stack", str(stack), "--json").json()
    texts = [entry["template"] for entry in document["unclassified"]["templates"]]
    assert texts, document["unclassified"]
    assert not any("s3cr3t" in text for text in texts), texts


def test_a_mapping_to_no_component_is_a_config_error(
    run_cli: Run, write_stack: StackWriter, app_log: Path
) -> None:
    stack = write_stack(
        {"api": {"url": "https://api.example.test/"}}, logs={"components": {"checkout": "ghost"}}
    )
    result = run_cli("logs", str(app_log), "--stack", str(stack))
    assert result.status == 2
    assert "logs.components.checkout: names no component: 'ghost'" in result.err


class _Follower:
    """``faultfinder logs --follow`` in a process of its own, its output read as it comes."""

    def __init__(self, path: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "faultfinder", "logs", str(path), "--follow", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.process.stdout, self.process.stderr)
        ]
        for reader in self.readers:
            reader.start()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for reader in self.readers:  # the pipes end with the process
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _read(self, stream: Iterator[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def saw(self, text: str) -> bool:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return any(text in line for line in self.seen)

    def wait_for(self, text: str) -> None:
        wait_until(lambda: self.saw(text), timeout=20, what=f"--follow to print {text!r}")


@pytest.fixture
def follow(tmp_path: Path) -> Iterator[Callable[..., _Follower]]:
    started: list[_Follower] = []

    def start(path: Path, *args: str) -> _Follower:
        started.append(_Follower(path, *args))
        return started[-1]

    yield start
    for follower in started:
        follower.close()


def test_follow_sees_appended_rotated_and_truncated_lines(
    follow: Callable[..., _Follower], tmp_path: Path
) -> None:
    path = tmp_path / "growing.log"
    path.write_text("2024-05-01T12:00:00Z INFO booting\n")
    follower = follow(path, "--stop-after", "60s")
    follower.wait_for("following")
    with path.open("a") as log:
        log.write("2024-05-01T12:00:01Z ERROR Error 111 connecting to 127.0.0.1:1. Conn")
        log.flush()
        log.write("ection refused.\n")  # a line written in two goes is one line
    follower.wait_for("tcp.refused")
    rotated = tmp_path / "growing.log.1"
    path.rename(rotated)
    path.write_text("2024-05-01T12:00:02Z ERROR No route to host\n")
    follower.wait_for("tcp.unreachable")
    path.write_text("2024-05-01T12:00:03Z ERROR ECONNRESET\n")  # truncated (copytruncate)
    follower.wait_for("tcp.reset")
    follower.process.send_signal(signal.SIGINT)
    assert follower.process.wait(timeout=20) == 1
    follower.wait_for("3 with a fault code")


def test_follow_stops_by_itself(follow: Callable[..., _Follower], tmp_path: Path) -> None:
    path = tmp_path / "quiet.log"
    path.write_text("")
    follower = follow(path, "--stop-after", "300ms", "--json")
    assert follower.process.wait(timeout=20) == 0
    follower.wait_for('"matched": 0')


def test_colours_are_dropped_and_other_escapes_shown_as_text(run_cli: Run, tmp_path: Path) -> None:
    """A coloured line (as uvicorn and structlog write to a terminal) and one that carries an
    escape sequence of its own: the examples and templates hold no control character."""
    log = tmp_path / "coloured.log"
    log.write_text(
        "2024-05-01T12:00:01Z \x1b[31mERROR\x1b[0m Connection refused\n"
        "2024-05-01T12:00:02Z ERROR payment hook failed \x1b]0;owned\x07 for order 17\n"
    )
    result = run_cli("logs", str(log), "--json")
    document = result.json()
    refused = next(code for code in document["codes"] if code["code"] == "tcp.refused")
    assert refused["examples"][0]["text"].endswith("ERROR Connection refused")
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    templates = [entry["template"] for entry in document["unclassified"]["templates"]]
    assert templates == ["ERROR payment hook failed \\x1b]<NUM>;owned\\x07 for order <NUM>"]
    human = run_cli("logs", str(log))
    assert "\x1b" not in human.out


# ------------------------------------------------------------------------------ --events

EVENT_KEYS = ["code", "component", "line", "owner", "source", "text", "time"]


def test_events_are_one_json_object_per_line_with_a_code(run_cli: Run, app_log: Path) -> None:
    result = run_cli("logs", str(app_log), "--events")
    assert result.status == 1  # as `logs`: a fault code was found
    assert result.err == ""
    lines = result.out.splitlines()
    events = [json.loads(line) for line in lines]
    assert [list(event) for event in events] == [EVENT_KEYS] * 4  # keys in a fixed order
    assert lines[0] == json.dumps(events[0], sort_keys=True, ensure_ascii=False)
    assert events[0] == {
        "code": "dns.temporary_failure",
        "component": "",
        "line": 2,
        "owner": "infrastructure",
        "source": str(app_log),
        "text": f"ERROR app: {DNS}",
        "time": "2024-05-01T12:00:02.000Z",
    }
    assert [(event["line"], event["code"]) for event in events] == [
        (2, "dns.temporary_failure"),
        (3, "dns.temporary_failure"),
        (4, "tcp.refused"),
        (5, "postgres.auth_failed"),
    ]  # the unclassified error of line 6 has no code: no event
    assert events[3]["text"] == (
        "ERROR app: cannot reach postgresql://app:***@db:5432/app: password authentication "
        'failed for user "app"'
    )
    assert "s3cr3t-pass" not in result.out


def test_events_of_a_clean_log_a_code_filter_and_the_stack_s_secrets(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path, app_log: Path
) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text("2024-05-01T12:00:01Z INFO all good\n")
    assert (
        run_cli("logs", str(clean), "--events").status,
        run_cli("logs", str(clean), "--events").out,
    ) == (0, "")
    only = run_cli("logs", str(app_log), "--events", "--code", "tcp.refused")
    assert [json.loads(line)["code"] for line in only.out.splitlines()] == ["tcp.refused"]
    stack = write_stack(
        {"cache": {"url": "redis://:r3dis-Secret@redis.internal:6379/0"}},
        logs={"components": {"app.log": "cache"}},
    )
    log = tmp_path / "app.log"
    log.write_text(
        "2024-05-01T12:00:00Z ERROR AUTH r3dis-Secret: WRONGPASS invalid username-password pair\n"
    )
    masked = run_cli("logs", str(log), "--events", "--stack", str(stack))
    event = json.loads(masked.out)
    assert (event["component"], event["code"], event["owner"]) == (
        "cache",
        "redis.auth_failed",
        "configuration",
    )
    assert event["text"] == "ERROR AUTH ***: WRONGPASS invalid username-password pair"
    assert "r3dis-Secret" not in masked.out


def test_events_and_json_are_two_outputs(run_cli: Run, app_log: Path) -> None:
    result = run_cli("logs", str(app_log), "--events", "--json")
    assert result.status == 2
    assert result.err.strip() == (
        "faultfinder: error: --events and --json are two outputs: give one"
    )


def test_events_warn_on_stderr_and_keep_stdout_to_events(run_cli: Run, tmp_path: Path) -> None:
    cut = tmp_path / "cut.log.gz"
    compressed = gzip.compress(APP_LOG.encode() + b"2024-05-01T12:05:00Z INFO x\n" * 20_000)
    cut.write_bytes(compressed[: len(compressed) // 2])
    result = run_cli("logs", str(cut), "--events")
    assert result.status == 1
    assert len([json.loads(line) for line in result.out.splitlines()]) == 4
    assert result.err == (
        f"faultfinder: warning: {cut}: the compressed stream ends early (truncated gzip); "
        "scanned what came before it\n"
    )


def test_events_stream_as_a_followed_file_grows(
    follow: Callable[..., _Follower], tmp_path: Path
) -> None:
    """Each event is written (and flushed) when its line is found, not at the end."""
    path = tmp_path / "growing.log"
    path.write_text("2024-05-01T12:00:00Z INFO booting\n")
    follower = follow(path, "--events", "--stop-after", "60s")
    follower.wait_for("following")
    with path.open("a") as log:
        log.write(
            "2024-05-01T12:00:01Z ERROR Error 111 connecting to 127.0.0.1:1. Connection refused.\n"
        )
    follower.wait_for('"code": "tcp.refused"')
    assert follower.process.poll() is None  # still following: the line came as it was found
    follower.process.send_signal(signal.SIGINT)
    assert follower.process.wait(timeout=20) == 1
    follower.saw("")
    assert not any("with a fault code" in line for line in follower.seen)  # no summary


def peak_memory_of_events(source: Path) -> tuple[int, int]:
    """``faultfinder logs SOURCE --events`` in a process of its own: the lines it wrote and
    its peak RSS in KiB."""
    measure = (
        "import io, resource, sys\n"
        "from faultfinder.cli import main\n"
        "sys.stdout = io.TextIOWrapper(open('/dev/null', 'wb'))\n"
        "status = main(['logs', sys.argv[1], '--events'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, status, file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", measure, str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    peak, status = completed.stderr.split()[-2:]
    return int(status), int(peak)


def test_events_take_the_same_memory_for_a_thousand_lines_as_for_a_hundred_thousand(
    tmp_path: Path,
) -> None:
    """A summary keeps a timeline entry per minute; the events keep nothing: 100,000 failures,
    each in a minute of its own (70 days of them), in the memory of 1,000."""

    def log(lines: int) -> Path:
        path = tmp_path / f"failures-{lines}.log"
        start = 1_714_564_800  # 2024-05-01T12:00Z
        with path.open("w") as out:
            for n in range(lines):
                when = datetime.datetime.fromtimestamp(start + 60 * n, datetime.UTC)
                out.write(f"{when:%Y-%m-%dT%H:%M:%SZ} ERROR app: {DNS}\n")
        return path

    small_status, small_peak = peak_memory_of_events(log(1_000))
    large_status, large_peak = peak_memory_of_events(log(100_000))
    assert (small_status, large_status) == (1, 1)
    assert large_peak - small_peak < 8_000, (small_peak, large_peak)  # KiB


def test_an_example_is_masked_before_it_is_cut(
    run_cli: Run, write_stack: StackWriter, tmp_path: Path
) -> None:
    """Cut first, a secret straddling the 400th character would leave its start in the
    example, which neither the stack's secret nor the user:password@ pattern recognises."""
    stack = write_stack({"cache": {"url": "redis://:S3cretS3cretS3cret@redis.internal:6379/0"}})
    log = tmp_path / "app.log"
    padding = "x" * 370
    log.write_text(
        f"2024-05-01T12:00:00Z ERROR {padding} redis://:S3cretS3cretS3cret@cache:6379 "
        "Connection refused\n"
        f"2024-05-01T12:00:01Z ERROR {padding} postgresql://app:hunter2hunter2@db:5432 "
        "Connection refused\n"
    )
    for args in (["--json"], ["--events"]):
        result = run_cli("logs", str(log), "--stack", str(stack), *args)
        assert "S3cr" not in result.out, result.out
        assert "hunt" not in result.out, result.out
    document = run_cli("logs", str(log), "--stack", str(stack), "--json").json()
    assert [example["text"] for example in document["codes"][0]["examples"]] == [
        f"ERROR {padding} redis://:***@cache:6379 …",
        f"ERROR {padding} postgresql://app:***@db …",
    ]  # masked, then cut at 400 characters
