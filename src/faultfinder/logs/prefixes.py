"""What container tools write in front of a container's own line, taken off so the line's time,
labels and message (plain or JSON) can be read through them.

- ``kubectl logs --prefix``: ``[pod/NAME/CONTAINER] `` (kubectl's ``addPrefixIfNeeded``,
  staging/src/k8s.io/kubectl/pkg/cmd/logs/logs.go);
- the CRI format kubelet keeps on the node: ``<RFC 3339 time> <stdout|stderr> <F|P> ``;
- ``docker logs -t`` and ``kubectl logs --timestamps``: an RFC 3339 time with nanoseconds and
  its zone, then a space (``2024-05-01T12:00:00.123456789Z ``).

They nest in that order (``kubectl logs --prefix --timestamps`` writes the pod, then the time,
which the API server put in front of the line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KUBECTL = re.compile(r"\[pod/([^/\]\s]+)/([^/\]\s]*)\] ")
_CRI = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T\S+) (stdout|stderr) ([FP]) ?")
# a zone is required: a time without one is the line's own (Python logging's "2024-05-01 …")
_STAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})) "
)
# The same on raw bytes: what the scanner tests a hit line with before decoding it.
STAMP_BYTES = re.compile(_STAMP.pattern.encode())


_DIGITS = tuple("0123456789")  # what a time (CRI's, docker's) starts with


@dataclass(frozen=True)
class Peeled:
    """A line without its tools' prefixes: the container's ``message``, the time a prefix gave
    it (as written; None without one) and the labels a prefix names."""

    message: str
    stamp: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def peel(text: str) -> Peeled:
    """``text`` without the prefixes container tools put in front of it."""
    labels: dict[str, str] = {}
    if not text.startswith(("[pod/", *_DIGITS)):  # most lines: no prefix can match
        return Peeled(text, None, labels)
    kubectl = _KUBECTL.match(text)
    if kubectl:
        labels["pod_name"] = kubectl.group(1)
        if kubectl.group(2):
            labels["container_name"] = kubectl.group(2)
        text = text[kubectl.end() :]
    if text[10:11] != "T":  # both shapes below are a date, then "T"
        return Peeled(text, None, labels)
    cri = _CRI.match(text)
    if cri:
        labels["stream"] = cri.group(2)
        return Peeled(text[cri.end() :], cri.group(1), labels)
    stamp = _STAMP.match(text)
    if stamp:
        return Peeled(text[stamp.end() :], stamp.group(1), labels)
    return Peeled(text, None, labels)
