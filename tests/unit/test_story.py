"""The story of a diagnosis (issue 19): shared causes grouped, a summary read in one breath,
a why-chain that says each thing once. Pure, tested with data; the goldens against real refused
connections are in tests/integration/test_story_golden.py."""

from __future__ import annotations

from faultfinder import CheckResult, Phase, diagnose, parse_stack
from faultfinder.diagnosis import narrative, story
from faultfinder.faults import fault
from faultfinder.model import RootCause

# The wording of a refused connect is the kernel's: Linux include/uapi/asm-generic/errno.h,
# "#define ECONNREFUSED 111 /* Connection refused */", as Python's OSError prints it.
REFUSED = "connect to {} failed: [Errno 111] Connection refused"


def refused(name: str, address: str, port: int) -> CheckResult:
    target = f"http://{address}:{port}/"
    return CheckResult(
        component=name,
        kind="http",
        target=target,
        phases=(Phase("dns", True, 0.1), Phase("tcp", False, 0.2, "refused")),
        code="tcp.refused",
        evidence=(REFUSED.format(f"{address}:{port}"),),
        addresses=(address,),
    )


def healthy(name: str) -> CheckResult:
    return CheckResult(name, "tcp", f"tcp://127.0.0.1:1/{name}", (Phase("tcp", True, 0.1),))


