"""The log-side catalogue: each signature names its code for real lines, the prefilter lets every
such line through, and the same patterns mean the same to Python's re, RE2 and grep -E."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from faultfinder.classify import classify_text
from faultfinder.classify.engine import compile_bytes
from faultfinder.classify.signatures import SIGNATURES, classify, classify_each, prefilter_source
from faultfinder.faults import FAULTS
from tests.servers import require_binary

# (line, code). Lines marked "real" are what our own servers and clients printed (the
# integration tests in test_logs_real.py make them again on every run); the others are the
# platforms' and libraries' documented texts (see tests/data/logs/README.md).
LINES = [
    # Cloud Run, both wordings, and its startup probe; Kubernetes crash loops
    ("The user-provided container failed to start and listen on the port defined provided by "
     "the PORT=8080 environment variable. Logs for this revision might contain more "
     "information.", "platform.startup_failed"),
    ("Container failed to start. Failed to start and then listen on the port defined by the PORT "
     "environment variable.", "platform.startup_failed"),
    ('Default STARTUP TCP probe failed 1 time consecutively for container "app" on port 8080. '
     "The instance was not started.", "platform.startup_failed"),
    ("Back-off restarting failed container orders in pod orders-7d9f8b6c5-x2x9q_shop(5b1c)",
     "platform.startup_failed"),
    ("      Reason:       CrashLoopBackOff", "platform.startup_failed"),
    ("Memory limit of 512 MiB exceeded with 516 MiB used. Consider increasing the memory limit, "
     "see https://cloud.google.com/run/docs/configuring/memory-limits",
     "platform.memory_exceeded"),
    ("Memory limit of 512M exceeded with 526M used.", "platform.memory_exceeded"),
    ("      Reason:       OOMKilled", "platform.memory_exceeded"),
    ("Memory cgroup out of memory: Killed process 2817 (gunicorn) total-vm:1148844kB",
     "platform.memory_exceeded"),
    ("Out of memory: Killed process 1404 (python3) total-vm:2148844kB",
     "platform.memory_exceeded"),
    ("Exceeded soft memory limit of 256 MB with 270 MB after servicing 5 requests total.",
     "platform.memory_exceeded"),
    # real: SQLAlchemy 2 against a QueuePool of one
    ("sqlalchemy.exc.TimeoutError: QueuePool limit of size 1 overflow 0 reached, connection "
     "timed out, timeout 0.10 (Background on this error at: https://sqlalche.me/e/21/3o7r)",
     "app.pool_exhausted"),
    ("HikariPool-1 - Connection is not available, request timed out after 30000ms.",
     "app.pool_exhausted"),
    # real: nginx's error.log
    ("2024/05/01 12:00:00 [error] 12#12: *1 upstream timed out (110: Connection timed out) while "
     'reading response header from upstream, client: 127.0.0.1, server: , request: "GET / '
     'HTTP/1.1", upstream: "http://127.0.0.1:5000/"', "proxy.upstream_timeout"),
    ("2024/05/01 12:00:00 [error] 12#12: *3 no live upstreams while connecting to upstream",
     "proxy.no_healthy_upstream"),
    ("[WARNING] (8) : backend 'app' has no server available!", "proxy.no_healthy_upstream"),
    # real: PostgreSQL's log and asyncpg's exceptions
    ('2024-05-01 12:00:00.123 UTC [81] FATAL:  sorry, too many clients already',
     "postgres.too_many_connections"),
    ("asyncpg.exceptions.TooManyConnectionsError: remaining connection slots are reserved for "
     "non-replication superuser connections", "postgres.too_many_connections"),
    ("FATAL:  the database system is not yet accepting connections", "postgres.starting_up"),
    ("FATAL:  the database system is shutting down", "postgres.starting_up"),
    ('2024-05-01 12:00:00.123 UTC [82] FATAL:  password authentication failed for user '
     '"faultfinder"', "postgres.auth_failed"),
    ('FATAL:  no pg_hba.conf entry for host "10.1.2.3", user "app", database "app", no '
     "encryption", "postgres.auth_failed"),
    ('2024-05-01 12:00:00.123 UTC [83] FATAL:  database "nope" does not exist',
     "postgres.database_missing"),
    # real: redis-py's exceptions
    ("redis.exceptions.AuthenticationError: Authentication required.", "redis.auth_failed"),
    ("redis.exceptions.ResponseError: NOAUTH Authentication required.", "redis.auth_failed"),
    ("redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.",
     "redis.auth_failed"),
    ("redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory",
     "redis.loading"),
    ("redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.",
     "redis.oom"),
    ("redis.exceptions.ReadOnlyError: You can't write against a read only replica.",
     "redis.readonly"),
    ("redis.exceptions.ConnectionError: max number of clients reached", "redis.max_clients"),
    ("redis.exceptions.TimeoutError: Timeout reading from socket", "redis.timeout"),
    # real: Python's EACCES, PostgreSQL's grants; Google IAM
    ("PermissionError: [Errno 13] Permission denied: '/srv/secret.txt'", "app.permission_denied"),
    ("asyncpg.exceptions.InsufficientPrivilegeError: permission denied for table secrets",
     "app.permission_denied"),
    ("google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions.access' "
     "denied for resource 'projects/p/secrets/db/versions/latest'", "app.permission_denied"),
    # real: Python's ssl
    ("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
     "certificate has expired (_ssl.c:1000)", "tls.expired"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate "
     "is not valid for 'api.example.test'. (_ssl.c:1000)", "tls.hostname_mismatch"),
    ("x509: certificate is valid for other.example.test, not api.example.test",
     "tls.hostname_mismatch"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
     "(_ssl.c:1000)", "tls.untrusted"),
    ("x509: certificate signed by unknown authority", "tls.untrusted"),
    # a client speaking the wrong protocol: OpenSSL's word for a hello answered in plain bytes,
    # and the servers' own: PostgreSQL (postmaster.c), Redis (networking.c,
    # securityWarningCommand), nginx (ngx_http_request.c), Go's net/http client
    ("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)",
     "protocol.mismatch"),
    ("2024-05-01 12:00:00.000 UTC [412] LOG:  invalid length of startup packet",
     "protocol.mismatch"),
    ("1:M 01 May 2024 12:00:00.000 # Possible SECURITY ATTACK detected. It looks like somebody "
     "is sending POST or Host: commands to Redis. This is likely due to an attacker attempting "
     "to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.",
     "protocol.mismatch"),
    ("2024/05/01 12:00:00 [info] 29#29: *1 client sent plain HTTP request to HTTPS port while "
     "reading client request headers, client: 10.0.0.9, server: api", "protocol.mismatch"),
    ('Get "https://10.0.0.5:8080/health": http: server gave HTTP response to HTTPS client',
     "protocol.mismatch"),
    # a lookup failure for an address literal is no DNS failure (the client's environment)
    ("redis.exceptions.ConnectionError: Error -3 connecting to 10.166.204.83:6379. Temporary "
     "failure in name resolution.", "platform.network_unavailable"),
    ("2024/05/01 12:00:00 [crit] 8#8: *1 SSL_do_handshake() failed (SSL: error:0A00006C:SSL "
     "routines::bad key share) while SSL handshaking", "tls.handshake_failed"),
    # real: redis-py with a dead resolver, an unknown name, a closed port, a route, a blackhole
    ("redis.exceptions.ConnectionError: Error -3 connecting to redis.internal:6379. Temporary "
     "failure in name resolution.", "dns.temporary_failure"),
    ("socket.gaierror: [Errno -3] Temporary failure in name resolution", "dns.temporary_failure"),
    ("Error: getaddrinfo EAI_AGAIN redis.internal", "dns.temporary_failure"),
    ("dial tcp: lookup redis.internal on 10.0.0.2:53: server misbehaving",
     "dns.temporary_failure"),
    ('could not translate host name "db" to address: Temporary failure in name resolution',
     "dns.temporary_failure"),
    ("redis.exceptions.ConnectionError: Error -2 connecting to nope.internal:6379. Name or "
     "service not known.", "dns.nxdomain"),
    ("Error: getaddrinfo ENOTFOUND nope.internal", "dns.nxdomain"),
    ("dial tcp: lookup nope.internal on 10.0.0.2:53: no such host", "dns.nxdomain"),
    ("socket.gaierror: [Errno -5] No address associated with hostname", "dns.no_address"),
    ("redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection "
     "refused.", "tcp.refused"),
    ("2024/05/01 12:00:00 [error] 12#12: *1 connect() failed (111: Connection refused) while "
     "connecting to upstream", "tcp.refused"),
    ("Error: connect ECONNREFUSED 127.0.0.1:5432", "tcp.refused"),
    ("redis.exceptions.ConnectionError: Error 113 connecting to 127.0.0.1:6379. No route to "
     "host.", "tcp.unreachable"),
    ("OSError: [Errno 101] Network is unreachable", "tcp.unreachable"),
    ("ConnectionResetError: [Errno 104] Connection reset by peer", "tcp.reset"),
    ("redis.exceptions.TimeoutError: Timeout connecting to server", "tcp.timeout"),
    ("upstream timed out (110: Connection timed out) while connecting to upstream",
     "tcp.timeout"),
    ("dial tcp 10.0.0.5:5432: i/o timeout", "tcp.timeout"),
    # real: an unhandled exception's traceback header; a Go panic
    ("Traceback (most recent call last):", "app.traceback"),
    ("goroutine 1 [running]:", "app.traceback"),
]

# Lines that must name no code: the patterns carry their context.
NOISE = [
    "INFO cache lookup took 3 ms",
    "WARNING login failed: invalid password for user bob",
    "INFO request timeout set to 30s",
    "DEBUG the checksum doesn't match the cached one, refetching",
    "INFO Application startup complete.",
    "INFO Started container orders",
    "ERROR payment failed for order 1234: card declined",
    "INFO loading configuration from /etc/app.yaml",
]


@pytest.mark.parametrize(("line", "code"), LINES)
def test_line_names_its_code(line: str, code: str | None) -> None:
    assert classify(line) == code


@pytest.mark.parametrize("line", NOISE)
def test_noise_names_no_code(line: str) -> None:
    assert classify(line) is None


def test_without_re2_the_same_codes() -> None:
    """RE2's Set classifies in one pass; the fallback searches signature by signature."""
    for line in [line for line, _ in LINES] + NOISE + ["lone \ud800 surrogate: ECONNRESET"]:
        assert classify_each(line) == classify(line), line


