"""A real Prometheus scrapes ``faultfinder serve``: ``/probe`` with the relabelling users copy
from blackbox_exporter's README, and ``/metrics`` with the monitor's view. PromQL over
Prometheus' HTTP API returns what the servers behind them really do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers import free_port
from tests.servers.app import AppServer
from tests.servers.common import StackWriter
from tests.servers.exporters import Prometheus, Served


def blackbox_job(name: str, module: str, targets: list[str], exporter: str) -> dict[str, Any]:
    """A scrape job exactly as blackbox_exporter's README writes it."""
    return {
        "job_name": name,
        "metrics_path": "/probe",
        "params": {"module": [module]},
        "static_configs": [{"targets": targets}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": exporter},
        ],
    }


def by(results: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {result["metric"][label]: float(result["value"][1]) for result in results}


def test_prometheus_scrapes_probe_and_metrics(
    app_server: AppServer,
    write_stack: StackWriter,
    serve_process: Callable[..., Served],
    prometheus_server: Callable[[list[dict[str, Any]]], Prometheus],
) -> None:
    refused = free_port()
    stack: Path = write_stack(
        {
            "web": {"url": app_server.url("/ok")},
            "broken": {"url": app_server.url("/fail")},
            "db": {"url": f"tcp://127.0.0.1:{refused}", "critical": True},
        },
        defaults={"timeout": "1s", "interval": "250ms", "failure_threshold": 1},
    )
    # with workers on: /probe from either worker, /metrics from the owner through them
    serve = serve_process(stack, "--no-alerts", "--no-history", "--workers", "2")
    ok, fail = app_server.url("/ok"), app_server.url("/fail")
    prometheus = prometheus_server(
        [
            blackbox_job("blackbox_http", "http_2xx", [ok, fail], serve.address),
            blackbox_job(
                "blackbox_tcp",
                "tcp_connect",
                [f"127.0.0.1:{app_server.port}", f"127.0.0.1:{refused}"],
                serve.address,
            ),
            {"job_name": "faultfinder", "static_configs": [{"targets": [serve.address]}]},
        ]
    )

    success = prometheus.wait_for("count(probe_success) == 4")
    assert success
    assert by(prometheus.query('probe_success{job="blackbox_http"}'), "instance") == {
        ok: 1.0,
        fail: 0.0,
    }
    assert by(prometheus.query('probe_success{job="blackbox_tcp"}'), "instance") == {
        f"127.0.0.1:{app_server.port}": 1.0,
        f"127.0.0.1:{refused}": 0.0,
    }
    assert by(prometheus.query("probe_http_status_code"), "instance") == {ok: 200.0, fail: 500.0}
    failures = {
        (r["metric"]["instance"], r["metric"]["code"], r["metric"]["layer"], r["metric"]["owner"])
        for r in prometheus.query("probe_failure_info")
    }
    assert failures == {
        (fail, "app.error", "http", "application"),
        (f"127.0.0.1:{refused}", "tcp.refused", "tcp", "infrastructure"),
    }
    assert by(prometheus.query("sum by (owner) (probe_failure_info)"), "owner") == {
        "application": 1.0,
        "infrastructure": 1.0,
    }
    phases = prometheus.query('probe_http_duration_seconds{phase="connect"} > 0')
    assert {r["metric"]["instance"] for r in phases} == {ok, fail}

    # /metrics: the monitor's view of the stack file
    up = prometheus.wait_for('count(faultfinder_component_up{job="faultfinder"}) == 3')
    assert up
    assert by(prometheus.query("faultfinder_component_up"), "component") == {
        "web": 1.0,
        "broken": 0.0,
        "db": 0.0,
    }
    faults = {
        (r["metric"]["component"], r["metric"]["code"], r["metric"]["owner"])
        for r in prometheus.query("faultfinder_component_fault_info")
    }
    assert faults == {
        ("broken", "app.error", "application"),
        ("db", "tcp.refused", "infrastructure"),
    }
    assert prometheus.query('faultfinder_stack_status{status="down"} == 1')
    probed = prometheus.wait_for(
        'faultfinder_component_probes_total{component="web",result="success"} > 1'
    )
    assert probed
