"""Metric data points over time, for the events view's metric chart (docs/case.md, Metrics).

A data point is an event of kind ``metric`` named after its metric (formats/otlp_metrics.py).
These reads serve a chart of one metric over a time range: the names the case holds, and the
points of one name within ``[from, to)`` in time order, each with its value and its series.

Invariants:

* A point's plotted value is its ``metric.value`` (gauge, sum), else its ``metric.count``
  (histogram, exponential histogram, summary: how many measurements it aggregates); a point
  with neither is returned with ``value`` None (counted, not drawn).
* A point's series is its attributes other than the ``metric.*`` ones (the point's and its
  resource's), as sorted compact JSON: the points of one series are one line of the chart.
* The events filter does not apply: a metric is chosen by name, the range is the chart's.
* At most :data:`MAX_POINTS` points are returned, the first in time order; ``truncated``
  says when more were in the range (the count is always the whole range's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from auditlens.core.store.case import Case

MAX_POINTS = 100_000  # points drawn per chart: about a hundred per pixel column already
_decode = msgspec.json.decode


@dataclass(frozen=True)
class MetricName:
    """A metric the case holds data points of."""

    name: str
    points: int
    unit: str


@dataclass(frozen=True)
class MetricPoint:
    """One data point of a metric on the chart."""

    time_ns: int
    value: int | float | None
    series: str  # the point's attributes other than metric.*, sorted compact JSON


@dataclass(frozen=True)
class MetricPoints:
    """A metric's data points within ``[time_from_ns, time_to_ns)``, in time order.

    Attributes:
        metric: the metric's name.
        time_from_ns: the range's start (None: from the first point).
        time_to_ns: the range's end, excluded (None: to the last point).
        count: every data point of the metric in the range.
        points: the first :data:`MAX_POINTS` of them.
        unit: the metric's unit ("" when none).
        type: the metric's data type (``sum``, ``gauge``, ``histogram``...; "" when none).
    """

    metric: str
    time_from_ns: int | None
    time_to_ns: int | None
    count: int
    points: list[MetricPoint]
    unit: str
    type: str

    @property
    def truncated(self) -> bool:
        """Whether the range holds more points than were returned."""
        return self.count > len(self.points)


def metric_names(case: Case) -> list[MetricName]:
    """The metrics the case holds data points of, by name, with their count and unit."""
    rows = case.db.execute(
        "SELECT name, count(*), any_value(json_extract_string(attributes, '$.\"metric.unit\"')) "
        "FROM events WHERE kind = 'metric' AND name IS NOT NULL GROUP BY name ORDER BY name"
    ).fetchall()
    return [MetricName(str(name), int(count), str(unit or "")) for name, count, unit in rows]


def _value(attributes: dict[str, Any]) -> int | float | None:
    # OTLP/JSON gives 64-bit integers (a histogram's count) as decimal text or as a number.
    for key in ("metric.value", "metric.count"):
        value = attributes.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():
            return int(value)
    return None


def metric_points(
    case: Case,
    name: str,
    time_from_ns: int | None = None,
    time_to_ns: int | None = None,
    *,
    limit: int = MAX_POINTS,
) -> MetricPoints:
    """The data points of metric ``name`` with ``time_from_ns <= time < time_to_ns``."""
    clauses = ["kind = 'metric'", "name = ?", "time_ns IS NOT NULL"]
    params: list[Any] = [name]
    if time_from_ns is not None:
        clauses.append("time_ns >= ?")
        params.append(time_from_ns)
    if time_to_ns is not None:
        clauses.append("time_ns < ?")
        params.append(time_to_ns)
    where = " AND ".join(clauses)
    count = int(case.scalar(f"SELECT count(*) FROM events WHERE {where}", params))  # noqa: S608
    rows = case.db.execute(
        f"SELECT time_ns, attributes FROM events WHERE {where} "  # noqa: S608
        "ORDER BY time_ns, ord LIMIT ?",
        [*params, limit],
    ).fetchall()
    points = []
    unit = kind = ""
    for time_ns, text in rows:
        try:
            attributes = _decode(text or "{}")
        except msgspec.DecodeError:
            attributes = {}
        if not isinstance(attributes, dict):
            attributes = {}
        unit = unit or str(attributes.get("metric.unit") or "")
        kind = kind or str(attributes.get("metric.type") or "")
        series = {k: v for k, v in attributes.items() if not k.startswith("metric.")}
        points.append(
            MetricPoint(
                int(time_ns),
                _value(attributes),
                msgspec.json.encode(dict(sorted(series.items()))).decode("utf-8"),
            )
        )
    return MetricPoints(name, time_from_ns, time_to_ns, count, points, unit, kind)
