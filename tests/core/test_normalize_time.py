"""Audit timestamps to Unix nanoseconds (normalize._time_ns), with and without its minute cache."""

from __future__ import annotations

import random
from typing import Any

import pytest

from auditlens.core.bundle.formats import parse_time_ns
from auditlens.core.store import normalize


def uncached(text: Any) -> int | None:
    saved = dict(normalize._MINUTES)
    normalize._MINUTES.clear()
    try:
        return normalize._time_ns(text)
    finally:
        normalize._MINUTES.clear()
        normalize._MINUTES.update(saved)


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    normalize._MINUTES.clear()
    yield
    normalize._MINUTES.clear()


def test_millisecond_times_read_the_same_from_the_minute_cache() -> None:
    rng = random.Random(7)
    texts = []
    for _ in range(2000):
        day = rng.choice(["2026-03-04", "2024-02-29", "1970-01-01", "2099-12-31"])
        hour, minute = rng.randrange(24), rng.choice([0, 1, 59])
        texts.append(
            f"{day}T{hour:02d}:{minute:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
        )
    first = [normalize._time_ns(t) for t in texts]
    assert normalize._MINUTES  # the minutes seen were kept
    again = [normalize._time_ns(t) for t in texts]
    assert again == first == [parse_time_ns(t) for t in texts]


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
    ],
)
def test_odd_times_after_their_minute_was_cached_read_as_without_the_cache(odd: str) -> None:
    normalize._time_ns("2026-03-04T10:00:01.000Z")  # caches the minute 10:00
    assert "2026-03-04T10:00:" in normalize._MINUTES
    assert normalize._time_ns(odd) == uncached(odd)


def test_a_minute_is_not_cached_from_a_time_the_general_form_refuses() -> None:
    assert normalize._time_ns("2026-03-04T10:00:06.5x7Z") is None
    assert normalize._MINUTES == {}
