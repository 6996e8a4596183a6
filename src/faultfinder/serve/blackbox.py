"""One probe's result as blackbox_exporter's metrics, plus ``probe_failure_info``.

The names, help texts and units are blackbox's (``probe_success``, ``probe_duration_seconds``,
``probe_http_duration_seconds{phase}`` …), so the dashboards and alerts users already have keep
working. What blackbox cannot say, faultfinder adds: the fault code of a failed probe with its
layer and owner (``probe_failure_info``), and a warning such as ``tls.expiring_soon``
(``probe_warning_info``). A metric is only emitted when the probe measured it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from faultfinder.faults import fault
from faultfinder.model import CheckResult
from faultfinder.schemes import scheme

HTTP_PHASES = ("resolve", "connect", "tls", "processing", "transfer")
# The body rung's codes that blackbox would count as a failed regular expression.
_REGEX_CODES = frozenset({"http.unexpected_body"})


class ProbeCollector:
    """The metrics of one ``/probe`` request; registered on a registry made for that request."""

    def __init__(self, result: CheckResult, prober: str) -> None:
        self.result = result
        self.prober = prober  # the module's prober: http, tcp, dns or faultfinder

    def collect(self) -> Iterator[Metric]:
        result = self.result
        yield _gauge(
            "probe_success", "Displays whether or not the probe was a success", float(result.ok)
        )
        yield _gauge(
            "probe_duration_seconds",
            "Returns how long the probe took to complete in seconds",
            result.duration_ms / 1000,
        )
        if "resolve" in result.timings:
            yield _gauge(
                "probe_dns_lookup_time_seconds",
                "Returns the time taken for probe dns lookup in seconds",
                result.timings["resolve"] / 1000,
            )
        yield from _address(result)
        if scheme(result.kind).prober == "http":
            yield from _http(result)
        if self.prober in ("http", "tcp"):
            yield _gauge(
                "probe_failed_due_to_regex",
                "Indicates if probe failed due to regex",
                float(result.code in _REGEX_CODES),
            )
        yield from _tls(result)
        yield from _faultfinder(result)


def render_probe(result: CheckResult, prober: str) -> bytes:
    """The text exposition of one probe, from a registry of its own."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector(result, prober))
    return generate_latest(registry)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _address(result: CheckResult) -> Iterator[Metric]:
    """The address probed: the one connected to, else the first resolved."""
    connected = next((p.detail for p in result.phases if p.layer == "tcp" and p.ok), "")
    text = connected.rpartition(":")[0].strip("[]") if connected else ""
    text = text or (result.addresses[0] if result.addresses else "")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return
    yield _gauge(
        "probe_ip_protocol",
        "Specifies whether probe ip protocol is IP4 or IP6",
        float(address.version),
    )
    yield _gauge(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        float(_fnv32a(address.packed)),
    )


def _fnv32a(data: bytes) -> int:
    """32-bit FNV-1a of the packed address, as blackbox hashes it for ``probe_ip_addr_hash``."""
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _http(result: CheckResult) -> Iterator[Metric]:
    phases = GaugeMetricFamily(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
        labels=["phase"],
    )
    for phase in HTTP_PHASES:
        phases.add_metric([phase], result.timings.get(phase, 0.0) / 1000)
    yield phases
    answered = result.status_code is not None
    yield _gauge(
        "probe_http_status_code", "Response HTTP status code", float(result.status_code or 0)
    )
    yield _gauge("probe_http_redirects", "The number of redirects", 0.0)  # never followed
    tls_held = any(p.layer == "tls" and p.ok for p in result.phases)
    yield _gauge(
        "probe_http_ssl",
        "Indicates if SSL was used for the final redirect",
        float(scheme(result.kind).tls and tls_held and answered),
    )
    if answered:  # the prober speaks HTTP/1.1 only
        yield _gauge("probe_http_version", "Returns the version of HTTP of the probe response", 1.1)


def _tls(result: CheckResult) -> Iterator[Metric]:
    certificate = result.certificate
    if certificate is not None:
        yield _gauge(
            "probe_ssl_earliest_cert_expiry",
            "Returns last SSL chain expiry in unixtime",  # the leaf's notAfter
            certificate.not_after.timestamp(),
        )
    handshake = next((p for p in result.phases if p.layer == "tls" and p.ok), None)
    if handshake is not None and handshake.detail.startswith("TLSv"):
        version = GaugeMetricFamily(
            "probe_tls_version_info",
            "Returns the TLS version used or NaN when unknown",
            labels=["version"],
        )
        version.add_metric([handshake.detail.split()[0].replace("TLSv", "TLS ")], 1.0)
        yield version


def _faultfinder(result: CheckResult) -> Iterator[Metric]:
    if result.code is not None:
        failed = result.failed_phase
        entry = fault(result.code)
        info = GaugeMetricFamily(
            "probe_failure_info",
            "Why the probe failed: faultfinder's fault code, the layer that broke and whose move "
            "it is",
            labels=["code", "layer", "owner"],
        )
        info.add_metric([result.code, failed.layer if failed else entry.layer, entry.owner], 1.0)
        yield info
    if result.warning is not None:
        entry = fault(result.warning)
        warning = GaugeMetricFamily(
            "probe_warning_info",
            "A warning that does not fail the probe (tls.expiring_soon), its layer and owner",
            labels=["code", "layer", "owner"],
        )
        warning.add_metric([result.warning, entry.layer, entry.owner], 1.0)
        yield warning
