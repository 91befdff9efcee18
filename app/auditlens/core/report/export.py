"""Export the events of a filtered view to CSV, JSON lines or Parquet (issue 14, point 2).

Invariants:

* **Any size, constant memory.** The matching events are read in slices of the timeline
  (:data:`SLICE` positions of ``ord`` at a time, half as many for JSON lines, in time order),
  :data:`READERS` read ahead while one is written: memory holds at most three slices, whatever
  the case's size. No ``ORDER BY`` over the whole result (DuckDB would sort all of it first).
* **Never overwrite anything.** The output is written to a temporary file beside it and then
  linked to its name with ``os.link``, which fails if the name exists: an existing file (above
  all evidence) is never replaced, even when it appears while the export runs, and an interrupted
  export leaves no file under the output's name. A destination inside an input the case
  imported from is refused outright (docs/case.md: evidence is only ever read).
* **Traceable rows.** Every row carries its event reference (:mod:`~auditlens.core.report.refs`),
  the bundle, stream, sequence number, file, line and leaf hash of the record, so each one can be
  found again in the evidence and proved (``auditlens exhibit``).
* **Exact times.** ``time`` is RFC 3339 in UTC with all nine fractional digits; ``time_ns`` is the
  same instant as an integer. Exports are in UTC whatever zone the investigator views: a file
  handed on must not depend on a display setting.

The result (:class:`ExportResult`) holds the row count and the file's SHA-256, which the legal
API (``Legal.export`` in :mod:`auditlens.core.report.session`) journals with the query.
"""

from __future__ import annotations

import hashlib
import os
import queue
import secrets
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditlens.core.errors import UsageError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.report.refs import REF_JOIN, REF_SQL
from auditlens.core.store import queries
from auditlens.core.store.case import Case

FORMATS = ("csv", "jsonl", "parquet")
# The file name suffixes each format is known by: the CLI refuses --out named for another
# format, the workbench takes the format from them (a .csv of JSON lines misleads its reader).
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".json": "jsonl",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
# Positions of the timeline read per slice: 65,536 events of about 1 KB each (bodies and
# attributes included) bound a slice to tens of MB, and a multiple of DuckDB's vector size.
SLICE = 65_536
# Slices read ahead while one is written (see _Slices): one per core of the reference machine.
READERS = 2
# The name of the time-order column read with each slice and dropped after sorting it.
_ORD = "ord__"
# Parquet columns worth a dictionary: names and enumerations, few distinct values. For the
# others (references, times, ids, bodies, hashes) the writer would build one per column chunk
# and give it up; leaving them plain cut the Parquet writer's CPU by a seventh and the file by
# a tenth (10^6 events: 1.9 -> 1.6 CPU s, 99 -> 90 MB).
_DICTIONARY = (
    "kind",
    "service",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "outcome",
    "resource_type",
    "source_ip",
    "tenant",
    "name",
    "severity",
    "integrity",
    "bundle_id",
    "stream_id",
    "file",
)
# Free text: min/max statistics of a body or of attributes help no reader skip anything.
_NO_STATISTICS = ("body", "attributes")
_HASH_CHUNK = 1 << 20

