"""Decoding stored records and mapping them onto the normalized event (DESIGN §4).

A decoder turns one record line (OTLP/JSON log or span, audit-logger JSON, OpenSearch hit) into
the fixed columns it knows for certain (times, ids, name, body) and a flat *source view*: every
other source field under a namespaced key. Profiles (``resources/profiles/*.toml``, and
``profiles/*.toml`` in a case folder) then say which source keys fill which semantic column, so an
investigator can teach AuditLens a new source without touching code.

Source-view keys: OTLP ``attr.<key>`` (record attributes), ``resource.<key>``, ``scope.name``,
``scope.version``, ``field.<name>`` (scalar record fields), ``body.<path>`` (when the body text is
a JSON object); audit JSON and OpenSearch ``_source``: dotted paths (``attributes.tenantId``).
"""

from __future__ import annotations

import base64
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditlens.core.errors import InvalidInputError
from auditlens.core.store.schema import FIELD_NAMES

PROFILE_COLUMNS = (
    "service",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "source_ip",
    "tenant",
    "session_id",
    "conversation_id",
    "severity",
)
KINDS = ("log", "span", "audit", "opensearch-span", "opensearch-log")


@dataclass(frozen=True)
class Profile:
    """A mapping from source-view keys to semantic columns for some record kinds."""

    name: str
    applies_to: tuple[str, ...]
    order: int
    columns: dict[str, tuple[str, ...]]
    source: str


def load_profiles(folders: Iterable[Path]) -> list[Profile]:
    """Load every ``*.toml`` profile of ``folders`` (missing folders are skipped), in order."""
    profiles: list[Profile] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            profiles.append(_load_profile(path))
    return sorted(profiles, key=lambda p: (p.order, p.name))


def _load_profile(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"cannot read profile: {exc}", path=str(path)) from exc
    name = data.get("name")
    applies = data.get("applies_to")
    columns = data.get("columns")
    if not isinstance(name, str) or not isinstance(applies, list) or not isinstance(columns, dict):
        raise InvalidInputError("a profile needs name, applies_to and [columns]", path=str(path))
    for kind in applies:
        if kind not in KINDS:
            raise InvalidInputError(
                f"applies_to: unknown kind {kind!r}; known: {KINDS}", path=str(path)
            )
    mapped: dict[str, tuple[str, ...]] = {}
    for column, keys in columns.items():
        if column not in PROFILE_COLUMNS:
            raise InvalidInputError(
                f"columns.{column}: not a mappable column; use one of {PROFILE_COLUMNS}",
                path=str(path),
            )
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidInputError(
                f"columns.{column}: expected a list of source keys", path=str(path)
            )
        mapped[column] = tuple(keys)
    order = data.get("order", 50)
    return Profile(name, tuple(applies), int(order), mapped, str(path))


