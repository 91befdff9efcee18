"""Importing evidence into a case: sealed bundles, raw evidence in every form, profiles, the
one-transaction-per-input rule, replays and the cross-import bundle registry.

Expected values come from what each test wrote (the records it built, the bytes it hashed, the
line it broke) or from the shipped sample's own manifests, never from the importer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.bundle.manifest import LEAVES_PATH, MANIFEST_PATH
from auditlens.core.bundle.seal import seal
from auditlens.core.errors import InvalidInputError
from auditlens.core.resources import sample_case_dir
from auditlens.core.sample.case import sample_signing_key
from auditlens.core.store.case import Case
from auditlens.core.store.importer import BATCH_ROWS, ImportReport, import_inputs
from auditlens.core.verify.trust import TrustStore, load_trust
from golden.make_golden import (
    alter,
    copy_bundle,
    edit_lines,
    manifest_of,
    read_member,
    run,
    split_lines,
    write_manifest,
)

SAMPLE = sample_case_dir()
SAMPLE_TRUST = SAMPLE / "truststore.json"
AUDIT_BUNDLES = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())
LOGS_BUNDLES = sorted((SAMPLE / "bundles" / "cc-prod.otel-logs").iterdir())
TRACES_BUNDLES = sorted((SAMPLE / "bundles" / "cc-prod.otel-traces").iterdir())
COMPAT = Path(__file__).resolve().parents[2] / "data" / "otlp-examples"

T0 = 1_772_445_600_123_456_789  # 2026-03-02T10:00:00.123456789Z


# --- helpers ---------------------------------------------------------------------------------


def sample_trust() -> TrustStore:
    return load_trust(SAMPLE_TRUST)


def do_import(folder: Path, *paths: Path, trust: TrustStore | None = None) -> ImportReport:
    with Case.open(folder, create=True) as case:
        report: ImportReport = run(import_inputs(case, list(paths), trust or TrustStore()))
    return report


def rows(folder: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with Case.open(folder) as case:
        cursor = case.db.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def events(
    folder: Path, where: str = "TRUE", params: list[Any] | None = None
) -> list[dict[str, Any]]:
    return rows(
        folder,
        f"SELECT * EXCLUDE (leaf_hash) FROM events WHERE {where} ORDER BY input_id, stream_id, seq",
        params,
    )


def count(folder: Path, table: str) -> int:
    return int(rows(folder, f"SELECT count(*) AS n FROM {table}")[0]["n"])


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_sha256(path: Path) -> str:
    """The documented digest of a folder input: SHA-256 over sorted ``name NUL sha256 LF``."""
    listing = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        name = item.relative_to(path).as_posix().encode()
        listing.update(name + b"\0" + file_sha256(item).encode() + b"\n")
    return listing.hexdigest()


def attrs(**values: Any) -> list[dict[str, Any]]:
    """OTLP/JSON key-value list."""
    out = []
    for key, value in values.items():
        key = key.replace("__", ".")
        if isinstance(value, list):
            any_value: dict[str, Any] = {
                "arrayValue": {"values": [{"stringValue": v} for v in value]}
            }
        elif isinstance(value, int):
            any_value = {"intValue": str(value)}
        else:
            any_value = {"stringValue": value}
        out.append({"key": key, "value": any_value})
    return out


def write_lines(path: Path, documents: list[Any]) -> Path:
    path.write_text("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents))
    return path


# --- sealed bundles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bundle",
    [AUDIT_BUNDLES[0], LOGS_BUNDLES[0], TRACES_BUNDLES[0]],
    ids=["directory", "zip", "tar.gz"],
)
def test_a_sealed_bundle_is_verified_and_stored_with_its_verdict_and_findings(
    tmp_path: Path, bundle: Path
) -> None:
    manifest = manifest_of(bundle)
    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    (result,) = report.inputs
    assert (result.kind, result.verdict.value, result.replay) == ("bundle", "verified", False)
    assert result.records == int(manifest["records"]["count"])
    expected_sha = folder_sha256(bundle) if bundle.is_dir() else file_sha256(bundle)
    assert result.sha256 == expected_sha

    (stored,) = rows(tmp_path / "case", "SELECT * FROM bundles")
    assert stored["bundle_id"] == manifest["bundle_id"] == result.bundle_id
    assert stored["stream_id"] == manifest["stream"]["id"]
    assert (stored["first_seq"], stored["last_seq"]) == (
        int(manifest["records"]["first_seq"]),
        int(manifest["records"]["last_seq"]),
    )
    assert stored["verdict"] == "verified"
    assert (
        stored["manifest_sha256"] == hashlib.sha256(read_member(bundle, MANIFEST_PATH)).hexdigest()
    )
    (intake,) = rows(tmp_path / "case", "SELECT * FROM inputs")
    assert (intake["sha256"], intake["kind"], intake["verdict"]) == (
        expected_sha,
        "bundle",
        "verified",
    )
    assert intake["record_count"] == result.records
    # The sample trust store is marked as a sample: its warning is kept with the bundle.
    codes = [f["code"] for f in rows(tmp_path / "case", "SELECT code FROM findings")]
    assert codes == ["SAMPLE_TRUST"]

    stored_events = events(tmp_path / "case")
    assert len(stored_events) == result.records
    assert {e["integrity"] for e in stored_events} == {"verified"}
    assert {e["bundle_id"] for e in stored_events} == {manifest["bundle_id"]}
    first = int(manifest["records"]["first_seq"])
    assert [e["seq"] for e in stored_events] == list(range(first, first + result.records))


def test_a_bundle_signed_by_an_unknown_key_imports_as_untrusted(tmp_path: Path) -> None:
    report = do_import(tmp_path / "case", AUDIT_BUNDLES[0])  # empty trust store
    assert report.inputs[0].verdict.value == "untrusted"
    assert {e["integrity"] for e in events(tmp_path / "case")} == {"untrusted"}
    assert "UNTRUSTED_SIGNER" in {
        f["code"] for f in rows(tmp_path / "case", "SELECT code FROM findings")
    }
    assert rows(tmp_path / "case", "SELECT verdict FROM bundles") == [{"verdict": "untrusted"}]


def test_a_modified_record_is_tampered_and_the_rest_of_its_bundle_keeps_its_status(
    tmp_path: Path,
) -> None:
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "evidence" / AUDIT_BUNDLES[0].name)
    data = next(e["path"] for e in manifest_of(bundle)["files"] if e["path"].startswith("data/"))
    changed_line = 17
    edit_lines(
        bundle,
        lambda lines: [alter(x) if n == changed_line else x for n, x in enumerate(lines, 1)],
        data,
    )
    first = int(manifest_of(bundle)["records"]["first_seq"])
    changed_seq = first + changed_line - 1

    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    assert report.inputs[0].verdict.value == "tampered"
    stored = events(tmp_path / "case")
    assert len(stored) == int(manifest_of(bundle)["records"]["count"])
    tampered = [e["seq"] for e in stored if e["integrity"] == "tampered"]
    assert tampered == [changed_seq]
    assert {e["integrity"] for e in stored if e["seq"] != changed_seq} == {"verified"}
    # The changed content is what the case shows, so an investigator sees the forged value.
    forged = next(e for e in stored if e["seq"] == changed_seq)
    original = json.loads(split_lines((AUDIT_BUNDLES[0] / data).read_bytes())[changed_line - 1])
    assert forged["tenant"] != original["attributes"]["tenantId"]

    findings = rows(tmp_path / "case", "SELECT * FROM findings WHERE code = 'RECORD_MODIFIED'")
    assert [(f["seq"], f["line"]) for f in findings] == [(changed_seq, changed_line)]
    assert rows(tmp_path / "case", "SELECT verdict FROM bundles") == [{"verdict": "tampered"}]


def test_a_bundle_missing_a_listed_file_is_tampered_and_the_finding_is_stored(
    tmp_path: Path,
) -> None:
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "evidence" / AUDIT_BUNDLES[0].name)
    (bundle / LEAVES_PATH).unlink()
    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    assert report.inputs[0].verdict.value == "tampered"
    assert report.inputs[0].records == int(manifest_of(bundle)["records"]["count"])
    stored = rows(tmp_path / "case", "SELECT code, path FROM findings WHERE code = 'MISSING_FILE'")
    assert len(stored) == 1 and stored[0]["path"].endswith(LEAVES_PATH)
    assert rows(tmp_path / "case", "SELECT verdict FROM bundles") == [{"verdict": "tampered"}]


def test_an_unreadable_bundle_is_recorded_as_invalid_without_events(tmp_path: Path) -> None:
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "evidence" / AUDIT_BUNDLES[0].name)
    (bundle / MANIFEST_PATH).write_bytes(b'{"not": "a manifest"}')
    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    assert report.inputs[0].verdict.value == "invalid"
    assert report.inputs[0].records == 0
    assert count(tmp_path / "case", "events") == 0
    (intake,) = rows(tmp_path / "case", "SELECT sha256, verdict FROM inputs")
    assert intake == {"sha256": folder_sha256(bundle), "verdict": "invalid"}


# --- raw evidence ------------------------------------------------------------------------------


def collector_lines() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two Collector JSON lines (2 resources x 3 records each) and the expected events."""
    documents = []
    expected = []
    n = 0
    for batch in range(2):
        resources = []
        for r in range(2):
            service = f"agent-desktop-{r}"
            records = []
            for _ in range(3):
                time_ns = T0 + n * 1_000_003
                trace = f"{0xABC0 + n:032x}"
                span = f"{0xDEF0 + n:016x}"
                records.append(
                    {
                        "timeUnixNano": time_ns if n % 2 else str(time_ns),
                        "observedTimeUnixNano": str(time_ns + 5),
                        "severityNumber": 9,
                        "severityText": "INFO",
                        "traceId": trace.upper() if n % 3 else trace,
                        "spanId": span.upper() if n % 2 else span,
                        "body": {"stringValue": f"contact viewed {n}"},
                        "attributes": attrs(
                            user__id=f"agent-{n:03d}",
                            user__name=f"Agent {n}",
                            user__roles=["agent", "team-lead"],
                            client__address=f"10.20.1.{n}",
                            session__id=f"sess-{batch}",
                            tenant__id="acme",
                            audit__action="READ",
                            audit__outcome="success",
                            resource__type="contact",
                            resource__id=f"ct-{n}",
                            conversation__id=f"conv-{n:012x}",
                        ),
                    }
                )
                expected.append(
                    {
                        "kind": "log",
                        "time_ns": time_ns,
                        "observed_ns": time_ns + 5,
                        "service": service,
                        "actor_id": f"agent-{n:03d}",
                        "actor_name": f"Agent {n}",
                        "actor_role": "agent,team-lead",
                        "action": "READ",
                        "outcome": "success",
                        "resource_type": "contact",
                        "resource_id": f"ct-{n}",
                        "source_ip": f"10.20.1.{n}",
                        "tenant": "acme",
                        "session_id": f"sess-{batch}",
                        "conversation_id": f"conv-{n:012x}",
                        "trace_id": trace,
                        "span_id": span,
                        "severity": "INFO",
                        "body": f"contact viewed {n}",
                    }
                )
                n += 1
            resources.append(
                {
                    "resource": {"attributes": attrs(service__name=service)},
                    "scopeLogs": [{"scope": {"name": "cc.agent-desktop"}, "logRecords": records}],
                }
            )
        documents.append({"resourceLogs": resources})
    return documents, expected


