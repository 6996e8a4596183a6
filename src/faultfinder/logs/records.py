"""One log line (or one exported entry) → a ``Record``: its message, time, severity and labels.

The shape is recognised per line, so one stream may mix them:

- JSON objects: Google Cloud Logging's export (``textPayload``/``jsonPayload``, ``severity``,
  ``timestamp``, ``resource.labels``, a request log's ``httpRequest.status``), journald's
  ``journalctl -o json`` (``MESSAGE``, ``PRIORITY``, ``__REALTIME_TIMESTAMP``), Docker's
  json-file driver (``log``, ``stream``, ``time``), loguru's ``serialize=True`` (``record``), and
  any JSON-lines logger (``message``/``msg``, ``level``, ``time``…), with the fields that carry
  its error (``fields``);
- a container tool's prefix in front of the container's own line (``prefixes``: the CRI
  format, ``kubectl logs --prefix``, ``docker logs -t``), the line itself plain or JSON;
- plain text, with a leading time in one of the shapes ``times.leading_time`` knows.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from faultfinder.classify.signatures import ERROR_TEXT
from faultfinder.logs.fields import error_fields, lookup
from faultfinder.logs.prefixes import Peeled, peel
from faultfinder.logs.times import (
    from_microseconds,
    leading_iso_time,
    leading_time,
    parse_timestamp,
    without_time,
)

MAX_TEXT = 64 * 1024  # characters of a message kept; the rest of a huge line is dropped

SEVERITIES = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
ERROR_SEVERITIES = frozenset(("ERROR", "CRITICAL", "ALERT", "EMERGENCY"))
_SEVERITY_WORDS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "information": "INFO",
    "notice": "NOTICE",
    "log": "INFO",  # PostgreSQL's LOG:
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "err": "ERROR",
    "critical": "CRITICAL",
    "crit": "CRITICAL",
    "fatal": "CRITICAL",
    "panic": "EMERGENCY",
    "alert": "ALERT",
    "emerg": "EMERGENCY",
    "emergency": "EMERGENCY",
}
_JOURNALD_PRIORITIES = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO")
# pino and bunyan write levels as numbers
_NUMERIC_LEVELS = ((60, "CRITICAL"), (50, "ERROR"), (40, "WARNING"), (30, "INFO"), (0, "DEBUG"))
_LEVEL_IN_TEXT = re.compile(
    r"(?:^|[\s\[<(|])(TRACE|DEBUG|INFO|NOTICE|LOG|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL"
    r"|PANIC|ALERT|EMERG)(?:$|[\s\]>):|])",
    re.IGNORECASE,
)
# Kubernetes' node log paths name the pod, namespace and container.
_CONTAINER_LOG = re.compile(
    r"/containers/(?P<pod_name>[^_/]+)_(?P<namespace_name>[^_/]+)_(?P<container_name>.+)-[0-9a-f]{64}\.log"
    r"|/pods/(?P<namespace_name2>[^_/]+)_(?P<pod_name2>[^_/]+)_[^/]+/(?P<container_name2>[^/]+)/"
)
_POD_OF_DEPLOYMENT = re.compile(r"^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_MESSAGE_KEYS = ("message", "msg", "MESSAGE", "log", "textPayload", "text", "event", "error")
_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "asctime", "t")
_LEVEL_KEYS = ("severity", "level", "levelname", "log.level", "lvl", "loglevel")
_LABEL_KEYS = ("service", "component", "app", "logger", "container_name", "pod_name")
_LOGURU_TIME = ("time.timestamp", "time.repr")
_PAYLOADS = ("textPayload", "jsonPayload", "protoPayload")
_JOURNALD_LABELS = ("_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "_HOSTNAME", "_COMM")


@dataclass(frozen=True)
class Record:
    """One log entry: where it came from, its message, and what the log says about it."""

    source: str
    line: int  # 1-based line (or entry) number in the source
    text: str  # the message, without the leading time or the JSON around it
    time: datetime | None = None
    severity: str | None = None  # one of SEVERITIES
    labels: Mapping[str, str] = field(default_factory=dict)
    details: tuple[str, ...] = ()  # a structured entry's error fields, besides its message
    status: int | None = None  # a request log's HTTP status

    @property
    def is_error(self) -> bool:
        """Whether the record is an error: by its severity, or without one by its words (in
        its message or its error fields)."""
        if self.severity is None and self.details:
            return any(says_error(text, None) for text in (self.text, *self.details))
        return says_error(self.text, self.severity)

    @property
    def failed_request(self) -> bool:
        """A request log's entry for a request the server failed (5xx)."""
        return self.status is not None and 500 <= self.status <= 599


