"""One probe's result as blackbox_exporter's metrics, plus ``probe_failure_info``.

The names, help texts and units are blackbox's (``probe_success``, ``probe_duration_seconds``,
``probe_http_duration_seconds{phase}`` …), so the dashboards and alerts users already have keep
working. What blackbox cannot say, faultfinder adds: the fault code of a failed probe with its
layer and owner (``probe_failure_info``), and a warning such as ``tls.expiring_soon``
(``probe_warning_info``). A metric is only emitted when the probe measured it.

``render_probe`` writes the text exposition itself: through prometheus_client's registry and
``generate_latest`` it took about 45 % of a probe's CPU (families validated, samples built
and escaped one by one); the text is the same, byte for byte (``ProbeCollector`` still gives
the families, and tests/unit/test_serve_blackbox.py compares the two).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from faultfinder.faults import fault
from faultfinder.model import CheckResult
from faultfinder.schemes import scheme

# How the text format writes a number: prometheus_client's own (Go's way, not Python's repr).
_number = cast(Callable[[float], str], floatToGoString)
HTTP_PHASES = ("resolve", "connect", "tls", "processing", "transfer")
DNS_PHASES = ("resolve", "connect", "request")
# The body rung's codes that blackbox would count as a failed regular expression.
_REGEX_CODES = frozenset({"http.unexpected_body"})


@dataclass(slots=True)
class Gauge:
    """One gauge family of a probe's answer: its name, help, label names and samples."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    samples: list[tuple[Sequence[str], float]] = field(default_factory=list)

    def add_metric(self, values: Sequence[str], value: float) -> None:
        self.samples.append((values, value))


def probe_gauges(result: CheckResult, prober: str) -> Iterator[Gauge]:
    """The gauges of one probe; ``prober`` is the module's: http, tcp, dns, resolve or
    faultfinder."""
    yield _gauge(
        "probe_success", "Displays whether or not the probe was a success", float(result.ok)
    )
    yield _gauge(
        "probe_duration_seconds",
        "Returns how long the probe took to complete in seconds",
        result.duration_ms / 1000,
    )
    lookup = _lookup_ms(result)
    if lookup is not None:
        yield _gauge(
            "probe_dns_lookup_time_seconds",
            "Returns the time taken for probe dns lookup in seconds",
            lookup / 1000,
        )
    yield from _address(result)
    if scheme(result.kind).prober == "http":
        yield from _http(result)
    if prober == "dns":
        yield from _dns(result)
    if prober in ("http", "tcp"):
        yield _gauge(
            "probe_failed_due_to_regex",
            "Indicates if probe failed due to regex",
            float(result.code in _REGEX_CODES),
        )
    yield from _tls(result)
    yield from _faultfinder(result)


def render_probe(result: CheckResult, prober: str) -> bytes:
    """The text exposition of one probe (Prometheus text format 0.0.4)."""
    lines: list[str] = []
    for gauge in probe_gauges(result, prober):
        name = gauge.name
        lines.append(f"# HELP {name} {_escape_help(gauge.documentation)}\n")
        lines.append(f"# TYPE {name} gauge\n")
        for values, value in gauge.samples:
            if values:
                pairs = sorted(zip(gauge.labels, values, strict=True))
                text = ",".join(f'{label}="{_escape_label(v)}"' for label, v in pairs)
                lines.append(f"{name}{{{text}}} {_number(value)}\n")
            else:
                lines.append(f"{name} {_number(value)}\n")
    return "".join(lines).encode()


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class ProbeCollector:
    """The same gauges as prometheus_client families, for a registry of one's own."""

    def __init__(self, result: CheckResult, prober: str) -> None:
        self.result = result
        self.prober = prober

    def collect(self) -> Iterator[Metric]:
        for gauge in probe_gauges(self.result, self.prober):
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
            for values, value in gauge.samples:
                family.add_metric(list(values), value)
            yield family


def _gauge(name: str, documentation: str, value: float) -> Gauge:
    return Gauge(name, documentation, samples=[((), value)])


def _address(result: CheckResult) -> Iterator[Gauge]:
    """The address probed: the one connected to, else the first resolved."""
    connected = next((p.detail for p in result.phases if p.layer == "tcp" and p.ok), "")
    text = connected.rpartition(":")[0].strip("[]") if connected else ""
    text = text or (result.addresses[0] if result.addresses else "")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _lookup_failed(result):
            return
        # blackbox registers both before resolving and leaves them 0 when the lookup fails
        # (prober/utils.go, chooseProtocol)
        version, hashed = 0.0, 0.0
    else:
        version, hashed = float(address.version), float(_fnv32a(address.packed))
    yield _gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", version)
    yield _gauge(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        hashed,
    )


def _lookup_failed(result: CheckResult) -> bool:
    return any(p.layer == "dns" and not p.ok for p in result.phases)


def _lookup_ms(result: CheckResult) -> float | None:
    """The name lookup's time, also when it failed (blackbox times a failed lookup too)."""
    if "resolve" in result.timings:
        return result.timings["resolve"]
    return next((p.ms for p in result.phases if p.layer == "dns"), None)