def pick(event: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: event[k] for k in keys}


def test_collector_json_lines_import_one_event_per_record_unsealed(tmp_path: Path) -> None:
    documents, expected = collector_lines()
    raw = write_lines(tmp_path / "logs.jsonl", documents)
    report = do_import(tmp_path / "case", raw)
    (result,) = report.inputs
    assert (result.kind, result.verdict.value, result.records) == ("raw", "unsealed", len(expected))
    assert result.sha256 == file_sha256(raw)
    stored = events(tmp_path / "case")
    assert [pick(e, expected[0].keys()) for e in stored] == expected
    assert {e["integrity"] for e in stored} == {"unsealed"}
    assert {e["bundle_id"] for e in stored} == {None}
    # Every record of a line keeps the line it came from.
    assert [e["line"] for e in stored] == [1] * 6 + [2] * 6
    (intake,) = rows(tmp_path / "case", "SELECT * FROM inputs")
    assert (intake["sha256"], intake["kind"], intake["verdict"], intake["record_count"]) == (
        file_sha256(raw),
        "raw",
        "unsealed",
        len(expected),
    )


def proto_files() -> tuple[bytes, bytes, list[dict[str, Any]]]:
    """Collector ``format: proto`` logs and traces files and the expected events (in file order)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    def framed(messages: list[bytes]) -> bytes:
        return b"".join(len(m).to_bytes(4, "big") + m for m in messages)

    expected_logs = []
    log_messages = []
    for m in range(2):
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        attribute = resource_logs.resource.attributes.add()
        attribute.key = "service.name"
        attribute.value.string_value = "recording-service"
        scope_logs = resource_logs.scope_logs.add()
        for i in range(3):
            n = m * 3 + i
            record = scope_logs.log_records.add()
            record.time_unix_nano = T0 + n
            record.severity_text = "WARN"
            record.body.string_value = f"recording downloaded {n}"
            record.trace_id = bytes([0xA0 + n]) * 16
            record.span_id = bytes([0xB0 + n]) * 8
            user = record.attributes.add()
            user.key = "user.id"
            user.value.string_value = "sup-004"
            expected_logs.append(
                {
                    "kind": "log",
                    "time_ns": T0 + n,
                    "service": "recording-service",
                    "actor_id": "sup-004",
                    "body": f"recording downloaded {n}",
                    "trace_id": (bytes([0xA0 + n]) * 16).hex(),
                    "span_id": (bytes([0xB0 + n]) * 8).hex(),
                    "parent_span_id": None,
                    "name": None,
                    "duration_ns": None,
                }
            )
        log_messages.append(request.SerializeToString())

    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key = "service.name"
    attribute.value.string_value = "routing-service"
    scope_spans = resource_spans.scope_spans.add()
    expected_spans = []
    for n in range(3):
        span = scope_spans.spans.add()
        span.trace_id = bytes([0xC0]) * 16
        span.span_id = bytes([0xD0 + n]) * 8
        if n:
            span.parent_span_id = bytes([0xD0 + n - 1]) * 8
        span.name = f"route call {n}"
        span.kind = 2
        span.start_time_unix_nano = T0 + n * 10
        span.end_time_unix_nano = T0 + n * 10 + 7
        expected_spans.append(
            {
                "kind": "span",
                "time_ns": T0 + n * 10,
                "service": "routing-service",
                "actor_id": None,
                "body": None,
                "trace_id": (bytes([0xC0]) * 16).hex(),
                "span_id": (bytes([0xD0 + n]) * 8).hex(),
                "parent_span_id": (bytes([0xD0 + n - 1]) * 8).hex() if n else None,
                "name": f"route call {n}",
                "duration_ns": 7,
            }
        )
    traces = framed([request.SerializeToString()])
    return framed(log_messages), traces, expected_logs + expected_spans


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "zstd"])
def test_collector_proto_framing_imports_logs_and_spans(tmp_path: Path, compressed: bool) -> None:
    logs, traces, expected = proto_files()
    if compressed:
        logs = zstandard.ZstdCompressor().compress(logs)
        traces = zstandard.ZstdCompressor().compress(traces)
    suffix = ".binpb.zst" if compressed else ".binpb"
    logs_file = tmp_path / f"logs{suffix}"
    traces_file = tmp_path / f"traces{suffix}"
    logs_file.write_bytes(logs)
    traces_file.write_bytes(traces)
    report = do_import(tmp_path / "case", logs_file, traces_file)
    assert [r.records for r in report.inputs] == [6, 3]
    # The digest is of the file as given (compressed bytes), hashed before parsing.
    assert [r.sha256 for r in report.inputs] == [file_sha256(logs_file), file_sha256(traces_file)]
    stored = events(tmp_path / "case")
    assert [pick(e, expected[0].keys()) for e in stored] == expected
    assert {e["integrity"] for e in stored} == {"unsealed"}


def test_the_official_otlp_examples_import_with_lower_case_ids(tmp_path: Path) -> None:
    logs = json.loads((COMPAT / "logs.json").read_bytes())
    trace = json.loads((COMPAT / "trace.json").read_bytes())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    span = trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    # The examples use bare numbers and upper-case hex: the point of this test.
    assert isinstance(record["timeUnixNano"], int)
    assert record["traceId"] != record["traceId"].lower()

    report = do_import(tmp_path / "case", COMPAT / "logs.json", COMPAT / "trace.json")
    assert [(r.records, r.verdict.value) for r in report.inputs] == [(1, "unsealed")] * 2
    log_event, span_event = events(tmp_path / "case")
    assert log_event["kind"] == "log"
    assert log_event["time_ns"] == record["timeUnixNano"]
    assert log_event["trace_id"] == record["traceId"].lower()
    assert log_event["span_id"] == record["spanId"].lower()
    assert log_event["severity"] == record["severityText"]
    assert log_event["body"] == record["body"]["stringValue"]
    assert log_event["service"] == "my.service"
    attributes = json.loads(log_event["attributes"])
    assert attributes["int.attribute"] == 10
    assert attributes["array.attribute"] == ["many", "values"]
    assert attributes["map.attribute"] == {"some.map.key": "some value"}

    assert span_event["kind"] == "span"
    assert span_event["time_ns"] == span["startTimeUnixNano"]
    assert span_event["duration_ns"] == span["endTimeUnixNano"] - span["startTimeUnixNano"]
    assert span_event["trace_id"] == span["traceId"].lower()
    assert span_event["span_id"] == span["spanId"].lower()
    assert span_event["parent_span_id"] == span["parentSpanId"].lower()
    assert span_event["name"] == span["name"]


AUDIT_RECORDS = [
    {
        "timestamp": "2026-03-02T10:00:00.125Z",
        "user_id": "sup-004",
        "user_name": "Kenji Haddad",
        "action": "LOGIN_SUCCESS",
        "resource": "session",
        "resource_id": "bd6984a9ef6dd321",
        "source_ip_address": "198.51.100.211",
        "attributes": {"service": "identity-service", "tenantId": "globex", "updated_data": None},
        "type": "audit_logging",
        "level": "INFO",
    },
    {
        "timestamp": "2026-03-02T10:05:12.500Z",
        "user_id": "sup-004",
        "user_name": "Kenji Haddad",
        "action": "EXPORT",
        "resource": "contact",
        "resource_id": "export-ce7351d3",
        "source_ip_address": "198.51.100.211",
        "attributes": {
            "service": "crm-service",
            "tenantId": "globex",
            "updated_data": {"format": "csv", "rows": 124070},
        },
        "type": "audit_logging",
        "level": "WARN",
    },
]


def audit_expectation(record: dict[str, Any]) -> dict[str, Any]:
    from auditlens.core.formats.times import parse_time_ns

    return {
        "kind": "audit",
        "time_ns": parse_time_ns(record["timestamp"]),
        "service": record["attributes"]["service"],
        "actor_id": record["user_id"],
        "actor_name": record["user_name"],
        "action": record["action"],
        "resource_type": record["resource"],
        "resource_id": record["resource_id"],
        "source_ip": record["source_ip_address"],
        "tenant": record["attributes"]["tenantId"],
        "severity": record["level"],
    }


def test_audit_logger_json_lines_map_to_actor_action_and_resource(tmp_path: Path) -> None:
    raw = write_lines(tmp_path / "audit.jsonl", AUDIT_RECORDS)
    report = do_import(tmp_path / "case", raw)
    assert report.inputs[0].records == len(AUDIT_RECORDS)
    stored = events(tmp_path / "case")
    expected = [audit_expectation(r) for r in AUDIT_RECORDS]
    assert [pick(e, expected[0].keys()) for e in stored] == expected
    assert [e["line"] for e in stored] == [1, 2]
    assert json.loads(stored[1]["attributes"])["updated_data"] == {"format": "csv", "rows": 124070}


# Data Prepper span documents as OpenSearch stores them in otel-v1-apm-span-*: flat keys with
# '@' for '.' in attribute names, kind as a name, times as RFC 3339 text.
SPAN_TRACE = "84da424666beb18439b2376ffd64b5d3"


def span_source(n: int) -> dict[str, Any]:
    span_id = f"{0xFE9242B3D4A2F3B0 + n:016x}"
    parent = f"{0xFE9242B3D4A2F3B0 + n - 1:016x}" if n else ""
    return {
        "traceId": SPAN_TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": ["POST /api/v1/contacts/export", "crm.export", "db.query"][n],
        "kind": ["SPAN_KIND_SERVER", "SPAN_KIND_INTERNAL", "SPAN_KIND_CLIENT"][n],
        "startTime": f"2026-03-03T01:15:42.{48639423 + n * 1000:09d}Z",
        "endTime": f"2026-03-03T01:15:43.{n:09d}Z",
        "durationInNanos": 951_360_577 - n * 1000 + n,
        "serviceName": "crm-service",
        "traceGroup": "POST /api/v1/contacts/export",
        "traceGroupFields.endTime": "2026-03-03T01:15:43.000000000Z",
        "traceGroupFields.statusCode": 0,
        "traceGroupFields.durationInNanos": 951_360_577,
        "status.code": 0,
        "droppedAttributesCount": 0,
        "events": [],
        "links": [],
        "span.attributes.http@method": "POST",
        "span.attributes.user@id": "sup-004",
        "span.attributes.client@address": "198.51.100.211",
        "span.attributes.session@id": "bd6984a9ef6dd321",
        "span.attributes.audit@action": "EXPORT",
        "resource.attributes.service@name": "crm-service",
        "resource.attributes.tenant@id": "globex",
    }


def span_hit(n: int) -> dict[str, Any]:
    return {
        "_index": "otel-v1-apm-span-000001",
        "_id": f"span-{n}",
        "_seq_no": 40 + n,
        "_primary_term": 1,
        "_score": 1.0,
        "_source": span_source(n),
    }


def expected_span(n: int) -> dict[str, Any]:
    from auditlens.core.formats.times import parse_time_ns

    source = span_source(n)
    return {
        "kind": "span",
        "time_ns": parse_time_ns(source["startTime"]),
        "service": "crm-service",
        "trace_id": SPAN_TRACE,
        "span_id": source["spanId"],
        "parent_span_id": source["parentSpanId"] or None,
        "name": source["name"],
        "duration_ns": source["durationInNanos"],
        "actor_id": "sup-004",
        "source_ip": "198.51.100.211",
        "session_id": "bd6984a9ef6dd321",
        "action": "EXPORT",
        "tenant": "globex",
    }


def search_response(hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "took": 5,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0, "hits": hits},
    }


@pytest.mark.parametrize("form", ["search-response", "ndjson"])
def test_data_prepper_span_documents_import_as_spans(tmp_path: Path, form: str) -> None:
    hits = [span_hit(n) for n in range(3)]
    if form == "search-response":
        raw = tmp_path / "spans.json"
        raw.write_text(json.dumps(search_response(hits), indent=2))  # as the API returns it
    else:
        raw = write_lines(tmp_path / "spans.ndjson", hits)
    report = do_import(tmp_path / "case", raw)
    assert (report.inputs[0].records, report.inputs[0].verdict.value) == (3, "unsealed")
    stored = events(tmp_path / "case")
    expected = [expected_span(n) for n in range(3)]
    assert [pick(e, expected[0].keys()) for e in stored] == expected
    attributes = json.loads(stored[0]["attributes"])
    # "span.attributes.http@method" is the attribute http.method.
    assert attributes["http.method"] == "POST"
    assert attributes["service.name"] == "crm-service"


def test_opensearch_log_and_audit_index_documents_import(tmp_path: Path) -> None:
    log_hit = {
        "_index": "logs-otel-v1-000001",
        "_id": "log-1",
        "_seq_no": 7,
        "_source": {
            "time": "2026-03-03T01:15:42.059000001Z",
            "observedTime": "2026-03-03T01:15:42.060000000Z",
            "severityText": "WARN",
            "severityNumber": 13,
            "body": "contact export started",
            "traceId": SPAN_TRACE,
            "spanId": "fe9242b3d4a2f3b0",
            "serviceName": "crm-service",
            "log.attributes.user@id": "sup-004",
            "log.attributes.audit@action": "EXPORT",
            "resource.attributes.service@name": "crm-service",
        },
    }
    audit_hits = [
        {"_index": "audit_log_index", "_id": f"a{i}", "_seq_no": i, "_source": record}
        for i, record in enumerate(AUDIT_RECORDS)
    ]
    logs = write_lines(tmp_path / "logs.ndjson", [log_hit])
    audit = tmp_path / "audit-search.json"
    audit.write_text(json.dumps(search_response(audit_hits)))
    report = do_import(tmp_path / "case", logs, audit)
    assert [r.records for r in report.inputs] == [1, 2]
    log_event, *audit_events = events(tmp_path / "case")

    from auditlens.core.formats.times import parse_time_ns

    assert pick(
        log_event,
        ["kind", "time_ns", "observed_ns", "severity", "body", "trace_id", "span_id", "service"],
    ) == {
        "kind": "log",
        "time_ns": parse_time_ns("2026-03-03T01:15:42.059000001Z"),
        "observed_ns": parse_time_ns("2026-03-03T01:15:42.060000000Z"),
        "severity": "WARN",
        "body": "contact export started",
        "trace_id": SPAN_TRACE,
        "span_id": "fe9242b3d4a2f3b0",
        "service": "crm-service",
    }
    assert (log_event["actor_id"], log_event["action"]) == ("sup-004", "EXPORT")
    expected = [audit_expectation(r) for r in AUDIT_RECORDS]
    assert [pick(e, expected[0].keys()) for e in audit_events] == expected


# --- profiles ----------------------------------------------------------------------------------

CASE_PROFILE = """\
# An investigator's own mapping: the CRM's login attribute and the ticketing tool's operator.
name = "crm-agent-login"
applies_to = ["log", "audit"]

