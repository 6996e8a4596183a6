"""Joining several agents' views (pure: views as data, the moment injected)."""

from __future__ import annotations

import datetime

from faultfinder.config import parse_stack
from faultfinder.diagnosis.vantages import AgentView, diagnose_vantages
from faultfinder.model import Phase, Status

STACK = parse_stack(
    "name: shop\n"
    "components:\n"
    "  web: {url: 'https://shop.example.test/', depends_on: [redis]}\n"
    "  redis: {url: 'redis://redis.example.test:6379'}\n",
    "<test>",
    {},
)
NOW = datetime.datetime(2026, 11, 28, 19, 0, tzinfo=datetime.UTC)


# as Prometheus returns them: in no particular order
PHASES = {
    "web": (
        Phase("http", True, 5.0),
        Phase("dns", True, 1.0),
        Phase("tls", True, 3.0),
        Phase("tcp", True, 2.0),
    ),
    "redis": (Phase("tcp", True, 2.0), Phase("dns", True, 1.0)),
}


def seen(
    agent: str,
    component: str,
    code: str | None = None,
    layer: str | None = None,
    *,
    ago: float = 1.0,
    root: bool = True,
) -> AgentView:
    return AgentView(
        agent,
        component,
        NOW - datetime.timedelta(seconds=ago),
        code,
        layer,
        phases=PHASES[component],
        probe_ok=code is None,
        cause_vantage="faultfinder" if code and root else None,
    )


def test_seen_from_every_agent_is_the_components_own() -> None:
    views = [
        seen("a", "redis", "tcp.refused", "tcp"),
        seen("b", "redis", "tcp.refused", "tcp"),
        seen("a", "web", "dependency.failed", "dependency", root=False),
        seen("b", "web", "dependency.failed", "dependency", root=False),
    ]
    diagnosis = diagnose_vantages(STACK, views, now=NOW, staleness=60)
    (cause,) = diagnosis.root_causes
    assert (cause.component, cause.vantage, cause.code) == ("redis", "faultfinder", "tcp.refused")
    assert "seen from every agent that probes it (a, b)" in cause.explanation
    assert cause.confidence == 0.95  # two vantage points agree
    web = next(r for r in diagnosis.components if r.result.component == "web")
    assert (web.code, web.symptom_of) == ("dependency.failed", ("redis",))
    # the phases come back in the ladder's order, the symptom's own failing rung the last
    assert [(p.layer, p.ok) for p in web.result.phases] == [
        ("dns", True),
        ("tcp", True),
        ("tls", True),
        ("http", False),
    ]
    assert diagnosis.why[0].startswith("web fails at http (dependency.failed) because redis")


def test_seen_from_some_agents_is_their_path() -> None:
    views = [
        seen("a", "redis"),
        seen("b", "redis", "dns.temporary_failure", "dns"),
        seen("c", "redis", "dns.temporary_failure", "dns"),
        seen("a", "web"),
    ]
    diagnosis = diagnose_vantages(STACK, views, now=NOW, staleness=60)
    (cause,) = diagnosis.root_causes
    assert (cause.vantage, cause.layer) == ("b,c", "dns")
    assert "but a reaches redis fine: the fault is on b,c's path to it" in cause.explanation
    redis = next(r for r in diagnosis.components if r.result.component == "redis")
    assert [(v.agent, v.status) for v in redis.vantages] == [
        ("a", Status.HEALTHY),
        ("b", Status.DOWN),
        ("c", Status.DOWN),
    ]
    # issue 19's story: the path's resolver is the group, named after the agents that see it
    (group,) = diagnosis.groups
    assert (group.scope, group.where, group.members) == ("resolver", "b,c's resolver", ("redis",))
    assert diagnosis.verdict.summary.startswith(group.title[:20])


def test_a_stale_agent_is_listed_not_guessed() -> None:
    views = [
        seen("a", "redis"),
        seen("a", "web"),
        seen("b", "redis", "tcp.refused", "tcp", ago=600),
    ]
    diagnosis = diagnose_vantages(STACK, views, now=NOW, staleness=60)
    assert diagnosis.root_causes == ()
    assert diagnosis.status is Status.HEALTHY
    assert [(a.name, a.stale) for a in diagnosis.agents] == [("a", False), ("b", True)]
    assert diagnosis.notes[0].startswith("agent b has not probed within 60s")


def test_an_agent_no_longer_scraped_is_stale_at_once() -> None:
    gone = AgentView("b", "redis", NOW, None, None, scraped=False)  # only its last probe time
    diagnosis = diagnose_vantages(STACK, [seen("a", "redis"), gone], now=NOW, staleness=60)
    assert [(a.name, a.stale) for a in diagnosis.agents] == [("a", False), ("b", True)]
    (redis,) = diagnosis.components
    assert [v.agent for v in redis.vantages] == ["a"]  # b is not guessed healthy


def test_a_component_no_fresh_agent_probed_is_noted() -> None:
    diagnosis = diagnose_vantages(STACK, [seen("a", "redis")], now=NOW, staleness=60)
    assert [r.result.component for r in diagnosis.components] == ["redis"]
    assert diagnosis.notes == ("no agent probed web within 60s: not diagnosed",)
