"""A flow as the stack file gives it → checked, with every step named (file:line:key errors).

Checked here, not at run time: step URLs' schemes, unique step names, JSON paths, and that
every ``{name}`` is a variable or a capture of an earlier step (cleanup steps may use any
step's capture: they skip when it was never captured).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from faultfinder import jsonpath
from faultfinder.config import _yaml
from faultfinder.config.spec import FlowSpec, StepSpec
from faultfinder.errors import ConfigError
from faultfinder.placeholders import references
from faultfinder.redact import SECRET_NAME, header_secrets
from faultfinder.schemes import URL_SCHEMES

Path = tuple[str | int, ...]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME_RULE = "a variable name is letters, digits and _, not starting with a digit"


def check_flow(name: str, flow: FlowSpec, file: str, document: Any) -> FlowSpec:
    """``flow`` with each step named (``step1``, ``cleanup1`` … when the file names none)."""
    base: Path = ("components", name, "flow")

    def fail(path: Path, reason: str) -> ConfigError:
        return ConfigError(
            reason,
            file=file,
            line=_yaml.line_of(document, path),
            key=".".join(str(part) for part in path),
        )

    for variable in flow.variables:
        if not _IDENTIFIER.match(variable):
            raise fail((*base, "variables", variable), _NAME_RULE)
    captured = {variable for step in flow.steps for variable in step.capture}
    available = set(flow.variables)
    names: set[str] = set()
    sections: dict[str, list[StepSpec]] = {"steps": [], "cleanup": []}
    for section, prefix in (("steps", "step"), ("cleanup", "cleanup")):
        for index, step in enumerate(getattr(flow, section)):
            path: Path = (*base, section, index)
            step_name = step.name or f"{prefix}{index + 1}"
            if step_name in names:
                raise fail((*path, "name"), f"another step is named {step_name!r}")
            names.add(step_name)
            _check_url(step.url, (*path, "url"), fail)
            usable = available if section == "steps" else set(flow.variables) | captured
            for key, value in templated(step):
                for variable in sorted(references(value) - usable):
                    raise fail(
                        (*path, *key),
                        f"{{{variable}}} is not a variable: set it in `variables` or `capture` "
                        "it in an earlier step",
                    )
            for key, json_path in _json_paths(step):
                try:
                    jsonpath.parse(json_path)
                except ValueError as error:
                    raise fail((*path, *key), str(error)) from None
            for variable in step.capture:
                if not _IDENTIFIER.match(variable):
                    raise fail((*path, "capture", variable), _NAME_RULE)
            if section == "steps":
                available |= set(step.capture)
            sections[section].append(step.model_copy(update={"name": step_name}))
    return flow.model_copy(update=sections)


def _check_url(url: str, path: Path, fail: Any) -> None:
    if any(ord(character) < 0x20 or character == "\x7f" for character in url):
        raise fail(path, "the URL holds a control character (a line break, a NUL)")
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 (a malformed bracketed address raises here)
    except ValueError as error:
        raise fail(path, f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        known = ", ".join(sorted(URL_SCHEMES))
        raise fail(path, f"unknown scheme {scheme or '(none)'!r}; known: {known}")
    if not parts.hostname and "{" not in parts.netloc:
        raise fail(path, "the URL has no host")


def templated(step: StepSpec) -> Iterator[tuple[Path, Any]]:
    """Every value of a step that may hold ``{name}``, with its key path."""
    yield ("url",), step.url
    for header, value in step.headers.items():
        yield ("headers", header), value
    yield ("body",), step.body
    yield ("json",), step.json_body
    yield ("send",), step.send
    yield ("command",), step.command
    yield ("query",), step.query
    expect = step.expect
    yield ("expect", "body"), expect.body
    yield ("expect", "message"), expect.message
    yield ("expect", "match"), expect.match
    for json_path, value in expect.json_paths.items():
        yield ("expect", "json", json_path), value


def _json_paths(step: StepSpec) -> Iterator[tuple[Path, str]]:
    for json_path in step.expect.json_paths:
        yield ("expect", "json", json_path), json_path
    for variable, json_path in step.capture.items():
        yield ("capture", variable), json_path


def flow_secrets(flow: FlowSpec) -> set[str]:
    """Values a flow's output must never show: secret-named variables, literal header values,
    and passwords in step URLs. (What a step captures is hidden at run time.)"""
    found = {value for name, value in flow.variables.items() if value and SECRET_NAME.search(name)}
    for step in [*flow.steps, *flow.cleanup]:
        for value in step.headers.values():
            if value and "{" not in value:
                found |= header_secrets(value)
        password = urlsplit(step.url).password
        if password and "{" not in password:
            found.add(password)
    return found
