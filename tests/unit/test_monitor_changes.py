"""A state change carries the verdict of the root causes its component can reach (pure)."""

from __future__ import annotations

import datetime

from faultfinder import CheckResult, Phase, Status, diagnose, parse_stack
from faultfinder.diagnosis.graph import edges
from faultfinder.monitor.changes import Change, describe, describe_all

STACK = parse_stack(
    """\
name: shop
components:
  lb: {url: 'http://lb.test/', via: [app], critical: true}
  app: {url: 'http://app.test/', depends_on: [db]}
  db: {url: 'tcp://db.test:5432'}
  mail: {url: 'tcp://mail.test:25'}
  edge: {url: 'tls://edge.test:443'}
""",
    "s.yaml",
    {},
)
AT = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC)


def result(
    name: str,
    layers: tuple[str, ...],
    code: str | None = None,
    detail: str = "",
    warning: str | None = None,
) -> CheckResult:
    phases = tuple(
        Phase(
            layer, code is None or layer != layers[-1], 1.0, detail if layer == layers[-1] else ""
        )
        for layer in layers
    )
    kind = STACK.components[name].kind
    return CheckResult(
        name,
        kind,
        name,
        phases,
        code=code,
        warning=warning,
        evidence=(f"{name} evidence",) if code else (),
    )


def test_a_symptom_names_its_own_root_cause_and_not_an_unrelated_one() -> None:
    results = {
        "lb": result("lb", ("dns", "tcp", "http"), "proxy.no_healthy_upstream", "502 from nginx"),
        "app": result("app", ("dns", "tcp", "http"), "app.error", "500"),
        "db": result("db", ("dns", "tcp"), "tcp.refused", "refused"),
        "mail": result("mail", ("dns",), "dns.nxdomain", "no such name"),
        "edge": result("edge", ("dns", "tcp", "tls")),
    }
    diagnosis = diagnose(STACK, results)
    change = describe(diagnosis, edges(STACK), "lb", Status.HEALTHY, Status.DOWN, AT, "eu-1")
    assert (change.code, change.layer, change.symptom_of) == ("dependency.failed", "http", ("app",))
    assert [cause.component for cause in change.root_causes] == ["db"]
    assert change.owner == "infrastructure"  # db's, though mail's is configuration
    assert change.summary.startswith("db: nothing listens")
    assert "mail" not in change.summary
    assert change.why[0].startswith("lb fails at http (502 from nginx) because app")
    assert change.why[-1].startswith("Owner: infrastructure.")
    assert (change.at, change.agent, change.old, change.new) == (
        AT,
        "eu-1",
        Status.HEALTHY,
        Status.DOWN,
    )
    mail = describe(diagnosis, edges(STACK), "mail", Status.HEALTHY, Status.DOWN, AT, "eu-1")
    assert (mail.code, mail.layer, mail.owner) == ("dns.nxdomain", "dns", "configuration")


def test_recovery_and_warnings_carry_the_stack_verdict_and_the_warning() -> None:
    results = {name: result(name, ("dns", "tcp")) for name in ("lb", "app", "db", "mail")}
    results["edge"] = result("edge", ("dns", "tcp", "tls"), warning="tls.expiring_soon")
    diagnosis = diagnose(STACK, results)
    back = describe(diagnosis, edges(STACK), "db", Status.DOWN, Status.HEALTHY, AT, "eu-1")
    assert (back.code, back.owner, back.why, back.root_causes) == (None, "none", (), ())
    assert back.summary == diagnosis.verdict.summary
    warned = describe(diagnosis, edges(STACK), "edge", Status.HEALTHY, Status.DEGRADED, AT, "a")
    assert (warned.code, warned.layer, warned.owner) == (
        "tls.expiring_soon",
        "tls",
        "infrastructure",
    )


def test_a_batch_describes_each_change_with_the_result_that_made_it() -> None:
    healthy = {name: result(name, ("dns", "tcp")) for name in ("lb", "app", "db", "mail", "edge")}
    refused = result("db", ("dns", "tcp"), "tcp.refused", "refused")
    down = {**healthy, "db": refused, "mail": result("mail", ("dns",), "dns.nxdomain", "gone")}
    # db went down, then came back before the batch was diagnosed; mail is still down
    diagnosis = diagnose(STACK, {**down, "db": healthy["db"]})
    changes = [
        Change("db", Status.HEALTHY, Status.DOWN, AT, refused),
        Change("mail", Status.HEALTHY, Status.DOWN, AT, down["mail"]),
    ]
    db, mail = describe_all(diagnosis, edges(STACK), changes, "eu-1")
    assert (db.code, db.layer, db.owner, db.why, db.root_causes) == (
        "tcp.refused",
        "tcp",
        "infrastructure",
        (),
        (),
    )
    assert (mail.code, mail.owner, [c.component for c in mail.root_causes]) == (
        "dns.nxdomain",
        "configuration",
        ["mail"],
    )
    assert mail.why[0].startswith("mail fails at the dns layer")
