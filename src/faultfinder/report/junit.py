"""A validation as JUnit XML: one testcase per check and per criterion, for any CI to show.

The shape is the one CI tools read (Jenkins, GitLab, GitHub test reporters, the Ant schema):
``testsuites`` > ``testsuite`` (name, tests, failures, errors, skipped, time, timestamp) >
``properties`` first, then ``testcase`` (classname, name, time) holding a ``failure``
(message, type, text) or ``skipped``. One suite holds the criteria, then one suite per category
holds its checks; a failing check's message is its diagnosis: code, owner, root cause.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

from faultfinder.redact import INLINE, Redactor


def render_junit(document: dict[str, Any], redactor: Redactor = INLINE) -> str:
    validation = redactor.document(document)
    stack = validation["stack"]
    root = ElementTree.Element("testsuites", name=f"faultfinder validate {stack}")
    suites = [_criteria_suite(validation)]
    components = {component["name"]: component for component in validation["components"]}
    for category in validation["categories"]:
        members = [components[name] for name in category["components"]]
        suites.append(_category_suite(stack, category, members, validation["started_at"]))
    for suite in suites:
        root.append(suite)
    for key in ("tests", "failures", "errors"):  # the schema has no `skipped` up here
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
    root.set("time", _seconds(validation["duration_ms"]))
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )


def _criteria_suite(validation: dict[str, Any]) -> ElementTree.Element:
    stack = validation["stack"]
    suite = _suite(f"{stack}: criteria", validation["started_at"], validation["duration_ms"])
    properties = ElementTree.SubElement(suite, "properties")
    settings = validation["settings"]
    values = {
        "result": validation["result"],
        "stack_file": validation["stack_file"],
        "repetitions": str(settings["repetitions"]),
        "interval_ms": f"{settings['interval_ms']:g}",
        "pass_rate": f"{settings['pass_rate']:g}",
        "critical_categories": ",".join(settings["critical_categories"]),
    }
    sign_off = validation.get("sign_off")
    if sign_off:
        values.update(
            signed_off_by=sign_off["by"],
            signed_off_at=sign_off["at"],
            signed_off_result=sign_off["result"],
        )
    for name, value in values.items():
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for criterion in validation["criteria"]:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"{stack}.criteria",
            name=f"{criterion['name']}: {criterion['subject']} {criterion['expected']}",
            time="0",
        )
        if criterion["result"] == "fail":
            failure = ElementTree.SubElement(
                case,
                "failure",
                message=f"{criterion['actual']}; expected {criterion['expected']}",
                type=criterion["name"],
            )
            failure.text = criterion.get("detail") or criterion["actual"]
        elif criterion["result"] == "not_evaluated":
            ElementTree.SubElement(case, "skipped", message=criterion["actual"])
    _count(suite)
    return suite


def _category_suite(
    stack: str, category: dict[str, Any], components: list[dict[str, Any]], started_at: str
) -> ElementTree.Element:
    critical = " (critical)" if category["critical"] else ""
    checks_ms = sum(check["ms"] for c in components for check in c["history"])
    suite = _suite(f"{stack}: {category['name']}{critical}", started_at, checks_ms)
    for component in components:
        for check in component["history"]:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"{stack}.{category['name']}.{component['name']}",
                name=f"{component['name']} #{check['repetition']}",
                time=_seconds(check["ms"]),
            )
            if not check["ok"]:
                failure = ElementTree.SubElement(
                    case, "failure", message=check["summary"], type=check["code"]
                )
                shared = check.get("shared_cause")
                # a cause many components share is named on each of their failures
                failure.text = check["detail"] + (f"\nshared cause: {shared}" if shared else "")
    _count(suite)
    return suite


def _suite(name: str, started_at: str, ms: float) -> ElementTree.Element:
    # The schema's timestamp is a local date-time without a zone: the UTC one, unmarked.
    suite = ElementTree.Element("testsuite", name=name, timestamp=started_at[:19])
    suite.set("time", _seconds(ms))
    return suite


def _count(suite: ElementTree.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(case.find("skipped") is not None for case in cases)))


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"
