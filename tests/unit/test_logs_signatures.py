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
from faultfinder.logs.records import message_says_error
from tests.servers import require_binary

# (line, code). Lines marked "real" are what our own servers and clients printed (the
# integration tests in test_logs_real.py make them again on every run); the others are the
# platforms' and libraries' documented texts (see tests/data/logs/README.md).
LINES = [
    # Cloud Run, both wordings, and its startup probe; Kubernetes crash loops
    (
        "The user-provided container failed to start and listen on the port defined provided by "
        "the PORT=8080 environment variable. Logs for this revision might contain more "
        "information.",
        "platform.startup_failed",
    ),
    (
        "Container failed to start. Failed to start and then listen on the port defined by the PORT "
        "environment variable.",
        "platform.startup_failed",
    ),
    (
        'Default STARTUP TCP probe failed 1 time consecutively for container "app" on port 8080. '
        "The instance was not started.",
        "platform.startup_failed",
    ),
    (
        "Back-off restarting failed container orders in pod orders-7d9f8b6c5-x2x9q_shop(5b1c)",
        "platform.startup_failed",
    ),
    ("      Reason:       CrashLoopBackOff", "platform.startup_failed"),
    (
        "Memory limit of 512 MiB exceeded with 516 MiB used. Consider increasing the memory limit, "
        "see https://cloud.google.com/run/docs/configuring/memory-limits",
        "platform.memory_exceeded",
    ),
    ("Memory limit of 512M exceeded with 526M used.", "platform.memory_exceeded"),
    ("      Reason:       OOMKilled", "platform.memory_exceeded"),
    (
        "Memory cgroup out of memory: Killed process 2817 (gunicorn) total-vm:1148844kB",
        "platform.memory_exceeded",
    ),
    ("Out of memory: Killed process 1404 (python3) total-vm:2148844kB", "platform.memory_exceeded"),
    (
        "Exceeded soft memory limit of 256 MB with 270 MB after servicing 5 requests total.",
        "platform.memory_exceeded",
    ),
    # real: SQLAlchemy 2 against a QueuePool of one
    (
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 1 overflow 0 reached, connection "
        "timed out, timeout 0.10 (Background on this error at: https://sqlalche.me/e/21/3o7r)",
        "app.pool_exhausted",
    ),
    (
        "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
        "app.pool_exhausted",
    ),
    # real: nginx's error.log
    (
        "2024/05/01 12:00:00 [error] 12#12: *1 upstream timed out (110: Connection timed out) while "
        'reading response header from upstream, client: 127.0.0.1, server: , request: "GET / '
        'HTTP/1.1", upstream: "http://127.0.0.1:5000/"',
        "proxy.upstream_timeout",
    ),
    (
        "2024/05/01 12:00:00 [error] 12#12: *3 no live upstreams while connecting to upstream",
        "proxy.no_healthy_upstream",
    ),
    ("[WARNING] (8) : backend 'app' has no server available!", "proxy.no_healthy_upstream"),
    # real: PostgreSQL's log and asyncpg's exceptions
    (
        "2024-05-01 12:00:00.123 UTC [81] FATAL:  sorry, too many clients already",
        "postgres.too_many_connections",
    ),
    (
        "asyncpg.exceptions.TooManyConnectionsError: remaining connection slots are reserved for "
        "non-replication superuser connections",
        "postgres.too_many_connections",
    ),
    ("FATAL:  the database system is not yet accepting connections", "postgres.starting_up"),
    ("FATAL:  the database system is shutting down", "postgres.starting_up"),
    (
        "2024-05-01 12:00:00.123 UTC [82] FATAL:  password authentication failed for user "
        '"faultfinder"',
        "postgres.auth_failed",
    ),
    (
        'FATAL:  no pg_hba.conf entry for host "10.1.2.3", user "app", database "app", no '
        "encryption",
        "postgres.auth_failed",
    ),
    (
        '2024-05-01 12:00:00.123 UTC [83] FATAL:  database "nope" does not exist',
        "postgres.database_missing",
    ),
    # real: redis-py's exceptions
    ("redis.exceptions.AuthenticationError: Authentication required.", "redis.auth_failed"),
    ("redis.exceptions.ResponseError: NOAUTH Authentication required.", "redis.auth_failed"),
    (
        "redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.",
        "redis.auth_failed",
    ),
    ("redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory", "redis.loading"),
    (
        "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.",
        "redis.oom",
    ),
    (
        "redis.exceptions.ReadOnlyError: You can't write against a read only replica.",
        "redis.readonly",
    ),
    ("redis.exceptions.ConnectionError: max number of clients reached", "redis.max_clients"),
    ("redis.exceptions.TimeoutError: Timeout reading from socket", "redis.timeout"),
    # real: Python's EACCES, PostgreSQL's grants; Google IAM
    ("PermissionError: [Errno 13] Permission denied: '/srv/secret.txt'", "app.permission_denied"),
    (
        "asyncpg.exceptions.InsufficientPrivilegeError: permission denied for table secrets",
        "app.permission_denied",
    ),
    (
        "google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions.access' "
        "denied for resource 'projects/p/secrets/db/versions/latest'",
        "app.permission_denied",
    ),
    # real: Python's ssl
    (
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "certificate has expired (_ssl.c:1000)",
        "tls.expired",
    ),
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate "
        "is not valid for 'api.example.test'. (_ssl.c:1000)",
        "tls.hostname_mismatch",
    ),
    (
        "x509: certificate is valid for other.example.test, not api.example.test",
        "tls.hostname_mismatch",
    ),
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
        "(_ssl.c:1000)",
        "tls.untrusted",
    ),
    ("x509: certificate signed by unknown authority", "tls.untrusted"),
    # a client speaking the wrong protocol: OpenSSL's word for a hello answered in plain bytes,
    # and the servers' own: PostgreSQL (postmaster.c), Redis (networking.c,
    # securityWarningCommand), nginx (ngx_http_request.c), Go's net/http client
    (
        "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)",
        "protocol.mismatch",
    ),
    (
        "2024-05-01 12:00:00.000 UTC [412] LOG:  invalid length of startup packet",
        "protocol.mismatch",
    ),
    (
        "1:M 01 May 2024 12:00:00.000 # Possible SECURITY ATTACK detected. It looks like somebody "
        "is sending POST or Host: commands to Redis. This is likely due to an attacker attempting "
        "to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.",
        "protocol.mismatch",
    ),
    (
        "2024/05/01 12:00:00 [info] 29#29: *1 client sent plain HTTP request to HTTPS port while "
        "reading client request headers, client: 10.0.0.9, server: api",
        "protocol.mismatch",
    ),
    (
        'Get "https://10.0.0.5:8080/health": http: server gave HTTP response to HTTPS client',
        "protocol.mismatch",
    ),
    # a lookup failure for an address literal is no DNS failure (the client's environment)
    (
        "redis.exceptions.ConnectionError: Error -3 connecting to 10.166.204.83:6379. Temporary "
        "failure in name resolution.",
        "platform.network_unavailable",
    ),
    (
        "2024/05/01 12:00:00 [crit] 8#8: *1 SSL_do_handshake() failed (SSL: error:0A00006C:SSL "
        "routines::bad key share) while SSL handshaking",
        "tls.handshake_failed",
    ),
    # real: redis-py with a dead resolver, an unknown name, a closed port, a route, a blackhole
    (
        "redis.exceptions.ConnectionError: Error -3 connecting to redis.internal:6379. Temporary "
        "failure in name resolution.",
        "dns.temporary_failure",
    ),
    ("socket.gaierror: [Errno -3] Temporary failure in name resolution", "dns.temporary_failure"),
    ("Error: getaddrinfo EAI_AGAIN redis.internal", "dns.temporary_failure"),
    ("dial tcp: lookup redis.internal on 10.0.0.2:53: server misbehaving", "dns.temporary_failure"),
    (
        'could not translate host name "db" to address: Temporary failure in name resolution',
        "dns.temporary_failure",
    ),
    (
        "redis.exceptions.ConnectionError: Error -2 connecting to nope.internal:6379. Name or "
        "service not known.",
        "dns.nxdomain",
    ),
    ("Error: getaddrinfo ENOTFOUND nope.internal", "dns.nxdomain"),
    ("dial tcp: lookup nope.internal on 10.0.0.2:53: no such host", "dns.nxdomain"),
    ("socket.gaierror: [Errno -5] No address associated with hostname", "dns.no_address"),
    (
        "redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection "
        "refused.",
        "tcp.refused",
    ),
    (
        "2024/05/01 12:00:00 [error] 12#12: *1 connect() failed (111: Connection refused) while "
        "connecting to upstream",
        "tcp.refused",
    ),
    ("Error: connect ECONNREFUSED 127.0.0.1:5432", "tcp.refused"),
    (
        "redis.exceptions.ConnectionError: Error 113 connecting to 127.0.0.1:6379. No route to "
        "host.",
        "tcp.unreachable",
    ),
    ("OSError: [Errno 101] Network is unreachable", "tcp.unreachable"),
    ("ConnectionResetError: [Errno 104] Connection reset by peer", "tcp.reset"),
    ("redis.exceptions.TimeoutError: Timeout connecting to server", "tcp.timeout"),
    ("upstream timed out (110: Connection timed out) while connecting to upstream", "tcp.timeout"),
    ("dial tcp 10.0.0.5:5432: i/o timeout", "tcp.timeout"),
    # real: an unhandled exception's traceback header; a Go panic
    ("Traceback (most recent call last):", "app.traceback"),
    ("goroutine 1 [running]:", "app.traceback"),
    #
    # Issue 14: failure lines copied from public bug reports and the libraries' own sources.
    #
    # Resolvers other than glibc's. musl (src/network/gai_strerror.c: EAI_NONAME is "Name does
    # not resolve", EAI_AGAIN "Try again"), the default of Alpine images:
    (
        "ERROR:coe_assembly.init:(psycopg2.OperationalError) could not translate host name "
        '"postgres" to address: Name does not resolve',
        "dns.nxdomain",
    ),  # opensanctions #44
    (
        'OperationalError: could not translate host name "xxx.us-east-1.rds.amazonaws.com" to '
        "address: Try again",
        "dns.temporary_failure",
    ),  # github.com/psycopg/psycopg2 issue #659
    (
        "Resolving service-name-svc (service-name-svc)... failed: Name does not resolve.",
        "dns.nxdomain",
    ),  # github.com/alpinelinux/docker-alpine issue #207 (wget)
    ("socket.gaierror: [Errno -3] Try again", "dns.temporary_failure"),  # musl, as Python says
    # Go's resolver, without and with "on RESOLVER"
    (
        'level=fatal msg="Redis connection error: dial tcp: lookup redis: i/o timeout"',
        "dns.temporary_failure",
    ),  # github.com/authelia/authelia issue #4880
    (
        "unable to check for database state: dial tcp: lookup port=5432: no such host",
        "dns.nxdomain",
    ),  # github.com/elwinar/rambler issue #23
    (
        '2024-10-14T17:03:33Z ERR Expectation failed error="failed to establish a tcp connection, '
        'caused by: dial tcp: lookup postgres on 127.0.0.11:53: no such host"',
        "dns.nxdomain",
    ),  # github.com/IQSS/dataverse pull request #10915
    # Windows sockets (WinError.h: WSAECONNREFUSED 10061, WSAETIMEDOUT 10060,
    # WSAECONNRESET 10054, WSAHOST_NOT_FOUND 11001, WSATRY_AGAIN 11002), as Python prints them
    (
        "ConnectionRefusedError: [WinError 10061] No connection could be made because the target "
        "machine actively refused it",
        "tcp.refused",
    ),  # github.com/0vercl0k/paracosme issue #2
    (
        "Error: ConnectionError: HTTPConnectionPool(host='affinitysutton.com', port=80): Max "
        "retries exceeded with url: / (Caused by <class 'socket.error'>: [Errno 10061] No "
        "connection could be made because the target machine actively refused it)",
        "tcp.refused",
    ),  # github.com/wummel/linkchecker issue #487 (Python 2)
    (
        "TimeoutError: [WinError 10060] A connection attempt failed because the connected party "
        "did not properly respond after a period of time, or established connection failed "
        "because connected host has failed to respond",
        "tcp.timeout",
    ),  # github.com/keitaoouchi/easyimap issue #44
    (
        "socket.gaierror: [Errno 11001] getaddrinfo failed",
        "dns.nxdomain",
    ),  # github.com/vmware/pyvmomi-community-samples issue #331
    ("socket.gaierror: [Errno 11002] getaddrinfo failed", "dns.temporary_failure"),
    (
        "ConnectionResetError: [WinError 10054] An existing connection was forcibly closed by the "
        "remote host",
        "tcp.reset",
    ),
    # nginx resolving an upstream at start-up, and its own resolver at run time
    # (ngx_resolver.c: 3 is "Host not found", 110 "Operation timed out")
    (
        '2024/06/22 16:54:59 [emerg] 1#1: host not found in upstream "pipedfrontend:80" in '
        "/etc/nginx/conf.d/pipedfrontend.conf:2",
        "dns.nxdomain",
    ),  # TeamPiped/Piped issue #3679
    (
        "2019/09/03 08:03:06 [error] 368#368: *5 wordpress could not be resolved (3: Host not "
        "found), client: 10.0.0.9, server: www.example.test",
        "dns.nxdomain",
    ),  # github.com/linuxserver/reverse-proxy-confs issue #87
    (
        "2022/09/29 12:33:28 [error] 9726#9726: *1 [lua] main.lua:28: request failed: example.com "
        "could not be resolved (110: Operation timed out), ",
        "dns.temporary_failure",
    ),  # github.com/ledgetech/lua-resty-http issue #280
    #
    # Proxies' own logs. Real: HAProxy 2.6.12's access log (option httplog) in front of a slow
    # server, a server that closes, a closed port and a backend with no server; the state's
    # case decides (doc/configuration.txt, "Session state at disconnection")
    (
        "127.0.0.1:54658 [04/Dec/2026:05:39:13.876] f app/s1 0/0/0/-1/1001 504 198 - - sH-- "
        '1/1/0/0/0 0/0 "GET /slow HTTP/1.1"',
        "proxy.upstream_timeout",
    ),
    (
        "127.0.0.1:54666 [04/Dec/2026:05:39:14.894] f app/s1 0/0/0/-1/0 502 209 - - SH-- "
        '1/1/0/0/0 0/0 "GET /close HTTP/1.1"',
        "http.no_response",
    ),
    (
        "127.0.0.1:54680 [04/Dec/2026:05:39:14.901] f dead/s2 0/0/-1/-1/3007 503 217 - - SC-- "
        '1/1/0/0/3 0/0 "GET /dead HTTP/1.1"',
        "tcp.refused",
    ),
    (
        "127.0.0.1:53894 [04/Dec/2026:05:39:17.918] f none/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- "
        '1/1/0/0/0 0/0 "GET /none HTTP/1.1"',
        "proxy.no_healthy_upstream",
    ),
    # HAProxy's HTTP log example (doc/configuration.txt, "HTTP log format") with the states
    # sC (timeout connect) and SD (the server's connection died during the data)
    (
        "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
        "http-in static/srv1 10/0/-1/-1/3010 503 212 - - sC-- 1/1/1/1/3 0/0 {1wt.eu} {} "
        '"GET /index.html HTTP/1.1"',
        "tcp.timeout",
    ),
    (
        "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
        "http-in static/srv1 10/0/30/69/20109 200 2750 - - SD-- 1/1/1/1/0 0/0 {1wt.eu} {} "
        '"GET /index.html HTTP/1.1"',
        "tcp.closed_mid_session",
    ),
    ("[ALERT]    (1) : backend 'be_app' has no server available!", "proxy.no_healthy_upstream"),
    # Envoy's local reply and its reset reason (source/common/http/utility.cc)
    (
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "failure, transport failure reason: delayed connect error: 111",
        "tcp.refused",
    ),  # github.com/ygalblum/quadlet-demo issue #8
    (
        "Unexpected response: upstream connect error or disconnect/reset before headers. reset "
        "reason: connection failure, transport failure reason: delayed connect error: 113",
        "tcp.unreachable",
    ),  # github.com/consul-up/examples issue #2
    (
        'Error sending heartbeat: status: Unavailable, message: "upstream connect error or '
        "disconnect/reset before headers. reset reason: remote connection failure, transport "
        'failure reason: delayed connect error: 113"',
        "tcp.unreachable",
    ),  # github.com/jito-labs/shredstream-proxy issue #34
    (
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "timeout",
        "tcp.timeout",
    ),  # utility.cc's ConnectionTimeout
    (
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "termination",
        "http.no_response",
    ),  # github.com/istio/istio issue #47052
    (
        "Error Upstream connect error or disconnect/reset before headers. reset reason: remote "
        "reset",
        "http.no_response",
    ),  # github.com/abyssparanoia/rapid-go issue #197
    (
        "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        "proxy.no_healthy_upstream",
    ),  # github.com/ProletRevDicta/Prolet issue #1131
    (
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "failure",
        "proxy.no_healthy_upstream",
    ),  # github.com/kserve/website issue #236
    # Envoy's access log (its default format): the response flags after the status
    (
        '"GET /v1/status HTTP/1.1" 503 UC upstream_reset_before_response_started'
        '{connection_termination} - "-" 0 95 0 - "10.90.16.220" "Apache-HttpClient/4.5.1 '
        '(Java/1.8.0_372)"',
        "http.no_response",
    ),  # github.com/istio/istio issue #45802
    (
        '[2023-11-02T10:00:00.000Z] "GET /api/cart HTTP/1.1" 503 UF,URX 0 91 3 - "-" "curl/8.5.0" '
        '"5f2a" "cart" "10.4.1.7:8080"',
        "proxy.no_healthy_upstream",
    ),  # envoyproxy/envoy #30706
    (
        '[2024-05-01T12:00:00.000Z] "GET /api/cart HTTP/1.1" 503 UH 0 19 0 - "-" "curl/8.5.0" '
        '"5f2a" "cart" "-"',
        "proxy.no_healthy_upstream",
    ),
    (
        '[2024-05-01T12:00:00.000Z] "GET /api/report HTTP/1.1" 504 UT 0 24 15001 - "-" '
        '"curl/8.5.0" "5f2a" "report" "10.4.1.8:8080"',
        "proxy.upstream_timeout",
    ),
    # real: nginx 1.22's error.log for an upstream that closes before its headers and one that
    # closes mid-body; in public reports, a reset while reading the headers
    (
        "2026/12/04 05:39:27 [error] 4129#4129: *1 upstream prematurely closed connection while "
        'reading response header from upstream, client: 127.0.0.1, server: , request: "GET /close '
        'HTTP/1.1", upstream: "http://127.0.0.1:18081/close", host: "127.0.0.1:18090"',
        "http.no_response",
    ),
    (
        "2026/12/04 05:39:27 [error] 4129#4129: *3 upstream prematurely closed connection while "
        'reading upstream, client: 127.0.0.1, server: , request: "GET /mid HTTP/1.1", upstream: '
        '"http://127.0.0.1:18082/mid", host: "127.0.0.1:18090"',
        "tcp.closed_mid_session",
    ),
    (
        "2022/04/15 16:23:24 [error] 363970#0: *1337136 recv() failed (104: Connection reset by "
        "peer) while reading response header from upstream, client: 10.0.0.9, server: _",
        "http.no_response",
    ),  # github.com/apache/apisix issue #6861
    #
    # Cloud Run's system and request logs (the request log's texts link their own section of
    # cloud.google.com/run/docs/troubleshooting)
    ("Container called exit(254).", "platform.container_exited"),  # shamblett/cloudruntest #1
    (
        "The request failed because the instance could not start successfully.",
        "platform.startup_failed",
    ),
    (
        "The request failed because either the HTTP response was malformed or connection to the "
        "instance had an error. Additional troubleshooting documentation can be found at: "
        "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error",
        "proxy.no_healthy_upstream",
    ),  # as the probe reads Cloud Run's 503 page (responses.py)
    (
        "The request was aborted because there was no available instance.",
        "platform.no_instance_available",
    ),  # hashicorp/terraform-provider-google issue #13193
    (
        "Error: The request was aborted because there was no available instance.",
        "platform.no_instance_available",
    ),  # github.com/firebase/firebase-functions issue #962
    (
        "While handling this request, the container instance was found to be using too much "
        "memory and was terminated. This is likely to cause a new container instance to be used "
        "for the next request to this revision.",
        "platform.memory_exceeded",
    ),
    (
        'Default STARTUP TCP probe failed 1 time consecutively for container "scim" on port 3002. '
        "The instance was not started.",
        "platform.startup_failed",
    ),  # github.com/1Password/scim-examples issue #309
    #
    # Managed databases: the Cloud SQL Auth Proxy (v1 and v2), the Go and Python connectors
    (
        "2025/07/11 08:55:40 [my-project-id:us-central1:quickstart-instance] failed to connect to "
        'instance: dial error: failed to dial (connection name = "my-project-id:us-central1:'
        'quickstart-instance"): dial tcp 10.20.30.40:3307: i/o timeout',
        "tcp.timeout",
    ),  # github.com/GoogleCloudPlatform/cloud-sql-proxy issue #2467
    (
        "couldn't connect to xxxxx: dial tcp 10.0.0.3:3307: getsockopt: connection timed out",
        "tcp.timeout",
    ),  # cloud-sql-proxy issue #164 (v1)
    (
        "2024/01/08 23:08:44 [<project>:<region>:<instance>] failed to connect to instance: Dial "
        'error: handshake failed (connection name = "<project>:<region>:<instance>"): context '
        "deadline exceeded",
        "tls.handshake_failed",
    ),  # cloud-sql-proxy issue #2081
    (
        'failed to connect to instance: Dial error: handshake failed (connection name ="p:r:i") '
        "tls: either ServerName or InsecureSkipVerify must be specified in the tls.Config",
        "tls.handshake_failed",
    ),  # cloud-sql-proxy issue #2447
    (
        'time="2023-01-26T17:23:54Z" level=warning msg="Error dialing: refresh failed: context '
        'deadline exceeded"',
        "tcp.timeout",
    ),  # GoogleCloudPlatform/cloud-sql-go-connector #384
    (
        "googleapi: Error 403: The client is not authorized to make this request., notAuthorized",
        "app.permission_denied",
    ),  # cloud-sql-proxy issue #154 (v1)
    (
        'aiohttp.client_exceptions.ClientResponseError: 403, message="Forbidden: Authenticated IAM '
        "principal does not seeem authorized to make API request. Verify 'Cloud SQL Admin API' is "
        "enabled within your GCP project and 'Cloud SQL Client' role has been granted to IAM "
        "principal.\", url=URL('https://sqladmin.googleapis.com/sql/v1beta4/projects/p/instances/"
        "i/connectSettings')",
        "app.permission_denied",
    ),  # cloud-sql-python-connector #1070
    # PostgreSQL and libpq
    (
        "psycopg2.OperationalError: terminating connection due to administrator command",
        "postgres.starting_up",
    ),  # github.com/psycopg/psycopg2 issue #215
    (
        "psycopg2.errors.AdminShutdown: terminating connection due to administrator command",
        "postgres.starting_up",
    ),  # github.com/CSSS/csss-site issue #650
    (
        '2024-09-27 13:40:00.833 UTC [277] FATAL:  role "directus" does not exist',
        "postgres.auth_failed",
    ),  # github.com/directus/directus issue #23753
    (
        "psycopg2.OperationalError: SSL SYSCALL error: EOF detected",
        "tcp.closed_mid_session",
    ),  # github.com/fecgov/openFEC issue #6453
    (
        "[service:catalog] 2021-03-20 05:33:01+0000 [-] server closed the connection unexpectedly",
        "tcp.closed_mid_session",
    ),  # github.com/anchore/anchore-engine issue #955
    (
        "psycopg2.OperationalError: SSL connection has been closed unexpectedly",
        "tcp.closed_mid_session",
    ),  # github.com/aws-samples/dify-self-hosted-on-aws issue #5
    (
        'pg_dump: error: connection to database "shop" failed: connection to server at '
        '"pg_dump--proxy" (192.168.192.2), port 5432 failed: server closed the connection '
        "unexpectedly",
        "tcp.reset",
    ),  # cloud-sql-proxy issue #2081: dropped while set up
    #
    # Workers and sockets: gunicorn's arbiter (murder_workers, reap_workers), uWSGI's master
    # (trigger_harakiri), uvicorn (protocols/websockets/*_impl.py, protocols/http/h11_impl.py)
    ("[2024-05-01 12:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:23)", "app.worker_timeout"),
    (
        "[2025-08-02 20:00:53 +0000] [3] [ERROR] Worker (pid:16) was sent SIGKILL! Perhaps out of "
        "memory?",
        "platform.memory_exceeded",
    ),
    ("*** HARAKIRI ON WORKER 2 (pid: 4711, try: 1) ***", "app.worker_timeout"),
    ("ERROR:    ASGI callable returned without sending handshake.", "ws.handshake_rejected"),
    (
        'WARNING:  No supported WebSocket library detected. Please use "pip install '
        "'uvicorn[standard]'\", or install 'websockets' or 'wsproto' manually.",
        "ws.handshake_rejected",
    ),
    # real: the websockets library (17.4) against a server answering 503 and one that drops
    # the connection; its keepalive timeout and a server's 1011 (websockets/asyncio/connection.py)
    (
        "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 503",
        "ws.handshake_rejected",
    ),
    (
        "websockets.exceptions.InvalidStatusCode: server rejected WebSocket connection: HTTP 503",
        "ws.handshake_rejected",
    ),  # before websockets 14
    (
        "websockets.exceptions.ConnectionClosedError: no close frame received or sent",
        "ws.closed_abnormally",
    ),
    (
        "websockets.exceptions.ConnectionClosedError: sent 1011 (internal error) keepalive ping "
        "timeout; no close frame received",
        "ws.closed_abnormally",
    ),
    (
        "websockets.exceptions.ConnectionClosedError: received 1011 (internal error); then sent "
        "1011 (internal error)",
        "ws.closed_abnormally",
    ),
    # real: Python's EMFILE; nginx and Go in public reports (nginx on musl says "No file
    # descriptors available")
    ("OSError: [Errno 24] Too many open files", "app.fd_exhausted"),
    (
        "2018/10/19 16:05:32 [crit] 42#42: accept4() failed (24: Too many open files)",
        "app.fd_exhausted",
    ),  # github.com/blekhmanlab/rxivist issue #210
    (
        "http: Accept error: accept tcp 127.0.0.1:9090: accept4: too many open files",
        "app.fd_exhausted",
    ),  # github.com/Netflix-Skunkworks/aws-metadata-proxy issue #1
    (
        "2021/07/08 12:43:00 [crit] 15#15: accept4() failed (24: No file descriptors available)",
        "app.fd_exhausted",
    ),  # github.com/hypothesis/h pull request #6770
    # a write to a peer that already closed: Node's EPIPE (syscall write), Python's errno 32
    ("Error: write EPIPE", "tcp.closed_mid_session"),
    ("BrokenPipeError: [Errno 32] Broken pipe", "tcp.closed_mid_session"),
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
# Harmless lines of the issue-14 families: no code, and no unclassified error either.
FAMILY_NOISE = [
    # real HAProxy 2.6: a normal session; the client's abort and timeout (CD, cD) are no fault
    "127.0.0.1:54646 [04/Dec/2026:05:39:13.876] f app/s1 0/0/0/1/1 200 101 - - ---- 1/1/0/0/0 "
    '0/0 "GET / HTTP/1.1"',
    "127.0.0.1:54700 [04/Dec/2026:05:40:00.000] f app/s1 0/0/0/12/1403 200 4096 - - CD-- "
    '1/1/0/0/0 0/0 "GET /big HTTP/1.1"',
    "127.0.0.1:54701 [04/Dec/2026:05:40:00.000] f app/s1 0/0/0/12/5001 200 4096 - - cD-- "
    '1/1/0/0/0 0/0 "GET /big HTTP/1.1"',
    # Envoy: the downstream client went away (DC), and a request with no flag at all
    '[2024-05-01T12:00:00.000Z] "GET / HTTP/1.1" 0 DC 0 0 5 - "-" "curl/8.5.0" "5f2a" "api" '
    '"10.4.1.7:8080"',
    '[2024-05-01T12:00:00.000Z] "GET / HTTP/1.1" 200 - 0 12 3 2 "-" "curl/8.5.0" "5f2a" "api" '
    '"10.4.1.7:8080"',
    # Cloud Run: a job's task that finished (exit(0))
    "Container called exit(0).",
    # websockets: closes with a code that is no failure
    "websockets.exceptions.ConnectionClosedOK: received 1000 (OK); then sent 1000 (OK)",
    "websockets.exceptions.ConnectionClosedOK: received 1001 (going away); then sent 1001 "
    "(going away)",
    # uvicorn: an Upgrade it does not serve (h2c), not a WebSocket
    "WARNING:  Unsupported upgrade request.",
]
NOISE += FAMILY_NOISE


