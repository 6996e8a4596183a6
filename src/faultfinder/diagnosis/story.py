"""Root causes told as one story: those that share a cause become one group, and the summary
a person reads in one breath leads with the common cause, or with faultfinder's own footing
when that is in doubt.

Pure. Two root causes share a cause when they have the same code, seen from the same vantage,
and the same *scope*: the resolver for a failing resolver, the network for a timeout or an
unreachable address, the platform object for a platform fault, the host otherwise. A dead
resolver, a dropped route or a host that went away breaks many components with one cause.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from faultfinder.faults import fault
from faultfinder.model import CauseGroup, CheckResult, RootCause

SUMMARY_LIMIT = 160  # characters: a summary read in one breath (and a Slack notification's)
ELLIPSIS = "…"

# What several components do, said once: "5 components on 127.0.0.1 refuse connections".
_PREDICATES = {
    "tcp.refused": "refuse connections",
    "tcp.timeout": "time out on connect",
    "tcp.unreachable": "are unreachable",
    "tcp.reset": "reset connections",
    "socket.missing": "have no socket file",
    "socket.refused": "refuse connections on their sockets",
    "dns.temporary_failure": "fail to resolve",
    "dns.nxdomain": "use a name that does not exist",
    "dns.no_address": "use a name without an address",
    "tls.expired": "serve an expired certificate",
    "tls.untrusted": "serve an untrusted certificate",
    "tls.hostname_mismatch": "serve a certificate for another name",
}
_NETWORK_CODES = {"tcp.timeout", "tcp.unreachable"}
_RESOLVER_CODES = {"dns.temporary_failure"}


def group_causes(
    causes: Iterable[RootCause],
    results: Mapping[str, CheckResult],
    order: Sequence[str],
) -> tuple[CauseGroup, ...]:
    """The root causes grouped by shared cause; the biggest group first, then stack order."""
    position = {name: index for index, name in enumerate(order)}
    buckets: dict[tuple[str, str, str, str], list[RootCause]] = {}
    for cause in causes:
        scope, where = _scope(cause, results.get(cause.component))
        buckets.setdefault((cause.code, cause.vantage, scope, where), []).append(cause)
    groups = []
    for (code, vantage, scope, where), members in buckets.items():
        members.sort(key=lambda c: (position.get(c.component, len(position)), c.component))
        groups.append(_group(code, vantage, scope, where, members))
    return tuple(
        sorted(groups, key=lambda g: (-len(g.members), position.get(g.members[0], 0), g.code))
    )


def _scope(cause: RootCause, result: CheckResult | None) -> tuple[str, str]:
    """Where a cause lives: (scope, where)."""
    if cause.code in _RESOLVER_CODES:
        return "resolver", f"{cause.vantage}'s resolver"
    if result is None:  # from a saved document: no target to read
        return "component", cause.component
    host = urlsplit(result.target).hostname or result.target
    if cause.code in _NETWORK_CODES and result.addresses:
        address = ipaddress.ip_address(result.addresses[0].split("%")[0])
        prefix = 24 if address.version == 4 else 64
        return "network", str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    if cause.layer == "platform":
        return "platform", host
    return "host", result.addresses[0] if result.addresses else host


def alone(cause: RootCause) -> CauseGroup:
    """A root cause as a group of one (a document written before groups were has none)."""
    return _group(cause.code, cause.vantage, "component", cause.component, [cause])


def _group(
    code: str, vantage: str, scope: str, where: str, members: Sequence[RootCause]
) -> CauseGroup:
    first = members[0]
    names = tuple(cause.component for cause in members)
    return CauseGroup(
        code=code,
        owner=first.owner,
        layer=first.layer,
        vantage=vantage,
        scope=scope,
        where=where,
        members=names,
        # one cause: as sure as the least sure of its members, not less for being many
        confidence=round(min(cause.confidence for cause in members), 2),
        title=_title(code, vantage, scope, where, names),
        remediation=first.remediation,
    )


def _title(code: str, vantage: str, scope: str, where: str, names: Sequence[str]) -> str:
    seen_from = "" if vantage == "faultfinder" else f" (seen from {vantage})"
    if len(names) == 1:
        return f"{names[0]}: {fault(code).meaning}{seen_from}"
    return f"{group_subject(code, scope, where, len(names))}{seen_from}: {', '.join(names)}"


def group_subject(code: str, scope: str, where: str, count: int) -> str:
    """ "5 components on 127.0.0.1 refuse connections", without the members."""
    place = {"network": f"in {where}", "resolver": f"through {where}"}.get(scope, f"on {where}")
    predicate = _PREDICATES.get(code, f"fail with {code}")
    if scope == "resolver":
        return f"{count} components {predicate} {place}"
    return f"{count} components {place} {predicate}"


def by_member(groups: Iterable[CauseGroup]) -> dict[str, CauseGroup]:
    """Each root cause's component → its group."""
    return {member: group for group in groups for member in group.members}


def narrow(groups: Iterable[CauseGroup], names: Iterable[str]) -> tuple[CauseGroup, ...]:
    """The groups as far as they concern ``names`` (a state change's reach), retitled."""
    wanted = set(names)
    narrowed = []
    for group in groups:
        members = tuple(member for member in group.members if member in wanted)
        if members:
            title = _title(group.code, group.vantage, group.scope, group.where, members)
            narrowed.append(replace(group, members=members, title=title))
    return tuple(narrowed)


def doubt(notes: Sequence[str]) -> str:
    """faultfinder's own footing in doubt, in a few words ("" when it stands)."""
    if not notes:
        return ""
    first = notes[0]
    short = first.split(" (", 1)[0].split(":", 1)[0].strip()
    return short + (f" (+{len(notes) - 1} more)" if len(notes) > 1 else "")


def summary(
    groups: Sequence[CauseGroup], causes: Mapping[str, RootCause], footing: str = ""
) -> str:
    """At most ``SUMMARY_LIMIT`` characters: the footing doubt first, then the common cause."""
    lead = f"Check this machine first: {footing}." if footing else ""
    if not groups:
        return fit(lead)
    if len(groups) == 1 and len(groups[0].members) == 1:
        cause = causes.get(groups[0].members[0])
        evidence = f" ({cause.evidence[0]})" if cause and cause.evidence else ""
        main = groups[0].title + evidence
    elif len(groups) == 1:
        main = groups[0].title
    else:
        shown = "; ".join(group.title for group in groups)
        main = f"{len(groups)} independent causes: {shown}"
    return fit(f"{lead} Then: {main}" if lead else main)


def fit(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """``text`` cut at a word to at most ``limit`` characters, an ellipsis marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(—") + ELLIPSIS


def members_phrase(names: Sequence[str]) -> str:
    """ "lb, backend and redis"."""
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"
