"""/metrics and /api/status from a monitor's view (pure: an in-memory MonitorView)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from faultfinder.config import parse_stack
from faultfinder.diagnosis import diagnose
from faultfinder.model import Certificate, CheckResult, Diagnosis, Phase, Status
from faultfinder.monitor.view import Reading, StateChange
from faultfinder.serve.collector import MonitorCollector
from faultfinder.serve.status import SCHEMA, status_document
from tests.servers.exporters import Exposition

STACK = parse_stack(
    "name: shop\n"
    "components:\n"
    "  web: {url: 'https://shop.example.test/', depends_on: [db]}\n"
    "  db: {url: 'tcp://db.example.test:5432', critical: true}\n",
    "<test>",
    {},
)
START = datetime.datetime(2026, 11, 28, 19, 0, tzinfo=datetime.UTC)
CERTIFICATE = Certificate(
    "shop.example.test",
    "CA",
    ("shop.example.test",),
    datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
    34.0,
)


def web(ok: bool) -> CheckResult:
    http = Phase("http", ok, 5.0, "200 OK" if ok else "500 Internal Server Error")
    return CheckResult(
        "web",
        "https",
        "https://shop.example.test/",
        (Phase("dns", True, 1.0), Phase("tcp", True, 2.0), Phase("tls", True, 3.0), http),
        code=None if ok else "app.error",
        status_code=200 if ok else 500,
        certificate=CERTIFICATE,
        duration_ms=11.0,
    )


def db(ok: bool) -> CheckResult:
    return CheckResult(
        "db",
        "tcp",
        "tcp://db.example.test:5432",
        (Phase("dns", True, 1.0), Phase("tcp", ok, 2.0, "" if ok else "refused")),
        code=None if ok else "tcp.refused",
        duration_ms=3.0,
    )


@dataclass
class MemoryView:
    """A MonitorView over lists: what a monitor would have after these probes."""

    observations: list[Reading] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)
    current: Diagnosis | None = None
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, seconds: int, result: CheckResult) -> None:
        at = START + datetime.timedelta(seconds=seconds)
        self.observations.append(Reading(result.component, at, "agent-1", result))
        latest = {name: o.result for name, o in self.latest().items()}
        self.current = diagnose(STACK, latest) if len(latest) == 2 else None

    def latest(self) -> Mapping[str, Reading]:
        return {o.component: o for o in self.observations}

    def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
        states = {name: (Status.HEALTHY, START) for name in self.latest()}
        for change in self.state_changes:
            states[change.component] = (change.new, change.at)
        return states

    def diagnosis(self) -> Diagnosis | None:
        return self.current

    def changes(self, since: datetime.datetime | None = None) -> Sequence[StateChange]:
        return [c for c in self.state_changes if since is None or c.at > since]

    def recent(self, component: str, limit: int = 60) -> Sequence[Reading]:
        return [o for o in self.observations if o.component == component][-limit:]


def outage() -> MemoryView:
    view = MemoryView()
    for second, ok in enumerate((True, True, False)):
        view.add(second, db(ok))
        view.add(second, web(ok))
    view.state_changes.append(
        StateChange(
            "db",
            START + datetime.timedelta(seconds=2),
            "agent-1",
            Status.HEALTHY,
            Status.DOWN,
            "tcp.refused",
            "infrastructure",
            "db: nothing listens",
            ("db fails at tcp",),
            "tcp",
        )
    )
    return view


def scrape(collector: MonitorCollector) -> Exposition:
    registry = CollectorRegistry(auto_describe=False)  # never the global registry
    registry.register(collector)
    return Exposition.parse(generate_latest(registry).decode())


def test_metrics_of_an_outage() -> None:
    found = scrape(MonitorCollector(outage()))
    assert found.value("faultfinder_component_up", component="db") == 0
    assert found.value("faultfinder_component_up", component="web") == 1  # not debounced down
    assert found.value("faultfinder_component_status", component="db", status="down") == 1
    assert (
        found.value("faultfinder_component_status_since_timestamp_seconds", component="db")
        == START.timestamp() + 2
    )
    assert (
        found.value("faultfinder_probe_phase_duration_seconds", component="web", layer="tls")
        == 0.003
    )
    assert found.value("faultfinder_probe_success", component="web") == 0
    # web fails because db does: its current code is the symptom's
    faults = found.labels("faultfinder_component_fault_info")
    assert sorted(sorted(labels.items()) for labels in faults) == [
        [
            ("code", "dependency.failed"),
            ("component", "web"),
            ("layer", "dependency"),
            ("owner", "none"),
        ],
        [
            ("code", "tcp.refused"),
            ("component", "db"),
            ("layer", "tcp"),
            ("owner", "infrastructure"),
        ],
    ]
    assert found.labels("faultfinder_root_cause_info") == [
        {
            "component": "db",
            "code": "tcp.refused",
            "layer": "tcp",
            "owner": "infrastructure",
            "vantage": "faultfinder",
        }
    ]
    assert found.value("faultfinder_stack_status", status="down") == 1
    assert found.value("faultfinder_certificate_expiry_timestamp_seconds", component="web") == (
        datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC).timestamp()
    )
    assert found.value("faultfinder_component_state_changes_total", component="db") == 1


def test_probe_counts_count_each_probe_once() -> None:
    view = outage()
    collector = MonitorCollector(view)
    first = scrape(collector)
    assert first.value("faultfinder_component_probes_total", component="web", result="success") == 2
    assert first.value("faultfinder_component_probes_total", component="web", result="failure") == 1
    again = scrape(collector)
    assert again.value("faultfinder_component_probes_total", component="web", result="success") == 2
    view.add(3, web(True))
    later = scrape(collector)
    assert later.value("faultfinder_component_probes_total", component="web", result="success") == 3


def test_status_document() -> None:
    now = START + datetime.timedelta(seconds=10)
    document = status_document(outage(), "shop", now)
    assert document["schema"] == SCHEMA
    assert document["generated_at"] == "2026-11-28T19:00:10.000Z"
    assert document["status"] == "down"
    assert document["verdict"]["owner"] == "infrastructure"
    assert [c["name"] for c in document["components"]] == ["db", "web"]
    db_entry, web_entry = document["components"]
    assert (db_entry["status"], db_entry["code"], db_entry["owner"]) == (
        "down",
        "tcp.refused",
        "infrastructure",
    )
    assert db_entry["since"] == "2026-11-28T19:00:02.000Z"
    assert db_entry["latest"]["layer"] == "tcp"
    assert web_entry["code"] == "dependency.failed"
    assert web_entry["symptom_of"] == ["db"]
    assert web_entry["latest"]["http_status"] == 500
    assert [p["ok"] for p in web_entry["latency"]] == [True, True, False]
    assert document["changes"] == [
        {
            "component": "db",
            "at": "2026-11-28T19:00:02.000Z",
            "agent": "agent-1",
            "old": "healthy",
            "new": "down",
            "code": "tcp.refused",
            "layer": "tcp",
            "owner": "infrastructure",
            "summary": "db: nothing listens",
            "why": ["db fails at tcp"],
            "symptom_of": [],
            "confidence": None,
        }
    ]


def test_status_before_the_first_diagnosis() -> None:
    view = MemoryView()
    view.add(0, db(True))
    document = status_document(view, "shop")
    assert (document["status"], document["verdict"], document["why"]) == ("unknown", None, [])
    assert [c["name"] for c in document["components"]] == ["db"]


def test_an_agent_labels_every_series() -> None:
    found = scrape(MonitorCollector(outage(), agent="eu-west", stack="shop"))
    # the same names and labels as without --agent, each with agent= added
    assert found.value("faultfinder_component_up", component="db", agent="eu-west") == 0
    assert (
        found.value(
            "faultfinder_probe_phase_duration_seconds",
            component="web",
            layer="tls",
            agent="eu-west",
        )
        == 0.003
    )
    assert found.labels("faultfinder_root_cause_info") == [
        {
            "component": "db",
            "code": "tcp.refused",
            "layer": "tcp",
            "owner": "infrastructure",
            "vantage": "faultfinder",
            "agent": "eu-west",
        }
    ]
    every = [dict(s.labels) for family in found.families.values() for s in family.samples]
    assert every
    assert all(labels.get("agent") == "eu-west" for labels in every)
    assert found.labels("faultfinder_agent_info") == [{"agent": "eu-west", "stack": "shop"}]
    without = scrape(MonitorCollector(outage()))
    assert "faultfinder_agent_info" not in without.names()
    assert all("agent" not in labels for labels in without.labels("faultfinder_component_up"))


def test_status_document_tells_the_story_and_shows_pending_components() -> None:
    # issue 19: a component not settled yet is pending, not healthy; the page draws the story
    view = outage()
    view.current = diagnose(STACK, {name: o.result for name, o in view.latest().items()})
    pending = {"web": (Status.PENDING, START)}
    states = view.states

    class Pending(MemoryView):
        def states(self) -> Mapping[str, tuple[Status, datetime.datetime]]:
            return {**states(), **pending}

    document = status_document(
        Pending(view.observations, view.state_changes, view.current),
        "shop",
        START + datetime.timedelta(seconds=10),
    )
    web_entry = next(c for c in document["components"] if c["name"] == "web")
    assert web_entry["status"] == "pending"
    assert [g["members"] for g in document["groups"]] == [["db"]]
    kinds = [line["kind"] for line in document["story"]]
    assert kinds[:2] == ["headline", "verdict"]
    assert "group" in kinds
    assert "fix" in kinds
    assert document["story"][0]["text"] == document["verdict"]["summary"]
