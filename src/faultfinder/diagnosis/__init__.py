"""Diagnosis: what the probes found, read along the stack's graph and the apps' own views.

``causes.diagnose`` is pure (results in, a ``Diagnosis`` out); ``run.run_diagnosis`` is the one
loop every front end shares (probe the stack, check faultfinder's own footing, diagnose).
``graph`` walks depends_on/via, ``healthdoc`` reads an app's health document, ``inside`` joins
it to the stack, ``verdict`` concludes (owner, confidence, summary, the why-chain).
"""

from __future__ import annotations

from faultfinder.diagnosis.causes import diagnose
from faultfinder.diagnosis.run import run_diagnosis

__all__ = ["diagnose", "run_diagnosis"]
