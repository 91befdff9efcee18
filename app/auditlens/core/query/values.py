"""Values of the filter language: times (in a time zone), integers, address blocks, patterns.

Every reader takes the value's text and its span in the query and raises
:class:`~auditlens.core.errors.QuerySyntaxError` at that span, so the filter bar underlines the
value as typed. Nothing here knows the grammar (:mod:`auditlens.core.query.parser` does).
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from auditlens.core.errors import QuerySyntaxError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# RE2 (DuckDB's regex engine) runs in linear time whatever the pattern, so the pattern's length
# is the only cost a person controls: RE2 compiles it to a program of about that size, per
# thread. 1,000 characters holds any hand-written pattern and a pasted alternation of a few
# dozen ids.
MAX_REGEX_LENGTH = 1000

_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2})(?::(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?)?"
    r"(?P<tz>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?"
)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DURATION = re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<unit>ns|us|µs|μs|ms|s|m|h)")
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_SECOND = 10**9


def parse_time(text: str, start: int, end: int, tz: tzinfo | None = None) -> tuple[int, int]:
    """Read an ISO-8601 date or time as ``(Unix nanoseconds, length of the period it names)``.

    ``2026-03-01`` is that day's midnight and names a day, ``2026-03-01T10:15`` names a minute,
    ``...T10:15:00.000000001`` a nanosecond. A time without an offset (``Z``, ``+02:00``) is a
    wall-clock time in ``tz`` (UTC when ``None``): ``2026-03-29`` in Europe/Berlin is the 23 hours
    from that day's local midnight to the next. A wall-clock time that a zone skips or repeats
    (a daylight-saving change) is read as its earlier reading (``fold=0``, as Python does).

    Raises:
        QuerySyntaxError: at ``start``-``end`` if it is not such a time or not representable.
    """
    m = _TIME.fullmatch(text)
    if m is None:
        raise QuerySyntaxError(
            start,
            end,
            f"'{text}' is not an ISO-8601 date or time "
            "(like 2026-03-01, 2026-03-01T10:15 or 2026-03-01T10:15:30.5+02:00)",
        )
    fraction = m["f"] or ""
    hour, minute, second = (int(m[g] or 0) for g in ("h", "mi", "s"))
    try:
        day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    except ValueError as e:
        raise QuerySyntaxError(start, end, f"'{text}' is not a valid date: {e}") from e
    if hour > 23 or minute > 59 or second > 59:
        raise QuerySyntaxError(start, end, f"'{text}' is not a valid time of day")
    zone: tzinfo = tz or UTC
    if m["tz"]:
        offset = timedelta(0)
        if m["sign"]:
            offset_hours, offset_minutes = int(m["oh"]), int(m["om"] or 0)
            if offset_hours > 23 or offset_minutes > 59:
                raise QuerySyntaxError(start, end, f"'{text}' has an invalid UTC offset")
            offset = timedelta(hours=offset_hours, minutes=offset_minutes)
            if m["sign"] == "-":
                offset = -offset
        zone = timezone(offset)
    if fraction:
        step = timedelta(microseconds=0)
        period_ns = 10 ** (9 - len(fraction))
    elif m["s"]:
        step, period_ns = timedelta(seconds=1), 0
    elif m["mi"]:
        step, period_ns = timedelta(minutes=1), 0
    elif m["h"]:
        step, period_ns = timedelta(hours=1), 0
    else:
        step, period_ns = timedelta(days=1), 0
    wall = datetime(day.year, day.month, day.day, hour, minute, second)
    try:
        first = _instant_ns(wall, zone)
        if step:
            # Through the zone again: a local day or hour across a daylight-saving change is not
            # 24 h or 1 h long.
            period_ns = _instant_ns(wall + step, zone) - first
    except (OverflowError, ValueError) as e:
        raise _out_of_range(text, start, end) from e
    nanos = first + int(fraction.ljust(9, "0"))
    if not INT64_MIN <= nanos <= INT64_MAX - period_ns:
        raise _out_of_range(text, start, end)
    return nanos, period_ns


def _instant_ns(wall: datetime, zone: tzinfo) -> int:
    """Unix nanoseconds of the wall-clock second ``wall`` in ``zone``, exactly (no float)."""
    local = wall.replace(tzinfo=zone)
    offset = local.utcoffset() or timedelta(0)
    delta = wall - _EPOCH.replace(tzinfo=None) - offset
    return (delta.days * 86_400 + delta.seconds) * _NS_PER_SECOND


def _out_of_range(text: str, start: int, end: int) -> QuerySyntaxError:
    return QuerySyntaxError(
        start, end, f"'{text}' is outside the range of nanosecond timestamps (years 1677 to 2262)"
    )


def parse_integer(text: str, start: int, end: int, *, units: bool = False) -> int:
    """Read a BIGINT value; with ``units``, also a duration like ``250ms`` or ``1.5s`` (in ns).

    Raises:
        QuerySyntaxError: at ``start``-``end`` if it is not such a value or overflows BIGINT.
    """
    if _INTEGER.fullmatch(text):
        value = int(text)
    elif units and (m := _DURATION.fullmatch(text)):
        exact = Decimal(m["n"]) * _UNIT_NS[m["unit"]]
        if exact != exact.to_integral_value():
            raise QuerySyntaxError(start, end, f"'{text}' is not a whole number of nanoseconds")
        value = int(exact)
    else:
        expected = "an integer or a duration like 250ms, 1.5s, 2m" if units else "an integer"
        raise QuerySyntaxError(start, end, f"'{text}' is not {expected}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise QuerySyntaxError(start, end, f"'{text}' does not fit in a 64-bit integer")
    return value


# --- address blocks -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Network:
    """An address block as the range of its addresses' sortable keys (see :func:`address_key`).

    Attributes:
        version: 4 or 6.
        low: key of the first address.
        high: key of the last address.
    """

    version: int
    low: str
    high: str


def address_key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """An address as fixed-width text whose order is the addresses' order.

    IPv4: four decimal octets of three digits (``010.020.001.016``); IPv6: eight groups of four
    lower-case hex digits. The compiled filter builds the same key from the stored text.
    """
    if address.version == 4:
        return ".".join(f"{int(octet):03d}" for octet in str(address).split("."))
    return address.exploded.lower()


def parse_network(text: str) -> Network | None:
    """Read ``198.51.100.0/24`` or ``2001:db8::/32`` (host bits may be set); ``None`` if not one.

    Only text with a ``/`` and a prefix length is an address block: a lone address stays a value
    compared as text.
    """
    if "/" not in text:
        return None
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return Network(
        network.version,
        address_key(network.network_address),
        address_key(network.broadcast_address),
    )


# --- regular expressions --------------------------------------------------------------------------

_checker: Any = None
_checker_lock = threading.Lock()


def check_regex(pattern: str, start: int, end: int) -> None:
    """Check that DuckDB's engine (RE2) accepts ``pattern``, so a bad one fails in the bar.

    RE2 is not Python's ``re`` (no look-around, no back-references): asking RE2 itself is the
    only faithful check. It runs on a private in-memory DuckDB connection, made once.

    Raises:
        QuerySyntaxError: at ``start``-``end`` if the pattern is too long or not valid RE2.
    """
    global _checker
    if len(pattern) > MAX_REGEX_LENGTH:
        raise QuerySyntaxError(
            start,
            end,
            f"the regular expression is longer than {MAX_REGEX_LENGTH} characters",
        )
    import duckdb

    with _checker_lock:
        if _checker is None:
            _checker = duckdb.connect(":memory:")
        try:
            _checker.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as e:
            reason = str(e).split(":", 1)[-1].strip()
            raise QuerySyntaxError(start, end, f"not a valid regular expression: {reason}") from e
