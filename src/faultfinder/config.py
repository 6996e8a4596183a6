"""Stack file → typed, validated model; every error names file:line:key (CONTRACT §1)."""

from __future__ import annotations

import base64
import os
import re
import shlex
import ssl
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from faultfinder import _yaml
from faultfinder.errors import ConfigError

SCHEMES = {
    "http": "http",
    "https": "https",
    "ws": "ws",
    "wss": "wss",
    "tcp": "tcp",
    "tls": "tls",
    "dns": "dns",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "redis": "redis",
    "rediss": "rediss",
}
DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "tls": 443,
    "postgresql": 5432,
    "redis": 6379,
    "rediss": 6379,
}
SECRET_NAME = re.compile(r"pass|secret|token|key|auth|credential|pwd", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_duration(value: object) -> float:
    """``250ms``, ``3s``, ``1m``, ``2h``, ``7d`` or a bare number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration like 250ms, 3s or 1m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration like 250ms, 3s or 1m")
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsOptions(_Strict):
    ca: str | None = None  # a PEM bundle to trust instead of the system store
    min_days_left: int = 14  # fewer days left than this warns tls.expiring_soon
    server_name: str | None = None  # SNI and the name to verify, when the URL holds an address

    @field_validator("ca")
    @classmethod
    def _loadable(cls, value: str | None) -> str | None:
        """A bundle that cannot be loaded is the stack file's error, not every handshake's."""
        if value is not None:
            try:
                ssl.create_default_context(cafile=value)
            except (OSError, ssl.SSLError) as error:
                raise ValueError(f"cannot load the CA bundle {value!r}: {_reason(error)}") from None
        return value


class Expect(_Strict):
    status: list[int] | None = None  # default: any 2xx/3xx
    body: str | None = None  # a substring the body must contain
    message: str | None = None  # WebSocket: a substring of the first message after `send`

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, int) else value


class Defaults(_Strict):
    timeout: Duration = 3.0
    tls: TlsOptions = TlsOptions()
    # watch (docs/watch.md): time between probes, and Gatus-style flap thresholds
    interval: Duration = 30.0
    failure_threshold: int = Field(default=3, ge=1)  # failures in a row before "down"
    success_threshold: int = Field(default=2, ge=1)  # successes in a row before "back up"


class ComponentSpec(_Strict):
    url: str
    expect: Expect = Expect()
    via: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    category: str | None = None
    critical: bool = False
    health: bool = False
    timeout: Duration | None = None
    tls: TlsOptions | None = None
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    send: str | None = None  # WebSocket: a text message to send after the upgrade
    write: bool = True  # Redis: also SET a short-lived key, so OOM/READONLY show
    interval: Duration | None = None  # watch: overrides defaults.interval
    failure_threshold: int | None = Field(default=None, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)


class TlsCriteria(_Strict):
    min_days_left: int | None = Field(default=None, ge=0)


class Criteria(_Strict):
    """What ``validate`` asks of a component; set for all, per category or per component."""

    consecutive: int | None = Field(default=None, ge=1)  # passes in a row
    p95_ms: float | None = Field(default=None, gt=0)  # over the repetitions
    max_ms: float | None = Field(default=None, gt=0)
    tls: TlsCriteria = TlsCriteria()


class ValidationSpec(Criteria):
    """The ``validation:`` section (docs/validation.md); the defaults are the incident's."""

    repetitions: int = Field(default=10, ge=1, le=100_000)
    interval: Duration = 1.0  # between the starts of one component's repetitions
    pass_rate: float = Field(default=0.8, ge=0, le=1)
    critical_categories: list[str] = Field(default_factory=list)
    log_absent: list[str] = Field(default_factory=list)  # fault codes; evaluated by a later issue
    categories: dict[str, Criteria] = Field(default_factory=dict)
    components: dict[str, Criteria] = Field(default_factory=dict)


class AlertSpec(_Strict):
    """One alert channel of ``watch`` (docs/watch.md): where state changes are sent."""

    type: Literal["webhook", "slack", "command"]
    url: str | None = None  # webhook, slack
    headers: dict[str, str] = Field(default_factory=dict)  # webhook
    command: list[str] | None = None  # command: argv, run without a shell
    resend: Duration | None = None  # while still down, send again this often
    send_resolved: bool = True
    components: list[str] | None = None  # only these components; default: all
    timeout: Duration = 10.0

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return shlex.split(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _target(self) -> AlertSpec:
        if self.type == "command" and not self.command:
            raise ValueError("a command alert needs `command`")
        if self.type != "command" and not self.url:
            raise ValueError(f"a {self.type} alert needs `url`")
        return self


class HistorySpec(_Strict):
    """Where ``watch`` keeps its history and for how long (docs/watch.md)."""

    store: str | None = None  # a path or sqlite:///path, or postgresql://…; default: by the file
    raw_retention: Duration = 2 * 86400.0  # older raw results are downsampled
    rollup: Duration = 3600.0  # the downsampled bucket
    retention: Duration = 90 * 86400.0  # older buckets and state changes are deleted


class LogsSpec(_Strict):
    """How ``faultfinder logs`` attributes lines (docs/logs.md): a label value (a Cloud Run
    service, a container, a systemd unit) or a log file's name → a component of the stack."""

    components: dict[str, str] = Field(default_factory=dict)


class StackSpec(_Strict):
    version: int = 1
    name: str = "stack"
    defaults: Defaults = Defaults()
    components: dict[str, ComponentSpec]
    validation: ValidationSpec = ValidationSpec()
    alerts: list[AlertSpec] = Field(default_factory=list)
    history: HistorySpec = HistorySpec()
    logs: LogsSpec = LogsSpec()

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only version 1 is known")
        return value


class Component(BaseModel):
    """One component, resolved: its kind, parsed URL, deadline and options."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: str
    url: str
    spec: ComponentSpec
    timeout: float
    tls: TlsOptions
    interval: float = 30.0
    failure_threshold: int = 3
    success_threshold: int = 2

    @property
    def parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def host(self) -> str:
        return self.parts.hostname or ""

    @property
    def port(self) -> int:
        return self.parts.port or DEFAULT_PORTS.get(self.kind, 0)

    @property
    def display_url(self) -> str:
        """The URL with its password and secret-looking query values masked."""
        return redact_url(self.url)

    @property
    def category(self) -> str:
        """Its ``category`` for ``validate``; without one, its kind (``redis``, ``https``)."""
        return self.spec.category or self.kind


class Stack(BaseModel):
    """A validated stack file."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    components: dict[str, Component]
    secrets: frozenset[str] = frozenset()
    validation: ValidationSpec = ValidationSpec()
    alerts: tuple[AlertSpec, ...] = ()
    history: HistorySpec = HistorySpec()
    logs: LogsSpec = LogsSpec()

    def component(self, name: str) -> Component:
        return self.components[name]


def redact_url(url: str) -> str:
    """Mask the password and any secret-looking query value of a URL."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:***@{host}"
    query = parts.query
    if query:
        query = "&".join(
            f"{key}=***" if SECRET_NAME.search(key) else f"{key}={value}" if value else key
            for key, value in parse_qsl(query, keep_blank_values=True)
        )
    return parts._replace(netloc=netloc, query=query).geturl()


def load_stack(path: str | Path, environ: dict[str, str] | None = None) -> Stack:
    """Read, substitute, validate and resolve a stack file; raises ``ConfigError``."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
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
    try:
        document = _yaml.load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"not valid YAML: {error.problem}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=file) from None
    if not isinstance(document, dict):
        raise ConfigError("a stack file is a mapping with a `components` key", file=file, line=1)
    secrets: set[str] = set()
    substituted = _substitute(document, (), file, document, environ, secrets)
    try:
        spec = StackSpec.model_validate(substituted)
    except ValidationError as error:
        raise _config_error(error, file, document) from None
    stack = _resolve(spec, file, document)
    found = secrets | _url_secrets(stack) | _watch_secrets(spec)
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


def _url_secrets(stack: Stack) -> set[str]:
    found: set[str] = set()
    for component in stack.components.values():
        parts = component.parts
        if parts.password:
            found.add(parts.password)
            found.add(_basic_credentials(parts))  # what an HTTP client sends from the URL
        found.update(
            value for key, value in parse_qsl(parts.query) if value and SECRET_NAME.search(key)
        )
        found.update(value for value in component.spec.headers.values() if value)
    return found


def _watch_secrets(spec: StackSpec) -> set[str]:
    """Alert targets and the history store carry credentials of their own."""
    found: set[str] = set()
    urls = [alert.url for alert in spec.alerts if alert.url] + [spec.history.store or ""]
    for url in urls:
        parts = urlsplit(url)
        if parts.password:
            found.add(parts.password)
        found.update(
            value for key, value in parse_qsl(parts.query) if value and SECRET_NAME.search(key)
        )
    for alert in spec.alerts:
        found.update(value for value in alert.headers.values() if value)
        if alert.type == "slack" and alert.url:
            # an incoming-webhook URL's path is its token
            found.add(urlsplit(alert.url).path.strip("/"))
    return found


def _basic_credentials(parts: SplitResult) -> str:
    """The value of ``Authorization: Basic …`` built from a URL's user-info."""
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return base64.b64encode(pair.encode()).decode("ascii")


def _resolve(spec: StackSpec, file: str, document: Any) -> Stack:
    components: dict[str, Component] = {}
    for name, component_spec in spec.components.items():
        path: tuple[str | int, ...] = ("components", name, "url")
        scheme = urlsplit(component_spec.url).scheme.lower()
        if scheme not in SCHEMES:
            raise ConfigError(
                f"unknown scheme {scheme or '(none)'!r}; known: {', '.join(sorted(SCHEMES))}",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path),
            )
        kind = SCHEMES[scheme]
        try:
            parts = urlsplit(component_spec.url)
            port = parts.port
        except ValueError as error:
            raise ConfigError(
                f"not a valid URL: {error}",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path),
            ) from None
        if not parts.hostname:
            raise ConfigError(
                "the URL has no host",
                file=file,
                line=_yaml.line_of(document, path),
                key=_dotted(path),
            )
        del port
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
    """A cycle in the depends_on/via graph as a list of names (first repeated last), or []."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str]:
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        if name in done:
            return []
        visiting.append(name)
        for target in edges.get(name, []):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(name)
        return []

    for name in sorted(edges):
        if cycle := visit(name):
            return cycle
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
