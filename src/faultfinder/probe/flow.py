"""Run a flow: each step probed like a component, in order, sharing captured variables.

The flow fails at its first failing step, with that step's code and phases, so "the golden
path fails" reads like any component: the layer and the fault where it broke. Later steps do
not run; cleanup steps always do, within time kept back for them from the flow's deadline.
Captured values (tokens, session ids) are hidden in every result before it leaves here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from urllib.parse import urlsplit

from faultfinder import jsonpath
from faultfinder.config import Component, ComponentSpec, StepSpec
from faultfinder.config.flows import templated
from faultfinder.config.spec import header_problem
from faultfinder.errors import ProbeFault
from faultfinder.model import CheckResult, Phase, StepResult
from faultfinder.placeholders import fill, references
from faultfinder.probe import probe_component
from faultfinder.probe._answer import parse_json
from faultfinder.probe._ladder import Ladder
from faultfinder.probe.http import INVALID_REQUEST
from faultfinder.redact import Redactor, redact_url
from faultfinder.schemes import kind_of_url_scheme, scheme

# Seconds kept back from the steps for each cleanup step without a timeout of its own; at
# most half the flow's deadline is kept back in all.
CLEANUP_KEPT_BACK = 1.0
# A step's own safety net may overrun its deadline by this much (probe_component's grace).
STEP_GRACE = 0.3


async def probe(ladder: Ladder) -> None:
    """The flow prober: record every step on ``ladder``; raise ``ProbeFault`` for a failure."""
    component = ladder.component
    flow = component.spec.flow
    assert flow is not None  # only flows are registered to this prober
    loop = asyncio.get_running_loop()
    variables = dict(flow.variables)
    hidden: list[str] = []
    kept_back = sum(step.timeout or CLEANUP_KEPT_BACK for step in flow.cleanup)
    steps_until = ladder.deadline - min(kept_back, component.timeout / 2)
    results: list[StepResult] = []
    failed: StepResult | None = None
    for step in flow.steps:
        if failed is not None:
            results.append(_skipped(step, variables, f"not run: step {failed.name} failed"))
            continue
        outcome = await _run_step(component, step, variables, steps_until - loop.time())
        outcome = _capture(step, outcome, variables, hidden)
        results.append(outcome)
        if not outcome.ok:
            failed = outcome
    for step in flow.cleanup:
        missing = sorted(_references(step) - set(variables))
        if missing:
            why = f"not run: {', '.join('{' + name + '}' for name in missing)} never captured"
            results.append(_skipped(step, variables, why, cleanup=True))
            continue
        outcome = await _run_step(component, step, variables, ladder.deadline - loop.time())
        results.append(dataclasses.replace(outcome, cleanup=True))
    results = [_hide(outcome, hidden) for outcome in results]
    ladder.steps = results
    for outcome in results:
        if outcome.result is not None and not outcome.cleanup:
            ladder.phases.extend(_named(phase, outcome.name) for phase in outcome.result.phases)
    if failed is not None:
        failed = next(outcome for outcome in results if outcome.name == failed.name)
        _fail(ladder, failed)


def _fail(ladder: Ladder, failed: StepResult) -> None:
    result = failed.result
    if result is None:  # the deadline was spent before the step could start
        ladder.evidence.append(f"step {failed.name}: {failed.skipped}")
        code = scheme(failed.kind).timeout_code
        raise ProbeFault(code, f"step {failed.name}: {failed.skipped}")
    ladder.evidence.extend(f"step {failed.name}: {line}" for line in result.evidence)
    ladder.status_code = result.status_code
    assert result.code is not None
    phase = result.failed_phase
    raise ProbeFault(result.code, f"step {failed.name}: {phase.detail if phase else result.code}")


async def _run_step(
    flow: Component, step: StepSpec, variables: dict[str, str], budget: float
) -> StepResult:
    """Probe one step, its ``{name}``s filled in, within ``budget`` seconds at most."""
    url = fill(step.url, variables)
    kind = _kind(url)
    name = str(step.name)
    timeout = min(step.timeout or budget, budget - STEP_GRACE)
    if timeout <= 0:
        return StepResult(name, kind, url, None, skipped="the flow's deadline passed first")
    headers = fill(step.headers, variables)
    problem = header_problem(headers)
    if problem is not None:  # a captured value broke a header: nothing is sent
        target = redact_url(url)
        return StepResult(name, kind, target, _unsent(f"{flow.name}.{name}", kind, target, problem))
    spec = ComponentSpec(
        url=url,
        method=step.method,
        headers=headers,
        body=fill(step.body, variables),
        json_body=fill(step.json_body, variables),
        send=fill(step.send, variables),
        within=step.within,
        command=fill(step.command, variables),
        query=fill(step.query, variables),
        write=False,
        expect=step.expect.model_copy(
            update={
                "body": fill(step.expect.body, variables),
                "message": fill(step.expect.message, variables),
                "match": fill(step.expect.match, variables),
                "json_paths": fill(step.expect.json_paths, variables),
            }
        ),
        tls=step.tls,
    )
    component = Component(
        name=f"{flow.name}.{name}",
        kind=kind,
        url=url,
        spec=spec,
        timeout=timeout,
        tls=step.tls or flow.tls,
    )
    result = await probe_component(component)
    return StepResult(name, kind, component.display_url, result)


def _unsent(component: str, kind: str, target: str, problem: str) -> CheckResult:
    """A step whose request could not be sent: its HTTP rung fails before it starts."""
    return CheckResult(
        component=component,
        kind=kind,
        target=target,
        phases=(Phase("http", False, 0.0, INVALID_REQUEST),),
        code="http.invalid_request",
        evidence=(f"{target}: {problem}",),
    )


def _capture(
    step: StepSpec, outcome: StepResult, variables: dict[str, str], hidden: list[str]
) -> StepResult:
    """Take the step's ``capture`` values from its answer; a missing one fails the step."""
    result = outcome.result
    if result is None or not result.ok or not step.capture:
        return outcome
    document = parse_json(result.body)
    for variable, path in step.capture.items():
        value = jsonpath.find(document, path)
        if value is jsonpath.MISSING:
            detail = f"no {path} to capture as {{{variable}}} in the answer"
            return dataclasses.replace(outcome, result=_failed(result, outcome.kind, detail))
        text = value if isinstance(value, str) else json.dumps(value)
        variables[variable] = text
        hidden.append(text)
    return outcome


