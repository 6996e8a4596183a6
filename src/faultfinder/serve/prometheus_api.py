"""Every agent's latest view of a stack, read back from Prometheus' HTTP API.

``serve --agent NAME`` exports each vantage point's view (``collector``); any Prometheus, or
Thanos or Mimir (the same API), that scrapes several agents holds them all. This reads them
with three instant queries at one moment (``GET /api/v1/query``, each with ``time`` and the
query's own ``timeout``), under one deadline and a bound on the answer's size, and turns the
samples into ``diagnosis.vantages.AgentView``s. Every failure is a ``QueryError``: one line.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from faultfinder.diagnosis.vantages import AgentView
from faultfinder.errors import QueryError
from faultfinder.model import Phase
from faultfinder.redact import INLINE

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a runaway answer (a huge fleet, a wrong URL) stops here
# How far back an agent is still remembered, to be listed as stale rather than forgotten.
REMEMBER_SECONDS = 3600.0
# The series a view is built from: the agent's diagnosis and its latest probe.
VIEW_SERIES = (
    "faultfinder_component_fault_info",
    "faultfinder_root_cause_info",
    "faultfinder_probe_phase_duration_seconds",
    "faultfinder_probe_duration_seconds",
    "faultfinder_component_up",
    "faultfinder_probe_success",
)


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    value: float


def read_views(
    url: str, stack: str, components: Iterable[str], *, staleness: float, timeout: float
) -> tuple[list[AgentView], datetime.datetime]:
    """Every agent's view of the stack's ``components`` that Prometheus at ``url`` holds, and
    the moment the queries were evaluated at. ``timeout`` bounds the whole read, in seconds.
    An agent that says it monitors another stack (``faultfinder_agent_info``) is left out."""
    wanted = set(components)
    deadline = time.monotonic() + timeout
    moment = time.time()
    remember = max(REMEMBER_SECONDS, 2 * staleness)
    with httpx.Client(trust_env=False, follow_redirects=False) as client:
        # last_over_time over a range skips the staleness markers a stopped agent's series get,
        # so an agent that stopped still shows, with the time it last probed.
        probed = _query(
            client,
            url,
            f"last_over_time(faultfinder_probe_timestamp_seconds[{int(remember)}s])",
            moment,
            deadline,
        )
        names = "|".join(VIEW_SERIES)
        current = _query(client, url, f'{{__name__=~"{names}"}}', moment, deadline)
        declared = _query(
            client,
            url,
            f"last_over_time(faultfinder_agent_info[{int(remember)}s])",
            moment,
            deadline,
        )
    others = {agent_of(s.labels) for s in declared if s.labels.get("stack") != stack}
    at = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    views = _views(probed, current, wanted)
    return [view for view in views if view.agent not in others], at


def agent_of(labels: Mapping[str, str]) -> str:
    """The vantage point a series is from: its ``agent`` label, else the scraped ``instance``."""
    return labels.get("agent") or labels.get("instance") or "unknown"


def _views(probed: list[Sample], current: list[Sample], wanted: set[str]) -> list[AgentView]:
    by_key: dict[tuple[str, str], dict[str, list[Sample]]] = {}
    for sample in current:
        component = sample.labels.get("component", "")
        if component in wanted:
            key = (agent_of(sample.labels), component)
            by_key.setdefault(key, {}).setdefault(sample.labels["__name__"], []).append(sample)
    views: list[AgentView] = []
    for sample in probed:
        component = sample.labels.get("component", "")
        if component not in wanted or not math.isfinite(sample.value):
            continue
        agent = agent_of(sample.labels)
        series = by_key.get((agent, component), {})
        views.append(_view(agent, component, sample.value, series))
    return views


def _view(
    agent: str, component: str, probed: float, series: Mapping[str, list[Sample]]
) -> AgentView:
    fault = next(iter(series.get("faultfinder_component_fault_info", [])), None)
    cause = next(iter(series.get("faultfinder_root_cause_info", [])), None)
    up = next(iter(series.get("faultfinder_component_up", [])), None)
    duration = next(iter(series.get("faultfinder_probe_duration_seconds", [])), None)
    success = next(iter(series.get("faultfinder_probe_success", [])), None)
    failed_layer = fault.labels.get("layer") if fault else None
    phases = tuple(  # in no order, all marked held: the diagnosis orders them by rung
        Phase(s.labels.get("layer", "?"), True, s.value * 1000)
        for s in series.get("faultfinder_probe_phase_duration_seconds", [])
    )
    return AgentView(
        agent=agent,
        component=component,
        at=datetime.datetime.fromtimestamp(probed, datetime.UTC),
        code=fault.labels.get("code") if fault else None,
        layer=failed_layer,
        kind=up.labels.get("kind", "") if up else "",
        phases=phases,
        probe_ok=success.value == 1 if success else None,
        duration_ms=duration.value * 1000 if duration else 0.0,
        cause_vantage=cause.labels.get("vantage") if cause else None,
        # A stopped agent's series are marked stale at its first failed scrape: gone from an
        # instant query at once, while its last probe time is still within the limit.
        scraped=duration is not None,
    )


def _query(
    client: httpx.Client, url: str, promql: str, moment: float, deadline: float
) -> list[Sample]:
    """One instant query; its answer's ``data.result`` vector as samples."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise QueryError(f"prometheus at {INLINE(url)}: no time left for the query")
    endpoint = url.rstrip("/") + "/api/v1/query"
    # Prometheus ends the evaluation itself at ``timeout`` (docs: querying/api, "Instant
    # queries"; a duration is whole units, "9753ms", never "9.753s"); the client waits a
    # little longer for that answer before giving up.
    params = {"query": promql, "time": f"{moment:.3f}", "timeout": f"{max(int(left * 1000), 1)}ms"}
    try:
        with client.stream("GET", endpoint, params=params, timeout=left + 0.5) as response:
            body = _read_bounded(response, url)
            status = response.status_code
    except httpx.HTTPError as error:
        raise QueryError(f"prometheus at {INLINE(url)}: {_describe(error)}") from None
    return _samples(body, status, url)


def _read_bounded(response: httpx.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise QueryError(
                f"prometheus at {INLINE(url)}: the answer is larger than "
                f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _samples(body: bytes, status: int, url: str) -> list[Sample]:
    where = f"prometheus at {INLINE(url)}"
    try:
        answer: Any = json.loads(body)
    except ValueError:
        raise QueryError(f"{where}: HTTP {status}, and the body is not JSON") from None
    if not isinstance(answer, dict):
        raise QueryError(f"{where}: HTTP {status}, and the body is not an API answer")
    # The envelope: {"status": "success" | "error", "data": …, "errorType", "error"}; 400 bad
    # parameters, 422 an expression that cannot run, 503 a query that timed out (docs:
    # querying/api, "Format overview").
    if answer.get("status") != "success" or status >= 300:
        reason = str(answer.get("error") or "no error message")[:200]
        kind = answer.get("errorType") or "error"
        raise QueryError(f"{where}: HTTP {status}, {kind}: {' '.join(reason.split())}")
    data = answer.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise QueryError(f"{where}: the answer holds no instant vector")
    samples: list[Sample] = []
    for entry in data.get("result") or []:
        try:
            labels = {str(k): str(v) for k, v in entry["metric"].items()}
            samples.append(Sample(labels, float(entry["value"][1])))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise QueryError(f"{where}: a sample is not {{metric, value: [t, v]}}") from None
    return samples


def _describe(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer within the query's deadline"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({' '.join(str(error).split()) or 'refused'})"
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]
