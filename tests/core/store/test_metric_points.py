"""Metric data points for the chart, and the exemplars a trace shows (issue 17, point 3).

Evidence: OTLP metrics written as the Collector's file exporter writes them (one
``ExportMetricsServiceRequest`` per line, int64 as decimal text, ids as hex), with spans of
2026 in nanoseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditlens.core.store import metrics, queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import TrustStore
from golden.make_golden import run

T0 = 1_772_409_868_123_456_789  # 2026-03-02T00:04:28.123456789Z
MINUTE = 60_000_000_000
TRACE = "5b8efff798038103d269b633813fc60c"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"
ROOT, CHILD = "eee19b7ec3c1b174", "b7ad6b7169203331"


def kv(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def span(span_id: str, parent: str | None, start: int, end: int, name: str) -> dict[str, Any]:
    found = {
        "traceId": TRACE.upper(),  # either case: OTLP/JSON allows both
        "spanId": span_id,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }
    if parent:
        found["parentSpanId"] = parent
    return found


def write_evidence(folder: Path) -> tuple[Path, Path]:
    spans = folder / "traces.jsonl"
    spans.write_text(
        json.dumps(
            {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [kv("service.name", "recording-service")]},
                        "scopeSpans": [
                            {
                                "scope": {"name": "cc.recording"},
                                "spans": [
                                    span(ROOT, None, T0, T0 + 900_000_000, "GET /recordings"),
                                    span(CHILD, ROOT, T0 + 100_000_000, T0 + 400_000_000, "read"),
                                ],
                            }
                        ],
                    }
                ]
            }
        )
        + "\n"
    )
    points = []
    for i in range(10):  # one point a minute for ten minutes, two series
        for tenant, scale in (("acme", 10), ("globex", 1)):
            points.append(
                {
                    "attributes": [kv("tenant.id", tenant)],
                    "startTimeUnixNano": str(T0 + i * MINUTE),
                    "timeUnixNano": str(T0 + (i + 1) * MINUTE),
                    "asInt": str(scale * (i + 1)),
                }
            )
    # The first point's exemplars: two name spans of TRACE (the second a child span the data
    # point is not listed under), one names another trace.
    points[0]["exemplars"] = [
        {"timeUnixNano": str(T0 + 200_000_000), "asInt": "4", "traceId": TRACE, "spanId": ROOT},
        {"timeUnixNano": str(T0 + 300_000_000), "asInt": "6", "traceId": TRACE, "spanId": CHILD},
        {"timeUnixNano": str(T0 + 500_000_000), "asInt": "1", "traceId": OTHER_TRACE},
    ]
    latency = {
        "name": "http.server.request.duration",
        "unit": "s",
        "histogram": {
            "aggregationTemporality": 2,
            "dataPoints": [
                {
                    "startTimeUnixNano": str(T0),
                    "timeUnixNano": str(T0 + MINUTE),
                    "count": "7",
                    "sum": 2.25,
                }
            ],
        },
    }
    request = {
        "resourceMetrics": [
            {
                "resource": {"attributes": [kv("service.name", "recording-service")]},
                "scopeMetrics": [
                    {
                        "scope": {"name": "cc.recording"},
                        "metrics": [
                            {
                                "name": "recording.downloads",
                                "unit": "{download}",
                                "sum": {
                                    "aggregationTemporality": 1,
                                    "isMonotonic": True,
                                    "dataPoints": points,
                                },
                            },
                            latency,
                        ],
                    }
                ],
            }
        ]
    }
    measured = folder / "metrics.jsonl"
    measured.write_text(json.dumps(request) + "\n")
    return spans, measured


def make_case(tmp_path: Path) -> Path:
    spans, measured = write_evidence(tmp_path)
    folder = tmp_path / "case"
    with Case.open(folder, create=True) as case:
        run(import_inputs(case, [spans, measured], TrustStore()))
    return folder


def test_each_exemplar_is_shown_under_the_span_it_names(tmp_path: Path) -> None:
    folder = make_case(tmp_path)
    with Case.open(folder) as case:
        found = queries.trace(case, TRACE)
    (root,) = found.roots
    (child,) = root.children
    assert [(e.metric, e.time_ns, e.value, e.span_id) for e in found.exemplars] == [
        ("recording.downloads", T0 + 200_000_000, 4, ROOT),
        ("recording.downloads", T0 + 300_000_000, 6, CHILD),
    ]
    assert [e.value for e in root.exemplars] == [4]
    assert [e.value for e in child.exemplars] == [6]
    # The data point is one of the trace's points, never one of its logs (docs/case.md, Traces):
    # the trace holds spans, logs and exemplars apart, so no caller filters points out of logs.
    assert [(p["kind"], p["time_ns"]) for p in found.points] == [("metric", T0 + MINUTE)]
    assert (root.logs, child.logs, found.orphan_logs, found.log_count) == ([], [], [], 0)
    assert root.exemplars[0].point is found.points[0]
    assert child.exemplars[0].point is found.points[0]
    assert root.exemplars[0].unit == "{download}"
    assert found.orphan_exemplars == []


def write_logs_and_a_stray_point(folder: Path) -> list[Path]:
    """A log under ROOT, a log naming a span not in the case, and a point whose exemplar does."""
    stray = "00000000000000aa"

    def record(span_id: str, at: int, text: str) -> dict[str, Any]:
        return {
            "timeUnixNano": str(at),
            "body": {"stringValue": text},
            "traceId": TRACE,
            "spanId": span_id,
        }

    logs = folder / "logs.jsonl"
    logs.write_text(
        json.dumps(
            {
                "resourceLogs": [
                    {
                        "resource": {"attributes": [kv("service.name", "recording-service")]},
                        "scopeLogs": [
                            {
                                "scope": {"name": "cc.recording"},
                                "logRecords": [
                                    record(ROOT, T0 + 150_000_000, "download started"),
                                    record(stray, T0 + 250_000_000, "from a span not exported"),
                                ],
                            }
                        ],
                    }
                ]
            }
        )
        + "\n"
    )
    point = {
        "startTimeUnixNano": str(T0),
        "timeUnixNano": str(T0 + MINUTE),
        "asDouble": 0.5,
        "exemplars": [
            {
                "timeUnixNano": str(T0 + 260_000_000),
                "asDouble": 0.5,
                "traceId": TRACE,
                "spanId": stray,
            },
        ],
    }
    gauge = {"name": "recording.buffer.fill", "unit": "1", "gauge": {"dataPoints": [point]}}
    request = {
        "resourceMetrics": [
            {
                "resource": {"attributes": [kv("service.name", "recording-service")]},
                "scopeMetrics": [{"scope": {"name": "cc.recording"}, "metrics": [gauge]}],
            }
        ]
    }
    measured = folder / "gauge.jsonl"
    measured.write_text(json.dumps(request) + "\n")
    return [logs, measured]


def test_a_trace_counts_its_logs_and_its_metric_points_apart(tmp_path: Path) -> None:
    spans, measured = write_evidence(tmp_path)
    extra = write_logs_and_a_stray_point(tmp_path)
    with Case.open(tmp_path / "case", create=True) as case:
        run(import_inputs(case, [spans, measured, *extra], TrustStore()))
        found = queries.trace(case, TRACE)
        (listed,) = queries.trace_list(case, queries.EventQuery(f"trace_id:{TRACE}"))
    # The trace list counts the same way: two spans, two logs, two data points.
    assert (listed["spans"], listed["logs"], listed["points"]) == (2, 2, 2)
    (root,) = found.roots
    assert [log["body"] for log in root.logs] == ["download started"]
    assert [log["body"] for log in found.orphan_logs] == ["from a span not exported"]
    assert found.log_count == 2
    assert {log["kind"] for log in [*root.logs, *found.orphan_logs]} == {"log"}
    # Both points end at the same minute: their order between them is the import's.
    assert sorted((p["name"], p["time_ns"]) for p in found.points) == [
        ("recording.buffer.fill", T0 + MINUTE),
        ("recording.downloads", T0 + MINUTE),
    ]
    assert [(e.metric, e.span_id) for e in found.orphan_exemplars] == [
        ("recording.buffer.fill", "00000000000000aa")
    ]
    assert len(found.exemplars) == 3
    assert not found.empty


def test_metric_points_in_a_range_in_time_order(tmp_path: Path) -> None:
    folder = make_case(tmp_path)
    with Case.open(folder) as case:
        names = metrics.metric_names(case)
        every = metrics.metric_points(case, "recording.downloads")
        some = metrics.metric_points(case, "recording.downloads", T0 + 3 * MINUTE, T0 + 6 * MINUTE)
        latency = metrics.metric_points(case, "http.server.request.duration")
        capped = metrics.metric_points(case, "recording.downloads", limit=5)
    assert [(n.name, n.points, n.unit) for n in names] == [
        ("http.server.request.duration", 1, "s"),
        ("recording.downloads", 20, "{download}"),
    ]
    assert every.count == len(every.points) == 20
    assert [p.time_ns for p in every.points] == sorted(p.time_ns for p in every.points)
    # [from, to): the points ending at minutes 3, 4 and 5 of both series.
    assert some.count == 6
    assert sorted((p.time_ns, p.value) for p in some.points) == sorted(
        (T0 + m * MINUTE, scale * m) for m in (3, 4, 5) for scale in (10, 1)
    )
    series = {json.loads(p.series)["tenant.id"] for p in every.points}
    assert series == {"acme", "globex"}
    assert all("metric.value" not in json.loads(p.series) for p in every.points)
    assert (every.unit, every.type) == ("{download}", "sum")
    # A histogram is drawn by its count (decimal text in OTLP/JSON).
    assert [p.value for p in latency.points] == [7]
    assert (capped.count, len(capped.points), capped.truncated) == (20, 5, True)


def test_charting_a_metric_is_journaled_and_redrawing_it_is_not(tmp_path: Path) -> None:
    folder = make_case(tmp_path)
    with Examination.open(folder, origin="workbench") as examination:
        examination.metric_names()
        charted = examination.chart_metric(
            "recording.downloads", T0, T0 + 5 * MINUTE, tz=queries.zone("Europe/Berlin")
        )
        examination.metric_points("recording.downloads", T0, T0 + 2 * MINUTE)
    entries = [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]
    charts = [e for e in entries if e["details"].get("command") == "metric_chart"]
    assert len(charts) == 1
    details = charts[0]["details"]
    assert details["metric"] == "recording.downloads"
    assert details["from"] == queries.format_time(T0)
    assert details["to"] == queries.format_time(T0 + 5 * MINUTE)
    assert details["zone"] == "Europe/Berlin"
    assert details["points"] == charted.count == 8
    assert details["origin"] == "workbench"
    assert entries[-1]["details"].get("command") == "metric_chart"  # the redraw is not one
