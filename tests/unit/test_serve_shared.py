"""``/probe`` counts shared by worker processes: each writes its row, the owner sums them."""

from __future__ import annotations

import multiprocessing

from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from faultfinder.serve.shared import SharedProbeCounts
from tests.servers.exporters import Exposition


def exposition(counts: SharedProbeCounts) -> Exposition:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(counts)
    return Exposition.parse(generate_latest(registry).decode())


def test_rows_are_summed_and_a_replaced_worker_counts_on() -> None:
    counts = SharedProbeCounts(["tcp_connect", "http_2xx"], 2, multiprocessing.get_context("spawn"))
    first, second = counts.writer(0), counts.writer(1)
    first.count("http_2xx", True)
    second.count("http_2xx", True)
    second.count("http_2xx", False)
    first.reject()
    second.refuse_busy()
    found = exposition(counts)
    assert found.value("faultfinder_probe_requests_total", module="http_2xx", result="success") == 2
    assert found.value("faultfinder_probe_requests_total", module="http_2xx", result="failure") == 1
    assert found.value("faultfinder_probe_requests_rejected_total") == 1
    assert found.value("faultfinder_probe_requests_busy_total") == 1
    assert not [
        s
        for s in found.samples("faultfinder_probe_requests_total")
        if s.labels["module"] == "tcp_connect"
    ]  # nothing counted: no series
    replacement = counts.writer(0)  # slot 0's worker died; its successor takes the row on
    replacement.count("http_2xx", True)
    assert (
        exposition(counts).value(
            "faultfinder_probe_requests_total", module="http_2xx", result="success"
        )
        == 3
    )
