"""The monitor's view as ``faultfinder_*`` metrics for ``/metrics`` (custom collectors).

Collecting reads what the monitor already has and never probes, so a scrape costs the targets
nothing. Register the collectors on the registry you pass to ``create_app``; tests use a
registry of their own, never prometheus_client's global one. Units are base units (seconds,
Unix timestamps) and names carry their suffix (``_seconds``, ``_total``, ``_info``).
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from faultfinder.faults import fault
from faultfinder.model import CheckResult, ComponentReport, Status
from faultfinder.monitor.view import MonitorView, Reading

# A pending component has no state to export yet (its probes are, as they come).
STATUSES = tuple(status.value for status in Status if status is not Status.PENDING)
RECENT_READ = 60  # observations the tally reads per component (the monitor keeps 60)
TALLY_INTERVAL = 1.0  # seconds between the tally's reads besides scrapes


class ProbeTally:
    """Probes per component and result, counted from the view's recent observations.

    ``MonitorView`` keeps no counters, so the tally reads ``recent()`` and counts what it has
    not seen yet. It is exact while fewer than ``RECENT_READ`` probes of one component happen
    between two reads: the app reads at every scrape and every ``TALLY_INTERVAL`` besides.
    """

    def __init__(self, view: MonitorView) -> None:
        self.view = view
        self._lock = threading.Lock()
        self._seen: dict[str, datetime.datetime] = {}
        self._counts: Counter[tuple[str, str]] = Counter()

    def update(self) -> Counter[tuple[str, str]]:
        with self._lock:
            for name in self.view.latest():
                last = self._seen.get(name)
                fresh = [
                    o for o in self.view.recent(name, RECENT_READ) if last is None or o.at > last
                ]
                for observation in fresh:
                    self._counts[(name, "success" if observation.result.ok else "failure")] += 1
                if fresh:
                    self._seen[name] = fresh[-1].at
            return Counter(self._counts)


class MonitorCollector:
    """Per component: up, status, phase seconds, fault and warning info, certificate expiry,
    probe and state-change counts; per stack: status, root causes, verdict.

    With ``agent`` (``serve --agent NAME``) every series also carries ``agent="NAME"``, so a
    Prometheus scraping several agents holds each vantage point's view apart, and
    ``faultfinder_agent_info`` names the agent's stack.
    """

    def __init__(
        self,
        view: MonitorView,
        tally: ProbeTally | None = None,
        *,
        agent: str | None = None,
        stack: str = "",
    ) -> None:
        self.view = view
        self.tally = tally or ProbeTally(view)
        self.agent = agent
        self.stack = stack

    def collect(self) -> Iterator[Metric]:
        if self.agent is None:
            yield from self._collect()
            return
        for metric in self._collect():
            yield _labelled(metric, "agent", self.agent)
        info = GaugeMetricFamily(
            "faultfinder_agent_info",
            "This agent (a vantage point) and the stack it monitors",
            labels=["agent", "stack"],
        )
        info.add_metric([self.agent, self.stack], 1.0)
        yield info

    def _collect(self) -> Iterator[Metric]:
        probes = CounterMetricFamily(
            "faultfinder_component_probes",
            "Probes of the component by this agent since it started, by result",
            labels=["component", "result"],
        )
        for (name, result), count in sorted(self.tally.update().items()):
            probes.add_metric([name, result], float(count))
        yield probes
        errors = CounterMetricFamily(
            "faultfinder_probe_errors",
            "Errors behind the component's probe since this agent started (a bug: it is still "
            "probed; the log says what)",
            labels=["component"],
        )
        for name, count in sorted(self.view.errors.items()):
            errors.add_metric([name], float(count))
        yield errors
        latest = self.view.latest()
        states = {
            name: state
            for name, state in self.view.states().items()
            if state[0] is not Status.PENDING
        }
        diagnosis = self.view.diagnosis()
        reports = {r.result.component: r for r in diagnosis.components} if diagnosis else {}
        names = sorted(set(latest) | set(states))
        yield from _states(names, states, latest)
        yield from _probes(latest)
        yield from _faults(names, latest, reports)
        yield from _counts(self.view, names)
        if diagnosis is not None:
            yield from _stack(
                diagnosis.status, diagnosis.verdict.owner, diagnosis.verdict.confidence
            )
            causes = GaugeMetricFamily(
                "faultfinder_root_cause_info",
                "A root cause of the current diagnosis: component, fault code, layer, owner and "
                "who saw it",
                labels=["component", "code", "layer", "owner", "vantage"],
            )
            for cause in diagnosis.root_causes:
                labels = [cause.component, cause.code, cause.layer, cause.owner, cause.vantage]
                causes.add_metric(labels, 1.0)
            yield causes


def _labelled(metric: Metric, label: str, value: str) -> Metric:
    """The family with one more label on every sample (added last, so every family gets it
    the same way without each building its label list twice)."""
    metric.samples = [s._replace(labels={**s.labels, label: value}) for s in metric.samples]
    return metric


def _states(
    names: list[str],
    states: Mapping[str, tuple[Status, datetime.datetime]],
    latest: Mapping[str, Reading],
) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "faultfinder_component_up",
        "1 when the component is healthy or degraded, 0 when it is down (after flap control)",
        labels=["component", "kind"],
    )
    status = GaugeMetricFamily(
        "faultfinder_component_status",
        "1 for the component's current status (healthy, degraded or down), 0 for the others",
        labels=["component", "status"],
    )
    since = GaugeMetricFamily(
        "faultfinder_component_status_since_timestamp_seconds",
        "When the component entered its current status, as a Unix timestamp",
        labels=["component"],
    )
    for name in names:
        kind = latest[name].result.kind if name in latest else ""
        if name not in states:
            continue
        current, moment = states[name]
        up.add_metric([name, kind], float(current is not Status.DOWN))
        for value in STATUSES:
            status.add_metric([name, value], float(current.value == value))
        since.add_metric([name], moment.timestamp())
    yield from (up, status, since)


def _probes(latest: Mapping[str, Reading]) -> Iterator[Metric]:
    duration = GaugeMetricFamily(
        "faultfinder_probe_duration_seconds",
        "How long the component's latest probe took, all layers together",
        labels=["component"],
    )
    phases = GaugeMetricFamily(
        "faultfinder_probe_phase_duration_seconds",
        "How long each layer of the latest probe took (dns, tcp, tls, http …)",
        labels=["component", "layer"],
    )
    success = GaugeMetricFamily(
        "faultfinder_probe_success",
        "1 when the component's latest probe held at every layer, else 0",
        labels=["component"],
    )
    when = GaugeMetricFamily(
        "faultfinder_probe_timestamp_seconds",
        "When the component's latest probe ran, as a Unix timestamp",
        labels=["component"],
    )
    expiry = GaugeMetricFamily(
        "faultfinder_certificate_expiry_timestamp_seconds",
        "The notAfter of the certificate the component presented, as a Unix timestamp",
        labels=["component"],
    )
    for name in sorted(latest):
        observation = latest[name]
        result = observation.result
        duration.add_metric([name], result.duration_ms / 1000)
        success.add_metric([name], float(result.ok))
        when.add_metric([name], observation.at.timestamp())
        by_layer: dict[str, float] = {}
        for phase in result.phases:  # a flow climbs the same layer once per step: add them up
            by_layer[phase.layer] = by_layer.get(phase.layer, 0.0) + phase.ms
        for layer, ms in by_layer.items():
            phases.add_metric([name, layer], ms / 1000)
        if result.certificate is not None:
            expiry.add_metric([name], result.certificate.not_after.timestamp())
    yield from (duration, phases, success, when, expiry)


def _faults(
    names: list[str], latest: Mapping[str, Reading], reports: Mapping[str, ComponentReport]
) -> Iterator[Metric]:
    faults = GaugeMetricFamily(
        "faultfinder_component_fault_info",
        "The component's current fault code, the layer that broke and whose move it is "
        "(dependency.failed when it fails because of a component below it)",
        labels=["component", "code", "layer", "owner"],
    )
    warnings = GaugeMetricFamily(
        "faultfinder_component_warning_info",
        "A warning that does not fail the component (tls.expiring_soon), its layer and owner",
        labels=["component", "code", "layer", "owner"],
    )
    for name in names:
        result = latest[name].result if name in latest else None
        report = reports.get(name)
        code = report.code if report is not None else result.code if result else None
        if code is not None:
            faults.add_metric([name, code, *_layer_and_owner(code, result)], 1.0)
        if result is not None and result.warning is not None:
            warnings.add_metric(
                [name, result.warning, *_layer_and_owner(result.warning, None)], 1.0
            )
    yield from (faults, warnings)


def _layer_and_owner(code: str, result: CheckResult | None) -> tuple[str, str]:
    entry = fault(code)
    failed = result.failed_phase if result is not None and result.code == code else None
    return (failed.layer if failed else entry.layer), entry.owner


def _counts(view: MonitorView, names: list[str]) -> Iterator[Metric]:
    changes = CounterMetricFamily(
        "faultfinder_component_state_changes",
        "State changes of the component (after flap control) since the history began",
        labels=["component"],
    )
    counted = Counter(change.component for change in view.changes())
    for name in names:
        changes.add_metric([name], float(counted[name]))
    yield changes


def _stack(status: Status, owner: str, confidence: float) -> Iterator[Metric]:
    current = GaugeMetricFamily(
        "faultfinder_stack_status",
        "1 for the stack's current status (healthy, degraded or down), 0 for the others",
        labels=["status"],
    )
    for value in STATUSES:
        current.add_metric([value], float(status.value == value))
    verdict = GaugeMetricFamily(
        "faultfinder_verdict_confidence",
        "The current verdict's confidence (0 to 1), labelled with whose move it is",
        labels=["owner"],
    )
    verdict.add_metric([owner], confidence)
    yield from (current, verdict)


class ProbeRequests:
    """``/probe`` requests answered, by module and result; shared by the endpoint and /metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # collect() runs in the exposition thread
        self._counts: Counter[tuple[str, str]] = Counter()
        self._rejected = 0
        self._busy = 0

    def count(self, module: str, ok: bool) -> None:
        with self._lock:
            self._counts[(module, "success" if ok else "failure")] += 1

    def reject(self) -> None:
        with self._lock:
            self._rejected += 1

    def refuse_busy(self) -> None:
        with self._lock:
            self._busy += 1

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts, rejected, busy = dict(self._counts), self._rejected, self._busy
        yield from probe_request_families(counts, rejected, busy)


def probe_request_families(
    counts: Mapping[tuple[str, str], float], rejected: float, busy: float
) -> Iterator[Metric]:
    """The ``/probe`` counters, from one process's counts or every worker's summed."""
    probes = CounterMetricFamily(
        "faultfinder_probe_requests",
        "/probe requests answered, by module and whether the probe succeeded",
        labels=["module", "result"],
    )
    for (module, result), count in sorted(counts.items()):
        probes.add_metric([module, result], float(count))
    yield probes
    yield CounterMetricFamily(
        "faultfinder_probe_requests_rejected",
        "/probe requests refused with 400: unknown module, missing or malformed target",
        value=float(rejected),
    )
    yield CounterMetricFamily(
        "faultfinder_probe_requests_busy",
        "/probe requests refused with 503: as many probes as --max-probes were in flight",
        value=float(busy),
    )
