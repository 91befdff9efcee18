"""Decoding stored record lines into Arrow batches of the normalized schema, in worker processes.

A :class:`DecodeTask` names a run of whole lines, either where they lie in a local file (so the
bytes never cross a process boundary) or as bytes; the worker hashes each line (leaf), decides
its integrity against the sealed leaf, normalizes it with the profiles and returns one Arrow IPC
stream. Only the importer writes these batches to DuckDB (STYLE point 10).
"""

from __future__ import annotations

import functools
import gc
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditlens.core.bundle.formats import MAX_JSON_LINE
from auditlens.core.errors import InvalidInputError
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.store.schema import EVENT_SCHEMA, FIELD_NAMES

_HASH = 32
# A stored record line longer than this is not decoded: the importer hashes it as a stream and
# keeps only its first RECORD_PREVIEW_BYTES as the event's body (DESIGN §5: bounded memory
# whatever the input). A sealed line is one record of a raw line, which the sealer refuses past
# formats.MAX_JSON_LINE, so no record sealed by AuditLens is longer.
MAX_RECORD_LINE = MAX_JSON_LINE
RECORD_PREVIEW_BYTES = 4096


@dataclass(frozen=True)
class DecodeTask:
    """A run of whole record lines of one data file and what is known of them."""

    stream_id: str
    bundle_id: str | None
    file_label: str
    first_line: int
    first_seq: int
    base_integrity: str
    profile_dirs: tuple[str, ...]
    expected: bytes = b""  # sealed leaves of these records, or empty when there is no reference
    proven: bool = False  # the verifier proved these bytes hash to ``expected``: skip re-hashing
    seqs: tuple[int | None, ...] | None = None  # per line, when not first_seq + index
    intact: bytes | None = None  # per line 1/0, when decided by the importer (damaged bundles)
    path: str | None = None
    offset: int = 0
    length: int = 0
    data: bytes | None = None
    # A single line longer than MAX_RECORD_LINE: ``data`` is its first bytes only, ``oversize``
    # its full length and ``leaves`` its leaf hash (computed by the importer as it read it).
    oversize: int = 0
    leaves: bytes = b""


@dataclass
class Unreadable:
    """A record line that does not decode as any known record type."""

    file: str
    line: int
    seq: int | None
    message: str
    intact: bool


@dataclass
class DecodeResult:
    """One task's rows as an Arrow IPC stream, with the lines that did not decode."""

    ipc: bytes
    count: int
    unreadable: list[Unreadable] = field(default_factory=list)


@functools.lru_cache(maxsize=4)
def _normalizer(profile_dirs: tuple[str, ...]) -> Normalizer:
    return Normalizer(load_profiles([Path(p) for p in profile_dirs]))


def _read(task: DecodeTask) -> bytes:
    if task.data is not None:
        return task.data
    assert task.path is not None
    with open(task.path, "rb") as handle:
        handle.seek(task.offset)
        data = handle.read(task.length)
    if len(data) != task.length:
        raise InvalidInputError(
            "data file ended early", path=task.path, offset=task.offset + len(data)
        )
    return data


def decode_task(task: DecodeTask) -> DecodeResult:
    """Decode one task (runs in a worker process or inline).

    The cyclic garbage collector is paused meanwhile: decoding allocates millions of small
    acyclic objects, and collections triggered by them cost a third of the time (measured).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode_task(task)
    finally:
        if enabled:
            gc.enable()


def _decode_task(task: DecodeTask) -> DecodeResult:
    normalizer = _normalizer(task.profile_dirs)
    lines = _read(task).split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    rows: list[tuple[Any, ...]] = []
    unreadable: list[Unreadable] = []
    sha = hashlib.sha256
    expected = task.expected
    leaves = task.leaves
    base = task.base_integrity
    damaged = "unsealed" if base == "unsealed" else "tampered"
    for index, line in enumerate(lines):
        seq = task.first_seq + index if task.seqs is None else task.seqs[index]
        if task.proven:
            leaf = expected[index * _HASH : (index + 1) * _HASH]
            intact = True
        else:
            if leaves:
                leaf = leaves[index * _HASH : (index + 1) * _HASH]
            else:
                leaf = sha(b"\x00" + line).digest()
            if task.intact is not None:
                intact = bool(task.intact[index])
            else:
                intact = bool(expected) and expected[index * _HASH : (index + 1) * _HASH] == leaf
        size = task.oversize or len(line)
        try:
            if size > MAX_RECORD_LINE:
                line = line[:RECORD_PREVIEW_BYTES]
                raise InvalidInputError(
                    f"record line of {size} bytes exceeds the limit of {MAX_RECORD_LINE} bytes; "
                    f"not decoded (its first {RECORD_PREVIEW_BYTES} bytes are the event's body)"
                )
            row = normalizer.row(line)
        except InvalidInputError as exc:
            row = dict.fromkeys(FIELD_NAMES)
            row.update(
                kind="log",
                name="unreadable record",
                body=line.decode("utf-8", "replace"),
                attributes="{}",
            )
            unreadable.append(
                Unreadable(task.file_label, task.first_line + index, seq, exc.message, intact)
            )
        row["stream_id"] = task.stream_id
        row["seq"] = seq
        row["bundle_id"] = task.bundle_id
        row["file"] = task.file_label
        row["line"] = task.first_line + index
        row["leaf_hash"] = leaf
        row["integrity"] = base if intact else damaged
        # Rows keep FIELD_NAMES order (Normalizer builds them with dict.fromkeys), so the values
        # tuple is a row and zip(*rows) transposes to columns in C.
        rows.append(tuple(row.values()))
    columns = (
        dict(zip(FIELD_NAMES, (list(c) for c in zip(*rows, strict=True)), strict=True))
        if rows
        else {name: [] for name in FIELD_NAMES}
    )
    table = pa.Table.from_pydict(columns, schema=EVENT_SCHEMA)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, EVENT_SCHEMA) as writer:
        writer.write_table(table)
    return DecodeResult(sink.getvalue().to_pybytes(), len(lines), unreadable)


def read_table(result: DecodeResult) -> pa.Table:
    """The Arrow table of a decode result."""
    return pa.ipc.open_stream(result.ipc).read_all()
