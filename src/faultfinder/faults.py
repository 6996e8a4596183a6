"""The fault catalogue: every fault code with its layer, owner, meaning and remediation.

Codes are ``layer.name``, stable and lower-case (docs/contract.md §2). Add codes, never rename
them; each has a row in docs/faults.md (a test checks both).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Owner(StrEnum):
    """Whose move it is. A ``str``: ``Owner.INFRASTRUCTURE == "infrastructure"`` in JSON."""

    INFRASTRUCTURE = "infrastructure"  # network, DNS, TLS, load balancer, managed services
    APPLICATION = "application"  # the service's own code
    CONFIGURATION = "configuration"  # a wrong name, credential, URL or certificate choice
    UNKNOWN = "unknown"  # cannot be told from where the evidence was taken
    NONE = "none"  # nothing to do: healthy, or a symptom of something else
    MIXED = "mixed"  # a verdict over root causes with different owners


@dataclass(frozen=True)
class Fault:
    code: str
    owner: Owner
    meaning: str
    remediation: str
    warning: bool = False

    @property
    def layer(self) -> str:
        return self.code.split(".", 1)[0]


_CATALOGUE = (
    Fault(
        "dns.nxdomain",
        Owner.CONFIGURATION,
        "the name does not exist",
        "Check the host name for typos and that the record exists in the zone the client "
        "resolves against (private zones are visible only from their networks).",
    ),
    Fault(
        "dns.temporary_failure",
        Owner.INFRASTRUCTURE,
        "the resolver is unreachable or answered SERVFAIL or timed out (EAI_AGAIN, error -3)",
        "Check the resolver in the client's resolv.conf is reachable from where the client "
        "runs (VPC connector, egress rules, DNS forwarding), and that it answers for the zone.",
    ),
    Fault(
        "dns.no_address",
        Owner.CONFIGURATION,
        "the name exists but has no A/AAAA record",
        "Add the A/AAAA record, or point the URL at a name that has one.",
    ),
    Fault(
        "tcp.refused",
        Owner.INFRASTRUCTURE,
        "nothing listens at that address and port",
        "Start the service or fix its listen address and port; check it did not crash.",
    ),
    Fault(
        "tcp.timeout",
        Owner.INFRASTRUCTURE,
        "no answer to the connect: a firewall, route or blackhole drops the packets",
        "Check firewall rules, security groups and routes between the client and the target.",
    ),
    Fault(
        "tcp.unreachable",
        Owner.INFRASTRUCTURE,
        "no route to the host or network",
        "Check routing, the VPC connector or peering, and that the target address is up.",
    ),
    Fault(
        "tcp.reset",
        Owner.INFRASTRUCTURE,
        "the peer reset the connection during set-up",
        "Check the target's listen backlog and crash logs, and any middlebox that resets.",
    ),
    Fault(
        "tcp.closed_mid_session",
        Owner.UNKNOWN,
        "an established connection was closed or reset mid-session, not at set-up: the peer "
        "restarted, failed over or crashed, something in between (a NAT, a load balancer, a "
        "firewall) dropped it after an idle timeout, or a client went away",
        "Look at the peer's log at that moment (a restart, a failover, a crash), and compare "
        "the idle timeouts in between with how long the client keeps idle connections; have "
        "the client's pool check or recycle them (pool_pre_ping, a maximum idle time, TCP "
        "keepalives) and retry the request once.",
    ),
    Fault(
        "socket.missing",
        Owner.CONFIGURATION,
        "no Unix socket at that path: nothing created it there (the server or proxy that "
        "should is not running there, or the path or the mount is wrong)",
        "Check the path and that the server (or proxy) creating the socket runs beside the "
        "client. For /cloudsql/INSTANCE on Cloud Run, give the service its Cloud SQL "
        "connection (gcloud run services update SERVICE --add-cloudsql-instances INSTANCE); "
        "elsewhere run the Cloud SQL Auth Proxy with --unix-socket.",
    ),
    Fault(
        "socket.permission_denied",
        Owner.CONFIGURATION,
        "the Unix socket exists, but this client may not connect to it (the file's or its "
        "directory's owner, group or mode)",
        "Run the client as a user the socket's group or mode allows, or change the socket's "
        "permissions (unix_socket_permissions, unixsocketperm, the proxy's own setting).",
    ),
    Fault(
        "socket.refused",
        Owner.INFRASTRUCTURE,
        "the Unix socket file exists but nothing listens on it (a socket left behind by a "
        "server that stopped or crashed)",
        "Start the server (or proxy) that serves this socket and check why it stopped.",
    ),
    Fault(
        "socket.timeout",
        Owner.INFRASTRUCTURE,
        "connecting to the Unix socket did not finish in time: the server's backlog is full "
        "or it is hung",
        "Check the server behind the socket: is it hung or overloaded (its accept backlog)?",
    ),
    Fault(
        "protocol.mismatch",
        Owner.CONFIGURATION,
        "the port answered, but in another protocol than the URL's scheme (a redis:// URL at "
        "PostgreSQL's port, plain HTTP at a TLS port, TLS at a plain one)",
        "Point the URL at the right service or port, or use the scheme the port speaks "
        "(https:// for a TLS port, http:// for a plain one); the evidence says what answered.",
    ),
    Fault(
        "platform.network_unavailable",
        Owner.INFRASTRUCTURE,
        "the client could not even look up an address literal (EAI_AGAIN or EAI_NONAME on an "
        "IP address, which needs no DNS): its own environment failed, not DNS — the "
        "platform's network not yet up, its sandbox, its resolver library or its file "
        "descriptors",
        "Look at the client's environment, not at DNS: the platform's network at start-up "
        "(connect only once the instance is ready, retry with backoff), the VPC connector or "
        "egress of the instance, the file-descriptor limit, the resolver library in the image.",
    ),
    Fault(
        "tls.expired",
        Owner.INFRASTRUCTURE,
        "the certificate is past notAfter (or not yet valid)",
        "Renew the certificate (and fix the renewal automation), or correct the clock.",
    ),
    Fault(
        "tls.hostname_mismatch",
        Owner.CONFIGURATION,
        "the certificate does not cover the name (a wildcard covers one label)",
        "Issue a certificate whose SANs cover this exact name, or use the name it covers.",
    ),
    Fault(
        "tls.untrusted",
        Owner.INFRASTRUCTURE,
        "self-signed or unknown issuer, or an incomplete chain",
        "Serve the full chain from a CA the clients trust, or add the private CA to them.",
    ),
    Fault(
        "tls.handshake_failed",
        Owner.INFRASTRUCTURE,
        "protocol or cipher mismatch, or the peer closed during the handshake",
        "Check the TLS versions and ciphers both sides allow, and that the port speaks TLS.",
    ),
    Fault(
        "tls.expiring_soon",
        Owner.INFRASTRUCTURE,
        "the certificate has fewer days left than the configured minimum",
        "Renew the certificate before it expires and check the renewal automation.",
        warning=True,
    ),
    Fault(
        "proxy.no_healthy_upstream",
        Owner.INFRASTRUCTURE,
        "a proxy or load balancer answered 502/503 itself: its backends are down or unhealthy",
        "Look at the backends behind the proxy: are they up, and do they pass its health "
        "check (path, port, expected status)?",
    ),
    Fault(
        "proxy.upstream_timeout",
        Owner.INFRASTRUCTURE,
        "a proxy or load balancer answered 504 itself: the backend did not answer in time",
        "Find why the backend is slow or hung (its dependencies, its pool), or raise the "
        "proxy timeout if the work is legitimately long.",
    ),
    Fault(
        "http.timeout",
        Owner.UNKNOWN,
        "connected, but no response in time",
        "Find what the service waits for: a hung dependency, an exhausted pool, a blocked "
        "event loop.",
    ),
    Fault(
        "http.no_response",
        Owner.UNKNOWN,
        "connected, but the connection closed before any HTTP response",
        "Check whether the service crashes on this request or the port speaks another "
        "protocol; read the service's logs.",
    ),
    Fault(
        "http.invalid_request",
        Owner.CONFIGURATION,
        "the request could not be sent: a method, header name or header value is not valid HTTP",
        "Fix the header in the stack file, or the flow step whose captured value (a line break, "
        "for example) went into it.",
    ),
    Fault(
        "http.unexpected_body",
        Owner.APPLICATION,
        "the service answered with the expected status but not the expected body",
        "Compare the expected text with what the service now returns; check recent deploys.",
    ),
    Fault(
        "http.unexpected_status",
        Owner.APPLICATION,
        "the service itself answered with a status the check did not expect",
        "Compare the route and the expected status; check the service's recent deploys.",
    ),
    Fault(
        "app.error",
        Owner.APPLICATION,
        "the service itself answered 5xx",
        "Read the service's logs and traceback for this request.",
    ),
    Fault(
        "app.unhealthy",
        Owner.APPLICATION,
        "the service's health document says it is failing, with no failing dependency",
        "Read the failing checks in the service's health document and its logs.",
    ),
    Fault(
        "postgres.auth_failed",
        Owner.CONFIGURATION,
        "the password or user was rejected",
        "Fix the user or password the client uses (secret, environment), or the server's "
        "pg_hba.conf rule.",
    ),
    Fault(
        "postgres.database_missing",
        Owner.CONFIGURATION,
        "the database named does not exist",
        "Create the database or fix the database name in the URL.",
    ),
    Fault(
        "postgres.too_many_connections",
        Owner.INFRASTRUCTURE,
        "the server's connection limit is hit (too many clients already)",
        "Find who holds the connections (pg_stat_activity), cap client pools, add a pooler "
        "or raise max_connections.",
    ),
    Fault(
        "postgres.starting_up",
        Owner.INFRASTRUCTURE,
        "the database system is starting up, shutting down or in recovery",
        "Wait for start-up or recovery to finish; check why the server restarted.",
    ),
    Fault(
        "postgres.timeout",
        Owner.INFRASTRUCTURE,
        "the server accepted TCP but did not complete start-up or SELECT 1 in time",
        "Check whether the server is hung, overloaded or blocked (locks, I/O, a stopped process).",
    ),
    Fault(
        "postgres.error",
        Owner.UNKNOWN,
        "the server refused the start-up or SELECT 1 with another error",
        "Read the SQLSTATE and message in the evidence and the server's log.",
    ),
    Fault(
        "postgres.unexpected_result",
        Owner.APPLICATION,
        "a check's own query answered, but not with the value the check expects",
        "Compare the query's result in the evidence with the data the service should have "
        "(a missing row, a migration not run).",
    ),
    Fault(
        "redis.auth_failed",
        Owner.CONFIGURATION,
        "NOAUTH or WRONGPASS: authentication rejected",
        "Fix the password (or ACL user) the client sends, or the server's requirepass.",
    ),
    Fault(
        "redis.loading",
        Owner.INFRASTRUCTURE,
        "LOADING: the dataset is being loaded",
        "Wait for the load to finish; check why the server restarted.",
    ),
    Fault(
        "redis.oom",
        Owner.INFRASTRUCTURE,
        "OOM: command not allowed when used memory > maxmemory",
        "Free memory, set an eviction policy or raise maxmemory.",
    ),
    Fault(
        "redis.readonly",
        Owner.INFRASTRUCTURE,
        "READONLY: a replica answered a write",
        "Point the client at the primary; check failover state.",
    ),
    Fault(
        "redis.max_clients",
        Owner.INFRASTRUCTURE,
        "max number of clients reached",
        "Find who holds connections (CLIENT LIST), cap client pools or raise maxclients.",
    ),
    Fault(
        "redis.timeout",
        Owner.INFRASTRUCTURE,
        "connected at TCP, but no reply to PING in time",
        "Check whether the server is hung or overloaded (SLOWLOG, a stopped process).",
    ),
    Fault(
        "redis.error",
        Owner.UNKNOWN,
        "the server answered PING or the write with another error",
        "Read the error in the evidence and the server's log.",
    ),
    Fault(
        "redis.unexpected_reply",
        Owner.APPLICATION,
        "a check's own command answered, but not with the reply the check expects",
        "Compare the reply in the evidence with what the service should have stored there "
        "(an expired or missing key, a writer that stopped).",
    ),
    Fault(
        "ws.handshake_rejected",
        Owner.APPLICATION,
        "the WebSocket upgrade was answered with a non-101 status by the service itself",
        "Check the route, the upgrade handling and any auth the handshake requires.",
    ),
    Fault(
        "ws.closed_abnormally",
        Owner.UNKNOWN,
        "the connection closed without a close frame (1006) or with 1011/1012/1013",
        "Check the service's logs for the moment of the close, and proxy idle timeouts.",
    ),
    Fault(
        "ws.unexpected_message",
        Owner.APPLICATION,
        "the WebSocket opened, but the reply to the probe's message was not the expected one",
        "Compare the expected reply with what the service sends; check recent deploys.",
    ),
    # Log-only codes (faultfinder logs, docs/logs.md): evidence no probe can see from outside.
    Fault(
        "platform.startup_failed",
        Owner.APPLICATION,
        "the platform started the container but it never came up: it exited or crashed "
        "(a crash loop), hung at start-up, or never listened on its port",
        "Read the instance's own log lines before this one: fix the crash (often a dependency "
        "unreachable at start-up), or listen on 0.0.0.0 and the port in $PORT.",
    ),
    Fault(
        "platform.memory_exceeded",
        Owner.APPLICATION,
        "the container used more memory than its limit and was killed (OOMKilled)",
        "Find what grows (a leak, a large response held whole, too many concurrent requests "
        "per instance); lower the concurrency or raise the memory limit.",
    ),
    Fault(
        "platform.no_instance_available",
        Owner.INFRASTRUCTURE,
        "the platform had no instance to give the request and aborted it (Cloud Run's 429 or "
        "500): the maximum number of instances is reached, or new ones could not start fast "
        "enough for a burst",
        "Raise the maximum instances (or the quota behind it), keep minimum instances warm for "
        "bursts, shorten the start-up, and check that instances do not fail to start.",
    ),
    Fault(
        "platform.container_exited",
        Owner.APPLICATION,
        "the container's main process exited by itself with a failure status (Cloud Run's "
        '"Container called exit(1)."), at start-up or while serving',
        "Read the instance's own log lines just before the exit: the exception, the missing "
        "setting or dependency that stopped it; a server must keep running until SIGTERM.",
    ),
    # Platform codes (diagnose --platform, docs/platform.md): what the platform's own
    # description of a service, a database, a connector or a secret says, read from its CLI.
    Fault(
        "platform.no_ready_endpoint",
        Owner.INFRASTRUCTURE,
        "the platform has no ready address behind the service or load balancer: every pod "
        "or container behind it is missing or failing its readiness check",
        "Look at the pods or containers behind the service: why do they fail their readiness "
        "probe or not start (kubectl describe pod), and does the service's selector match them?",
    ),
    Fault(
        "platform.connector_not_ready",
        Owner.INFRASTRUCTURE,
        "the Serverless VPC Access connector the service sends its traffic through is not "
        "READY (ERROR, CREATING, UPDATING or DELETING): private addresses are unreachable",
        "Describe the connector (gcloud compute networks vpc-access connectors describe): fix "
        "what put it in ERROR (its subnet, the firewall rules it needs), or recreate it; "
        "raise its maximum instances if it saturates.",
    ),
    Fault(
        "platform.no_vpc_egress",
        Owner.CONFIGURATION,
        "the service reaches a private address, but it has no VPC connector or Direct VPC "
        "egress, or its egress setting sends that address to the internet instead",
        "Give the service a route into the VPC (--vpc-connector or --network/--subnet) and an "
        "egress setting that covers the address (--vpc-egress=all-traffic for addresses "
        "outside RFC 1918).",
    ),
    Fault(
        "platform.secret_unavailable",
        Owner.CONFIGURATION,
        "a secret the service references has no enabled version (every version is disabled "
        "or destroyed, or the pinned one is)",
        "Add a new version to the secret (gcloud secrets versions add) or enable one, or point "
        "the service at a version that is ENABLED.",
    ),
    Fault(
        "platform.port_mismatch",
        Owner.CONFIGURATION,
        "the port the platform sends traffic or health checks to differs from the port the "
        "container declares or listens on",
        "Make the container's port, the service's target port and the probe's port the same "
        "one (on Cloud Run, listen on $PORT and set --port to it).",
    ),
    Fault(
        "cloudsql.not_runnable",
        Owner.INFRASTRUCTURE,
        "the Cloud SQL instance is not RUNNABLE (stopped, suspended, in maintenance, being "
        "created or deleted, or failed)",
        "Describe the instance (gcloud sql instances describe): start it (activation policy "
        "ALWAYS), wait for the maintenance to finish, or resolve the suspension.",
    ),
    Fault(
        "cloudsql.ip_type_missing",
        Owner.CONFIGURATION,
        "the client connects to the Cloud SQL instance by an IP type the instance does not "
        "have (a private address with no PRIVATE IP, a public one with no PRIMARY IP), or by "
        "an address that is none of the instance's",
        "Connect to an address the instance lists (gcloud sql instances describe → "
        "ipAddresses), or enable that IP type on the instance.",
    ),
    Fault(
        "cloudsql.ssl_mismatch",
        Owner.CONFIGURATION,
        "the Cloud SQL instance requires SSL/TLS (or client certificates) that the client's "
        "URL does not use",
        "Make the client's sslmode match the instance's (sslmode=require or stronger, with "
        "sslcert/sslkey when client certificates are required), or connect through the Cloud "
        "SQL Auth Proxy or a Cloud SQL connector, which encrypt for you.",
    ),
    Fault(
        "cloudsql.connection_missing",
        Owner.CONFIGURATION,
        "the client opens /cloudsql/INSTANCE, but that instance is not in the service's Cloud "
        "SQL connections, so the platform never creates the socket",
        "Add the connection to the service (gcloud run services update SERVICE "
        "--add-cloudsql-instances PROJECT:REGION:INSTANCE), or fix the instance name in the "
        "socket path.",
    ),
    Fault(
        "app.degraded",
        Owner.APPLICATION,
        "the service answers, but its health document says it is degraded (warn): a check "
        "warns, such as a pool close to saturation, a disk nearly full or a non-critical "
        "dependency failing",
        "Read the checks that warn in the service's health document and act before they fail "
        "(grow the pool or the disk, fix the non-critical dependency).",
        warning=True,
    ),
    Fault(
        "app.permission_denied",
        Owner.CONFIGURATION,
        "the service was refused an operation for lack of permission (a file mode, a "
        "database grant, an IAM role)",
        "Grant the service's identity the permission the line names (IAM role, GRANT, file "
        "owner or mode), or fix which identity it runs as.",
    ),
    Fault(
        "app.pool_exhausted",
        Owner.APPLICATION,
        "the application's own connection pool had no free connection within its timeout",
        "Find what holds the connections (slow queries, sessions never returned, a hung "
        "dependency); size the pool to the concurrency and the server's connection limit.",
    ),
    Fault(
        "app.worker_timeout",
        Owner.APPLICATION,
        "the server's supervisor killed a worker that held one request past its timeout "
        "(gunicorn's WORKER TIMEOUT, uWSGI's HARAKIRI): the request hung or was too slow",
        "Find what the request waited for (a slow query, a hung dependency without a timeout "
        "of its own, a blocking call in an async worker); give dependencies timeouts shorter "
        "than the worker's, or raise the worker timeout if the work is legitimately long.",
    ),
    Fault(
        "app.fd_exhausted",
        Owner.APPLICATION,
        "a process ran out of file descriptors (EMFILE, Too many open files): it holds more "
        "sockets and files than its limit allows, usually a leak or one client per request",
        "Count what the process holds (ls /proc/PID/fd, lsof): close files and responses, "
        "reuse one HTTP or database client instead of one per request; raise the limit "
        "(ulimit -n, LimitNOFILE) only if the count is legitimate.",
    ),
    Fault(
        "app.traceback",
        Owner.APPLICATION,
        "the application raised an unhandled exception (a traceback or panic no other code names)",
        "Read the exception at the end of the traceback and fix the code path that raised it.",
    ),
    Fault(
        "probe.unexpected_error",
        Owner.UNKNOWN,
        "faultfinder's prober met an error it has no rule for: the target answered in a way "
        "nothing here reads (or a client library failed on it)",
        "Check the target by hand (the evidence names the error), and report the answer that "
        "caused it to faultfinder's maintainers so a rule can read it.",
    ),
    Fault(
        "dependency.failed",
        Owner.NONE,
        "this component fails because a component it depends on fails (a symptom)",
        "Fix the root cause below it; this component should recover with it.",
    ),
)

FAULTS: dict[str, Fault] = {fault.code: fault for fault in _CATALOGUE}


def fault(code: str) -> Fault:
    """The catalogue entry for ``code``; an unknown code is a programming error."""
    return FAULTS[code]
