"""Property tests: every reader of hostile evidence returns or raises the project's own errors.

docs/robustness.md: every input is hostile until verified, and each gets a clear error or
finding, never a crash. For arbitrary bytes and for valid documents with random mutations, the
manifest and checkpoint parsers, the raw-evidence readers, the record normalizer, the DSSE envelope
parser, the trust store loader and the container reader either return or raise an
:class:`auditlens.core.errors.Error`; anything else (``KeyError``, ``TypeError``,
``RecursionError``, ``UnicodeError``, a third-party library's exception...) fails the test.

Round trips where they hold: a manifest's canonical bytes parse back to the same manifest and
re-canonicalize to the same bytes; sealing arbitrary small sets of audit records always verifies;
one flipped byte in a data file of a sealed bundle is always caught.

Random mutations reach one field with one odd value rarely, so a deterministic sweep also tries
every single edit of every valid document: each value replaced by each of ``EDGE_VALUES`` (other
JSON types, 64-bit limits, a far-future time, deep nesting) and each member removed.

Known bugs are pinned in tests marked ``xfail(strict=True, reason="bug: ...")``; a random property
with a known bug checks the bug's minimal reproduction first, so it fails the same way on every
run. When a bug is fixed its test passes, and the strict marker asks for the marker's removal.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zstandard
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from auditlens.core.bundle.canonical import MAX_SAFE_INTEGER, canonicalize
from auditlens.core.bundle.container import open_container
from auditlens.core.bundle.envelope import parse_envelope
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    LEAVES_PATH,
    MAX_SEQ,
    MAX_U64,
    PAYLOAD_TYPE,
    Checkpoint,
    FileEntry,
    Manifest,
    PreviousLink,
    checkpoints_bytes,
    parse_checkpoints,
    parse_manifest,
)
from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.dsse import sign_envelope
from auditlens.core.crypto.keys import sample_key
from auditlens.core.errors import Error
from auditlens.core.formats.base import SourceRecord
from auditlens.core.formats.jsontext import dumps_compact
from auditlens.core.formats.registry import read_records
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.resources import profiles_dir
from auditlens.core.schema import EVENT_SCHEMA
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.verify.findings import Verdict
from auditlens.core.verify.report import VerifyReport
from auditlens.core.verify.trust import TrustStore, load_trust, truststore_document
from auditlens.core.verify.verifier import verify_paths

COMPAT = Path(__file__).resolve().parents[1] / "data" / "otlp-examples"
KEY = sample_key("property-tests")
OTHER_KEY = sample_key("property-tests-other")
NORMALIZER = Normalizer(load_profiles([profiles_dir()]))
HEX = "0123456789abcdef"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"

# File I/O, sealing and DuckDB-free verification take a few milliseconds an example: no deadline.
# The example count stays Hypothesis's default.
io_settings = settings(deadline=None)


def drive(job: Any) -> Any:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def project_errors_only(action: Callable[[], Any]) -> Any:
    """Run ``action``; a project :class:`Error` is an accepted outcome, anything else propagates."""
    try:
        return action()
    except Error:
        return None


# --- strategies -------------------------------------------------------------------------------

# Strings that matter to the readers: 64-bit edges as decimal text, times, hashes, magic words.
interesting_text = st.sampled_from(
    [
        "",
        "0",
        "-1",
        str(MAX_SEQ),
        str(MAX_U64),
        str(MAX_U64 + 1),
        "00012",
        "1e400",
        "NaN",
        "2026-03-02T08:00:00Z",
        "2026-03-02T08:00:00.123456789+01:00",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "2026-02-30T25:61:61Z",
        "0" * 64,
        "A" * 32,
        "AAE=",
        "{}",
        '{"user_id":"x"}',
        "-----BEGIN PUBLIC KEY-----\n",
        "\ud7ff\ufffd\u2028",
    ]
)
# Replacement values at the edges of what a reader must handle: other JSON types, 64-bit limits,
# doubles, times after 2262, deep nesting (DEEP, spliced in as text by dump()).
DEEP = "<deep-nesting>"
DEEP_TEXT = "[" * 5000 + "]" * 5000
EDGE_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    0.5,
    2**63,
    2**64,
    10**30,
    -(10**30),
    "",
    "x",
    "9999-12-31T23:59:59Z",
    "\u0000",
    [],
    [None],
    {},
    {"": None},
    DEEP,
)
json_scalars = st.one_of(
    # A fresh copy each time: edits must never reach the shared list and dict values.
    st.sampled_from(EDGE_VALUES).map(copy.deepcopy),
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    interesting_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=10) | interesting_text, inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated_json(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one to three random edits: a value replaced, a member removed or added."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        edit = draw(st.sampled_from(["replace", "delete", "add", "wrap"]))
        if not path:
            doc = draw(json_values) if edit == "replace" else [doc]
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if edit == "replace":
            parent[key] = draw(json_values)
        elif edit == "delete":
            del parent[key]
        elif edit == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"values": parent[key]}]))
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12) | st.sampled_from(sorted(parent)))] = draw(json_values)
        else:
            parent.insert(key, draw(json_values))
    return doc


@st.composite
def json_bytes(draw: st.DrawFn, document: Any) -> bytes:
    """A mutated ``document`` serialized compactly or pretty, ASCII-escaped or not."""
    doc = draw(mutated_json(document))
    indent = draw(st.sampled_from([None, 2]))
    return dump(doc, ensure_ascii=draw(st.booleans()), indent=indent)


def dump(document: Any, *, ensure_ascii: bool = True, indent: int | None = None) -> bytes:
    text = json.dumps(document, ensure_ascii=ensure_ascii, indent=indent)
    return text.replace(json.dumps(DEEP), DEEP_TEXT).encode("utf-8")


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to four byte-level edits: flip, set, delete, insert, copy, truncate."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        edit = draw(st.sampled_from(["flip", "set", "delete", "insert", "copy", "truncate"]))
        if not buf:
            buf += draw(st.binary(min_size=1, max_size=8))
            continue
        at = draw(st.integers(min_value=0, max_value=len(buf) - 1))
        if edit == "flip":
            buf[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif edit == "set":
            buf[at] = draw(st.sampled_from([0, 0x0A, 0x22, 0x7B, 0x7F, 0x80, 0xFF]))
        elif edit == "delete":
            del buf[at : at + draw(st.integers(min_value=1, max_value=64))]
        elif edit == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "copy":
            source = draw(st.integers(min_value=0, max_value=len(buf) - 1))
            buf[at : at + 4] = buf[source : source + 4]
        else:
            del buf[at:]
    return bytes(buf)


def hex_text(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=HEX, min_size=size, max_size=size)


u64 = st.integers(min_value=0, max_value=MAX_U64)
seq_numbers = st.integers(min_value=0, max_value=MAX_SEQ)
# Values a canonical manifest can hold: no floats, integers in the I-JSON safe range.
canonical_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(max_size=16),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def file_entries(draw: st.DrawFn) -> FileEntry:
    # A data file at any path but the index files' and the manifest's (bundle-format §7.2).
    path = draw(st.text(min_size=1, max_size=24).filter(lambda p: p not in RESERVED_PATHS))
    size, digest = draw(u64), draw(hex_text(64))
    return FileEntry(path, "data", size, digest, draw(u64), draw(u64), draw(u64))


RESERVED_PATHS = {LEAVES_PATH, CHECKPOINTS_PATH, "manifest.json", "manifest.dsse.json"}


@st.composite
def file_lists(draw: st.DrawFn) -> tuple[FileEntry, ...]:
    """Data files with distinct paths, then the two index files, each listed once (§7.2)."""
    data = draw(st.lists(file_entries(), max_size=3, unique_by=lambda f: f.path))
    index = [
        FileEntry(LEAVES_PATH, "leaves", draw(u64), draw(hex_text(64))),
        FileEntry(CHECKPOINTS_PATH, "checkpoints", draw(u64), draw(hex_text(64))),
    ]
    return tuple(data + index)


rfc3339_times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda t: (
        t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"
    )
)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    previous = draw(
        st.none() | st.builds(PreviousLink, st.text(max_size=40), hex_text(64), hex_text(64), u64)
    )
    return Manifest(
        bundle_id=draw(hex_text(32)),
        sealed_at=draw(rfc3339_times),
        producer={
            **draw(st.dictionaries(st.text(max_size=8), canonical_values, max_size=3)),
            "name": draw(st.text(max_size=20)),
            "version": draw(st.text(max_size=10)),
        },
        source=draw(st.dictionaries(st.text(max_size=8), canonical_values, max_size=3)),
        stream_id=draw(st.from_regex(r"[A-Za-z0-9._:-]{1,128}", fullmatch=True)),
        epoch=draw(u64),
        first_seq=draw(seq_numbers),
        last_seq=draw(seq_numbers),
        count=draw(seq_numbers),
        time_first_ns=draw(u64),
        time_last_ns=draw(u64),
        chain_initial=draw(hex_text(64)),
        chain_final=draw(hex_text(64)),
        previous=previous,
        merkle_size=draw(u64),
        merkle_root=draw(hex_text(64)),
        checkpoint_interval=1 << draw(st.integers(min_value=0, max_value=63)),
        files=draw(file_lists()),
        signer_key_id=draw(hex_text(64)),
        signer_algorithm=draw(st.text(max_size=20)),
        signer_public_key=draw(st.text(max_size=60)),
        redactions=tuple(draw(st.lists(canonical_values, max_size=3))),
    )


checkpoints = st.builds(
    Checkpoint,
    u64,
    st.text(max_size=24),
    u64,
    u64,
    u64,
    u64,
    u64,
    hex_text(64),
    hex_text(64),
    u64,
    u64,
)

# The investigator-facing range of event times: what fits Unix nanoseconds in a BIGINT and the
# manifest's u64 time bounds.
NS_RANGE_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2262, 4, 11), timezones=st.just(UTC)
)
ANY_TIMES = st.datetimes(timezones=st.just(UTC))


def iso(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def audit_documents(times: st.SearchStrategy[datetime]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "timestamp": times.map(iso),
            "user_id": st.text(max_size=12),
            "action": st.sampled_from(["CREATE", "UPDATE", "DELETE", "LOGIN_SUCCESS", "EXPORT"]),
        },
        optional={
            "user_name": st.text(max_size=12),
            "resource": st.text(max_size=12),
            "resource_id": st.text(max_size=12),
            "source_ip_address": st.ip_addresses().map(str),
            "attributes": st.dictionaries(
                st.text(max_size=8),
                st.text(max_size=8) | st.integers() | st.booleans(),
                max_size=3,
            ),
            "type": st.just("audit_logging"),
            "level": st.sampled_from(["INFO", "WARN", "ERROR"]),
        },
    )


def source_records(documents: list[dict[str, Any]]) -> list[SourceRecord]:
    return [
        SourceRecord(dumps_compact(doc), parse_time_ns(doc["timestamp"]), "audit", "gen", i + 1)
        for i, doc in enumerate(documents)
    ]


# --- valid documents the mutations start from ---------------------------------------------


def _kv(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


OTLP_LOGS_REQUEST: dict[str, Any] = {
    "resourceLogs": [
        {
            "resource": {
                "attributes": [
                    _kv("service.name", {"stringValue": "agent-desktop"}),
                    _kv("tenant.id", {"stringValue": "acme"}),
                ]
            },
            "scopeLogs": [
                {
                    "scope": {"name": "audit", "version": "1.0"},
                    "logRecords": [
                        {
                            "timeUnixNano": "1772438400000000000",
                            "observedTimeUnixNano": 1772438400000000001,
                            "severityNumber": 9,
                            "severityText": "INFO",
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "eventName": "login",
                            "body": {
                                "kvlistValue": {
                                    "values": [
                                        _kv("action", {"stringValue": "LOGIN_SUCCESS"}),
                                        _kv("n", {"intValue": "3"}),
                                    ]
                                }
                            },
                            "attributes": [
                                _kv("user.id", {"stringValue": "u-1"}),
                                _kv(
                                    "user.roles",
                                    {
                                        "arrayValue": {
                                            "values": [
                                                {"stringValue": "agent"},
                                                {"stringValue": "supervisor"},
                                            ]
                                        }
                                    },
                                ),
                                _kv("client.address", {"stringValue": "10.0.0.1"}),
                                _kv("session.id", {"stringValue": "s-1"}),
                                _kv("audit.outcome", {"boolValue": True}),
                                _kv("ratio", {"doubleValue": 0.5}),
                                _kv("blob", {"bytesValue": "AAE="}),
                            ],
                        },
                        {
                            "timeUnixNano": 0,
                            "observedTimeUnixNano": "1772438400000000002",
                            "body": {
                                "stringValue": json.dumps(
                                    {
                                        "user_id": "u-2",
                                        "action": "EXPORT",
                                        "attributes": {"tenantId": "acme"},
                                    }
                                )
                            },
                        },
                    ],
                }
            ],
        }
    ]
}
OTLP_TRACES_REQUEST: dict[str, Any] = {
    "resourceSpans": [
        {
            "resource": {"attributes": [_kv("service.name", {"stringValue": "routing"})]},
            "scopeSpans": [
                {
                    "scope": {"name": "router"},
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "parentSpanId": "eee19b7ec3c1b173",
                            "name": "route-call",
                            "kind": 2,
                            "startTimeUnixNano": "1772438400000000000",
                            "endTimeUnixNano": 1772438400500000000,
                            "attributes": [
                                _kv("conversation.id", {"stringValue": "call-7"}),
                                _kv("user.id", {"stringValue": "u-3"}),
                            ],
                            "status": {"code": 2, "message": "busy"},
                        }
                    ],
                }
            ],
        }
    ]
}


def single_record(request: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The one-record form the sealer stores (docs/bundle-format.md §3)."""
    outer = next(iter(request))
    inner, items = (
        ("scopeLogs", "logRecords") if outer == "resourceLogs" else ("scopeSpans", "spans")
    )
    resource = request[outer][0]
    scope = resource[inner][0]
    return {outer: [{**resource, inner: [{**scope, items: [scope[items][index]]}]}]}


