"""The format registry: one recognition per input, the same record rules for sealer and importer.

Every test here reads files the way the tools named write them (the Collector's file exporter,
the audit logger's JSON Lines, an OpenSearch ``_search`` response or NDJSON export of hits).
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats.base import take_sample
from auditlens.core.formats.registry import FORMATS, read_records, recognise
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.resources import profiles_dir
from auditlens.core.store.normalize import Normalizer, load_profiles

T0 = "2026-03-02T08:00:00.250Z"
NORMALIZER = Normalizer(load_profiles([profiles_dir()]))

OTLP_LINE = json.dumps(
    {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "crm"}}]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "audit"},
                        "logRecords": [
                            {
                                "timeUnixNano": "1772438400250000000",
                                "body": {"stringValue": "login"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
)
AUDIT_LINE = json.dumps(
    {
        "timestamp": T0,
        "user_id": "agent-0042",
        "user_name": "Ana Lima",
        "action": "LOGIN_SUCCESS",
        "resource": "session",
        "resource_id": "sess-9f2",
        "source_ip_address": "10.20.3.4",
        "attributes": {"service": "auth", "tenantId": "acme"},
        "type": "audit_logging",
        "level": "INFO",
    }
)
SPAN_HIT = {
    "_index": "otel-v1-apm-span-000001",
    "_id": "c2c4b0f0a1b2c3d4",
    "_source": {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "POST /recordings/export",
        "kind": "SPAN_KIND_SERVER",
        "startTime": "2026-03-02T08:00:01.000000123Z",
        "endTime": "2026-03-02T08:00:01.250000123Z",
        "durationInNanos": 250000000,
        "serviceName": "recording",
        "span.attributes.user@id": "sup-004",
    },
}
LOG_HIT = {
    "_index": "logs-otel-v1-000001",
    "_id": "x1",
    "_source": {
        "time": "2026-03-02T08:00:02.5Z",
        "observedTime": "2026-03-02T08:00:02.6Z",
        "body": "export finished",
        "severityText": "INFO",
    },
}
AUDIT_HIT = {"_index": "audit_log_index", "_id": "a1", "_source": json.loads(AUDIT_LINE)}


def search_response(hits: list[dict]) -> dict:
    return {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits},
    }


def recognised(data: bytes) -> str:
    return recognise(take_sample(io.BytesIO(data), "input")).name


def test_each_input_is_recognised_by_exactly_its_format() -> None:
    pretty = json.dumps(json.loads(OTLP_LINE), indent=2).encode()
    cases = {
        "otlp-json-lines": (OTLP_LINE + "\n" + OTLP_LINE + "\n").encode(),
        "otlp-json": pretty,
        "audit-json-lines": ("\n" + AUDIT_LINE + "\n").encode(),
        "opensearch-ndjson": (json.dumps(SPAN_HIT) + "\n" + json.dumps(LOG_HIT) + "\n").encode(),
        "opensearch-search": json.dumps(search_response([SPAN_HIT]), indent=2).encode(),
        "otlp-proto": (3).to_bytes(4, "big") + b"\x0a\x01\x00",
        "cri-log": ("2026-03-02T00:04:28.017123456Z stdout F " + AUDIT_LINE + "\n").encode(),
        "docker-json-log": json.dumps(
            {"log": AUDIT_LINE + "\n", "stream": "stdout", "time": "2026-03-02T00:04:28Z"}
        ).encode()
        + b"\n",
        "kubectl-log": ("2026-03-02T00:04:28.017123456Z " + AUDIT_LINE + "\n").encode(),
        "fluentbit-file": (
            'kube.var.log.containers.audit.log: [1772409868.017123456, {"log":'
            + json.dumps(AUDIT_LINE)
            + ',"stream":"stdout","time":"2026-03-02T00:04:28.017123456Z"}]\n'
        ).encode(),
        "fluentbit-json": (
            '{"log":'
            + json.dumps(AUDIT_LINE)
            + ',"stream":"stdout","_p":"F","time":"2026-03-02T00:04:28.017123456Z",'
            + '"kubernetes":{"pod_name":"audit-6d5f","namespace_name":"cc-prod"}}\n'
        ).encode(),
        "fluentbit-msgpack": bytes.fromhex("92 92 d7 00 69 a4 d6 0c 01 05 4b 80 80 81 a3")
        + b"log"
        + bytes.fromhex("a2")
        + b"hi",
    }
    for name, data in cases.items():
        assert recognised(data) == name
        # No other format reads it too: recognition does not depend on the registry's order.
        readers = []
        for candidate in FORMATS:
            if candidate.recognise(take_sample(io.BytesIO(data), "input")) is None:
                readers.append(candidate.name)
        assert readers == [name], (name, readers)
    assert {f.name for f in FORMATS} == set(cases)


def test_an_input_no_format_reads_is_refused_naming_every_format_and_why(tmp_path: Path) -> None:
    # A syslog line: text, but no format's shape.
    path = tmp_path / "auth.log"
    path.write_bytes(b"Mar  2 00:04:28 cc-node-3 sshd[1234]: Accepted publickey for ops\n")
    with pytest.raises(UnsupportedFormatError) as refused:
        list(read_records(path))
    message = refused.value.message
    assert refused.value.path == str(path)
    for candidate in FORMATS:
        assert f"{candidate.name}: " in message
    assert "otlp-json-lines: starts with bytes 4d 61 72 20" in message
    assert "cri-log: line 1 is not 'TIME stdout|stderr P|F TEXT'" in message
    assert "give 1298231840, beyond the limit" in message
    # JSON of no known form: the line is named.
    path.write_text('{"ts": "2026-03-02T08:00:00Z", "msg": "hello"}\n')
    with pytest.raises(UnsupportedFormatError) as refused:
        list(read_records(path))
    assert "otlp-json-lines: line 1 is neither OTLP, audit JSON nor an OpenSearch document" in (
        refused.value.message
    )


def test_a_json_object_with_only_a_timestamp_is_no_audit_record_for_either_side(
    tmp_path: Path,
) -> None:
    # The sealer refused it while the importer read it as an audit event with no actor or
    # action: one rule (formats/records.py) for both now.
    line = b'{"timestamp": "2026-03-02T08:00:00.250Z", "message": "disk 91% full"}'
    path = tmp_path / "app.jsonl"
    path.write_bytes(line + b"\n")
    with pytest.raises(UnsupportedFormatError):
        list(read_records(path))
    with pytest.raises(InvalidInputError, match="neither OTLP, audit JSON nor an OpenSearch"):
        NORMALIZER.row(line)


def test_a_line_of_another_form_in_json_lines_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_text(OTLP_LINE + "\n" + OTLP_LINE + "\n" + AUDIT_LINE + "\n")
    with pytest.raises(UnsupportedFormatError) as refused:
        list(read_records(path))
    assert refused.value.line == 3
    assert "an audit-logger record among OTLP export requests" in refused.value.message
    assert "recognised as otlp-json-lines at line 1" in refused.value.message


@pytest.mark.parametrize("hit", [SPAN_HIT, LOG_HIT, AUDIT_HIT], ids=["span", "log", "audit"])
def test_a_hit_is_sealed_and_imported_with_the_same_time(tmp_path: Path, hit: dict) -> None:
    path = tmp_path / "search.json.gz"
    path.write_bytes(gzip.compress(json.dumps(search_response([hit]), indent=1).encode()))
    (record,) = read_records(path)
    row = NORMALIZER.row(record.line)
    assert record.time_ns == row["time_ns"]
    expected = {"span": "2026-03-02T08:00:01.000000123Z", "log": "2026-03-02T08:00:02.5Z"}
    assert row["time_ns"] == parse_time_ns(expected.get(row["kind"], T0))


@pytest.mark.parametrize(
    ("field", "value"),
    [("startTime", "2026-03-02T24:00:01Z"), ("startTime", 1772438401)],
)
def test_a_hit_with_an_invalid_time_is_refused_by_both_sides(
    tmp_path: Path, field: str, value: object
) -> None:
    # The sealer used to try the next time field (and sealed it), the importer showed no time.
    hit = json.loads(json.dumps(SPAN_HIT))
    hit["_source"][field] = value
    hit["_source"]["time"] = "2026-03-02T08:00:01Z"
    path = tmp_path / "hits.ndjson"
    path.write_text(json.dumps(hit) + "\n")
    with pytest.raises(InvalidInputError, match=field) as refused:
        list(read_records(path))
    assert refused.value.line == 1
    with pytest.raises(InvalidInputError, match=field):
        NORMALIZER.row(json.dumps(hit).encode())
