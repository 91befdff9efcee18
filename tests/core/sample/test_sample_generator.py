"""Tests of the deterministic synthetic evidence generator (raw files only).

The readers below are deliberately independent of the generator: they parse the three formats
the way the sealer and importer must (OTLP/JSON lines, length-prefixed protobuf incl. zstd,
audit JSON lines) and the tests assert on what is actually in the files.
"""

from __future__ import annotations

import json
import re
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zstandard
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from auditlens.core.sample import RawEvidence, generate_raw
from auditlens.core.sample.generator import (
    AUDIT_STREAM,
    LOGS_STREAM,
    TRACES_STREAM,
    minimum_records,
)

NS = 1_000_000_000
AUDIT_KEYS = [
    "timestamp",
    "user_id",
    "user_name",
    "action",
    "resource",
    "resource_id",
    "source_ip_address",
    "attributes",
    "type",
    "level",
]
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STREAM_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")


# ---------------------------------------------------------------------------------------------
# Independent readers
# ---------------------------------------------------------------------------------------------


def any_value(value: dict[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    raise AssertionError(f"unexpected AnyValue {value}")


@dataclass
class LogRec:
    file: Path
    line: int
    service: str
    scope: str
    time_ns: int
    trace_id: str  # lower-case hex or ""
    span_id: str
    body: str
    attrs: dict[str, Any]
    raw_time: Any


@dataclass
class SpanRec:
    file: Path
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    status_code: int


@dataclass
class AuditRec:
    file: Path
    line: int
    raw: str
    doc: dict[str, Any]

    @property
    def time_ns(self) -> int:
        return iso_to_ns(self.doc["timestamp"])


def iso_to_ns(value: str) -> int:
    parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (int(parsed.timestamp()) * 1000 + parsed.microsecond // 1000) * 1_000_000


def read_logs(path: Path) -> list[LogRec]:
    out: list[LogRec] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            request = json.loads(line)
            assert set(request) == {"resourceLogs"}
            for resource_logs in request["resourceLogs"]:
                res = {
                    a["key"]: any_value(a["value"]) for a in resource_logs["resource"]["attributes"]
                }
                for scope_logs in resource_logs["scopeLogs"]:
                    for rec in scope_logs["logRecords"]:
                        assert isinstance(rec["severityNumber"], int)
                        out.append(
                            LogRec(
                                file=path,
                                line=line_no,
                                service=res["service.name"],
                                scope=scope_logs["scope"]["name"],
                                time_ns=int(rec["timeUnixNano"]),
                                trace_id=rec.get("traceId", "").lower(),
                                span_id=rec.get("spanId", "").lower(),
                                body=rec["body"]["stringValue"],
                                attrs={a["key"]: any_value(a["value"]) for a in rec["attributes"]},
                                raw_time=rec["timeUnixNano"],
                            )
                        )
    return out


def read_trace_messages(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        assert data[:4] == b"\x28\xb5\x2f\xfd", "zstd magic"
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    messages = []
    offset = 0
    while offset < len(data):
        assert offset + 4 <= len(data), "truncated length prefix"
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        offset += 4
        assert offset + length <= len(data), "truncated message"
        messages.append(data[offset : offset + length])
        offset += length
    return messages


def read_spans(path: Path) -> list[SpanRec]:
    out: list[SpanRec] = []
    for payload in read_trace_messages(path):
        request = ExportTraceServiceRequest.FromString(payload)
        for resource_spans in request.resource_spans:
            res = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attrs: dict[str, Any] = {}
                    for kv in span.attributes:
                        kind = kv.value.WhichOneof("value")
                        if kind == "array_value":
                            attrs[kv.key] = [v.string_value for v in kv.value.array_value.values]
                        else:
                            attrs[kv.key] = getattr(kv.value, kind)
                    out.append(
                        SpanRec(
                            file=path,
                            service=res["service.name"],
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            name=span.name,
                            kind=span.kind,
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                            attrs=attrs,
                            status_code=span.status.code,
                        )
                    )
    return out


def read_audit(path: Path) -> list[AuditRec]:
    out: list[AuditRec] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            raw = line.rstrip("\n")
            out.append(AuditRec(path, line_no, raw, json.loads(raw)))
    return out


@dataclass
class Parsed:
    evidence: RawEvidence
    root: Path
    logs: dict[Path, list[LogRec]] = field(default_factory=dict)
    spans: dict[Path, list[SpanRec]] = field(default_factory=dict)
    audit: dict[Path, list[AuditRec]] = field(default_factory=dict)

    def all_logs(self) -> list[LogRec]:
        return [r for recs in self.logs.values() for r in recs]

    def all_spans(self) -> list[SpanRec]:
        return [r for recs in self.spans.values() for r in recs]

    def all_audit(self) -> list[AuditRec]:
        return [r for recs in self.audit.values() for r in recs]

    @property
    def total(self) -> int:
        return len(self.all_logs()) + len(self.all_spans()) + len(self.all_audit())


def parse(evidence: RawEvidence, root: Path) -> Parsed:
    parsed = Parsed(evidence, root)
    streams = {s.stream_id: s for s in evidence.streams}
    for path in streams[LOGS_STREAM].files:
        parsed.logs[path] = read_logs(path)
    for path in streams[TRACES_STREAM].files:
        parsed.spans[path] = read_spans(path)
    for path in streams[AUDIT_STREAM].files:
        parsed.audit[path] = read_audit(path)
    return parsed


def generate(root: Path, *, records: int, days: int, seed: int) -> Parsed:
    return parse(generate_raw(root, records=records, days=days, seed=seed), root)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    root = tmp_path_factory.mktemp("medium")
    return generate(root, records=20_000, days=3, seed=5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    root = tmp_path_factory.mktemp("tiny")
    return generate(root, records=50, days=1, seed=3)


def file_day(path: Path) -> date:
    match = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    assert match, path
    return date.fromisoformat(match.group(1))


def day_bounds(day: date) -> tuple[int, int]:
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS
    return start, start + 86_400 * NS


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def relative_files(evidence: RawEvidence, root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for stream in evidence.streams
        for path in stream.files
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate_raw(tmp_path / "a", records=3000, days=3, seed=11)
    second = generate_raw(tmp_path / "b", records=3000, days=3, seed=11)
    files_a = relative_files(first, tmp_path / "a")
    files_b = relative_files(second, tmp_path / "b")
    assert list(files_a) == list(files_b)
    assert files_a == files_b
    assert first.incident == second.incident
    assert first.record_count == second.record_count == 3000


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    first = relative_files(
        generate_raw(tmp_path / "a", records=3000, days=2, seed=1), tmp_path / "a"
    )
    other = relative_files(
        generate_raw(tmp_path / "b", records=3000, days=2, seed=2), tmp_path / "b"
    )
    assert list(first) == list(other)  # same layout
    for name in first:
        assert first[name] != other[name], name


# ---------------------------------------------------------------------------------------------
# Layout and exact size
# ---------------------------------------------------------------------------------------------


def test_layout_one_file_per_stream_per_day(medium: Parsed) -> None:
    evidence = medium.evidence
    assert [s.stream_id for s in evidence.streams] == [LOGS_STREAM, TRACES_STREAM, AUDIT_STREAM]
    days = [date(2026, 3, 2) + timedelta(days=i) for i in range(3)]
    for stream in evidence.streams:
        assert STREAM_ID.match(stream.stream_id)
        assert [file_day(p) for p in stream.files] == days
        for path in stream.files:
            assert path.is_file()
            assert path.is_relative_to(medium.root)
    logs, traces, audit = (s.files for s in evidence.streams)
    assert [p.name for p in logs] == [f"logs-{d}.jsonl" for d in days]
    assert [p.name for p in audit] == [f"audit-{d}.jsonl" for d in days]
    # Every other day's traces are one zstd frame.
    assert [p.name for p in traces] == [
        f"traces-{days[0]}.binpb",
        f"traces-{days[1]}.binpb.zst",
        f"traces-{days[2]}.binpb",
    ]
    frame = zstandard.get_frame_parameters(traces[1].read_bytes())
    assert frame.window_size > 0


@pytest.mark.parametrize(
    ("records", "days"),
    [(50, 1), (minimum_records(5), 5), (777, 2), (1999, 3), (5000, 4)],
)
def test_exact_record_count(tmp_path: Path, records: int, days: int) -> None:
    parsed = generate(tmp_path, records=records, days=days, seed=records)
    assert parsed.evidence.record_count == records
    assert parsed.total == records
    # No file is empty.
    for group in (parsed.logs, parsed.spans, parsed.audit):
        for path, recs in group.items():
            assert recs, path


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days"):
        generate_raw(tmp_path, records=1000, days=0, seed=1)
    with pytest.raises(ValueError, match="records"):
        generate_raw(tmp_path, records=minimum_records(4) - 1, days=4, seed=1)


def test_log_lines_are_otlp_json_export_requests(medium: Parsed) -> None:
    # The protobuf JSON mapping knows every OTLP field name and type; only the ids differ
    # (OTLP/JSON spells bytes as hex, proto3 JSON as base64), so they are checked apart.
    for path, recs in medium.logs.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        decoded = 0
        for line in lines:
            doc = json.loads(line)
            for resource_logs in doc["resourceLogs"]:
                for scope_logs in resource_logs["scopeLogs"]:
                    for rec in scope_logs["logRecords"]:
                        rec.pop("traceId", None)
                        rec.pop("spanId", None)
            request = json_format.ParseDict(doc, ExportLogsServiceRequest())
            for resource_logs in request.resource_logs:
                for scope_logs in resource_logs.scope_logs:
                    for rec in scope_logs.log_records:
                        assert rec.time_unix_nano > 0
                        assert rec.severity_number in (9, 13, 17)
                        decoded += 1
        assert decoded == len(recs)


def test_logs_are_batched_with_mixed_legal_spellings(medium: Parsed) -> None:
    per_line = Counter((r.file, r.line) for r in medium.all_logs())
    assert max(per_line.values()) > 1
    assert max(per_line.values()) <= 50
    assert any(isinstance(r.raw_time, int) for r in medium.all_logs())
    assert any(isinstance(r.raw_time, str) for r in medium.all_logs())
    raw_ids = []
    for path in medium.logs:
        for line in path.read_text(encoding="utf-8").splitlines():
            raw_ids += re.findall(r'"traceId":"([0-9A-Fa-f]+)"', line)
    assert any(i != i.lower() for i in raw_ids), "some upper-case hex expected"
    assert any(i == i.lower() for i in raw_ids)
    assert all(HEX32.match(i) for i in raw_ids)
    # Several resources within one line happen.
    lines_with_many_resources = 0
    for path in medium.logs:
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(json.loads(line)["resourceLogs"]) > 1:
                lines_with_many_resources += 1
    assert lines_with_many_resources > 0


# ---------------------------------------------------------------------------------------------
# Order of occurrence
# ---------------------------------------------------------------------------------------------


def assert_non_decreasing_in_day(path: Path, times: list[int]) -> None:
    start, end = day_bounds(file_day(path))
    assert times, path
    for i in range(1, len(times)):
        assert times[i - 1] <= times[i], f"{path.name}: record {i} goes back in time"
    assert start <= times[0] and times[-1] < end, path.name


@pytest.mark.parametrize("which", ["medium", "tiny"])
def test_times_non_decreasing_within_each_file(which: str, request: pytest.FixtureRequest) -> None:
    parsed: Parsed = request.getfixturevalue(which)
    for path, logs in parsed.logs.items():
        assert_non_decreasing_in_day(path, [r.time_ns for r in logs])
    for path, spans in parsed.spans.items():
        assert_non_decreasing_in_day(path, [s.start_ns for s in spans])
        assert all(s.end_ns >= s.start_ns for s in spans)
    for path, audit in parsed.audit.items():
        assert_non_decreasing_in_day(path, [a.time_ns for a in audit])


def test_traffic_follows_business_hours(medium: Parsed) -> None:
    hours = Counter(datetime.fromtimestamp(a.time_ns / NS, UTC).hour for a in medium.all_audit())
    business = sum(hours[h] for h in range(8, 18))
    night = sum(hours[h] for h in range(0, 6))
    assert business > 5 * night


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------


def test_audit_objects_have_exactly_the_logger_fields(medium: Parsed) -> None:
    actions = Counter()
    for rec in medium.all_audit():
        assert list(rec.doc) == AUDIT_KEYS
        assert ISO_MS.match(rec.doc["timestamp"])
        assert list(rec.doc["attributes"]) == ["service", "tenantId", "updated_data"]
        assert rec.doc["attributes"]["updated_data"] is None or isinstance(
            rec.doc["attributes"]["updated_data"], dict
        )
        assert rec.doc["type"] == "audit_logging"
        assert rec.doc["level"] in {"INFO", "WARN"}
        assert rec.doc["attributes"]["tenantId"] in {"acme", "globex", "initech"}
        actions[rec.doc["action"]] += 1
    expected = {"LOGIN_SUCCESS", "LOGIN_FAILURE", "READ", "UPDATE", "CREATE", "PLAYBACK"}
    expected |= {"DOWNLOAD", "MONITOR", "CONFIG_CHANGE", "ROLE_CHANGE", "EXPORT"}
    assert expected <= set(actions)


def test_every_log_record_has_attributes_and_semantic_keys(medium: Parsed) -> None:
    keys: set[str] = set()
    for rec in medium.all_logs():
        assert rec.attrs, (rec.file, rec.line)
        assert "tenant.id" in rec.attrs
        keys |= set(rec.attrs)
        if "user.roles" in rec.attrs:
            assert isinstance(rec.attrs["user.roles"], list)
    assert {
        "user.id",
        "user.name",
        "user.roles",
        "client.address",
        "session.id",
        "conversation.id",
        "audit.action",
        "audit.outcome",
        "resource.type",
        "resource.id",
    } <= keys


def test_audit_copies_in_otlp_bodies_match_the_audit_stream(medium: Parsed) -> None:
    audit_lines = {a.raw for a in medium.all_audit()}
    silent = (
        iso_to_ns(medium.evidence.incident["silent_start"]),
        iso_to_ns(medium.evidence.incident["silent_end"]),
    )
    copies = [r for r in medium.all_logs() if r.scope == "cc.audit.bridge"]
    assert copies
    outside = 0
    for rec in copies:
        doc = json.loads(rec.body)
        assert list(doc) == AUDIT_KEYS
        assert rec.attrs["audit.action"] == doc["action"]
        assert rec.attrs["user.id"] == doc["user_id"]
        assert rec.time_ns == iso_to_ns(doc["timestamp"])
        if not silent[0] < rec.time_ns < silent[1]:
            assert rec.body in audit_lines
            outside += 1
    assert outside > 0


# ---------------------------------------------------------------------------------------------
# Traces and links
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["medium", "tiny"])
def test_traces_are_well_formed_and_within_one_file(
    which: str, request: pytest.FixtureRequest
) -> None:
    parsed: Parsed = request.getfixturevalue(which)
    traces: dict[str, list[SpanRec]] = defaultdict(list)
    for span in parsed.all_spans():
        assert HEX32.match(span.trace_id) and span.trace_id != "0" * 32
        assert HEX16.match(span.span_id) and span.span_id != "0" * 16
        traces[span.trace_id].append(span)
    for trace_id, spans in traces.items():
        assert len({s.file for s in spans}) == 1, trace_id
        ids = [s.span_id for s in spans]
        assert len(ids) == len(set(ids)), trace_id
        roots = [s for s in spans if not s.parent_id]
        assert len(roots) == 1, trace_id
        by_id = {s.span_id: s for s in spans}
        for span in spans:
            if span.parent_id:
                assert span.parent_id in by_id, (trace_id, span.name)
                parent = by_id[span.parent_id]
                assert parent.start_ns <= span.start_ns <= parent.end_ns


def test_call_traces_cover_the_call_handling_services(medium: Parsed) -> None:
    traces: dict[str, list[SpanRec]] = defaultdict(list)
    for span in medium.all_spans():
        traces[span.trace_id].append(span)
    calls = [spans for spans in traces.values() if any(s.name == "inbound call" for s in spans)]
    assert len(calls) > 100
    answered = 0
    for spans in calls:
        root = next(s for s in spans if not s.parent_id)
        assert (root.service, root.kind, root.name) == ("telephony-gateway", 2, "inbound call")
        services = {s.service for s in spans}
        assert {"telephony-gateway", "ivr-service", "routing-service"} <= services
        convs = {s.attrs["conversation.id"] for s in spans if "conversation.id" in s.attrs}
        assert len(convs) == 1
        if root.attrs["call.outcome"] == "answered":
            answered += 1
            assert {"agent-desktop", "recording-service"} <= services
            assert root.status_code == 1
        else:
            assert root.status_code == 2
    assert answered > len(calls) // 2


@pytest.mark.parametrize("which", ["medium", "tiny"])
def test_log_records_link_to_existing_spans_of_the_same_day(
    which: str, request: pytest.FixtureRequest
) -> None:
    parsed: Parsed = request.getfixturevalue(which)
    spans_by_day = {
        file_day(path): {(s.trace_id, s.span_id): s for s in spans}
        for path, spans in parsed.spans.items()
    }
    linked = 0
    for rec in parsed.all_logs():
        assert bool(rec.trace_id) == bool(rec.span_id)
        if not rec.trace_id:
            continue
        span = spans_by_day[file_day(rec.file)].get((rec.trace_id, rec.span_id))
        assert span is not None, (rec.file.name, rec.line, rec.body[:60])
        assert span.start_ns <= rec.time_ns <= span.end_ns + 10_000_000
        linked += 1
    assert linked > 0
    # Call-handling logs carry the trace context.
    for rec in parsed.all_logs():
        if rec.service in {"telephony-gateway", "agent-desktop", "recording-service"}:
            assert rec.trace_id, (rec.file.name, rec.line)


# ---------------------------------------------------------------------------------------------
# The planted incident
# ---------------------------------------------------------------------------------------------


def check_incident(parsed: Parsed, *, min_downloads: int, incident_day: date) -> None:
    facts = parsed.evidence.incident
    actor, new_ip = facts["actor_id"], facts["new_ip"]
    assert actor == "sup-004"
    night_start, night_end = iso_to_ns(facts["night_start"]), iso_to_ns(facts["night_end"])
    silent_start, silent_end = iso_to_ns(facts["silent_start"]), iso_to_ns(facts["silent_end"])
    day_start, _ = day_bounds(incident_day)
    assert facts["day"] == incident_day.isoformat()
    assert day_start + 3600 * NS <= night_start < silent_start < silent_end < night_end
    assert night_end <= day_start + int(3.5 * 3600) * NS

    logs, spans, audit = parsed.all_logs(), parsed.all_spans(), parsed.all_audit()

    # The address was never seen before that night, in any stream.
    for rec in logs:
        if rec.attrs.get("client.address") == new_ip:
            assert rec.time_ns >= night_start
            assert rec.attrs["user.id"] == actor
    for span in spans:
        if span.attrs.get("client.address") == new_ip:
            assert span.start_ns >= night_start
    for rec in audit:
        if rec.doc["source_ip_address"] == new_ip:
            assert rec.time_ns >= night_start
            assert rec.doc["user_id"] == actor
    # ... while the actor was active from the office before (on every earlier day).
    before = [a for a in audit if a.doc["user_id"] == actor and a.time_ns < night_start]
    assert all(a.doc["source_ip_address"] != new_ip for a in before)

    night_audit = [a for a in audit if a.doc["source_ip_address"] == new_ip]
    actions = [a.doc["action"] for a in night_audit]
    assert actions[0] == "LOGIN_FAILURE"
    assert actions[1] == "LOGIN_SUCCESS"
    assert night_audit[1].doc["resource_id"] == facts["session_id"]

    # Self-granted admin role.
    role = [a for a in night_audit if a.doc["action"] == "ROLE_CHANGE"]
    assert len(role) == 1
    assert role[0].doc["user_id"] == role[0].doc["resource_id"] == actor
    assert role[0].doc["resource"] == "user"
    data = role[0].doc["attributes"]["updated_data"]
    assert "admin" in data["roles"] and "admin" not in data["previous_roles"]
    later = [r for r in logs if r.attrs.get("user.id") == actor and r.time_ns > role[0].time_ns]
    assert later and all("admin" in r.attrs["user.roles"] for r in later)

    # Downloads: all in the OTLP audit copies, the audited part in the audit stream.
    otlp_downloads = [
        r
        for r in logs
        if r.attrs.get("audit.action") == "DOWNLOAD"
        and r.attrs.get("user.id") == actor
        and r.attrs.get("client.address") == new_ip
    ]
    assert len(otlp_downloads) == int(facts["downloads"]) >= min_downloads
    assert all(r.attrs["resource.type"] == "recording" for r in otlp_downloads)
    assert len({r.attrs["resource.id"] for r in otlp_downloads}) == len(otlp_downloads)
    audited = [a for a in night_audit if a.doc["action"] == "DOWNLOAD"]
    assert len(audited) == int(facts["downloads_audited"]) >= 2
    assert all(a.doc["resource"] == "recording" for a in audited)

    # The contact export, visible only in OTLP because the audit sink was off.
    exports = [
        r
        for r in logs
        if r.attrs.get("audit.action") == "EXPORT" and r.attrs["client.address"] == new_ip
    ]
    assert len(exports) == 1
    assert exports[0].attrs["resource.type"] == "contact"
    assert exports[0].attrs["resource.id"] == facts["export_resource_id"]
    assert json.loads(exports[0].body)["action"] == "EXPORT"
    assert silent_start < exports[0].time_ns < silent_end

    # The audit stream is silent for >= 20 minutes, bordered by the sink's config changes.
    assert silent_end - silent_start >= 20 * 60 * NS
    inside = [a for a in audit if silent_start < a.time_ns < silent_end]
    assert inside == []
    borders = [a for a in audit if a.time_ns in (silent_start, silent_end)]
    assert [b.doc["action"] for b in borders] == ["CONFIG_CHANGE", "CONFIG_CHANGE"]
    assert {b.doc["resource_id"] for b in borders} == {"audit.sink.opensearch"}
    # ... while the other streams go on.
    assert any(silent_start < r.time_ns < silent_end for r in logs)
    assert any(silent_start < s.start_ns < silent_end for s in spans)


def test_incident_is_planted_on_the_second_to_last_day(medium: Parsed) -> None:
    facts = medium.evidence.incident
    assert int(facts["downloads"]) >= 25
    check_incident(medium, min_downloads=25, incident_day=date(2026, 3, 3))


def test_scaled_down_incident_for_small_evidence(tiny: Parsed) -> None:
    assert 5 <= int(tiny.evidence.incident["downloads"]) < 25
    check_incident(tiny, min_downloads=5, incident_day=date(2026, 3, 2))


def test_incident_on_the_only_day_with_many_records(tmp_path: Path) -> None:
    parsed = generate(tmp_path, records=4000, days=1, seed=99)
    assert parsed.total == 4000
    check_incident(parsed, min_downloads=25, incident_day=date(2026, 3, 2))


def test_background_traffic_goes_on_during_the_audit_silence(tmp_path: Path) -> None:
    # Dense enough that other users work through the night: their calls are still traced and
    # logged inside the silent window, but none of their audit records reach the audit stream.
    parsed = generate(tmp_path, records=60_000, days=1, seed=8)
    check_incident(parsed, min_downloads=25, incident_day=date(2026, 3, 2))
    facts = parsed.evidence.incident
    silent_start, silent_end = iso_to_ns(facts["silent_start"]), iso_to_ns(facts["silent_end"])
    others = [
        r
        for r in parsed.all_logs()
        if silent_start < r.time_ns < silent_end and r.attrs.get("user.id") != facts["actor_id"]
    ]
    assert len(others) >= 5
    assert any(r.service == "agent-desktop" for r in others)
    assert not [a for a in parsed.all_audit() if silent_start < a.time_ns < silent_end]