AUDIT_RECORD: dict[str, Any] = {
    "timestamp": "2026-03-02T08:00:00.123Z",
    "user_id": "u-1",
    "user_name": "alice",
    "action": "EXPORT",
    "resource": "contact",
    "resource_id": "c-1",
    "source_ip_address": "10.0.0.1",
    "attributes": {"service": "crm", "tenantId": "acme", "updated_data": {"n": 1}},
    "type": "audit_logging",
    "level": "INFO",
}
SPAN_HIT: dict[str, Any] = {
    "_index": "otel-v1-apm-span-000001",
    "_id": "eee19b7ec3c1b174",
    "_seq_no": 7,
    "_source": {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "route-call",
        "kind": "SPAN_KIND_SERVER",
        "startTime": "2026-03-02T08:00:00.000000001Z",
        "endTime": "2026-03-02T08:00:00.5Z",
        "durationInNanos": 500000000,
        "serviceName": "routing",
        "span.attributes.user@id": "u-3",
        "span.attributes.conversation@id": "call-7",
        "resource.attributes.service@name": "routing",
    },
}
LOG_HIT: dict[str, Any] = {
    "_index": "logs-otel-v1-000001",
    "_id": "l-1",
    "_source": {
        "time": "2026-03-02T08:00:01Z",
        "observedTime": "2026-03-02T08:00:01.5Z",
        "body": "agent logged in",
        "severityText": "INFO",
        "attributes": {"user@id": "u-1", "audit@action": "LOGIN_SUCCESS"},
        "log.attributes.client@address": "10.0.0.1",
    },
}
AUDIT_HIT: dict[str, Any] = {"_index": "audit_log_index", "_id": "a-1", "_source": AUDIT_RECORD}
SEARCH_RESPONSE: dict[str, Any] = {
    "took": 3,
    "timed_out": False,
    "hits": {"total": {"value": 3, "relation": "eq"}, "hits": [SPAN_HIT, LOG_HIT, AUDIT_HIT]},
}


