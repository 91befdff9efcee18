"""The typed OTLP fast path of the normalizer gives exactly the rows of the untyped path.

``Normalizer.row`` decodes plain OTLP/JSON records through typed msgspec Structs and falls back
to untyped decoding for anything else. These tests run both paths over the same evidence (the
shipped sample, its raw files, the official OTLP examples, audit JSON, OpenSearch documents and
hand-made and mutated odd records) and compare every column of every row, or the error.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats import records
from auditlens.core.formats.registry import read_records
from auditlens.core.resources import profiles_dir, sample_case_dir
from auditlens.core.store import decode, normalize
from auditlens.core.store.case import Case
from auditlens.core.store.importer import Importer
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.verify.trust import load_trust

SAMPLE = sample_case_dir()
COMPAT = Path(__file__).resolve().parents[2] / "data" / "otlp-examples"


def normalizers() -> tuple[Normalizer, Normalizer]:
    profiles = load_profiles([profiles_dir()])
    typed, untyped = Normalizer(profiles), Normalizer(profiles)
    untyped.typed_otlp = False
    assert typed.typed_otlp, "the shipped profiles must allow the typed path"
    return typed, untyped


def outcome(normalizer: Normalizer, line: bytes) -> Any:
    try:
        return normalizer.row(line)
    except InvalidInputError as exc:
        return ("error", exc.message)


def typed_hits(normalizer: Normalizer, lines: list[bytes]) -> int:
    """Lines the typed path decided: a row, or a refusal (compared with the untyped one)."""
    count = 0
    for line in lines:
        if not line.startswith(normalize._OTLP_PREFIXES):
            continue
        try:
            count += normalizer._typed_row(line) is not None
        except InvalidInputError:
            count += 1
    return count


def assert_same(lines: list[bytes]) -> None:
    typed, untyped = normalizers()
    for number, line in enumerate(lines):
        assert outcome(typed, line) == outcome(untyped, line), (number, line[:300])


def values_outcome(normalizer: Normalizer, line: bytes, check_keys: bool) -> Any:
    try:
        return normalizer.row_values(line, check_keys)
    except InvalidInputError as exc:
        return ("error", exc.message)


def row_outcome(normalizer: Normalizer, line: bytes, check_keys: bool) -> Any:
    try:
        return normalize.row_values(normalizer.row(line, check_keys))
    except InvalidInputError as exc:
        return ("error", exc.message)


def assert_same_values(lines: list[bytes]) -> int:
    """``row_values`` (the typed builder where it applies) against the untyped ``row``.

    Returns how many lines the builder gave values for, so that a test can hold it to having
    been used.
    """
    typed, untyped = normalizers()
    # The untyped mapping of a line the builder gave values for would agree too: count it.
    untyped_calls = 0
    untyped_values = typed._untyped_values

    def counting_values(*args: Any) -> tuple[Any, ...]:
        nonlocal untyped_calls
        untyped_calls += 1
        return untyped_values(*args)

    typed._untyped_values = counting_values  # type: ignore[method-assign]
    built = 0
    for check_keys in (True, False):
        for number, line in enumerate(lines):
            expected = row_outcome(untyped, line, check_keys)
            before = untyped_calls
            assert values_outcome(typed, line, check_keys) == expected, (check_keys, number, line)
            by_builder = untyped_calls == before
            # And the typed path's own row, which the builder writes out.
            assert row_outcome(typed, line, check_keys) == expected, (check_keys, number, line)
            if line.startswith(normalize._OTLP_PREFIXES):
                try:
                    typed_view = typed._typed_parts(line, check_keys) is not None
                except InvalidInputError:
                    typed_view = True
                assert by_builder == typed_view, (check_keys, number, line)
                built += typed_view
    return built


def sample_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted((SAMPLE / "raw").rglob("*")):
        if path.is_file():
            lines.extend(r.line for r in read_records(path))
    for path in sorted(COMPAT.glob("*.json")):
        lines.extend(r.line for r in read_records(path))
    return lines


def test_the_sample_and_the_official_examples_map_the_same_both_ways() -> None:
    lines = sample_lines()
    typed, _ = normalizers()
    otlp = [line for line in lines if line.startswith(normalize._OTLP_PREFIXES)]
    # The comparison must exercise the typed path, not fall back everywhere.
    assert len(otlp) > 1000
    assert typed_hits(typed, otlp) == len(otlp)
    assert_same(lines)


def kv(key: Any, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def log_line(record: dict[str, Any], **outer: Any) -> bytes:
    document = {
        "resourceLogs": [
            {
                "resource": outer.get(
                    "resource", {"attributes": [kv("service.name", {"stringValue": "crm"})]}
                ),
                "scopeLogs": [{"scope": outer.get("scope", {"name": "s"}), "logRecords": [record]}],
            }
        ]
    }
    return json.dumps(document).encode()


def span_line(record: dict[str, Any]) -> bytes:
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", {"stringValue": "crm"})]},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": [record]}],
            }
        ]
    }
    return json.dumps(document).encode()


ODD_VALUES: list[Any] = [
    {"stringValue": "text"},
    {"stringValue": None},
    {"stringValue": 5},
    {"intValue": "42"},
    {"intValue": 42},
    {"intValue": "x"},
    {"intValue": 2**70},
    {"doubleValue": 1},
    {"doubleValue": 1.5},
    {"doubleValue": "NaN"},
    {"boolValue": True},
    {"boolValue": 0},
    {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}},
    {"arrayValue": 7},
    {"kvlistValue": {"values": [kv("k", {"stringValue": "v"}), "junk"]}},
    # arrays and key-value lists, which the typed view decodes too
    {"arrayValue": {"values": [{"arrayValue": {"values": [{"boolValue": 1}]}}, {}]}},
    {"arrayValue": {"values": [1, "a"]}},
    {"arrayValue": {"values": None}},
    {"arrayValue": {"values": {"stringValue": "a"}}},
    {"arrayValue": {}},
    {"arrayValue": None},
    {"arrayValue": []},
    {"kvlistValue": {"values": [kv("n", {"intValue": "7"}), {"value": {"doubleValue": 2.5}}]}},
    {"kvlistValue": {"values": [kv("a", {"arrayValue": {"values": [{"stringValue": "x"}]}})]}},
    {"kvlistValue": {"values": [kv("k", None), kv(5, {"stringValue": "v"})]}},
    {"kvlistValue": {"values": None}},
    {"kvlistValue": {}},
    {"kvlistValue": None},
    {"kvlistValue": "text"},
    {"bytesValue": "AAEC"},
    {},
    {"unknownValue": 1},
    {"intValue": "1", "stringValue": "both"},
    None,
    "bare",
    [],
]


def odd_lines() -> Iterator[bytes]:
    for value in ODD_VALUES:
        yield log_line({"timeUnixNano": "1", "attributes": [kv("user.id", value)]})
        yield span_line({"startTimeUnixNano": 1, "attributes": [kv("k", value)]})
        yield log_line({"body": value})
    for key in (None, 5, "", "user.id"):
        yield log_line({"attributes": [kv(key, {"stringValue": "agent-1"})]})
    yield log_line({"attributes": [{"value": {"stringValue": "no key"}}, {"key": "no value"}]})
    yield log_line({"attributes": "not a list"})
    yield log_line({"attributes": ["not an object"]})
    yield log_line({"traceId": "ABCDEF0123456789ABCDEF0123456789", "spanId": 12})
    yield log_line({"timeUnixNano": 2**64, "observedTimeUnixNano": "123"})
    yield log_line({"timeUnixNano": 0, "observedTimeUnixNano": 1.5})
    yield log_line({"timeUnixNano": "", "observedTimeUnixNano": None})
    yield log_line({"severityText": 3, "severityNumber": 9, "eventName": 7})
    yield log_line({"severityText": "", "severityNumber": {"x": 1}, "eventName": ""})
    yield log_line({"body": {"stringValue": json.dumps({"user_id": "u1", "action": "EXPORT"})}})
    yield log_line({"body": {"stringValue": "{not json"}})
    yield log_line({}, resource=None)
    yield log_line({}, resource={})
    yield log_line({}, resource=[])
    yield log_line({}, resource="text")
    yield log_line({}, resource={"attributes": None})
    yield log_line({}, scope=None)
    yield log_line({}, scope=[])
    yield log_line({}, scope="text")
    yield log_line({}, scope={"name": 5, "version": None, "attributes": []})
    for status in (None, {}, {"code": 2}, {"code": "2"}, {"code": 1, "message": "m"}, "bad", 2):
        yield span_line({"startTimeUnixNano": "10", "endTimeUnixNano": "25", "status": status})
    yield span_line({"startTimeUnixNano": "10", "endTimeUnixNano": None, "kind": "SERVER"})
    yield span_line({"startTimeUnixNano": str(2**63), "endTimeUnixNano": "0"})
    yield span_line({"parentSpanId": "", "name": 5, "kind": None})
    yield span_line({"name": "n", "name2": "ignored", "extra": {"deep": [1, 2]}})
    # A log record holding span fields and a span holding log fields (odd types among them):
    # the typed views of the two are apart, each holding only the fields its kind reads.
    yield log_line({"timeUnixNano": "5", "name": 5, "kind": 2, "status": "x", "endTimeUnixNano": 1})
    yield span_line(
        {
            "startTimeUnixNano": "1",
            "body": 5,
            "severityText": [],
            "timeUnixNano": "x",
            "eventName": 1,
        }
    )
    yield span_line({"startTimeUnixNano": "1", "body": {"stringValue": "b"}, "severityNumber": 9})
    # Structure the untyped path refuses or reads differently: the typed path must step aside.
    yield b'{"resourceLogs":[]}'
    yield b'{"resourceLogs":null}'
    yield b'{"resourceLogs":[{"scopeLogs":[]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[]}]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":null}]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":["x"]}]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}],"resourceSpans":[]}'
    yield b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"}]}]}],"resourceLogs":[5]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a"}},5]}]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"a","eventName":"b"}]}]}]}'
    # A key given twice inside the scope, which the typed view keeps as its text.
    yield b'{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"a","name":"b"},"logRecords":[{}]}]}]}'
    yield b'{"resourceSpans":[{"scopeSpans":[{"scope":{"a":{"k":1,"k":2}},"spans":[{}]}]}]}'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a",'
    yield b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\xff"}}]}]}]}'
    yield b'{"resourceLogs":' + b"[" * 2000 + b"]" * 2000 + b"}"
    yield b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"s"}]}]}]} trailing'


def test_odd_otlp_records_map_the_same_both_ways() -> None:
    lines = list(odd_lines())
    typed, _ = normalizers()
    # Most of these are plain enough for the typed path; the rest must fall back.
    hits = typed_hits(typed, lines)
    assert 0 < hits < len(lines)
    assert_same(lines)


REPLACEMENTS: list[Any] = [None, 0, -1, 1.25, "", "x", "12", [], {}, True, 2**64, {"a": 1}, ["s"]]


def mutations(document: Any, rng: random.Random) -> Any:
    """A copy of ``document`` with one value somewhere replaced, or one key dropped."""
    copy = json.loads(json.dumps(document))
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in node:
                nodes.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                nodes.append((node, index))
                walk(node[index])

    walk(copy)
    parent, key = rng.choice(nodes)
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[key]
    else:
        parent[key] = rng.choice(REPLACEMENTS)
    return copy


def test_mutated_sample_records_map_the_same_both_ways() -> None:
    rng = random.Random(20261128)
    seeds = [
        json.loads(line)
        for line in sample_lines()
        if line.startswith(normalize._OTLP_PREFIXES) and b"arrayValue" in line
    ][:20]
    seeds += [json.loads(line) for line in sample_lines()[:4000:200]]
    assert len(seeds) > 20
    lines = [json.dumps(mutations(seed, rng)).encode() for seed in seeds for _ in range(100)]
    typed, _ = normalizers()
    assert 0 < typed_hits(typed, lines) < len(lines)
    assert_same(lines)


def test_the_typed_builders_values_are_the_untyped_rows_values() -> None:
    # The sample, the official examples, the odd records and mutated sample records, with and
    # without the duplicate-key check: each line's values (or its error) as the untyped path's.
    rng = random.Random(20261205)
    lines = sample_lines()
    seeds = [json.loads(line) for line in lines[:3000:100]]
    mutated = [json.dumps(mutations(seed, rng)).encode() for seed in seeds for _ in range(40)]
    everything = lines + list(odd_lines()) + mutated
    assert assert_same_values(everything) > len(lines) // 2


AUDIT_BASE = {
    "timestamp": "2026-03-02T08:15:02.250Z",
    "user_id": "agent-023",
    "user_name": "Omar Oyelaran",
    "action": "EXPORT",
    "resource": "recording",
    "resource_id": "rec-5f2a",
    "source_ip_address": "172.16.2.17",
    "attributes": {"service": "crm-service", "tenantId": "globex", "updated_data": None},
    "type": "audit_logging",
    "level": "INFO",
}


def odd_audit_lines() -> Iterator[bytes]:
    """Audit records with each field given odd values, dropped, or doubled."""
    yield json.dumps(AUDIT_BASE).encode()
    for key in AUDIT_BASE:
        for value in [None, "", 0, 7, 1.5, True, [], ["a", 1], {}, {"x": {"y": 1}}, "x" * 3]:
            yield json.dumps({**AUDIT_BASE, key: value}).encode()
        yield json.dumps({k: v for k, v in AUDIT_BASE.items() if k != key}).encode()
    for timestamp in ("2026-03-02T25:00:00Z", "2026-03-02 08:15:02+0200", "2026-03-02T08:15:02Z"):
        yield json.dumps({**AUDIT_BASE, "timestamp": timestamp}).encode()
    for tenant in (None, "", 5, ["a"], {"b": 1}):
        attributes = {"service": "crm", "tenantId": tenant, "tenant_id": "fallback"}
        yield json.dumps({**AUDIT_BASE, "attributes": attributes}).encode()
    yield json.dumps({**AUDIT_BASE, "attributes.tenantId": "flat", "message": "m"}).encode()
    yield json.dumps({**AUDIT_BASE, "message": {"text": "hello"}, "extra": [1, 2]}).encode()
    kubernetes = {"pod_name": "crm-0", "namespace_name": "cc", "labels": {"app": "crm"}}
    yield json.dumps({**AUDIT_BASE, "kubernetes": kubernetes}).encode()
    yield json.dumps({**AUDIT_BASE, "kubernetes": "not an object"}).encode()
    yield json.dumps({**AUDIT_BASE, "attributes": {"type": "inner", "level": "inner"}}).encode()
    yield b'{"timestamp":"2026-03-02T08:15:02Z","action":"A","action":"B"}'
    yield b'{"timestamp":"2026-03-02T08:15:02Z","user_id":"u","attributes":{"k":1,"k":2}}'
    yield b'{"timestamp":"2026-03-02T08:15:02Z"}'
    yield b'{"timestamp":"2026-03-02T08:15:02Z","action":"A"} trailing'
    yield b'{"timestamp":"2026-03-02T08:15:02Z","action":"\xff"}'


def test_audit_records_values_are_the_untyped_rows_values() -> None:
    rng = random.Random(20261205)
    lines = list(odd_audit_lines())
    lines += [json.dumps(mutations(AUDIT_BASE, rng)).encode() for _ in range(300)]
    lines += [line for line in sample_lines() if line.startswith(b'{"timestamp"')][:300]
    typed, untyped = normalizers()
    mapped_apart = 0
    real_row = typed._row

    def counting_row(*args: Any) -> dict[str, Any]:
        nonlocal mapped_apart
        mapped_apart += 1
        return real_row(*args)

    typed._row = counting_row  # type: ignore[method-assign]
    audit = 0
    for check_keys in (True, False):
        for number, line in enumerate(lines):
            expected = row_outcome(untyped, line, check_keys)
            before = mapped_apart
            assert values_outcome(typed, line, check_keys) == expected, (check_keys, number, line)
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict) and records.record_form(document) == records.AUDIT:
                # An audit record's values come from the builder, never from the row dict.
                assert mapped_apart == before, (check_keys, number, line)
                audit += 1
    assert audit > len(lines)


def test_a_profile_column_the_record_fills_itself_is_left_to_the_builder(tmp_path: Path) -> None:
    # severity is set by the record before the profiles map it (a span's status, a log
    # record's severity): a profile naming it only fills it when the record left it empty.
    (tmp_path / "severity.toml").write_text(SEVERITY_PROFILE)
    normalizer = Normalizer(load_profiles([profiles_dir(), tmp_path]))
    untyped = Normalizer(load_profiles([profiles_dir(), tmp_path]))
    untyped.typed_otlp = False
    assert normalizer.typed_otlp
    lines = [
        log_line({"severityText": "WARN", "attributes": [kv("level", {"stringValue": "x"})]}),
        log_line({"attributes": [kv("level", {"stringValue": "debug"})]}),
        log_line({"attributes": [kv("level", {"intValue": "3"})]}),
        span_line({"status": {"code": 2}, "attributes": [kv("level", {"stringValue": "y"})]}),
        span_line({"attributes": [kv("level", {"stringValue": "z"})]}),
    ]
    for line in lines:
        expected = normalize.row_values(untyped.row(line))
        assert normalizer.row_values(line) == expected
    severities = [
        normalizer.row_values(line)[normalize.ROW_COLUMNS.index("severity")] for line in lines
    ]
    assert severities == ["WARN", "debug", "3", "ERROR", "z"]


def test_a_profile_reading_the_scope_maps_the_same_both_ways(tmp_path: Path) -> None:
    # The scope is decoded only when a profile reads it (or duplicated keys are looked for).
    (tmp_path / "scope.toml").write_text(SCOPE_PROFILE)
    profiles = load_profiles([profiles_dir(), tmp_path])
    typed, untyped = Normalizer(profiles), Normalizer(profiles)
    untyped.typed_otlp = False
    assert typed.typed_otlp and typed._reads_scope
    lines = sample_lines()[:2000:10] + list(odd_lines())
    lines.append(log_line({"attributes": []}, scope={"name": "cc.audit.bridge", "version": "2"}))
    lines.append(span_line({"name": "n"}))
    built = 0
    for check_keys in (True, False):
        for line in lines:
            expected = row_outcome(untyped, line, check_keys)
            assert values_outcome(typed, line, check_keys) == expected, (check_keys, line)
            built += line.startswith(normalize._OTLP_PREFIXES) and (
                typed._typed_parts(line, check_keys) is not None
            )
    assert built > 100
    scope_service = typed.row_values(lines[-2], False)[normalize.ROW_COLUMNS.index("service")]
    assert scope_service == "cc.audit.bridge"


SCOPE_PROFILE = """\
name = "scope-service"
applies_to = ["log", "span"]
order = 5