def _fnv32a(data: bytes) -> int:
    """32-bit FNV-1a of the packed address, as blackbox hashes it for ``probe_ip_addr_hash``."""
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _http(result: CheckResult) -> Iterator[Gauge]:
    """prober/http.go's series: every phase once a lookup held (only ``resolve`` when it did
    not, as blackbox returns before it makes the others), and the answer's figures, 0 when no
    answer came."""
    phases = Gauge(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
        labels=("phase",),
    )
    lookup = _lookup_ms(result)
    if _lookup_failed(result):
        phases.add_metric(["resolve"], (lookup or 0.0) / 1000)
    else:
        for phase in HTTP_PHASES:
            phases.add_metric([phase], result.timings.get(phase, 0.0) / 1000)
    yield phases
    answer = result.http
    # resp.ContentLength: the Content-Length header, -1 when the answer has none
    yield _gauge(
        "probe_http_content_length",
        "Length of http content response",
        float(answer.content_length if answer else 0),
    )
    # the body's bytes as read, after any decompression (faultfinder asks for identity)
    yield _gauge(
        "probe_http_uncompressed_body_length",
        "Length of uncompressed response body",
        float(answer.body_bytes if answer else 0),
    )
    yield _gauge("probe_http_redirects", "The number of redirects", 0.0)  # never followed
    yield _gauge(
        "probe_http_ssl",
        "Indicates if SSL was used for the final redirect",
        float(answer is not None and scheme(result.kind).tls),
    )
    yield _gauge(
        "probe_http_status_code", "Response HTTP status code", float(result.status_code or 0)
    )
    yield _gauge(
        "probe_http_version",
        "Returns the version of HTTP of the probe response",
        float(answer.version) if answer and answer.version else 0.0,
    )
    if answer is not None and answer.last_modified is not None:
        yield _gauge(
            "probe_http_last_modified_timestamp_seconds",
            "Returns the Last-Modified HTTP response header in unixtime",
            float(int(answer.last_modified.timestamp())),
        )


def _dns(result: CheckResult) -> Iterator[Gauge]:
    """prober/dns.go's series: every one registered before the query, so present (0) also when
    the server's name did not resolve or nothing answered; ``probe_dns_query_succeeded`` (since
    0.23, its CHANGELOG: "#990") 1 once an answer came, whatever its rcode; the serial only
    for an SOA query that was answered."""
    phases = Gauge(
        "probe_dns_duration_seconds", "Duration of DNS request by phase", labels=("phase",)
    )
    for phase in DNS_PHASES:  # resolve is only added once the lookup held
        phases.add_metric([phase], result.timings.get(phase, 0.0) / 1000)
    yield phases
    answer = result.dns
    for section, count in (
        ("answer", answer.answers if answer else 0),
        ("authority", answer.authorities if answer else 0),
        ("additional", answer.additionals if answer else 0),
    ):
        yield _gauge(
            f"probe_dns_{section}_rrs",
            f"Returns number of entries in the {section} resource record list",
            float(count),
        )
    yield _gauge(
        "probe_dns_query_succeeded",
        "Displays whether or not the query was executed successfully",
        float(answer is not None),
    )
    if answer is not None and answer.serial is not None:
        yield _gauge("probe_dns_serial", "Returns the serial number of the zone", answer.serial)


def _tls(result: CheckResult) -> Iterator[Gauge]:
    """The certificate's series (prober/tls.go, prober/tcp.go, prober/http.go). faultfinder
    reads the leaf only: its notAfter stands for the chain's earliest expiry, in practice the
    same, since the leaf expires first."""
    certificate = result.certificate
    if certificate is not None:
        yield _gauge(
            "probe_ssl_earliest_cert_expiry",
            "Returns last SSL chain expiry in unixtime",  # the leaf's notAfter
            certificate.not_after.timestamp(),
        )
    handshake = next((p for p in result.phases if p.layer == "tls" and p.ok), None)
    if handshake is None:
        return  # blackbox gives the chain's series only after a verified handshake
    if certificate is not None:
        yield _gauge(
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            "Returns last SSL chain expiry in timestamp",
            certificate.not_after.timestamp(),
        )
        info = Gauge(
            "probe_ssl_last_chain_info",
            "Contains SSL leaf certificate information",
            labels=("fingerprint_sha256", "subject", "issuer", "subjectalternative"),
        )
        dns_names = [name for name in certificate.names if not _is_address(name)]
        info.add_metric(
            [
                certificate.fingerprint_sha256,
                certificate.subject_name,
                certificate.issuer_name,
                ",".join(dns_names),  # Go's cert.DNSNames, joined by commas
            ],
            1.0,
        )
        yield info
    if handshake.detail.startswith("TLSv"):
        version = Gauge(
            "probe_tls_version_info",
            "Returns the TLS version used or NaN when unknown",
            labels=("version",),
        )
        version.add_metric([handshake.detail.split()[0].replace("TLSv", "TLS ")], 1.0)
        yield version


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _faultfinder(result: CheckResult) -> Iterator[Gauge]:
    if result.code is not None:
        failed = result.failed_phase
        entry = fault(result.code)
        info = Gauge(
            "probe_failure_info",
            "Why the probe failed: faultfinder's fault code, the layer that broke and whose move "
            "it is",
            labels=("code", "layer", "owner"),
        )
        info.add_metric([result.code, failed.layer if failed else entry.layer, entry.owner], 1.0)
        yield info
    if result.warning is not None:
        entry = fault(result.warning)
        warning = Gauge(
            "probe_warning_info",
            "A warning that does not fail the probe (tls.expiring_soon), its layer and owner",
            labels=("code", "layer", "owner"),
        )
        warning.add_metric([result.warning, entry.layer, entry.owner], 1.0)
        yield warning
