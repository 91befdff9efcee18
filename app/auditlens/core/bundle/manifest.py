"""The bundle manifest and checkpoint file of format v1 (docs/bundle-format.md §7-§8).

Both are RFC 8785 canonical JSON. 64-bit quantities (sequence numbers, counts, sizes, offsets,
nanosecond times) are decimal strings; hashes are lower-case hex. Parsing is strict and names the
offending field: a verifier must never guess what a manifest meant.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.jsontext import strict_json_loads

FORMAT = "auditlens-bundle"
VERSION = 1
CHECKPOINTS_FORMAT = "auditlens-checkpoints"
PAYLOAD_TYPE = "application/vnd.auditlens.manifest.v1+json"
MANIFEST_PATH = "manifest.json"
ENVELOPE_PATH = "manifest.dsse.json"
LEAVES_PATH = "index/leaves.bin"
CHECKPOINTS_PATH = "index/checkpoints.json"
ROLES = ("data", "leaves", "checkpoints")
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # ~100k file entries; a larger manifest is not ours.
MAX_U64 = 2**64 - 1
# Sequence numbers stay below 2**63 so they fit the case database's BIGINT and u64 arithmetic.
MAX_SEQ = 2**63 - 1
STREAM_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# RFC 3339 date-time in UTC (bundle-format §7.1): upper-case T and Z, fraction of 1 to 9 digits.
_RFC3339_UTC = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?Z$"
)
# Members of a file entry (§7.2): exactly these, so a later version's member that changes how a
# file is read (a compression, a second digest) can never be ignored by this one.
_FILE_MEMBERS = {"path", "role", "size", "sha256"}
_DATA_MEMBERS = _FILE_MEMBERS | {"first_seq", "last_seq", "count"}
_RESERVED = {MANIFEST_PATH: "the manifest", ENVELOPE_PATH: "the envelope"}
_INDEX_PATHS = {"leaves": LEAVES_PATH, "checkpoints": CHECKPOINTS_PATH}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class FileEntry:
    """One file listed in the manifest."""

    path: str
    role: str
    size: int
    sha256: str
    first_seq: int | None = None
    last_seq: int | None = None
    count: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest form of the entry."""
        out: dict[str, Any] = {
            "path": self.path,
            "role": self.role,
            "size": str(self.size),
            "sha256": self.sha256,
        }
        if self.role == "data":
            out.update(
                first_seq=str(self.first_seq), last_seq=str(self.last_seq), count=str(self.count)
            )
        return out


@dataclass(frozen=True)
class PreviousLink:
    """The link from a bundle to the one before it in its stream."""

    bundle_id: str
    final_hash: str
    manifest_sha256: str
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        """The manifest form of the link."""
        return {
            "bundle_id": self.bundle_id,
            "final_hash": self.final_hash,
            "manifest_sha256": self.manifest_sha256,
            "last_seq": str(self.last_seq),
        }


@dataclass(frozen=True)
class Manifest:
    """A parsed, field-checked manifest."""

    bundle_id: str
    sealed_at: str
    producer: dict[str, Any]
    source: dict[str, Any]
    stream_id: str
    epoch: int
    first_seq: int
    last_seq: int
    count: int
    time_first_ns: int
    time_last_ns: int
    chain_initial: str
    chain_final: str
    previous: PreviousLink | None
    merkle_size: int
    merkle_root: str
    checkpoint_interval: int
    files: tuple[FileEntry, ...]
    signer_key_id: str
    signer_algorithm: str
    signer_public_key: str
    redactions: tuple[Any, ...]

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON object, ready for :func:`canonicalize`."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "bundle_id": self.bundle_id,
            "sealed_at": self.sealed_at,
            "producer": self.producer,
            "source": self.source,
            "stream": {"id": self.stream_id, "epoch": str(self.epoch)},
            "records": {
                "first_seq": str(self.first_seq),
                "last_seq": str(self.last_seq),
                "count": str(self.count),
            },
            "time": {"first_ns": str(self.time_first_ns), "last_ns": str(self.time_last_ns)},
            "chain": {
                "initial": self.chain_initial,
                "final": self.chain_final,
                "previous": self.previous.to_json() if self.previous else None,
            },
            "merkle": {"size": str(self.merkle_size), "root": self.merkle_root},
            "checkpoints": {"interval": str(self.checkpoint_interval), "path": CHECKPOINTS_PATH},
            "files": [entry.to_json() for entry in self.files],
            "signer": {
                "key_id": self.signer_key_id,
                "algorithm": self.signer_algorithm,
                "public_key": self.signer_public_key,
            },
            "redactions": list(self.redactions),
        }

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 bytes that are stored and signed."""
        return canonicalize(self.to_json())

    def data_files(self) -> list[FileEntry]:
        """The data files in sequence order."""
        return sorted((f for f in self.files if f.role == "data"), key=lambda f: f.first_seq or 0)

    def file(self, path: str) -> FileEntry | None:
        """The entry for ``path``, if listed."""
        for entry in self.files:
            if entry.path == path:
                return entry
        return None


@dataclass(frozen=True)
class Checkpoint:
    """One segment of a bundle's records."""

    index: int
    file: str
    offset: int
    length: int
    first_seq: int
    last_seq: int
    count: int
    chain_hash: str
    segment_root: str
    time_min_ns: int
    time_max_ns: int

    def to_json(self) -> dict[str, Any]:
        """The checkpoint-file form."""
        return {
            "index": str(self.index),
            "file": self.file,
            "offset": str(self.offset),
            "length": str(self.length),
            "first_seq": str(self.first_seq),
            "last_seq": str(self.last_seq),
            "count": str(self.count),
            "chain_hash": self.chain_hash,
            "segment_root": self.segment_root,
            "time_min_ns": str(self.time_min_ns),
            "time_max_ns": str(self.time_max_ns),
        }


