"""Timestamps in log lines → aware datetimes (a time on the command line: ``clock.parse_when``).

A time without a zone is taken in the machine's local zone, as ``journalctl --since`` and
nginx's error.log do; everything is reported in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from faultfinder.clock import utc_iso

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ZONE = r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2}|UTC|GMT)?"
# The shapes a line starts with, tried in order on its first characters.
_LEADING = (
    # ISO 8601 / RFC 3339 (CRI, Python logging, PostgreSQL, gunicorn "[2025-08-19 20:57:37 +0000]")
    re.compile(
        r"\[?(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[T ]"
        r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
        r"(?:[.,](?P<fraction>[0-9]+))? ?" + _ZONE + r"\]?"
    ),
    # nginx error.log: 2024/05/01 12:00:00
    re.compile(
        r"(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/(?P<day>[0-9]{2}) "
        r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    ),
    # redis-server: 1234:M 01 May 2024 12:00:00.123
    re.compile(
        r"[0-9]+:[A-Z] (?P<day>[0-9]{2}) (?P<month_name>[A-Za-z]{3}) (?P<year>[0-9]{4}) "
        r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    ),
    # syslog: May  1 12:00:00 (no year: the latest such time not in the future)
    re.compile(
        r"(?P<month_name>[A-Za-z]{3}) +(?P<day>[0-9]{1,2}) "
        r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    ),
)


# What every shape above starts with: most messages fail this one test instead of four.
_MAYBE_LEADING = re.compile(r"\[?[0-9]|[A-Za-z]{3} +[0-9]")


@lru_cache(maxsize=8)
def _first_leading(text: str) -> re.Match[str] | None:
    """The first shape ``text`` starts with; remembered, as the scanner's cheap look at a line
    (``without_time``) and its parse (``leading_time``) ask about the same text."""
    if not _MAYBE_LEADING.match(text):
        return None
    for pattern in _LEADING:
        match = pattern.match(text)
        if match:
            return match
    return None


def leading_time(text: str, exact: datetime | None = None) -> tuple[datetime | None, str]:
    """The time a line starts with, and the line without it (the message).

    ``exact`` is the time a wrapper gave the line (a container runtime's, with its zone): it
    stands in for a line without a time, and for a time without a zone, which is only a guess
    in this machine's zone; a line's own time with a zone is kept."""
    first = _first_leading(text)
    if first is None:
        return exact, text
    for pattern in _LEADING[_LEADING.index(first.re) :]:
        match = first if pattern is first.re else pattern.match(text)
        if match:
            when = _from_parts(match)
            if when is not None:
                if exact is not None and not match.groupdict().get("zone"):
                    when = exact
                return when, text[match.end() :].lstrip(" \t:-|")
    return exact, text


# ``leading_time``'s first shape on raw bytes: what the scanner tests a hit line with.
LEADING_ISO_BYTES = re.compile(_LEADING[0].pattern.encode())


def leading_iso_time(text: str) -> datetime | None:
    """The time ``text`` starts with in ``leading_time``'s first shape (ISO 8601), or None."""
    match = _LEADING[0].match(text)
    return _from_parts(match) if match else None


def without_time(text: str) -> str:
    """The line without a leading time: ``leading_time``'s message, without building the time
    (the scanner's cheap look at a line it will most likely drop)."""
    match = _first_leading(text)
    return text if match is None else text[match.end() :].lstrip(" \t:-|")


def parse_timestamp(value: object) -> datetime | None:
    """A timestamp field's value (RFC 3339 text, or seconds since the epoch) → datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e14:  # microseconds or nanoseconds since the epoch
            seconds /= 1e6 if seconds < 1e17 else 1e9
        elif seconds > 1e11:  # milliseconds (JavaScript's Date.now())
            seconds /= 1e3
        return _from_epoch(seconds)
    if isinstance(value, str):
        match = _LEADING[0].match(value.strip())
        return _from_parts(match) if match else None
    return None


def from_microseconds(value: object) -> datetime | None:
    """journald's ``__REALTIME_TIMESTAMP``: microseconds since the epoch, as text."""
    try:
        return _from_epoch(int(str(value)) / 1e6)
    except ValueError:
        return None


def minute_of(when: datetime) -> str:
    """The UTC minute a time falls in, as the timeline's key: ``2024-05-01T12:00Z``."""
    if when.tzinfo is UTC:  # most times: the key is remembered per minute (formatting is slow)
        return _utc_minute(when.replace(second=0, microsecond=0))
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@lru_cache(maxsize=4096)
def _utc_minute(minute: datetime) -> str:
    return minute.strftime("%Y-%m-%dT%H:%MZ")


def iso(when: datetime | None) -> str | None:
    """UTC, milliseconds, ``Z``: how every time is written in the output."""
    if when is None:
        return None
    return utc_iso(when)


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_parts(match: re.Match[str]) -> datetime | None:
    shape = match.re.groupindex
    if "month" not in shape:  # a month's name, or no year: read in full
        return _from_fields(match.groupdict())
    # Lines share their second: the text from the year to the second (and the zone) is
    # remembered, the fraction added to it (a zone's offset is whole minutes, so the fraction
    # is the same in UTC).
    zone = match.group("zone") if "zone" in shape else None
    key = (match.string[match.start("year") : match.end("second")], zone)
    if key in _WHOLE_SECONDS:
        whole = _WHOLE_SECONDS[key]
    else:
        whole = _from_fields({**match.groupdict(), "fraction": None})
        if len(_WHOLE_SECONDS) >= 4096:
            _WHOLE_SECONDS.clear()
        _WHOLE_SECONDS[key] = whole
    fraction = match.group("fraction") if "fraction" in shape else None
    if whole is None or not fraction:
        return whole
    return whole.replace(microsecond=int(fraction[:6].ljust(6, "0")))


_WHOLE_SECONDS: dict[tuple[str, str | None], datetime | None] = {}


def _from_fields(parts: dict[str, Any]) -> datetime | None:
    try:
        if parts.get("month_name"):
            month = _MONTHS.get(parts["month_name"].lower())
            if month is None:
                return None
        else:
            month = int(parts["month"])
        fraction = (parts.get("fraction") or "0")[:6].ljust(6, "0")
        year = int(parts["year"]) if parts.get("year") else datetime.now().year
        when = datetime(
            year,
            month,
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"]),
            int(fraction),
        )
    except ValueError:  # 2024-13-45: a number that looked like a date
        return None
    zone = parts.get("zone")
    if zone in ("Z", "UTC", "GMT"):
        return when.replace(tzinfo=UTC)
    if zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (when - sign * offset).replace(tzinfo=UTC)
    local = when.astimezone()  # naive: the machine's zone
    if not parts.get("year") and local > datetime.now(UTC) + timedelta(days=1):
        local = local.replace(year=local.year - 1)  # syslog in January reading December
    return local
