"""Decoding stored record lines into Arrow batches of the normalized schema, in worker processes.

A :class:`DecodeTask` names a run of whole lines, either where they lie in a local file (so the
bytes never cross a process boundary) or as bytes; the worker hashes each line (leaf), decides
its integrity against the sealed leaf, normalizes it with the profiles and returns one Arrow IPC
stream, as bytes or, given a spool folder, as a file there that the importer maps into memory
(the rows then cross the process boundary without being copied through a pipe). Only the
importer writes these batches to DuckDB (STYLE point 10).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.jsontext import MAX_JSON_LINE
from auditlens.core.schema import EVENT_SCHEMA, FIELD_NAMES
from auditlens.core.store.normalize import ROW_COLUMNS, Normalizer, load_profiles, row_values

_HASH = 32
# A stored record line longer than this is not decoded: the importer hashes it as a stream and
# keeps only its first RECORD_PREVIEW_BYTES as the event's body (bounded memory whatever
# the input: docs/architecture.md §8). A sealed line is one record of a raw line, which the sealer
# refuses past jsontext.MAX_JSON_LINE, so no record sealed by AuditLens is longer.
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
    # A folder for the result's IPC stream (``DecodeResult.path``), or None: return it as bytes.
    spool: str | None = None
    # Refuse records with a duplicated JSON key (``Normalizer.row``); off only for a bundle whose
    # trusted signature says AuditLens's sealer, which refuses them, wrote it.
    check_keys: bool = True


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
    path: str | None = None  # the stream is this spool file instead of ``ipc`` (read_table)


@functools.lru_cache(maxsize=4)
def _normalizer(profile_dirs: tuple[str, ...]) -> Normalizer:
    return Normalizer(load_profiles([Path(p) for p in profile_dirs]))


def warm_up(profile_dirs: tuple[str, ...]) -> None:
    """Load what decoding needs (pyarrow, msgspec, the compiled profiles) and return.

    Submitted to each new worker when an import starts, so that the workers do this while the
    importer hashes and verifies the first input instead of after it.
    """
    _normalizer(profile_dirs)


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


def _lines(data: bytes) -> list[bytes]:
    """The lines of ``data`` without their newlines; the last may lack its newline.

    What ``split`` at each newline gives, less an empty last piece, found with ``find`` instead:
    ``split`` compares every byte with the separator in a loop of its own, ``find`` scans with
    memchr (callgrind, per 1 KB OTLP log record decoded: ``split`` 5,100 instructions, this loop
    about 1,500; the whole decoding 107,700 -> 106,100). tests/core/store/test_decode_table.py
    holds both to the same lines.
    """
    lines = []
    find = data.find
    start = 0
    end = find(b"\n")
    while end >= 0:
        lines.append(data[start:end])
        start = end + 1
        end = find(b"\n", start)
    if start < len(data):
        lines.append(data[start:])
    return lines


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
    data = _read(task)
    lines = _lines(data)
    count = len(lines)
    unreadable: list[Unreadable] = []
    # Per-line leaves and integrity flags are only collected when the verifier did not prove
    # the whole run: a proven run's leaves are ``expected`` itself and every line is intact.
    leaves: list[bytes] = []
    intact_flags = bytearray()
    sha = hashlib.sha256
    expected = task.expected
    long_leaf = task.leaves
    proven = task.proven
    values = row_values
    # Looked up once, not per line (the loop runs for every record of the import).
    row_of = normalizer.row_values
    check_keys = task.check_keys
    oversize = task.oversize
    rows: list[tuple[Any, ...]] | None = None
    if proven and not oversize and len(data) <= MAX_RECORD_LINE:
        # What the loop below does for such a task (every line within the limit, nothing
        # collected per line), in one comprehension: 1,000-1,500 instructions less per record
        # (callgrind). A line that does not decode sends the whole task to the loop, which
        # reads it again and says which line (tests/core/store/test_decode_table.py).
        try:
            rows = [row_of(line, check_keys) for line in lines]
        except InvalidInputError:
            rows = None
    if rows is not None:
        return _result(task, _table(task, rows, count, leaves, intact_flags), count, unreadable)
    rows = []
    append = rows.append
    for index, line in enumerate(lines):
        if not proven:
            if long_leaf:
                leaf = long_leaf[index * _HASH : (index + 1) * _HASH]
            else:
                leaf = sha(b"\x00" + line).digest()
            leaves.append(leaf)
            if task.intact is not None:
                intact_flags.append(task.intact[index])
            else:
                intact_flags.append(
                    bool(expected) and expected[index * _HASH : (index + 1) * _HASH] == leaf
                )
        size = oversize or len(line)
        try:
            if size > MAX_RECORD_LINE:
                line = line[:RECORD_PREVIEW_BYTES]
                raise InvalidInputError(
                    f"record line of {size} bytes exceeds the limit of {MAX_RECORD_LINE} bytes; "
                    f"not decoded (its first {RECORD_PREVIEW_BYTES} bytes are the event's body)"
                )
            append(row_of(line, check_keys))
        except InvalidInputError as exc:
            row = dict.fromkeys(FIELD_NAMES)
            row.update(
                kind="log",
                name="unreadable record",
                body=line.decode("utf-8", "replace"),
                attributes="{}",
            )
            seq = task.first_seq + index if task.seqs is None else task.seqs[index]
            intact = proven or bool(intact_flags[index])
            unreadable.append(
                Unreadable(task.file_label, task.first_line + index, seq, exc.message, intact)
            )
            append(values(row))
    return _result(task, _table(task, rows, count, leaves, intact_flags), count, unreadable)


def _result(
    task: DecodeTask, table: pa.Table, count: int, unreadable: list[Unreadable]
) -> DecodeResult:
    """The task's table as an IPC stream, in the spool folder when there is one."""
    if task.spool is not None:
        path = os.path.join(task.spool, f"{uuid.uuid4().hex}.arrow")
        try:
            with pa.OSFile(path, "wb") as sink:
                _write_stream(sink, table)
        except OSError:
            # A full or vanished spool: the same rows through the pipe instead.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        else:
            return DecodeResult(b"", count, unreadable, path)
    return DecodeResult(_ipc(table), count, unreadable)


