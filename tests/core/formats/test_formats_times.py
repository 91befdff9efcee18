"""RFC 3339 times to Unix nanoseconds (formats.times), strictly, with and without its caches."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.formats import times
from auditlens.core.formats.times import parse_time_ns


def parsed(text: str) -> Any:
    try:
        return parse_time_ns(text)
    except ValueError:
        return "refused"


CACHES = (times._MINUTES, times._EPOCH_DAYS, times._RECENT)


def uncached(text: str) -> Any:
    saved = [dict(cache) for cache in CACHES]
    for cache in CACHES:
        cache.clear()
    try:
        return parsed(text)
    finally:
        for cache, kept in zip(CACHES, saved, strict=True):
            cache.clear()
            cache.update(kept)


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    for cache in CACHES:
        cache.clear()
    yield
    for cache in CACHES:
        cache.clear()


def reference(text: str) -> int:
    """The same time through datetime (microseconds) plus the nanosecond digits."""
    head, _, rest = text.partition(".")
    digits = rest.rstrip("Z")
    moment = datetime.fromisoformat(head + "+00:00")
    return int(moment.astimezone(UTC).timestamp()) * 1_000_000_000 + int(digits.ljust(9, "0"))


def test_millisecond_times_read_the_same_from_the_minute_cache() -> None:
    rng = random.Random(7)
    texts = []
    for _ in range(2000):
        day = rng.choice(["2026-03-04", "2024-02-29", "1970-01-01", "2099-12-31"])
        hour, minute = rng.randrange(24), rng.choice([0, 1, 59])
        texts.append(
            f"{day}T{hour:02d}:{minute:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
        )
    first = [parse_time_ns(t) for t in texts]
    assert times._MINUTES  # the minutes seen were kept
    again = [parse_time_ns(t) for t in texts]
    assert again == first == [reference(t) for t in texts]


def test_nanoseconds_and_offsets_are_kept() -> None:
    assert parse_time_ns("2026-03-02T08:00:00.123456789Z") == reference(
        "2026-03-02T08:00:00.123456789Z"
    )
    assert parse_time_ns("2026-03-02T09:00:00.5+01:00") == parse_time_ns("2026-03-02T08:00:00.5Z")
    assert parse_time_ns("2026-03-02T06:30:00-0130") == parse_time_ns("2026-03-02T08:00:00Z")
    assert parse_time_ns("2026-03-02 08:00:00Z") == parse_time_ns("2026-03-02T08:00:00Z")


@pytest.mark.parametrize(
    "bad",
    [
        "2026-03-02T99:00:00.000Z",  # an hour of 99 is not four days later
        "2026-03-02T08:60:00.000Z",
        "2026-03-02T08:00:60.000Z",  # a leap second has no Unix time
        "2026-03-02T08:00:99.000Z",
        "2026-02-30T08:00:00.000Z",
        "2026-13-02T08:00:00Z",
        "2026-03-02T08:00:00+24:00",
        "2026-W10-1T08:00:00Z",  # an ISO week date, which datetime would read
        "2026-03-02T08:00:00.0000000001Z",  # ten fraction digits
        " 2026-03-02T08:00:00Z",
        "2026-03-02T08:00Z",
    ],
)
def test_out_of_range_or_malformed_times_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_time_ns(bad)
    assert uncached(bad) == "refused"


@pytest.mark.parametrize(
    "odd",
    [
        "2026-03-04T10:00:0٣.527Z",  # an Arabic-Indic digit: not ASCII
        "2026-03-04T10:00:0².527Z",  # a digit to isdigit(), not to int()
        "2026-03-04T10:00:+6.527Z",
        "2026-03-04T10:00:06.5+7Z",
        "2026-03-04T10:00:06.52 Z",
        "2026-03-04T10:00:06,527Z",
        "2026-03-04T10:00:06.527z",
        "2026-03-04T10:00:6.5270Z",
        "2026-03-04T10:00:06.5_7Z",
        "2026-03-04T10:00:66.527Z",
        "2026-03-04T10:00:06Z",
        "2026-03-04T10:00:06.Z",
        "2026-03-04T10:00:06.123456789Z",
        "2026-03-04T10:00:06.1234567890Z",  # ten fraction digits
        "2026-03-04T10:00:06.12345678٣Z",
        "2026-03-04T10:00:06.1234+Z",
    ],
)
def test_odd_times_after_their_minute_was_cached_read_as_without_the_cache(odd: str) -> None:
    parse_time_ns("2026-03-04T10:00:01.000Z")  # caches the minute 10:00
    assert "2026-03-04T10:00:" in times._MINUTES
    assert parsed(odd) == uncached(odd)


def test_a_minute_is_not_cached_from_a_time_the_general_form_refuses() -> None:
    assert parsed("2026-03-04T10:00:06.5x7Z") == "refused"
    assert times._MINUTES == {}


def test_runtime_nanosecond_times_read_the_same_from_the_minute_cache() -> None:
    rng = random.Random(9)
    texts = []
    for _ in range(2000):
        digits = rng.randrange(1, 10)
        fraction = f".{rng.randrange(10**digits):0{digits}d}" if rng.random() < 0.9 else ""
        texts.append(f"2026-03-02T00:{rng.choice([4, 5]):02d}:{rng.randrange(60):02d}{fraction}Z")
    first = [parse_time_ns(t) for t in texts]
    assert set(times._MINUTES) == {"2026-03-02T00:04:", "2026-03-02T00:05:"}
    assert [parse_time_ns(t) for t in texts] == first == [uncached(t) for t in texts]
    assert first == [reference(t) if "." in t else reference(t[:-1] + ".0Z") for t in texts]


def test_a_time_read_again_is_answered_from_the_recent_texts_with_the_same_value() -> None:
    runtime, audit = "2026-03-02T00:04:28.017123456Z", "2026-03-02T00:04:28.015Z"
    first = (parse_time_ns(runtime), parse_time_ns(audit))
    assert {runtime: first[0], audit: first[1]} == times._RECENT
    times._MINUTES.clear()
    times._EPOCH_DAYS.clear()
    assert (parse_time_ns(runtime), parse_time_ns(audit)) == first  # no cache of minutes needed
    assert not times._MINUTES
    assert first == (reference(runtime), reference(audit))


def test_a_refused_time_is_not_kept_among_the_recent_texts() -> None:
    for _ in range(2):
        with pytest.raises(ValueError):
            parse_time_ns("2026-03-02T24:00:00Z")
    assert times._RECENT == {}


def test_the_recent_texts_stay_few() -> None:
    for second in range(40):
        parse_time_ns(f"2026-03-02T00:00:{second:02d}Z")
    assert 0 < len(times._RECENT) <= times._RECENT_KEPT


_RUNTIME_CHARS = "0123456789" * 4 + "٣²+-_.:Z z,"


@settings(max_examples=600, deadline=None)
@given(
    seconds=st.text(alphabet=_RUNTIME_CHARS, min_size=2, max_size=2),
    dot=st.sampled_from(".,:"),
    fraction=st.text(alphabet=_RUNTIME_CHARS, max_size=11),
    end=st.sampled_from("Zz+"),
)
def test_times_after_their_minute_was_cached_read_as_without_the_cache(
    seconds: str, dot: str, fraction: str, end: str
) -> None:
    # The cached minute's path reads the seconds and the fraction as one integer (the runtime's
    # 30 characters a path of their own): whatever stands in their places, whatever the length,
    # the answer is the general one.
    for cache in CACHES:
        cache.clear()
    parse_time_ns("2026-03-02T00:04:00.000000000Z")  # caches the minute 00:04
    assert "2026-03-02T00:04:" in times._MINUTES
    text = f"2026-03-02T00:04:{seconds}{dot if fraction else ''}{fraction}{end}"
    assert parsed(text) == uncached(text)
    if parsed(text) != "refused" and end == "Z":
        assert parsed(text) == reference(text if fraction else text[:-1] + ".0Z")
