"""Check results as Prometheus metrics: a custom collector over the cache (prometheus-client).

Collecting reads the latest results and never waits for a check: it starts a run of each check
whose result has expired (at most one per TTL, as for requests), so the next scrape reads it.
Register it on the registry you pass in (``Health(registry=…)``).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from faultfinder.health._cache import CheckCache
from faultfinder.model import Grade

STATUSES = (Grade.PASS, Grade.WARN, Grade.FAIL)


class HealthCollector(Collector):
    """``faultfinder_health_*``: status, duration, runs, fault and pool figures per check."""

    def __init__(self, cache: CheckCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        # Nothing else may call the endpoints (Kubernetes reads /ready only): a scrape starts
        # the runs of expired checks, so the metrics follow the dependencies.
        self.cache.refresh_expired()
        status = GaugeMetricFamily(
            "faultfinder_health_check_status",
            "1 for the check's current status (pass, warn or fail), 0 for the others",
            labels=["check", "status"],
        )
        duration = GaugeMetricFamily(
            "faultfinder_health_check_duration_seconds",
            "How long the check's latest run took",
            labels=["check"],
        )
        faults = GaugeMetricFamily(
            "faultfinder_health_check_fault_info",
            "The fault code of a failing or warning check, with its layer and owner",
            labels=["check", "measurement", "code"],
        )
        pool = GaugeMetricFamily(
            "faultfinder_health_pool_connections",
            "The client pool's connections by state (open, in_use, waiting, max)",
            labels=["check", "state"],
        )
        for outcome in self.cache.latest():
            for grade in STATUSES:
                status.add_metric([outcome.name, grade], float(outcome.status == grade))
            duration.add_metric([outcome.name], outcome.duration_ms / 1000)
            for observation in outcome.observations:
                if observation.code:
                    faults.add_metric([outcome.name, observation.measurement, observation.code], 1)
            usage = outcome.pool
            if usage is not None:
                figures = {"open": usage.open, "in_use": usage.in_use, "waiting": usage.waiting}
                figures["max"] = usage.capacity
                for state, value in figures.items():
                    if value is not None:
                        pool.add_metric([outcome.name, state], float(value))
        runs = CounterMetricFamily(
            "faultfinder_health_check_runs",
            "Check runs finished, by the status they found",
            labels=["check", "status"],
        )
        for (name, found), count in sorted(dict(self.cache.runs).items()):
            runs.add_metric([name, found], count)
        changes = CounterMetricFamily(
            "faultfinder_health_check_changes",
            "State changes of the check, by the status it changed to",
            labels=["check", "status"],
        )
        for (name, found), count in sorted(dict(self.cache.changes).items()):
            changes.add_metric([name, found], count)
        yield from (status, duration, faults, pool, runs, changes)
