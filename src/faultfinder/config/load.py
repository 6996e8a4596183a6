"""Stack file → a validated, resolved ``Stack``; every error names file:line:key.

The file's shape is ``spec``; ``${NAME}`` references are filled from the environment here (and
the values that are secrets remembered), then the document is validated, each URL resolved to
its kind (``faultfinder.schemes``), and the graph and cross-references checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from faultfinder.config import _yaml
from faultfinder.config.flows import check_flow, flow_secrets
from faultfinder.config.spec import AlertSpec, ComponentSpec, LogsSpec, StackSpec, ValidationSpec
from faultfinder.config.stack import Component, Stack, socket_path
from faultfinder.errors import ConfigError
from faultfinder.redact import SECRET_NAME, Redactor, header_secrets, url_secrets
from faultfinder.schemes import URL_SCHEMES, kind_of_url_scheme
from faultfinder.schemes import scheme as scheme_of

MAX_FILE_CHARACTERS = 4 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in a URL: a NUL cuts a host name short in libc
CLIENT_SECRETS = ("PGPASSWORD",)  # read by a prober from the environment, never named in the file
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_stack(path: str | Path, environ: dict[str, str] | None = None) -> Stack:
    """Read, substitute, validate and resolve a stack file; raises ``ConfigError``."""
    file = str(path)
    try:
        with Path(path).open(encoding="utf-8") as stream:
            text = stream.read(MAX_FILE_CHARACTERS + 1)  # /dev/zero is a path too
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the stack file: {_reason(error)}", file=file) from None
    return parse_stack(text, file, os.environ if environ is None else environ)


def component_from_url(name: str, url: str, *, timeout: float = 3.0, **options: Any) -> Component:
    """One component from a URL outside a stack file, through the stack file's validation.

    ``options`` are a component's stack-file keys (``expect``, ``headers``, ``tls``, ``write``…);
    errors are ``ConfigError`` naming ``<name>`` and the key.
    """
    document = {"components": {name: {**options, "url": url, "timeout": timeout}}}
    try:
        stack = parse_stack(yaml.safe_dump(document), f"<{name}>", os.environ)
    except ConfigError as error:  # the line is of a document the caller never saw: drop it
        raise ConfigError(error.reason, file=error.file, key=error.key) from None
    return stack.components[name]


def parse_stack(text: str, file: str, environ: Any) -> Stack:
    """Validate stack-file text; ``file`` is only used to name errors."""
    if len(text) > MAX_FILE_CHARACTERS:
        raise ConfigError("larger than 4 MiB: no stack file is", file=file)
    try:
        document = _yaml.load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"not valid YAML: {error.problem}", file=file, line=line) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise ConfigError(f"not valid YAML: {error}", file=file) from None
    if not isinstance(document, dict):
        raise ConfigError("a stack file is a mapping with a `components` key", file=file, line=1)
    if _yaml.expanded(document) > _yaml.MAX_VALUES:
        raise ConfigError(
            f"holds more than {_yaml.MAX_VALUES:,} values once its YAML aliases are expanded",
            file=file,
            line=1,
        )
    secrets: set[str] = set()
    try:
        substituted = _substitute(document, (), file, document, environ, secrets)
        try:
            spec = StackSpec.model_validate(substituted)
        except ValidationError as error:
            raise _config_error(error, file, document) from None
        stack = _resolve(spec, file, document)
    except ConfigError as error:  # a value in the message may be a secret substituted here
        raise error.masked(Redactor(secrets)) from None
    found = secrets | _url_secrets(stack) | _watch_secrets(spec) | _client_secrets(environ)
    for component in stack.components.values():
        if component.spec.flow is not None:
            found |= flow_secrets(component.spec.flow)
    return stack.model_copy(update={"secrets": frozenset(found)})


def _substitute(
    node: Any,
    path: tuple[str | int, ...],
    file: str,
    document: Any,
    environ: Any,
    secrets: set[str],
) -> Any:
    """Replace ``${NAME}`` from the environment, keeping line information on the copy."""
    if isinstance(node, _yaml.LineDict):
        copy = _yaml.LineDict()
        copy.line, copy.lines = node.line, node.lines
        for key, value in node.items():
            copy[key] = _substitute(value, (*path, key), file, document, environ, secrets)
        return copy
    if isinstance(node, _yaml.LineList):
        items = _yaml.LineList()
        items.line, items.lines = node.line, node.lines
        items.extend(
            _substitute(value, (*path, index), file, document, environ, secrets)
            for index, value in enumerate(node)
        )
        return items
    if not isinstance(node, str) or "${" not in node:
        return node

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(
                f"environment variable {name} is not set",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path),
            )
        value = str(environ[name])
        if value and (SECRET_NAME.search(name) or _is_secret_position(path, node, match)):
            secrets.add(value)
        return value

    return _ENV_REFERENCE.sub(replace, node)


def _is_secret_position(path: tuple[str | int, ...], text: str, match: re.Match[str]) -> bool:
    """A reference in a header value or in a URL's user-info is a secret whatever its name."""
    if "headers" in path:
        return True
    before = text[: match.start()]
    return "://" in before and "@" in text[match.end() :] and "/" not in before.split("://", 1)[1]