# The normalizer fills ROW_COLUMNS per record; the others (TASK_COLUMNS) are the task's (constant
# over its lines, or ranges) and are built as whole Arrow arrays rather than set on every row
# (measured: setting and transposing them cost a fifth of the decoding).
_TYPES = {f.name: f.type for f in EVENT_SCHEMA}
# The normalizer's columns of a row, as one Arrow struct: pyarrow converts a list of row tuples
# to it in one pass, and its fields are the columns. Measured on the benchmark's records (8 MB
# tasks): 0.52-0.69 us per row instead of 0.92-1.0 us for transposing the tuples (``zip``) and
# converting each column apart.
_ROW_STRUCT = pa.struct([pa.field(name, _TYPES[name]) for name in ROW_COLUMNS])


def _constant(value: str | None, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), count)


def _table(
    task: DecodeTask,
    rows: list[tuple[Any, ...]],
    count: int,
    leaves: list[bytes],
    intact_flags: bytearray,
) -> pa.Table:
    """The Arrow table of a task's rows (normalizer columns) and its per-task columns."""
    # No row is null, so the struct's fields are the columns as they are.
    fields = pa.array(rows, type=_ROW_STRUCT).flatten()
    columns: dict[str, pa.Array] = dict(zip(ROW_COLUMNS, fields, strict=True))
    columns["stream_id"] = _constant(task.stream_id, count)
    columns["bundle_id"] = _constant(task.bundle_id, count)
    columns["file"] = _constant(task.file_label, count)
    first_line = task.first_line
    columns["line"] = pa.array(range(first_line, first_line + count), type=pa.int64())
    if task.seqs is None:
        columns["seq"] = pa.array(range(task.first_seq, task.first_seq + count), type=pa.int64())
    else:
        columns["seq"] = pa.array(task.seqs, type=pa.int64())
    base = task.base_integrity
    if task.proven:
        # The sealed leaves, proven by the verifier to be these lines' leaves: used as they are.
        leaf_bytes = task.expected[: count * _HASH]
        if len(leaf_bytes) != count * _HASH:
            raise InvalidInputError(
                f"{len(task.expected) // _HASH} proven leaves for {count} lines",
                path=task.file_label,
            )
        columns["leaf_hash"] = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(_HASH), count, [None, pa.py_buffer(leaf_bytes)]
        )
        columns["integrity"] = _constant(base, count)
    else:
        columns["leaf_hash"] = pa.array(leaves, type=pa.binary(_HASH))
        if all(intact_flags):
            columns["integrity"] = _constant(base, count)
        else:
            damaged = "unsealed" if base == "unsealed" else "tampered"
            columns["integrity"] = pa.array(
                [base if flag else damaged for flag in intact_flags], type=pa.string()
            )
    return pa.Table.from_arrays([columns[name] for name in FIELD_NAMES], schema=EVENT_SCHEMA)


def _write_stream(sink: Any, table: pa.Table) -> None:
    """Write ``table`` to ``sink`` as one Arrow IPC stream (what ``read_table`` reads)."""
    with pa.ipc.new_stream(sink, EVENT_SCHEMA) as writer:
        writer.write_table(table)


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    _write_stream(sink, table)
    return bytes(sink.getvalue().to_pybytes())


def read_table(result: DecodeResult) -> pa.Table:
    """The Arrow table of a decode result.

    A spooled result is mapped into memory and its file removed at once: the table reads the
    mapping, which lasts as long as the table (the file's pages are freed with it).
    """
    if result.path is None:
        return pa.ipc.open_stream(result.ipc).read_all()
    source = pa.memory_map(result.path)
    try:
        return pa.ipc.open_stream(source).read_all()
    finally:
        source.close()
        os.unlink(result.path)
