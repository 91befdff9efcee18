"""Deterministic synthetic raw evidence of a contact-center platform, with a planted incident.

`generate_raw` writes the three raw (unsealed) streams that the platform exports (docs/case.md),
one file per stream per UTC day, for tests, demos and the benchmarks in ``bench/``.

Invariants (tests in ``tests/core/sample/test_sample_generator.py`` hold us to them):

* Determinism: the output depends only on ``(records, days, seed, start)``. All randomness comes
  from ``random.Random`` seeded from ``seed``; no wall clock, no hash-ordered iteration; files
  are byte-identical across runs (zstd at a fixed level, single frame, single thread).
* Exact size: exactly ``records`` records in total, where a record is one OTLP log record, one
  OTLP span or one audit JSON object. Every file holds at least one record.
* Order of occurrence: within each file, and so within each stream, record times never
  decrease in document order. The time of a log record is ``timeUnixNano``, of a span its
  ``startTimeUnixNano`` (not its end), of an audit object its ``timestamp``. Every time lies in
  the file's UTC day.
* Bounded memory: records are produced in time order through a small look-ahead heap (bounded by
  the longest activity, about half an hour of traffic) and written as they leave it.
* Every trace is complete within one file: each ``parentSpanId`` names a span of the same trace.
  Every log record with a ``traceId``/``spanId`` points at a span that exists in the traces
  stream (same day). Log records without trace context carry no ``traceId``/``spanId`` keys.

Streams and files (``out_dir`` relative):

1. ``cc-prod.otel-logs``: ``otel-logs/logs-YYYY-MM-DD.jsonl``. OpenTelemetry Collector file
   exporter, JSON Lines: each line one ``ExportLogsServiceRequest`` in OTLP/JSON with 1-50 log
   records. Consecutive records of the same service share a ``resourceLogs`` entry and those of the
   same scope a ``scopeLogs`` entry, so a line may hold several resources (and the same resource
   twice) while document order stays time order. Int64 times are decimal strings; about 3% of the
   lines use bare JSON numbers for ``timeUnixNano``/``observedTimeUnixNano`` and about 3% use
   upper-case hex for ``traceId``/``spanId`` (both legal OTLP/JSON). ``severityNumber`` is an
   integer (9 INFO, 13 WARN, 17 ERROR) with the matching ``severityText``.
2. ``cc-prod.otel-traces``: ``otel-traces/traces-YYYY-MM-DD.binpb`` on even day indexes (0, 2,
   ...) and ``.binpb.zst`` on odd ones. Collector ``format: proto``: each message is a 4-byte
   big-endian unsigned length followed by a serialized ``ExportTraceServiceRequest`` holding 1-128
   spans, grouped by service like the logs. A ``.zst`` file is the whole file compressed as one
   zstd frame (no content size in the header).
3. ``cc-prod.audit``: ``audit/audit-YYYY-MM-DD.jsonl``. Audit-logger JSON Lines, one object per
   line with exactly these keys in this order: ``timestamp`` (``YYYY-MM-DDTHH:MM:SS.mmmZ``),
   ``user_id``, ``user_name``, ``action``, ``resource``, ``resource_id``, ``source_ip_address``,
   ``attributes`` {``service``, ``tenantId``, ``updated_data`` (object or null)}, ``type``
   (always ``audit_logging``), ``level`` (``INFO`` or ``WARN``).

With ``--pod-logs`` (:func:`write_pod_logs`) the audit stream is also written as the audit
logger's pod would leave it: ``pods/var/log/pods/<namespace>_<pod>_<uid>/audit-logger/0.log``
(the container runtime's CRI format), ``pods/docker/<id>/<id>-json.log`` (Docker's json-file),
``pods/kubectl/<pod>.log`` (``kubectl logs --timestamps``) and Fluent Bit's file output
(``pods/fluent-bit/kube.var.log.containers.<pod>_...log`` in its default form,
``pods/fluent-bit/plain.log`` and ``pods/fluent-bit/events.msgpack``), each line a little after
the logger's own time. These are raw evidence only (not sealed).

With ``--metrics`` (:func:`write_metrics`) the services' meters are written too:
``metrics/metrics-YYYY-MM-DD.jsonl``, OTel Collector file exporter JSON Lines of the sum
``cc.audit.events`` (per service and hour, one data point per minute, action and tenant, counting
the log records with ``audit.action``; a point's exemplar is its first such record with trace
context). Raw evidence only (not sealed).

Audit actions used: ``CREATE``, ``READ``, ``UPDATE``, ``DELETE`` (resource ``contact``),
``LOGIN_SUCCESS``, ``LOGIN_FAILURE``, ``LOGOUT`` (resource ``session``; ``resource_id`` is the
session id, or ``-`` for a failed login), ``PLAYBACK``, ``DOWNLOAD``, ``DELETE`` (resource
``recording``), ``MONITOR``, ``BARGE_IN`` (resource ``conversation``), ``EXPORT`` (resource
``contact``, ``resource_id`` an export job id), ``ROLE_CHANGE`` (resource ``user``,
``resource_id`` the target user; ``updated_data`` {``roles``, ``previous_roles``}),
``CONFIG_CHANGE`` (resource ``config``, ``resource_id`` the setting key; ``updated_data``
{``value``, ``previous_value``}). ``WARN`` is used for LOGIN_FAILURE, DELETE, ROLE_CHANGE, EXPORT
and CONFIG_CHANGE; everything else is ``INFO``.

Audit copies in OTLP: services ship their audit events through the OpenTelemetry log bridge too.
Such a log record has scope ``cc.audit.bridge`` (version ``1.3.0``) and as body a ``stringValue``
that is byte-for-byte the audit-logger JSON document (identical to the line in the audit stream,
when the audit stream has that event). Copies exist for LOGIN_SUCCESS, LOGIN_FAILURE, LOGOUT,
PLAYBACK, DOWNLOAD, recording DELETE, MONITOR, BARGE_IN, EXPORT, ROLE_CHANGE and CONFIG_CHANGE;
contact CREATE/READ/UPDATE/DELETE have no copy (a contact CREATE/UPDATE/DELETE has an application
log record with the ``audit.*`` attributes inside its ``crm-service`` span instead). Application
log records use the scope ``cc.<service.name>`` and a plain-text body.

Resource attributes (logs and spans): ``service.name``, ``service.namespace``
(``contact-center``), ``service.version``, ``deployment.environment.name`` (``cc-prod``).
Services: ``telephony-gateway``, ``ivr-service``, ``routing-service``, ``agent-desktop``,
``recording-service``, ``supervisor-console``, ``identity-service``, ``crm-service``,
``admin-console``.

Log record attributes (all string values unless noted; every record has ``tenant.id``):

* ``tenant.id``: tenant (``acme``, ``globex``, ``initech``).
* ``user.id``, ``user.name``: the acting account; ``user.roles``: array of strings, the actor's
  roles at that instant (``agent``, ``team-lead``, ``supervisor``, ``admin``, ``service``).
* ``client.address``: the actor's IP address; ``session.id``: the actor's login session.
* ``audit.action``: the audit action (as above); ``audit.outcome``: ``success`` or ``failure``;
  ``resource.type``: the audit ``resource``; ``resource.id``: the audit ``resource_id``.
* ``conversation.id``: the call (``conv-`` + 12 hex); ``call.direction``: ``inbound``;
  ``call.outcome``: ``answered`` or ``abandoned``; ``routing.queue``: queue name.
* ``export.row_count``: ``intValue`` (decimal string), rows in a contact export.

Span attributes: ``tenant.id``, ``conversation.id``, ``call.direction``, ``call.outcome``,
``ivr.menu``, ``routing.queue``, ``user.id``, ``user.name``, ``client.address``, ``session.id``,
``audit.action``, ``audit.outcome``, ``resource.type``, ``resource.id``,
``http.request.method``, ``http.route``, ``http.response.status_code`` (int), and
``crm.sync.batch_size`` (int). Span kinds: 1 INTERNAL, 2 SERVER; status codes 0 UNSET,
1 OK, 2 ERROR (with a message).

A call is one trace: ``inbound call`` (SERVER, ``telephony-gateway``, root) with children
``ivr session`` (``ivr-service``), ``route call`` (``routing-service``) and ``agent leg``
(``agent-desktop``); ``record call`` (``recording-service``) and a supervisor's ``monitor
conversation``/``barge-in`` (``supervisor-console``) are children of the agent leg. An abandoned
call has no agent leg and ERROR status. Its log records (gateway, routing, agent desktop,
recording, supervisor console) carry the ``traceId``/``spanId`` of their span.

Population: tenants ``acme``, ``globex``, ``initech``; agents ``agent-001``...``agent-048``,
supervisors ``sup-001``...``sup-009`` (``sup-004`` to ``sup-006`` in ``globex``), administrators
``adm-001``...``adm-006``, service accounts ``svc-crm-sync-<tenant>`` and
``svc-qa-sampler-<tenant>``. Office addresses ``10.20.<t>.<h>``, VPN ``172.16.<t>.<h>``, service
pods ``10.42.<t>.<h>``; failed logins from the public ``203.0.113.0/24``. The incident's new
address is in ``198.51.100.0/24``, which nothing else uses.

The planted incident (day index ``days - 2``, or 0 when ``days == 1``, between about 01:00 and
03:30 UTC): supervisor ``sup-004`` fails one login and then logs in from the new address, grants
itself ``admin`` (ROLE_CHANGE with actor == target), downloads recordings (at least 25 when
``records >= 2000``, at least 5 otherwise), disables the audit sink (CONFIG_CHANGE of
``audit.sink.opensearch``), keeps downloading and runs a contact EXPORT while the audit stream
holds no record at all for at least 20 minutes (the OTLP logs and spans go on, including the
audit copies), re-enables the sink and logs out. Only the downloads before the sink was disabled
reach the audit stream. `RawEvidence.incident` states the facts (RFC 3339 times, millisecond
precision, ``Z``); ``silent_start`` and ``silent_end`` are the timestamps of the two audit records
(the two CONFIG_CHANGEs) that border the empty stretch of the audit stream.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
import struct
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

import msgspec
import zstandard
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

__all__ = [
    "AUDIT_STREAM",
    "LOGS_STREAM",
    "TRACES_STREAM",
    "RawEvidence",
    "RawStream",
    "generate_raw",
    "minimum_records",
]

LOGS_STREAM: Final = "cc-prod.otel-logs"
TRACES_STREAM: Final = "cc-prod.otel-traces"
AUDIT_STREAM: Final = "cc-prod.audit"

_NS: Final = 1_000_000_000
_MS: Final = 1_000_000
_DAY_NS: Final = 86_400 * _NS
_MINUTE_NS: Final = 60 * _NS
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()

# Activities never start so late that a record could fall on the next day: 10 ms of slack keeps
# the millisecond rounding of audit timestamps inside the day.
_DAY_SLACK_NS: Final = 10 * _MS

# Upper bound of the records one background activity writes (a call whose agent and supervisor
# both log in with a failed attempt first, plus monitor and barge-in is 27). Below this many
# remaining records a day is finished with single-record fillers so the count is exact.
_MAX_ACTIVITY_RECORDS: Final = 40

_LOG_BATCH_MAX: Final = 50
_SPAN_BATCH_MAX: Final = 128
_ZSTD_LEVEL: Final = 3

# Relative traffic per UTC hour: a contact center working mostly in business hours.
_HOUR_WEIGHTS: Final = (
    0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.0, 4.0, 4.0, 4.0,
    3.5, 3.5, 4.0, 4.0, 3.5, 3.0, 2.0, 1.5, 1.0, 0.8, 0.5, 0.3,
)  # fmt: skip


def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(weights)
    acc = [0.0]
    for w in weights:
        acc.append(acc[-1] + w / total)
    acc[-1] = 1.0
    return tuple(acc)


_HOUR_CDF: Final = _cumulative(_HOUR_WEIGHTS)

_TENANTS: Final = ("acme", "globex", "initech")
_TENANT_CUM_WEIGHTS: Final = (5, 8, 10)
_AGENTS_PER_TENANT: Final = 16
_SUPERVISORS_PER_TENANT: Final = 3
_ADMINS_PER_TENANT: Final = 2

_FIRST_NAMES: Final = (
    "Dana", "Marcus", "Priya", "Tomás", "Aisha", "Jonas", "Mei", "Oluwaseun", "Elena", "Rafael",
    "Hannah", "Kenji", "Sofia", "Liam", "Fatima", "Noah", "Ingrid", "Mateo", "Yara", "Samuel",
    "Chloe", "Arjun", "Greta", "Omar", "Lucia", "Viktor", "Amara", "Felix", "Nadia", "Hugo",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Whitfield", "Lindqvist", "Okafor", "Moreau", "Tanaka", "Brennan", "Castillo", "Novak",
    "Haddad", "Schultz", "Iyer", "Kowalski", "Duarte", "Fischer", "Mensah", "Larsen", "Romano",
    "Petrov", "Nakamura", "Oyelaran", "Berg", "Vasquez", "Holm", "Sato", "Adeyemi", "Keller",
)  # fmt: skip

_QUEUES: Final = ("sales", "support", "billing", "retention", "vip")
_IVR_MENUS: Final = ("main", "billing-self-service", "after-hours", "language-select")
_CONTACT_FIELDS: Final = ("email", "phone", "address", "preferred_language", "notes", "consent")
_CONFIG_KEYS: Final = (
    "queue.sales.max_wait_s",
    "queue.support.overflow_target",
    "ivr.menu.main.greeting",
    "recording.retention_days",
    "routing.skills.weighting",
    "agent.wrapup_s",
)
_AUDIT_SINK_KEY: Final = "audit.sink.opensearch"

_SERVICE_VERSIONS: Final = {
    "telephony-gateway": "7.4.2",
    "ivr-service": "3.12.0",
    "routing-service": "5.1.7",
    "agent-desktop": "2026.2.1",
    "recording-service": "4.0.3",
    "supervisor-console": "2026.2.1",
    "identity-service": "9.3.0",
    "crm-service": "6.8.5",
    "admin-console": "2026.2.1",
}
_BRIDGE_SCOPE: Final = "cc.audit.bridge"
_BRIDGE_SCOPE_VERSION: Final = "1.3.0"

_SEV_INFO: Final = 9
_SEV_WARN: Final = 13
_SEV_ERROR: Final = 17
_SEV_TEXT: Final = {_SEV_INFO: "INFO", _SEV_WARN: "WARN", _SEV_ERROR: "ERROR"}

_KIND_INTERNAL: Final = 1
_KIND_SERVER: Final = 2
_STATUS_UNSET: Final = 0
_STATUS_OK: Final = 1
_STATUS_ERROR: Final = 2

_SESSION_IDLE_NS: Final = 2 * 3600 * _NS

_INCIDENT_ACTOR: Final = "sup-004"

_STREAM_LOGS: Final = 0
_STREAM_SPANS: Final = 1
_STREAM_AUDIT: Final = 2


@dataclass(frozen=True)
class RawStream:
    """One evidence stream as written: its id and its files, one per consecutive day.

    Attributes:
        stream_id: Stream identifier, e.g. ``cc-prod.otel-logs``; matches
            ``[A-Za-z0-9._:-]{1,128}``.
        files: The stream's files in period order, one per UTC day.
    """

    stream_id: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class RawEvidence:
    """What `generate_raw` wrote.

    Attributes:
        streams: The logs, traces and audit streams, in that order.
        record_count: Number of records written across all files (equals the requested count).
        incident: Facts about the planted incident, all strings: ``day``, ``tenant_id``,
            ``actor_id``, ``actor_name``, ``actor_office_ip``, ``new_ip``, ``session_id``,
            ``night_start``, ``night_end``, ``role_change_at``, ``granted_role``, ``downloads``,
            ``downloads_audited``, ``export_at``, ``export_resource_id``, ``silent_start``,
            ``silent_end`` and ``silent_minutes``.
    """

    streams: tuple[RawStream, ...]
    record_count: int
    incident: dict[str, str]


# --------------------------------------------------------------------------------------------
# Records in flight
# --------------------------------------------------------------------------------------------

_Attr = dict[str, Any]
_SpanValue = str | int | tuple[str, ...]


class _Log(NamedTuple):
    service: str
    scope: str
    time_ns: int
    observed_ns: int
    severity: int
    body: str
    attrs: list[_Attr]
    trace_id: str
    span_id: str


class _Span(NamedTuple):
    service: str
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attrs: tuple[tuple[str, _SpanValue], ...]
    status: int
    status_message: str


class _SpanCtx(NamedTuple):
    trace_id: bytes
    span_id: bytes


# --------------------------------------------------------------------------------------------
# Writers: one per file, fed in time order
# --------------------------------------------------------------------------------------------


def _otlp_resource_json(service: str) -> dict[str, Any]:
    return {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "service.namespace", "value": {"stringValue": "contact-center"}},
            {"key": "service.version", "value": {"stringValue": _SERVICE_VERSIONS[service]}},
            {"key": "deployment.environment.name", "value": {"stringValue": "cc-prod"}},
        ]
    }


def _otlp_resource_pb(service: str) -> Any:
    return Resource(
        attributes=[
            KeyValue(key="service.name", value=AnyValue(string_value=service)),
            KeyValue(key="service.namespace", value=AnyValue(string_value="contact-center")),
            KeyValue(
                key="service.version", value=AnyValue(string_value=_SERVICE_VERSIONS[service])
            ),
            KeyValue(key="deployment.environment.name", value=AnyValue(string_value="cc-prod")),
        ]
    )


class _LogWriter:
    """Writes OTLP/JSON ``ExportLogsServiceRequest`` lines, 1-50 log records per line."""

    def __init__(self, path: Path, rng: random.Random) -> None:
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._rng = rng
        self._batch: list[_Log] = []
        self._target = 0
        self._resources = {s: _otlp_resource_json(s) for s in _SERVICE_VERSIONS}
        self._scopes: dict[str, dict[str, str]] = {
            _BRIDGE_SCOPE: {"name": _BRIDGE_SCOPE, "version": _BRIDGE_SCOPE_VERSION}
        }
        for service, version in _SERVICE_VERSIONS.items():
            self._scopes[f"cc.{service}"] = {"name": f"cc.{service}", "version": version}

    def add(self, rec: _Log) -> None:
        if not self._batch:
            self._target = self._rng.randint(1, _LOG_BATCH_MAX)
        self._batch.append(rec)
        if len(self._batch) >= self._target:
            self._flush()

    def _flush(self) -> None:
        rng = self._rng
        # A few lines use the other legal spellings (docs/case.md): bare int64 numbers and
        # upper-case hex ids, as in the official OTLP examples.
        bare = rng.random() < 0.03
        upper = rng.random() < 0.03
        resource_logs: list[dict[str, Any]] = []
        scope_logs: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        service = scope = ""
        for rec in self._batch:
            if rec.service != service:
                service, scope = rec.service, ""
                scope_logs = []
                resource_logs.append(
                    {"resource": self._resources[service], "scopeLogs": scope_logs}
                )
            if rec.scope != scope:
                scope = rec.scope
                records = []
                scope_logs.append({"scope": self._scopes[scope], "logRecords": records})
            out: dict[str, Any] = {
                "timeUnixNano": rec.time_ns if bare else str(rec.time_ns),
                "observedTimeUnixNano": rec.observed_ns if bare else str(rec.observed_ns),
                "severityNumber": rec.severity,
                "severityText": _SEV_TEXT[rec.severity],
                "body": {"stringValue": rec.body},
                "attributes": rec.attrs,
            }
            if rec.trace_id:
                out["traceId"] = rec.trace_id.upper() if upper else rec.trace_id
                out["spanId"] = rec.span_id.upper() if upper else rec.span_id
            records.append(out)
        self._fh.write(json.dumps({"resourceLogs": resource_logs}, separators=(",", ":")))
        self._fh.write("\n")
        self._batch = []

    def close(self) -> None:
        if self._batch:
            self._flush()
        self._fh.close()


class _TraceWriter:
    """Writes length-prefixed ``ExportTraceServiceRequest`` messages, optionally zstd-framed."""

    def __init__(self, path: Path, rng: random.Random, *, compress: bool) -> None:
        self._raw: IO[bytes] = path.open("wb")
        self._zstd: Any = None
        self._out: Any = self._raw
        if compress:
            # One frame for the whole file; closefd=False so we close the file ourselves.
            self._zstd = zstandard.ZstdCompressor(level=_ZSTD_LEVEL, threads=0).stream_writer(
                self._raw, closefd=False
            )
            self._out = self._zstd
        self._rng = rng
        self._batch: list[_Span] = []
        self._target = 0
        self._resources = {s: _otlp_resource_pb(s) for s in _SERVICE_VERSIONS}
        self._scopes = {
            s: InstrumentationScope(name=f"cc.{s}", version=v) for s, v in _SERVICE_VERSIONS.items()
        }

    def add(self, span: _Span) -> None:
        if not self._batch:
            self._target = self._rng.randint(1, _SPAN_BATCH_MAX)
        self._batch.append(span)
        if len(self._batch) >= self._target:
            self._flush()

    def _kv(self, key: str, value: _SpanValue) -> Any:
        if isinstance(value, str):
            return KeyValue(key=key, value=AnyValue(string_value=value))
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        array = ArrayValue(values=[AnyValue(string_value=v) for v in value])
        return KeyValue(key=key, value=AnyValue(array_value=array))

    def _flush(self) -> None:
        request = ExportTraceServiceRequest()
        spans: Any = None
        service = ""
        for sp in self._batch:
            if sp.service != service:
                service = sp.service
                resource_spans = request.resource_spans.add()
                resource_spans.resource.CopyFrom(self._resources[service])
                scope_spans = resource_spans.scope_spans.add()
                scope_spans.scope.CopyFrom(self._scopes[service])
                spans = scope_spans.spans
            out = spans.add(
                trace_id=sp.trace_id,
                span_id=sp.span_id,
                parent_span_id=sp.parent_id,
                name=sp.name,
                kind=sp.kind,
                start_time_unix_nano=sp.start_ns,
                end_time_unix_nano=sp.end_ns,
                attributes=[self._kv(k, v) for k, v in sp.attrs],
            )
            if sp.status != _STATUS_UNSET:
                out.status.code = sp.status
                if sp.status_message:
                    out.status.message = sp.status_message
        payload: bytes = request.SerializeToString(deterministic=True)
        self._out.write(struct.pack(">I", len(payload)))
        self._out.write(payload)
        self._batch = []

    def close(self) -> None:
        if self._batch:
            self._flush()
        if self._zstd is not None:
            self._zstd.close()
        self._raw.close()


class _AuditWriter:
    """Writes audit-logger JSON Lines; the lines arrive already rendered."""

    def __init__(self, path: Path) -> None:
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n")

    def add(self, line: str) -> None:
        self._fh.write(line)
        self._fh.write("\n")

    def close(self) -> None:
        self._fh.close()


class _DaySink:
    """Orders one day's records per stream through look-ahead heaps and writes them out.

    Activities are generated in non-decreasing start time and each one only emits records at or
    after its start, so once the next activity starts at ``t`` every queued record earlier than
    ``t`` is final and can be written.
    """

    def __init__(
        self,
        logs: _LogWriter,
        traces: _TraceWriter,
        audit: _AuditWriter,
    ) -> None:
        self._logs_out = logs
        self._traces_out = traces
        self._audit_out = audit
        self._silent: tuple[int, int] | None = None
        self._logs: list[tuple[int, int, _Log]] = []
        self._spans: list[tuple[int, int, _Span]] = []
        self._audit: list[tuple[int, int, str]] = []
        self._seq = 0
        self.counts = [0, 0, 0]

    @property
    def total(self) -> int:
        return self.counts[0] + self.counts[1] + self.counts[2]

    def silence(self, start_ns: int, end_ns: int) -> None:
        """From now on drop background audit lines timed within ``[start_ns, end_ns]``."""
        self._silent = (start_ns, end_ns)

    def in_silence(self, t_ns: int) -> bool:
        return self._silent is not None and self._silent[0] <= t_ns <= self._silent[1]

    def log(self, rec: _Log) -> None:
        self._seq += 1
        heapq.heappush(self._logs, (rec.time_ns, self._seq, rec))
        self.counts[_STREAM_LOGS] += 1

    def span(self, rec: _Span) -> None:
        self._seq += 1
        heapq.heappush(self._spans, (rec.start_ns, self._seq, rec))
        self.counts[_STREAM_SPANS] += 1

    def audit(self, time_ns: int, line: str, *, planted: bool = False) -> bool:
        """Queue an audit line; background lines inside the incident's silent window are lost."""
        if not planted and self.in_silence(time_ns):
            return False
        self._seq += 1
        heapq.heappush(self._audit, (time_ns, self._seq, line))
        self.counts[_STREAM_AUDIT] += 1
        return True

    def advance(self, cursor_ns: int) -> None:
        logs, spans, audit = self._logs, self._spans, self._audit
        while logs and logs[0][0] < cursor_ns:
            self._logs_out.add(heapq.heappop(logs)[2])
        while spans and spans[0][0] < cursor_ns:
            self._traces_out.add(heapq.heappop(spans)[2])
        while audit and audit[0][0] < cursor_ns:
            self._audit_out.add(heapq.heappop(audit)[2])

    def close(self) -> None:
        self.advance(2**63)
        self._logs_out.close()
        self._traces_out.close()
        self._audit_out.close()


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _User:
    user_id: str
    name: str
    tenant: str
    kind: str  # "agent", "supervisor", "admin" or "service"
    office_ip: str
    vpn_ip: str


