"""OTLP/JSON: the OTel Collector file exporter's JSON Lines, and single OTLP/JSON documents.

Recognised by the first record: an ``ExportLogsServiceRequest`` or ``ExportTraceServiceRequest``
(``resourceLogs`` or ``resourceSpans``), alone on the first non-blank line (the Collector writes
one request per line) or as a whole pretty-printed document (the OTLP project's examples).

Split: one stored line per log record or span, with its resource and scope
(docs/bundle-format.md §3), serialized compactly with keys in their order. Each line of a JSON
Lines input must be such a request.

Event: ``store/normalize.py`` maps a stored OTLP record onto the event through its typed view
(the import's hot path); the strict time rule of both sides is :func:`otlp_time`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats.base import (
    EvidenceFormat,
    Sample,
    SourceRecord,
    first_line_reason,
    json_lines,
)
from auditlens.core.formats.jsontext import dumps_compact
from auditlens.core.formats.otlp_metrics import split_metrics
from auditlens.core.formats.records import FORM_TITLES, OTLP, record_form

_UINT64 = 1 << 64


def otlp_time(value: Any) -> int | None:
    """An OTLP ``fixed64`` time: a decimal string or a JSON integer, or absent (``None``).

    The same rule for the sealer and the importer: anything else (a fraction, a sign, a value
    of 2^64 or more, another type) is refused, never read as no time or as part of a number.

    Raises:
        ValueError: the value is not such a time.
    """
    kind = type(value)
    if kind is str:
        if value.isdigit() and value.isascii() and len(value) <= 20 and int(value) < _UINT64:
            return int(value)
        if value == "":
            return None
    elif kind is int:
        if 0 <= value < _UINT64:
            return int(value)
    elif value is None:
        return None
    raise ValueError(f"not an unsigned 64-bit time: {str(value)[:40]!r}")


def duplicate_attribute(items: Any) -> str | None:
    """The first key an OTLP attribute list (or a key-value list in it) holds twice, or None.

    OTLP attributes are a list of ``{"key", "value"}`` pairs, so a JSON reader keeps both: the
    key would name two values and an event could show only one of them (the importer names the
    same key, ``store/normalize.py``).
    """
    if not isinstance(items, list):
        return None
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key"))
        if key in seen:
            return key
        seen.add(key)
        inner = _nested_duplicate(item.get("value"))
        if inner is not None:
            return f"{key}.{inner}"
    return None


def _nested_duplicate(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kvlist = value.get("kvlistValue")
    if isinstance(kvlist, dict):
        return duplicate_attribute(kvlist.get("values"))
    array = value.get("arrayValue")
    if isinstance(array, dict) and isinstance(array.get("values"), list):
        for item in array["values"]:
            found = _nested_duplicate(item)
            if found is not None:
                return found
    return None


def split_otlp(document: dict[str, Any], *, path: str, line: int) -> Iterator[SourceRecord]:
    """The single-record lines of one OTLP/JSON export request, in order."""
    if "resourceLogs" in document:
        outer, inner, items, kind, time_key = (
            "resourceLogs",
            "scopeLogs",
            "logRecords",
            "log",
            "timeUnixNano",
        )
    elif "resourceSpans" in document:
        outer, inner, items, kind, time_key = (
            "resourceSpans",
            "scopeSpans",
            "spans",
            "span",
            "startTimeUnixNano",
        )
    elif "resourceMetrics" in document:
        yield from split_metrics(
            document, path=path, line=line, refuse_duplicate=_refuse_duplicate, time_of=otlp_time
        )
        return
    else:
        raise UnsupportedFormatError(
            "not an OTLP logs, traces or metrics export", path=path, line=line
        )
    resources = document[outer]
    if not isinstance(resources, list):
        raise InvalidInputError(f"{outer} is not a list", path=path, line=line)
    for resource_entry in resources:
        if not isinstance(resource_entry, dict):
            raise InvalidInputError(f"an entry of {outer} is not an object", path=path, line=line)
        resource_part = {k: v for k, v in resource_entry.items() if k != inner}
        resource = resource_part.get("resource")
        if isinstance(resource, dict):
            _refuse_duplicate(resource.get("attributes"), "resource", path, line)
        for scope_entry in resource_entry.get(inner) or []:
            if not isinstance(scope_entry, dict):
                raise InvalidInputError(
                    f"an entry of {inner} is not an object", path=path, line=line
                )
            scope_part = {k: v for k, v in scope_entry.items() if k != items}
            for record in scope_entry.get(items) or []:
                if not isinstance(record, dict):
                    raise InvalidInputError(
                        f"an entry of {items} is not an object", path=path, line=line
                    )
                _refuse_duplicate(record.get("attributes"), kind, path, line)
                try:
                    time_ns = otlp_time(record.get(time_key))
                    if kind == "log" and not time_ns:
                        time_ns = otlp_time(record.get("observedTimeUnixNano"))
                        time_key = "observedTimeUnixNano"
                except ValueError as exc:
                    raise InvalidInputError(f"{time_key}: {exc}", path=path, line=line) from exc
                if kind == "span":
                    try:
                        otlp_time(record.get("endTimeUnixNano"))
                    except ValueError as exc:
                        raise InvalidInputError(
                            f"endTimeUnixNano: {exc}", path=path, line=line
                        ) from exc
                single = {outer: [{**resource_part, inner: [{**scope_part, items: [record]}]}]}
                yield SourceRecord(dumps_compact(single), time_ns or 0, kind, path, line)


def _refuse_duplicate(items: Any, owner: str, path: str, line: int) -> None:
    key = duplicate_attribute(items)
    if key is not None:
        raise InvalidInputError(
            f"{owner} attribute {key!r} is given twice: which value holds is not said by OTLP",
            path=path,
            line=line,
        )


class OtlpJsonLines(EvidenceFormat):
    """The OTel Collector file exporter's JSON Lines: one export request per line."""

    name = "otlp-json-lines"
    title = "OTel Collector file exporter JSON Lines (one OTLP export request per line)"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        return first_line_reason(sample, OTLP, FORM_TITLES[OTLP])

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        for number, _line, value in json_lines(sample):
            form = record_form(value)
            if form != OTLP:
                raise UnsupportedFormatError(
                    f"{FORM_TITLES[form]} among OTLP export requests (the input was recognised "
                    f"as {self.name} at line {sample.number})",
                    path=sample.path,
                    line=number,
                )
            yield from split_otlp(value, path=sample.path, line=number)


class OtlpJsonDocument(EvidenceFormat):
    """One OTLP/JSON export request as a (pretty-printed) document."""

    name = "otlp-json"
    title = "a single OTLP/JSON export request document (pretty-printed or not)"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        return document_reason(sample, OTLP)

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        yield from split_otlp(sample.document(), path=sample.path, line=1)


def document_reason(sample: Sample, form: str) -> str | None:
    """Why a whole-document format of record ``form`` does not read ``sample``, or None."""
    if not sample.is_text:
        return f"starts with bytes {sample.head[:8].hex(' ')}, not JSON text"
    if sample.line_is_json():
        return f"line {sample.number} is a whole JSON value: JSON Lines, not one document"
    try:
        document = sample.document()
    except InvalidInputError as exc:
        if type(exc) is not InvalidInputError:
            raise
        return f"not one JSON document: {exc.message}"
    found = record_form(document)
    return None if found == form else f"the document is {FORM_TITLES[found]}"
