"""`validate` and the hand-off in the fault lab: the incident fails its criteria, the fix passes.

This is the incident's own post-fix check ("80 % pass rate with all critical categories
passing"), run where the incident is reproduced for real.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from faultfinder_lab.control import Lab
from tests.servers.common import CliResult, run_cli_process

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]


def lab_validate(lab: Lab, out: Path) -> CliResult:
    return run_cli_process(
        "validate",
        str(lab.paths.stack),
        "--json",
        "--repetitions",
        "3",
        "--interval",
        "200ms",
        "--report",
        "junit",
        "--out",
        str(out / "validation.xml"),
        "--report",
        "markdown",
        "--out",
        str(out / "validation.md"),
        prefix=tuple(lab.namespace_prefix),
    )


def test_incident_fails_validation_and_the_fix_passes_it(lab: Lab, tmp_path: Path) -> None:
    broken, fixed = tmp_path / "broken", tmp_path / "fixed"
    broken.mkdir()
    fixed.mkdir()
    lab.break_scenario("app-resolver-dead")
    try:
        failing = lab_validate(lab, broken)
    finally:
        lab.fix()
    passing = lab_validate(lab, fixed)

    assert failing.status == 1, failing.err
    document = failing.json()
    assert document["result"] == "fail"
    suite = ElementTree.parse(broken / "validation.xml").getroot()
    messages = [failure.get("message", "") for failure in suite.iter("failure")]
    assert messages, "the JUnit report has no failure"
    assert any("dns.temporary_failure" in message for message in messages)
    markdown = (broken / "validation.md").read_text()
    assert "dns.temporary_failure" in markdown
    assert lab.settings.postgres_password not in markdown

    assert passing.status == 0, passing.out
    assert passing.json()["result"] == "pass"
    suite = ElementTree.parse(fixed / "validation.xml").getroot()
    assert list(suite.iter("failure")) == []


def test_handoff_for_the_incident_groups_actions_by_owner(lab: Lab, tmp_path: Path) -> None:
    handoff = tmp_path / "handoff.md"
    lab.break_scenario("app-resolver-dead")
    try:
        result = run_cli_process(
            "report",
            str(lab.paths.stack),
            "--out",
            str(handoff),
            prefix=tuple(lab.namespace_prefix),
        )
    finally:
        lab.fix()
    assert result.status in (0, 1), result.err
    text = handoff.read_text()
    assert "infrastructure" in text.lower()
    assert "redis" in text
    assert "dns.temporary_failure" in text
    assert "faultfinder validate" in text
    assert lab.settings.postgres_password not in text
