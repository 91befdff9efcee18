"""The code the normalizer generates does what the plain interpretation of its rules does.

``normalize`` compiles the merged profile columns into one mapper function per record kind and
the schema check into one straight-line function. These tests interpret the same rules directly
in Python and compare the results over documents holding every JSON type at the mapped keys.
"""

from __future__ import annotations

import json
from typing import Any

from auditlens.core.resources import profiles_dir
from auditlens.core.schema import FIELD_NAMES, TASK_COLUMNS
from auditlens.core.store import normalize
from auditlens.core.store.normalize import Normalizer, load_profiles

VALUES: list[Any] = [None, "", "text", "MiXeD", [], ["a", 1], {}, {"k": "v"}, 0, 7, 1.5, True]


def reference_map(
    normalizer: Normalizer,
    kind: str,
    row: dict[str, Any],
    attrs: dict[str, Any],
    resource: dict[str, Any],
    scope: dict[str, Any],
    record: dict[str, Any],
    document: Any,
) -> None:
    """Each unfilled column takes its first present, non-empty source key."""
    for column, keys in normalizer.by_kind[kind]:
        if row[column] is not None:
            continue
        for namespace, flat, parts in keys:
            if namespace == "attr":
                value = attrs.get(flat)
            elif namespace == "resource":
                value = resource.get(flat)
            elif namespace == "field":
                value = record.get(flat)
            elif namespace == "scope":
                value = scope.get(flat)
            elif namespace == "body":
                value = normalize._walk(normalize._body_document_of(row["body"]), flat, parts)
            else:
                value = normalize._walk(document, flat, parts)
            if value is not None and value != "" and value != []:
                row[column] = value if type(value) is str else normalize._text(value)
                break


def documents(keys: list[str]) -> list[Any]:
    """Documents giving each value to each key, flat and nested, plus some that are no dicts."""
    out: list[Any] = [None, [], "text", 5, {}]
    for value in VALUES:
        out.append(dict.fromkeys(keys, value))
        nested: dict[str, Any] = {}
        for key in keys:
            head, _, rest = key.partition(".")
            if rest:
                target = nested.setdefault(head, {})
                if isinstance(target, dict):
                    target[rest] = value
            else:
                nested[key] = value
        out.append(nested)
        # The first step of each dotted key holds the value itself (often not an object).
        out.append({key.partition(".")[0]: value for key in keys})
    return out


def path_keys(normalizer: Normalizer, kind: str, namespace: str) -> list[str]:
    return sorted(
        flat for _, keys in normalizer.by_kind[kind] for ns, flat, _ in keys if ns == namespace
    )


def test_the_audit_and_opensearch_mappers_match_the_interpreted_profiles() -> None:
    normalizer = Normalizer(load_profiles([profiles_dir()]))
    for kind in ("audit", "opensearch-span", "opensearch-log"):
        keys = path_keys(normalizer, kind, "path")
        # The inlined look-up of keys without dots must be exercised.
        assert any("." not in key for key in keys), kind
        for document in documents(keys):
            for prefilled in (None, "kept"):
                row = dict.fromkeys(FIELD_NAMES)
                row["action"] = prefilled
                expected = dict(row)
                normalizer._mappers[kind](row, {}, {}, {}, {}, document)
                reference_map(normalizer, kind, expected, {}, {}, {}, {}, document)
                assert row == expected, (kind, document)


def test_the_log_mapper_reads_json_bodies_as_the_interpreted_profiles_do() -> None:
    normalizer = Normalizer(load_profiles([profiles_dir()]))
    keys = path_keys(normalizer, "log", "body")
    assert any("." not in key for key in keys)
    bodies: list[Any] = [None, "", "plain text", "{not json", "[1, 2]", "{}"]
    bodies += [json.dumps(d) for d in documents(keys) if isinstance(d, dict)]
    for body in bodies:
        for attrs in ({}, {"user.id": "u1", "audit.action": ""}):
            row = dict.fromkeys(FIELD_NAMES)
            row["body"] = body
            expected = dict(row)
            normalizer._mappers["log"](row, attrs, {}, {}, {}, None)
            reference_map(normalizer, "log", expected, attrs, {}, {}, {}, None)
            assert row == expected, (body, attrs)


def reference_fit(row: dict[str, Any]) -> dict[str, Any]:
    for name in normalize._INT_COLUMNS:
        value = row[name]
        if value is not None and (type(value) is not int or not -(2**63) <= value < 2**63):
            row[name] = None
    for name in normalize._TEXT_COLUMNS:
        value = row[name]
        if value is not None and type(value) is not str:
            row[name] = normalize._text(value)
    return row


def test_the_compiled_schema_check_matches_the_column_loop() -> None:
    odd = [*VALUES, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, False, b"x"]
    columns = sorted(normalize._INT_COLUMNS | normalize._TEXT_COLUMNS)
    assert columns
    for index in range(len(odd)):
        row = dict.fromkeys(FIELD_NAMES)
        # Every column gets a value, each column a different one of the list.
        for offset, name in enumerate(columns):
            row[name] = odd[(index + offset) % len(odd)]
        expected = reference_fit(dict(row))
        result = normalize._fit_schema(row)
        assert result == expected
        assert [type(v) for v in result.values()] == [type(v) for v in expected.values()]


