"""Time in one place: durations and times as people write them, times as the output writes
them, and the clock the scheduler reads (a real one, or a test's).

Models hold aware ``datetime`` values in UTC; they become text only at the edge (JSON,
reports, the store) through ``utc_iso``, one shape everywhere: ``2026-11-28T19:21:30.123Z``.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import re
from typing import Protocol

from faultfinder.errors import UsageError

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = datetime.timedelta(milliseconds=1)

MAX_DURATION = 366 * 86400.0  # seconds: a year is longer than anything faultfinder waits for
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_AGO = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)\s*$")
# 2024-05-01, 2024-05-01T12:00, 2024-05-01 12:00:00.5 +02:00, …Z / UTC / GMT
_WHEN = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<clock>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?))?"
    r" ?(?P<zone>Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2})?$"
)


def now() -> datetime.datetime:
    """The current time, aware, in UTC."""
    return datetime.datetime.now(UTC)


def utc_iso(moment: datetime.datetime) -> str:
    """UTC with milliseconds and a ``Z``: how every time is written in the output (a naive
    time is taken as UTC already)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_seconds(moment: datetime.datetime) -> str:
    """``2026-11-28T19:21:30Z``: a certificate's validity, which X.509 keeps in whole seconds."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_ms(moment: datetime.datetime) -> int:
    """Milliseconds since the epoch: how the history store keeps a time."""
    return (moment - EPOCH) // _MILLISECOND


def from_ms(value: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(milliseconds=value)


def now_ms() -> datetime.datetime:
    """Now, to the millisecond the store keeps, so memory and history agree exactly."""
    return from_ms(to_ms(now()))


def parse_duration(value: object) -> float:
    """``250ms``, ``3s``, ``1m``, ``2h``, ``7d`` or a bare number of seconds → seconds: finite,
    greater than zero, and at most ``MAX_DURATION`` (a year)."""
    if isinstance(value, bool):
        raise ValueError("a duration like 250ms, 3s or 1m")
    try:
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := _DURATION.match(value[:64])):
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        else:  # a secret substituted here is masked where the error is reported (config)
            shown = repr(value)[:40]
            raise ValueError(f"{shown} is not a duration like 250ms, 3s or 1m")
    except OverflowError:  # a 400-digit number
        seconds = math.inf
    if math.isnan(seconds) or seconds <= 0:
        raise ValueError("a duration must be a number greater than zero")
    if seconds > MAX_DURATION:
        raise ValueError("a duration must be at most a year (366d)")
    return seconds


def parse_when(value: str, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """``--since``/``--until``: a time, a date, or a duration ago (``15m``, ``2h``, ``1d``).

    A time without a zone is in the machine's local zone, as ``journalctl --since`` reads it.
    """
    now = now or datetime.datetime.now(UTC)
    ago = _AGO.match(value)
    if ago:
        seconds = float(ago.group(1)) * _UNIT_SECONDS[ago.group(2)]
        return now - datetime.timedelta(seconds=seconds)
    match = _WHEN.match(value.strip())
    when = _from_match(match) if match else None
    if when is None:
        raise UsageError(
            f"not a time: {value!r} (give 2024-05-01T12:00:00Z, 2024-05-01, or 15m, 2h, 1d ago)"
        )
    return when


def _from_match(match: re.Match[str]) -> datetime.datetime | None:
    clock = (match.group("clock") or "00:00").replace(",", ".")
    if clock.count(":") == 1:
        clock += ":00"
    try:
        naive = datetime.datetime.fromisoformat(f"{match.group('date')}T{clock}")
    except ValueError:  # 2024-13-45: numbers that looked like a date
        return None
    zone = match.group("zone")
    if zone is None:
        return naive.astimezone()  # the machine's zone
    if zone in ("Z", "UTC", "GMT"):
        return naive.replace(tzinfo=UTC)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (naive - sign * offset).replace(tzinfo=UTC)


class Clock(Protocol):
    """A monotonic clock in seconds and a way to wait on it (the scheduler's; tests inject one)."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock: what every front end schedules on."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
