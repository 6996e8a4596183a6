"""Golden tests of the story every front end renders (issue 19), from real refused connections.

Each case closes real listeners on loopback, so the kernel refuses the connections and
faultfinder diagnoses them as it would in production. The wording in the goldens is Linux's:
include/uapi/asm-generic/errno.h, ``#define ECONNREFUSED 111 /* Connection refused */``, as
Python's OSError prints it ("[Errno 111] Connection refused"). The rendered text
(``diagnosis.narrative.text``) is compared with
tests/data/story/<case>.txt, ports replaced by PORT1, PORT2 … in the order they appear.
``FAULTFINDER_UPDATE_GOLDEN=1`` rewrites the files (read the diff before committing it).
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faultfinder import eventloop, parse_stack
from faultfinder.diagnosis import run_diagnosis
from faultfinder.diagnosis.narrative import Story, text
from faultfinder.diagnosis.story import SUMMARY_LIMIT
from faultfinder.model import Diagnosis
from faultfinder.report.handoff import render_handoff
from faultfinder.report.json import diagnosis_document
from tests.servers.common import StackWriter

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "story"
# lb, backend, docs, postgres, redis: the on-call engineer's five from the issue.
KINDS = {
    "lb": "http",
    "backend": "http",
    "docs": "http",
    "postgres": "postgresql",
    "redis": "redis",
}


def closed_port(host: str = "127.0.0.1") -> int:
    """A port whose listener was real and is closed: the kernel now refuses connections."""
    listener = socket.create_server((host, 0))
    port = int(listener.getsockname()[1])
    listener.close()
    return port


@pytest.fixture
def live_port() -> Iterator[int]:
    """A listener that stays open while the test runs: the kernel accepts (a healthy port)."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def url(name: str, host: str, port: int) -> str:
    path = {"http": "/", "postgresql": "/app", "redis": "/0"}[KINDS[name]]
    user = "app@" if KINDS[name] == "postgresql" else ""
    return f"{KINDS[name]}://{user}{host}:{port}{path}"


def diagnose(components: dict[str, str]) -> Diagnosis:
    lines = ["name: story", "components:"]
    lines += [f"  {name}: {{url: '{target}'}}" for name, target in components.items()]
    stack = parse_stack("\n".join(lines) + "\n", "story.yaml", {})
    return eventloop.run(run_diagnosis(stack))


def golden(case: str, diagnosis: Diagnosis) -> str:
    rendered = text(Story.of(diagnosis))
    ports: dict[str, str] = {}
    rendered = re.sub(
        r":(\d{4,5})\b", lambda m: ":" + ports.setdefault(m[1], f"PORT{len(ports) + 1}"), rendered
    )
    path = GOLDEN / f"{case}.txt"
    if os.environ.get("FAULTFINDER_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")
    assert len(diagnosis.verdict.summary) <= SUMMARY_LIMIT
    return rendered


def test_a_single_fault(live_port: int) -> None:
    diagnosis = diagnose(
        {"redis": url("redis", "127.0.0.1", closed_port()), "ok": f"tcp://127.0.0.1:{live_port}"}
    )
    rendered = golden("single", diagnosis)
    assert rendered.startswith("redis: nothing listens at that address and port (connect to")


def test_two_independent_faults(live_port: int) -> None:
    # Linux routes all of 127.0.0.0/8 to the loopback device: 127.0.0.2 is another host here.
    diagnosis = diagnose(
        {
            "postgres": url("postgres", "127.0.0.1", closed_port()),
            "redis": url("redis", "127.0.0.2", closed_port("127.0.0.2")),
            "ok": f"tcp://127.0.0.1:{live_port}",
        }
    )
    rendered = golden("two-independent", diagnosis)
    assert [group.members for group in diagnosis.groups] == [("postgres",), ("redis",)]
    assert rendered.startswith("2 independent causes: postgres: nothing listens")


