"""Reports render saved documents: JUnit for CI, Markdown for people, the hand-off for teams."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ElementTree
from typing import Any

from faultfinder import CheckResult, Phase, diagnose, parse_stack
from faultfinder.report.handoff import render_handoff
from faultfinder.report.json import diagnosis_document
from faultfinder.report.junit import render_junit
from faultfinder.report.markdown import render_markdown
from faultfinder.validate.criteria import critical_categories, evaluate
from faultfinder.validate.document import validation_document
from faultfinder.validate.logcheck import log_criteria
from faultfinder.validate.model import Attempt, Cause, Settings, Validation
from faultfinder.validate.runner import sign

SECRET = "s3cr3t-Pa55"
TOKEN = "tok-9f8e7d6c"
STACK = f"""\
name: shop
validation:
  critical_categories: [database]
  log_absent: [app.error]
  components:
    api: {{consecutive: 3}}
components:
  api:
    url: http://127.0.0.1:8000/health
    depends_on: [db]
    headers: {{Authorization: "Bearer ${{API_TOKEN}}"}}
  db:
    url: postgresql://app:{SECRET}@127.0.0.1:5432/app
    category: database
"""
# The JUnit XML schema CI tools read (Jenkins' junit-10.xsd, after Ant's).
SCHEMA_ATTRIBUTES = {
    "testsuites": {"name", "time", "tests", "failures", "disabled", "errors"},
    "testsuite": {
        "name",
        "tests",
        "failures",
        "errors",
        "time",
        "disabled",
        "skipped",
        "timestamp",
        "hostname",
        "id",
        "package",
        "file",
        "log",
        "url",
        "version",
    },
    "testcase": {
        "name",
        "assertions",
        "time",
        "classname",
        "status",
        "class",
        "file",
        "line",
        "log",
        "group",
        "url",
    },
    "failure": {"message", "type"},
    "skipped": {"message"},
    "properties": set(),
    "property": {"name", "value"},
}
SCHEMA_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "properties": {"property"},
}


def stack():  # type: ignore[no-untyped-def]
    return parse_stack(STACK, "shop.yaml", {"API_TOKEN": TOKEN})


def validation_of(api: str, db: str) -> dict[str, Any]:
    """A validation document of ``api`` and ``db`` checks: ``"++-"`` is pass, pass, fail."""
    parsed = stack()
    cause = (Cause("db", "postgres.auth_failed", "configuration", "faultfinder"),)
    checks = []
    for name, pattern in (("api", api), ("db", db)):
        for index, mark in enumerate(pattern):
            if mark == "+":
                checks.append(Attempt(name, index + 1, index * 100.0, 4.0, True))
            else:
                code = "dependency.failed" if name == "api" else "postgres.auth_failed"
                detail = f"password authentication failed for app:{SECRET}"
                checks.append(
                    Attempt(
                        name,
                        index + 1,
                        index * 100.0,
                        4.0,
                        False,
                        code,
                        "configuration",
                        cause,
                        detail,
                    )
                )
    not_given = log_criteria(parsed.validation.log_absent, None)
    components, categories, criteria = evaluate(parsed, parsed.validation, checks, not_given)
    validation = Validation(
        stack=parsed.name,
        stack_file=parsed.path,
        started_at=datetime.datetime(2026, 11, 28, 19, 21, 30, 123000, tzinfo=datetime.UTC),
        duration_ms=412.0,
        settings=Settings(len(api), 100.0, 0.8, critical_categories(parsed, parsed.validation)),
        components=components,
        categories=categories,
        criteria=criteria,
        checks=tuple(checks),
    )
    signed = sign(validation, "Dana Ops", datetime.datetime(2026, 11, 28, 20, tzinfo=datetime.UTC))
    return validation_document(signed)


def test_junit_has_the_shape_ci_tools_read() -> None:
    document = validation_of(api="+++-+", db="+++-+")
    root = ElementTree.fromstring(render_junit(document, stack().redactor))

    def walk(element: ElementTree.Element) -> None:
        assert set(element.attrib) <= SCHEMA_ATTRIBUTES[element.tag], element.tag
        for child in element:
            assert child.tag in SCHEMA_CHILDREN[element.tag], (element.tag, child.tag)
            walk(child)

    walk(root)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [
        "shop: criteria",
        "shop: database (critical)",
        "shop: http",
    ]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
        assert suite.get("skipped") == str(len(suite.findall("testcase/skipped")))
        assert suite.get("errors") == "0"
        assert suite.get("timestamp") == "2026-11-28T19:21:30"
        assert float(suite.get("time", "x")) >= 0
        assert next(iter(suite)).tag == ("properties" if suite is suites[0] else "testcase")
        for case in cases:
            assert case.get("name")
            assert case.get("classname")
            float(case.get("time", "x"))
    assert root.get("tests") == str(len(root.findall("testsuite/testcase")))
    assert root.get("failures") == str(len(root.findall("testsuite/testcase/failure")))
    # One testcase per check, one per criterion; failures carry the diagnosis.
    assert len(suites[1].findall("testcase")) == 5
    failure = suites[1].find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "postgres.auth_failed"
    assert failure.get("message") == "postgres.auth_failed (configuration)"
    api_failure = suites[2].find("testcase/failure")
    assert api_failure is not None
    assert api_failure.get("message") == (
        "dependency.failed (configuration), root cause: db postgres.auth_failed (configuration)"
    )
    criteria = {case.get("name"): case for case in suites[0].findall("testcase")}
    assert criteria["critical_category: database every check passes"].find("failure") is not None
    assert criteria["pass_rate: stack ≥ 80%"].find("failure") is None
    assert criteria["log_absent: app.error absent from the logs"].find("skipped") is not None
    properties = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert properties["result"] == "fail"
    assert properties["signed_off_by"] == "Dana Ops"


def test_reports_never_show_a_secret() -> None:
    document = validation_of(api="+-+", db="+-+")
    assert SECRET in json.dumps(document)  # the raw document still holds what the probe saw
    for text in (
        render_junit(document, stack().redactor),
        render_markdown(document, stack().redactor),
    ):
        assert SECRET not in text
        assert "password authentication failed for app:***" in text


def test_markdown_report_has_the_criteria_a_table_per_category_and_the_sign_off() -> None:
    text = render_markdown(validation_of(api="+++++", db="++-++"), stack().redactor)
    assert text.startswith("# Validation: shop — **FAIL**\n")
    assert "| critical_category | `database` | every check passes | 4/5 pass | **FAIL** |" in text
    assert "| consecutive | `api` | ≥ 3 passes in a row | longest run 5 of 5 | **PASS** |" in text
    assert (
        "| log_absent | `app.error` | absent from the logs | "
        "not evaluated (give --logs SOURCE) | not evaluated |" in text
    )
    assert "### database (critical) — **FAIL**, 4/5 checks pass (80%)" in text
    assert "### http (not critical) — **PASS**, 5/5 checks pass (100%)" in text
    assert "- db failed 1/5 (#3): postgres.auth_failed (configuration)" in text
    sign_off = text[text.index("## Sign-off") :]
    assert "| signed off by | Dana Ops |" in sign_off
    assert "| when | 2026-11-28T20:00:00.000Z |" in sign_off
    assert "| result | **FAIL** |" in sign_off
    assert (
        "| critical_category | `database` | every check passes | 4/5 pass | **FAIL** |" in sign_off
    )


# The incident: the backend's health document says Redis fails to resolve; faultfinder reaches it.
INCIDENT = f"""\
name: staging
components:
  lb:
    url: https://127.0.0.1:8443/
    via: [backend]
    critical: true
    category: edge
  backend:
    url: http://127.0.0.1:8000/health/infrastructure
    depends_on: [redis, postgres]
    health: true
  redis: {{url: 'redis://:${{REDIS_PASSWORD}}@127.0.0.1:6379/0'}}
  postgres: {{url: 'postgresql://app:{SECRET}@127.0.0.1:5432/app'}}