def parse_line(raw: bytes, source: str, line: int, path_labels: Mapping[str, str]) -> Record:
    """A raw line (without its newline) → its record, whatever its shape."""
    peeled = _peeled(raw)
    when = parse_timestamp(peeled.stamp) if peeled.stamp else None
    if peeled.stamp and when is None:  # a word shaped like a date, not a runtime's time
        peeled, when = Peeled(_decoded(raw)), None
    labels: Mapping[str, str] = path_labels
    if peeled.labels:
        labels = _with_workload({**path_labels, **peeled.labels})
    return _own_line(peeled.message, source, line, labels, when)


def plain_message(raw: bytes) -> str | None:
    """The message of a plain line, through its prefixes, cheaply (no time is built); None
    for a JSON line, whose message only a full parse can find."""
    if raw.lstrip()[:1] == b"{":
        return None
    message = _peeled(raw).message
    if message.lstrip()[:1] == "{":
        return None
    return without_time(message)


def stamped_plain(raw: bytes) -> tuple[bool, datetime | None]:
    """Whether ``raw`` is a runtime's time (``docker logs -t``, ``prefixes._STAMP``; or the CRI
    format's, its stream label then read from the rest) in front of a plain message: then its
    record's text, severity and labels depend only on the rest of the line, and its time on
    that stamp, unless the message's own time, with a zone, wins; that time comes second (None
    when the stamp's stands)."""
    peeled = _peeled(raw)
    if (
        peeled.stamp is None
        or parse_timestamp(peeled.stamp) is None
        or peeled.message.lstrip().startswith("{")
    ):
        return False, None
    when, _ = leading_time(peeled.message, _RUNTIME)
    return True, None if when is _RUNTIME else when


def own_timed_plain(raw: bytes) -> bool:
    """Whether ``raw`` is a plain line that starts with its own ISO 8601 time, read as such:
    then its record's text and severity depend only on the rest of the line after that time,
    and its time only on that time."""
    peeled = _peeled(raw)
    return (
        peeled.stamp is None
        and not peeled.labels
        and not peeled.message.lstrip().startswith("{")
        and leading_iso_time(peeled.message) is not None
    )


_RUNTIME = datetime(1, 1, 1, tzinfo=UTC)  # stands for a runtime's time: is it the one kept?


@lru_cache(maxsize=4)
def _peeled(raw: bytes) -> Peeled:
    """The line decoded and peeled; remembered, as the scanner's look at a line and its parse
    both need it (``Peeled`` is never changed by its readers)."""
    return peel(_decoded(raw))


def _decoded(raw: bytes) -> str:
    return raw[: MAX_TEXT * 4].decode("utf-8", "replace")[:MAX_TEXT].rstrip("\r")


