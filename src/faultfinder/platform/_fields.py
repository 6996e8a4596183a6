"""Reading a platform's JSON or YAML field by field: a missing field is its default (the
providers add fields and leave empty ones out), a field of the wrong type is the file's error,
naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faultfinder.errors import ConfigError


@dataclass(frozen=True)
class Node:
    """A value inside a platform file, with the file and the key path that lead to it."""

    value: Any
    file: str
    path: str = ""

    def child(self, key: str | int, value: Any) -> Node:
        if isinstance(key, int):
            return Node(value, self.file, f"{self.path}[{key}]")
        return Node(value, self.file, f"{self.path}.{key}" if self.path else key)

    def error(self, reason: str, key: str = "") -> ConfigError:
        where = f"{self.path}.{key}" if self.path and key else (key or self.path)
        return ConfigError(reason, file=self.file, key=where)

    def get(self, key: str) -> Node:
        """The object at ``key`` (an empty one when it is missing)."""
        value = self._mapping().get(key)
        if value is None:
            return self.child(key, {})
        if not isinstance(value, dict):
            raise self.error("expected an object", key)
        return self.child(key, value)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def text(self, key: str, default: str = "") -> str:
        value = self._mapping().get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error("expected a string", key)
        return str(value)

    def integer(self, key: str, default: int = 0) -> int:
        value = self._mapping().get(key)
        if value is None:
            return default
        # The Google APIs write int64 fields as JSON strings ("maxInstances": "10").
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            if len(value.strip()) > 19:  # past int64, as no API here writes
                raise self.error("a number out of range", key)
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error("expected a whole number", key)
        return value

    def flag(self, key: str) -> bool | None:
        value = self._mapping().get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error("expected true or false", key)
        return value

    def items(self, key: str) -> list[Node]:
        """The objects of the list at ``key`` (none when it is missing)."""
        value = self._mapping().get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error("expected a list", key)
        found = []
        for index, item in enumerate(value):
            child = self.child(key, {}).child(index, item)
            if not isinstance(item, dict):
                raise child.error("expected an object")
            found.append(child)
        return found

    def strings(self, key: str) -> dict[str, str]:
        """A map of strings (labels, annotations)."""
        value = self._mapping().get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error("expected an object", key)
        for name, item in value.items():
            if not isinstance(item, str):
                raise self.child(key, value).error("expected a string", str(name))
        return {str(name): item for name, item in value.items()}

    def _mapping(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error("expected an object")
        return self.value
