"""Decoding stored records and mapping them onto the normalized event (docs/architecture.md).

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

import operator
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.audit_json import audit_event, audit_time_ns
from auditlens.core.formats.jsontext import duplicate_key, keys_unique
from auditlens.core.formats.opensearch import hit_event
from auditlens.core.formats.otlp_json import otlp_time
from auditlens.core.formats.otlp_metrics import metric_event
from auditlens.core.formats.podlogs import pod_log_event
from auditlens.core.formats.records import AUDIT, FORM_TITLES, HIT, OTLP, POD_LOG, record_form
from auditlens.core.formats.values import kubernetes_attributes
from auditlens.core.formats.values import text as _text
from auditlens.core.schema import FIELD_NAMES, FIELDS, TASK_COLUMNS

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


def _values(container: Any) -> list[Any]:
    """The ``values`` list of an OTLP array or key-value list, or nothing when malformed."""
    values = container.get("values") if isinstance(container, dict) else None
    return values if isinstance(values, list) else []


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
        return [any_value(v) for v in _values(value["arrayValue"])]
    if "kvlistValue" in value:
        pairs = [kv for kv in _values(value["kvlistValue"]) if isinstance(kv, dict)]
        kvlist = {str(kv.get("key")): any_value(kv.get("value")) for kv in pairs}
        if len(kvlist) != len(pairs):
            _given_twice([str(kv.get("key")) for kv in pairs])
        return kvlist
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    out: dict[str, Any] = {}
    count = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        count += 1
        value = item.get("value")
        # Most attribute values are strings: skip the general conversion for them.
        text = value.get("stringValue") if isinstance(value, dict) else None
        out[str(item.get("key"))] = text if text is not None else any_value(value)
    if len(out) != count:
        _given_twice([str(i.get("key")) for i in items if isinstance(i, dict)])
    return out


def _given_twice(keys: list[str]) -> None:
    """Refuse an attribute list (or key-value list) that gives a key twice, naming the key.

    Either value could be shown and neither is the record's: the sealer refuses such a record
    (formats/otlp_json.py), and so does the importer, whichever path decodes it.
    """
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise InvalidInputError(
                f"attribute {key!r} is given twice: which value holds is not said by OTLP"
            )
        seen.add(key)


def _otlp_time(value: Any, name: str) -> int | None:
    """``otlp_time``, refusing the record (as the sealer refuses it) with the field's name.

    The usual time, a string of 1 to 19 ASCII digits, is read here at once: it is below
    10^19 < 2^64, so ``otlp_time`` would take it as it is. Two per OTLP record: 0.68 -> 0.44 us a
    call (measured on a busy machine). tests/core/store/test_normalize_typed.py holds both to
    the same answers.
    """
    if type(value) is str and 0 < len(value) < 20 and value.isdigit() and value.isascii():
        return int(value)
    try:
        return otlp_time(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None


def _hex(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower()


_Compiled = tuple[str, str, tuple[str, ...]]  # namespace, flat key, nested path


def _compile_key(key: str, kind: str) -> _Compiled:
    namespace, _, rest = key.partition(".")
    # Namespaces exist only for OTLP records; audit JSON and OpenSearch keys are plain paths
    # (the audit field "resource" is not the OTLP resource).
    if kind in ("log", "span") and rest and namespace in ("attr", "resource", "field", "scope"):
        return namespace, rest, ()
    if namespace == "body":
        return "body", rest, tuple(rest.split("."))
    return "path", key, tuple(key.split("."))


def _walk(document: Any, flat: str, parts: tuple[str, ...]) -> Any:
    """A literal dotted key first (Data Prepper flattens), else the nested path."""
    if not isinstance(document, dict):
        return None
    value = document.get(flat)
    if value is not None:
        return value
    for part in parts:
        if not isinstance(document, dict):
            return None
        document = document.get(part)
        if document is None:
            return None
    return document


_decode = msgspec.json.Decoder().decode
# An encoder object: 0.33 against 0.38 us for an OTLP row's attributes through the module's
# function (measured), the same text.
_encode = msgspec.json.Encoder().encode


# -- the typed fast path for OTLP/JSON records ----------------------------------------------------
#
# Untyped decoding builds a dict and a key string for every JSON object, and OTLP records are
# mostly such objects (each attribute is two). Decoding into these Structs skips both (measured
# on the benchmark's records, best of 5: decoding 2.3-2.5 us instead of 2.9-3.0 us, the whole
# row 9.7-11.0 us instead of 10.6-11.7 us per OTLP record; the rest is mapping). They are a
# strict view of exactly the fields ``_otlp_row`` reads, so the fast path can only succeed where
# it yields the row of the untyped path: a field of an unexpected type fails the validation and
# the record takes the untyped path; every leaf value whose meaning depends on its JSON type is
# ``Any`` (decoded exactly as the untyped decoder would); presence checks use ``UNSET``; and
# ``Normalizer.row`` falls back whenever the record is not one plain resource/scope/record.
# tests/core/store/test_normalize_typed.py compares both paths column by column.


class _AnyValue(msgspec.Struct, gc=False, omit_defaults=True):
    stringValue: str | UnsetType = UNSET  # noqa: N815 - OTLP/JSON field names
    intValue: Any = UNSET  # noqa: N815
    boolValue: Any = UNSET  # noqa: N815
    doubleValue: Any = UNSET  # noqa: N815
    # Arrays and key-value lists typed too: decoded as dicts and converted by ``any_value`` they
    # cost a record with one list-valued attribute 4.6 us instead of 1.4 (measured).
    arrayValue: _Values | UnsetType | None = UNSET  # noqa: N815
    kvlistValue: _KeyValues | UnsetType | None = UNSET  # noqa: N815
    bytesValue: Any = UNSET  # noqa: N815


class _KeyValue(msgspec.Struct, gc=False, omit_defaults=True):
    # The untyped path names a missing or null key "None" (``str(None)``); a null key fails
    # this field's validation and takes that path, a missing one gets the same name here.
    key: str = "None"
    value: _AnyValue | None = None


class _Values(msgspec.Struct, gc=False, omit_defaults=True):
    values: list[_AnyValue] | None = None


class _KeyValues(msgspec.Struct, gc=False, omit_defaults=True):
    values: list[_KeyValue] | None = None


def _typed_value(value: _AnyValue | None) -> Any:
    """``any_value`` of the typed view: the same precedence of fields, the same results."""
    if value is None:
        return None
    if value.stringValue is not UNSET:
        return value.stringValue
    if value.intValue is not UNSET:
        raw = value.intValue
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if value.boolValue is not UNSET:
        return bool(value.boolValue)
    if value.doubleValue is not UNSET:
        return value.doubleValue
    array = value.arrayValue
    if array is not UNSET:
        items = array.values if isinstance(array, _Values) else None
        return [_typed_value(v) for v in items] if items is not None else []
    kvlist = value.kvlistValue
    if kvlist is not UNSET:
        pairs = kvlist.values if isinstance(kvlist, _KeyValues) else None
        if pairs is None:
            return {}
        mapping = {kv.key: _typed_value(kv.value) for kv in pairs}
        if len(mapping) != len(pairs):
            _given_twice([kv.key for kv in pairs])
        return mapping
    if value.bytesValue is not UNSET:
        return value.bytesValue
    return None


class _Resource(msgspec.Struct, gc=False, omit_defaults=True):
    attributes: list[_KeyValue] | None = None


class _LogRecord(msgspec.Struct, gc=False, omit_defaults=True):
    """An OTLP log record: the fields ``_otlp_row`` reads of one, by attribute.

    It has no ``get``: the typed view serves only profiles that read no ``field.*`` key
    (``Normalizer.typed_otlp``), the one use of the record's ``get`` in the mapper. Log records
    and spans have a view each: every field a view holds but the record lacks is filled with
    its default when decoding (measured: 2,600 instructions a log record for the 15 fields of
    one view of both).
    """

    attributes: list[_KeyValue] | None = None
    traceId: Any = None  # noqa: N815
    spanId: Any = None  # noqa: N815
    timeUnixNano: Any = None  # noqa: N815
    observedTimeUnixNano: Any = None  # noqa: N815
    severityText: Any = None  # noqa: N815
    severityNumber: Any = None  # noqa: N815
    # Typed as an AnyValue: a body that is no JSON object fails the validation (untyped path).
    body: _AnyValue | None = None
    eventName: Any = None  # noqa: N815


class _Span(msgspec.Struct, gc=False, omit_defaults=True):
    """An OTLP span: the fields ``_otlp_row`` reads of one (see ``_LogRecord``)."""

    attributes: list[_KeyValue] | None = None
    traceId: Any = None  # noqa: N815
    spanId: Any = None  # noqa: N815
    parentSpanId: Any = None  # noqa: N815
    name: Any = None
    kind: Any = None
    startTimeUnixNano: Any = None  # noqa: N815
    endTimeUnixNano: Any = None  # noqa: N815
    status: Any = None


class _Fields:
    """An untyped OTLP record read like the typed view: a field by attribute, None when absent."""

    __slots__ = ("_record",)

    def __init__(self, record: dict[str, Any]) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record.get(name)

    def get(self, name: str) -> Any:
        return self._record.get(name)


# A record's scope is kept as its JSON text too, and decoded (once per distinct text, _scope) only
# when a profile reads ``scope.*`` keys or duplicated keys are looked for: the shipped profiles
# read none, and a dict per record was 1,400 instructions of a log record's 74,800.
_NO_SCOPE = msgspec.Raw(b"null")


class _ScopeLogs(msgspec.Struct, gc=False, omit_defaults=True):
    scope: msgspec.Raw = _NO_SCOPE
    logRecords: list[_LogRecord] | None = None  # noqa: N815


class _ScopeSpans(msgspec.Struct, gc=False, omit_defaults=True):
    scope: msgspec.Raw = _NO_SCOPE
    spans: list[_Span] | None = None


# A record's resource is kept as its JSON text and decoded once per distinct text (_resource):
# the records of one service repeat it, and decoding it is a fifth of the typed decoding.
_NO_RESOURCE = msgspec.Raw(b"null")


class _ResourceLogs(msgspec.Struct, gc=False, omit_defaults=True):
    resource: msgspec.Raw = _NO_RESOURCE
    scopeLogs: list[_ScopeLogs] | None = None  # noqa: N815


class _ResourceSpans(msgspec.Struct, gc=False, omit_defaults=True):
    resource: msgspec.Raw = _NO_RESOURCE
    scopeSpans: list[_ScopeSpans] | None = None  # noqa: N815


class _OtlpDocument(msgspec.Struct, gc=False, omit_defaults=True):
    resourceLogs: list[_ResourceLogs] | UnsetType = UNSET  # noqa: N815
    resourceSpans: list[_ResourceSpans] | UnsetType = UNSET  # noqa: N815


_decode_otlp = msgspec.json.Decoder(_OtlpDocument).decode
_decode_resource = msgspec.json.Decoder(_Resource | None).decode
_RESOURCES_KEPT = 4096  # distinct resource texts remembered per process (then forgotten)
_RESOURCE_KEPT_BYTES = 4096  # a longer resource text is decoded every time (bounded memory)
_resources: dict[bytes, dict[str, Any]] = {}


def _resource(raw: msgspec.Raw) -> dict[str, Any] | None:
    """The attributes of a resource given as JSON text; ``None`` when it is not a plain one.

    Answers from ``_resources`` for a text seen before. The dict returned is shared between
    records: it is only read (the row's attributes are a merged copy).
    """
    key = bytes(raw)
    attributes = _resources.get(key)
    if attributes is None:
        try:
            resource = _decode_resource(key)
        except (ValueError, RecursionError):
            return None  # the untyped path decides and explains
        if duplicate_key(key) is not None:
            # Once per distinct resource text: the untyped path names the key (and a record
            # whose line the check proves free of them never comes here twice).
            return None
        attributes = _typed_attributes(resource.attributes if resource is not None else None)
        if len(key) <= _RESOURCE_KEPT_BYTES:
            if len(_resources) >= _RESOURCES_KEPT:
                _resources.clear()
            _resources[key] = attributes
    return attributes


_decode_scope = msgspec.json.Decoder(dict[str, Any] | None).decode
_scopes: dict[bytes, dict[str, Any]] = {}
_NO_SCOPE_READ: dict[str, Any] = {}  # the scope given to mappers that read none of it


def _scope(raw: msgspec.Raw) -> dict[str, Any] | None:
    """A record's scope given as JSON text (``{}`` for none); ``None`` when it is not a plain one.

    As ``_resource``: answered from ``_scopes`` for a text seen before, the dict shared between
    records and only read, a text with a key given twice left to the untyped path.
    """
    key = bytes(raw)
    scope = _scopes.get(key)
    if scope is None:
        try:
            value = _decode_scope(key)
        except (ValueError, RecursionError):
            return None  # the untyped path decides and explains
        if duplicate_key(key) is not None:
            return None
        scope = value or {}
        if len(key) <= _RESOURCE_KEPT_BYTES:
            if len(_scopes) >= _RESOURCES_KEPT:
                _scopes.clear()
            _scopes[key] = scope
    return scope


# Lines the fast path is tried on; any other line goes straight to the untyped path.
_OTLP_PREFIXES = (b'{"resourceLogs":', b'{"resourceSpans":')
# Namespaces the typed view can serve: ``field`` and plain paths need the whole untyped record.
_TYPED_NAMESPACES = frozenset({"attr", "resource", "scope", "body"})


def _typed_attributes(items: list[_KeyValue] | None) -> dict[str, Any]:
    """``_attributes`` for the typed view (same keys, same values)."""
    if items is None:
        return {}
    out: dict[str, Any] = {}
    for item in items:
        value = item.value
        if value is None:
            out[item.key] = None
            continue
        text = value.stringValue
        out[item.key] = text if text is not UNSET else _typed_value(value)
    if len(out) != len(items):
        _given_twice([item.key for item in items])
    return out


def _body_document_of(body: Any) -> Any:
    """The body text read as JSON, when it is a JSON object's text (``body.*`` keys)."""
    if isinstance(body, str) and body.startswith("{"):
        try:
            return _decode(body)
        except (msgspec.DecodeError, RecursionError):
            return None
    return None


_UNSET = object()
# A row with every column empty: copying a dict is several times faster than ``dict.fromkeys``.
_new_row = dict.fromkeys(FIELD_NAMES).copy
_INT64 = (-(2**63), 2**63 - 1)
_INT_COLUMNS = frozenset(f.name for f in FIELDS if f.sql == "BIGINT")
_TEXT_COLUMNS = frozenset(f.name for f in FIELDS if f.sql in ("VARCHAR", "JSON"))


def _generate_fit_schema(
    text_known: frozenset[str] = frozenset(), unset: frozenset[str] = frozenset()
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Compile the schema check of a row into one straight-line function.

    For every integer column: a value that is not a 64-bit ``int`` becomes ``None``; for every
    text column not in ``text_known``: a value that is not ``None`` or ``str`` becomes its
    ``_text``. Columns in ``unset`` (still ``None`` when the check runs) are skipped. Written
    out per column (names from the fixed schema) it costs about two thirds of the loop over the
    columns.
    """
    lines = ["def fit_schema(row):"]
    for name in sorted(_INT_COLUMNS - unset):
        lines.append(f"    v = row[{name!r}]")
        lines.append("    if v is not None and (type(v) is not int or not LOW <= v <= HIGH):")
        lines.append(f"        row[{name!r}] = None")
    for name in sorted(_TEXT_COLUMNS - text_known - unset):
        lines.append(f"    v = row[{name!r}]")
        lines.append("    if v is not None and type(v) is not str:")
        lines.append(f"        row[{name!r}] = _text(v)")
    lines.append("    return row")
    scope: dict[str, Any] = {"LOW": _INT64[0], "HIGH": _INT64[1], "_text": _text}
    exec(compile("\n".join(lines), "<fit schema>", "exec"), scope)  # noqa: S102
    fit_schema: Callable[[dict[str, Any]], dict[str, Any]] = scope["fit_schema"]
    return fit_schema


_fit_schema = _generate_fit_schema()
# Text columns that hold only ``str`` or ``None`` in a row built by ``_otlp_row`` or ``_audit``
# and the profile mapper: set from literals, ``_text``, ``_hex``, ``str.lower`` or a JSON
# encoding, or only by the mapper (which writes ``str`` or ``_text``). ``severity`` and ``name``
# are copied from the record as they are and stay checked, as do the integer columns.
# tests/core/store/test_normalize_compiled.py feeds every field odd types to hold this to account.
_BUILT_TEXT = frozenset(
    {"kind", "trace_id", "span_id", "parent_span_id", "body", "attributes"}
    | (set(PROFILE_COLUMNS) - {"severity"})
)
# The task's columns are set after the check (decode._table, importer), never by the normalizer.
_fit_built = _generate_fit_schema(_BUILT_TEXT, TASK_COLUMNS)


# The ``get`` of a document that is not a dict: every key is missing.
_NO_GET: Callable[[str], Any] = MappingProxyType[str, Any]({}).get


def _walk_source(name: str, flat: str, parts: tuple[str, ...]) -> list[str]:
    """The mapper lines setting ``v = _walk(name, flat, parts)``, written out.

    ``<name>_get`` is the document's ``get``, or ``_NO_GET`` when the document is not a dict.
    As in ``_walk``: the literal key first, then the nested path, where a step that is missing
    or not an object ends the walk with ``None``.
    """
    lines = [f"v = {name}_get({flat!r})"]
    if parts == (flat,):
        return lines  # the nested path is the same single look-up
    lines.append("if v is None:")
    lines.append(f"    v = {name}_get({parts[0]!r})")
    for part in parts[1:]:
        lines.append(f"    v = v.get({part!r}) if isinstance(v, dict) else None")
    return lines


def _mapping_lines(
    columns: list[tuple[str, list[_Compiled]]],
    slot: Callable[[str], str],
    body_text: str,
    preset: frozenset[str] | None = None,
) -> list[str]:
    """The statements mapping the profile columns, each column written to ``slot(column)``.

    ``slot`` gives where a column's value is read and written (``row['actor_id']`` in the
    mapper, a local variable in the builders); ``body_text`` the expression of the body
    column's text. A column is mapped only while it is empty; ``preset`` names the columns that
    may hold a value already (None: any), the others are known empty and not tested. Needs
    ``attrs``, ``resource``, ``scope``, ``record``, ``document_get`` and ``body = _UNSET`` in
    scope.
    """
    lines: list[str] = []
    for column, keys in columns:
        if column not in PROFILE_COLUMNS:
            raise InvalidInputError(f"not a mappable column: {column!r}")
        target = slot(column)
        if preset is None or column in preset:
            lines.append(f"    if {target} is None:")
        else:
            lines.append("    if True:  # known empty")
        lines.append("        while True:")
        for namespace, flat, parts in keys:
            pad = "            "
            if namespace in ("attr", "resource"):
                # Always dicts, and most candidate keys are absent from a record: testing for the
                # key is cheaper than a ``get`` (measured: the log mapper 1.81 -> 1.74 us, the
                # span mapper 1.19 -> 1.06 us). The other namespaces may hold other types, whose
                # ``get`` fails as it must.
                source = "attrs" if namespace == "attr" else "resource"
                lines.append(f"{pad}if {flat!r} in {source}:")
                pad += "    "
                lines.append(f"{pad}v = {source}[{flat!r}]")
            elif namespace == "field":
                lines.append(f"{pad}v = record.get({flat!r})")
            elif namespace == "scope":
                lines.append(f"{pad}v = scope.get({flat!r})")
            elif namespace == "body":
                lines.append(f"{pad}if body is _UNSET:")
                lines.append(f"{pad}    body = _body_document_of({body_text})")
                lines.append(f"{pad}    body_get = body.get if isinstance(body, dict) else _NO_GET")
                # Most bodies are no JSON object: every key of theirs is absent.
                lines.append(f"{pad}if body_get is not _NO_GET:")
                pad += "    "
                lines.extend(pad + line for line in _walk_source("body", flat, parts))
            else:
                lines.extend(pad + line for line in _walk_source("document", flat, parts))
            # Same test as ``v is not None and v != '' and v != []``, strings first.
            lines.append(f"{pad}if type(v) is str:")
            lines.append(f"{pad}    if v:")
            lines.append(f"{pad}        {target} = v")
            lines.append(f"{pad}        break")
            lines.append(f"{pad}elif v is not None and v != '' and v != []:")
            lines.append(f"{pad}    {target} = _text(v)")
            lines.append(f"{pad}    break")
        lines.append("            break")
    return lines


def _compile_generated(lines: list[str], name: str, filename: str) -> Any:
    scope: dict[str, Any] = {
        "_walk": _walk,
        "_text": _text,
        "_body_document_of": _body_document_of,
        "_UNSET": _UNSET,
        "_NO_GET": _NO_GET,
        "UNSET": UNSET,
        "_AnyValue": _AnyValue,
        "_typed_value": _typed_value,
        "any_value": any_value,
        "_otlp_time": _otlp_time,
        "_encode": _encode,
        "_resource": _resource,
        "_scope": _scope,
        "_NO_SCOPE_READ": _NO_SCOPE_READ,
        "_given_twice": _given_twice,
        "_audit_time_ns": audit_time_ns,
        "_kubernetes_attributes": kubernetes_attributes,
        "InvalidInputError": InvalidInputError,
        "LOW": _INT64[0],
        "HIGH": _INT64[1],
    }
    exec(compile("\n".join(lines), filename, "exec"), scope)  # noqa: S102
    return scope[name]


def _generate_mapper(kind: str, columns: list[tuple[str, list[_Compiled]]]) -> Any:
    """Compile a kind's merged profile columns into one straight-line Python function.

    The import spends most of its time here, and a generated function with the look-ups written
    out is faster than interpreting the profile per record. Only ``repr`` of the profile's
    strings reaches the source, so a profile cannot inject code; column names come from the
    fixed PROFILE_COLUMNS whitelist checked when the profile was loaded.
    """
    lines = [
        "def mapper(row, attrs, resource, scope, record, document):",
        "    body = _UNSET",
        "    document_get = document.get if isinstance(document, dict) else _NO_GET",
    ]
    lines += _mapping_lines(columns, lambda column: f"row[{column!r}]", "row['body']")
    lines.append("    return None")
    return _compile_generated(lines, "mapper", f"<profile mapper {kind}>")


# The columns of a row the normalizer fills, in the order decode.py stores them; the others
# (TASK_COLUMNS) are the decoding task's.
ROW_COLUMNS = tuple(name for name in FIELD_NAMES if name not in TASK_COLUMNS)
row_values: Callable[[dict[str, Any]], tuple[Any, ...]] = operator.itemgetter(*ROW_COLUMNS)


def _generate_otlp_builder(kind: str, columns: list[tuple[str, list[_Compiled]]]) -> Any:
    """Compile the typed view's row of a log record or span as one function giving its values.

    ``_otlp_row``, the profile mapper and ``_fit_built`` written out as one function over local
    variables, returning the tuple of ROW_COLUMNS: no row dict is made, copied, written and read
    back (``Normalizer.row_values``; the profile columns are mapped by the same generated
    statements as the mapper's, ``_mapping_lines``). tests/core/store/test_normalize_typed.py
    holds it to ``row_values(Normalizer.row(...))`` over every record the typed view is
    tested with.
    """
    log = kind == "log"
    scopes, records = ("scopeLogs", "logRecords") if log else ("scopeSpans", "spans")
    lines = [
        # ``_typed_parts`` written out: the first resource, scope and record, or None.
        "def build(resources, read_scope):",
        "    if not resources:",
        "        return None",
        "    res = resources[0]",
        f"    scopes = res.{scopes}",
        "    if not scopes:",
        "        return None",
        "    sc = scopes[0]",
        f"    records = sc.{records}",
        "    if not records:",
        "        return None",
        "    resource = _resource(res.resource)",
        "    if resource is None:",
        "        return None",
        "    if read_scope:",
        "        scope = _scope(sc.scope)",
        "        if scope is None:",
        "            return None",
        "    else:",
        "        scope = _NO_SCOPE_READ",
        "    record = records[0]",
        # ``_typed_attributes`` written out.
        "    items = record.attributes",
        "    attrs = {}",
        "    if items is not None:",
        "        for item in items:",
        "            v = item.value",
        "            if v is None:",
        "                attrs[item.key] = None",
        "            else:",
        "                t = v.stringValue",
        "                attrs[item.key] = t if t is not UNSET else _typed_value(v)",
        "        if len(attrs) != len(items):",
        "            _given_twice([item.key for item in items])",
        "    body = _UNSET",
        "    document_get = _NO_GET",
        "    v = record.traceId",
        "    c_trace_id = v.lower() if isinstance(v, str) and v else None",
        "    v = record.spanId",
        "    c_span_id = v.lower() if isinstance(v, str) and v else None",
        "    attributes = {**resource, **attrs}",
    ]
    digits = "type(v) is str and 0 < len(v) < 20 and v.isdigit() and v.isascii()"
    if log:
        lines += [
            "    c_kind = 'log'",
            "    v = record.observedTimeUnixNano",
            f"    c_observed_ns = int(v) if {digits} else _otlp_time(v, 'observedTimeUnixNano')",
            "    v = record.timeUnixNano",
            f"    c_time_ns = int(v) if {digits} else _otlp_time(v, 'timeUnixNano')",
            "    c_time_ns = c_time_ns or c_observed_ns",
            "    c_severity = record.severityText or _text(record.severityNumber)",
            "    v = record.body",
            "    if type(v) is _AnyValue:",
            "        t = v.stringValue",
            "        c_body = (t or None) if t is not UNSET else _text(_typed_value(v))",
            "    else:",
            "        c_body = _text(any_value(v))",
            "    c_name = record.eventName or None",
            "    c_parent_span_id = None",
            "    c_duration_ns = None",
        ]
    else:
        lines += [
            "    c_kind = 'span'",
            "    v = record.startTimeUnixNano",
            f"    start = int(v) if {digits} else _otlp_time(v, 'startTimeUnixNano')",
            "    v = record.endTimeUnixNano",
            f"    end = int(v) if {digits} else _otlp_time(v, 'endTimeUnixNano')",
            "    c_time_ns = start",
            "    c_observed_ns = None",
            "    v = record.parentSpanId",
            "    c_parent_span_id = v.lower() if isinstance(v, str) and v else None",
            "    c_name = record.name",
            "    c_duration_ns = end - start if start is not None and end is not None else None",
            "    status = record.status or {}",
            "    c_severity = (",
            "        'ERROR' if isinstance(status, dict) and status.get('code') == 2 else None",
            "    )",
            "    attributes['span.kind'] = record.kind",
            "    if status:",
            "        attributes['status.code'] = (",
            "            status.get('code') if isinstance(status, dict) else status",
            "        )",
            "    c_body = None",
        ]
    lines.append("    c_attributes = _encode(attributes).decode('utf-8')")
    lines += [f"    c_{name} = None" for name in PROFILE_COLUMNS if name != "severity"]
    # Of the profile columns, only severity is set before the profiles map (above).
    preset = frozenset({"severity"})
    lines += _mapping_lines(columns, lambda column: f"c_{column}", "c_body", preset)
    lines += _fit_lines()  # ``_fit_built``
    lines.append("    return (" + ", ".join(f"c_{name}" for name in ROW_COLUMNS) + ",)")
    return _compile_generated(lines, "build", f"<typed OTLP row {kind}>")


def _generate_audit_builder(columns: list[tuple[str, list[_Compiled]]]) -> Any:
    """Compile an audit record's row as one function giving its values (ROW_COLUMNS).

    What ``audit_event`` (formats/audit_json.py, without a wrapping's ``extra``), the ``audit``
    mapper and ``_fit_built`` do, written out over local variables as for OTLP records
    (``_generate_otlp_builder``). tests/core/store/test_normalize_typed.py holds it to
    ``row_values(Normalizer.row(...))``.
    """
    lines = [
        "def build(document):",
        "    try:",
        "        c_time_ns = _audit_time_ns(document)",
        "    except ValueError as exc:",
        "        raise InvalidInputError(f'audit record: {exc}') from exc",
        "    c_body = _text(document.get('message')) or None",
        "    v = document.get('attributes')",
        "    flat = dict(v) if isinstance(v, dict) else {}",
        "    if 'type' in document:",
        "        flat['type'] = document['type']",
        "    if 'level' in document:",
        "        flat['level'] = document['level']",
        "    v = document.get('kubernetes')",
        "    if type(v) is dict:",
        "        _kubernetes_attributes(v, flat)",
        "    c_attributes = _encode(flat).decode('utf-8')",
        "    c_kind = 'audit'",
    ]
    lines += [
        f"    c_{name} = None"
        for name in ROW_COLUMNS
        if name not in ("time_ns", "body", "attributes", "kind")
    ]
    lines += [
        "    attrs = {}",
        "    resource = {}",
        "    scope = {}",
        "    record = {}",
        "    body = _UNSET",
        "    document_get = document.get",
    ]
    # audit_event sets none of the profile columns.
    lines += _mapping_lines(columns, lambda column: f"c_{column}", "c_body", frozenset())
    lines += _fit_lines()
    lines.append("    return (" + ", ".join(f"c_{name}" for name in ROW_COLUMNS) + ",)")
    return _compile_generated(lines, "build", "<audit row>")


def _fit_lines() -> list[str]:
    """``_fit_built`` over the builders' local variables."""
    lines = []
    for name in ROW_COLUMNS:
        if name in _INT_COLUMNS:
            lines.append(f"    v = c_{name}")
            lines.append("    if v is not None and (type(v) is not int or not LOW <= v <= HIGH):")
            lines.append(f"        c_{name} = None")
        elif name in _TEXT_COLUMNS and name not in _BUILT_TEXT:
            lines.append(f"    v = c_{name}")
            lines.append("    if v is not None and type(v) is not str:")
            lines.append(f"        c_{name} = _text(v)")
    return lines


def _read_line(line: bytes, check_keys: bool) -> Any:
    """A stored record line read as JSON; with ``check_keys``, refused for a key given twice."""
    try:
        document = _decode(line)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InvalidInputError(f"record is not JSON: {exc}") from exc
    if check_keys and not keys_unique(line, _encode(document)):
        key = duplicate_key(line)
        if key is not None:
            raise InvalidInputError(f"not valid JSON: duplicate key {key!r}")
    return document


# What mapping an odd record can raise besides InvalidInputError: refused as malformed.
_ROW_ERRORS = (
    UnicodeError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    RecursionError,
    OverflowError,
)
# is_log, the typed record, resource attributes, record attributes, scope.
_TypedParts = tuple[bool, Any, dict[str, Any], dict[str, Any], Any]


class Normalizer:
    """Turns record lines into rows of the normalized schema using the loaded profiles.

    Hot path of the import (docs/architecture.md §8): records are decoded with msgspec and profile
    keys are compiled once into (namespace, key, path) lookups, so mapping a record costs a few
    dictionary look-ups per column rather than building a namespaced copy of every field.
    """

    def __init__(self, profiles: list[Profile]) -> None:
        self.by_kind: dict[str, list[tuple[str, list[_Compiled]]]] = {}
        self._mappers: dict[str, Any] = {}
        for kind in KINDS:
            merged: dict[str, list[_Compiled]] = {}
            for profile in profiles:
                if kind in profile.applies_to:
                    for column, keys in profile.columns.items():
                        merged.setdefault(column, []).extend(_compile_key(k, kind) for k in keys)
            self.by_kind[kind] = list(merged.items())
            self._mappers[kind] = _generate_mapper(kind, self.by_kind[kind])
        # The typed OTLP view holds only the fields the decoder reads: profiles that look at
        # other record fields (``field.*``) or at the raw document keep every record untyped.
        self.typed_otlp = all(
            namespace in _TYPED_NAMESPACES
            for kind in ("log", "span")
            for _, keys in self.by_kind[kind]
            for namespace, _, _ in keys
        )
        self._reads_scope = any(
            namespace == "scope"
            for kind in ("log", "span")
            for _, keys in self.by_kind[kind]
            for namespace, _, _ in keys
        )
        self._audit_builder = _generate_audit_builder(self.by_kind["audit"])
        self._builders: tuple[Any, Any] | None = None
        if self.typed_otlp:
            self._builders = (
                _generate_otlp_builder("log", self.by_kind["log"]),
                _generate_otlp_builder("span", self.by_kind["span"]),
            )

    def row(self, line: bytes, check_keys: bool = True, value: Any = None) -> dict[str, Any]:
        """Decode and map one record line; raises ``InvalidInputError`` when it is not a record.

        Whatever the record holds, the row fits the event schema: text columns hold text,
        integer columns 64-bit integers (a value that is not one is dropped from the column and
        stays visible in the record itself).

        With ``check_keys`` a record with a duplicated JSON key is refused, as the sealer refuses
        it (formats/jsontext.py): left off only for lines a trusted signature says AuditLens's
        sealer wrote, which read every record strictly (docs/case.md, "Accepted formats").

        ``value`` is the line as a format's split already read it strictly
        (``SourceRecord.value``): it is mapped instead of decoding the line again.
        """
        try:
            if self.typed_otlp and line.startswith(_OTLP_PREFIXES):
                row = self._typed_row(line, check_keys)
                if row is not None:
                    return _fit_built(row)
            return self._row(line, check_keys, value)
        except InvalidInputError:
            raise
        except _ROW_ERRORS as exc:
            raise InvalidInputError(f"malformed record: {type(exc).__name__}: {exc}") from exc

    def _typed_parts(self, line: bytes, check_keys: bool) -> _TypedParts | None:
        """A plain OTLP record's parts through the typed view; ``None``: use ``_row``."""
        try:
            document = _decode_otlp(line)
        except (ValueError, RecursionError):
            # Not this shape, not JSON or not UTF-8 (msgspec.DecodeError, UnicodeDecodeError):
            # the untyped path decides and explains.
            return None
        if check_keys and not keys_unique(line, _encode(document)):
            return None  # a duplicated key, or fields the view does not hold: the untyped path
        resources: list[_ResourceLogs] | list[_ResourceSpans]
        if document.resourceLogs is not UNSET:
            is_log, resources = True, document.resourceLogs
        elif document.resourceSpans is not UNSET:
            is_log, resources = False, document.resourceSpans
        else:
            return None
        if not resources:
            return None
        resource = resources[0]
        scopes = resource.scopeLogs if isinstance(resource, _ResourceLogs) else resource.scopeSpans
        if not scopes:
            return None
        scope = scopes[0]
        records = scope.logRecords if isinstance(scope, _ScopeLogs) else scope.spans
        if not records:
            return None  # the untyped path refuses it and says why
        res_attrs = _resource(resource.resource)
        if res_attrs is None:
            return None
        if check_keys or self._reads_scope:
            # Decoded and checked for duplicated keys: its Raw text is re-encoded as it is, so
            # the line's duplicate-key check above cannot see into it.
            scope_info = _scope(scope.scope)
            if scope_info is None:
                return None
        else:
            scope_info = _NO_SCOPE_READ
        record = records[0]
        return is_log, record, res_attrs, _typed_attributes(record.attributes), scope_info

    def _typed_row(self, line: bytes, check_keys: bool = False) -> dict[str, Any] | None:
        """The row of a plain OTLP record through the typed view; ``None``: use ``_row``."""
        parts = self._typed_parts(line, check_keys)
        if parts is None:
            return None
        is_log, record, res_attrs, rec_attrs, scope_info = parts
        row: dict[str, Any] = _new_row()
        self._otlp_row(is_log, record, res_attrs, rec_attrs, scope_info, None, row)
        return row

    def row_values(self, line: bytes, check_keys: bool = True) -> tuple[Any, ...]:
        """``row_values(self.row(line, check_keys))``: the row as decode.py stores it.

        A plain OTLP record's values come from the typed builder (``_generate_otlp_builder``)
        without a row dict; any other line's from ``row``. Raises ``InvalidInputError`` as
        ``row`` does, with the same message.
        """
        try:
            if self.typed_otlp and self._builders and line.startswith(_OTLP_PREFIXES):
                # ``_typed_parts`` up to the record's kind; the builder goes on from there.
                try:
                    document: _OtlpDocument | None = _decode_otlp(line)
                except (ValueError, RecursionError):
                    document = None  # the untyped path decides and explains
                if document is not None and (
                    not check_keys or keys_unique(line, _encode(document))
                ):
                    read_scope = check_keys or self._reads_scope
                    values: tuple[Any, ...] | None = None
                    if document.resourceLogs is not UNSET:
                        values = self._builders[0](document.resourceLogs, read_scope)
                    elif document.resourceSpans is not UNSET:
                        values = self._builders[1](document.resourceSpans, read_scope)
                    if values is not None:
                        return values
            return self._untyped_values(line, check_keys)
        except InvalidInputError:
            raise
        except _ROW_ERRORS as exc:
            raise InvalidInputError(f"malformed record: {type(exc).__name__}: {exc}") from exc

    def _untyped_values(self, line: bytes, check_keys: bool) -> tuple[Any, ...]:
        """``row_values(self._row(line, check_keys))``, an audit record's from its builder."""
        document = _read_line(line, check_keys)
        if type(document) is dict and record_form(document) == AUDIT:
            values: tuple[Any, ...] = self._audit_builder(document)
            return values
        # The document read and checked above (``_row`` reads a null one again).
        return row_values(self._row(line, False, document))

    def _row(self, line: bytes, check_keys: bool = False, value: Any = None) -> dict[str, Any]:
        # ``value``: read strictly by the split already, no key to check again.
        document = value if value is not None else _read_line(line, check_keys)
        if not isinstance(document, dict):
            raise InvalidInputError("record is not a JSON object")
        row: dict[str, Any] = _new_row()
        form = record_form(document)  # the sealer's rule (formats/records.py)
        if form == OTLP:
            self._otlp(document, row)
        elif form == HIT:
            self._opensearch(document, row)
            return _fit_schema(row)
        elif form == AUDIT:
            audit_event(document, row)
            self._mappers["audit"](row, {}, {}, {}, {}, document)  # ``_map`` written out
        elif form == POD_LOG:
            kind, view = pod_log_event(document, row)
            if kind == AUDIT:
                self._mappers["audit"](row, {}, {}, {}, {}, view)
            else:
                self._mappers["log"](row, view, {}, {}, {}, None)
        else:
            raise InvalidInputError(f"record is {FORM_TITLES[form]}")
        return _fit_built(row)

    def _map(
        self,
        kind: str,
        row: dict[str, Any],
        attrs: dict[str, Any] | None,
        resource: dict[str, Any] | None,
        scope: dict[str, Any] | None,
        record: dict[str, Any] | None,
        document: Any,
    ) -> None:
        self._mappers[kind](row, attrs or {}, resource or {}, scope or {}, record or {}, document)

    def _otlp(self, document: dict[str, Any], row: dict[str, Any]) -> None:
        if "resourceMetrics" in document:
            attrs, resource, scope = metric_event(document, row, _attributes, _otlp_time, _hex)
            self._mappers["log"](row, attrs, resource, scope, {}, document)
            return
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
        if not isinstance(record, dict):
            raise InvalidInputError("OTLP record is not an object")
        res_attrs = _attributes((resource.get("resource") or {}).get("attributes"))
        rec_attrs = _attributes(record.get("attributes"))
        scope_info = scope.get("scope") or {}
        self._otlp_row(is_log, _Fields(record), res_attrs, rec_attrs, scope_info, document, row)

    def _otlp_row(
        self,
        is_log: bool,
        record: Any,
        res_attrs: dict[str, Any],
        rec_attrs: dict[str, Any],
        scope_info: Any,
        document: Any,
        row: dict[str, Any],
    ) -> None:
        """The row of one OTLP record.

        ``record`` is the typed view or an untyped record's ``_Fields``: both answer a missing
        field with None, by attribute (measured: 0.3 us less per record than calling ``get``).
        """
        # _hex written out for the two ids every record has.
        trace_id = record.traceId
        row["trace_id"] = trace_id.lower() if isinstance(trace_id, str) and trace_id else None
        span_id = record.spanId
        row["span_id"] = span_id.lower() if isinstance(span_id, str) and span_id else None
        attributes = {**res_attrs, **rec_attrs}
        if is_log:
            row["kind"] = "log"
            observed = _otlp_time(record.observedTimeUnixNano, "observedTimeUnixNano")
            row["time_ns"] = _otlp_time(record.timeUnixNano, "timeUnixNano") or observed
            row["observed_ns"] = observed
            row["severity"] = record.severityText or _text(record.severityNumber)
            body = record.body
            if type(body) is _AnyValue:
                # The typed view's body: ``_text(any_value(...))`` of the same value.
                text = body.stringValue
                row["body"] = (text or None) if text is not UNSET else _text(_typed_value(body))
            else:
                row["body"] = _text(any_value(body))
            row["name"] = record.eventName or None
        else:
            row["kind"] = "span"
            start = _otlp_time(record.startTimeUnixNano, "startTimeUnixNano")
            end = _otlp_time(record.endTimeUnixNano, "endTimeUnixNano")
            row["time_ns"] = start
            row["parent_span_id"] = _hex(record.parentSpanId)
            row["name"] = record.name
            row["duration_ns"] = end - start if start is not None and end is not None else None
            status = record.status or {}
            row["severity"] = (
                "ERROR" if isinstance(status, dict) and status.get("code") == 2 else None
            )
            attributes["span.kind"] = record.kind
            if status:
                attributes["status.code"] = (
                    status.get("code") if isinstance(status, dict) else status
                )
        row["attributes"] = _encode(attributes).decode("utf-8")
        # ``_map`` inlined: the attribute dicts are dicts here, ``scope_info`` is what ``_map``
        # would pass on or empty (then ``or {}`` matters); ``record``'s ``get`` is called only on
        # the untyped path (``_Fields``), for ``field.*`` keys.
        self._mappers[row["kind"]](row, rec_attrs, res_attrs, scope_info or {}, record, document)

    def _opensearch(self, hit: dict[str, Any], row: dict[str, Any]) -> None:
        kind, view = hit_event(hit, row)
        self._map(kind, row, None, None, None, None, view)