[columns]
actor_id = ["attr.crm.agent_login", "operator.login"]
"""


def test_a_profile_in_the_case_folder_maps_a_custom_attribute(tmp_path: Path) -> None:
    log = {
        "resourceLogs": [
            {
                "resource": {"attributes": attrs(service__name="crm-service")},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(T0),
                                "body": {"stringValue": "contact updated"},
                                "attributes": attrs(crm__agent_login="jdoe"),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    audit = {"timestamp": "2026-03-02T10:00:01Z", "action": "EXPORT", "operator": {"login": "mkay"}}
    raw_log = write_lines(tmp_path / "crm.jsonl", [log])
    raw_audit = write_lines(tmp_path / "tickets.jsonl", [audit])

    plain = tmp_path / "plain"
    do_import(plain, raw_log, raw_audit)
    assert [e["actor_id"] for e in events(plain)] == [None, None]

    mapped = tmp_path / "mapped"
    (mapped / "profiles").mkdir(parents=True)
    (mapped / "profiles" / "crm.toml").write_text(CASE_PROFILE)
    do_import(mapped, raw_log, raw_audit)
    assert [e["actor_id"] for e in events(mapped)] == ["jdoe", "mkay"]


# --- one transaction per input -----------------------------------------------------------------


def audit_line(i: int) -> str:
    return json.dumps(
        {
            "timestamp": f"2026-03-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "user_id": f"u{i}",
            "action": "READ",
        }
    )


@pytest.mark.parametrize("bad_line", [4, BATCH_ROWS + 3], ids=["early", "after-a-full-batch"])
def test_a_bad_record_rejects_the_whole_input_naming_file_and_line(
    tmp_path: Path, bad_line: int
) -> None:
    case = tmp_path / "case"
    first = write_lines(tmp_path / "first.jsonl", AUDIT_RECORDS)
    do_import(case, first)
    before = events(case)

    lines = [audit_line(i) for i in range(bad_line + 5)]
    lines[bad_line - 1] = '{"timestamp": "2026-03-02T10:00:00Z", "user_id": "u", "action": '
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidInputError) as caught:
        do_import(case, broken)
    assert (caught.value.path, caught.value.line) == (str(broken), bad_line)
    assert f"{broken}:{bad_line}" in caught.value.diagnostics()

    # Nothing of the broken input, everything of the earlier one.
    assert events(case) == before
    assert [r["sha256"] for r in rows(case, "SELECT sha256 FROM inputs")] == [file_sha256(first)]
    # The case stays usable.
    later = write_lines(tmp_path / "later.jsonl", [json.loads(audit_line(1))])
    report = do_import(case, later)
    assert report.inputs[0].records == 1
    assert len(events(case)) == len(before) + 1


def test_a_bad_file_in_a_raw_folder_rejects_the_whole_folder(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_lines(folder / "a.jsonl", AUDIT_RECORDS)
    (folder / "b.jsonl").write_text(audit_line(1) + "\n" + '{"no kind": true}\n')
    with pytest.raises(InvalidInputError) as caught:
        do_import(tmp_path / "case", folder)
    assert (caught.value.path, caught.value.line) == (str(folder / "b.jsonl"), 2)
    assert count(tmp_path / "case", "events") == 0
    assert count(tmp_path / "case", "inputs") == 0


# --- replays -----------------------------------------------------------------------------------


def test_importing_the_same_raw_file_twice_is_a_replay(tmp_path: Path) -> None:
    raw = write_lines(tmp_path / "audit.jsonl", AUDIT_RECORDS)
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(raw, copy)
    first = do_import(tmp_path / "case", raw)
    again = do_import(tmp_path / "case", raw, copy)
    assert first.inputs[0].replay is False
    assert [(r.replay, r.records, r.sha256) for r in again.inputs] == [
        (True, 0, file_sha256(raw)),
        (True, 0, file_sha256(raw)),
    ]
    assert count(tmp_path / "case", "events") == len(AUDIT_RECORDS)
    assert count(tmp_path / "case", "inputs") == 1


def zip_bundle(folder: Path, out: Path) -> Path:
    """The same bundle in a .zip container (stored entries, regular files)."""
    with zipfile.ZipFile(out, "w") as archive:
        for item in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(item, item.relative_to(folder).as_posix())
    return out


def test_importing_the_same_bundle_twice_is_a_replay_whatever_its_container(
    tmp_path: Path,
) -> None:
    bundle = AUDIT_BUNDLES[0]
    as_zip = zip_bundle(bundle, tmp_path / f"{bundle.name}.zip")
    case = tmp_path / "case"
    do_import(case, bundle, trust=sample_trust())
    n = count(case, "events")
    again = do_import(case, bundle, as_zip, trust=sample_trust())
    assert [(r.replay, r.records, r.verdict.value) for r in again.inputs] == [
        (True, 0, "verified"),
        (True, 0, "verified"),
    ]
    assert count(case, "events") == n
    assert count(case, "bundles") == 1


# --- the registry of bundles across imports ----------------------------------------------------


def registry_codes(result: Any) -> set[str]:
    """Codes of the findings between bundles of the input's stream, after its import."""
    return {s.finding.code for s in result.stream.findings} if result.stream else set()