class _Population:
    def __init__(self, rng: random.Random) -> None:
        names: list[str] = []
        taken: set[str] = set()

        def person() -> str:
            while True:
                name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
                if name not in taken:
                    taken.add(name)
                    names.append(name)
                    return name

        self.by_tenant_kind: dict[tuple[str, str], tuple[_User, ...]] = {}
        self.by_id: dict[str, _User] = {}
        self.all: list[_User] = []
        counters = {"agent": 0, "supervisor": 0, "admin": 0}
        prefixes = {"agent": "agent", "supervisor": "sup", "admin": "adm"}
        sizes = {
            "agent": _AGENTS_PER_TENANT,
            "supervisor": _SUPERVISORS_PER_TENANT,
            "admin": _ADMINS_PER_TENANT,
        }
        for t_index, tenant in enumerate(_TENANTS, start=1):
            host = 10
            for kind in ("agent", "supervisor", "admin"):
                users = []
                for _ in range(sizes[kind]):
                    counters[kind] += 1
                    host += 1
                    users.append(
                        _User(
                            user_id=f"{prefixes[kind]}-{counters[kind]:03d}",
                            name=person(),
                            tenant=tenant,
                            kind=kind,
                            office_ip=f"10.20.{t_index}.{host}",
                            vpn_ip=f"172.16.{t_index}.{host}",
                        )
                    )
                self.by_tenant_kind[tenant, kind] = tuple(users)
            services = []
            for job, label in (("crm-sync", "CRM sync"), ("qa-sampler", "QA sampler")):
                host += 1
                pod_ip = f"10.42.{t_index}.{host}"
                services.append(
                    _User(
                        user_id=f"svc-{job}-{tenant}",
                        name=f"{label} ({tenant})",
                        tenant=tenant,
                        kind="service",
                        office_ip=pod_ip,
                        vpn_ip=pod_ip,
                    )
                )
            self.by_tenant_kind[tenant, "service"] = tuple(services)
        for tenant in _TENANTS:
            for kind in ("agent", "supervisor", "admin", "service"):
                for user in self.by_tenant_kind[tenant, kind]:
                    self.all.append(user)
                    self.by_id[user.user_id] = user
        self.humans = tuple(u for u in self.all if u.kind != "service")
        # Role history per user: (effective from, roles), appended in time order.
        self._roles: dict[str, list[tuple[int, tuple[str, ...]]]] = {
            u.user_id: [(0, (u.kind,))] for u in self.all
        }

    def roles(self, user_id: str, t_ns: int) -> tuple[str, ...]:
        history = self._roles[user_id]
        for since, roles in reversed(history):
            if since <= t_ns:
                return roles
        return history[0][1]

    def set_roles(self, user_id: str, t_ns: int, roles: tuple[str, ...]) -> None:
        history = self._roles[user_id]
        history.append((t_ns, roles))
        history.sort(key=lambda item: item[0])


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def _secs(seconds: float) -> int:
    return int(seconds * _NS)