[columns]
service = ["scope.name"]
"""


SEVERITY_PROFILE = """\
name = "level-severity"
applies_to = ["log", "span"]

[columns]
severity = ["attr.level"]
"""


FIELD_PROFILE = """\
name = "record-field"
applies_to = ["log"]

[columns]
outcome = ["field.severityNumber"]
"""


def test_a_profile_reading_record_fields_keeps_the_untyped_path(tmp_path: Path) -> None:
    (tmp_path / "field.toml").write_text(FIELD_PROFILE)
    normalizer = Normalizer(load_profiles([profiles_dir(), tmp_path]))
    assert not normalizer.typed_otlp
    line = log_line({"severityNumber": 9, "body": {"stringValue": "b"}})
    assert normalizer.row(line)["outcome"] == "9"


# --- whole imports, both ways -------------------------------------------------------------------

AUDIT = {
    "timestamp": "2026-03-03T10:00:00.123Z",
    "user_id": "sup-004",
    "user_name": "Dana",
    "action": "EXPORT",
    "resource": "contact",
    "resource_id": "ct-1",
    "source_ip_address": "10.0.0.9",
    "attributes": {"service": "crm-service", "tenantId": "acme", "updated_data": {"rows": 3}},
    "type": "audit_logging",
    "level": "INFO",
}
OPENSEARCH_SPAN = {
    "_index": "otel-v1-apm-span-000001",
    "_id": "s1",
    "_source": {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "parentSpanId": "",
        "name": "export",
        "kind": "SPAN_KIND_SERVER",
        "startTime": "2026-03-03T10:00:00.5Z",
        "durationInNanos": 1500,
        "serviceName": "crm-service",
        "span.attributes.user@id": "sup-004",
    },
}


def import_all(folder: Path, inputs: list[Path]) -> list[tuple[Any, ...]]:
    with Case.open(folder, create=True) as case:
        job = Importer(case, load_trust(SAMPLE / "truststore.json"), workers=1).run(inputs)
        for _ in job:
            pass
    db = duckdb.connect(str(folder / "case.duckdb"), read_only=True)
    try:
        return db.execute(
            "SELECT * EXCLUDE (ord) FROM events ORDER BY input_id, stream_id, seq, file, line"
        ).fetchall()
    finally:
        db.close()


def test_importing_the_same_evidence_both_ways_stores_identical_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "audit.jsonl").write_text(json.dumps(AUDIT) + "\n")
    (raw / "spans.ndjson").write_text(json.dumps(OPENSEARCH_SPAN) + "\n")
    inputs = [
        *sorted(p for p in (SAMPLE / "bundles").glob("*/*")),
        *sorted(p for p in (SAMPLE / "raw").rglob("*") if p.is_file()),
        *sorted(COMPAT.glob("*.json")),
        raw / "audit.jsonl",
        raw / "spans.ndjson",
    ]
    decode._normalizer.cache_clear()
    typed = import_all(tmp_path / "typed", inputs)
    monkeypatch.setattr(normalize, "_TYPED_NAMESPACES", frozenset())
    decode._normalizer.cache_clear()
    try:
        untyped = import_all(tmp_path / "untyped", inputs)
    finally:
        decode._normalizer.cache_clear()
    assert len(typed) > 1000
    assert typed == untyped


def test_resources_decoded_once_give_the_same_rows_and_are_remembered_in_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resource's attributes are decoded once per distinct JSON text and then shared: rows
    stay those of the untyped path whether the text was seen before or not, and the memory of
    texts is bounded."""
    monkeypatch.setattr(normalize, "_RESOURCES_KEPT", 8)
    monkeypatch.setattr(normalize, "_resources", {})
    lines = []
    for i in range(40):
        service = {"key": "service.name", "value": {"stringValue": f"svc-{i % 12}"}}
        record = {
            "timeUnixNano": str(1772461791936048159 + i),
            "body": {"stringValue": f"event {i}"},
            "attributes": [{"key": "user.id", "value": {"stringValue": f"u{i % 5}"}}],
        }
        document = {
            "resourceLogs": [
                {
                    "resource": {"attributes": [service]},
                    "scopeLogs": [{"scope": {"name": "cc.test"}, "logRecords": [record]}],
                }
            ]
        }
        lines.append(json.dumps(document).encode())
    typed, untyped = normalizers()
    rows = [typed.row(line) for line in lines]
    assert rows == [untyped.row(line) for line in lines]
    assert [r["service"] for r in rows] == [f"svc-{i % 12}" for i in range(40)]
    assert 0 < len(normalize._resources) <= 8


