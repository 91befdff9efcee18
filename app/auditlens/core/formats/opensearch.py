"""OpenSearch exports: ``_search`` responses and NDJSON of hits (docs/case.md).

Hits of Data Prepper's span indexes (``otel-v1-apm-span-*``), log indexes (``logs-otel-v1*``)
and the platform's ``audit_log_index``.

Recognised by the first record: a ``_search`` response (``hits.hits``), alone on a line or as a
pretty-printed document, or a hit (an object with ``_source``) on the first line (NDJSON).

Split: each hit is one stored line: verbatim from NDJSON, re-serialized compactly from a
``_search`` response. A hit's time must be valid when it has one (:func:`hit_time_ns`).

Event: :func:`hit_event` decides what the hit is (:func:`hit_kind`), fills the columns it knows
for certain and returns the profile kind (``opensearch-span``, ``opensearch-log`` or ``audit``)
that maps the rest (``resources/profiles/opensearch.toml``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats.audit_json import audit_event
from auditlens.core.formats.base import (
    EvidenceFormat,
    Sample,
    SourceRecord,
    first_line_reason,
    json_lines,
)
from auditlens.core.formats.jsontext import dumps_compact
from auditlens.core.formats.otlp_json import document_reason
from auditlens.core.formats.records import FORM_TITLES, HIT, SEARCH_RESPONSE, record_form
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.formats.values import flatten, id_hex, integer, text

_encode = msgspec.json.encode

AUDIT_HIT, SPAN_HIT, LOG_HIT = "audit", "opensearch-span", "opensearch-log"


def hit_kind(index: str, source: dict[str, Any]) -> str:
    """What a hit's ``_source`` is: an audit record, a Data Prepper span or a log document."""
    if index.startswith("audit") or ("user_id" in source and "action" in source):
        return AUDIT_HIT
    if "startTime" in source or "durationInNanos" in source:
        return SPAN_HIT
    return LOG_HIT


def _time(source: dict[str, Any], key: str) -> int | None:
    value = source.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError(f"{key} is not an RFC 3339 time text: {str(value)[:40]!r}")
    try:
        return parse_time_ns(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _log_time_key(source: dict[str, Any]) -> str:
    return "time" if source.get("time") else "@timestamp"


def hit_time_ns(hit: dict[str, Any]) -> int | None:
    """The event time of a hit by its kind (span start, log time, audit timestamp), or None.

    Raises:
        ValueError: the hit has no ``_source`` object, or its time field is not a valid time.
    """
    source = hit.get("_source")
    if not isinstance(source, dict):
        raise ValueError("OpenSearch hit has no _source object")
    kind = hit_kind(str(hit.get("_index") or ""), source)
    if kind == AUDIT_HIT:
        return _time(source, "timestamp")
    if kind == SPAN_HIT:
        return _time(source, "startTime")
    _time(source, "observedTime")
    return _time(source, _log_time_key(source))


def hit_event(hit: dict[str, Any], row: dict[str, Any]) -> tuple[str, Any]:
    """Fill ``row`` with what a hit says for certain; return the profile kind and its view.

    Raises:
        InvalidInputError: the hit has no ``_source`` object or an invalid time.
    """
    source = hit["_source"]
    if not isinstance(source, dict):
        raise InvalidInputError("OpenSearch hit without a _source object")
    index = str(hit.get("_index") or "")
    kind = hit_kind(index, source)
    if kind == AUDIT_HIT:
        audit_event(source, row)
        return kind, source
    view: dict[str, Any] = {}
    flatten(source, "", view)
    attributes = {
        k.split("attributes.", 1)[1].replace("@", "."): v
        for k, v in view.items()
        if "attributes." in k
    }
    row["trace_id"] = id_hex(source.get("traceId"))
    row["span_id"] = id_hex(source.get("spanId"))
    try:
        if kind == SPAN_HIT:
            row["kind"] = "span"
            row["time_ns"] = _time(source, "startTime")
            row["parent_span_id"] = id_hex(source.get("parentSpanId"))
            row["name"] = source.get("name")
            row["duration_ns"] = integer(source.get("durationInNanos"))
            if source.get("kind") is not None:
                attributes["span.kind"] = source.get("kind")
        else:
            row["kind"] = "log"
            row["time_ns"] = _time(source, _log_time_key(source))
            row["observed_ns"] = _time(source, "observedTime")
            row["body"] = text(source.get("body"))
            row["severity"] = text(source.get("severityText"))
    except ValueError as exc:
        raise InvalidInputError(f"OpenSearch hit: {exc}") from exc
    attributes["opensearch.index"] = index
    attributes["opensearch.id"] = hit.get("_id")
    row["attributes"] = _encode(attributes).decode("utf-8")
    return kind, view | source


def _hit_record(hit: Any, raw: bytes, *, path: str, line: int) -> SourceRecord:
    if not isinstance(hit, dict):
        raise InvalidInputError("a search hit is not an object", path=path, line=line)
    try:
        time_ns = hit_time_ns(hit)
    except ValueError as exc:
        raise InvalidInputError(str(exc), path=path, line=line) from exc
    return SourceRecord(raw, time_ns or 0, "opensearch", path, line)


def _search_hits(response: dict[str, Any], *, path: str, line: int) -> Iterator[SourceRecord]:
    hits = response["hits"]["hits"]
    if not isinstance(hits, list):
        raise InvalidInputError("hits.hits is not a list", path=path, line=line)
    for hit in hits:
        yield _hit_record(hit, dumps_compact(hit), path=path, line=line)


class OpenSearchNdjson(EvidenceFormat):
    """NDJSON of OpenSearch hits, one hit (``_index``, ``_id``, ``_source``) per line."""

    name = "opensearch-ndjson"
    title = "OpenSearch hits as NDJSON (one object with _index, _id, _source per line)"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        return first_line_reason(sample, HIT, FORM_TITLES[HIT])

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        for number, line, value in json_lines(sample):
            form = record_form(value)
            if form != HIT:
                raise UnsupportedFormatError(
                    f"{FORM_TITLES[form]} among OpenSearch hits (the input was recognised as "
                    f"{self.name} at line {sample.number})",
                    path=sample.path,
                    line=number,
                )
            yield _hit_record(value, line, path=sample.path, line=number)


class OpenSearchSearch(EvidenceFormat):
    """OpenSearch ``_search`` responses: one document, or one response per line."""

    name = "opensearch-search"
    title = "OpenSearch _search responses (hits.hits), one document or one per line"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        if sample.is_text and sample.line_is_json():
            return first_line_reason(sample, SEARCH_RESPONSE, FORM_TITLES[SEARCH_RESPONSE])
        return document_reason(sample, SEARCH_RESPONSE)

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        if not sample.line_is_json():
            yield from _search_hits(sample.document(), path=sample.path, line=1)
            return
        for number, _line, value in json_lines(sample):
            form = record_form(value)
            if form != SEARCH_RESPONSE:
                raise UnsupportedFormatError(
                    f"{FORM_TITLES[form]} among _search responses (the input was recognised "
                    f"as {self.name} at line {sample.number})",
                    path=sample.path,
                    line=number,
                )
            yield from _search_hits(value, path=sample.path, line=number)
