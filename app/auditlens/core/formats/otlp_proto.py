"""OTLP protobuf as the OTel Collector file exporter writes it with ``format: proto``.

Recognised by its framing: the input is binary (not JSON text) and starts with a 4-byte
big-endian length within :data:`MAX_PROTO_MESSAGE` that the input holds, followed by that many
bytes of an ``ExportTraceServiceRequest``, ``ExportMetricsServiceRequest`` or
``ExportLogsServiceRequest``.

Split: each message is converted to OTLP/JSON (ids as hex, enums as integers) and split like
:mod:`auditlens.core.formats.otlp_json`; a record's origin is its message's byte offset.

Event: a stored record is OTLP/JSON, mapped as :mod:`~auditlens.core.formats.otlp_json` says.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import IO, Any

from auditlens.core.errors import InvalidInputError, LimitExceededError
from auditlens.core.formats.base import EvidenceFormat, Sample, SourceRecord
from auditlens.core.formats.otlp_json import split_otlp

MAX_PROTO_MESSAGE = 64 * 1024 * 1024  # a length prefix beyond this is corruption, not a batch.
_HEX_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hexify(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _HEX_FIELDS and isinstance(item, str):
                out[key] = base64.b64decode(item).hex()
            else:
                out[key] = _hexify(item)
        return out
    if isinstance(value, list):
        return [_hexify(item) for item in value]
    return value


def _proto_messages(stream: IO[bytes], *, path: str) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while True:
        prefix = stream.read(4)
        if not prefix:
            return
        if len(prefix) < 4:
            raise InvalidInputError(
                f"truncated length prefix ({len(prefix)} of 4 bytes)", path=path, offset=offset
            )
        size = int.from_bytes(prefix, "big")
        if size > MAX_PROTO_MESSAGE:
            raise LimitExceededError(
                f"length prefix {size} exceeds the limit of {MAX_PROTO_MESSAGE} bytes",
                path=path,
                offset=offset,
            )
        body = stream.read(size)
        if len(body) < size:
            raise InvalidInputError(
                f"message of {size} bytes ends after {len(body)} bytes (truncated)",
                path=path,
                offset=offset,
            )
        yield offset, body
        offset += 4 + size


def _metrics(module: Any, body: bytes, decode_error: type[Exception]) -> Any:
    """The message as metrics, when every metric has a name and data; else None.

    A log record's times (fixed64) or a span's start (fixed64) do not fit a metric's fields
    (messages), so neither reads as metrics; a metric needs its name and one kind of data.
    """
    try:
        metrics = module.ExportMetricsServiceRequest.FromString(body)
    except decode_error:
        return None
    found = [m for r in metrics.resource_metrics for sc in r.scope_metrics for m in sc.metrics]
    if found and all(m.name and m.WhichOneof("data") for m in found):
        return metrics
    return None


class OtlpProto(EvidenceFormat):
    """The Collector file exporter's ``format: proto``: length-prefixed protobuf messages."""

    name = "otlp-proto"
    title = "OTel Collector file exporter format: proto (4-byte big-endian length, then OTLP)"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        if sample.is_text:
            return "starts with JSON text, not a length prefix"
        if len(sample.head) < 4:
            return f"only {len(sample.head)} bytes, shorter than a length prefix"
        size = int.from_bytes(sample.head[:4], "big")
        if size > MAX_PROTO_MESSAGE:
            return (
                f"first 4 bytes {sample.head[:4].hex(' ')} ({sample.head[:4]!r}) read as a "
                f"length prefix give {size}, beyond the limit of {MAX_PROTO_MESSAGE} bytes"
            )
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        from google.protobuf import json_format
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        path = sample.path
        for offset, body in _proto_messages(sample.stream(), path=path):
            message: Any = None
            try:
                trace = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                spans = [s for r in trace.resource_spans for sc in r.scope_spans for s in sc.spans]
                # A LogRecord read as a Span has no 16-byte trace id (field 1 is a fixed64
                # there), so this tells the two signals apart without trusting a file name.
                if spans and all(len(s.trace_id) == 16 for s in spans):
                    message = trace
            except DecodeError:
                pass  # a logs request's wire types need not fit the trace schema at all
            if message is None:
                message = _metrics(metrics_service_pb2, body, DecodeError)
            if message is None:
                try:
                    message = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
                except DecodeError as exc:
                    raise InvalidInputError(
                        f"not an OTLP protobuf message: {exc}", path=path, offset=offset
                    ) from exc
            document = _hexify(
                json_format.MessageToDict(
                    message, use_integers_for_enums=True, preserving_proto_field_name=False
                )
            )
            yield from split_otlp(document, path=path, line=offset)