def registry_finding(result: Any, code: str, bundle: Path) -> Any:
    """The stream finding ``code`` about ``bundle`` (a fork may name both of its halves)."""
    (found,) = [
        s.finding
        for s in result.stream.findings
        if s.finding.code == code and str(s.finding.path) == str(bundle)
    ]
    return found


def test_a_skipped_bundle_is_reported_as_a_gap(tmp_path: Path) -> None:
    b1, _, b3 = AUDIT_BUNDLES
    case = tmp_path / "case"
    do_import(case, b1, trust=sample_trust())
    (result,) = do_import(case, b3, trust=sample_trust()).inputs
    assert registry_codes(result) == {"BUNDLE_GAP"}
    # The gap is the stream's, between bundles 1 and 3: bundle 3 itself is intact.
    assert result.verdict.value == "verified"
    assert result.stream.verdict.value == "tampered"
    gap = registry_finding(result, "BUNDLE_GAP", b3)
    assert gap.seq == int(manifest_of(b1)["records"]["last_seq"]) + 1
    stored = rows(
        case,
        "SELECT code, seq, bundle_id FROM stream_findings "
        "WHERE code = 'BUNDLE_GAP' AND closed_input_id IS NULL",
    )
    assert stored == [
        {"code": "BUNDLE_GAP", "seq": gap.seq, "bundle_id": manifest_of(b3)["bundle_id"]}
    ]
    assert rows(case, "SELECT verdict FROM bundles ORDER BY first_seq") == [
        {"verdict": "verified"},
        {"verdict": "verified"},
    ]
    assert rows(case, "SELECT verdict FROM streams") == [{"verdict": "tampered"}]


