"""The ``platform`` key of ``diagnose --platform --json`` and its text section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faultfinder.platform.rules import PlatformEvidence


def to_json(evidence: PlatformEvidence, files: Sequence[str]) -> dict[str, Any]:
    return {
        "files": ["<stdin>" if name == "-" else name for name in files],
        "findings": [
            {
                "component": finding.component,
                "code": finding.code,
                "subject": finding.subject,
                "evidence": list(finding.evidence),
            }
            for found in evidence.findings.values()
            for finding in found
        ],
        "healthy": {name: list(said) for name, said in evidence.healthy.items()},
        "unjoined": sorted(evidence.unjoined),
    }


def text_section(evidence: PlatformEvidence, files: Sequence[str]) -> str:
    shown = ", ".join("<stdin>" if name == "-" else name for name in files)
    count = sum(len(found) for found in evidence.findings.values())
    lines = [f"platform ({shown}): {count} findings"]
    for name, found in evidence.findings.items():
        for finding in found:
            lines.append(f"  {name}: {finding.code} — {finding.subject}")
            lines += [f"      {line}" for line in finding.evidence]
    for name, said in evidence.healthy.items():
        lines += [f"  {name}: fine — {statement}" for statement in said]
    lines += [f"  matched no component: {subject}" for subject in sorted(evidence.unjoined)]
    return "\n".join(lines) + "\n"