def test_a_shared_cause_across_five_components(live_port: int) -> None:
    components = {name: url(name, "127.0.0.1", closed_port()) for name in KINDS}
    components["ok"] = f"tcp://127.0.0.1:{live_port}"  # one holds: no doubt about our footing
    diagnosis = diagnose(components)
    rendered = golden("shared-five", diagnosis)
    assert rendered.splitlines()[0] == (
        "5 components on 127.0.0.1 refuse connections: lb, backend, docs, postgres, redis"
    )
    assert len(diagnosis.root_causes) == 5  # every root cause is kept
    assert rendered.count("Next step:") == 1
    assert rendered.count("fix: ") == 1


def test_a_footing_doubt_leads() -> None:
    diagnosis = diagnose({name: url(name, "127.0.0.1", closed_port()) for name in KINDS})
    rendered = golden("footing-doubt", diagnosis)
    assert rendered.startswith(
        "Check this machine first: every component fails at DNS or TCP at once. Then: "
        "5 components on 127.0.0.1 refuse connections"
    )
    lines = rendered.splitlines()
    assert lines[2].startswith("footing in doubt: every component fails at DNS or TCP at once")


def test_the_hand_off_tells_a_shared_cause_once(live_port: int) -> None:
    components = {name: url(name, "127.0.0.1", closed_port()) for name in KINDS}
    components["ok"] = f"tcp://127.0.0.1:{live_port}"
    lines = ["name: story", "components:"]
    lines += [f"  {name}: {{url: '{target}'}}" for name, target in components.items()]
    stack = parse_stack("\n".join(lines) + "\n", "story.yaml", {})
    document = diagnosis_document(eventloop.run(run_diagnosis(stack)))
    handoff = render_handoff(stack, document)
    causes = handoff[handoff.index("## Root causes") : handoff.index("## Why")]
    assert causes.count("### ") == 1
    assert "### 1. 5 components on 127.0.0.1 refuse connections: lb, backend" in causes
    assert causes.count("Remediation:") == 1
    actions = handoff[handoff.index("## Action items") : handoff.index("## Success criteria")]
    assert actions.count("- [ ] ") == 1
    assert "**lb, backend, docs, postgres, redis** (`tcp.refused` on 127.0.0.1)" in actions


def test_validation_reports_name_a_shared_cause_once(
    run_cli: Any, write_stack: StackWriter, live_port: int, tmp_path: Path
) -> None:
    components: dict[str, Any] = {
        name: {"url": url(name, "127.0.0.1", closed_port())} for name in KINDS
    }
    components["ok"] = {"url": f"tcp://127.0.0.1:{live_port}"}
    stack = write_stack(components, validation={"interval": "20ms", "repetitions": 2})
    markdown, junit = tmp_path / "validation.md", tmp_path / "validation.xml"
    result = run_cli(
        "validate",
        str(stack),
        "--report",
        "markdown",
        "--out",
        str(markdown),
        "--report",
        "junit",
        "--out",
        str(junit),
    )
    assert result.status == 1, result.err
    text = markdown.read_text()
    section = text[text.index("## Causes") : text.index("## Categories")]
    assert section.count("### ") == 1
    assert (
        "### 1. 5 components on 127.0.0.1 refuse connections: lb, backend, docs, postgres, "
        "redis — tcp.refused, owner infrastructure, confidence 0.90 (in 2 of 2 "
        "repetitions)"
    ) in section
    assert section.count("Remediation:") == 1
    cases = ElementTree.parse(junit).getroot().findall("testsuite/testcase")
    failures = [
        case.find("failure")
        for case in cases
        if not (case.get("classname") or "").endswith(".criteria")
    ]
    failures = [failure for failure in failures if failure is not None]
    assert len(failures) == 10  # five components, two repetitions (criteria are apart)
    assert all(
        (failure.text or "").endswith(
            "shared cause: 5 components on 127.0.0.1 refuse connections: lb, backend, docs, "
            "postgres, redis"
        )
        for failure in failures
    )