def _day_offset_ns(fraction: float) -> int:
    """Map a fraction of the day's traffic to a time of day, following `_HOUR_WEIGHTS`."""
    hour = min(bisect.bisect_right(_HOUR_CDF, fraction) - 1, 23)
    low, high = _HOUR_CDF[hour], _HOUR_CDF[hour + 1]
    within = (fraction - low) / (high - low) if high > low else 0.0
    return int((hour + min(max(within, 0.0), 1.0)) * 3600 * _NS)


def _ceil_ms(t_ns: int) -> int:
    return -(-t_ns // _MS)


class _Clock:
    """Places an activity's offsets, squeezed so that the activity ends within its day."""

    def __init__(self, t0: int, total_ns: int, horizon: int) -> None:
        self.t0 = t0
        self.horizon = horizon
        room = max(horizon - t0, 0)
        self._scale = 1.0 if total_ns <= room else room / max(total_ns, 1)

    def at(self, offset_ns: int) -> int:
        return min(self.t0 + int(offset_ns * self._scale), self.horizon)


class _IsoCache:
    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def iso(self, ts_ms: int) -> str:
        day, ms = divmod(ts_ms, 86_400_000)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = date.fromordinal(_EPOCH_ORDINAL + day).isoformat() + "T"
            self._days[day] = prefix
        sec, ms = divmod(ms, 1000)
        hour, sec = divmod(sec, 3600)
        minute, sec = divmod(sec, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{sec:02d}.{ms:03d}Z"


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Session(NamedTuple):
    session_id: str
    ip: str
    expires_ns: int


class _Generator:
    """Builds activities (calls, logins, recording access, ...) and feeds them to a day sink."""

    def __init__(self, rng: random.Random, population: _Population) -> None:
        self.rng = rng
        self.pop = population
        self.iso = _IsoCache()
        self.sink: _DaySink | None = None
        self.horizon = 0
        self.sessions: dict[str, _Session] = {}
        self.recordings: dict[str, deque[str]] = {t: deque(maxlen=4000) for t in _TENANTS}
        self._kv_cache: dict[tuple[str, str], _Attr] = {}
        self._roles_cache: dict[tuple[str, ...], _Attr] = {}
        # Background activity never uses the incident actor inside this window.
        self.actor_blackout: tuple[int, int] = (-1, -1)

    # -- ids ------------------------------------------------------------------------------

    def trace_id(self) -> bytes:
        return (self.rng.getrandbits(128) or 1).to_bytes(16, "big")

    def span_id(self) -> bytes:
        return (self.rng.getrandbits(64) or 1).to_bytes(8, "big")

    def hex_id(self, prefix: str, bits: int = 48) -> str:
        return f"{prefix}{self.rng.getrandbits(bits):0{bits // 4}x}"

    # -- attributes ---------------------------------------------------------------------

    def kv(self, key: str, value: str) -> _Attr:
        """OTLP/JSON string attribute, shared for repeated low-cardinality values."""
        cached = self._kv_cache.get((key, value))
        if cached is None:
            cached = {"key": key, "value": {"stringValue": value}}
            self._kv_cache[key, value] = cached
        return cached

    @staticmethod
    def kv_unique(key: str, value: str) -> _Attr:
        return {"key": key, "value": {"stringValue": value}}

    def kv_roles(self, roles: tuple[str, ...]) -> _Attr:
        cached = self._roles_cache.get(roles)
        if cached is None:
            values = [{"stringValue": r} for r in roles]
            cached = {"key": "user.roles", "value": {"arrayValue": {"values": values}}}
            self._roles_cache[roles] = cached
        return cached

    def actor_attrs(self, user: _User, t_ns: int, ip: str, session_id: str) -> list[_Attr]:
        attrs = [
            self.kv("tenant.id", user.tenant),
            self.kv("user.id", user.user_id),
            self.kv("user.name", user.name),
            self.kv_roles(self.pop.roles(user.user_id, t_ns)),
            self.kv("client.address", ip),
        ]
        if session_id:
            attrs.append(self.kv_unique("session.id", session_id))
        return attrs

    def audit_attrs(self, action: str, outcome: str, resource: str, rid: str) -> list[_Attr]:
        return [
            self.kv("audit.action", action),
            self.kv("audit.outcome", outcome),
            self.kv("resource.type", resource),
            self.kv_unique("resource.id", rid),
        ]

    # -- emitting -------------------------------------------------------------------------

    @property
    def out(self) -> _DaySink:
        if self.sink is None:  # pragma: no cover - programming error
            raise RuntimeError("no day is open")
        return self.sink

    def log(
        self,
        service: str,
        t_ns: int,
        body: str,
        attrs: list[_Attr],
        *,
        ctx: _SpanCtx | None = None,
        severity: int = _SEV_INFO,
        scope: str = "",
    ) -> None:
        self.out.log(
            _Log(
                service=service,
                scope=scope or f"cc.{service}",
                time_ns=t_ns,
                observed_ns=t_ns + self.rng.randint(1 * _MS, 40 * _MS),
                severity=severity,
                body=body,
                attrs=attrs,
                trace_id=ctx.trace_id.hex() if ctx else "",
                span_id=ctx.span_id.hex() if ctx else "",
            )
        )

    def span(
        self,
        service: str,
        name: str,
        start_ns: int,
        end_ns: int,
        attrs: tuple[tuple[str, _SpanValue], ...],
        *,
        parent: _SpanCtx | None = None,
        trace_id: bytes | None = None,
        kind: int = _KIND_SERVER,
        status: int = _STATUS_UNSET,
        status_message: str = "",
    ) -> _SpanCtx:
        tid = parent.trace_id if parent else (trace_id or self.trace_id())
        sid = self.span_id()
        self.out.span(
            _Span(
                service=service,
                trace_id=tid,
                span_id=sid,
                parent_id=parent.span_id if parent else b"",
                name=name,
                kind=kind,
                start_ns=start_ns,
                end_ns=max(end_ns, start_ns),
                attrs=attrs,
                status=status,
                status_message=status_message,
            )
        )
        return _SpanCtx(tid, sid)

    def audit_line(
        self,
        ts_ms: int,
        user: _User,
        action: str,
        resource: str,
        resource_id: str,
        ip: str,
        service: str,
        updated: dict[str, Any] | None,
        level: str,
    ) -> str:
        doc = {
            "timestamp": self.iso.iso(ts_ms),
            "user_id": user.user_id,
            "user_name": user.name,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "source_ip_address": ip,
            "attributes": {"service": service, "tenantId": user.tenant, "updated_data": updated},
            "type": "audit_logging",
            "level": level,
        }
        return json.dumps(doc, separators=(",", ":"))

    def audited_op(
        self,
        t_ns: int,
        user: _User,
        ip: str,
        session_id: str,
        service: str,
        action: str,
        resource: str,
        resource_id: str,
        *,
        updated: dict[str, Any] | None = None,
        level: str = "INFO",
        outcome: str = "success",
        http: tuple[str, str, int] | None = None,
        duration_ns: int = 0,
        parent: _SpanCtx | None = None,
        span_name: str = "",
        to_audit: bool = True,
        copy_to_otlp: bool = True,
        extra_attrs: tuple[tuple[str, str], ...] = (),
        planted: bool = False,
    ) -> tuple[int, _SpanCtx | None]:
        """Emit one audited operation: optional span, audit line and its OTLP audit copy.

        Returns:
            The instant (ns) of the audit event (its millisecond timestamp) and the span, if any.
        """
        # The horizon is millisecond-aligned, so the event stays at or after t_ns.
        event_ns = min(_ceil_ms(t_ns + self.rng.randint(1 * _MS, 30 * _MS)) * _MS, self.horizon)
        ts_ms = event_ns // _MS
        ctx: _SpanCtx | None = None
        if http is not None or span_name:
            span_attrs: list[tuple[str, _SpanValue]] = [
                ("tenant.id", user.tenant),
                ("user.id", user.user_id),
                ("user.name", user.name),
                ("client.address", ip),
            ]
            if session_id:
                span_attrs.append(("session.id", session_id))
            span_attrs += [
                ("audit.action", action),
                ("audit.outcome", outcome),
                ("resource.type", resource),
                ("resource.id", resource_id),
            ]
            span_attrs += list(extra_attrs)
            name = span_name
            if http is not None:
                method, route, code = http
                span_attrs += [
                    ("http.request.method", method),
                    ("http.route", route),
                    ("http.response.status_code", code),
                ]
                name = name or f"{method} {route}"
            end = min(max(t_ns + duration_ns, event_ns + _MS), self.horizon)
            ctx = self.span(
                service,
                name,
                t_ns,
                end,
                tuple(span_attrs),
                parent=parent,
                status=_STATUS_ERROR if outcome == "failure" else _STATUS_UNSET,
                status_message="authentication failed" if outcome == "failure" else "",
            )
        line = self.audit_line(
            ts_ms, user, action, resource, resource_id, ip, service, updated, level
        )
        if to_audit:
            self.out.audit(event_ns, line, planted=planted)
        if copy_to_otlp:
            attrs = self.actor_attrs(user, event_ns, ip, session_id)
            attrs += self.audit_attrs(action, outcome, resource, resource_id)
            attrs += [self.kv_unique(k, v) for k, v in extra_attrs]
            if action == "EXPORT" and updated is not None:
                # OTLP/JSON int64: a decimal string.
                rows = {"intValue": str(updated["rows"])}
                attrs.append({"key": "export.row_count", "value": rows})
            self.log(
                service,
                event_ns,
                line,
                attrs,
                ctx=ctx,
                severity=_SEV_WARN if level == "WARN" else _SEV_INFO,
                scope=_BRIDGE_SCOPE,
            )
        return event_ns, ctx

    # -- sessions -------------------------------------------------------------------------

    def login(
        self, user: _User, t_ns: int, ip: str, *, planted: bool = False, session_id: str = ""
    ) -> tuple[str, int]:
        """A successful login: identity-service span, audit line and its OTLP copy."""
        sid = session_id or self.hex_id("", 64)
        event, _ = self.audited_op(
            t_ns,
            user,
            ip,
            sid,
            "identity-service",
            "LOGIN_SUCCESS",
            "session",
            sid,
            http=("POST", "/api/v1/login", 200),
            duration_ns=self.rng.randint(80 * _MS, 400 * _MS),
            planted=planted,
        )
        return sid, event

    def login_failure(self, user: _User, t_ns: int, ip: str, *, planted: bool = False) -> int:
        """A failed login: audit line and OTLP copy, no session."""
        event, _ = self.audited_op(
            t_ns,
            user,
            ip,
            "",
            "identity-service",
            "LOGIN_FAILURE",
            "session",
            "-",
            updated={"reason": "invalid_credentials"},
            level="WARN",
            outcome="failure",
            planted=planted,
        )
        return event

    def session(self, user: _User, t_ns: int) -> tuple[str, str, int]:
        """Return ``(session id, ip, next free instant)``, logging the user in if needed."""
        current = self.sessions.get(user.user_id)
        if current is not None and t_ns < current.expires_ns:
            self.sessions[user.user_id] = current._replace(expires_ns=t_ns + _SESSION_IDLE_NS)
            return current.session_id, current.ip, t_ns
        ip = user.office_ip if self.rng.random() < 0.75 else user.vpn_ip
        t = t_ns
        if self.rng.random() < 0.03:  # mistyped password first
            t = min(self.login_failure(user, t, ip) + _secs(self.rng.uniform(4, 20)), self.horizon)
        sid, event = self.login(user, t, ip)
        self.sessions[user.user_id] = _Session(sid, ip, event + _SESSION_IDLE_NS)
        return sid, ip, min(event + _secs(self.rng.uniform(1, 6)), self.horizon)

    # -- picking actors -------------------------------------------------------------------

    def tenant(self) -> str:
        return self.rng.choices(_TENANTS, cum_weights=_TENANT_CUM_WEIGHTS)[0]

    def pick(self, tenant: str, kind: str, t_ns: int) -> _User:
        users = self.pop.by_tenant_kind[tenant, kind]
        low, high = self.actor_blackout
        if low <= t_ns <= high:
            users = tuple(u for u in users if u.user_id != _INCIDENT_ACTOR)
        return self.rng.choice(users)

    # -- background activities ------------------------------------------------------------

    def call(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        queue = rng.choice(_QUEUES)
        abandoned = rng.random() < 0.07
        conv = self.hex_id("conv-")
        agent: _User | None = None
        session_id = ip = ""
        start = t0
        if not abandoned:
            agent = self.pick(tenant, "agent", t0)
            session_id, ip, start = self.session(agent, t0)
        ivr = _secs(rng.uniform(12, 110))
        wait = _secs(min(rng.expovariate(1 / 40), 540))
        talk = 0 if abandoned else _secs(rng.uniform(45, 840))
        wrap = _secs(rng.uniform(0.5, 3))
        clock = _Clock(start, ivr + wait + talk + wrap, self.horizon)
        outcome = "abandoned" if abandoned else "answered"
        base = (("tenant.id", tenant), ("conversation.id", conv))
        base_log = [self.kv("tenant.id", tenant), self.kv_unique("conversation.id", conv)]
        call_start, call_end = clock.at(0), clock.at(ivr + wait + talk + wrap)
        root = self.span(
            "telephony-gateway",
            "inbound call",
            call_start,
            call_end,
            (*base, ("call.direction", "inbound"), ("call.outcome", outcome)),
            status=_STATUS_ERROR if abandoned else _STATUS_OK,
            status_message="caller abandoned in queue" if abandoned else "",
        )
        self.log(
            "telephony-gateway",
            call_start + rng.randint(1 * _MS, 8 * _MS),
            f"inbound call {conv} received",
            [*base_log, self.kv("call.direction", "inbound")],
            ctx=root,
        )
        menu = rng.choice(_IVR_MENUS)
        self.span(
            "ivr-service",
            "ivr session",
            clock.at(_secs(0.3)),
            clock.at(ivr),
            (*base, ("ivr.menu", menu)),
            parent=root,
        )
        route = self.span(
            "routing-service",
            "route call",
            clock.at(ivr),
            clock.at(ivr + wait),
            (*base, ("routing.queue", queue)),
            parent=root,
            status=_STATUS_ERROR if abandoned else _STATUS_UNSET,
            status_message="caller abandoned in queue" if abandoned else "",
        )
        route_attrs = [*base_log, self.kv("routing.queue", queue)]
        if agent is None:
            self.log(
                "routing-service",
                clock.at(ivr + wait),
                f"caller abandoned {conv} in queue {queue}",
                route_attrs,
                ctx=route,
                severity=_SEV_WARN,
            )
        else:
            self.log(
                "routing-service",
                clock.at(ivr + wait),
                f"call {conv} routed from queue {queue} to {agent.user_id}",
                [*route_attrs, self.kv("user.id", agent.user_id)],
                ctx=route,
            )
            leg_start, leg_end = clock.at(ivr + wait), clock.at(ivr + wait + talk)
            leg = self.span(
                "agent-desktop",
                "agent leg",
                leg_start,
                leg_end,
                (
                    *base,
                    ("user.id", agent.user_id),
                    ("user.name", agent.name),
                    ("client.address", ip),
                    ("session.id", session_id),
                ),
                parent=root,
                status=_STATUS_OK,
            )
            accepted = leg_start + rng.randint(20 * _MS, 900 * _MS)
            self.log(
                "agent-desktop",
                min(accepted, leg_end),
                f"agent {agent.user_id} accepted call {conv}",
                [*base_log, *self.actor_attrs(agent, accepted, ip, session_id)[1:]],
                ctx=leg,
            )
            rec_id = self.hex_id("rec-")
            rec_start = min(leg_start + rng.randint(100 * _MS, 700 * _MS), leg_end)
            rec = self.span(
                "recording-service",
                "record call",
                rec_start,
                leg_end,
                (*base, ("resource.type", "recording"), ("resource.id", rec_id)),
                parent=leg,
                kind=_KIND_INTERNAL,
                status=_STATUS_OK,
            )
            self.log(
                "recording-service",
                min(rec_start + rng.randint(1 * _MS, 20 * _MS), leg_end),
                f"recording {rec_id} started for {conv}",
                [
                    *base_log,
                    self.kv("resource.type", "recording"),
                    self.kv_unique("resource.id", rec_id),
                ],
                ctx=rec,
            )
            self.recordings[tenant].append(rec_id)
            # The agent's screen pop reads the caller's contact record.
            self.audited_op(
                min(leg_start + _secs(rng.uniform(0.8, 3.0)), leg_end),
                agent,
                ip,
                session_id,
                "crm-service",
                "READ",
                "contact",
                f"ct-{rng.randrange(100000, 999999)}",
                copy_to_otlp=False,
            )
            if rng.random() < 0.06:
                self.monitor(tenant, conv, leg, leg_start, leg_end, talk)
        self.log(
            "telephony-gateway",
            call_end,
            f"call {conv} ended ({outcome})",
            [*base_log, self.kv("call.outcome", outcome)],
            ctx=root,
        )

    def monitor(
        self, tenant: str, conv: str, leg: _SpanCtx, leg_start: int, leg_end: int, talk: int
    ) -> None:
        rng = self.rng
        sup = self.pick(tenant, "supervisor", leg_start)
        t = min(leg_start + int(talk * rng.uniform(0.05, 0.5)), leg_end)
        sid, ip, t = self.session(sup, t)
        t = min(t, leg_end)
        extra = (("conversation.id", conv),)
        self.audited_op(
            t,
            sup,
            ip,
            sid,
            "supervisor-console",
            "MONITOR",
            "conversation",
            conv,
            span_name="monitor conversation",
            duration_ns=max(leg_end - t, 0),
            parent=leg,
            extra_attrs=extra,
        )
        if rng.random() < 0.25:
            barge = min(t + int((leg_end - t) * rng.uniform(0.2, 0.8)), leg_end)
            self.audited_op(
                barge,
                sup,
                ip,
                sid,
                "supervisor-console",
                "BARGE_IN",
                "conversation",
                conv,
                span_name="barge-in",
                duration_ns=max(leg_end - barge, 0),
                parent=leg,
                extra_attrs=extra,
            )

    def contact_read(self, t0: int) -> None:
        tenant = self.tenant()
        kind = "agent" if self.rng.random() < 0.85 else "supervisor"
        user = self.pick(tenant, kind, t0)
        sid, ip, t = self.session(user, t0)
        self.audited_op(
            t,
            user,
            ip,
            sid,
            "crm-service",
            "READ",
            "contact",
            f"ct-{self.rng.randrange(100000, 999999)}",
            copy_to_otlp=False,
        )

    def contact_write(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        roll = rng.random()
        if roll < 0.05:
            user, action = self.pick(tenant, "supervisor", t0), "DELETE"
        else:
            user, action = self.pick(tenant, "agent", t0), "CREATE" if roll < 0.30 else "UPDATE"
        method = {"DELETE": "DELETE", "CREATE": "POST", "UPDATE": "PUT"}[action]
        level = "WARN" if action == "DELETE" else "INFO"
        sid, ip, t = self.session(user, t0)
        contact = f"ct-{rng.randrange(100000, 999999)}"
        updated: dict[str, Any] | None = None
        if action != "DELETE":
            fields = sorted(rng.sample(_CONTACT_FIELDS, rng.randint(1, 3)))
            updated = {"changed_fields": fields}
        route = "/api/v1/contacts" if action == "CREATE" else "/api/v1/contacts/{id}"
        duration = rng.randint(15 * _MS, 250 * _MS)
        event, ctx = self.audited_op(
            t,
            user,
            ip,
            sid,
            "crm-service",
            action,
            "contact",
            contact,
            updated=updated,
            level=level,
            http=(method, route, 201 if action == "CREATE" else 200),
            duration_ns=duration,
            copy_to_otlp=False,
        )
        # The application log of the same request, inside its span.
        self.log(
            "crm-service",
            event,
            f"contact {contact} {action.lower()}d by {user.user_id}",
            [
                *self.actor_attrs(user, event, ip, sid),
                *self.audit_attrs(action, "success", "contact", contact),
            ],
            ctx=ctx,
            severity=_SEV_WARN if action == "DELETE" else _SEV_INFO,
        )

    def service_sync(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        svc = self.pop.by_tenant_kind[tenant, "service"][0]
        batch = rng.randint(1, 3)
        self.span(
            "crm-service",
            "sync contacts",
            t0,
            min(t0 + rng.randint(200 * _MS, 4 * _NS), self.horizon),
            (
                ("tenant.id", tenant),
                ("user.id", svc.user_id),
                ("client.address", svc.office_ip),
                ("crm.sync.batch_size", batch),
            ),
            kind=_KIND_INTERNAL,
        )
        t = t0
        for _ in range(batch):
            t += rng.randint(5 * _MS, 300 * _MS)
            self.audited_op(
                min(t, self.horizon),
                svc,
                svc.office_ip,
                "",
                "crm-service",
                rng.choice(("READ", "UPDATE")),
                "contact",
                f"ct-{rng.randrange(100000, 999999)}",
                copy_to_otlp=False,
            )

    def recording_op(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        pool = self.recordings[tenant]
        if not pool:
            self.contact_read(t0)
            return
        rec_id = pool[rng.randrange(len(pool))]
        roll = rng.random()
        if roll < 0.25:
            qa = self.pop.by_tenant_kind[tenant, "service"][1]
            self.audited_op(
                t0,
                qa,
                qa.office_ip,
                "",
                "recording-service",
                "PLAYBACK",
                "recording",
                rec_id,
                http=("GET", "/api/v1/recordings/{id}/stream", 200),
                duration_ns=_secs(rng.uniform(30, 400)),
            )
            return
        if roll < 0.80:
            user, action = self.pick(tenant, "supervisor", t0), "PLAYBACK"
        elif roll < 0.96:
            user, action = self.pick(tenant, rng.choice(("supervisor", "admin")), t0), "DOWNLOAD"
        else:
            user, action = self.pick(tenant, "admin", t0), "DELETE"
        sid, ip, t = self.session(user, t0)
        http = {
            "PLAYBACK": ("GET", "/api/v1/recordings/{id}/stream", 200),
            "DOWNLOAD": ("GET", "/api/v1/recordings/{id}/download", 200),
            "DELETE": ("DELETE", "/api/v1/recordings/{id}", 204),
        }[action]
        duration = {
            "PLAYBACK": _secs(rng.uniform(20, 600)),
            "DOWNLOAD": _secs(rng.uniform(0.5, 6)),
            "DELETE": _secs(rng.uniform(0.05, 0.4)),
        }[action]
        self.audited_op(
            t,
            user,
            ip,
            sid,
            "recording-service",
            action,
            "recording",
            rec_id,
            level="WARN" if action == "DELETE" else "INFO",
            http=http,
            duration_ns=duration,
        )

    def export(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        user = self.pick(tenant, rng.choice(("admin", "supervisor")), t0)
        sid, ip, t = self.session(user, t0)
        rows = rng.randint(50, 5000)
        self.audited_op(
            t,
            user,
            ip,
            sid,
            "crm-service",
            "EXPORT",
            "contact",
            self.hex_id("export-", 32),
            updated={"format": "csv", "filter": f"queue={rng.choice(_QUEUES)}", "rows": rows},
            level="WARN",
            http=("POST", "/api/v1/contacts/export", 202),
            duration_ns=_secs(rng.uniform(1, 30)),
        )

    def role_change(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        admin = self.pick(tenant, "admin", t0)
        target = self.pick(tenant, "agent", t0)
        sid, ip, t = self.session(admin, t0)
        before = self.pop.roles(target.user_id, t)
        after = ("agent",) if "team-lead" in before else ("agent", "team-lead")
        event, _ = self.audited_op(
            t,
            admin,
            ip,
            sid,
            "identity-service",
            "ROLE_CHANGE",
            "user",
            target.user_id,
            updated={"roles": list(after), "previous_roles": list(before)},
            level="WARN",
            http=("PATCH", "/api/v1/users/{id}/roles", 200),
            duration_ns=rng.randint(30 * _MS, 200 * _MS),
        )
        self.pop.set_roles(target.user_id, event, after)

    def config_change(self, t0: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        admin = self.pick(tenant, "admin", t0)
        sid, ip, t = self.session(admin, t0)
        key = rng.choice(_CONFIG_KEYS)
        old, new = rng.sample(range(5, 400), 2)
        self.audited_op(
            t,
            admin,
            ip,
            sid,
            "admin-console",
            "CONFIG_CHANGE",
            "config",
            f"{tenant}/{key}",
            updated={"value": new, "previous_value": old},
            level="WARN",
            http=("PUT", "/api/v1/config/{key}", 200),
            duration_ns=rng.randint(20 * _MS, 150 * _MS),
        )

    def failed_login(self, t0: int) -> None:
        tenant = self.tenant()
        user = self.pick(tenant, self.rng.choice(("agent", "supervisor")), t0)
        self.login_failure(user, t0, user.office_ip)

    def brute_force(self, t0: int) -> None:
        rng = self.rng
        ip = f"203.0.113.{rng.randint(2, 254)}"
        t = t0
        for _ in range(rng.randint(2, 5)):
            user = rng.choice(self.pop.humans)
            if user.user_id == _INCIDENT_ACTOR:
                continue
            t = min(self.login_failure(user, t, ip) + rng.randint(1 * _NS, 15 * _NS), self.horizon)

    def logout(self, t0: int) -> None:
        user = self.rng.choice(self.pop.all)
        current = self.sessions.get(user.user_id)
        if current is None or t0 >= current.expires_ns:
            self.contact_read(t0)
            return
        del self.sessions[user.user_id]
        self.audited_op(
            t0,
            user,
            current.ip,
            current.session_id,
            "identity-service",
            "LOGOUT",
            "session",
            current.session_id,
        )

    # -- single-record fillers ------------------------------------------------------------

    def filler(self, t0: int, stream: int) -> None:
        rng = self.rng
        tenant = self.tenant()
        svc = self.pop.by_tenant_kind[tenant, "service"][0]
        if stream == _STREAM_AUDIT:
            self.audited_op(
                t0,
                svc,
                svc.office_ip,
                "",
                "crm-service",
                "READ",
                "contact",
                f"ct-{rng.randrange(100000, 999999)}",
                copy_to_otlp=False,
            )
        elif stream == _STREAM_SPANS:
            self.span(
                "crm-service",
                "sync contacts",
                t0,
                t0 + rng.randint(50 * _MS, 900 * _MS),
                (
                    ("tenant.id", tenant),
                    ("user.id", svc.user_id),
                    ("client.address", svc.office_ip),
                    ("crm.sync.batch_size", 0),
                ),
                kind=_KIND_INTERNAL,
            )
        else:
            queue = rng.choice(_QUEUES)
            self.log(
                "routing-service",
                t0,
                f"queue {queue}: {rng.randint(0, 40)} waiting, {rng.randint(0, 25)} agents ready",
                [self.kv("tenant.id", tenant), self.kv("routing.queue", queue)],
            )

    # -- the planted incident -------------------------------------------------------------

    def plant_incident(self, day_start: int, downloads: int) -> tuple[dict[str, str], int, int]:
        """Write the incident's records into the open day (see the module docstring).

        Returns:
            The incident facts and the audit silence as ``(start_ns, end_ns)``.
        """
        rng = self.rng
        actor = self.pop.by_id[_INCIDENT_ACTOR]
        new_ip = f"198.51.100.{rng.randint(10, 250)}"
        first, _ = _incident_split(downloads)
        recordings = self._incident_recordings(actor.tenant, downloads)

        t = day_start + 3600 * _NS + rng.randint(0, 20 * _MINUTE_NS) + rng.randint(0, _NS)
        night_start = self.login_failure(actor, t, new_ip, planted=True)
        t = night_start + _secs(rng.uniform(20, 60))
        session_id, login_at = self.login(actor, t, new_ip, planted=True)

        before = self.pop.roles(actor.user_id, login_at)
        after = (*before, "admin")
        role_at, _ = self.audited_op(
            login_at + _secs(rng.uniform(120, 240)),
            actor,
            new_ip,
            session_id,
            "identity-service",
            "ROLE_CHANGE",
            "user",
            actor.user_id,
            updated={"roles": list(after), "previous_roles": list(before)},
            level="WARN",
            http=("PATCH", "/api/v1/users/{id}/roles", 200),
            duration_ns=rng.randint(30 * _MS, 200 * _MS),
            planted=True,
        )
        self.pop.set_roles(actor.user_id, role_at, after)

        def download(at: int, rec_id: str, *, audited: bool) -> int:
            event, _ = self.audited_op(
                at,
                actor,
                new_ip,
                session_id,
                "recording-service",
                "DOWNLOAD",
                "recording",
                rec_id,
                http=("GET", "/api/v1/recordings/{id}/download", 200),
                duration_ns=_secs(rng.uniform(0.5, 2.5)),
                to_audit=audited,
                planted=True,
            )
            return event + _secs(rng.uniform(2, 8))

        t = role_at + _secs(rng.uniform(60, 120))
        for rec_id in recordings[:first]:
            t = download(t, rec_id, audited=True)

        def sink_config(at: int, value: str, previous: str) -> int:
            event, _ = self.audited_op(
                at,
                actor,
                new_ip,
                session_id,
                "admin-console",
                "CONFIG_CHANGE",
                "config",
                _AUDIT_SINK_KEY,
                updated={"value": value, "previous_value": previous},
                level="WARN",
                http=("PUT", "/api/v1/config/{key}", 200),
                duration_ns=rng.randint(20 * _MS, 150 * _MS),
                planted=True,
            )
            return event

        silent_start = sink_config(t + _secs(rng.uniform(20, 60)), "disabled", "enabled")
        # From here on the audit logger's sink drops everything; the OTLP copies go on.
        t = silent_start + _secs(rng.uniform(60, 120))
        for rec_id in recordings[first:]:
            t = download(t, rec_id, audited=False)
        export_id = self.hex_id("export-", 32)
        rows = rng.randint(40_000, 250_000)
        export_at, _ = self.audited_op(
            t + _secs(rng.uniform(30, 90)),
            actor,
            new_ip,
            session_id,
            "crm-service",
            "EXPORT",
            "contact",
            export_id,
            updated={"format": "csv", "filter": "all", "rows": rows},
            level="WARN",
            http=("POST", "/api/v1/contacts/export", 202),
            duration_ns=_secs(rng.uniform(20, 90)),
            to_audit=False,
            planted=True,
        )
        quiet = max(_secs(rng.uniform(35 * 60, 45 * 60)), export_at - silent_start + 5 * _MINUTE_NS)
        silent_end = sink_config(silent_start + quiet, "enabled", "disabled")
        night_end, _ = self.audited_op(
            silent_end + _secs(rng.uniform(60, 180)),
            actor,
            new_ip,
            session_id,
            "identity-service",
            "LOGOUT",
            "session",
            session_id,
            planted=True,
        )
        self.actor_blackout = (night_start - 3600 * _NS, night_end + 3600 * _NS)
        iso = self.iso.iso
        facts = {
            "day": iso(day_start // _MS)[:10],
            "tenant_id": actor.tenant,
            "actor_id": actor.user_id,
            "actor_name": actor.name,
            "actor_office_ip": actor.office_ip,
            "new_ip": new_ip,
            "session_id": session_id,
            "night_start": iso(night_start // _MS),
            "night_end": iso(night_end // _MS),
            "role_change_at": iso(role_at // _MS),
            "granted_role": "admin",
            "downloads": str(downloads),
            "downloads_audited": str(first),
            "export_at": iso(export_at // _MS),
            "export_resource_id": export_id,
            "silent_start": iso(silent_start // _MS),
            "silent_end": iso(silent_end // _MS),
            "silent_minutes": str((silent_end - silent_start) // _MINUTE_NS),
        }
        return facts, silent_start, silent_end

    def _incident_recordings(self, tenant: str, count: int) -> list[str]:
        """Distinct recordings of the tenant, most recent first; invented ones if too few."""
        seen: set[str] = set()
        chosen: list[str] = []
        for rec_id in reversed(self.recordings[tenant]):
            if rec_id not in seen:
                seen.add(rec_id)
                chosen.append(rec_id)
            if len(chosen) == count:
                return chosen
        while len(chosen) < count:
            chosen.append(self.hex_id("rec-"))
        return chosen


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

_ACTIVITIES: Final = (
    ("call", 40.0),
    ("contact_read", 22.0),
    ("contact_write", 8.0),
    ("service_sync", 6.0),
    ("recording_op", 6.0),
    ("logout", 3.0),
    ("failed_login", 1.5),
    ("config_change", 0.5),
    ("brute_force", 0.4),
    ("export", 0.3),
    ("role_change", 0.3),
)
_ACTIVITY_NAMES: Final = tuple(name for name, _ in _ACTIVITIES)
_ACTIVITY_CUM_WEIGHTS: Final = tuple(
    sum(weight for _, weight in _ACTIVITIES[: i + 1]) for i in range(len(_ACTIVITIES))
)


def _incident_downloads(records: int) -> int:
    """Recordings the incident downloads: >= 25 from 2,000 records on, >= 5 below."""
    if records >= 2000:
        return max(25, min(250, records // 4000))
    return max(5, min(24, records // 80))


def _incident_split(downloads: int) -> tuple[int, int]:
    """Downloads before the audit sink is disabled (audited) and after (OTLP only)."""
    first = max(2, downloads // 3)
    return first, downloads - first


def _incident_size(downloads: int) -> int:
    """Records the incident writes; `plant_incident` is checked against this."""
    first, second = _incident_split(downloads)
    # failed login 2 (audit, log), login 3 (audit, span, log), role change 3, audited download 3,
    # sink off 3, OTLP-only download 2 (span, log), export 2, sink on 3, logout 2 (audit, log).
    return 2 + 3 + 3 + 3 * first + 3 + 2 * second + 2 + 3 + 2


def _background_fits(records: int, days: int) -> bool:
    # Every file gets at least one background record: three per day.
    return records - _incident_size(_incident_downloads(records)) >= 3 * days


def minimum_records(days: int) -> int:
    """Smallest ``records`` that `generate_raw` accepts for ``days`` days.

    Args:
        days: Number of days (>= 1).

    Returns:
        The minimum record count: the incident plus one record per file.
    """
    records = 3 * days
    while not _background_fits(records, days):
        records += 1
    return records


def _day_start_ns(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_NS


def _run_day(gen: _Generator, sink: _DaySink, day_start: int, budget: int) -> None:
    """Write ``budget`` background records for one day, in time order."""
    rng = gen.rng
    base = sink.total
    last = day_start
    while (emitted := sink.total - base) < budget:
        remaining = budget - emitted
        # Records are spread over the day by the traffic curve: the k-th record of the day goes
        # to the time where the curve has accumulated k/budget of the day's traffic.
        fraction = min((emitted + 4.0 * rng.random()) / (budget + 4.0), 1.0)
        t = max(last, min(day_start + _day_offset_ns(fraction), gen.horizon))
        last = t
        sink.advance(t)
        if remaining > _MAX_ACTIVITY_RECORDS:
            name = rng.choices(_ACTIVITY_NAMES, cum_weights=_ACTIVITY_CUM_WEIGHTS)[0]
            getattr(gen, name)(t)
            continue
        # The tail of the day: single records, first into any stream whose file is still empty.
        empty = [s for s in (_STREAM_LOGS, _STREAM_SPANS, _STREAM_AUDIT) if sink.counts[s] == 0]
        stream = empty[0] if empty else rng.randrange(3)
        if stream == _STREAM_AUDIT and sink.in_silence(t):
            stream = _STREAM_LOGS
        gen.filler(t, stream)


def generate_raw(
    out_dir: Path,
    *,
    records: int,
    days: int,
    seed: int,
    start: date = date(2026, 3, 2),
) -> RawEvidence:
    """Write deterministic raw evidence (three streams, one file per stream per day).

    Args:
        out_dir: Directory to write into; created if missing. Existing files of the same names
            are overwritten.
        records: Exact number of records to write across all files (log records, spans and
            audit objects); at least `minimum_records` for ``days``.
        days: Number of consecutive UTC days, starting at ``start`` (>= 1).
        seed: Seed of the pseudo-random generator; same arguments give byte-identical files.
        start: The first day.

    Returns:
        The streams and files written, the record count and the planted incident's facts.

    Raises:
        ValueError: If ``days`` < 1 or ``records`` is below `minimum_records`.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if records < minimum_records(days):
        raise ValueError(
            f"records must be >= {minimum_records(days)} for {days} day(s), got {records}"
        )
    # Reproducible synthetic data, not secrets: a seeded Mersenne Twister is the point (S311).
    master = random.Random(seed)  # noqa: S311
    population = _Population(random.Random(master.getrandbits(64)))  # noqa: S311
    gen = _Generator(random.Random(master.getrandbits(64)), population)  # noqa: S311
    log_rng = random.Random(master.getrandbits(64))  # noqa: S311
    trace_rng = random.Random(master.getrandbits(64))  # noqa: S311

    downloads = _incident_downloads(records)
    planted_size = _incident_size(downloads)
    background = records - planted_size
    incident_day = 0 if days == 1 else days - 2

    dirs = {name: out_dir / name for name in ("otel-logs", "otel-traces", "audit")}
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    files: tuple[list[Path], list[Path], list[Path]] = ([], [], [])
    incident: dict[str, str] = {}
    written = 0
    for index in range(days):
        day = date.fromordinal(start.toordinal() + index)
        stamp = day.isoformat()
        suffix = ".binpb.zst" if index % 2 == 1 else ".binpb"
        paths = (
            dirs["otel-logs"] / f"logs-{stamp}.jsonl",
            dirs["otel-traces"] / f"traces-{stamp}{suffix}",
            dirs["audit"] / f"audit-{stamp}.jsonl",
        )
        for stream_files, path in zip(files, paths, strict=True):
            stream_files.append(path)
        sink = _DaySink(
            _LogWriter(paths[0], log_rng),
            _TraceWriter(paths[1], trace_rng, compress=index % 2 == 1),
            _AuditWriter(paths[2]),
        )
        day_start = _day_start_ns(day)
        gen.sink = sink
        gen.horizon = day_start + _DAY_NS - _DAY_SLACK_NS
        if index == incident_day:
            incident, silent_start, silent_end = gen.plant_incident(day_start, downloads)
            if sink.total != planted_size:  # pragma: no cover - guards _incident_size
                raise RuntimeError(f"incident wrote {sink.total} records, expected {planted_size}")
            sink.silence(silent_start, silent_end)
        budget = background // days + (1 if index < background % days else 0)
        _run_day(gen, sink, day_start, budget)
        written += sink.total
        sink.close()
        gen.sink = None
    if written != records:  # pragma: no cover - guards the budget arithmetic
        raise RuntimeError(f"wrote {written} records, expected {records}")
    streams = tuple(
        RawStream(stream_id, tuple(stream_files))
        for stream_id, stream_files in zip(
            (LOGS_STREAM, TRACES_STREAM, AUDIT_STREAM), files, strict=True
        )
    )
    return RawEvidence(streams=streams, record_count=written, incident=incident)


# --------------------------------------------------------------------------------------------
# Pod log forms of the audit stream (auditlens sample --pod-logs)
# --------------------------------------------------------------------------------------------

POD_NAMESPACE = "cc-prod"
POD_NAME = "audit-logger-6d5f8b7c9-q2kxv"
POD_UID = "0c6f1e7a-4b2d-4e8f-9a1c-3d5b7e9f2a4c"
POD_CONTAINER = "audit-logger"
CONTAINER_ID = "4f3a9c2e7b1d8f6a0e5c3b9d7a2f1e8c6b4d0a9f3e7c5b1d8a6f2e0c4b9d7a3f"
RUNTIME_LINE_LIMIT = 16 * 1024  # containerd's and Docker's cut of a long line


def _runtime_time(timestamp: str, rng: random.Random) -> tuple[int, str]:
    """When the runtime wrote the line: a little after the logger's own time, in nanoseconds."""
    from auditlens.core.formats.times import parse_time_ns

    t_ns = parse_time_ns(timestamp) + rng.randrange(50_000, 3_000_000)
    seconds, nanos = divmod(t_ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return t_ns, f"{text}.{nanos:09d}Z"


def write_pod_logs(raw: RawEvidence, out_dir: Path, *, seed: int) -> tuple[Path, ...]:
    """Write the audit stream again as a pod's logs: CRI, Docker, kubectl, Fluent Bit.

    The audit logger writes each audit line to its stdout; the container runtime keeps it as the
    kubelet's CRI log file (``var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log``), Docker
    as a ``json-file`` log, and ``kubectl logs --timestamps`` prints it with the runtime's time;
    Fluent Bit (tail input, CRI parser, Kubernetes filter) keeps it through its file output in
    the default form (``TAG: [TIME, {record}]``), as plain JSON records and in its msgpack form.
    A line longer than
    16 KiB is cut into ``P`` parts (CRI) or entries without a newline (Docker), as the runtimes
    do. Same arguments give byte-identical files.

    Returns:
        The six files written.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    audit_files = raw.streams[2].files
    cri = out_dir / "var" / "log" / "pods" / f"{POD_NAMESPACE}_{POD_NAME}_{POD_UID}"
    cri = cri / POD_CONTAINER / "0.log"
    docker = out_dir / "docker" / CONTAINER_ID / f"{CONTAINER_ID}-json.log"
    kubectl = out_dir / "kubectl" / f"{POD_NAME}.log"
    tag = f"kube.var.log.containers.{POD_NAME}_{POD_NAMESPACE}_{POD_CONTAINER}-{CONTAINER_ID}.log"
    fluent_file = out_dir / "fluent-bit" / tag
    fluent_plain = out_dir / "fluent-bit" / "plain.log"
    fluent_msgpack = out_dir / "fluent-bit" / "events.msgpack"
    kubernetes = {
        "pod_name": POD_NAME,
        "namespace_name": POD_NAMESPACE,
        "pod_id": POD_UID,
        "labels": {"app": POD_CONTAINER, "pod-template-hash": POD_NAME.split("-")[-2]},
        "host": "cc-node-3",
        "container_name": POD_CONTAINER,
        "docker_id": CONTAINER_ID,
        "container_image": f"registry.cc.example/{POD_CONTAINER}:9.3.0",
    }
    paths = (cri, docker, kubectl, fluent_file, fluent_plain, fluent_msgpack)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    with (
        cri.open("w", encoding="utf-8", newline="\n") as cri_out,
        docker.open("w", encoding="utf-8", newline="\n") as docker_out,
        kubectl.open("w", encoding="utf-8", newline="\n") as kubectl_out,
        fluent_file.open("w", encoding="utf-8", newline="\n") as fluent_file_out,
        fluent_plain.open("w", encoding="utf-8", newline="\n") as fluent_plain_out,
        fluent_msgpack.open("wb") as fluent_msgpack_out,
    ):
        for audit_file in audit_files:
            with audit_file.open(encoding="utf-8") as lines:
                for line in lines:
                    text = line.rstrip("\n")
                    when_ns, when = _runtime_time(json.loads(text)["timestamp"], rng)
                    parts = [
                        text[i : i + RUNTIME_LINE_LIMIT]
                        for i in range(0, len(text), RUNTIME_LINE_LIMIT)
                    ]
                    for number, part in enumerate(parts, start=1):
                        tag = "F" if number == len(parts) else "P"
                        cri_out.write(f"{when} stdout {tag} {part}\n")
                        end = "\n" if number == len(parts) else ""
                        entry = {"log": part + end, "stream": "stdout", "time": when}
                        docker_out.write(json.dumps(entry, separators=(",", ":")) + "\n")
                    kubectl_out.write(f"{when} {text}\n")
                    # Fluent Bit joins the parts (CRI parser, multiline cri) before its filter.
                    record = {"time": when, "stream": "stdout", "_p": "F", "log": text}
                    body = json.dumps({**record, "kubernetes": kubernetes}, separators=(",", ":"))
                    seconds, nanos = divmod(when_ns, 1_000_000_000)
                    fluent_file_out.write(f"{tag}: [{seconds}.{nanos:09d}, {body}]\n")
                    fluent_plain_out.write(body + "\n")
                    # Fluent Bit 2.1+ events: [[EventTime, {metadata}], {record}].
                    stamp = msgspec.msgpack.Ext(
                        0, seconds.to_bytes(4, "big") + nanos.to_bytes(4, "big")
                    )
                    event = [[stamp, {}], {**record, "kubernetes": kubernetes}]
                    fluent_msgpack_out.write(msgspec.msgpack.encode(event))
    return paths


# --------------------------------------------------------------------------------------------
# OTLP metrics derived from the logs stream (auditlens sample --metrics)
# --------------------------------------------------------------------------------------------

AUDIT_EVENTS_METRIC = "cc.audit.events"
_HOUR_NS = 60 * _MINUTE_NS


def _attribute_values(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        value = item.get("value") or {}
        out[item.get("key")] = value.get("stringValue")
    return out


def write_metrics(raw: RawEvidence, out_dir: Path) -> tuple[Path, ...]:
    """Write what the services' meters would have counted: OTLP metrics of the audit events.

    For each day of the logs stream, ``metrics/metrics-YYYY-MM-DD.jsonl`` in the Collector file
    exporter's JSON Lines: per service and hour one ``ExportMetricsServiceRequest`` with the sum
    ``cc.audit.events`` (delta, monotonic), one data point per minute, action and tenant,
    counting the log records that carry ``audit.action``; the first such record of a point that
    has trace context is its exemplar (its ``traceId`` and ``spanId``), so a data point links to
    a trace of the sample. Same evidence in, byte-identical files out.

    Returns:
        The files written, one per day.
    """
    folder = out_dir / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for logs_file in raw.streams[0].files:
        day = logs_file.stem.removeprefix("logs-")
        # (service, hour) -> (minute, action, tenant) -> [count, exemplar or None]
        points: dict[tuple[str, int], dict[tuple[int, str, str], list[Any]]] = {}
        with logs_file.open(encoding="utf-8") as lines:
            for line in lines:
                for resource in json.loads(line)["resourceLogs"]:
                    service = _attribute_values(resource["resource"]["attributes"])["service.name"]
                    for scope in resource["scopeLogs"]:
                        for record in scope["logRecords"]:
                            attributes = _attribute_values(record.get("attributes"))
                            action = attributes.get("audit.action")
                            if not action:
                                continue
                            t_ns = int(record["timeUnixNano"])
                            minute = t_ns - t_ns % _MINUTE_NS
                            hour = minute - minute % _HOUR_NS
                            key = (minute, action, attributes.get("tenant.id") or "")
                            point = points.setdefault((service, hour), {}).setdefault(
                                key, [0, None]
                            )
                            point[0] += 1
                            if point[1] is None and record.get("traceId"):
                                point[1] = {
                                    "timeUnixNano": str(t_ns),
                                    "asInt": "1",
                                    "spanId": record["spanId"].lower(),
                                    "traceId": record["traceId"].lower(),
                                }
        path = folder / f"metrics-{day}.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for (service, _hour), counted in sorted(points.items()):
                data_points = []
                for (minute, action, tenant), (count, exemplar) in sorted(counted.items()):
                    point_doc: dict[str, Any] = {
                        "attributes": [
                            {"key": "audit.action", "value": {"stringValue": action}},
                            {"key": "tenant.id", "value": {"stringValue": tenant}},
                        ],
                        "startTimeUnixNano": str(minute),
                        "timeUnixNano": str(minute + _MINUTE_NS),
                        "asInt": str(count),
                    }
                    if exemplar is not None:
                        point_doc["exemplars"] = [exemplar]
                    data_points.append(point_doc)
                request = {
                    "resourceMetrics": [
                        {
                            "resource": _otlp_resource_json(service),
                            "scopeMetrics": [
                                {
                                    "scope": {"name": f"cc.{service}", "version": "9.3.0"},
                                    "metrics": [
                                        {
                                            "name": AUDIT_EVENTS_METRIC,
                                            "description": "Audit events recorded",
                                            "unit": "{event}",
                                            "sum": {
                                                "aggregationTemporality": 1,
                                                "isMonotonic": True,
                                                "dataPoints": data_points,
                                            },
                                        }
                                    ],
                                }
                            ],
                        }
                    ]
                }
                out.write(json.dumps(request, separators=(",", ":")) + "\n")
        written.append(path)
    return tuple(written)
