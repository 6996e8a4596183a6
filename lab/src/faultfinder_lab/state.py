"""What a running lab remembers between commands: its processes, secrets and current scenario."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faultfinder_lab.processes import ProcessId


@dataclass
class LabState:
    """The lab's state file (``state.json`` in its state directory), read and written whole."""

    name: str
    root: str
    postgres_password: str
    redis_password: str
    cache_password: str = ""
    demo_password: str = ""
    token_key: str = ""
    scenario: str | None = None
    processes: dict[str, ProcessId] = field(default_factory=dict)
    # Service settings a scenario changed (e.g. "haproxy.certificate": "expired").
    options: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        document: dict[str, Any] = {
            "name": self.name,
            "root": self.root,
            "postgres_password": self.postgres_password,
            "redis_password": self.redis_password,
            "cache_password": self.cache_password,
            "demo_password": self.demo_password,
            "token_key": self.token_key,
            "scenario": self.scenario,
            "processes": {
                service: process.to_json() for service, process in self.processes.items()
            },
            "options": dict(sorted(self.options.items())),
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2) + "\n")
        os.chmod(temporary, 0o600)  # it holds the lab's passwords
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> LabState:
        document = json.loads(path.read_text())
        return cls(
            name=document["name"],
            root=document["root"],
            postgres_password=document["postgres_password"],
            redis_password=document["redis_password"],
            cache_password=document.get("cache_password", ""),
            demo_password=document.get("demo_password", ""),
            token_key=document.get("token_key", ""),
            scenario=document.get("scenario"),
            processes={
                service: ProcessId.from_json(value)
                for service, value in document.get("processes", {}).items()
            },
            options=dict(document.get("options", {})),
        )