def test_every_signature_has_a_line_and_a_catalogue_entry() -> None:
    tested = {code for _, code in LINES}
    for signature in SIGNATURES:
        assert signature.code in FAULTS, signature.code
        assert signature.code in tested, f"{signature.code} has no line in LINES"
        assert all(keyword == keyword.lower() for keyword in signature.keywords)


@pytest.mark.parametrize("use_re2", [True, False])
def test_the_prefilter_lets_every_signature_line_through(use_re2: bool) -> None:
    searcher, engine = compile_bytes(prefilter_source(), use_re2=use_re2)
    assert engine == ("re2" if use_re2 else "re")
    for line, code in LINES:
        if code is not None:
            data = line.encode() if use_re2 else line.encode().lower()  # re wants it lowered
            assert searcher(data, 0, len(data)) is not None, line
    quiet = b'2024-05-01T12:00:00Z INFO GET /api/users 200 OK request_id=5f2a duration_ms=3.1'
    assert searcher(quiet, 0, len(quiet)) is None


def test_each_line_matches_only_patterns_of_its_keywords() -> None:
    """A pattern that matched a line none of its keywords is in would be lost to the prefilter."""
    for line, _ in LINES:
        for signature in SIGNATURES:
            if signature.compiled.search(line):
                lowered = line.lower()
                assert any(word in lowered for word in signature.keywords), (signature.code, line)