def checkpoints_bytes(interval: int, checkpoints: list[Checkpoint]) -> bytes:
    """The canonical bytes of ``index/checkpoints.json``."""
    return canonicalize(
        {
            "format": CHECKPOINTS_FORMAT,
            "version": VERSION,
            "interval": str(interval),
            "checkpoints": [c.to_json() for c in checkpoints],
        }
    )


def derive_bundle_id(
    stream_id: str, epoch: int, first_seq: int, initial: bytes, final: bytes
) -> str:
    """The bundle id: the first 16 bytes, in hex, of a SHA-256 over what makes a bundle unique.

    ``SHA-256("AUDITLENS-BUNDLE-ID" 0x00 || stream_id || 0x00 || u64be(epoch) || u64be(first_seq)
    || C_0 || C_n)`` (docs/bundle-format.md §7). A verifier recomputes it, so an id cannot be
    re-labelled without re-signing.
    """
    material = b"AUDITLENS-BUNDLE-ID\x00" + stream_id.encode() + b"\x00" + epoch.to_bytes(8, "big")
    material += first_seq.to_bytes(8, "big") + initial + final
    return hashlib.sha256(material).hexdigest()[:32]


# --- strict field readers ---------------------------------------------------------------------


class _Fields:
    """Reads typed fields out of a JSON object, naming the dotted path on error."""

    def __init__(self, obj: Any, where: str, source: str) -> None:
        if not isinstance(obj, dict):
            raise InvalidInputError(f"{where}: expected an object", path=source)
        self.obj = obj
        self.where = where
        self.source = source

    def fail(self, key: str, what: str) -> InvalidInputError:
        return InvalidInputError(f"{self.where}.{key}: {what}", path=self.source)

    def raw(self, key: str) -> Any:
        if key not in self.obj:
            raise self.fail(key, "missing")
        return self.obj[key]

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, found {type(value).__name__}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, f"{value[:80]!r} is not of the required form")
        return value

    def u64(self, key: str) -> int:
        value = self.text(key)
        if not _DECIMAL.fullmatch(value) or int(value) > MAX_U64:
            raise self.fail(key, f"{value[:80]!r} is not an unsigned 64-bit decimal string")
        return int(value)

    def hash(self, key: str) -> str:
        return self.text(key, _HEX64)

    def sub(self, key: str) -> _Fields:
        return _Fields(self.raw(key), f"{self.where}.{key}", self.source)

    def object(self, key: str) -> dict[str, Any]:
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"expected an object, found {type(value).__name__}")
        return value

    def rfc3339(self, key: str) -> str:
        value = self.text(key)
        match = _RFC3339_UTC.fullmatch(value)
        try:
            if match is None:
                raise ValueError("not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z")
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError as exc:
            raise self.fail(key, f"{value[:80]!r} is not an RFC 3339 UTC time: {exc}") from exc
        return value

    def exactly(self, members: set[str]) -> None:
        extra = sorted(set(self.obj) - members)
        if extra:
            raise InvalidInputError(
                f"{self.where}: unknown member {extra[0]!r} (a file entry has exactly "
                f"{', '.join(sorted(members))})",
                path=self.source,
            )