@pytest.mark.parametrize(("line", "code"), LINES)
def test_line_names_its_code(line: str, code: str | None) -> None:
    assert classify(line) == code


@pytest.mark.parametrize("line", NOISE)
def test_noise_names_no_code(line: str) -> None:
    assert classify(line) is None


# Lines with no level of their own that only look like errors: a setting's or a counter's name
# is no error. gunicorn's arbiter logs its configuration at debug level as one message,
# "Current configuration:" and then "  {name}: {value}" a line (arbiter.py); on stderr, or as
# Cloud Run's entries, each line comes alone. kubectl describe prints a probe as
# "delay=%ds timeout=%ds period=%ds #success=%d #failure=%d" (describe.go, DescribeProbe).
SETTINGS = [
    "  timeout: 30",
    "  graceful_timeout: 30",
    "  errorlog: /var/log/gunicorn/error.log",
    "  timeout: 30\n  keepalive: 2\n  errorlog: -",
    "    Liveness:       http-get http://:8080/healthz delay=10s timeout=1s period=10s "
    "#success=1 #failure=3",
    "    Readiness:      tcp-socket :5432 delay=0s timeout=5s period=10s #success=1 #failure=6",
    "processed=1200 errors=0 retries=0",
]
# … while a line that says an error is still one, key-shaped or not
ERRORS = [
    "Upload failed: 413",
    "timeout: the server did not answer",
    "request timeout=30s exceeded",
    "job failed after 3 attempts",
    "  timeout: 30\nworker crashed",
]


