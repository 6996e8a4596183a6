"""The validate loop: repeat the probes, diagnose every repetition, judge against the criteria."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Sequence
from dataclasses import replace

from faultfinder import clock
from faultfinder.clock import parse_when
from faultfinder.config import Stack, ValidationSpec
from faultfinder.validate.criteria import critical_categories, evaluate, rounds_needed
from faultfinder.validate.logcheck import log_criteria, scan_logs
from faultfinder.validate.model import Settings, SignOff, Validation
from faultfinder.validate.repeat import Observer, repeat
from faultfinder.validate.rounds import judge_all


async def run_validation(
    stack: Stack,
    spec: ValidationSpec | None = None,
    *,
    on_check: Observer | None = None,
    logs: Sequence[str] = (),
    logs_since: str = "",
) -> Validation:
    """Validate ``stack`` against ``spec`` (by default its own ``validation:`` section).

    ``logs`` are the sources ``log_absent`` is judged on, from ``logs_since`` (a time or
    ``15m``) on; without them those criteria are not evaluated.
    """
    spec = spec or stack.validation
    rounds = rounds_needed(stack, spec)
    repetitions = await repeat(stack, rounds, spec.interval, on_check)
    checks, causes = judge_all(stack, repetitions)
    tallies = None
    if logs and spec.log_absent:
        since = parse_when(logs_since) if logs_since else None
        tallies = await asyncio.to_thread(scan_logs, stack, spec.log_absent, logs, since)
    components, categories, criteria = evaluate(
        stack, spec, checks, log_criteria(spec.log_absent, tallies, logs_since)
    )
    return Validation(
        stack=stack.name,
        stack_file=stack.path,
        started_at=repetitions.started_at,
        duration_ms=repetitions.duration_ms,
        settings=Settings(
            repetitions=rounds,
            interval_ms=spec.interval * 1000,
            pass_rate=spec.pass_rate,
            critical_categories=critical_categories(stack, spec),
        ),
        components=components,
        categories=categories,
        criteria=criteria,
        checks=tuple(checks),
        notes=repetitions.footing,
        causes=causes,
    )


def sign(validation: Validation, by: str, at: datetime.datetime | None = None) -> Validation:
    """The same run, signed off by ``by``: who, when, and the result it showed."""
    return replace(validation, sign_off=SignOff(by, at or clock.now(), validation.outcome))