def _client_secrets(environ: Any) -> set[str]:
    """What the client libraries read from the environment when a URL gives no password
    (libpq's ``PGPASSWORD``, which the PostgreSQL prober honours)."""
    return {value for name in CLIENT_SECRETS if (value := environ.get(name))}


def _url_secrets(stack: Stack) -> set[str]:
    found: set[str] = set()
    for component in stack.components.values():
        found |= url_secrets(component.parts)
        for value in component.spec.headers.values():
            found |= header_secrets(value) if value else set()
    return found


def _watch_secrets(spec: StackSpec) -> set[str]:
    """Alert targets and the history store carry credentials of their own."""
    found: set[str] = set()
    for url in [alert.url for alert in spec.alerts if alert.url] + [spec.history.store or ""]:
        found |= url_secrets(url)
    for alert in spec.alerts:
        for value in alert.headers.values():
            found |= header_secrets(value) if value else set()
        if alert.type == "slack" and alert.url:
            # an incoming-webhook URL's path is its token
            found.add(urlsplit(alert.url).path.strip("/"))
    return found


def _resolve(spec: StackSpec, file: str, document: Any) -> Stack:
    components: dict[str, Component] = {}
    for name, component_spec in spec.components.items():
        if component_spec.flow is not None:
            components[name] = _flow_component(name, component_spec, spec, file, document)
            continue
        assert component_spec.url is not None  # ComponentSpec requires url or flow
        path: tuple[str | int, ...] = ("components", name, "url")
        try:
            kind = _url_kind(component_spec.url)
        except ValueError as error:
            raise ConfigError(
                str(error), file=file, line=_yaml.line_of(document, path), key=_dotted(path)
            ) from None
        components[name] = Component(
            name=name,
            kind=kind,
            url=component_spec.url,
            spec=component_spec,
            timeout=component_spec.timeout or spec.defaults.timeout,
            tls=component_spec.tls or spec.defaults.tls,
            interval=component_spec.interval or spec.defaults.interval,
            failure_threshold=component_spec.failure_threshold or spec.defaults.failure_threshold,
            success_threshold=component_spec.success_threshold or spec.defaults.success_threshold,
        )
    _check_references(spec, file, document)
    _check_validation(spec.validation, components, file, document)
    _check_alerts(spec.alerts, components, file, document)
    _check_logs(spec.logs, components, file, document)
    return Stack(
        name=spec.name,
        path=file,
        components=components,
        validation=spec.validation,
        alerts=tuple(spec.alerts),
        history=spec.history,
        logs=spec.logs,
    )


def _url_kind(url: str) -> str:
    """The kind a component's URL names; ``ValueError`` says why it is no URL faultfinder can
    probe (an unknown scheme, a malformed address, no host, a port it cannot use)."""
    if _CONTROL.search(url):
        raise ValueError("the URL holds a control character (a line break, a NUL)")
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is no number, or out of range, raises here
        host = parts.hostname  # so does a bracketed address that is no IPv6 address
    except ValueError as error:
        raise ValueError(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    kind = kind_of_url_scheme(scheme)
    if kind is None:
        known = ", ".join(sorted(URL_SCHEMES))
        raise ValueError(f"unknown scheme {scheme or '(none)'!r}; known: {known}")
    socket = socket_path(kind, url)
    if not host and socket is None:
        raise ValueError("the URL has no host (nor a Unix socket path)")
    if port == 0:
        raise ValueError("port 0 is no port to connect to")
    needs_port = "tcp" in scheme_of(kind).rungs and scheme_of(kind).default_port is None
    if port is None and needs_port and socket is None:
        raise ValueError(f"a {kind}:// URL needs a port (tcp://host:PORT)")
    return kind


def _flow_component(
    name: str, component_spec: ComponentSpec, spec: StackSpec, file: str, document: Any
) -> Component:
    """A flow's component: kind ``flow``; its deadline, unless given, is its steps' together."""
    assert component_spec.flow is not None
    flow = check_flow(name, component_spec.flow, file, document)
    default = spec.defaults.timeout
    steps = [*flow.steps, *flow.cleanup]
    defaults = spec.defaults
    return Component(
        name=name,
        kind="flow",
        url=f"flow:{name}",
        spec=component_spec.model_copy(update={"flow": flow}),
        timeout=component_spec.timeout or sum(step.timeout or default for step in steps),
        tls=component_spec.tls or defaults.tls,
        interval=component_spec.interval or defaults.interval,
        failure_threshold=component_spec.failure_threshold or defaults.failure_threshold,
        success_threshold=component_spec.success_threshold or defaults.success_threshold,
    )


def _check_logs(logs: LogsSpec, components: dict[str, Component], file: str, document: Any) -> None:
    """Every component ``logs.components`` maps to must exist."""
    for label, name in logs.components.items():
        if name not in components:
            path: tuple[str | int, ...] = ("logs", "components", label)
            raise ConfigError(
                f"names no component: {name!r}",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path),
            )