@pytest.mark.parametrize("line", SETTINGS)
def test_settings_are_no_errors(line: str) -> None:
    assert classify(line) is None
    assert message_says_error(line) is False


@pytest.mark.parametrize("line", ERRORS)
def test_errors_in_key_shapes_are_still_errors(line: str) -> None:
    assert message_says_error(line) is True


def test_noise_is_no_error_either() -> None:
    """The harmless lines of the families above are not unclassified errors either."""
    for line in FAMILY_NOISE:
        assert message_says_error(line) is False, line


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


def test_every_signature_is_the_first_match_of_a_line() -> None:
    """Each signature, not only each code, names some line in LINES (so a pattern that an
    earlier one always shadows is caught)."""
    first = {
        next(index for index, signature in enumerate(SIGNATURES) if signature.compiled.search(line))
        for line, _ in LINES
    }
    assert first == set(range(len(SIGNATURES)))


@pytest.mark.parametrize("use_re2", [True, False])
def test_the_prefilter_lets_every_signature_line_through(use_re2: bool) -> None:
    searcher, engine = compile_bytes(prefilter_source(), use_re2=use_re2)
    assert engine == ("re2" if use_re2 else "re")
    for line, code in LINES:
        if code is not None:
            data = line.encode() if use_re2 else line.encode().lower()  # re wants it lowered
            assert searcher(data, 0, len(data)) is not None, line
    quiet = b"2024-05-01T12:00:00Z INFO GET /api/users 200 OK request_id=5f2a duration_ms=3.1"
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
            capture_output=True,
            text=True,
            env={"LC_ALL": "C.UTF-8"},
            check=False,
        )
        assert found.stderr == "", found.stderr
        assert found.stdout.splitlines() == expected, signature.code
        compiled = re2.compile("(?i)" + signature.pattern)
        assert [line for line in lines if compiled.search(line)] == expected, signature.code


@pytest.mark.parametrize(
    ("evidence", "code"),
    [
        # the probers' own evidence lines (classify/) read as log lines
        (
            "getaddrinfo('redis.internal') failed: [Errno -3] Temporary failure in name resolution",
            "dns.temporary_failure",
        ),
        (
            "getaddrinfo('nope.internal') failed: [Errno -2] Name or service not known",
            "dns.nxdomain",
        ),
        (
            "getaddrinfo('x.internal') failed: [Errno -5] No address associated with hostname",
            "dns.no_address",
        ),
        ("connect to 127.0.0.1:1 failed: [Errno 111] Connection refused", "tcp.refused"),
        ("connect to 127.0.0.1:1 failed: [Errno 113] No route to host", "tcp.unreachable"),
        ("connect to 127.0.0.1:1 failed: [Errno 104] Connection reset by peer", "tcp.reset"),
        ("connect to 127.0.0.1:1 failed: [Errno 110] Connection timed out", "tcp.timeout"),
        ('password authentication failed for user "app"', "postgres.auth_failed"),
        ("sorry, too many clients already", "postgres.too_many_connections"),
        ("the database system is starting up", "postgres.starting_up"),
        ('database "nope" does not exist', "postgres.database_missing"),
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
