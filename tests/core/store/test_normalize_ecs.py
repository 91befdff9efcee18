"""The shipped profiles read the Elastic Common Schema names many OTel and OpenSearch users log.

The records below are shaped as the tools write them: an OTLP log record from an application
that logs ECS fields as attributes (as Elastic's ECS loggers bridged to OpenTelemetry do), an ECS
document that Fluent Bit shipped to OpenSearch (nested objects), the same with dotted keys, and
a Data Prepper log document whose OTel attributes have ECS names.
"""

from __future__ import annotations

import json

from auditlens.core.formats.times import parse_time_ns
from auditlens.core.resources import profiles_dir
from auditlens.core.store.normalize import Normalizer, load_profiles

NORMALIZER = Normalizer(load_profiles([profiles_dir()]))


def attr(key: str, value: object) -> dict:
    if isinstance(value, list):
        values = [{"stringValue": v} for v in value]
        return {"key": key, "value": {"arrayValue": {"values": values}}}
    return {"key": key, "value": {"stringValue": value}}


def test_an_otlp_log_with_ecs_attributes() -> None:
    record = {
        "timeUnixNano": "1772438400250000000",
        "severityNumber": 9,
        "severityText": "INFO",
        "body": {"stringValue": "password changed"},
        "attributes": [
            attr("event.action", "user-password-change"),
            attr("event.outcome", "failure"),
            attr("event.category", ["iam"]),
            attr("user.id", "u-1042"),
            attr("user.name", "jdoe"),
            attr("user.roles", ["supervisor", "agent"]),
            attr("source.ip", "203.0.113.7"),
            attr("session.id", "s-77ab"),
        ],
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
    }
    line = json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": [attr("service.name", "identity")]},
                    "scopeLogs": [{"scope": {"name": "ecs-logging"}, "logRecords": [record]}],
                }
            ]
        },
        separators=(",", ":"),
    ).encode()
    row = NORMALIZER.row(line)
    assert row["action"] == "user-password-change"
    assert row["outcome"] == "failure"
    assert row["actor_id"] == "u-1042"
    assert row["actor_name"] == "jdoe"
    assert row["actor_role"] == "supervisor,agent"
    assert row["source_ip"] == "203.0.113.7"
    assert row["session_id"] == "s-77ab"
    assert row["service"] == "identity"


def test_an_otlp_span_with_ecs_client_ip_and_platform_action() -> None:
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "GET /contacts/{id}",
        "kind": 2,
        "startTimeUnixNano": "1772438400250000000",
        "endTimeUnixNano": "1772438400300000000",
        "attributes": [
            attr("client.ip", "198.51.100.20"),
            attr("audit.action", "READ"),
            attr("event.outcome", "success"),
        ],
    }
    line = json.dumps(
        {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}
    ).encode()
    row = NORMALIZER.row(line)
    assert (row["source_ip"], row["action"], row["outcome"]) == ("198.51.100.20", "READ", "success")


ECS_SOURCE = {
    "@timestamp": "2026-03-02T08:00:02.500Z",
    "message": "user exported 120 recordings",
    "log": {"level": "warn"},
    "event": {"action": "recording-export", "outcome": "success", "category": ["file"]},
    "user": {"id": "sup-004", "name": "Rui Costa", "roles": ["supervisor"]},
    "source": {"ip": "10.20.3.4"},
    "client": {"address": "desk-17.cc.example"},
    "service": {"name": "recording"},
    "organization": {"id": "acme"},
}


def test_an_ecs_document_in_opensearch_nested() -> None:
    hit = {"_index": "logs-app-2026.03.02", "_id": "Zk1", "_source": ECS_SOURCE}
    row = NORMALIZER.row(json.dumps(hit).encode())
    assert row["kind"] == "log"
    assert row["time_ns"] == parse_time_ns("2026-03-02T08:00:02.500Z")
    assert row["action"] == "recording-export"
    assert row["outcome"] == "success"
    assert (row["actor_id"], row["actor_name"], row["actor_role"]) == (
        "sup-004",
        "Rui Costa",
        "supervisor",
    )
    assert row["source_ip"] == "10.20.3.4"
    assert row["service"] == "recording"
    assert row["tenant"] == "acme"
    assert row["severity"] == "warn"


def test_an_ecs_document_in_opensearch_with_dotted_keys() -> None:
    source = {
        "@timestamp": "2026-03-02T08:00:02.500Z",
        "event.action": "logon",
        "event.outcome": "failure",
        "user.name": "jdoe",
        "client.ip": "192.0.2.55",
    }
    hit = {"_index": "fluentbit-2026.03.02", "_id": "q9", "_source": source}
    row = NORMALIZER.row(json.dumps(hit).encode())
    assert (row["action"], row["outcome"], row["actor_name"], row["source_ip"]) == (
        "logon",
        "failure",
        "jdoe",
        "192.0.2.55",
    )


def test_a_data_prepper_log_with_ecs_attribute_names() -> None:
    source = {
        "time": "2026-03-02T08:00:03Z",
        "observedTime": "2026-03-02T08:00:03.1Z",
        "body": "login failed",
        "severityText": "WARN",
        "attributes.event@action": "login",
        "attributes.event@outcome": "failure",
        "attributes.source@ip": "203.0.113.9",
        "attributes.user@id": "agent-0042",
        "resource.attributes.service@name": "auth",
    }
    hit = {"_index": "logs-otel-v1-000001", "_id": "d1", "_source": source}
    row = NORMALIZER.row(json.dumps(hit).encode())
    assert (row["action"], row["outcome"], row["source_ip"], row["actor_id"]) == (
        "login",
        "failure",
        "203.0.113.9",
        "agent-0042",
    )
    assert row["service"] == "auth"