def test_a_gap_is_reported_whatever_the_import_order(tmp_path: Path) -> None:
    b1, _, b3 = AUDIT_BUNDLES
    case = tmp_path / "case"
    do_import(case, b3, trust=sample_trust())
    do_import(case, b1, trust=sample_trust())
    codes = [r["code"] for r in rows(case, "SELECT code FROM stream_findings")]
    assert codes == ["BUNDLE_GAP"]


@pytest.fixture(scope="module")
def other_successor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, different bundle continuing the sample's audit bundle 1 (a fork)."""
    root = tmp_path_factory.mktemp("fork")
    raw = root / "day2.jsonl"
    lines = split_lines((SAMPLE / "raw" / "audit" / "audit-2026-03-03.jsonl").read_bytes())
    raw.write_bytes(b"".join(line + b"\n" for line in lines[1:]))  # one record dropped
    out = root / "cc-prod.audit-0002-other"
    run(
        seal(
            [raw],
            sample_signing_key(),
            out,
            previous=AUDIT_BUNDLES[0],
            sealed_at="2026-03-04T00:05:00Z",
        )
    )
    return out


def test_a_second_successor_of_a_bundle_is_reported_as_a_fork(
    tmp_path: Path, other_successor: Path
) -> None:
    b1, b2, _ = AUDIT_BUNDLES
    case = tmp_path / "case"
    do_import(case, b1, b2, trust=sample_trust())
    (result,) = do_import(case, other_successor, trust=sample_trust()).inputs
    # Both successors are signed by the same trusted key: neither is preferred, both are named,
    # and the fork is the stream's; each bundle keeps its own verdict.
    assert result.verdict.value == "verified"
    assert result.stream.verdict.value == "tampered"
    assert registry_codes(result) == {"BUNDLE_FORK"}
    fork = registry_finding(result, "BUNDLE_FORK", other_successor)
    assert fork.seq == int(manifest_of(b1)["records"]["last_seq"]) + 1
    assert registry_finding(result, "BUNDLE_FORK", b2).seq == fork.seq
    assert {r["code"] for r in rows(case, "SELECT code FROM stream_findings")} == {"BUNDLE_FORK"}