def jsonl(*documents: Any) -> bytes:
    return b"".join(json.dumps(doc).encode() + b"\n" for doc in documents)


def _ids_to_base64(node: Any) -> Any:
    """OTLP/JSON ids are hex; protobuf's JSON mapping reads bytes fields as base64."""
    if isinstance(node, dict):
        return {
            key: base64.b64encode(bytes.fromhex(value)).decode()
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str)
            else _ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_base64(item) for item in node]
    return node


def proto_messages() -> list[bytes]:
    logs = _ids_to_base64(json.loads((COMPAT / "logs.json").read_text()))
    traces = _ids_to_base64(json.loads((COMPAT / "trace.json").read_text()))
    return [
        json_format.ParseDict(
            logs, logs_service_pb2.ExportLogsServiceRequest()
        ).SerializeToString(),
        json_format.ParseDict(
            traces, trace_service_pb2.ExportTraceServiceRequest()
        ).SerializeToString(),
    ]


PROTO_MESSAGES = proto_messages()


def framed(messages: list[bytes]) -> bytes:
    return b"".join(len(m).to_bytes(4, "big") + m for m in messages)


SAMPLE_MANIFEST = Manifest(
    bundle_id="0123456789abcdef0123456789abcdef",
    sealed_at="2026-03-02T09:00:00Z",
    producer={"name": "auditlens-seal", "version": "0.1.0"},
    source={"inputs": ["audit.jsonl"], "platform": "contact-center"},
    stream_id="cc-prod.audit",
    epoch=1,
    first_seq=1,
    last_seq=10,
    count=10,
    time_first_ns=1772438400000000000,
    time_last_ns=1772438409000000000,
    chain_initial="11" * 32,
    chain_final="22" * 32,
    previous=PreviousLink("fedcba9876543210fedcba9876543210", "33" * 32, "44" * 32, 0),
    merkle_size=10,
    merkle_root="55" * 32,
    checkpoint_interval=4,
    files=(
        FileEntry("data/00001.jsonl", "data", 4000, "66" * 32, 1, 8, 8),
        FileEntry("data/00002.jsonl", "data", 1000, "77" * 32, 9, 10, 2),
        FileEntry(LEAVES_PATH, "leaves", 320, "88" * 32),
        FileEntry(CHECKPOINTS_PATH, "checkpoints", 1500, "99" * 32),
    ),
    signer_key_id=KEY.key_id,
    signer_algorithm=KEY.algorithm,
    signer_public_key=KEY.public_pem().decode("ascii"),
    redactions=(),
)
MANIFEST_DOCUMENT = json.loads(SAMPLE_MANIFEST.canonical_bytes())
CHECKPOINTS_DOCUMENT = json.loads(
    checkpoints_bytes(
        4,
        [
            Checkpoint(0, "data/00001.jsonl", 0, 2000, 1, 4, 4, "aa" * 32, "bb" * 32, 1, 2),
            Checkpoint(1, "data/00001.jsonl", 2000, 2000, 5, 8, 4, "cc" * 32, "dd" * 32, 3, 4),
        ],
    )
)
ENVELOPE_DOCUMENT = json.loads(sign_envelope(PAYLOAD_TYPE, SAMPLE_MANIFEST.canonical_bytes(), KEY))


