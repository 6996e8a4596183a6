"""A ``.env`` file → the connections its variables describe (``DATABASE_URL``, ``REDIS_URL``,
``*_HOST``/``*_PORT``, a Cloud SQL connection name). Lines as docker compose and python-dotenv
read them: ``KEY=VALUE``, an optional ``export``, quotes around the value, ``#`` comments."""

from __future__ import annotations

from pathlib import Path

from faultfinder.errors import ConfigError
from faultfinder.scaffold.connections import connections
from faultfinder.scaffold.model import Draft, Scaffold


def read(text: str, source: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, equals, value = stripped.removeprefix("export ").partition("=")
        key = key.strip()
        if not equals or not key.replace("_", "").isalnum():
            raise ConfigError("not a KEY=VALUE line", file=source, line=number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found[key] = value
    return found


def scaffold(text: str, source: str) -> Scaffold:
    name = Path(source).resolve().parent.name or "stack"
    result = Scaffold(name=name, source=source)
    for connection in connections(read(text, source)):
        result.add(
            connection.name, Draft(url=connection.url, comment=f"from {connection.variable}")
        )
        result.variables |= connection.references
    if not result.components:
        result.skipped.append(f"{source}: no connection URL, *_HOST or Cloud SQL name in it")
    return result
