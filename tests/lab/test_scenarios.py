"""Every lab scenario, broken for real and diagnosed by the CLI from inside the lab.

The bars of issue 3: the root cause's component and code exact, its owner right, no extra root
causes, a why-chain that reaches the root cause; the healthy lab has no root cause at all.
Issue 8's: the golden path (a flow) fails at the step each scenario names, or passes.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from faultfinder_lab.control import Lab
from faultfinder_lab.scenarios import GOLDEN_PATH, SCENARIOS, Expected
from faultfinder_lab.topology import APP, APP_PORT
from tests.servers.lab import assert_no_lab_secrets, lab_diagnose

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("lab")]


def _component(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(component for component in document["components"] if component["name"] == name)


def test_the_lab_has_at_least_twelve_scenarios() -> None:
    assert len(SCENARIOS) >= 12


def test_the_healthy_lab_has_no_root_cause(lab: Lab) -> None:
    result = lab_diagnose(lab)

    document = result.json()
    assert result.status == 0, result.out
    assert document["status"] == "healthy"
    assert document["root_causes"] == []
    assert document["verdict"]["owner"] == "none"
    assert {component["status"] for component in document["components"]} == {"healthy"}


def _health_document(lab: Lab) -> tuple[int, str, dict[str, Any]]:
    """GET the app's /health/infrastructure from inside the lab."""

    def fetch() -> tuple[int, str, dict[str, Any]]:
        connection = http.client.HTTPConnection(APP, APP_PORT, timeout=10)
        try:
            connection.request("GET", "/health/infrastructure")
            response = connection.getresponse()
            document = json.loads(response.read())
            return response.status, response.getheader("content-type", ""), document
        finally:
            connection.close()

    return lab.inside(fetch)


def test_the_app_serves_the_contract_health_document(lab: Lab) -> None:
    status, content_type, document = _health_document(lab)

    assert status == 200
    assert content_type == "application/health+json"
    assert document["status"] == "pass"
    # faultfinder.health: each dependency's reach (responseTime) and its pool (connections).
    assert sorted(document["checks"]) == [
        "cache:connections",
        "cache:responseTime",
        "db:responseTime",
        "postgres:connections",
        "postgres:responseTime",
        "redis:connections",
        "redis:responseTime",
    ]
    for key, (check,) in document["checks"].items():
        assert check["status"] == "pass"
        assert check["componentType"] == "datastore"
        unit = "ms" if key.endswith(":responseTime") else "connections"
        assert check["observedUnit"] == unit
        assert check["observedValue"] >= 0
        assert check["time"].endswith("Z")
        assert check["durationMs"] >= 0
        assert (check["faultCode"], check["layer"], check["owner"]) == (None, None, None)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_is_diagnosed_to_its_root_cause(lab: Lab, name: str) -> None:
    expected = SCENARIOS[name].expected
    inside_view = expected.vantage != "faultfinder"
    lab.break_scenario(name)
    try:
        result = lab_diagnose(lab)
        # Only where the app answers: in the hanging scenarios it would not.
        health = _health_document(lab) if inside_view else None
    finally:
        lab.fix()  # waits until faultfinder sees the lab healthy again: the fix restores it

    document = result.json()
    causes = document["root_causes"]
    assert result.status == 1
    # A failing root cause makes the stack down when the critical lb fails with it; a
    # non-critical one (Postgres refusing new clients while the app works) degrades it.
    assert document["status"] in {"down", "degraded"}
    if "lb" in (expected.component, *expected.symptoms):
        assert document["status"] == "down"
    assert [(cause["component"], cause["code"]) for cause in causes] == [
        (expected.component, expected.code)
    ], document["verdict"]
    cause = causes[0]
    assert cause["owner"] == expected.owner
    assert document["verdict"]["owner"] == expected.owner
    assert cause["vantage"] == expected.vantage
    assert cause["evidence"], "a root cause carries its evidence"
    for symptom in expected.symptoms:
        assert _component(document, symptom)["code"] == "dependency.failed", symptom
    for name in expected.warns:  # a document that warns makes its app degraded, not healthy
        warned = _component(document, name)
        assert (warned["status"], warned["warning"]) == ("degraded", "app.degraded"), warned
    why = " ".join(document["why"])
    assert expected.component in why
    assert expected.code in why
    assert_no_lab_secrets(lab, result.out)
    _assert_the_golden_path_stops_where_expected(document, expected)
    if health is not None:
        _assert_seen_only_from_the_app(document, health, expected)


def _assert_the_golden_path_stops_where_expected(
    document: dict[str, Any], expected: Expected
) -> None:
    """The flow fails at the scenario's step (a symptom, unless it alone sees the fault)."""
    flow = _component(document, GOLDEN_PATH)
    assert flow["kind"] == "flow"
    steps = {step["name"]: step for step in flow["steps"]}
    if not expected.flow_step:
        assert (flow["status"], flow["failed_step"]) == ("healthy", None), flow
        assert all(step["ok"] for step in steps.values()), flow["steps"]
        return
    assert (flow["status"], flow["failed_step"]) == ("down", expected.flow_step), flow
    assert steps[expected.flow_step]["ok"] is False
    assert steps[expected.flow_step]["code"], "the failing step has its own fault code"
    if expected.component != GOLDEN_PATH:
        assert flow["code"] == "dependency.failed", flow


def _assert_seen_only_from_the_app(
    document: dict[str, Any], health: tuple[int, str, dict[str, Any]], expected: Expected
) -> None:
    """The app's document reports the fault in its own words; faultfinder gets through fine."""
    component = expected.component
    status, _, report = health
    if component == "backend":  # a fault of the app's own: one of its checks names it
        assert status == 503
        found = [entry for (entry, *_) in report["checks"].values() if entry["status"] == "fail"]
        assert [entry["faultCode"] for entry in found] == [expected.code], found
        assert expected.app_says in found[0]["output"]
        return
    assert report["status"] == "fail"
    # 503, as a health endpoint should; or 200 from an app that hides it, which a note names
    assert status == (200 if expected.note else 503)
    if expected.note:
        notes = _component(document, "backend").get("notes", [])
        assert any(expected.note in note for note in notes), notes
    # The component's failing entry is its reach (responseTime); its pool figures still pass.
    failing = [
        key
        for key, (entry,) in report["checks"].items()
        if key.split(":")[0] == component and entry["status"] == "fail"
    ]
    assert failing == [f"{component}:responseTime"]
    (check,) = report["checks"][f"{component}:responseTime"]
    assert check["faultCode"] == expected.code
    assert expected.app_says in check["output"]
    (cause,) = document["root_causes"]
    assert any(check["output"] in line for line in cause["evidence"]), cause["evidence"]
    phases = _component(document, component)["phases"]
    assert phases
    assert all(phase["ok"] for phase in phases), phases