def test_attribute_keys_that_are_missing_null_or_not_text_map_the_same_both_ways() -> None:
    profiles = load_profiles([profiles_dir()])
    typed, untyped = Normalizer(profiles), Normalizer(profiles)
    untyped.typed_otlp = False
    value = {"stringValue": "x"}
    for item in ({"value": value}, {"key": None, "value": value}, {"key": 5, "value": value}):
        record = {"attributes": [item, {"key": "user.id", "value": value}]}
        document = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
        line = json.dumps(document).encode()
        assert typed.row(line) == untyped.row(line), item
    # A missing key is the typed path's own case: it must take that path.
    line = json.dumps(
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"value": value}]}]}]}]}
    ).encode()
    assert typed._typed_row(line) is not None


ODD: list[Any] = [*VALUES, 2**63, -(2**63) - 1, 2**70, "123", {"stringValue": 5}]


def _otlp_lines(is_log: bool, value: Any) -> list[bytes]:
    """OTLP records with ``value`` in each field, attribute value and attribute kind in turn."""
    record: dict[str, Any] = (
        {
            "timeUnixNano": "1772461791936048159",
            "observedTimeUnixNano": "1772461791974164059",
            "severityNumber": 9,
            "severityText": "INFO",
            "body": {"stringValue": "hello"},
            "eventName": "event",
            "traceId": "AB" * 16,
            "spanId": "CD" * 8,
        }
        if is_log
        else {
            "traceId": "AB" * 16,
            "spanId": "CD" * 8,
            "parentSpanId": "EF" * 8,
            "name": "span",
            "kind": 2,
            "startTimeUnixNano": "1772461791936048159",
            "endTimeUnixNano": "1772461791974164059",
            "status": {"code": 2},
        }
    )
    user = {"key": "user.id", "value": {"stringValue": "u1"}}
    lines = []
    for field in [*record, "attributes"]:
        variants: list[dict[str, Any]] = [{**record, field: value}]
        if field == "attributes":
            variants = [
                {**record, "attributes": [user, {"key": name, "value": wrapped}]}
                for name in ("user.name", "user.roles", "client.address", "session.id")
                for wrapped in (
                    value,
                    {"intValue": value},
                    {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": value}]}},
                    {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": value}}]}},
                )
            ]
        for variant in variants:
            scope_key, records_key = (
                ("scopeLogs", "logRecords") if is_log else ("scopeSpans", "spans")
            )
            document = {
                "resourceLogs" if is_log else "resourceSpans": [
                    {
                        "resource": {"attributes": [{"key": "service.name", "value": value}]},
                        scope_key: [{"scope": {"name": value}, records_key: [variant]}],
                    }
                ]
            }
            lines.append(json.dumps(document).encode())
    return lines


def _audit_lines(value: Any) -> list[bytes]:
    record = {
        "timestamp": "2026-03-02T00:00:02.258Z",
        "user_id": "agent-047",
        "user_name": "Dana Sato",
        "action": "LOGIN_SUCCESS",
        "resource": "session",
        "resource_id": "974c",
        "source_ip_address": "10.20.3.25",
        "message": "m",
        "attributes": {"service": "identity-service", "tenantId": "initech"},
        "type": "audit_logging",
        "level": "INFO",
    }
    return [json.dumps({**record, field: value}).encode() for field in record]


def test_rows_of_odd_records_fit_the_schema_without_the_full_check() -> None:
    """OTLP and audit rows skip the check of the text columns they build themselves (speed):
    whatever type a record holds in any field, every column of the row still fits the schema,
    on the typed and the untyped path alike."""
    profiles = load_profiles([profiles_dir()])
    typed, untyped = Normalizer(profiles), Normalizer(profiles)
    untyped.typed_otlp = False
    lines = [
        line
        for value in ODD
        for line in (*_otlp_lines(True, value), *_otlp_lines(False, value), *_audit_lines(value))
    ]
    assert len(lines) > 500
    fitted = 0
    for line in lines:
        for normalizer in (typed, untyped):
            try:
                row = normalizer.row(line)
            except normalize.InvalidInputError:
                continue
            fitted += 1
            for name in normalize._INT_COLUMNS:
                value = row[name]
                assert value is None or (type(value) is int and -(2**63) <= value < 2**63), (
                    name,
                    line,
                )
            for name in normalize._TEXT_COLUMNS:
                assert row[name] is None or type(row[name]) is str, (name, row[name], line)
            assert reference_fit(dict(row)) == row
            # The check skips the task's columns: no record sets them.
            assert {name: row[name] for name in TASK_COLUMNS} == dict.fromkeys(TASK_COLUMNS)
    assert fitted > 500
