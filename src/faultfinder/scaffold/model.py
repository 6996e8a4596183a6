"""A stack file in the making: the components ``init`` found, each with the comment that says
where it came from, and the environment variables the file will reference."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Draft:
    """One component to write: its URL and graph, and why it is there."""

    url: str
    comment: str
    depends_on: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)
    health: bool = False
    critical: bool = False
    platform: str = ""  # its name on the platform, when not its own (for diagnose --platform)
    notes: list[str] = field(default_factory=list)  # comment lines under it


@dataclass
class Scaffold:
    """Everything ``init`` writes: the stack's name, its components, the variables it needs."""

    name: str
    source: str
    components: dict[str, Draft] = field(default_factory=dict)
    variables: set[str] = field(default_factory=set)  # ${NAME}s the file references
    skipped: list[str] = field(default_factory=list)  # what was not made a component, and why

    def add(self, name: str, draft: Draft) -> str:
        """Add a component under a name not yet taken; returns the name used."""
        unique, number = name, 2
        while unique in self.components:
            unique, number = f"{name}-{number}", number + 1
        self.components[unique] = draft
        return unique
