"""``/probe`` counts shared by ``serve --workers`` processes: a row of shared memory each.

A worker writes only its own row (one writer per row: no lock, and an aligned 8-byte store is
never seen half-written); the owner process sums the rows for ``/metrics``. A row outlives its
worker: the worker started in its place counts on from the same row, so the sums never go
backwards, whichever worker died.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import Metric

from faultfinder.serve.collector import probe_request_families

RESULTS = ("success", "failure")


class SharedProbeCounts:
    """Every worker's ``/probe`` counts; ``collect`` sums them (for the owner's registry)."""

    def __init__(self, modules: Sequence[str], rows: int, context: Any) -> None:
        """A row for each of ``rows`` writers; ``context``: the multiprocessing context the
        workers are started with."""
        self.modules = tuple(sorted(modules))
        self.width = len(self.modules) * len(RESULTS) + 2  # + rejected, + busy
        self.cells = context.RawArray("d", self.width * rows)
        self.rows = rows

    def writer(self, slot: int) -> WorkerProbeCounts:
        return WorkerProbeCounts(self, slot)

    def collect(self) -> Iterator[Metric]:
        totals = [0.0] * self.width
        for slot in range(self.rows):
            row = self.cells[slot * self.width : (slot + 1) * self.width]
            totals = [total + cell for total, cell in zip(totals, row, strict=True)]
        counts = {
            (module, result): totals[index * len(RESULTS) + offset]
            for index, module in enumerate(self.modules)
            for offset, result in enumerate(RESULTS)
            if totals[index * len(RESULTS) + offset]
        }
        yield from probe_request_families(counts, totals[-2], totals[-1])


class WorkerProbeCounts:
    """One worker's row: what its ``/probe`` endpoint counts (``ProbeRequests``' methods)."""

    def __init__(self, shared: SharedProbeCounts, slot: int) -> None:
        self.shared = shared
        self.start = slot * shared.width
        self.index = {module: i for i, module in enumerate(shared.modules)}

    def count(self, module: str, ok: bool) -> None:
        cell = self.start + self.index[module] * len(RESULTS) + (0 if ok else 1)
        self.shared.cells[cell] += 1

    def reject(self) -> None:
        self.shared.cells[self.start + self.shared.width - 2] += 1

    def refuse_busy(self) -> None:
        self.shared.cells[self.start + self.shared.width - 1] += 1

    def collect(self) -> Iterator[Metric]:
        return self.shared.collect()