def test_a_rolled_back_bundle_is_reported(tmp_path: Path) -> None:
    # A sealer that links to bundle 2 but re-uses its last 10 sequence numbers: sealed after a
    # copy of bundle 2's manifest claiming 10 fewer records, then pointed at the real bundle 2.
    b1, b2, _ = AUDIT_BUNDLES
    key = sample_signing_key()
    real = read_member(b2, MANIFEST_PATH)
    fake = tmp_path / "fake-previous"
    fake.mkdir()
    document = json.loads(real)
    rolled_back_last = int(document["records"]["last_seq"]) - 10
    document["records"]["last_seq"] = str(rolled_back_last)
    (fake / MANIFEST_PATH).write_bytes(canonicalize(document))
    raw = tmp_path / "rolled.jsonl"
    lines = split_lines((SAMPLE / "raw" / "audit" / "audit-2026-03-03.jsonl").read_bytes())
    raw.write_bytes(b"".join(alter(line) + b"\n" for line in lines[-10:]))
    rolled = tmp_path / "cc-prod.audit-rolled"
    run(seal([raw], key, rolled, previous=fake, sealed_at="2026-03-04T00:10:00Z"))
    manifest = manifest_of(rolled)
    manifest["chain"]["previous"]["manifest_sha256"] = hashlib.sha256(real).hexdigest()
    write_manifest(rolled, manifest, key)

    case = tmp_path / "case"
    do_import(case, b1, b2, trust=sample_trust())
    (result,) = do_import(case, rolled, trust=sample_trust()).inputs
    assert result.stream.verdict.value == "tampered"
    assert registry_codes(result) == {"BUNDLE_ROLLBACK"}
    assert registry_finding(result, "BUNDLE_ROLLBACK", rolled).seq == rolled_back_last + 1