def stack(names: list[str], needs: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    needs = needs or {}
    lines = ["name: story", "components:"]
    for index, name in enumerate(names):
        extra = f", depends_on: [{needs[name]}]" if name in needs else ""
        lines.append(f"  {name}: {{url: 'http://127.0.0.1:{1000 + index}/'{extra}}}")
    return parse_stack("\n".join(lines) + "\n", "story.yaml", {})


def test_five_refusals_on_one_host_are_one_cause_in_stack_order() -> None:
    names = ["lb", "backend", "docs", "postgres", "redis", "ok"]
    results = {n: refused(n, "127.0.0.1", 1000 + i) for i, n in enumerate(names[:5])}
    results["ok"] = healthy("ok")
    diagnosis = diagnose(stack(names), results)
    assert len(diagnosis.root_causes) == 5  # every root cause is kept
    (group,) = diagnosis.groups
    assert group.members == ("lb", "backend", "docs", "postgres", "redis")
    assert (group.scope, group.where, group.code) == ("host", "127.0.0.1", "tcp.refused")
    assert group.title == (
        "5 components on 127.0.0.1 refuse connections: lb, backend, docs, postgres, redis"
    )
    assert diagnosis.verdict.summary == group.title
    assert diagnosis.verdict.confidence == 0.9  # one cause, not five independent ones
    assert len(diagnosis.why) == 2
    assert diagnosis.why[0].startswith("lb, backend, docs, postgres and redis fail at the tcp")
    assert diagnosis.why[1].startswith("Owner: infrastructure. Next step: Start the service")


def test_a_symptom_chain_reaching_a_shared_cause_says_it_once() -> None:
    names = ["web", "db", "cache", "ok"]
    results = {
        "web": CheckResult(
            "web",
            "http",
            "http://127.0.0.1:1000/",
            (Phase("tcp", True, 0.1), Phase("http", False, 1, "503")),
            code="http.unexpected_status",
            evidence=("HTTP 503",),
        ),
        "db": refused("db", "10.0.0.5", 5432),
        "cache": refused("cache", "10.0.0.5", 6379),
        "ok": healthy("ok"),
    }
    diagnosis = diagnose(stack(names, {"web": "db"}), results)
    assert [g.members for g in diagnosis.groups] == [("db", "cache")]
    # cache's chain comes first (by name); web's reaches db, already told, and stops there
    assert diagnosis.why[0].startswith(
        "db and cache fail at the tcp layer on 10.0.0.5, one cause for both: tcp.refused"
    )
    assert diagnosis.why[1].startswith("Owner: infrastructure.")
    assert diagnosis.why[2] == (
        "web fails at http (503) because db, which it needs, fails (explained above)."
    )
    assert len(diagnosis.why) == 3


def test_different_hosts_are_independent_causes() -> None:
    names = ["api", "db", "ok"]
    results = {
        "api": refused("api", "10.0.0.1", 80),
        "db": refused("db", "10.0.0.2", 5432),
        "ok": healthy("ok"),
    }
    diagnosis = diagnose(stack(names), results)
    assert [g.members for g in diagnosis.groups] == [("api",), ("db",)]
    assert diagnosis.verdict.summary.startswith("2 independent causes: api: nothing listens")
    assert diagnosis.verdict.confidence == 0.85


def test_a_dead_resolver_and_a_dropped_network_group_across_hosts() -> None:
    def cause(name: str, code: str) -> RootCause:
        return RootCause(
            name, code, code.split(".")[0], fault(code).owner, "faultfinder", 0.9, "", (), "fix"
        )

    results = {
        "a": CheckResult("a", "http", "http://a.internal/", (), "dns.temporary_failure"),
        "b": CheckResult("b", "http", "http://b.internal/", (), "dns.temporary_failure"),
        "c": CheckResult(
            "c", "http", "http://c.internal/", (), "tcp.timeout", addresses=("10.1.2.3",)
        ),
        "d": CheckResult(
            "d", "http", "http://d.internal/", (), "tcp.timeout", addresses=("10.1.2.200",)
        ),
    }
    causes = [
        cause("a", "dns.temporary_failure"),
        cause("b", "dns.temporary_failure"),
        cause("c", "tcp.timeout"),
        cause("d", "tcp.timeout"),
    ]
    groups = story.group_causes(causes, results, ["a", "b", "c", "d"])
    assert [(g.scope, g.where, g.members) for g in groups] == [
        ("resolver", "faultfinder's resolver", ("a", "b")),
        ("network", "10.1.2.0/24", ("c", "d")),
    ]
    assert groups[0].title == "2 components fail to resolve through faultfinder's resolver: a, b"


def test_the_summary_fits_in_160_characters_however_many_fail() -> None:
    names = [f"component-with-a-long-name-{index:02d}" for index in range(40)]
    results = {n: refused(n, f"10.0.{i}.1", 80) for i, n in enumerate(names)}
    diagnosis = diagnose(stack(names), results)
    summary = diagnosis.verdict.summary
    assert len(summary) <= story.SUMMARY_LIMIT
    assert summary.endswith(story.ELLIPSIS)
    assert summary.startswith("Check this machine first: every component fails at DNS or TCP")


def test_the_footing_doubt_leads_the_summary_and_the_story() -> None:
    names = ["lb", "backend", "docs", "postgres", "redis"]
    results = {n: refused(n, "127.0.0.1", 1000 + i) for i, n in enumerate(names)}
    diagnosis = diagnose(
        stack(names), results, footing=("faultfinder cannot resolve 'localhost' here (timed out)",)
    )
    assert diagnosis.verdict.summary.startswith(
        "Check this machine first: faultfinder cannot resolve 'localhost' here (+1 more). Then: "
        "5 components on 127.0.0.1 refuse connections"
    )
    text = narrative.plain(narrative.lines(narrative.Story.of(diagnosis)))
    assert text[2].startswith("footing in doubt: faultfinder cannot resolve 'localhost'")
    assert text[4].startswith("cause: 5 components on 127.0.0.1")


def test_a_saved_document_without_groups_tells_each_cause_alone() -> None:
    from faultfinder.report.json import diagnosis_document

    names = ["api", "db", "ok"]
    results = {
        "api": refused("api", "10.0.0.1", 80),
        "db": refused("db", "10.0.0.1", 5432),
        "ok": healthy("ok"),
    }
    document = diagnosis_document(diagnose(stack(names), results))
    assert [g["members"] for g in document["groups"]] == [["api", "db"]]
    assert narrative.Story.from_document(document).groups[0].members == ("api", "db")
    del document["groups"]
    old = narrative.Story.from_document(document)
    assert [g.members for g in old.groups] == [("api",), ("db",)]


def test_narrowed_groups_are_retitled() -> None:
    names = ["a", "b", "c", "ok"]
    results = {n: refused(n, "127.0.0.1", 1000 + i) for i, n in enumerate(names[:3])}
    results["ok"] = healthy("ok")
    (group,) = story.narrow(diagnose(stack(names), results).groups, ["b", "c"])
    assert group.title == "2 components on 127.0.0.1 refuse connections: b, c"
