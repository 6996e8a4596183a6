"""Environment variables → the connections they describe: ``DATABASE_URL``-style URLs,
``*_HOST``/``*_PORT`` pairs, Cloud SQL connection names. A value that is a secret is never
kept: the URL refers to it as ``${NAME}``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from faultfinder.redact import SECRET_NAME
from faultfinder.schemes import kind_of_url_scheme

# Schemes apps write that faultfinder probes as TCP only (no prober of their own).
TCP_ONLY = {
    "mysql": 3306,
    "mariadb": 3306,
    "mongodb": 27017,
    "amqp": 5672,
    "amqps": 5671,
    "memcached": 11211,
    "nats": 4222,
    "kafka": 9092,
}
# PROJECT:REGION:INSTANCE (Cloud SQL's connection name, gcloud sql instances describe).
CLOUD_SQL = re.compile(r"[a-z][-a-z0-9.:]*:[a-z]+-[a-z]+[0-9]+:[a-z][-a-z0-9]*")
REFERENCE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-[^}]*)?\}?$")


@dataclass(frozen=True)
class Connection:
    """A dependency found in the environment: its URL (secrets as ``${NAME}``), the host it
    names (to join it to a service of the same source), and the variables it references."""

    name: str  # a component name suggested by the variable (DATABASE_URL → database)
    url: str
    host: str
    variable: str  # the variable(s) it came from, for the comment
    references: frozenset[str] = frozenset()


def connections(environment: Mapping[str, str | None]) -> list[Connection]:
    """Every connection the variables describe, in the variables' order."""
    found: list[Connection] = []
    used: set[str] = set()
    for key, value in environment.items():
        if value is None or key in used:
            continue
        reference = REFERENCE.match(value.strip())
        if key.upper().endswith("_URL") or key.upper().endswith("_URI") or "://" in value:
            connection = _from_url(key, value, reference)
            if connection is not None:
                found.append(connection)
                used.add(key)
                continue
        if CLOUD_SQL.fullmatch(value) or value.startswith("/cloudsql/"):
            found.append(_cloud_sql(key, value, environment))
            used.add(key)
    for key in environment:
        if key.upper().endswith(("_HOST", "_ADDR", "_ADDRESS")) and key not in used:
            connection = _from_host(key, environment)
            if connection is not None:
                found.append(connection)
    # one dependency named twice (a socket path and the connection name beside it) is one
    return list({connection.url: connection for connection in reversed(found)}.values())[::-1]


def _component_name(key: str) -> str:
    base = re.sub(r"_(URL|URI|HOST|ADDR|ADDRESS|CONNECTION_NAME|SOCKET)$", "", key.upper())
    return base.lower().replace("_", "-") or key.lower()


def _from_url(key: str, value: str, reference: re.Match[str] | None) -> Connection | None:
    if reference is not None:  # the whole URL comes from the environment: refer to it
        variable = reference.group(1)
        return Connection(_component_name(key), f"${{{variable}}}", "", key, frozenset({variable}))
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower().split("+", 1)[0]  # postgresql+asyncpg (SQLAlchemy)
    if not parts.hostname and scheme not in ("postgresql", "postgres"):
        return None
    references: set[str] = set()
    netloc = parts.netloc
    if parts.password is None and parts.username and scheme not in ("postgresql", "postgres"):
        # a user name alone in an HTTP or Redis URL is a token (Sentry's DSN key): never kept
        netloc = netloc.rpartition("@")[2]
    if parts.password is not None:  # never the value: a variable named after the URL's
        written = REFERENCE.match(parts.password)
        variable = written.group(1) if written else _password_variable(key)
        references.add(variable)
        user = quote(parts.username or "", safe="")
        netloc = f"{user}:${{{variable}}}@" + netloc.rpartition("@")[2]
    if scheme in TCP_ONLY:
        port = parts.port or TCP_ONLY[scheme]
        url = f"tcp://{parts.hostname}:{port}"
    elif kind_of_url_scheme(scheme) is None:
        return None
    else:
        url = urlunsplit((scheme, netloc, parts.path, _public_query(parts.query), ""))
    return Connection(_component_name(key), url, parts.hostname or "", key, frozenset(references))