def _own_line(
    text: str, source: str, line: int, labels: Mapping[str, str], when: datetime | None
) -> Record:
    """A container's (or any program's) own line, JSON or plain; ``when`` is the time a
    wrapper gave it."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            record = parse_entry(document, source, line, labels)
            if record.time is None and when is not None:
                return dataclasses.replace(record, time=when)
            return record
    return _plain(text, source, line, labels, when)


def says_error(message: str, severity: str | None) -> bool:
    """Whether a line no signature names is an error: its level says so or, with no level,
    its words do."""
    if severity is None:
        return bool(ERROR_TEXT.search(message))
    return severity in ERROR_SEVERITIES


def message_says_error(message: str) -> bool:
    return says_error(message, _severity_in_text(message))


def parse_entry(
    entry: Mapping[str, Any], source: str, line: int, path_labels: Mapping[str, str]
) -> Record:
    """A JSON log entry (Cloud Logging, journald, Docker, a JSON-lines logger) → its record."""
    if "__REALTIME_TIMESTAMP" in entry or "_SYSTEMD_UNIT" in entry:
        return _journald(entry, source, line)
    if "log" in entry and "stream" in entry and isinstance(entry["log"], str):
        # Docker's json-file driver: the container's own line, as written
        labels = {**path_labels, "stream": str(entry["stream"])}
        return _own_line(
            entry["log"].rstrip("\n"), source, line, labels, parse_timestamp(entry.get("time"))
        )
    if "logName" in entry or any(key in entry for key in _PAYLOADS):
        return _cloud_logging(entry, source, line)
    return _json_lines(entry, source, line, path_labels)


def path_labels(path: str) -> dict[str, str]:
    """Labels a source's path carries: Kubernetes' node log paths name the container."""
    labels = {"source": path.rsplit("/", 1)[-1]}
    match = _CONTAINER_LOG.search(path)
    if match:
        for key, value in match.groupdict().items():
            if value:
                labels[key.rstrip("2")] = value
    return _with_workload(labels)


def _with_workload(labels: dict[str, str]) -> dict[str, str]:
    """A Deployment's pod ``orders-7d9f8b6c5-x2x9q`` belongs to the workload ``orders``."""
    pod = labels.get("pod_name")
    match = _POD_OF_DEPLOYMENT.match(pod) if pod else None
    if match and "workload" not in labels:
        labels["workload"] = match.group(1)
    return labels


def _plain(
    text: str, source: str, line: int, labels: Mapping[str, str], when: datetime | None
) -> Record:
    own_time, message = leading_time(text, when)
    return Record(
        source=source,
        line=line,
        text=message,
        time=own_time,
        severity=_severity_in_text(message),
        labels=labels,
    )


def _severity_in_text(message: str) -> str | None:
    # The level sits near the start ("ERROR app: …", "[error] 12#0:", "FATAL:  …").
    match = _LEVEL_IN_TEXT.search(message[:80])
    return _SEVERITY_WORDS.get(match.group(1).lower()) if match else None


def _cloud_logging(entry: Mapping[str, Any], source: str, line: int) -> Record:
    labels: dict[str, str] = {"source": source.rsplit("/", 1)[-1]}
    resource = entry.get("resource")
    if isinstance(resource, dict):
        if isinstance(resource.get("type"), str):
            labels["resource_type"] = resource["type"]
        labels.update(_strings(resource.get("labels")))
    labels.update(_strings(entry.get("labels")))
    payload = entry.get("jsonPayload")
    subject = payload.get("involvedObject") if isinstance(payload, dict) else None
    if isinstance(subject, dict) and subject.get("kind") == "Pod":  # a Kubernetes event
        labels.setdefault("pod_name", str(subject.get("name", "")))
    _with_workload(labels)
    if isinstance(entry.get("logName"), str):
        labels["log_name"] = entry["logName"].rsplit("/", 1)[-1].replace("%2F", "/")
    if isinstance(payload, dict):
        text, details = _structured(payload)
    else:
        text, details = _cloud_logging_text(entry), ()
    when = parse_timestamp(entry.get("timestamp")) or parse_timestamp(entry.get("receiveTimestamp"))
    return Record(
        source=source,
        line=line,
        text=text,
        time=when,
        severity=_severity(entry.get("severity")),
        labels=labels,
        details=details,
        status=_status(entry.get("httpRequest")),
    )


def _status(request: object) -> int | None:
    """A request log's ``httpRequest.status`` (a number; a string of digits is read too)."""
    status = request.get("status") if isinstance(request, dict) else None
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _cloud_logging_text(entry: Mapping[str, Any]) -> str:
    """The message of an entry without a jsonPayload."""
    if "textPayload" in entry:
        return _text(entry["textPayload"])
    audit = entry.get("protoPayload")
    if isinstance(audit, dict):  # an audit log: its status says what failed
        status = audit.get("status")
        message = status.get("message") if isinstance(status, dict) else None
        method = audit.get("methodName", "")
        return f"{method}: {message}" if message else _text(audit)
    request = entry.get("httpRequest")
    if isinstance(request, dict):  # a request log: the request and its status
        parts = (request.get(key) for key in ("requestMethod", "requestUrl", "status"))
        return " ".join(str(part) for part in parts if part is not None)
    return _text(entry)


