"""The one normalized event schema (docs/architecture.md §2), as a pyarrow schema and as DuckDB DDL.

Every importer produces batches of exactly :data:`EVENT_SCHEMA`; the query layer and the filter
language know fields only through :data:`FIELDS`. Times are Unix nanoseconds (UTC) in BIGINT so
nothing is rounded; ids are lower-case hex text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Field:
    """One column of the normalized event."""

    name: str
    arrow: pa.DataType
    sql: str
    doc: str
    filterable: bool = True


FIELDS: tuple[Field, ...] = (
    Field("time_ns", pa.int64(), "BIGINT", "event time, Unix nanoseconds UTC (span: start)"),
    Field("observed_ns", pa.int64(), "BIGINT", "when the pipeline observed it, Unix ns"),
    Field("kind", pa.string(), "VARCHAR", "log, span, audit or metric (a data point)"),
    Field("stream_id", pa.string(), "VARCHAR", "sealed stream, or the input file for raw evidence"),
    Field("seq", pa.int64(), "BIGINT", "sequence number in the stream (raw: line order)"),
    Field("bundle_id", pa.string(), "VARCHAR", "bundle the record came from"),
    Field("file", pa.string(), "VARCHAR", "data file inside the bundle, or the raw input"),
    Field("line", pa.int64(), "BIGINT", "1-based line (or proto byte offset) in that file"),
    Field("service", pa.string(), "VARCHAR", "emitting service"),
    Field("actor_id", pa.string(), "VARCHAR", "who acted (user id)"),
    Field("actor_name", pa.string(), "VARCHAR", "the actor's display name"),
    Field("actor_role", pa.string(), "VARCHAR", "the actor's role(s), comma separated"),
    Field("action", pa.string(), "VARCHAR", "what was done (LOGIN_SUCCESS, EXPORT, ...)"),
    Field("outcome", pa.string(), "VARCHAR", "success or failure"),
    Field("resource_type", pa.string(), "VARCHAR", "kind of object acted on"),
    Field("resource_id", pa.string(), "VARCHAR", "id of the object acted on"),
    Field("source_ip", pa.string(), "VARCHAR", "client address"),
    Field("tenant", pa.string(), "VARCHAR", "tenant"),
    Field("session_id", pa.string(), "VARCHAR", "login session"),
    Field("conversation_id", pa.string(), "VARCHAR", "call / conversation id"),
    Field("trace_id", pa.string(), "VARCHAR", "trace id, 32 lower-case hex"),
    Field("span_id", pa.string(), "VARCHAR", "span id, 16 lower-case hex"),
    Field("parent_span_id", pa.string(), "VARCHAR", "parent span id"),
    Field("name", pa.string(), "VARCHAR", "span name or log event name"),
    Field("duration_ns", pa.int64(), "BIGINT", "span duration in nanoseconds"),
    Field("severity", pa.string(), "VARCHAR", "severity text"),
    Field("body", pa.string(), "VARCHAR", "log body as text"),
    Field("attributes", pa.string(), "JSON", "all attributes (resource, scope, record) as JSON"),
    Field("leaf_hash", pa.binary(32), "BLOB", "SHA-256 leaf hash of the stored record", False),
    Field(
        "integrity", pa.string(), "VARCHAR", "verified, untrusted, tampered, unsealed or invalid"
    ),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
EVENT_SCHEMA = pa.schema([pa.field(f.name, f.arrow) for f in FIELDS])

# Columns set per decoding task or input (stream, bundle, file, sequence and line ranges, leaf
# hashes, integrity), never by the normalizer from a record.
TASK_COLUMNS = frozenset(
    {"stream_id", "bundle_id", "file", "seq", "line", "leaf_hash", "integrity"}
)
