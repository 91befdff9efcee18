"""The one rule that says what a JSON record is, for the sealer and the importer alike.

A JSON Lines input is recognised by the form of its first record, each of its lines must have
that form, and a stored line of a bundle becomes an event by its form (``store/normalize.py``):
this function is the only place that tells the forms apart.
"""

from __future__ import annotations

from typing import Any

OTLP = "otlp"
SEARCH_RESPONSE = "search-response"
HIT = "hit"
AUDIT = "audit"
POD_LOG = "pod-log"
UNKNOWN = "unknown"

FORM_TITLES = {
    OTLP: "an OTLP logs, traces or metrics export request",
    SEARCH_RESPONSE: "an OpenSearch _search response",
    HIT: "an OpenSearch hit",
    AUDIT: "an audit-logger record",
    POD_LOG: "a pod log entry (log, stream, time)",
    UNKNOWN: "neither OTLP, audit JSON nor an OpenSearch document",
}


def record_form(document: Any) -> str:
    """The form of a parsed JSON value: otlp, search-response, hit, audit, pod-log or unknown.

    An audit-logger record has a ``timestamp`` and an ``action`` or ``user_id`` (docs/case.md); a
    JSON object with a ``timestamp`` alone is no evidence form AuditLens knows, and is refused
    rather than guessed at. A pod log entry (formats/podlogs.py) has a ``log`` (text, or the
    JSON object the text was), a ``time`` text and a ``stream``, as Docker writes it.
    """
    if type(document) is not dict:
        return UNKNOWN
    if "resourceLogs" in document or "resourceSpans" in document or "resourceMetrics" in document:
        return OTLP
    if "_source" in document:
        return HIT
    hits = document.get("hits")
    if type(hits) is dict and "hits" in hits:
        return SEARCH_RESPONSE
    if "timestamp" in document and ("action" in document or "user_id" in document):
        return AUDIT
    if (
        type(document.get("log")) in (str, dict)
        and type(document.get("time")) is str
        and "stream" in document
    ):
        return POD_LOG
    return UNKNOWN