def _structured(payload: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """A structured payload's message and error fields. Without a message its error fields
    stand for it; without either, the whole payload, as JSON, is the message."""
    message = _message(payload)
    details = error_fields(payload, message or "")
    if message is None:
        return ("", details) if details else (_text(payload), ())
    return message, details


def _message(payload: Mapping[str, Any]) -> str | None:
    """A structured payload's message; a Kubernetes event's ``reason`` goes in front of it."""
    for key in _MESSAGE_KEYS:
        if key in payload and payload[key] not in (None, ""):
            message = _text(payload[key])
            reason = payload.get("reason")
            return f"{reason}: {message}" if isinstance(reason, str) and reason else message
    return None


def _journald(entry: Mapping[str, Any], source: str, line: int) -> Record:
    labels = {"source": source.rsplit("/", 1)[-1]}
    labels.update({key: value for key, value in _strings(entry).items() if key in _JOURNALD_LABELS})
    priority = entry.get("PRIORITY")
    severity = None
    if isinstance(priority, str) and priority.isdigit():
        severity = _JOURNALD_PRIORITIES[min(int(priority), 6)] if int(priority) < 7 else "DEBUG"
    _, message = leading_time(_text(entry.get("MESSAGE", "")))  # journald's own time is exact
    return Record(
        source=source,
        line=line,
        text=message,
        time=from_microseconds(entry.get("__REALTIME_TIMESTAMP")),
        severity=severity,
        labels=labels,
    )


def _json_lines(
    entry: Mapping[str, Any], source: str, line: int, path_labels: Mapping[str, str]
) -> Record:
    loguru = entry.get("record")
    if isinstance(loguru, dict) and isinstance(loguru.get("level"), dict):
        return _loguru(entry, loguru, source, line, path_labels)
    text, details = _structured(entry)
    when = next(
        (parse_timestamp(entry[key]) for key in _TIME_KEYS if entry.get(key) is not None), None
    )
    level = next((found for key in _LEVEL_KEYS if (found := lookup(entry, key)) is not None), None)
    labels = {**path_labels}
    labels.update({key: value for key, value in _strings(entry).items() if key in _LABEL_KEYS})
    return Record(
        source=source,
        line=line,
        text=text,
        time=when,
        severity=_severity(level),
        labels=labels,
        details=details,
    )


def _loguru(
    entry: Mapping[str, Any],
    record: Mapping[str, Any],
    source: str,
    line: int,
    path_labels: Mapping[str, str],
) -> Record:
    """loguru's ``serialize=True``: ``{"text": <the formatted line>, "record": {"message",
    "level": {"name"}, "time": {"timestamp"}, "exception": {"type", "value"}, "extra"…}}``.
    ``text`` holds the traceback when there is one, so it is an error field too."""
    text = _text(record.get("message", ""))
    when = next(
        (parse_timestamp(lookup(record, key)) for key in _LOGURU_TIME if lookup(record, key)),
        None,
    )
    labels = {**path_labels}
    labels.update(
        {key: value for key, value in _strings(record.get("extra")).items() if key in _LABEL_KEYS}
    )
    details = error_fields({"exception": record.get("exception"), "stack": entry.get("text")}, text)
    return Record(
        source=source,
        line=line,
        text=text,
        time=when,
        severity=_severity(lookup(record, "level.name")),
        labels=labels,
        details=details,
    )


def _severity(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return next(name for floor, name in _NUMERIC_LEVELS if value >= floor)
    if isinstance(value, str):
        return _SEVERITY_WORDS.get(value.strip().lower())
    return None


def _text(value: object) -> str:
    """A message field: text as it is; journald's byte arrays decoded; anything else as JSON."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list) and all(isinstance(item, int) and 0 <= item < 256 for item in value):
        return bytes(value).decode("utf-8", "replace")[:MAX_TEXT]
    return json.dumps(value, sort_keys=True, default=str)[:MAX_TEXT]


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, str)}