# The exported columns, in order: the CLI's event fields, then what places the record.
_TIME = "strftime(make_timestamp_ns(time_ns), '%Y-%m-%dT%H:%M:%S.%nZ')"
COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", REF_SQL),
    ("time", _TIME),
    ("time_ns", "time_ns"),
    *(
        (name, name)
        for name in queries.OUTPUT_FIELDS
        if name not in ("time", "attributes", "bundle_id", "stream_id", "seq", "integrity")
    ),
    ("attributes", "CAST(attributes AS VARCHAR)"),
    ("integrity", "integrity"),
    ("bundle_id", "bundle_id"),
    ("stream_id", "stream_id"),
    ("seq", "seq"),
    ("file", "file"),
    ("line", "line"),
    ("leaf_hash", "lower(hex(leaf_hash))"),
)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        path: the output file.
        format: ``csv``, ``jsonl`` or ``parquet``.
        rows: events written.
        size: the file's size in bytes.
        sha256: the file's SHA-256, hex.
    """

    path: Path
    format: str
    rows: int
    size: int
    sha256: str


def export_events(
    case: Case,
    query: queries.EventQuery,
    out: Path,
    fmt: str,
    cancel: CancelToken | None = None,
) -> Generator[Progress, None, ExportResult]:
    """Write the events matching ``query`` to ``out`` in time order; a job (see progress.py).

    Args:
        case: the open case.
        query: the filter and time window (its ``tz`` reads the filter's times).
        out: the file to create; it must not exist.
        fmt: one of :data:`FORMATS`.
        cancel: stops the export between slices; nothing is left under ``out``.

    Returns:
        The rows written and the file's size and SHA-256.

    Raises:
        UsageError: for an unknown format, an existing output or one inside the evidence.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = destination(case, out)
    token = cancel or CancelToken()
    queries.refresh_order(case)
    where, params = query.where()
    total = queries.count_events(case, query)
    last = case.scalar("SELECT max(ord) FROM events")
    select = _select(fmt)
    # The filter names the events' columns unqualified: it runs on events alone, then each
    # match gets its input's digest and its line's first record (raw evidence's references).
    # No ORDER BY: DuckDB would sort the slice's wide rows; the slice is put in time order by
    # its ``ord`` column after reading (see _read_slice).
    sql = (
        f"SELECT ord AS {_ORD}, {select} FROM (SELECT * FROM events "  # noqa: S608
        f"WHERE ord >= ? AND ord < ? AND ({where})) AS events {REF_JOIN}"
    )
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    written = 0
    # JSON lines hold each slice's text three times at once (DuckDB's result, its Arrow copy,
    # the copy in time order): half the positions keep the export's peak at the Parquet one's
    # (10^6 events: 607-672 MB against 805-867 MB, the same CPU within the machine's noise).
    positions = SLICE // 2 if fmt == "jsonl" else SLICE
    lows = range(0, (last if last is not None else -1) + 1, positions)
    yield Progress("exporting", 0, total, "events", f"writing {out.name}")
    try:
        empty = _read_slice(case.db, sql, [0, 0, *params])
        with _Writer(fmt, partial, empty) as writer, _Slices(case, sql, params, lows) as slices:
            for table in slices:
                token.check()
                if table.num_rows:
                    writer.write(table)
                    written += table.num_rows
                    yield Progress("exporting", written, total, "events")
        token.check()
        # JSON lines are hashed as they are written (reading gigabytes back cost about a tenth
        # of the export); Arrow writes the other formats itself, so those are read back.
        digest, size = writer.hashed or file_sha256(partial)
        try:
            os.link(partial, out)
        except FileExistsError as exc:
            raise UsageError(f"{out} appeared while exporting: not overwritten") from exc
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(out, fmt, written, size, digest)


def export_details(query: queries.EventQuery, result: ExportResult) -> dict[str, Any]:
    """The journal entry's details of an export: what was selected and what was written."""
    return {
        "filter": query.filter,
        "from": queries.format_time(query.time_from_ns),
        "to": queries.format_time(query.time_to_ns),
        "tz": str(query.tz) if query.tz is not None else "UTC",
        "format": result.format,
        "output": str(result.path),
        "rows": result.rows,
        "size": result.size,
        "sha256": result.sha256,
    }


def _read_slice(connection: Any, sql: str, params: list[Any]) -> Any:
    """One slice as an Arrow table in time order, without its ``ord`` column.

    Read without a copy through a DB-API cursor's result; sorted here by taking its rows in
    the order of ``ord``, which costs about a third of DuckDB's ``ORDER BY`` over the same wide
    rows (measured on 10^6 events: 1.7 against 2.5 CPU seconds for the Parquet columns).
    """
    relation = connection.sql(sql, params=params)
    # DuckDB 2 names it to_arrow_table; 1.x arrow.
    convert = getattr(relation, "to_arrow_table", None) or relation.arrow
    table = convert()
    import pyarrow.compute as pc

    order = table.column(_ORD)
    if len(order) > 1 and not pc.all(pc.greater(order[1:], order[:-1])).as_py():
        table = table.take(pc.sort_indices(order))
    return table.drop_columns([_ORD])


class _Slices:
    """The slices of an export in order, :data:`READERS` read at once on cursors of their own.

    One DuckDB query on a slice runs on one core (a slice is about one row group), and the
    writer (Parquet's encoding and compression, or the file writes) runs between two reads:
    reading the next slices on other threads while the current one is written keeps both cores
    of the reference machine busy (docs/architecture.md §8). DuckDB and Arrow release the GIL
    while they work. At most :data:`READERS` slices wait beside the one being written, so memory
    stays bounded whatever the case's size.
    """

    def __init__(self, case: Case, sql: str, params: list[Any], lows: range) -> None:
        from auditlens.core.store.case import DATABASE

        self.sql, self.params = sql, params
        self.lows = iter(lows)
        self.size = lows.step
        # Cursors are made on the thread that owns the connection; a cursor starts in DuckDB's
        # own in-memory database, not in the case attached to it.
        self.cursors: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.opened: list[Any] = []
        for _ in range(READERS):
            cursor = case.db.cursor()
            self.opened.append(cursor)
            cursor.execute(f"USE {DATABASE}")
            self.cursors.put(cursor)
        self.pool = ThreadPoolExecutor(READERS, thread_name_prefix="export-read")
        self.pending: deque[Future[Any]] = deque()

    def _read(self, low: int) -> Any:
        cursor = self.cursors.get()
        try:
            return _read_slice(cursor, self.sql, [low, low + self.size, *self.params])
        finally:
            self.cursors.put(cursor)

    def _submit(self) -> None:
        low = next(self.lows, None)
        if low is not None:
            self.pending.append(self.pool.submit(self._read, low))

    def __enter__(self) -> _Slices:
        for _ in range(READERS):
            self._submit()
        return self

    def __iter__(self) -> Iterator[Any]:
        while self.pending:
            table = self.pending.popleft().result()
            self._submit()
            yield table

    def __exit__(self, *exc: object) -> None:
        # Cancelled or failed: interrupt the reads still running, then wait for them.
        for future in self.pending:
            future.cancel()
        if self.pending:
            for cursor in self.opened:
                cursor.interrupt()
        self.pool.shutdown(wait=True)
        for cursor in self.opened:
            cursor.close()


def _select(fmt: str) -> str:
    """The columns of the query; for JSON lines one column, each row's JSON text made by DuckDB.

    DuckDB's ``to_json`` writes a row's object in vectorised code (the attributes as the nested
    object they are); a Python ``json.dumps`` per row would cap the export well below the
    200,000 events/s the issue asks for.
    """
    if fmt == "jsonl":
        fields = ", ".join(
            f"{name} := {'attributes' if name == 'attributes' else sql}" for name, sql in COLUMNS
        )
        return f"CAST(to_json(struct_pack({fields})) AS VARCHAR) || chr(10) AS line"
    return ", ".join(f"{sql} AS {name}" for name, sql in COLUMNS)


def destination(case: Case, out: Path, *, what: str = "an export") -> Path:
    """The output path, checked: new, in an existing folder, not inside imported evidence.

    ``what`` names the file in the refusal (``an export``, ``a report``).
    """
    out = out.expanduser().absolute()
    if out.exists() or out.is_symlink():
        raise UsageError(f"{out} exists: {what} never overwrites a file; choose a new name")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent} is not a folder")
    resolved = out.parent.resolve() / out.name
    for (path,) in case.db.execute("SELECT DISTINCT path FROM inputs").fetchall():
        source = Path(path).resolve()
        if resolved == source or source in resolved.parents:
            raise UsageError(f"{out} is inside the evidence {source}: evidence is never written")
    return out