def test_grep_and_re2_read_the_patterns_as_python_does(tmp_path: Path) -> None:
    """The benchmark hands these patterns to grep -E: they must mean the same there."""
    import re2  # type: ignore[import-untyped]

    grep = require_binary("grep")
    lines = [line for line, _ in LINES] + NOISE
    sample = tmp_path / "lines.txt"
    sample.write_text("\n".join(lines) + "\n")
    for signature in SIGNATURES:
        expected = [line for line in lines if signature.compiled.search(line)]
        found = subprocess.run(
            [grep, "-E", "-i", "-e", signature.pattern, str(sample)],
            capture_output=True, text=True, env={"LC_ALL": "C.UTF-8"}, check=False,
        )
        assert found.stderr == "", found.stderr
        assert found.stdout.splitlines() == expected, signature.code
        compiled = re2.compile("(?i)" + signature.pattern)
        assert [line for line in lines if compiled.search(line)] == expected, signature.code


@pytest.mark.parametrize(
    ("evidence", "code"),
    [
        # the probers' own evidence lines (classify/) read as log lines
        ("getaddrinfo('redis.internal') failed: [Errno -3] Temporary failure in name resolution",
         "dns.temporary_failure"),
        ("getaddrinfo('nope.internal') failed: [Errno -2] Name or service not known",
         "dns.nxdomain"),
        ("getaddrinfo('x.internal') failed: [Errno -5] No address associated with hostname",
         "dns.no_address"),
        ("connect to 127.0.0.1:1 failed: [Errno 111] Connection refused", "tcp.refused"),
        ("connect to 127.0.0.1:1 failed: [Errno 113] No route to host", "tcp.unreachable"),
        ("connect to 127.0.0.1:1 failed: [Errno 104] Connection reset by peer", "tcp.reset"),
        ("connect to 127.0.0.1:1 failed: [Errno 110] Connection timed out", "tcp.timeout"),
        ("password authentication failed for user \"app\"", "postgres.auth_failed"),
        ("sorry, too many clients already", "postgres.too_many_connections"),
        ("the database system is starting up", "postgres.starting_up"),
        ("database \"nope\" does not exist", "postgres.database_missing"),
        ("max number of clients reached", "redis.max_clients"),
    ],
)
def test_log_codes_agree_with_the_probes_codes(evidence: str, code: str) -> None:
    assert classify(evidence) == code
    assert classify_text(evidence) == code


def test_log_only_codes_are_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "logs.md").read_text()
    for signature in SIGNATURES:
        assert f"`{signature.code}`" in docs, signature.code
    assert re.search(r"faultfinder\.logs/v1", docs)
