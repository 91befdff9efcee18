"""OTLP metrics as evidence: one event per data point, exemplars linked to their traces.

The files are written as the OTel Collector's file exporter writes metrics: one
``ExportMetricsServiceRequest`` per line in OTLP/JSON (int64 values as decimal strings, ids as
hex), or ``format: proto`` (each message behind its 4-byte length; ids as bytes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.registry import read_records
from auditlens.core.resources import profiles_dir
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.verify.trust import TrustStore
from golden.make_golden import run

NORMALIZER = Normalizer(load_profiles([profiles_dir()]))
T0 = 1_772_409_868_000_000_000  # 2026-03-02T00:04:28Z
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def kv(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def metrics_line() -> str:
    resource = {"attributes": [kv("service.name", "recording-service")]}
    downloads = {
        "name": "recording.downloads",
        "unit": "{download}",
        "sum": {
            "aggregationTemporality": 2,
            "isMonotonic": True,
            "dataPoints": [
                {
                    "attributes": [kv("tenant.id", "acme")],
                    "startTimeUnixNano": str(T0 - 60_000_000_000),
                    "timeUnixNano": str(T0),
                    "asInt": "120",
                },
                {
                    "attributes": [kv("tenant.id", "globex")],
                    "startTimeUnixNano": str(T0 - 60_000_000_000),
                    "timeUnixNano": str(T0),
                    "asInt": "3",
                },
            ],
        },
    }
    latency = {
        "name": "http.server.request.duration",
        "unit": "s",
        "histogram": {
            "aggregationTemporality": 2,
            "dataPoints": [
                {
                    "attributes": [kv("http.route", "/recordings/{id}/download")],
                    "startTimeUnixNano": str(T0 - 60_000_000_000),
                    "timeUnixNano": str(T0 + 1),
                    "count": "7",
                    "sum": 2.25,
                    "bucketCounts": ["0", "5", "2"],
                    "explicitBounds": [0.1, 0.5],
                    "exemplars": [
                        {
                            "timeUnixNano": str(T0 - 5_000_000_000),
                            "asDouble": 0.81,
                            "traceId": TRACE,
                            "spanId": SPAN,
                        }
                    ],
                }
            ],
        },
    }
    gauge = {
        "name": "recording.storage.free",
        "unit": "By",
        "gauge": {"dataPoints": [{"timeUnixNano": str(T0 + 2), "asDouble": 1.5e12}]},
    }
    return json.dumps(
        {
            "resourceMetrics": [
                {
                    "resource": resource,
                    "scopeMetrics": [
                        {"scope": {"name": "cc.recording"}, "metrics": [downloads, latency, gauge]}
                    ],
                }
            ]
        }
    )


def test_each_data_point_is_one_record_and_one_metric_event(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(metrics_line() + "\n")
    records = list(read_records(path))
    assert [r.kind for r in records] == ["metric"] * 4
    assert [r.time_ns for r in records] == [T0, T0, T0 + 1, T0 + 2]
    rows = [NORMALIZER.row(r.line) for r in records]
    assert [r["kind"] for r in rows] == ["metric"] * 4
    assert [r["name"] for r in rows] == [
        "recording.downloads",
        "recording.downloads",
        "http.server.request.duration",
        "recording.storage.free",
    ]
    acme = json.loads(rows[0]["attributes"])
    assert (acme["metric.value"], acme["tenant.id"], acme["metric.type"]) == (120, "acme", "sum")
    assert rows[0]["body"] == "recording.downloads = 120 {download}"
    assert rows[0]["service"] == "recording-service"
    assert rows[0]["tenant"] == "acme"
    histogram = json.loads(rows[2]["attributes"])
    assert (histogram["metric.count"], histogram["metric.sum"]) == ("7", 2.25)
    # The exemplar keeps its ids and gives the data point its trace and span.
    assert histogram["metric.exemplars"][0]["traceId"] == TRACE
    assert (rows[2]["trace_id"], rows[2]["span_id"]) == (TRACE, SPAN)
    assert rows[0]["trace_id"] is None
    assert json.loads(rows[3]["attributes"])["metric.value"] == 1.5e12


def test_collector_proto_metrics_read_the_same(tmp_path: Path) -> None:
    from google.protobuf import json_format

    document = json.loads(metrics_line())
    exemplar = document["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][1]["histogram"]
    exemplar = exemplar["dataPoints"][0]["exemplars"][0]
    # protobuf JSON carries ids as base64: the proto message holds the bytes.
    import base64

    exemplar["traceId"] = base64.b64encode(bytes.fromhex(TRACE)).decode()
    exemplar["spanId"] = base64.b64encode(bytes.fromhex(SPAN)).decode()
    message = json_format.ParseDict(document, metrics_service_pb2.ExportMetricsServiceRequest())
    body = message.SerializeToString()
    path = tmp_path / "metrics.binpb"
    path.write_bytes(len(body).to_bytes(4, "big") + body)
    rows = [NORMALIZER.row(r.line) for r in read_records(path)]
    assert [r["kind"] for r in rows] == ["metric"] * 4
    assert (rows[2]["trace_id"], rows[2]["span_id"]) == (TRACE, SPAN)
    assert json.loads(rows[0]["attributes"])["metric.value"] == 120


def test_a_data_point_giving_an_attribute_twice_is_refused(tmp_path: Path) -> None:
    document = json.loads(metrics_line())
    point = document["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]
    point["dataPoints"][0]["attributes"].append(kv("tenant.id", "globex"))
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps(document) + "\n")
    with pytest.raises(InvalidInputError, match=r"'tenant\.id' is given twice") as refused:
        list(read_records(path))
    assert refused.value.line == 1


def test_the_trace_shows_the_data_point_of_its_exemplar(tmp_path: Path) -> None:
    span = {
        "traceId": TRACE,
        "spanId": SPAN,
        "name": "GET /recordings/{id}/download",
        "kind": 2,
        "startTimeUnixNano": str(T0 - 5_100_000_000),
        "endTimeUnixNano": str(T0 - 4_200_000_000),
    }
    spans = tmp_path / "traces.jsonl"
    spans.write_text(
        json.dumps(
            {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [kv("service.name", "recording-service")]},
                        "scopeSpans": [{"scope": {"name": "cc.recording"}, "spans": [span]}],
                    }
                ]
            }
        )
        + "\n"
    )
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(metrics_line() + "\n")
    with Case.open(tmp_path / "case", create=True) as case:
        run(import_inputs(case, [spans, metrics], TrustStore()))
        found = queries.trace(case, TRACE)
    (root,) = found.roots
    assert root.span["name"] == "GET /recordings/{id}/download"
    assert [(e["kind"], e["name"]) for e in found.points] == [
        ("metric", "http.server.request.duration")
    ]
    assert root.logs == []


def test_the_sample_writes_metrics_whose_exemplars_lead_to_its_traces(tmp_path: Path) -> None:
    from auditlens.core.sample.generator import generate_raw, minimum_records, write_metrics

    raw = generate_raw(tmp_path / "raw", records=max(minimum_records(1), 3000), days=1, seed=5)
    (metrics,) = write_metrics(raw, tmp_path / "raw")
    assert write_metrics(raw, tmp_path / "again")[0].read_bytes() == metrics.read_bytes()
    rows = [NORMALIZER.row(r.line) for r in read_records(metrics)]
    assert rows and {r["kind"] for r in rows} == {"metric"}
    assert {r["name"] for r in rows} == {"cc.audit.events"}
    audited = [r for r in (NORMALIZER.row(x.line) for x in read_records(raw.streams[0].files[0]))]
    counted = sum(json.loads(r["attributes"])["metric.value"] for r in rows)
    assert counted == sum(1 for r in audited if "audit.action" in json.loads(r["attributes"]))
    linked = [r for r in rows if r["trace_id"]]
    assert linked
    inputs = [*raw.streams[0].files, *raw.streams[1].files, metrics]
    with Case.open(tmp_path / "case", create=True) as case:
        run(import_inputs(case, inputs, TrustStore()))
        found = queries.trace(case, linked[0]["trace_id"])
    spans = list(found.roots)
    owner = None
    while spans:
        node = spans.pop()
        if node.span["span_id"] == linked[0]["span_id"]:
            owner = node
        spans.extend(node.children)
    assert owner is not None
    assert any(e.metric == "cc.audit.events" for e in owner.exemplars)
    assert all(e["kind"] != "metric" for e in owner.logs)