def any_value(value: Any) -> Any:
    """Convert an OTLP/JSON ``AnyValue`` to a plain Python value."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        raw = value["intValue"]
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        return value["doubleValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return {
            kv.get("key"): any_value(kv.get("value"))
            for kv in (value["kvlistValue"] or {}).get("values", [])
        }
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {
        str(item.get("key")): any_value(item.get("value"))
        for item in items
        if isinstance(item, dict)
    }


def _flatten(value: Any, prefix: str, out: dict[str, Any], depth: int = 0) -> None:
    if isinstance(value, dict) and depth < 8:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    else:
        out[prefix] = value


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _hex(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower()


def _b64_hex(value: Any) -> str | None:
    """OpenSearch stores ids as hex already; protobuf JSON would be base64 (kept as hex)."""
    if not isinstance(value, str) or not value:
        return None
    if all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return value


def _text(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _time_ns(text: Any) -> int | None:
    from auditlens.core.bundle.formats import parse_time_ns

    if not isinstance(text, str):
        return _int(text)
    try:
        return parse_time_ns(text)
    except ValueError:
        return None


class Normalizer:
    """Turns record lines into rows of the normalized schema using the loaded profiles."""

    def __init__(self, profiles: list[Profile]) -> None:
        self.by_kind: dict[str, list[Profile]] = {
            kind: [p for p in profiles if kind in p.applies_to] for kind in KINDS
        }

    def row(self, line: bytes) -> dict[str, Any]:
        """Decode and map one record line; raises ``InvalidInputError`` when it is not a record."""
        try:
            document = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise InvalidInputError(f"record is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise InvalidInputError("record is not a JSON object")
        row: dict[str, Any] = dict.fromkeys(FIELD_NAMES)
        if "resourceLogs" in document or "resourceSpans" in document:
            kind, view = self._otlp(document, row)
        elif "_source" in document:
            kind, view = self._opensearch(document, row)
        elif "timestamp" in document:
            kind, view = "audit", self._audit(document, row)
        else:
            raise InvalidInputError("record is neither OTLP, audit JSON nor an OpenSearch document")
        row["kind"] = "audit" if kind == "audit" else ("span" if kind.endswith("span") else "log")
        for profile in self.by_kind[kind]:
            for column, keys in profile.columns.items():
                if row[column] is not None:
                    continue
                for key in keys:
                    value = _text(view.get(key))
                    if value is not None:
                        row[column] = value
                        break
        return row

    def _otlp(self, document: dict[str, Any], row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        is_log = "resourceLogs" in document
        try:
            if is_log:
                resource = document["resourceLogs"][0]
                scope = resource["scopeLogs"][0]
                record = scope["logRecords"][0]
            else:
                resource = document["resourceSpans"][0]
                scope = resource["scopeSpans"][0]
                record = scope["spans"][0]
        except (KeyError, IndexError, TypeError) as exc:
            raise InvalidInputError("OTLP record without resource, scope and record") from exc
        res_attrs = _attributes((resource.get("resource") or {}).get("attributes"))
        rec_attrs = _attributes(record.get("attributes"))
        scope_info = scope.get("scope") or {}
        view: dict[str, Any] = {f"resource.{k}": v for k, v in res_attrs.items()}
        view.update({f"attr.{k}": v for k, v in rec_attrs.items()})
        view["scope.name"] = scope_info.get("name")
        view["scope.version"] = scope_info.get("version")
        for key, value in record.items():
            if not isinstance(value, dict | list):
                view[f"field.{key}"] = value
        row["trace_id"] = _hex(record.get("traceId"))
        row["span_id"] = _hex(record.get("spanId"))
        attributes = {**res_attrs, **rec_attrs}
        if is_log:
            row["time_ns"] = _int(record.get("timeUnixNano")) or _int(
                record.get("observedTimeUnixNano")
            )
            row["observed_ns"] = _int(record.get("observedTimeUnixNano"))
            row["severity"] = record.get("severityText") or _text(record.get("severityNumber"))
            body = any_value(record.get("body"))
            row["body"] = _text(body)
            row["name"] = record.get("eventName") or None
            if isinstance(body, str) and body.startswith("{"):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    _flatten(parsed, "body", view)
        else:
            start = _int(record.get("startTimeUnixNano"))
            end = _int(record.get("endTimeUnixNano"))
            row["time_ns"] = start
            row["parent_span_id"] = _hex(record.get("parentSpanId"))
            row["name"] = record.get("name")
            row["duration_ns"] = end - start if start is not None and end is not None else None
            status = record.get("status") or {}
            row["severity"] = "ERROR" if status.get("code") == 2 else None
            attributes["span.kind"] = record.get("kind")
            if status:
                attributes["status.code"] = status.get("code")
        row["attributes"] = json.dumps(attributes, ensure_ascii=False, default=str)
        return ("log" if is_log else "span"), view

    def _audit(self, document: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {}
        _flatten(document, "", view)
        row["time_ns"] = _time_ns(document.get("timestamp"))
        row["body"] = _text(document.get("message")) or None
        attributes = document.get("attributes")
        flat: dict[str, Any] = {}
        if isinstance(attributes, dict):
            flat.update(attributes)
        for key in ("type", "level"):
            if key in document:
                flat[key] = document[key]
        row["attributes"] = json.dumps(flat, ensure_ascii=False, default=str)
        return view

    def _opensearch(self, hit: dict[str, Any], row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        source = hit["_source"]
        if not isinstance(source, dict):
            raise InvalidInputError("OpenSearch hit without a _source object")
        index = str(hit.get("_index") or "")
        if index.startswith("audit") or ("user_id" in source and "action" in source):
            return "audit", self._audit(source, row)
        view: dict[str, Any] = {}
        _flatten(source, "", view)
        attributes = {
            k.split("attributes.", 1)[1].replace("@", "."): v
            for k, v in view.items()
            if "attributes." in k
        }
        row["trace_id"] = _b64_hex(source.get("traceId"))
        row["span_id"] = _b64_hex(source.get("spanId"))
        if "startTime" in source or "durationInNanos" in source:
            row["time_ns"] = _time_ns(source.get("startTime"))
            row["parent_span_id"] = _b64_hex(source.get("parentSpanId"))
            row["name"] = source.get("name")
            row["duration_ns"] = _int(source.get("durationInNanos"))
            kind = "opensearch-span"
        else:
            row["time_ns"] = _time_ns(source.get("time") or source.get("@timestamp"))
            row["observed_ns"] = _time_ns(source.get("observedTime"))
            row["body"] = _text(source.get("body"))
            row["severity"] = _text(source.get("severityText"))
            kind = "opensearch-log"
        attributes["opensearch.index"] = index
        attributes["opensearch.id"] = hit.get("_id")
        row["attributes"] = json.dumps(attributes, ensure_ascii=False, default=str)
        return kind, view
