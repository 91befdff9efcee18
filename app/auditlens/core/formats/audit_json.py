"""The platform's audit-logger JSON Lines (docs/case.md): one audit record per line.

Recognised by the first record: a JSON object with a ``timestamp`` and an ``action`` or
``user_id`` (:func:`~auditlens.core.formats.records.record_form`).

Split: each line is stored verbatim (never re-serialized), after a strict parse; every line must
be an audit record with a valid RFC 3339 ``timestamp``.

Event: :func:`audit_event` fills the event's time, body and attributes; the ``audit`` profiles
(``resources/profiles/audit-json.toml``) map the rest. The same record inside an OpenSearch hit
(``audit_log_index``) becomes the same event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats.base import (
    EvidenceFormat,
    Sample,
    SourceRecord,
    first_line_reason,
    json_lines,
)
from auditlens.core.formats.records import AUDIT, FORM_TITLES, record_form
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.formats.values import kubernetes_attributes, text

# An encoder object: the same text as the module's function, a little cheaper per call (measured in
# store/normalize.py).
_encode = msgspec.json.Encoder().encode


def audit_time_ns(record: dict[str, Any]) -> int:
    """The audit record's ``timestamp``, which it must have, in Unix nanoseconds.

    Raises:
        ValueError: it is missing, not text, or not a valid RFC 3339 time.
    """
    value = record.get("timestamp")
    if type(value) is not str:
        raise ValueError(f"timestamp is not an RFC 3339 time text: {str(value)[:40]!r}")
    return parse_time_ns(value)


def audit_event(
    record: dict[str, Any],
    row: dict[str, Any],
    extra: dict[str, Any] | None = None,
    extra_json: bytes = b"",
) -> None:
    """Fill ``row`` with what an audit record says for certain (before the profiles).

    ``extra`` attributes (of a record's wrapping, such as a pod log entry's) are added to the
    record's own; ``extra_json``, when given, is ``extra`` encoded (a JSON object), which a
    wrapping's records share: its members are then written after the record's own instead of
    encoding ``extra`` again for each record (the same text, when no key is in both).

    Raises:
        InvalidInputError: the record's time is not valid.
    """
    row["kind"] = "audit"
    try:
        row["time_ns"] = audit_time_ns(record)
    except ValueError as exc:
        raise InvalidInputError(f"audit record: {exc}") from exc
    row["body"] = text(record.get("message")) or None
    attributes = record.get("attributes")
    flat: dict[str, Any] = dict(attributes) if isinstance(attributes, dict) else {}
    for key in ("type", "level"):
        if key in record:
            flat[key] = record[key]
    kubernetes = record.get("kubernetes")
    if type(kubernetes) is dict:
        # Fluent Bit's Kubernetes filter with Merge_Log: the pod beside the merged record.
        kubernetes_attributes(kubernetes, flat)
    if extra:
        if extra_json and extra.keys().isdisjoint(flat):
            # {own..., extra...}: the same text as encoding the merged object (key order kept).
            own = _encode(flat)
            merged = own[:-1] + b"," + extra_json[1:] if len(own) > 2 else extra_json
            row["attributes"] = merged.decode("utf-8")
            return
        flat.update(extra)
    row["attributes"] = _encode(flat).decode("utf-8")


class AuditJsonLines(EvidenceFormat):
    """The audit logger's JSON Lines."""

    name = "audit-json-lines"
    title = "audit-logger JSON Lines (timestamp, user_id, action, resource, ...)"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        return first_line_reason(sample, AUDIT, FORM_TITLES[AUDIT])

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        for number, line, value in json_lines(sample):
            form = record_form(value)
            if form != AUDIT:
                raise UnsupportedFormatError(
                    f"{FORM_TITLES[form]} among audit-logger records (the input was recognised "
                    f"as {self.name} at line {sample.number})",
                    path=path,
                    line=number,
                )
            try:
                time_ns = audit_time_ns(value)
            except ValueError as exc:
                raise InvalidInputError(
                    f"audit record has no valid timestamp: {exc}", path=path, line=number
                ) from exc
            yield SourceRecord(line, time_ns, "audit", path, number, value)