def _public_query(query: str) -> str:
    """The query without secret-looking values (a token=…); sslmode and host stay."""
    kept = [
        part for part in query.split("&") if part and not SECRET_NAME.search(part.split("=")[0])
    ]
    return "&".join(kept)


def _password_variable(key: str) -> str:
    base = re.sub(r"_(URL|URI)$", "", key.upper())
    return f"{base}_PASSWORD"


def _cloud_sql(key: str, value: str, environment: Mapping[str, str | None]) -> Connection:
    """A Cloud SQL connection name (or /cloudsql/… path): PostgreSQL over the socket the
    platform creates for it, as libpq's ``?host=`` reads it."""
    name = value.removeprefix("/cloudsql/").split("/", 1)[0]
    user = _first(environment, "DB_USER", "POSTGRES_USER", "DATABASE_USER", "PGUSER") or "postgres"
    database = _first(environment, "DB_NAME", "POSTGRES_DB", "DATABASE_NAME", "PGDATABASE") or user
    password = _secret_key(environment, "DB_PASS", "DB_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD")
    credentials = f"{quote(user, safe='')}" + (f":${{{password}}}" if password else "")
    url = f"postgresql://{credentials}@/{quote(database, safe='')}?host=/cloudsql/{name}"
    references = frozenset({password} if password else set())
    return Connection("cloudsql", url, "", key, references)


def _from_host(key: str, environment: Mapping[str, str | None]) -> Connection | None:
    """``DB_HOST`` (with ``DB_PORT``, ``DB_USER``, ``DB_NAME``, ``DB_PASSWORD`` beside it), or
    ``REDIS_ADDR=host:port`` as Go services write it."""
    prefix = key.rsplit("_", 1)[0]
    written = (environment.get(key) or "").strip()
    if not written or REFERENCE.match(written) or written.startswith("/"):
        return None
    host, _, port = written.partition(":")
    port = port or (environment.get(f"{prefix}_PORT") or "").strip()
    engine = " ".join(
        (environment.get(f"{prefix}_{word}") or "").lower()
        for word in ("TYPE", "CONNECTION", "ENGINE", "DRIVER", "DIALECT")
    )
    mysql = "mysql" in engine or "maria" in engine
    kind = "tcp" if mysql else _kind_from_name(prefix, port)
    port = port or ("3306" if mysql else "")
    name = _component_name(key)
    if kind == "postgresql":
        user = _first(environment, f"{prefix}_USER", f"{prefix}_USERNAME") or "postgres"
        database = _first(environment, f"{prefix}_NAME", f"{prefix}_DATABASE", f"{prefix}_DB")
        password = _secret_key(
            environment, f"{prefix}_PASSWORD", f"{prefix}_PASSWD", f"{prefix}_PASS"
        )
        credentials = quote(user, safe="") + (f":${{{password}}}" if password else "")
        url = f"postgresql://{credentials}@{host}:{port or 5432}/{quote(database or user, safe='')}"
        references = frozenset({password} if password else set())
        return Connection(name, url, host, key, references)
    if kind == "redis":
        return Connection(name, f"redis://{host}:{port or 6379}/0", host, key)
    if not port.isdigit():
        return None  # a host with no port says nothing faultfinder can probe
    return Connection(name, f"tcp://{host}:{port}", host, key)


def _kind_from_name(prefix: str, port: str) -> str:
    upper = prefix.upper()
    named = any(word in upper for word in ("POSTGRES", "PG", "DB", "DATABASE"))
    if port == "5432" or (named and port == "" and "MYSQL" not in upper):
        return "postgresql"
    if port == "6379" or "REDIS" in upper:
        return "redis"
    return "tcp"


def _first(environment: Mapping[str, str | None], *keys: str) -> str:
    for key in keys:
        value = environment.get(key)
        if value and not REFERENCE.match(value) and not SECRET_NAME.search(key):
            return value
    return ""


def _secret_key(environment: Mapping[str, str | None], *keys: str) -> str:
    """The name of the first of these variables the environment has (its value is unused)."""
    return next((key for key in keys if key in environment), "")