def test_consecutive_bundles_raise_no_registry_finding(tmp_path: Path) -> None:
    report = do_import(tmp_path / "case", *AUDIT_BUNDLES, trust=sample_trust())
    assert [r.verdict.value for r in report.inputs] == ["verified"] * 3
    assert [registry_codes(r) for r in report.inputs] == [set(), set(), set()]


@pytest.mark.parametrize("tamper", ["delete", "insert"])
def test_records_after_a_deleted_or_inserted_record_keep_their_seq_and_status(
    tmp_path: Path, tamper: str
) -> None:
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "evidence" / AUDIT_BUNDLES[0].name)
    data = next(e["path"] for e in manifest_of(bundle)["files"] if e["path"].startswith("data/"))
    first = int(manifest_of(bundle)["records"]["first_seq"])
    sealed = split_lines((bundle / data).read_bytes())
    at = 17  # 1-based line
    forged = alter(sealed[at - 1])

    def edit(lines: list[bytes]) -> list[bytes]:
        if tamper == "delete":
            return lines[: at - 1] + lines[at:]
        return [*lines[: at - 1], forged, *lines[at - 1 :]]

    edit_lines(bundle, edit, data)
    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    assert report.inputs[0].verdict.value == "tampered"
    seq_of = {hashlib.sha256(b"\x00" + line).digest(): first + n for n, line in enumerate(sealed)}
    stored = rows(tmp_path / "case", "SELECT seq, integrity, leaf_hash FROM events ORDER BY line")
    intact = [r for r in stored if bytes(r["leaf_hash"]) in seq_of]
    assert len(intact) == len(sealed) - (1 if tamper == "delete" else 0)
    assert [(r["seq"], r["integrity"]) for r in intact] == [
        (seq_of[bytes(r["leaf_hash"])], "verified") for r in intact
    ]
    others = [r["integrity"] for r in stored if bytes(r["leaf_hash"]) not in seq_of]
    assert others == ([] if tamper == "delete" else ["tampered"])


