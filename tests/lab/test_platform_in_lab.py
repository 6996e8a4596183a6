"""`init` and `--platform` end to end in the lab: the stack `faultfinder init` writes from the
lab's Compose description probes the real lab, and the lab's `docker compose ps`-shaped view
of its processes joins it (faultfinder_lab.describe)."""

from __future__ import annotations

import json

import pytest

from faultfinder_lab.control import Lab
from faultfinder_lab.describe import compose_ps
from tests.servers.common import run_cli_process
from tests.servers.lab import assert_no_lab_secrets

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]


def test_the_described_stack_probes_the_real_lab_and_the_platform_says_running(lab: Lab) -> None:
    result = run_cli_process("lab", "described", "--name", lab.name, timeout=120)

    assert result.status == 0, result.err
    assert "6 components from" in result.out
    assert "all components healthy" in result.out
    assert "platform (" in result.out
    assert "0 findings" in result.out
    for service in ("app", "cache", "haproxy", "nginx", "postgres", "redis"):
        assert f"{service}: fine — Compose service {service}" in result.out
    assert_no_lab_secrets(lab, result.out)


def test_a_service_that_exited_is_the_root_cause_the_platform_names(lab: Lab) -> None:
    try:
        lab.break_scenario("app-startup-failure")
        summaries = [json.loads(line) for line in compose_ps(lab).splitlines()]
        diagnosed = run_cli_process("lab", "diagnose", "--json", "--platform", "--name", lab.name)
    finally:
        lab.fix()

    app = next(summary for summary in summaries if summary["Service"] == "app")
    assert (app["State"], app["ExitCode"]) == ("exited", 1)
    document = diagnosed.json()
    # the lab's stack names the app `backend`, with `platform: app`: the platform's word joins
    (cause,) = document["root_causes"]
    assert (cause["component"], cause["code"], cause["vantage"]) == (
        "backend",
        "platform.container_exited",
        "platform",
    )
    assert any("Connection refused" in line for line in cause["evidence"])  # the probe's own
    lb = next(c for c in document["components"] if c["name"] == "lb")
    assert (lb["code"], lb["symptom_of"]) == ("dependency.failed", ["backend"])
    assert "redis" in document["platform"]["healthy"]