def _failed(result: CheckResult, kind: str, detail: str) -> CheckResult:
    """``result`` turned into a failure of its last rung (the answer's)."""
    *held, last = result.phases
    return dataclasses.replace(
        result,
        code=scheme(kind).unexpected_answer or "http.unexpected_body",
        phases=(*held, Phase(last.layer, False, last.ms, detail)),
        evidence=(*result.evidence, detail),
    )


def _skipped(
    step: StepSpec, variables: dict[str, str], why: str, *, cleanup: bool = False
) -> StepResult:
    url = fill(step.url, variables)
    kind = _kind(url)
    return StepResult(str(step.name), kind, url, None, cleanup=cleanup, skipped=why)


def _kind(url: str) -> str:
    kind = kind_of_url_scheme(urlsplit(url).scheme)
    assert kind is not None  # config.flows checked every step's scheme
    return kind


def _references(step: StepSpec) -> set[str]:
    return references([value for _, value in templated(step)])


def _named(phase: Phase, step: str) -> Phase:
    return dataclasses.replace(phase, detail=f"{step}: {phase.detail}" if phase.detail else step)


def _hide(outcome: StepResult, hidden: list[str]) -> StepResult:
    """The step with every captured value masked in whatever it recorded."""
    if not hidden:
        return outcome
    scrub = Redactor(hidden)
    target = scrub(outcome.target)
    result = outcome.result
    if result is None:
        return dataclasses.replace(outcome, target=target)
    result = dataclasses.replace(
        result,
        target=scrub(result.target),
        phases=tuple(
            dataclasses.replace(phase, detail=scrub(phase.detail)) for phase in result.phases
        ),
        evidence=tuple(scrub(line) for line in result.evidence),
        body=scrub(result.body),
    )
    return dataclasses.replace(outcome, target=target, result=result)