def test_a_long_resource_is_decoded_each_time_not_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(normalize, "_resources", {})
    big = [{"key": f"k{i}", "value": {"stringValue": "v" * 40}} for i in range(100)]
    big.append({"key": "service.name", "value": {"stringValue": "svc-big"}})
    document = {
        "resourceLogs": [
            {
                "resource": {"attributes": big},
                "scopeLogs": [
                    {"logRecords": [{"timeUnixNano": "1772461791936048159", "body": {}}]}
                ],
            }
        ]
    }
    line = json.dumps(document).encode()
    assert len(line) > normalize._RESOURCE_KEPT_BYTES
    typed, untyped = normalizers()
    assert typed.row(line) == untyped.row(line)
    assert typed.row(line)["service"] == "svc-big"
    assert normalize._resources == {}


# Times of 2026 as exporters write them, and every edge of the rule (docs/bundle-format.md):
# lengths 19, 20 and 21, 2^64 and 2^63 around, signs, spaces, fractions, non-ASCII digits.
ODD_TIMES: list[Any] = [
    "1772409601613911145",
    "0000000000000000001",
    "9999999999999999999",
    "10000000000000000000",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "123456789012345678901",
    "9223372036854775807",
    "9223372036854775808",
    "0",
    "",
    " 1772409601613911145",
    "1772409601613911145 ",
    "+1772409601613911145",
    "-1",
    "1_000",
    "1772409601.613911145",
    "1e18",
    "١٧٧٢٤٠٩٦٠١",  # Arabic-Indic digits: isdigit() yet not ASCII
    "²",  # a superscript digit
    "0x1A",
    1772409601613911145,
    2**64,
    -1,
    1.5,
    True,
    None,
    [],
    {},
]


def both_readings(value: Any, field: str) -> tuple[Any, Any]:
    """What otlp_time and the normalizer's fast path make of ``value`` ("refused" for an error)."""
    from auditlens.core.formats.otlp_json import otlp_time

    try:
        expected: Any = otlp_time(value)
    except ValueError:
        expected = "refused"
    try:
        actual: Any = normalize._otlp_time(value, field)
    except InvalidInputError as exc:
        assert field in exc.message
        actual = "refused"
    return expected, actual


@pytest.mark.parametrize("value", ODD_TIMES, ids=repr)
def test_the_usual_time_read_at_once_agrees_with_otlp_time(value: Any) -> None:
    expected, actual = both_readings(value, "timeUnixNano")
    assert actual == expected
    assert type(actual) is type(expected)


def test_every_digit_string_up_to_twenty_one_digits_agrees_with_otlp_time() -> None:
    rng = random.Random(20261205)
    for length in range(1, 22):
        for _ in range(200):
            value = "".join(rng.choice("0123456789") for _ in range(length))
            expected, actual = both_readings(value, "startTimeUnixNano")
            assert actual == expected, value