def file_sha256(path: Path) -> tuple[str, int]:
    """The hex SHA-256 and size of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _Writer:
    """One output file in one format, written slice by slice; synced to disk when closed."""

    def __init__(self, fmt: str, path: Path, empty: Any) -> None:
        self.fmt = fmt
        self.schema = empty.schema
        self.handle = path.open("xb")  # exclusive: never an existing file
        self.inner: Any = None
        self.digest = hashlib.sha256()
        self.size = 0
        if fmt == "parquet":
            import pyarrow.parquet as pq

            names = set(self.schema.names)
            self.inner = pq.ParquetWriter(
                self.handle,
                self.schema,
                compression="zstd",
                use_dictionary=[n for n in _DICTIONARY if n in names],
                write_statistics=[n for n in self.schema.names if n not in _NO_STATISTICS],
            )
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            self.inner = pcsv.CSVWriter(self.handle, self.schema)

    def write(self, table: Any) -> None:
        table = table.cast(self.schema)
        if self.fmt == "jsonl":
            self._jsonl(table)
        else:
            self.inner.write_table(table)

    def _jsonl(self, table: Any) -> None:
        import pyarrow as pa

        # Each value already ends with its newline (see _select), and a string array keeps its
        # values' bytes back to back: write that stretch of the data buffer as it is, with no
        # Python object per row (to_pylist and a join took most of the export's time).
        for chunk in table.column(0).chunks:
            if not len(chunk):
                continue
            width = pa.int64() if pa.types.is_large_string(chunk.type) else pa.int32()
            offsets = pa.Array.from_buffers(
                width, len(chunk) + 1, [None, chunk.buffers()[1]], offset=chunk.offset
            )
            first, last = offsets[0].as_py(), offsets[len(chunk)].as_py()
            data = memoryview(chunk.buffers()[2])[first:last]
            self.handle.write(data)
            self.digest.update(data)
            self.size += len(data)

    @property
    def hashed(self) -> tuple[str, int] | None:
        """The SHA-256 and size of what was written, for JSON lines (written here); else None."""
        return (self.digest.hexdigest(), self.size) if self.fmt == "jsonl" else None

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.inner is not None:
                self.inner.close()
            self.handle.flush()
            os.fsync(self.handle.fileno())
        finally:
            self.handle.close()