def trust_entry(key: Any, **extra: Any) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_pem().decode("ascii"),
        "owner": "platform sealer",
        "not_before": "2026-01-01T00:00:00Z",
        "not_after": None,
        "revoked_at": None,
        "revocation_reason": "",
        "obtained": "handed over in person",
        **extra,
    }


TRUSTSTORE_DOCUMENT = json.loads(
    truststore_document(
        [trust_entry(KEY), trust_entry(OTHER_KEY, revoked_at="2026-02-01T00:00:00Z")]
    )
)


# --- fixtures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """A small sealed bundle in every container, and a trust store that trusts its signer."""

    folder: Path
    archives: dict[str, bytes]  # suffix -> archive bytes
    trust: TrustStore
    scratch: Path


def _seal(out: Path, documents: list[dict[str, Any]], **options: Any) -> None:
    drive(
        seal(
            [],
            KEY,
            out,
            records=source_records(documents),
            stream_id="props",
            sealed_at="2026-03-02T09:00:00Z",
            **options,
        )
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("props")
    documents = [
        {**AUDIT_RECORD, "timestamp": f"2026-03-02T08:00:{i:02d}Z", "resource_id": f"c-{i}"}
        for i in range(10)
    ]
    archives = {}
    for suffix in (".zip", ".tar.gz", ".tar"):
        _seal(root / f"bundle{suffix}", documents, checkpoint_every=4, records_per_file=8)
        archives[suffix] = (root / f"bundle{suffix}").read_bytes()
    _seal(root / "bundle", documents, checkpoint_every=4, records_per_file=8)
    (root / "signer.pub.pem").write_bytes(KEY.public_pem())
    trust = load_trust(root / "signer.pub.pem")
    scratch = root / "scratch"
    scratch.mkdir()
    return Base(root / "bundle", archives, trust, scratch)


def verify(path: Path, trust: TrustStore) -> VerifyReport:
    report: VerifyReport = drive(verify_paths([path], trust, workers=1))
    return report


def fresh_dir(base: Base) -> Path:
    return Path(tempfile.mkdtemp(dir=base.scratch))


# --- manifest and checkpoints -------------------------------------------------------------------


def parse_manifest_fully(data: bytes) -> None:
    manifest = parse_manifest(data)
    # The importer stores canonical_bytes() of every manifest it parsed.
    manifest.canonical_bytes()
    manifest.data_files()


@given(st.binary(max_size=512) | st.binary(max_size=64).map(lambda b: b"{" + b))
def test_manifest_and_checkpoint_parsers_on_arbitrary_bytes(data: bytes) -> None:
    project_errors_only(lambda: parse_manifest_fully(data))
    project_errors_only(lambda: parse_checkpoints(data))


@given(json_bytes(MANIFEST_DOCUMENT))
def test_manifest_parser_on_mutated_manifests(data: bytes) -> None:
    project_errors_only(lambda: parse_manifest_fully(data))


@given(mutated_bytes(SAMPLE_MANIFEST.canonical_bytes()))
def test_manifest_parser_on_byte_mutated_manifests(data: bytes) -> None:
    project_errors_only(lambda: parse_manifest_fully(data))


@given(json_bytes(CHECKPOINTS_DOCUMENT) | mutated_bytes(canonicalize(CHECKPOINTS_DOCUMENT)))
def test_checkpoint_parser_on_mutated_checkpoint_files(data: bytes) -> None:
    project_errors_only(lambda: parse_checkpoints(data))


@given(manifests())
def test_manifest_canonical_bytes_round_trip(manifest: Manifest) -> None:
    canonical = manifest.canonical_bytes()
    parsed = parse_manifest(canonical)
    assert parsed == manifest
    assert parsed.canonical_bytes() == canonical
    assert canonicalize(json.loads(canonical)) == canonical


@given(st.integers(min_value=0, max_value=MAX_U64), st.lists(checkpoints, max_size=4))
def test_checkpoint_file_round_trip(interval: int, items: list[Checkpoint]) -> None:
    data = checkpoints_bytes(interval, items)
    assert parse_checkpoints(data) == (interval, items)
    assert canonicalize(json.loads(data)) == data


# --- raw evidence readers ---------------------------------------------------------------------


def read_all(path: Path) -> list[SourceRecord]:
    records = list(read_records(path))
    for record in records:
        # docs/bundle-format.md §3: one record per line.
        assert b"\n" not in record.line
    return records


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("raw")


def uncompressed(strategy: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Inputs that do not start like zstd or gzip: corrupt compressed input is a known bug of
    its own (test_raw_reader_on_corrupt_compressed_bytes)."""
    return strategy.filter(lambda data: not data.startswith((ZSTD_MAGIC, GZIP_MAGIC)))


def read_bytes_as_file(folder: Path, data: bytes, name: str = "input.jsonl") -> None:
    """Write ``data`` as a raw input and read every record: a project error is fine."""
    path = folder / name
    path.write_bytes(data)
    project_errors_only(lambda: read_all(path))


@io_settings
@given(
    uncompressed(st.binary(max_size=1024))
    | st.binary(max_size=64).map(lambda b: b'{"resourceLogs":' + b)
    | st.binary(max_size=64).map(lambda b: b'{"timestamp":' + b)
)
def test_raw_reader_on_arbitrary_uncompressed_bytes(raw_dir: Path, data: bytes) -> None:
    read_bytes_as_file(raw_dir, data)


def test_raw_reader_on_corrupt_compressed_bytes(raw_dir: Path) -> None:
    # Minimal reproductions: the zstd magic then garbage (ZstdError), the gzip magic then garbage
    # (BadGzipFile), a gzip stream cut short (EOFError).
    read_bytes_as_file(raw_dir, ZSTD_MAGIC + b"garbage")
    read_bytes_as_file(raw_dir, GZIP_MAGIC + b"garbage")
    read_bytes_as_file(raw_dir, gzip.compress(jsonl(AUDIT_RECORD))[:-6])

    @io_settings
    @given(
        st.tuples(st.sampled_from([ZSTD_MAGIC, GZIP_MAGIC]), st.binary(max_size=256)).map(
            lambda parts: parts[0] + parts[1]
        )
        | mutated_bytes(zstandard.ZstdCompressor().compress(jsonl(AUDIT_RECORD, AUDIT_RECORD)))
        | mutated_bytes(gzip.compress(jsonl(AUDIT_RECORD, AUDIT_RECORD), mtime=0))
    )
    def compressed_inputs(data: bytes) -> None:
        read_bytes_as_file(raw_dir, data)

    compressed_inputs()


def test_raw_reader_on_mutated_otlp_json(raw_dir: Path) -> None:
    read_bytes_as_file(raw_dir, b'{"resourceLogs":[{"scopeLogs":5}]}')
    read_bytes_as_file(raw_dir, b'{"resourceSpans":[{"scopeSpans":[{"spans":true}]}]}')

    @io_settings
    @given(
        st.one_of(
            json_bytes(OTLP_LOGS_REQUEST),
            json_bytes(OTLP_TRACES_REQUEST),
            st.tuples(json_bytes(OTLP_LOGS_REQUEST), json_bytes(OTLP_TRACES_REQUEST)).map(
                lambda pair: b"\n".join(pair)
            ),
            json_bytes(json.loads((COMPAT / "logs.json").read_text())),
            json_bytes(json.loads((COMPAT / "trace.json").read_text())),
            mutated_bytes(jsonl(OTLP_LOGS_REQUEST, OTLP_TRACES_REQUEST)),
        )
    )
    def otlp_json_inputs(data: bytes) -> None:
        read_bytes_as_file(raw_dir, data)

    otlp_json_inputs()


@io_settings
@given(
    st.lists(json_bytes(AUDIT_RECORD), min_size=1, max_size=3).map(b"\n".join)
    | uncompressed(mutated_bytes(jsonl(AUDIT_RECORD, AUDIT_RECORD)))
)
def test_raw_reader_on_mutated_audit_json(raw_dir: Path, data: bytes) -> None:
    read_bytes_as_file(raw_dir, data)


@io_settings
@given(
    st.lists(
        json_bytes(SPAN_HIT) | json_bytes(LOG_HIT) | json_bytes(AUDIT_HIT), min_size=1, max_size=3
    ).map(b"\n".join)
    | uncompressed(mutated_bytes(jsonl(SPAN_HIT, LOG_HIT, AUDIT_HIT)))
)
def test_raw_reader_on_mutated_opensearch_ndjson(raw_dir: Path, data: bytes) -> None:
    read_bytes_as_file(raw_dir, data, "hits.ndjson")


def test_raw_reader_on_mutated_opensearch_search_response(raw_dir: Path) -> None:
    read_bytes_as_file(raw_dir, b'{"hits":{"hits":5}}', "search.json")
    read_bytes_as_file(raw_dir, b'{"hits":{"hits":null}}', "search.json")

    @io_settings
    @given(
        json_bytes(SEARCH_RESPONSE) | mutated_bytes(json.dumps(SEARCH_RESPONSE, indent=2).encode())
    )
    def search_responses(data: bytes) -> None:
        read_bytes_as_file(raw_dir, data, "search.json")

    search_responses()


@st.composite
def proto_inputs(draw: st.DrawFn) -> bytes:
    """Length-framed OTLP protobuf: messages or framing mutated, then maybe zstd-compressed."""
    count = draw(st.integers(min_value=1, max_value=3))
    messages = [draw(st.sampled_from(PROTO_MESSAGES)) for _ in range(count)]
    if draw(st.booleans()):
        index = draw(st.integers(min_value=0, max_value=len(messages) - 1))
        messages[index] = draw(mutated_bytes(messages[index]))
        data = framed(messages)
    else:
        data = draw(uncompressed(mutated_bytes(framed(messages))))
    if draw(st.booleans()):
        data = zstandard.ZstdCompressor().compress(data)
    return data


@io_settings
@given(proto_inputs())
def test_raw_reader_on_mutated_otlp_protobuf(raw_dir: Path, data: bytes) -> None:
    read_bytes_as_file(raw_dir, data, "export.pb")


# --- the record normalizer -------------------------------------------------------------------


def normalize(line: bytes) -> None:
    """A row or a project error; a row must fit the one event schema, as the importer needs."""
    row = project_errors_only(lambda: NORMALIZER.row(line))
    if row is not None:
        pa.Table.from_pylist([row], schema=EVENT_SCHEMA)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Valid UTF-8 only: invalid UTF-8 is a known bug of its own (test_normalizer_on_invalid_utf8).
@given(
    st.text(max_size=256).map(str.encode)
    | st.text(max_size=64).map(lambda t: b'{"' + t.encode())
    | st.binary(max_size=64).map(lambda b: b"{" + b).filter(_utf8)
)
def test_normalizer_on_arbitrary_text(data: bytes) -> None:
    normalize(data)


def test_normalizer_on_invalid_utf8(raw_dir: Path) -> None:
    normalize(b'{"\x80":1}')

    @given(
        st.binary(max_size=64).map(lambda b: b'{"' + b)
        | st.sampled_from([AUDIT_RECORD, SPAN_HIT, single_record(OTLP_LOGS_REQUEST)])
        .map(dumps_compact)
        .flatmap(mutated_bytes)
    )
    def byte_damaged_records(line: bytes) -> None:
        normalize(line.replace(b"\n", b""))

    byte_damaged_records()


# Each record kind, with the minimal reproductions of the bugs found in it.
NORMALIZER_CASES: dict[str, tuple[dict[str, Any], list[bytes]]] = {
    "otlp-log": (
        single_record(OTLP_LOGS_REQUEST),
        [
            # AttributeError: 'list' object has no attribute 'get'
            b'{"resourceLogs":[{"resource":[1],"scopeLogs":[{"logRecords":[{}]}]}]}',
            # AttributeError (kvlistValue a list), TypeError (unhashable kvlist key)
            b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":[1]}}]}]}]}',
            b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":'
            b'{"values":[{"key":[1]}]}}}]}]}]}',
            # severityText 5 does not fit the string column (ArrowTypeError)
            b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":5}]}]}]}',
            # TypeError from json.dumps(sort_keys=True): a kvlist key that is not a string
            b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":'
            b'{"values":[{"key":"a","value":{}},{"key":1,"value":{}}]}}}]}]}]}',
        ],
    ),
    "otlp-log-json-body": (
        single_record(OTLP_LOGS_REQUEST, 1),
        [b'{"resourceLogs":[{"resource":"x","scopeLogs":[{"logRecords":[{}]}]}]}'],
    ),
    "otlp-span": (
        single_record(OTLP_TRACES_REQUEST),
        [
            # a span name that is an object does not fit the string column (ArrowTypeError)
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":{"a":1}}]}]}]}',
            # OverflowError: a start time beyond int64
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1'
            + b"0" * 30
            + b'"}]}]}]}',
        ],
    ),
    "audit": (
        AUDIT_RECORD,
        [
            # OverflowError: a numeric timestamp beyond int64 does not fit time_ns
            b'{"timestamp":123456789012345678901234567890}',
            # a valid ISO time after 2262 does not fit time_ns either
            b'{"timestamp":"9999-12-31T23:59:59Z"}',
        ],
    ),
    "opensearch-span": (
        SPAN_HIT,
        [b'{"_source":{"startTime":"2026-03-02T08:00:00Z","name":5}}'],
    ),
    "opensearch-log": (
        LOG_HIT,
        # OverflowError: a numeric time beyond int64 becomes time_ns unchecked
        [b'{"_source":{"time":123456789012345678901234567890}}'],
    ),
    "opensearch-audit": (
        AUDIT_HIT,
        [b'{"_index":"audit_log_index","_source":{"timestamp":123456789012345678901234567890}}'],
    ),
}
_OTLP_LOG_BUG = (
    "bug: Normalizer.row raises AttributeError/TypeError on OTLP records whose resource, scope, "
    "kvlistValue, arrayValue or values are not of the expected JSON type, TypeError on a kvlist "
    "body with non-string keys, and returns non-string names and severities and times beyond "
    "int64 that do not fit the event schema"
)
_NORMALIZER_BUGS: dict[str, str] = {}  # open bugs: a strict xfail each


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(
            kind,
            marks=[pytest.mark.xfail(strict=True, reason=_NORMALIZER_BUGS[kind])]
            if kind in _NORMALIZER_BUGS
            else [],
        )
        for kind in NORMALIZER_CASES
    ],
)
def test_normalizer_on_mutated_records(kind: str) -> None:
    document, reproductions = NORMALIZER_CASES[kind]
    assert NORMALIZER.row(dumps_compact(document))["kind"] in ("log", "span", "audit")
    for line in reproductions:
        normalize(line)

    @given(json_bytes(document))
    def mutated_records(line: bytes) -> None:
        normalize(line.replace(b"\n", b""))

    mutated_records()


# --- DSSE envelopes and the trust store -------------------------------------------------------


@given(
    st.binary(max_size=512)
    | json_bytes(ENVELOPE_DOCUMENT)
    | mutated_bytes(json.dumps(ENVELOPE_DOCUMENT).encode())
)
def test_envelope_parser_on_arbitrary_and_mutated_envelopes(data: bytes) -> None:
    project_errors_only(lambda: parse_envelope(data, source="manifest.dsse.json"))


@st.composite
def mutated_pem_truststores(draw: st.DrawFn) -> bytes:
    """The trust store with one key's PEM text damaged at the byte level."""
    document = copy.deepcopy(TRUSTSTORE_DOCUMENT)
    entry = draw(st.sampled_from(document["keys"]))
    pem = draw(mutated_bytes(entry["public_key"].encode("ascii")))
    entry["public_key"] = pem.decode("latin-1")
    return json.dumps(document).encode("utf-8")


@io_settings
@given(
    st.binary(max_size=512)
    | st.binary(max_size=128).map(lambda b: b"-----BEGIN PUBLIC KEY-----\n" + b)
    | mutated_bytes(KEY.public_pem())
    | json_bytes(TRUSTSTORE_DOCUMENT)
    | mutated_bytes(json.dumps(TRUSTSTORE_DOCUMENT, indent=2).encode())
    | mutated_pem_truststores()
)
def test_trust_store_loader_on_arbitrary_and_mutated_files(raw_dir: Path, data: bytes) -> None:
    path = raw_dir / "truststore.json"
    path.write_bytes(data)
    store = project_errors_only(lambda: load_trust(path))
    if store is not None:
        for key_id, key in store.keys.items():
            assert key_id == key.key_id


# --- containers -----------------------------------------------------------------------------


def read_container(path: Path) -> None:
    with open_container(path) as container:
        container.trailing_bytes()
        for name in container.files():
            container.region(name)
            with container.open(name) as handle:
                while handle.read(1 << 16):
                    pass


@io_settings
@given(
    st.sampled_from([".zip", ".tar.gz", ".tar"]),
    st.tuples(
        st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", GZIP_MAGIC, b"\x1f\x8b\x08\x00"]),
        st.binary(max_size=1024),
    ).map(lambda parts: parts[0] + parts[1])
    | st.binary(min_size=257, max_size=600).map(lambda b: b[:257] + b"ustar" + b[262:]),
)
def test_container_reader_on_arbitrary_bytes(base: Base, suffix: str, data: bytes) -> None:
    path = base.scratch / f"arbitrary{suffix}"
    path.write_bytes(data)
    project_errors_only(lambda: read_container(path))


@io_settings
@given(st.data())
def test_container_reader_on_mutated_bundle_archives(base: Base, data: st.DataObject) -> None:
    suffix = data.draw(st.sampled_from(sorted(base.archives)))
    mutated = data.draw(mutated_bytes(base.archives[suffix]))
    path = base.scratch / f"mutated{suffix}"
    path.write_bytes(mutated)
    project_errors_only(lambda: read_container(path))


@io_settings
@given(st.data())
def test_verifier_on_mutated_bundle_archives_returns_a_verdict(
    base: Base, data: st.DataObject
) -> None:
    suffix = data.draw(st.sampled_from(sorted(base.archives)))
    mutated = data.draw(mutated_bytes(base.archives[suffix]))
    path = base.scratch / f"verify{suffix}"
    path.write_bytes(mutated)
    report = verify(path, base.trust)
    assert report.verdict in set(Verdict)
    for finding in report.findings:
        # Findings are printed and stored as UTF-8 text.
        for text in (finding.message, finding.path or "", finding.actual or ""):
            text.encode("utf-8")


# --- sealing and verifying -------------------------------------------------------------------

# (checkpoint interval, records per data file): one record per segment and file, segments
# spanning files, several files, and the default interval (one partial segment).
SEAL_LAYOUTS = st.sampled_from([(1, 1), (1, 3), (2, 2), (4, 8), (4096, 4096)])


@io_settings
@given(
    st.lists(audit_documents(NS_RANGE_TIMES), min_size=1, max_size=12),
    SEAL_LAYOUTS,
    st.sampled_from(["bundle", "bundle.zip", "bundle.tar.gz"]),
)
def test_sealing_arbitrary_audit_records_always_verifies(
    base: Base, documents: list[dict[str, Any]], layout: tuple[int, int], name: str
) -> None:
    every, per_file = layout
    folder = fresh_dir(base)
    try:
        _seal(folder / name, documents, checkpoint_every=every, records_per_file=per_file)
        report = verify(folder / name, base.trust)
        assert report.verdict is Verdict.VERIFIED, [f.code for f in report.findings]
        assert report.record_count == len(documents)
        # docs/bundle-format.md §1: time 0 means "unknown" and does not count in the bounds.
        known = [t for t in (parse_time_ns(doc["timestamp"]) for doc in documents) if t]
        manifest = report.bundles[0].manifest
        assert manifest is not None
        bounds = (min(known), max(known)) if known else (0, 0)
        assert (manifest.time_first_ns, manifest.time_last_ns) == bounds
    finally:
        shutil.rmtree(folder)


def seal_then_verify(base: Base, documents: list[dict[str, Any]]) -> None:
    """Refusing to seal (a project error) is fine; sealing a bundle that does not verify is not."""
    folder = fresh_dir(base)

    def sealed() -> bool:
        _seal(folder / "bundle", documents)
        return True

    try:
        if project_errors_only(sealed):
            report = verify(folder / "bundle", base.trust)
            assert report.verdict is Verdict.VERIFIED, [f.code for f in report.findings]
    finally:
        shutil.rmtree(folder)


def test_sealing_records_of_any_time_never_makes_an_unverifiable_bundle(base: Base) -> None:
    seal_then_verify(base, [{**AUDIT_RECORD, "timestamp": "1969-12-31T23:59:59Z"}])

    @io_settings
    @given(st.lists(audit_documents(ANY_TIMES), min_size=1, max_size=4))
    def any_times(documents: list[dict[str, Any]]) -> None:
        seal_then_verify(base, documents)

    any_times()


@io_settings
@given(st.data())
def test_one_flipped_byte_in_a_data_file_is_never_verified(base: Base, data: st.DataObject) -> None:
    folder = fresh_dir(base)
    try:
        bundle = shutil.copytree(base.folder, folder / "bundle")
        name = data.draw(st.sampled_from(sorted(p.name for p in (bundle / "data").iterdir())))
        target = bundle / "data" / name
        content = bytearray(target.read_bytes())
        at = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
        content[at] ^= data.draw(st.integers(min_value=1, max_value=255))
        target.write_bytes(bytes(content))
        report = verify(bundle, base.trust)
        assert report.verdict is Verdict.TAMPERED
        assert any(f"data/{name}" in (f.path or "") for f in report.findings)
    finally:
        shutil.rmtree(folder)


def test_the_base_bundle_verifies_in_every_container(base: Base) -> None:
    # The mutation tests start from these: they must be valid, or the mutations prove nothing.
    assert verify(base.folder, base.trust).verdict is Verdict.VERIFIED
    for suffix, archive in base.archives.items():
        path = base.scratch / f"intact{suffix}"
        path.write_bytes(archive)
        assert verify(path, base.trust).verdict is Verdict.VERIFIED


def test_generators_produce_the_forms_the_readers_expect(raw_dir: Path) -> None:
    # Unmutated seeds read without error and yield the records they hold.
    kinds = {
        "logs.jsonl": (jsonl(OTLP_LOGS_REQUEST), ["log", "log"]),
        "traces.jsonl": (jsonl(OTLP_TRACES_REQUEST), ["span"]),
        "audit.jsonl": (jsonl(AUDIT_RECORD), ["audit"]),
        "hits.ndjson": (jsonl(SPAN_HIT, LOG_HIT, AUDIT_HIT), ["opensearch"] * 3),
        "search.json": (json.dumps(SEARCH_RESPONSE, indent=2).encode(), ["opensearch"] * 3),
    }
    for name, (data, expected) in kinds.items():
        (raw_dir / name).write_bytes(data)
        assert [r.kind for r in read_all(raw_dir / name)] == expected
    (raw_dir / "export.pb").write_bytes(zstandard.ZstdCompressor().compress(framed(PROTO_MESSAGES)))
    assert {r.kind for r in read_all(raw_dir / "export.pb")} == {"log", "span"}


# --- every single edit of every valid document ----------------------------------------------
#
# Random mutations reach a given field with a given odd value rarely; this sweep tries every
# one: each value of each document replaced by each of EDGE_VALUES, and each member removed.


def single_edits(document: Any) -> Iterator[Any]:
    for path in _paths(document):
        if not path:
            continue
        for value in [*EDGE_VALUES, _DELETE]:
            doc = copy.deepcopy(document)
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if value is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            yield doc


_DELETE = object()


def _read_text(raw_dir: Path, name: str) -> Callable[[bytes], None]:
    def read(data: bytes) -> None:
        read_bytes_as_file(raw_dir, data, name)

    return read


def _load_trust_bytes(raw_dir: Path) -> Callable[[bytes], None]:
    def load(data: bytes) -> None:
        path = raw_dir / "truststore.json"
        path.write_bytes(data)
        project_errors_only(lambda: load_trust(path))

    return load


def _one_line(check: Callable[[bytes], None]) -> Callable[[bytes], None]:
    return lambda data: check(data.replace(b"\n", b""))


# target -> (valid document, how to check the bytes of an edited document)
SWEEP_TARGETS: dict[str, tuple[Any, Callable[[Path], Callable[[bytes], None]]]] = {
    "manifest": (
        MANIFEST_DOCUMENT,
        lambda _: lambda d: project_errors_only(lambda: parse_manifest_fully(d)),
    ),
    "checkpoints": (
        CHECKPOINTS_DOCUMENT,
        lambda _: lambda d: project_errors_only(lambda: parse_checkpoints(d)),
    ),
    "envelope": (
        ENVELOPE_DOCUMENT,
        lambda _: lambda d: project_errors_only(lambda: parse_envelope(d, source="e")),
    ),
    "truststore": (TRUSTSTORE_DOCUMENT, _load_trust_bytes),
    "raw-otlp-logs": (OTLP_LOGS_REQUEST, lambda raw: _read_text(raw, "logs.jsonl")),
    "raw-otlp-traces": (OTLP_TRACES_REQUEST, lambda raw: _read_text(raw, "traces.jsonl")),
    "raw-audit": (AUDIT_RECORD, lambda raw: _read_text(raw, "audit.jsonl")),
    "raw-hit": (SPAN_HIT, lambda raw: _read_text(raw, "hits.ndjson")),
    "raw-search-response": (SEARCH_RESPONSE, lambda raw: _read_text(raw, "search.json")),
    **{
        f"normalizer-{kind}": (document, lambda _: _one_line(normalize))
        for kind, (document, _) in NORMALIZER_CASES.items()
    },
}
SWEEP_BUGS: dict[str, str] = {}  # open bugs: a strict xfail each


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(
            target,
            marks=[pytest.mark.xfail(strict=True, reason=SWEEP_BUGS[target])]
            if target in SWEEP_BUGS
            else [],
        )
        for target in SWEEP_TARGETS
    ],
)
def test_every_single_edit_of_a_valid_document(raw_dir: Path, target: str) -> None:
    document, checker = SWEEP_TARGETS[target]
    check = checker(raw_dir)
    for edited in single_edits(document):
        check(dump(edited))
