"""Times typed without an offset are read in the zone the examiner sees (issue 12, time zones)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from auditlens.core.query import filter_sql
from auditlens.core.store.queries import EventQuery

HOUR = 3_600 * 10**9
BERLIN = ZoneInfo("Europe/Berlin")


def bounds(text: str, tz: ZoneInfo | None) -> list[object]:
    return filter_sql(text, tz=tz)[1]


def test_a_time_without_offset_is_wall_time_in_the_zone() -> None:
    # 2026-03-02T09:00 in Berlin (UTC+1 in winter) is 08:00Z.
    assert bounds("time:2026-03-02T09", BERLIN) == [1_772_438_400 * 10**9, 1_772_442_000 * 10**9]
    assert bounds("time:2026-03-02T09", None) == [1_772_442_000 * 10**9, 1_772_445_600 * 10**9]


def test_a_written_offset_wins_over_the_zone() -> None:
    text = "time:2026-03-02T09:15:00.5+05:30"
    assert bounds(text, BERLIN) == bounds(text, None)


@pytest.mark.parametrize(
    ("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25), ("2026-03-02", 24)]
)
def test_a_day_spans_its_wall_clock_hours(day: str, hours: int) -> None:
    low, high = bounds(f"time:{day}", BERLIN)
    assert isinstance(low, int) and isinstance(high, int)
    assert high - low == hours * HOUR


def test_the_event_query_carries_the_zone() -> None:
    where_utc = EventQuery("time:2026-03-02T09").where()
    where_berlin = EventQuery("time:2026-03-02T09", tz=BERLIN).where()
    assert where_utc[0] == where_berlin[0]
    assert where_berlin[1] == [p - HOUR for p in where_utc[1]]  # type: ignore[operator]
