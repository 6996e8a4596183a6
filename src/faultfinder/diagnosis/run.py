"""The one loop every front end shares: probe the stack, check our footing, diagnose."""

from __future__ import annotations

import asyncio
import time

from faultfinder import clock
from faultfinder.config import Stack
from faultfinder.diagnosis.causes import diagnose
from faultfinder.model import Diagnosis
from faultfinder.platform import PlatformEvidence
from faultfinder.probe import probe_stack
from faultfinder.probe.footing import check_footing


async def run_diagnosis(stack: Stack, platform: PlatformEvidence | None = None) -> Diagnosis:
    """Probe every component concurrently and diagnose the results (with what the platform's
    own description says, when given)."""
    started_at = clock.now()
    started = time.perf_counter()
    footing, results = await asyncio.gather(check_footing(), probe_stack(stack))
    return diagnose(
        stack,
        results,
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
        footing=footing,
        platform=platform,
    )
