"""The stack file's shape (docs/contract.md §1) as pydantic models; ``load`` reads it."""

from __future__ import annotations

import re
import shlex
import ssl
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from faultfinder.clock import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]


# RFC 9110: a method and a header name are tokens; a field value holds no control character
# but HTAB (a line break would end the header early: header injection). A value is never
# echoed: it may be a secret.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_problem(headers: dict[str, str]) -> str | None:
    """Why these headers cannot go into an HTTP request, or None when they can."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            return f"{name!r} is not a header name (letters, digits, -, no spaces)"
        if _CONTROL.search(value):
            return f"the value of header {name!r} holds a line break or another control character"
    return None


def _http_headers(headers: dict[str, str]) -> dict[str, str]:
    problem = header_problem(headers)
    if problem is not None:
        raise ValueError(problem)
    return headers


def _http_token(value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"{value!r} is not an HTTP method (letters, no spaces)")
    return value


HttpMethod = Annotated[str, AfterValidator(_http_token)]
HttpHeaders = Annotated[dict[str, str], AfterValidator(_http_headers)]


class _Strict(BaseModel):
    # NaN and infinity are no numbers a stack file means (a NaN compares false with every
    # bound, so `pass_rate: .nan` would pass `ge=0, le=1`).
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class TlsOptions(_Strict):
    ca: str | None = None  # a PEM bundle to trust instead of the system store
    min_days_left: int = Field(default=14, ge=0, le=36_500)  # fewer days left warn
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
    match: str | None = None  # a regular expression the answer (body, message, reply) must match
    # JSON paths ($.a.b[0].c; ``$`` is the whole document) → the value found there
    json_paths: dict[str, Any] = Field(default_factory=dict, alias="json")

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, int) else value


class Defaults(_Strict):
    timeout: Duration = 3.0
    tls: TlsOptions = TlsOptions()
    # watch (docs/watch.md): time between probes, and Gatus-style flap thresholds
    interval: Duration = 30.0
    failure_threshold: int = Field(default=3, ge=1, le=10_000)  # failures in a row: "down"
    success_threshold: int = Field(default=2, ge=1, le=10_000)  # successes in a row: "up"


class ComponentSpec(_Strict):
    url: str | None = None  # required, unless the component is a flow
    flow: FlowSpec | None = None  # a golden path of steps instead of one URL (docs/flows.md)
    expect: Expect = Expect()
    via: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    category: str | None = None
    critical: bool = False
    health: bool = False
    timeout: Duration | None = None
    tls: TlsOptions | None = None
    method: HttpMethod = "GET"
    headers: HttpHeaders = Field(default_factory=dict)
    body: str | None = None  # HTTP: a request body sent as it is
    json_body: Any = Field(default=None, alias="json")  # HTTP: a request body sent as JSON
    send: str | None = None  # WebSocket: a text message to send after the upgrade
    within: Duration | None = None  # WebSocket: the expected message comes within this
    write: bool = True  # Redis: also SET a short-lived key, so OOM/READONLY show
    command: list[str] | None = None  # Redis: a command to run after PING; its reply is checked
    query: str | None = None  # PostgreSQL: a query instead of SELECT 1; its first value is checked
    interval: Duration | None = None  # watch: overrides defaults.interval
    failure_threshold: int | None = Field(default=None, ge=1, le=10_000)
    success_threshold: int | None = Field(default=None, ge=1, le=10_000)
    # diagnose --platform (docs/platform.md): the names this component has on its platform
    # (a Cloud Run service, a Cloud SQL instance or connection name, a Kubernetes Service or
    # pod's app label, a Compose service), when its host or name does not say it
    platform: list[str] = Field(default_factory=list)

    @field_validator("platform", mode="before")
    @classmethod
    def _one_or_many_names(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _url_or_flow(self) -> ComponentSpec:
        if self.flow is None and self.url is None:
            raise ValueError("a component needs `url` (or `flow`)")
        if self.flow is not None:
            misplaced = (self.model_fields_set & set(StepSpec.model_fields)) - {"timeout", "tls"}
            if misplaced:
                names = sorted("json" if key == "json_body" else key for key in misplaced)
                keys = ", ".join(f"`{name}`" for name in names)
                raise ValueError(f"a flow takes {keys} in its steps, not beside `flow`")
        return self


class StepSpec(_Strict):
    """One step of a flow: a URL whose scheme says what it is, as a component's does."""

    name: str | None = None  # default: step1, step2 …
    url: str
    method: HttpMethod = "GET"
    headers: HttpHeaders = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    send: str | None = None
    within: Duration | None = None
    command: list[str] | None = None
    query: str | None = None
    expect: Expect = Expect()
    capture: dict[str, str] = Field(default_factory=dict)  # variable → JSON path in the answer
    timeout: Duration | None = None  # default: what is left of the flow's deadline
    tls: TlsOptions | None = None


class FlowSpec(_Strict):
    """A golden path: steps in order, sharing variables; cleanup steps always run."""

    variables: dict[str, str] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1)
    cleanup: list[StepSpec] = Field(default_factory=list)


class TlsCriteria(_Strict):
    min_days_left: int | None = Field(default=None, ge=0, le=36_500)


class Criteria(_Strict):
    """What ``validate`` asks of a component; set for all, per category or per component."""

    consecutive: int | None = Field(default=None, ge=1, le=100_000)  # passes in a row
    p95_ms: float | None = Field(default=None, gt=0, le=86_400_000)  # over the repetitions
    max_ms: float | None = Field(default=None, gt=0, le=86_400_000)
    tls: TlsCriteria = TlsCriteria()


class ValidationSpec(Criteria):
    """The ``validation:`` section (docs/validation.md); the defaults are the incident's."""

    repetitions: int = Field(default=10, ge=1, le=100_000)
    interval: Duration = 1.0  # between the starts of one component's repetitions
    pass_rate: float = Field(default=0.8, ge=0, le=1)
    critical_categories: list[str] = Field(default_factory=list)
    log_absent: list[str] = Field(default_factory=list)  # fault codes no log line may show
    categories: dict[str, Criteria] = Field(default_factory=dict)
    components: dict[str, Criteria] = Field(default_factory=dict)


class AlertSpec(_Strict):
    """One alert channel of ``watch`` (docs/watch.md): where state changes are sent."""

    type: Literal["webhook", "slack", "command"]
    url: str | None = None  # webhook, slack
    headers: HttpHeaders = Field(default_factory=dict)  # webhook
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


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)
