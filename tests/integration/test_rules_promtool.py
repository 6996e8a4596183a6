"""``faultfinder rules`` checked and evaluated by Prometheus' own promtool (Debian's prometheus
package ships it): the file loads, and the alerts fire with ``owner`` and ``code``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.servers import require_binary
from tests.servers.common import StackWriter, run_cli_process

# The agents' series (docs/serve.md, "/metrics" and "Agents"): redis down from vpc only.
LABELS = 'job="faultfinder",component="redis"'
SERIES = [
    {
        "series": f'faultfinder_component_up{{{LABELS},agent="vpc",instance="10.0.0.2:9180",'
        'kind="redis"}',
        "values": "1 0x20",
    },
    {
        "series": f'faultfinder_component_fault_info{{{LABELS},agent="vpc",'
        'instance="10.0.0.2:9180",code="dns.temporary_failure",layer="dns",'
        'owner="infrastructure"}',
        "values": "_ 1x20",
    },
    {
        "series": f'faultfinder_root_cause_info{{{LABELS},agent="vpc",instance="10.0.0.2:9180",'
        'code="dns.temporary_failure",layer="dns",owner="infrastructure",'
        'vantage="faultfinder"}',
        "values": "_ 1x20",
    },
    {
        "series": f'faultfinder_component_up{{{LABELS},agent="office",instance="10.0.1.2:9180",'
        'kind="redis"}',
        "values": "1x21",
    },
    # web's certificate: 3 days left at the start (the test's clock starts at 0)
    {
        "series": 'faultfinder_certificate_expiry_timestamp_seconds{job="faultfinder",'
        'component="web",agent="office",instance="10.0.1.2:9180"}',
        "values": f"{3 * 86400}x21",
    },
]
DOWN_LABELS = {
    "stack": "shop",
    "severity": "ticket",
    "job": "faultfinder",
    "component": "redis",
    "agent": "vpc",
    "instance": "10.0.0.2:9180",
    "code": "dns.temporary_failure",
    "layer": "dns",
    "owner": "infrastructure",
}


def write_rules(write_stack: StackWriter, tmp_path: Path) -> Path:
    stack = write_stack(
        {
            "web": {"url": "https://shop.example.test/", "critical": True},
            "redis": {"url": "redis://redis.example.test:6379"},
        },
        name="shop",
    )
    rules = tmp_path / "rules.yml"
    result = run_cli_process("rules", str(stack), "--for", "5m", "--out", str(rules))
    assert result.status == 0, result.err
    return rules


def test_promtool_accepts_and_evaluates_the_rules(write_stack: StackWriter, tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    rules = write_rules(write_stack, tmp_path)
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 7 rules found" in checked.stdout  # 2 down, 1 certificate, 1 change, 3 records

    down = {
        "exp_labels": DOWN_LABELS,
        "exp_annotations": {
            "summary": "redis is down from vpc: dns.temporary_failure at the dns layer "
            "(owner infrastructure)",
            "description": "redis has been down for 5m as seen from vpc. `faultfinder diagnose "
            "STACK --prometheus URL` says whether every agent sees it (the "
            "component's own fault) or only some (their path to it).",
        },
    }
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": SERIES,
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": "FaultfinderComponentDown", "exp_alerts": []},
                    {
                        "eval_time": "7m",
                        "alertname": "FaultfinderComponentDown",
                        "exp_alerts": [down],
                    },
                    {
                        "eval_time": "15m",
                        "alertname": "FaultfinderCertificateExpiring",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "stack": "shop",
                                    "severity": "ticket",
                                    "code": "tls.expiring_soon",
                                    "owner": "infrastructure",
                                    "layer": "tls",
                                    "job": "faultfinder",
                                    "component": "web",
                                    "agent": "office",
                                    "instance": "10.0.1.2:9180",
                                },
                                "exp_annotations": {
                                    "summary": "web's certificate has fewer than 14 days left, as seen from "
                                    "office",
                                    "description": "Renew the certificate before it expires and check the "
                                    "renewal automation.",
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "2m",
                        "alertname": "FaultfinderRootCauseChanged",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "stack": "shop",
                                    "severity": "info",
                                    "job": "faultfinder",
                                    "component": "redis",
                                    "agent": "vpc",
                                    "instance": "10.0.0.2:9180",
                                    "code": "dns.temporary_failure",
                                    "layer": "dns",
                                    "owner": "infrastructure",
                                    "vantage": "faultfinder",
                                },
                                "exp_annotations": {
                                    "summary": "new root cause: redis dns.temporary_failure "
                                    "(infrastructure), seen from faultfinder"
                                },
                            }
                        ],
                    },
                    # the same root cause 10 minutes on is no change
                    {
                        "eval_time": "12m",
                        "alertname": "FaultfinderRootCauseChanged",
                        "exp_alerts": [],
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": "component:faultfinder_component_up:agents_down",
                        "eval_time": "3m",
                        "exp_samples": [
                            {
                                "labels": "component:faultfinder_component_up:agents_down"
                                '{component="redis"}',
                                "value": 1,
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    evaluated = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert "SUCCESS" in evaluated.stdout


def test_a_bad_duration_is_one_line(write_stack: StackWriter) -> None:
    stack = write_stack({"redis": {"url": "redis://redis.example.test:6379"}})
    result = run_cli_process("rules", str(stack), "--for", "5 minutes")
    assert result.status == 2
    assert result.err == (
        "faultfinder: error: --for: '5 minutes' is not a Prometheus duration (5m, 1h30m)\n"
    )


def test_amtool_accepts_the_routing_example() -> None:
    amtool = require_binary("amtool")  # Debian's prometheus-alertmanager
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "alertmanager.yml"
    checked = subprocess.run(
        [amtool, "check-config", str(example)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    # every owner the rules can carry is routed by name
    routed = {
        route["matchers"][0] for route in yaml.safe_load(example.read_text())["route"]["routes"]
    }
    assert {
        f'owner="{owner}"' for owner in ("infrastructure", "application", "configuration", "none")
    } <= routed