"""


def result(name: str, kind: str, code: str | None = None, **extra: Any) -> CheckResult:
    last = {"https": "http", "http": "http", "redis": "redis", "postgresql": "postgres"}[kind]
    phases = (
        Phase("dns", True, 1.0),
        Phase("tcp", True, 1.0),
        Phase(last, code is None, 2.0, extra.pop("detail", "")),
    )
    return CheckResult(name, kind, name, phases, code=code, duration_ms=4.0, **extra)


def incident_diagnosis(redis_password: str) -> dict[str, Any]:
    parsed = parse_stack(INCIDENT, "staging.yaml", {"REDIS_PASSWORD": redis_password})
    document = {
        "status": "fail",
        "checks": {
            "redis:connection": [
                {
                    "status": "fail",
                    "output": f"Error -3 connecting to redis://:{redis_password}@redis.internal:6379. "
                    "Temporary failure in name resolution.",
                }
            ]
        },
    }
    results = {
        "lb": result(
            "lb",
            "https",
            "proxy.no_healthy_upstream",
            status_code=503,
            detail="503 from HAProxy",
            evidence=("503 from HAProxy",),
        ),
        "backend": result(
            "backend",
            "http",
            "app.unhealthy",
            status_code=503,
            body=json.dumps(document),
            evidence=("health document: fail",),
        ),
        "redis": result("redis", "redis"),
        "postgres": result("postgres", "postgresql"),
    }
    return diagnosis_document(diagnose(parsed, results))


def test_handoff_for_the_incident_groups_actions_by_owner_and_generates_criteria() -> None:
    parsed = parse_stack(INCIDENT, "staging.yaml", {"REDIS_PASSWORD": "r3d1s-Pw"})
    text = render_handoff(parsed, incident_diagnosis("r3d1s-Pw"))

    assert text.startswith("# Hand-off: staging — down\n")
    assert "- **Owner:** infrastructure" in text
    assert "- **Confidence:** 0.80" in text
    assert (
        "### 1. redis: the resolver is unreachable or answered SERVFAIL or timed out "
        "(EAI_AGAIN, error -3) (seen from backend) — dns.temporary_failure, owner "
        "infrastructure"
    ) in text
    assert "Temporary failure in name resolution" in text
    assert "## Why (five whys)" in text
    assert "1. lb fails at http (503 from HAProxy) because backend, which it needs, fails." in text
    actions = text[text.index("## Action items by owner") : text.index("## Success criteria")]
    assert "### Infrastructure" in actions
    assert (
        "- [ ] **redis** (`dns.temporary_failure`, seen from backend): From backend's side:"
        in actions
    )
    assert "### Application" not in actions
    assert "### Configuration" not in actions
    criteria = text[text.index("## Success criteria") : text.index("## Sign-off")]
    assert "- [ ] redis reachable from backend: 20 consecutive passes, p95 ≤ 50 ms" in criteria
    assert (
        "- [ ] backend passes again (it failed as a symptom of redis): 20 consecutive passes"
        in criteria
    )
    assert "- [ ] lb passes again (it failed as a symptom of backend)" in criteria
    assert "- [ ] overall pass rate ≥ 80%" in criteria
    assert "- [ ] every check in the critical categories passes: edge" in criteria
    assert (
        "faultfinder validate staging.yaml --component redis:consecutive=20,p95_ms=50 "
        "--component backend:consecutive=20 --component lb:consecutive=20"
    ) in criteria
    assert "    redis: {consecutive: 20, p95_ms: 50}" in criteria
    assert "Not signed off yet" in text[text.index("## Sign-off") :]
    # The password was in the app's own error text: it never reaches the hand-off.
    assert "r3d1s-Pw" not in text
    assert SECRET not in text
    assert "redis://:***@redis.internal" in text


def test_handoff_with_a_signed_validation_fills_the_sign_off_block() -> None:
    parsed = stack()
    diagnosis = {
        "schema": "faultfinder.diagnosis/v1",
        "stack": "shop",
        "status": "healthy",
        "started_at": "2026-11-28T21:00:00.000Z",
        "duration_ms": 12.0,
        "verdict": {"owner": "none", "summary": "all components healthy", "confidence": 1.0},
        "root_causes": [],
        "components": [],
        "why": [],
        "notes": [],
    }
    text = render_handoff(parsed, diagnosis, validation_of(api="+++", db="+++"))
    assert "None: every component passed." in text
    assert "Nothing to do: no root cause and no warning." in text
    assert "```sh\nfaultfinder validate shop.yaml\n```" in text
    assert "## Validation — **PASS**" in text
    sign_off = text[text.index("## Sign-off") :]
    assert "| signed off by | Dana Ops |" in sign_off
    assert "| result | **PASS** |" in sign_off
    assert "| pass_rate | `stack` | ≥ 80% | 100% (6/6) | **PASS** |" in sign_off