def parse_manifest(data: bytes, *, source: str = MANIFEST_PATH) -> Manifest:
    """Parse and field-check manifest bytes (canonical form is checked by the verifier).

    Raises:
        InvalidInputError: naming the field that is missing or malformed.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInputError(f"manifest larger than {MAX_MANIFEST_BYTES} bytes", path=source)
    document = strict_json_loads(data, path=source)
    top = _Fields(document, "manifest", source)
    if top.raw("format") != FORMAT:
        raise top.fail("format", f"expected {FORMAT!r}")
    version = top.raw("version")
    if type(version) is not int or version != VERSION:
        raise top.fail(
            "version", f"unsupported version {top.raw('version')!r}; this verifier reads {VERSION}"
        )
    stream = top.sub("stream")
    records = top.sub("records")
    times = top.sub("time")
    chain = top.sub("chain")
    merkle = top.sub("merkle")
    checkpoints = top.sub("checkpoints")
    signer = top.sub("signer")
    previous_raw = chain.raw("previous")
    previous = None
    if previous_raw is not None:
        link = chain.sub("previous")
        previous = PreviousLink(
            link.text("bundle_id"),
            link.hash("final_hash"),
            link.hash("manifest_sha256"),
            link.u64("last_seq"),
        )
    files_raw = top.raw("files")
    if not isinstance(files_raw, list):
        raise top.fail("files", "expected a list")
    files: list[FileEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(files_raw):
        entry = _Fields(item, f"manifest.files[{i}]", source)
        role = entry.text("role")
        if role not in ROLES:
            raise entry.fail("role", f"unknown role {role!r}")
        entry.exactly(_DATA_MEMBERS if role == "data" else _FILE_MEMBERS)
        path = entry.text("path")
        if path in seen:
            raise entry.fail("path", f"{path[:80]!r} is listed twice (also files[{seen[path]}])")
        seen[path] = i
        if path in _RESERVED:
            raise entry.fail("path", f"{path!r} is {_RESERVED[path]}, which is never listed")
        if role in _INDEX_PATHS and path != _INDEX_PATHS[role]:
            raise entry.fail(
                "path", f"the {role} file is {_INDEX_PATHS[role]!r}, not {path[:80]!r}"
            )
        if role == "data" and path in _INDEX_PATHS.values():
            raise entry.fail("path", f"{path!r} is an index file, not a data file")
        if role == "data":
            files.append(
                FileEntry(
                    entry.text("path"),
                    role,
                    entry.u64("size"),
                    entry.hash("sha256"),
                    entry.u64("first_seq"),
                    entry.u64("last_seq"),
                    entry.u64("count"),
                )
            )
        else:
            files.append(
                FileEntry(entry.text("path"), role, entry.u64("size"), entry.hash("sha256"))
            )
    for role, path in _INDEX_PATHS.items():
        if path not in seen:
            raise top.fail("files", f"does not list {path} (role {role!r})")
    redactions = top.raw("redactions")
    if not isinstance(redactions, list):
        raise top.fail("redactions", "expected a list")
    for name in ("first_seq", "last_seq", "count"):
        if records.u64(name) > MAX_SEQ:
            raise records.fail(name, f"exceeds the largest sequence number {MAX_SEQ}")
    if checkpoints.text("path") != CHECKPOINTS_PATH:
        raise checkpoints.fail("path", f"must be {CHECKPOINTS_PATH!r}")
    interval = checkpoints.u64("interval")
    if interval <= 0 or interval & (interval - 1):
        raise checkpoints.fail("interval", "must be a power of two")
    return Manifest(
        bundle_id=top.text("bundle_id", re.compile(r"^[0-9a-f]{32}$")),
        sealed_at=top.rfc3339("sealed_at"),
        producer=_producer(top),
        source=top.object("source"),
        stream_id=stream.text("id", STREAM_ID_PATTERN),
        epoch=stream.u64("epoch"),
        first_seq=records.u64("first_seq"),
        last_seq=records.u64("last_seq"),
        count=records.u64("count"),
        time_first_ns=times.u64("first_ns"),
        time_last_ns=times.u64("last_ns"),
        chain_initial=chain.hash("initial"),
        chain_final=chain.hash("final"),
        previous=previous,
        merkle_size=merkle.u64("size"),
        merkle_root=merkle.hash("root"),
        checkpoint_interval=interval,
        files=tuple(files),
        signer_key_id=signer.hash("key_id"),
        signer_algorithm=signer.text("algorithm"),
        signer_public_key=signer.text("public_key"),
        redactions=tuple(redactions),
    )


def _producer(top: _Fields) -> dict[str, Any]:
    """``producer``: an object naming the sealer, with its ``name`` and ``version`` (§7.2)."""
    producer = top.sub("producer")
    producer.text("name")
    producer.text("version")
    return producer.obj


def parse_checkpoints(
    data: bytes, *, source: str = CHECKPOINTS_PATH
) -> tuple[int, list[Checkpoint]]:
    """Parse ``index/checkpoints.json`` into its interval and checkpoints."""
    document = strict_json_loads(data, path=source)
    top = _Fields(document, "checkpoints", source)
    version = top.raw("version")
    if top.raw("format") != CHECKPOINTS_FORMAT or type(version) is not int or version != VERSION:
        raise InvalidInputError("not a v1 checkpoint file", path=source)
    items = top.raw("checkpoints")
    if not isinstance(items, list):
        raise top.fail("checkpoints", "expected a list")
    result = []
    for i, item in enumerate(items):
        f = _Fields(item, f"checkpoints[{i}]", source)
        result.append(
            Checkpoint(
                f.u64("index"),
                f.text("file"),
                f.u64("offset"),
                f.u64("length"),
                f.u64("first_seq"),
                f.u64("last_seq"),
                f.u64("count"),
                f.hash("chain_hash"),
                f.hash("segment_root"),
                f.u64("time_min_ns"),
                f.u64("time_max_ns"),
            )
        )
    return top.u64("interval"), result
