"""The fields of a structured log entry that can carry its error, apart from its message.

A logger handed an exception writes it beside the message, and the message alone can say
"request failed" (at level info, even) while the error says "Connection refused". Where the
common loggers put it:

- pino and Bunyan: ``err`` = {``type``/``name``, ``message``, ``stack``} (pino-std-serializers'
  ``err``, Bunyan's ``stdSerializers.err``);
- zap and logrus: ``error`` (a string), zap adds ``errorVerbose`` and ``stacktrace``;
- structlog: ``exception`` (``format_exc_info``: the formatted traceback; ``dict_tracebacks``:
  a list of {``exc_type``, ``exc_value``, ``frames``}, the outermost exception first);
- python-json-logger: ``exc_info`` (the formatted traceback);
- ECS: ``error.type``, ``error.message``, ``error.stack_trace``, nested (ecs-logging-python) or
  as dotted keys (ecs-logging-java);
- loguru's ``serialize=True``: ``record.exception`` = {``type``, ``value``, ``traceback``};
- Cloud Logging: Error Reporting reads a jsonPayload's ``stack_trace`` and ``exception``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MAX_FIELDS = 8  # error strings kept per entry
MAX_CHARACTERS = 64 * 1024  # of each
MAX_DEPTH = 3  # an error's cause's cause
ERROR_KEYS = (
    "err",
    "error",
    "exception",
    "exc_info",
    "exc_text",
    "error.type",
    "error.message",
    "error.stack_trace",
    "errorVerbose",
    "stack_trace",
    "stacktrace",
    "stack",
)
# Within an error object: its class, its message, its trace, what caused it.
_TYPE_KEYS = ("type", "name", "exc_type", "kind", "class")
_TEXT_KEYS = ("message", "msg", "value", "exc_value", "reason", "detail", "description")
_TRACE_KEYS = ("stack", "stack_trace", "stacktrace", "traceback")
_CAUSE_KEYS = ("cause", "errorCauses", "causes")


def lookup(entry: Mapping[str, Any], key: str) -> Any:
    """``entry[key]``, where a dotted key (``log.level``) may also be written nested."""
    if key in entry:
        return entry[key]
    value: Any = entry
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def error_fields(entry: Mapping[str, Any], message: str) -> tuple[str, ...]:
    """The texts of ``entry``'s error fields, in ``ERROR_KEYS``' order, without the message
    and without repeats."""
    found: list[str] = []
    flat_ecs = isinstance(entry.get("error.type"), str) and isinstance(
        entry.get("error.message"), str
    )
    for key in ERROR_KEYS:
        if flat_ecs and key in ("error.type", "error.message"):
            if key == "error.type":  # "java.net.ConnectException: Connection refused"
                _keep(found, message, f"{entry['error.type']}: {entry['error.message']}")
            continue
        for text in _texts(entry.get(key), 0):
            _keep(found, message, text)
        if len(found) >= MAX_FIELDS:
            break
    return tuple(found[:MAX_FIELDS])


def _keep(found: list[str], message: str, text: str) -> None:
    text = text.strip()[:MAX_CHARACTERS]
    if text and text != message.strip() and text not in found:
        found.append(text)


def _texts(value: Any, depth: int) -> Iterator[str]:
    """The texts one error field holds: a string, an error object, a list of either."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping) and depth < MAX_DEPTH:
        yield from _error_object(value, depth)
    elif isinstance(value, list) and depth < MAX_DEPTH:
        if value and all(isinstance(item, str) for item in value):
            yield "\n".join(value)  # a stack as a list of lines
        else:
            for item in value[:MAX_FIELDS]:
                yield from _texts(item, depth + 1)


def _error_object(error: Mapping[str, Any], depth: int) -> Iterator[str]:
    kind = next((error[k] for k in _TYPE_KEYS if isinstance(error.get(k), str)), None)
    text = next((error[k] for k in _TEXT_KEYS if isinstance(error.get(k), str)), None)
    if text:
        yield f"{kind}: {text}" if kind and not text.startswith(kind) else text
    for key in _TRACE_KEYS:
        trace = error.get(key)
        if isinstance(trace, str | list):
            yield from _texts(trace, depth + 1)
    for key in _CAUSE_KEYS:
        if key in error:
            yield from _texts(error[key], depth + 1)