def _check_alerts(
    alerts: list[AlertSpec], components: dict[str, Component], file: str, document: Any
) -> None:
    """Every component an alert channel names must exist."""
    for index, alert in enumerate(alerts):
        for position, name in enumerate(alert.components or ()):
            if name not in components:
                path: tuple[str | int, ...] = ("alerts", index, "components", position)
                raise ConfigError(
                    f"names no component: {name!r}",
                    file=file,
                    line=_yaml.line_of(document, path),
                    key=_dotted(path[:3]),
                )


def _check_validation(
    validation: ValidationSpec, components: dict[str, Component], file: str, document: Any
) -> None:
    """Every category and component the ``validation:`` section names must exist."""
    categories = {component.category for component in components.values()}
    wanted: list[tuple[str, set[str], tuple[str | int, ...]]] = []
    for index, name in enumerate(validation.critical_categories):
        wanted.append((name, categories, ("validation", "critical_categories", index)))
    for name in validation.categories:
        wanted.append((name, categories, ("validation", "categories", name)))
    for name in validation.components:
        wanted.append((name, set(components), ("validation", "components", name)))
    for name, known, path in wanted:
        if name not in known:
            what = "category" if known is categories else "component"
            raise ConfigError(
                f"names no {what}: {name!r}; known: {', '.join(sorted(known))}",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path[:2] if isinstance(path[2], int) else path),
            )


def _check_references(spec: StackSpec, file: str, document: Any) -> None:
    for name, component in spec.components.items():
        for key in ("depends_on", "via"):
            for index, target in enumerate(getattr(component, key)):
                path: tuple[str | int, ...] = ("components", name, key, index)
                if target not in spec.components:
                    raise ConfigError(
                        f"names no component: {target!r}",
                        file=file,
                        line=_yaml.line_of(document, path),
                        key=_dotted(("components", name, key)),
                    )
                if target == name:
                    raise ConfigError(
                        "a component cannot depend on itself",
                        file=file,
                        line=_yaml.line_of(document, path),
                        key=_dotted(("components", name, key)),
                    )
    cycle = _find_cycle(
        {
            name: [*component.depends_on, *component.via]
            for name, component in spec.components.items()
        }
    )
    if cycle:
        path = ("components", cycle[0])
        raise ConfigError(
            f"dependency cycle: {' -> '.join(cycle)}",
            file=file,
            line=_yaml.line_of(document, path),
            key=_dotted(path),
        )


def _find_cycle(edges: dict[str, list[str]]) -> list[str]:
    """A cycle in the depends_on/via graph as a list of names (first repeated last), or [].

    A walk with a stack of its own, not recursion: a chain of a thousand components is a
    stack file, not a crash."""
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        walks = [iter(edges.get(start, []))]
        while walks:
            target = next(walks[-1], None)
            if target is None:
                walks.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                walks.append(iter(edges.get(target, [])))
    return []


def _config_error(error: ValidationError, file: str, document: Any) -> ConfigError:
    first = error.errors()[0]
    location = tuple(first["loc"])
    # pydantic reports a failing union member as an extra path part; drop non-key parts.
    path = tuple(part for part in location if isinstance(part, int) or "[" not in str(part))
    line = _yaml.line_of(document, path)
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "required key is missing"
    else:
        message = _clean(first["msg"])
    return ConfigError(message, file=file, line=line, key=_dotted(path))


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)
