"""The human view of a diagnosis: a row per component with its ladder, then the verdict."""

from __future__ import annotations

import io

from rich.console import Group
from rich.table import Table
from rich.text import Text

from faultfinder import terminal
from faultfinder.diagnosis import narrative
from faultfinder.faults import FAULTS
from faultfinder.model import ComponentReport, Diagnosis, Status
from faultfinder.redact import INLINE, Redactor

_STATUS_STYLE = {Status.HEALTHY: "green", Status.DEGRADED: "yellow", Status.DOWN: "red"}


def _ladder(report: ComponentReport) -> Text:
    if report.result.steps:
        return _steps(report)
    text = Text()
    for index, phase in enumerate(report.result.phases):
        if index:
            text.append(" → ", style="dim")
        style = "green" if phase.ok else "bold red"
        text.append(f"{phase.layer} {phase.ms:.0f}ms", style=style)
    return text


def _steps(report: ComponentReport) -> Text:
    """A flow's ladder is its steps: each green, red, or dim when it did not run."""
    text = Text()
    for index, step in enumerate(report.result.steps):
        if index:
            text.append(" → ", style="dim")
        label = f"{'cleanup ' if step.cleanup else ''}{step.name}"
        if step.result is None:
            text.append(f"{label} –", style="dim")
        else:
            style = "green" if step.ok else "bold red"
            text.append(f"{label} {step.result.duration_ms:.0f}ms", style=style)
    return text


def _detail(report: ComponentReport) -> str:
    result = report.result
    if report.vantages:  # diagnose --prometheus: which agents see what
        return _vantages(report)
    if report.symptom_of:
        own = result.failed_phase.detail if result.failed_phase else ""
        return f"symptom of {', '.join(report.symptom_of)}" + (f" — {own}" if own else "")
    failed = result.failed_phase
    if failed is not None:
        return failed.detail
    if result.warning:
        return result.evidence[-1] if result.evidence else result.warning
    return "; ".join(report.notes)


def _vantages(report: ComponentReport) -> str:
    failing = [f"{v.agent} ({v.code})" for v in report.vantages if v.code is not None]
    fine = [v.agent for v in report.vantages if v.code is None]
    parts = [f"fails from {', '.join(failing)}"] if failing else []
    parts += [f"fine from {', '.join(fine)}"] if fine else []
    return "; ".join(parts)


def story_texts(told: list[narrative.Line], status: Status | None = None) -> list[Text]:
    """The story as styled lines; the headline after the status word, when one is given."""
    texts: list[Text] = []
    for line in narrative.marked(told):
        text = Text()
        if line.kind == narrative.HEADLINE and status is not None:
            text.append(f"{status.value.upper()}  ", style=_STATUS_STYLE[status])
        text.append(line.text, style=narrative.STYLES.get(line.kind, ""))
        texts.append(text)
    return texts


def build(diagnosis: Diagnosis) -> Group:
    table = Table(
        title=f"faultfinder diagnose: {diagnosis.stack}", title_justify="left", expand=False
    )
    for column in ("component", "status", "ladder", "code", "owner", "detail"):
        table.add_column(column, overflow="fold")
    for report in diagnosis.components:
        code = report.code or report.result.warning or ""
        owner = FAULTS[code].owner if code in FAULTS else ""
        table.add_row(
            report.result.component,
            Text(report.status.value, style=_STATUS_STYLE[report.status]),
            _ladder(report),
            code,
            owner,
            _detail(report),
        )
    lines: list[Text | Table] = [table]
    story = narrative.lines(narrative.Story.of(diagnosis))
    lines.extend(story_texts(story, diagnosis.status))
    return Group(*lines)


def render_text(
    diagnosis: Diagnosis, redactor: Redactor = INLINE, width: int = 120, color: bool = False
) -> str:
    console = terminal.console(
        width=width, record=True, force_terminal=color, no_color=not color, file=io.StringIO()
    )
    # Redact before rendering too: the table wraps long cells, which can split a secret.
    console.print(build(redactor.document(diagnosis)))
    return redactor(console.export_text(styles=color))
