"""OTLP metrics: data points as events of their own kind, exemplars linked to their traces.

The OTel Collector's file exporter writes ``ExportMetricsServiceRequest``s like the other
signals (``resourceMetrics``, JSON Lines or ``format: proto``; single OTLP/JSON documents too):
they are recognised and split by the OTLP formats (:mod:`.otlp_json`, :mod:`.otlp_proto`).

Split (:func:`split_metrics`): one stored line per data point, still valid OTLP/JSON: its
resource, scope and metric (name, description, unit, the data's type with its temporality)
around that one point. Its time is the point's ``timeUnixNano``.

Event (:func:`metric_event`): kind ``metric``; the metric's name as the event's name; the
point's value (gauge and sum: the number; histogram, exponential histogram, summary: count and
sum) in the body and the attributes (``metric.type``, ``metric.unit``, ``metric.value``,
``metric.count``, ``metric.sum``, ``metric.min``, ``metric.max``, the point's own attributes
and the resource's). Exemplars are kept whole in ``metric.exemplars``; the first one that names
a trace gives the event its trace and span ids, so the data point is found with its trace
(``auditlens trace``) under the span it was measured in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.base import SourceRecord
from auditlens.core.formats.jsontext import dumps_compact

TYPES = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
_encode = msgspec.json.encode


def metric_type(metric: dict[str, Any]) -> str | None:
    """Which of the data types a metric holds, or None."""
    for name in TYPES:
        if name in metric:
            return name
    return None


def split_metrics(
    document: dict[str, Any],
    *,
    path: str,
    line: int,
    refuse_duplicate: Any,
    time_of: Any,
) -> Iterator[SourceRecord]:
    """The single-data-point lines of one ``ExportMetricsServiceRequest``, in order."""
    resources = document["resourceMetrics"]
    if not isinstance(resources, list):
        raise InvalidInputError("resourceMetrics is not a list", path=path, line=line)
    for resource_entry in resources:
        if not isinstance(resource_entry, dict):
            raise InvalidInputError(
                "an entry of resourceMetrics is not an object", path=path, line=line
            )
        resource_part = {k: v for k, v in resource_entry.items() if k != "scopeMetrics"}
        resource = resource_part.get("resource")
        if isinstance(resource, dict):
            refuse_duplicate(resource.get("attributes"), "resource", path, line)
        for scope_entry in resource_entry.get("scopeMetrics") or []:
            if not isinstance(scope_entry, dict):
                raise InvalidInputError(
                    "an entry of scopeMetrics is not an object", path=path, line=line
                )
            scope_part = {k: v for k, v in scope_entry.items() if k != "metrics"}
            for metric in scope_entry.get("metrics") or []:
                if not isinstance(metric, dict):
                    raise InvalidInputError("a metric is not an object", path=path, line=line)
                kind = metric_type(metric)
                if kind is None:
                    continue  # a metric without data (OTLP allows it): nothing to show
                data = metric[kind]
                if not isinstance(data, dict):
                    raise InvalidInputError(f"{kind} is not an object", path=path, line=line)
                metric_part = {k: v for k, v in metric.items() if k != kind}
                data_part = {k: v for k, v in data.items() if k != "dataPoints"}
                for point in data.get("dataPoints") or []:
                    if not isinstance(point, dict):
                        raise InvalidInputError(
                            "a data point is not an object", path=path, line=line
                        )
                    refuse_duplicate(point.get("attributes"), "data point", path, line)
                    for exemplar in point.get("exemplars") or []:
                        if isinstance(exemplar, dict):
                            refuse_duplicate(
                                exemplar.get("filteredAttributes"), "exemplar", path, line
                            )
                    try:
                        time_ns = time_of(point.get("timeUnixNano"))
                        time_of(point.get("startTimeUnixNano"))
                    except ValueError as exc:
                        raise InvalidInputError(
                            f"data point time: {exc}", path=path, line=line
                        ) from exc
                    single = {
                        "resourceMetrics": [
                            {
                                **resource_part,
                                "scopeMetrics": [
                                    {
                                        **scope_part,
                                        "metrics": [
                                            {
                                                **metric_part,
                                                kind: {**data_part, "dataPoints": [point]},
                                            }
                                        ],
                                    }
                                ],
                            }
                        ]
                    }
                    yield SourceRecord(dumps_compact(single), time_ns or 0, "metric", path, line)


def _number(point: dict[str, Any]) -> Any:
    if "asDouble" in point:
        return point["asDouble"]
    value = point.get("asInt")
    if type(value) is str and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    return value


def metric_event(
    document: dict[str, Any],
    row: dict[str, Any],
    attributes_of: Any,
    time_of: Any,
    hex_of: Any,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Fill ``row`` from a stored data point; return its, its resource's and its scope's views.

    Raises:
        InvalidInputError: the line is not one metric's data point.
    """
    try:
        resource = document["resourceMetrics"][0]
        scope = resource["scopeMetrics"][0]
        metric = scope["metrics"][0]
        kind = metric_type(metric)
        point = metric[kind]["dataPoints"][0] if kind else None
    except (KeyError, IndexError, TypeError) as exc:
        raise InvalidInputError("OTLP metric without resource, scope, metric and point") from exc
    if kind is None or not isinstance(point, dict):
        raise InvalidInputError("OTLP metric without a data point")
    res_attrs = attributes_of((resource.get("resource") or {}).get("attributes"))
    point_attrs = attributes_of(point.get("attributes"))
    name = metric.get("name")
    unit = metric.get("unit") or ""
    attributes: dict[str, Any] = {**res_attrs, **point_attrs, "metric.type": kind}
    if unit:
        attributes["metric.unit"] = unit
    if kind in ("gauge", "sum"):
        value = _number(point)
        attributes["metric.value"] = value
        shown = f"{value}"
    else:
        for key in ("count", "sum", "min", "max"):
            if key in point:
                attributes[f"metric.{key}"] = point[key]
        shown = f"count {point.get('count')}, sum {point.get('sum')}"
    data = metric[kind]
    if isinstance(data, dict) and "aggregationTemporality" in data:
        attributes["metric.temporality"] = data["aggregationTemporality"]
    exemplars = point.get("exemplars")
    if isinstance(exemplars, list) and exemplars:
        attributes["metric.exemplars"] = exemplars
        for exemplar in exemplars:
            if isinstance(exemplar, dict) and exemplar.get("traceId"):
                row["trace_id"] = hex_of(exemplar.get("traceId"))
                row["span_id"] = hex_of(exemplar.get("spanId"))
                break
    row["kind"] = "metric"
    row["name"] = name
    row["time_ns"] = time_of(point.get("timeUnixNano"), "timeUnixNano")
    row["body"] = f"{name} = {shown}{' ' + unit if unit else ''}"
    row["attributes"] = _encode(attributes).decode("utf-8")
    scope_info = scope.get("scope") if isinstance(scope, dict) else None
    return point_attrs, res_attrs, scope_info if isinstance(scope_info, dict) else {}
