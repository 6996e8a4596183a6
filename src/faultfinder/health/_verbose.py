"""``?verbose``: the plain-text check list kube-apiserver serves at ``/livez?verbose`` (pure).

kube-apiserver's format (k8s.io/apiserver/pkg/server/healthz/healthz.go): a line per check,
``[+]NAME ok``, ``[-]NAME failed: reason withheld`` or ``[+]NAME excluded: ok``; a
``warn: some health checks cannot be excluded: no matches for "NAME"`` line for an exclude
that names no check; then ``GROUP check passed`` or ``GROUP check failed``. A caller allowed
details reads the fault code instead of "reason withheld".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from faultfinder.health._checks import Outcome
from faultfinder.model import Grade


def verbose_text(
    group: str,
    outcomes: Sequence[Outcome | str],
    *,
    passed: bool,
    unmatched: Iterable[str] = (),
    components: bool,
    details: bool,
) -> str:
    """The body, a line per check in order (a name alone: excluded); without ``components``
    only its last line (anonymous callers)."""
    lines: list[str] = []
    if components:
        for outcome in outcomes:
            if isinstance(outcome, str):
                lines.append(f"[+]{outcome} excluded: ok")
            elif outcome.status is Grade.FAIL:
                codes = [o.code for o in outcome.observations if o.code]
                reason = codes[0] if details and codes else "reason withheld"
                lines.append(f"[-]{outcome.name} failed: {reason}")
            else:  # warn still serves: kube-apiserver knows ok and failed only
                lines.append(f"[+]{outcome.name} ok")
        missing = sorted(unmatched)
        if missing:
            quoted = ",".join(f'"{name}"' for name in missing)
            lines.append(f"warn: some health checks cannot be excluded: no matches for {quoted}")
    lines.append(f"{group} check {'passed' if passed else 'failed'}")
    return "\n".join(lines) + "\n"