def test_an_inserted_copy_of_a_sealed_record_is_not_verified(tmp_path: Path) -> None:
    # The copy's bytes are a sealed record, but not at this place: only the original is intact.
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "evidence" / AUDIT_BUNDLES[0].name)
    data = next(e["path"] for e in manifest_of(bundle)["files"] if e["path"].startswith("data/"))
    copied, at = 5, 17  # 1-based lines: the copy of line 5 becomes line 17
    edit_lines(bundle, lambda lines: [*lines[: at - 1], lines[copied - 1], *lines[at - 1 :]], data)
    report = do_import(tmp_path / "case", bundle, trust=sample_trust())
    assert report.inputs[0].verdict.value == "tampered"
    status = {
        r["line"]: r["integrity"]
        for r in rows(tmp_path / "case", "SELECT line, integrity FROM events")
    }
    assert status[copied] == "verified"
    assert status[at] == "tampered"


# --- a tampered copy and the genuine bundle ------------------------------------------------------


def tampered_copy(tmp_path: Path) -> tuple[Path, int, dict[str, Any]]:
    """A copy of audit bundle 1 with one record changed: (copy, changed seq, original record)."""
    bundle = copy_bundle(AUDIT_BUNDLES[0], tmp_path / "copy" / AUDIT_BUNDLES[0].name)
    data = next(e["path"] for e in manifest_of(bundle)["files"] if e["path"].startswith("data/"))
    line = 17
    original = json.loads(split_lines((bundle / data).read_bytes())[line - 1])
    edit_lines(
        bundle, lambda lines: [alter(x) if n == line else x for n, x in enumerate(lines, 1)], data
    )
    return bundle, int(manifest_of(bundle)["records"]["first_seq"]) + line - 1, original


def test_the_genuine_bundle_is_not_shadowed_by_an_earlier_tampered_copy(tmp_path: Path) -> None:
    copy, seq, original = tampered_copy(tmp_path)
    case = tmp_path / "case"
    assert do_import(case, copy, trust=sample_trust()).inputs[0].verdict.value == "tampered"
    (genuine,) = do_import(case, AUDIT_BUNDLES[0], trust=sample_trust()).inputs
    assert genuine.verdict.value == "verified"
    sealed = events(case, "seq = ? AND integrity = 'verified'", [seq])
    assert [(e["actor_id"], e["tenant"]) for e in sealed] == [
        (original["user_id"], original["attributes"]["tenantId"])
    ]


def test_a_tampered_copy_of_a_bundle_in_the_case_has_its_findings_stored(tmp_path: Path) -> None:
    copy, seq, _ = tampered_copy(tmp_path)
    case = tmp_path / "case"
    do_import(case, AUDIT_BUNDLES[0], trust=sample_trust())
    (result,) = do_import(case, copy, trust=sample_trust()).inputs
    assert result.verdict.value == "tampered"
    stored = rows(case, "SELECT seq FROM findings WHERE code = 'RECORD_MODIFIED'")
    assert stored == [{"seq": seq}]


# --- more raw evidence ---------------------------------------------------------------------------


def test_data_prepper_span_kind_is_kept_like_the_otlp_span_kind(tmp_path: Path) -> None:
    raw = write_lines(tmp_path / "spans.ndjson", [span_hit(n) for n in range(3)])
    do_import(tmp_path / "case", raw)
    kinds = [json.loads(e["attributes"]).get("span.kind") for e in events(tmp_path / "case")]
    # OTLP's SpanKind numbers (SERVER 2, INTERNAL 1, CLIENT 3) or Data Prepper's names.
    assert kinds in ([2, 1, 3], [span_source(n)["kind"] for n in range(3)])


def test_raw_files_of_the_same_name_are_distinct_streams(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    for day in ("day1", "day2"):
        (folder / day).mkdir(parents=True)
        write_lines(folder / day / "audit.jsonl", AUDIT_RECORDS)
    do_import(tmp_path / "case", folder)
    stored = events(tmp_path / "case")
    assert len(stored) == 2 * len(AUDIT_RECORDS)
    assert len({(e["stream_id"], e["seq"]) for e in stored}) == len(stored)


def test_each_raw_file_of_a_folder_keeps_its_own_stream_and_file_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The columns a raw file's rows share are given per file, whatever the batches' cuts."""
    from auditlens.core.store import importer as importer_module

    folder = tmp_path / "export"
    (folder / "day2").mkdir(parents=True)
    files = {folder / "day1.jsonl": 5, folder / "day2" / "audit.jsonl": 3}
    for file, count in files.items():
        file.write_text(
            "".join(
                json.dumps(
                    {
                        "timestamp": f"2026-03-02T08:00:{i:02d}.250Z",
                        "user_id": f"agent-{i:03d}",
                        "action": "READ",
                    }
                )
                + "\n"
                for i in range(count)
            )
        )
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 2)  # a batch ends inside each file
    do_import(tmp_path / "case", folder)
    found = rows(
        tmp_path / "case",
        "SELECT stream_id, file, seq, bundle_id, integrity, actor_id FROM events "
        "ORDER BY file, seq",
    )
    expected = [
        (
            f"raw:export/{file.relative_to(folder).as_posix()}",
            str(file),
            i + 1,
            None,
            "unsealed",
            f"agent-{i:03d}",
        )
        for file, count in sorted(files.items())
        for i in range(count)
    ]
    assert [tuple(r.values()) for r in found] == expected
