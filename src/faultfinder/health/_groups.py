"""Groups: named selections of checks, each served at its own path (``/health/<name>``).

As Spring Boot Actuator's health groups (``include``/``exclude``) and ASP.NET Core's tags: a
group selects checks by name or tag. Every group reads the one shared cache, so a dependency
is checked at most once per TTL whatever the number of groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from faultfinder.health._checks import Check

NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Group:
    """Checks selected by name or tag: ``include`` (``"*"``: every check) minus ``exclude``.

    ``critical_only``: only critical checks count, as in readiness.
    """

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    critical_only: bool = False

    @classmethod
    def of(
        cls,
        include: Iterable[str] = ("*",),
        exclude: Iterable[str] = (),
        *,
        critical_only: bool = False,
    ) -> Group:
        return cls(tuple(include), tuple(exclude), critical_only)

    def selects(self, check: Check) -> bool:
        if self.critical_only and not check.critical:
            return False
        return _matches(check, self.include) and not _matches(check, self.exclude)


def _matches(check: Check, patterns: Sequence[str]) -> bool:
    return any(p == "*" or p == check.name or p in check.tags for p in patterns)


def validated_groups(
    groups: dict[str, Group], checks: Sequence[Check], reserved: Iterable[str]
) -> dict[str, Group]:
    """Refuse a group name that is no path segment or clashes with a built-in endpoint, and a
    pattern that names no check or tag (a typo would silently select nothing)."""
    known = {check.name for check in checks}.union(*(check.tags for check in checks))
    taken = set(reserved)
    for name, group in groups.items():
        if not NAME.fullmatch(name) or name in taken:
            raise ValueError(
                f"groups: {name!r} must be a lower-case path segment, not {sorted(taken)}"
            )
        unknown = sorted(set(group.include + group.exclude) - known - {"*"})
        if unknown:
            raise ValueError(f"groups.{name}: no check or tag is named {', '.join(unknown)}")
    return groups
