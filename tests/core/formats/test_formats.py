"""Raw evidence readers: one record per line out, errors with file and line."""

import gzip
import json
from pathlib import Path

import pytest
import zstandard
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from auditlens.core.errors import InvalidInputError, LimitExceededError, UnsupportedFormatError
from auditlens.core.formats.registry import read_records
from auditlens.core.formats.times import parse_time_ns

COMPAT = Path(__file__).resolve().parents[2] / "data" / "otlp-examples"


def log_record(i, upper=False):
    trace = f"{i:032x}".upper() if upper else f"{i:032x}"
    return {
        "timeUnixNano": str(1_772_400_000_000_000_000 + i),
        "severityNumber": 9,
        "traceId": trace,
        "body": {"stringValue": f"r{i}"},
    }


def collector_line(records):
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                    },
                    "scopeLogs": [{"scope": {"name": "s"}, "logRecords": records}],
                }
            ]
        }
    )


def test_collector_json_lines_split_into_single_record_lines(tmp_path):
    path = tmp_path / "logs.jsonl"
    path.write_text(
        collector_line([log_record(1), log_record(2)])
        + "\n"
        + collector_line([log_record(3)])
        + "\n"
    )
    records = list(read_records(path))
    assert [r.origin for r in records] == [1, 1, 2]
    assert [r.time_ns for r in records] == [
        1_772_400_000_000_000_001,
        1_772_400_000_000_000_002,
        1_772_400_000_000_000_003,
    ]
    for r in records:
        doc = json.loads(r.line)
        assert len(doc["resourceLogs"]) == 1
        assert len(doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) == 1
        assert doc["resourceLogs"][0]["resource"]["attributes"][0]["key"] == "service.name"


def test_official_otlp_examples_are_read(tmp_path):
    logs = list(read_records(COMPAT / "logs.json"))
    spans = list(read_records(COMPAT / "trace.json"))
    assert logs and spans
    assert logs[0].kind == "log" and logs[0].time_ns == 1544712660300000000
    assert spans[0].kind == "span"
    assert b"5B8EFFF798038103D269B633813FC60C" in logs[0].line  # upper-case hex kept verbatim


def proto_file(path, messages, compress=None):
    data = b"".join(len(m).to_bytes(4, "big") + m for m in messages)
    if compress == "zstd":
        data = zstandard.ZstdCompressor().compress(data)
    elif compress == "gzip":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def trace_message(n):
    req = trace_service_pb2.ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        span = scope.spans.add()
        span.trace_id = bytes([i + 1]) * 16
        span.span_id = bytes([i + 1]) * 8
        span.name = f"span{i}"
        span.start_time_unix_nano = 1_772_400_000_000_000_000 + i
    return req.SerializeToString()


def logs_message(n):
    req = logs_service_pb2.ExportLogsServiceRequest()
    scope = req.resource_logs.add().scope_logs.add()
    for i in range(n):
        rec = scope.log_records.add()
        rec.time_unix_nano = 1_772_400_000_000_000_000 + i
        rec.body.string_value = f"log {i}"
        rec.span_id = b"\xab" * 8
    return req.SerializeToString()


@pytest.mark.parametrize("compress", [None, "zstd", "gzip"])
def test_proto_framing_both_signals_hex_ids(tmp_path, compress):
    path = proto_file(tmp_path / "x.binpb", [trace_message(2), logs_message(3)], compress)
    records = list(read_records(path))
    assert [r.kind for r in records] == ["span", "span", "log", "log", "log"]
    span = json.loads(records[0].line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == "01" * 16
    assert span["startTimeUnixNano"] == "1772400000000000000"
    log = json.loads(records[2].line)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert log["spanId"] == "ab" * 8


def test_proto_truncated_and_oversized_prefix_name_the_offset(tmp_path):
    message = trace_message(1)
    path = tmp_path / "t.binpb"
    path.write_bytes(len(message).to_bytes(4, "big") + message + (1000).to_bytes(4, "big") + b"xx")
    with pytest.raises(InvalidInputError, match="truncated") as exc:
        list(read_records(path))
    assert exc.value.offset == 4 + len(message)
    path.write_bytes(len(message).to_bytes(4, "big") + message + (2**32 - 1).to_bytes(4, "big"))
    with pytest.raises(LimitExceededError, match="exceeds the limit") as exc:
        list(read_records(path))
    assert exc.value.offset == 4 + len(message)
    # At the start of the input the same prefix is no proto framing at all: no format reads it.
    path.write_bytes((2**32 - 1).to_bytes(4, "big") + b"x")
    with pytest.raises(UnsupportedFormatError, match="otlp-proto: first 4 bytes ff ff ff ff"):
        list(read_records(path))


def test_audit_lines_are_kept_verbatim(tmp_path):
    line = (
        '{"timestamp": "2026-03-02T08:00:00.250Z", "user_id": "u1", "action": "LOGIN_SUCCESS",'
        ' "resource": "session"}'
    )
    path = tmp_path / "audit.jsonl"
    path.write_text(line + "\r\n")
    (record,) = read_records(path)
    assert record.line == line.encode()
    assert record.kind == "audit"
    assert record.time_ns == parse_time_ns("2026-03-02T08:00:00.250Z")


def test_opensearch_search_response_and_hits(tmp_path):
    hit = {
        "_index": "audit_log_index",
        "_id": "1",
        "_source": {"timestamp": "2026-03-02T08:00:00Z"},
    }
    path = tmp_path / "search.json"
    path.write_text(
        json.dumps({"took": 1, "hits": {"total": {"value": 1}, "hits": [hit, hit]}}, indent=1)
    )
    records = list(read_records(path))
    assert [r.kind for r in records] == ["opensearch", "opensearch"]
    assert json.loads(records[0].line) == hit


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n{"a": 1, "a": 2}\n',
            2,
            "duplicate key",
        ),
        (b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n{"x": NaN}\n', 2, "NaN"),
        (b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n{"x": "\xff"}\n', 2, "UTF-8"),
        (b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n{"x": 1}\n', 2, "neither OTLP"),
        (b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n{"x": \n', 2, "not valid JSON"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as exc:
        list(read_records(path))
    assert exc.value.path == str(path)
    assert exc.value.line == line


def test_deep_nesting_is_refused_not_crashed(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(
        b'{"timestamp": "2026-03-02T08:00:00Z", "action": "X"}\n' + b"[" * 100_000 + b"]" * 100_000
    )
    with pytest.raises(InvalidInputError, match="nested"):
        list(read_records(path))


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty"):
        list(read_records(path))


def test_parse_time_ns_keeps_nanoseconds_and_offsets():
    assert parse_time_ns("1970-01-01T00:00:01.000000001Z") == 1_000_000_001
    assert parse_time_ns("1970-01-01T01:00:00+01:00") == 0


def test_raw_inputs_have_the_ratio_limit_of_archive_entries():
    from auditlens.core.bundle import container
    from auditlens.core.formats import streams

    assert streams.MAX_COMPRESSION_RATIO == container.MAX_COMPRESSION_RATIO
    assert streams.MIN_RATIO_CHECK_BYTES == container.MIN_RATIO_CHECK_BYTES
