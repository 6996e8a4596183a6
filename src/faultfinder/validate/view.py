"""The terminal view of a validation: progress while it runs, then a table per category.

Renders from the ``faultfinder.validation/v1`` document, like every other report.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from faultfinder import terminal
from faultfinder.model import CheckResult
from faultfinder.redact import INLINE, Redactor
from faultfinder.validate.criteria import percent
from faultfinder.validate.document import failure_line
from faultfinder.validate.repeat import Observer

STYLES = {"pass": "green", "fail": "bold red", "warn": "yellow", "not_evaluated": "dim"}
LABELS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_evaluated": "NOT EVALUATED"}


@contextmanager
def progress(total: int, console: Console | None = None) -> Iterator[Observer]:
    """A progress bar over every check while the run goes; yields the observer to feed it."""
    bar = Progress(
        TextColumn("validating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("checks, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("validate", total=total, failed=0)
    failed = 0

    def observe(component: str, repetition: int, result: CheckResult) -> None:
        nonlocal failed
        failed += not result.ok
        bar.update(task, advance=1, failed=failed)

    with bar:
        yield observe


def build(document: dict[str, Any]) -> Group:
    parts: list[Table | Text] = []
    components = {component["name"]: component for component in document["components"]}
    for category in document["categories"]:
        parts.append(_category_table(category, [components[n] for n in category["components"]]))
        for name in category["components"]:
            component = components[name]
            parts.extend(
                Text(f"  ✗ {failure_line(name, failure, component['checks'])}", style="red")
                for failure in component["failures"]
            )
    parts.append(_criteria_table(document["criteria"]))
    parts.append(_headline(document))
    parts.extend(Text(f"note: {note}", style="yellow") for note in document["notes"])
    sign_off = document.get("sign_off")
    if sign_off:
        parts.append(
            Text(f"signed off by {sign_off['by']} at {sign_off['at']}: {sign_off['result']}")
        )
    return Group(*parts)


def render_text(
    document: dict[str, Any], redactor: Redactor = INLINE, width: int = 120, color: bool = False
) -> str:
    console = terminal.console(
        width=width, record=True, force_terminal=color, no_color=not color, file=io.StringIO()
    )
    # Redacted before rendering too: the table wraps long cells, which can split a secret.
    console.print(build(redactor.document(document)))
    return redactor(console.export_text(styles=color))


def _category_table(category: dict[str, Any], components: list[dict[str, Any]]) -> Table:
    critical = "critical" if category["critical"] else "not critical"
    title = Text(f"{category['name']} ({critical}) ")
    title.append(_label(category["result"]))
    title.append(
        f"  {category['passes']}/{category['checks']} checks pass "
        f"({percent(category['pass_rate'])})"
    )
    table = Table(title=title, title_justify="left")
    for column in ("component", "checks", "passes", "pass rate", "p95 ms", "max ms", "streak"):
        table.add_column(column, justify="left" if column == "component" else "right")
    table.add_column("verdict")
    for component in components:
        table.add_row(
            component["name"],
            str(component["checks"]),
            str(component["passes"]),
            percent(component["pass_rate"]),
            f"{component['latency_ms']['p95']:.1f}",
            f"{component['latency_ms']['max']:.1f}",
            str(component["longest_streak"]),
            _label(component["result"]),
        )
    return table


def _criteria_table(criteria: list[dict[str, Any]]) -> Table:
    table = Table(title="criteria", title_justify="left")
    for column in ("criterion", "subject", "expected", "actual", "result"):
        table.add_column(column, overflow="fold")
    for criterion in criteria:
        table.add_row(
            criterion["name"],
            criterion["subject"],
            criterion["expected"],
            criterion["actual"],
            _label(criterion["result"]),
        )
    return table


def _headline(document: dict[str, Any]) -> Text:
    settings, totals = document["settings"], document["totals"]
    failed = sum(criterion["result"] == "fail" for criterion in document["criteria"])
    headline = _label(document["result"])
    headline.append(
        f"  {failed} of {len(document['criteria'])} criteria failed · "
        f"{totals['passes']}/{totals['checks']} checks pass ({percent(totals['pass_rate'])}) · "
        f"{settings['repetitions']} repetitions every {settings['interval_ms']:g} ms · "
        f"{document['duration_ms'] / 1000:.1f} s"
    )
    return headline


def _label(outcome: str) -> Text:
    return Text(LABELS.get(outcome, outcome), style=STYLES.get(outcome, ""))
