"""``faultfinder lab …`` as a user runs it: list, status, break, diagnose, fix, demo, not root."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultfinder_lab.control import Lab
from faultfinder_lab.scenarios import SCENARIOS
from tests.servers.common import run_cli_process
from tests.servers.lab import assert_no_lab_secrets, unique_lab_name

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]

# An unprivileged user (nobody), to see what a non-root caller is told.
AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def test_list_shows_every_scenario_with_its_root_cause() -> None:
    result = run_cli_process("lab", "list")

    assert result.status == 0
    for name, scenario in SCENARIOS.items():
        assert name in result.out
        assert scenario.expected.code in result.out
    assert "the golden path fails at ask" in result.out


def test_not_root_exits_2_with_one_line_saying_what_to_run() -> None:
    result = run_cli_process("lab", "up", "--name", unique_lab_name(), prefix=AS_NOBODY)

    assert result.status == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert "needs root" in result.err
    assert "sudo faultfinder lab up" in result.err


def test_without_namespaces_exits_2_with_one_line_saying_where_to_run() -> None:
    # Root inside a user namespace: uid 0, but no right to mount /run/netns.
    result = run_cli_process(
        "lab", "up", "--name", unique_lab_name(), prefix=("unshare", "--user", "--map-root-user")
    )

    assert result.status == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot create the network namespace" in result.err
    assert "--privileged" in result.err


def test_up_is_idempotent(lab: Lab) -> None:
    result = run_cli_process("lab", "up", "--name", lab.name)

    assert result.status == 0
    assert f"lab {lab.name} is already up" in result.out
    assert lab.up() is False


def test_status_break_diagnose_fix_round_trip(lab: Lab) -> None:
    name = ("--name", lab.name)
    try:
        status = run_cli_process("lab", "status", *name)
        broken = run_cli_process("lab", "break", "app-500", *name)
        lab.reload()  # the CLI changed the lab's state on disk
        scenario_after_break = lab.require_state().scenario
        diagnosed = run_cli_process("lab", "diagnose", "--json", *name)
        fixed = run_cli_process("lab", "fix", *name)
    finally:
        lab.reload()
        if lab.require_state().scenario is not None:
            lab.fix()

    assert status.status == 0
    assert "scenario: none" in status.out
    assert str(lab.paths.stack) in status.out
    assert "components:" in status.out  # the stack file itself is printed, secrets masked
    assert_no_lab_secrets(lab, status.out)
    assert broken.status == 0
    assert scenario_after_break == "app-500"
    assert diagnosed.status == 1
    assert [(cause["component"], cause["code"]) for cause in diagnosed.json()["root_causes"]] == [
        ("backend", "app.error")
    ]
    assert fixed.status == 0
    assert "fixed app-500" in fixed.out
    assert lab.require_state().scenario is None


def test_an_unknown_scenario_is_a_usage_error(lab: Lab) -> None:
    result = run_cli_process("lab", "break", "no-such-scenario", "--name", lab.name)

    assert result.status == 2
    assert "no scenario 'no-such-scenario'" in result.err
    assert "app-resolver-dead" in result.err


def test_demo_shows_the_incident_then_health_and_leaves_nothing_behind() -> None:
    name = unique_lab_name("demo")
    # The timeout only keeps a hung demo from hanging the suite: it takes about 6 s, and how
    # long is not what this test is about. That it went through all five steps is.
    result = run_cli_process("lab", "demo", "--name", name, timeout=120)

    assert result.status == 0, result.err
    assert "== 5/5 tearing the lab down" in result.out
    assert "demo finished in" in result.out
    incident, _, after = result.out.partition("4/5")
    assert "dns.temporary_failure" in incident
    assert "redis" in incident
    assert "why" in incident
    # The golden path is the real flow through HAProxy: named, failing, then passing.
    assert "https://api.edge.lab.internal/login" in incident
    assert "golden_path fails" in incident  # in the why-chain, a symptom of redis
    assert "HEALTHY" in after
    assert "golden_path" in after
    assert "labtok_" not in result.out
    assert not Path(f"/run/netns/{name}").exists()
    assert not Path(f"/etc/netns/{name}").exists()
    assert not Path(f"/run/faultfinder-lab/{name}").exists()
