"""A Compose file → components: each service that listens becomes one, its kind told by its
image, its address the port it publishes on this machine (else its name and port inside the
Compose network), its ``depends_on`` from ``depends_on``, ``links`` and the connection URLs in
its environment, ``via`` for a proxy's backends, and ``health: true`` where its healthcheck
fetches a health path.

Keys as the Compose Specification defines them
(https://github.com/compose-spec/compose-spec/blob/main/05-services.md): ``image``, ``build``,
``ports`` (short ``[[IP:]HOST:]CONTAINER[/PROTOCOL]`` and long ``target``/``published``/
``host_ip``), ``expose``, ``environment`` (a list of ``KEY=VALUE`` or a map), ``env_file``,
``depends_on`` (a list or a map), ``links`` (``SERVICE[:ALIAS]``), ``healthcheck.test``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultfinder.errors import ConfigError
from faultfinder.scaffold import images, probes
from faultfinder.scaffold.connections import REFERENCE, connections
from faultfinder.scaffold.model import Draft, Scaffold

LOCAL = "127.0.0.1"


def recognises(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("services"), dict)


def scaffold(document: dict[str, Any], source: str) -> Scaffold:
    name = str(document.get("name") or Path(source).resolve().parent.name or "stack")
    result = Scaffold(name=name, source=source)
    services: dict[str, dict[str, Any]] = {}
    for service, spec in document["services"].items():
        if not isinstance(spec, dict):
            raise ConfigError("a service is a mapping", file=source, key=f"services.{service}")
        services[str(service)] = spec
    for service, spec in services.items():
        draft = _component(service, spec, source)
        if draft is None:
            result.skipped.append(f"{service}: listens on no port, nothing to probe")
        else:
            result.components[service] = draft
    _graph(result, services, source)
    return result


def _component(service: str, spec: dict[str, Any], source: str) -> Draft | None:
    image = str(spec.get("image") or "")
    kind = images.family(image) if image else "http"
    environment = environment_of(spec, source, service)
    target_default = images.default_port(kind) or images.tcp_port(image)
    host, port, inside = _address(service, spec, target_default, source)
    if port == 0:
        return None
    said = f"Compose service {service}" + (f" (image {image})" if image else " (built here)")
    notes = []
    if inside:
        notes.append(
            f"{service} publishes no port: {host}:{port} resolves only inside the Compose "
            "network (run faultfinder there, or publish the port)"
        )
    if kind == "postgresql":
        url = _postgres_url(host, port, environment, notes)
    elif kind == "redis":
        url = f"redis://{_redis_credentials(service, spec, environment)}{host}:{port}/0"
    elif kind == "tcp":
        url = f"tcp://{host}:{port}"
    else:
        url, health = _http_url(host, port, spec)
        draft = Draft(url=url, comment=said, health=health, critical=kind == "proxy", notes=notes)
        if health:
            draft.notes.append("health: its healthcheck fetches this path")
        return draft
    return Draft(url=url, comment=said, notes=notes)


def environment_of(spec: dict[str, Any], source: str, service: str) -> dict[str, str | None]:
    """``environment`` as a map; a bare ``KEY`` (taken from the shell) has no value."""
    written = spec.get("environment") or {}
    if isinstance(written, dict):
        return {str(k): None if v is None else str(v) for k, v in written.items()}
    if not isinstance(written, list):
        key = f"services.{service}.environment"
        raise ConfigError("a list of KEY=VALUE or a mapping", file=source, key=key)
    found: dict[str, str | None] = {}
    for item in written:
        key, equals, value = str(item).partition("=")
        found[key] = value if equals else None
    return found


def _address(
    service: str, spec: dict[str, Any], default: int, source: str
) -> tuple[str, int, bool]:
    """(host, port, only inside the network): a published port on this machine first."""
    published = _published(spec, service, source)
    if published:
        chosen = next((p for p in published if p[2] == default), published[0])
        return chosen[0], chosen[1], False
    exposed = [
        number
        for port in listed(spec, "expose", service, source)
        if (number := port_number(str(port).split("/")[0]))
    ]
    port = exposed[0] if exposed else default
    return service, port, True


def _published(spec: dict[str, Any], service: str, source: str) -> list[tuple[str, int, int]]:
    """(host ip, published port, container port) of each TCP port published."""
    found = []
    for entry in listed(spec, "ports", service, source):
        if isinstance(entry, dict):
            published, target = entry.get("published"), entry.get("target")
            host_ip = str(entry.get("host_ip") or "")
            if entry.get("protocol", "tcp") != "tcp" or published is None:
                continue
        else:
            text = str(entry)
            if text.endswith("/udp"):
                continue
            parts = text.removesuffix("/tcp").rsplit(":", 2)
            if len(parts) == 1:
                continue  # a container port alone: published on a random port
            host_ip = parts[0] if len(parts) == 3 else ""
            published, target = parts[-2], parts[-1]
        published_port = port_number(str(published).split("-")[0])
        target_port = port_number(str(target).split("-")[0])
        if not (published_port and target_port):
            key = f"services.{service}.ports"
            raise ConfigError(f"cannot read the port {str(entry)[:80]!r}", file=source, key=key)
        host = host_ip if host_ip and host_ip not in ("0.0.0.0", "::") else LOCAL
        found.append((host, published_port, target_port))
    return found


def listed(spec: dict[str, Any], key: str, service: str, source: str) -> list[Any]:
    """A list-valued key (``ports``, ``expose``, ``links``): absent is empty, else a list."""
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("expected a list", file=source, key=f"services.{service}.{key}")
    return value


def port_number(text: str) -> int:
    """A TCP port written as text, or 0 when it is none (a name, a range's junk, 99999)."""
    return int(text) if text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536 else 0


def _postgres_url(
    host: str, port: int, environment: dict[str, str | None], notes: list[str]
) -> str:
    # The official image's variables (https://hub.docker.com/_/postgres, "Environment Variables").
    user = environment.get("POSTGRES_USER") or "postgres"
    database = environment.get("POSTGRES_DB") or user
    if "POSTGRES_PASSWORD" in environment:
        credentials = f"{user}:${{POSTGRES_PASSWORD}}"
    else:
        credentials = user
        if "POSTGRES_PASSWORD_FILE" in environment:
            notes.append("its password is in a file (POSTGRES_PASSWORD_FILE): set PGPASSWORD")
    return f"postgresql://{credentials}@{host}:{port}/{database}"


def _redis_credentials(
    service: str, spec: dict[str, Any], environment: dict[str, str | None]
) -> str:
    """``:${NAME}@`` when the server wants a password: ``--requirepass`` in its command (the
    official image, https://hub.docker.com/_/redis) or Bitnami's ``REDIS_PASSWORD``."""
    command = spec.get("command") or []
    words = (
        command.split()
        if isinstance(command, str)
        else [str(word) for word in command]
        if isinstance(command, list)
        else []
    )
    if "--requirepass" in words[:-1]:
        written = words[words.index("--requirepass") + 1]
        reference = REFERENCE.match(written)
        variable = (
            reference.group(1) if reference else f"{service.upper().replace('-', '_')}_PASSWORD"
        )
        return f":${{{variable}}}@"
    if "REDIS_PASSWORD" in environment:
        return ":${REDIS_PASSWORD}@"
    return ""


def _http_url(host: str, port: int, spec: dict[str, Any]) -> tuple[str, bool]:
    healthcheck = spec.get("healthcheck")
    declared = probes.from_command(healthcheck.get("test") if isinstance(healthcheck, dict) else "")
    if declared is not None and probes.is_health_path(declared[1]):
        return f"http://{host}:{port}{declared[1]}", True
    return f"http://{host}:{port}/", False


def _graph(result: Scaffold, services: dict[str, dict[str, Any]], source: str) -> None:
    """depends_on and links, the environment's connections, and a proxy's backends."""
    by_url: dict[str, str] = {draft.url: name for name, draft in result.components.items()}
    for service, spec in services.items():
        draft = result.components.get(service)
        needs = _listed(spec.get("depends_on")) + [
            str(link).split(":")[0] for link in listed(spec, "links", service, source)
        ]
        for connection in connections(environment_of(spec, source, service)):
            if connection.host in services:
                needs.append(connection.host)
                continue
            known = by_url.get(connection.url)
            if known is None:
                known = result.add(
                    connection.name,
                    Draft(url=connection.url, comment=f"from {service}'s {connection.variable}"),
                )
                by_url[connection.url] = known
            result.variables |= connection.references
            needs.append(known)
        if spec.get("env_file") and draft is not None:
            draft.notes.append(
                f"it reads env_file {spec['env_file']}: `faultfinder init` that file to add "
                "the connections it holds"
            )
        if draft is None:
            continue
        needs = [need for need in dict.fromkeys(needs) if need in result.components]
        needs = [need for need in needs if need != service]
        if draft.critical:  # a proxy: its HTTP backends are behind it
            draft.via = [n for n in needs if result.components[n].url.startswith("http")]
            needs = [n for n in needs if n not in draft.via]
        draft.depends_on = needs


def _listed(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []
