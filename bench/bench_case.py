"""Benchmark: the case — import, DuckDB reading the same files alone, and interactive queries.

docs/architecture.md §8 sets the targets for a sealed bundle of 10^7 records: import (verify +
index) at >= 100,000 records/s, at most twice the CPU per record of DuckDB reading the same files
on its own, with peak memory under 1.5 GB whatever the bundle size; interactive queries under 150 ms
at the 95th percentile. This script, in one run, for each ``--records`` count (default 1,000,000 and
10,000,000):

1. builds (or reuses from ``--workdir``) sealed evidence: three streams (logs, traces, audit),
   one directory bundle per stream per UTC day, each chained to the one before, signed with the
   sample's throwaway key, plus a sample trust store. The records come from ONE run of the sample
   generator (a *base pool* of ``BASE_RECORDS`` records over ``BASE_DAYS`` days, split into
   single-record lines once and cached); larger counts repeat the pool with times shifted by
   whole pool periods and every id (trace, span, session, conversation, recording, export)
   rewritten per copy, so streams stay time-ordered and ids stay unique. The rewrite works on
   byte positions found once in the pool (numpy), so 10^7 records build in minutes;
2. times ``auditlens import CASE BUNDLES... --trust T`` as a subprocess on a fresh case: wall,
   records/s, MB/s of the data files, CPU/wall and peak RSS of the process tree (workers
   included), then checks that the case holds exactly the records, all ``verified``;
3. times DuckDB alone, in a separate subprocess: ``CREATE TABLE t AS SELECT * FROM read_json(
   [data files], format='newline_delimited', union_by_name=true)`` into a fresh database file;
4. times the interactive queries through the core API in this process (the case opened once,
   read-only): one warm-up, then ``--query-runs`` runs each, p50 and p95;
5. prints a table with PASS/FAIL per target and writes ``WORKDIR/case-result-n<N>.json``.

``--profile`` adds an in-process import into a scratch case that records the time and peak RSS
of each stage (hashing, verifying, indexing: decode wait versus DuckDB insert, journal, ordering),
the time of each SQL statement of the import and of ``refresh_order`` and a cProfile of the main
process. ``--queries-only`` times the queries again on the case the last full run left.

Exit status: 0 when the benchmark ran (even when targets are missed: they are printed), 2 when it
could not run (generation failed, the import did not end verified with every record, DuckDB
failed). MB means 10^6 bytes throughout.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import math
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench_verify import (
    BUSY_LOAD,
    BenchError,
    Run,
    TreeSampler,
    auditlens_command,
    log,
    measure,
    warm_cache,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORKDIR = REPO / "bench" / "out"
DEFAULT_RECORDS = (1_000_000, 10_000_000)
MB = 1_000_000

# Targets (docs/architecture.md §8 and the issue "The case").
TARGET_IMPORT_RPS = 100_000.0
TARGET_RSS_BYTES = 1_500_000_000
TARGET_QUERY_P95_MS = 150.0
# The import target: a verified, normalized import may spend at most twice the CPU per record
# that DuckDB spends reading the same files on its own (bench/README.md, "The figures").
TARGET_CPU_RATIO = 2.0
QUERY_RUNS = 20
PAGE = 200  # rows per page, the CLI's default ``--limit``
DEEP_OFFSET = 5_000_000  # the deep page; the middle of the matches when there are fewer

# The base pool: one generator run, repeated for larger counts.
BASE_RECORDS = 1_000_000
BASE_DAYS = 3
BASE_START = date(2026, 3, 2)
SEED = 7
DAY_NS = 86_400 * 1_000_000_000
READY = "ready.json"
DATA_VERSION = 1  # bump when the layout or the rewrite changes: cached data is then rebuilt

STREAMS = (  # (stream id, record kind), the generator's three streams
    ("cc-prod.otel-logs", "log"),
    ("cc-prod.otel-traces", "span"),
    ("cc-prod.audit", "audit"),
)
TIME_DIGITS = 19  # every Unix-nanosecond time between 2001 and 2286 has 19 digits


# -- the base pool ----------------------------------------------------------------------------


def _base_dir(workdir: Path) -> Path:
    return workdir / f"case-base-r{BASE_RECORDS}-d{BASE_DAYS}-s{SEED}-v{DATA_VERSION}"


def build_base(workdir: Path) -> Path:
    """Generate the base pool once: per stream, single-record lines and the positions to rewrite.

    Per stream ``<stream>.jsonl`` holds the records as the sealer stores them (one per line) and
    ``<stream>.npz`` their line offsets, times, and the byte offsets of every id (by length and
    letter case), every 19-digit time value and every ISO date of an audit ``timestamp``
    (also inside the JSON-escaped audit copies in log bodies).
    """
    root = _base_dir(workdir)
    if (root / READY).is_file():
        log(f"reusing base pool {root}")
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    from auditlens.core.sample.generator import generate_raw

    started = time.perf_counter()
    log(f"generating the base pool: {BASE_RECORDS:,} records over {BASE_DAYS} days ...")
    raw = generate_raw(
        root / "raw", records=BASE_RECORDS, days=BASE_DAYS, seed=SEED, start=BASE_START
    )
    log(f"  generated in {time.perf_counter() - started:.1f} s; splitting and indexing ...")
    wanted = {stream_id for stream_id, _ in STREAMS}
    jobs = [(s.stream_id, [str(p) for p in s.files], str(root)) for s in raw.streams]
    if {j[0] for j in jobs} != wanted:
        raise BenchError(f"the generator wrote streams {[j[0] for j in jobs]}, expected {wanted}")
    with ProcessPoolExecutor(2) as pool:
        counts = dict(pool.map(_split_stream, jobs))
    if sum(counts.values()) != BASE_RECORDS:
        raise BenchError(
            f"the base pool holds {sum(counts.values()):,} records, not {BASE_RECORDS:,}"
        )
    shutil.rmtree(root / "raw")
    (root / READY).write_text(
        json.dumps({"records": counts, "seconds": time.perf_counter() - started}, indent=2) + "\n"
    )
    log(f"  base pool ready in {time.perf_counter() - started:.1f} s: {counts}")
    return root


def _split_stream(job: tuple[str, list[str], str]) -> tuple[str, int]:
    import re

    from auditlens.core.formats.registry import read_records

    stream_id, files, root = job
    id_re = re.compile(
        rb"(?<=-)[0-9a-f]{8,12}(?![0-9A-Za-z])"
        rb"|(?<![0-9A-Za-z.-])(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{16})(?![0-9A-Za-z])"
    )
    time_re = re.compile(rb'[tT]imeUnixNano":"?(\d+)')
    date_re = re.compile(rb'timestamp\\?":\\?"(\d{4}-\d\d-\d\d)T')
    offsets = [0]
    times: list[int] = []
    ids: dict[str, list[int]] = {}
    time_starts: list[int] = []
    date_starts: list[int] = []
    position = 0
    with open(Path(root) / f"{stream_id}.jsonl", "wb") as out:
        for path in files:
            for record in read_records(Path(path)):
                line = record.line
                for match in id_re.finditer(line):
                    text = match.group()
                    case = "upper" if any(c in b"ABCDEF" for c in text) else "lower"
                    ids.setdefault(f"id_{len(text)}_{case}", []).append(position + match.start())
                for match in time_re.finditer(line):
                    if len(match.group(1)) != TIME_DIGITS:
                        raise BenchError(f"time {match.group(1)!r} is not {TIME_DIGITS} digits")
                    time_starts.append(position + match.start(1))
                for match in date_re.finditer(line):
                    date_starts.append(position + match.start(1))
                out.write(line + b"\n")
                position += len(line) + 1
                offsets.append(position)
                times.append(record.time_ns)
    columns = {
        "offsets": offsets,
        "times": times,
        "time_starts": time_starts,
        "date_starts": date_starts,
        **ids,
    }
    arrays: dict[str, Any] = {n: np.asarray(v, dtype=np.int64) for n, v in columns.items()}
    np.savez(Path(root) / f"{stream_id}.npz", **arrays)
    return stream_id, len(times)


# -- the sealed dataset -----------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The sealed bundles under test."""

    records: int
    root: Path
    bundles: list[Path]  # in import order: by day, then stream
    truststore: Path
    data_files: list[Path]
    data_bytes: int
    all_bytes: int
    per_stream: dict[str, int]


def _hex_luts() -> dict[tuple[bool, int], np.ndarray]:
    """Byte translation tables: hex digit -> digit XOR m, keeping the id's letter case."""
    luts = {}
    for upper in (False, True):
        alphabet = b"0123456789ABCDEF" if upper else b"0123456789abcdef"
        for mask in range(16):
            table = np.arange(256, dtype=np.uint8)
            for value, char in enumerate(b"0123456789abcdef"):
                table[char] = alphabet[value ^ mask]
                table[ord(chr(char).upper())] = alphabet[value ^ mask]
            luts[upper, mask] = table
    return luts


_POW10 = 10 ** np.arange(TIME_DIGITS - 1, -1, -1, dtype=np.int64)


class _Rewriter:
    """Rewrites a byte range of the base pool as copy ``k``: times shifted, ids XOR-masked.

    Copy ``k`` XORs every hex digit of an id at position ``i`` with nibble ``i mod 4`` of ``k``:
    a bijection per copy (ids stay distinct), different for every ``k`` below 65,536 (copies never
    share an id), and the id keeps its length and letter case. Times move by ``k`` whole pool
    periods, so each stream stays in time order across copies.
    """

    luts = _hex_luts()

    def __init__(self, index: Any) -> None:
        self.time_starts: np.ndarray = index["time_starts"]
        self.date_starts: np.ndarray = index["date_starts"]
        self.ids = {
            (int(name.split("_")[1]), name.endswith("upper")): index[name]
            for name in index.files
            if name.startswith("id_")
        }

    @staticmethod
    def _within(starts: np.ndarray, lo: int, hi: int) -> np.ndarray:
        a, b = np.searchsorted(starts, [lo, hi])
        return starts[a:b] - lo

    def rewrite(self, chunk: np.ndarray, lo: int, copy: int) -> None:
        hi = lo + len(chunk)
        if copy == 0:
            return
        shift = copy * BASE_DAYS * DAY_NS
        starts = self._within(self.time_starts, lo, hi)
        if len(starts):
            where = starts[:, None] + np.arange(TIME_DIGITS)
            values = (chunk[where].astype(np.int64) - 48) @ _POW10 + shift
            if values.max() >= 10**TIME_DIGITS:
                raise BenchError("a shifted time no longer has 19 digits")
            digits = np.empty(where.shape, dtype=np.uint8)
            for column in range(TIME_DIGITS - 1, -1, -1):
                digits[:, column] = values % 10 + 48
                values //= 10
            chunk[where] = digits
        starts = self._within(self.date_starts, lo, hi)
        if len(starts):
            where = starts[:, None] + np.arange(10)
            texts = np.ascontiguousarray(chunk[where]).view("S10").ravel()
            unique, inverse = np.unique(texts, return_inverse=True)
            moved = [
                (date.fromisoformat(u.decode()) + timedelta(days=copy * BASE_DAYS))
                .isoformat()
                .encode()
                for u in unique
            ]
            table = np.frombuffer(b"".join(moved), dtype=np.uint8).reshape(len(moved), 10)
            chunk[where] = table[inverse.ravel()]
        for (length, upper), all_starts in self.ids.items():
            starts = self._within(all_starts, lo, hi)
            if not len(starts):
                continue
            where = starts[:, None] + np.arange(length)
            for residue in range(4):
                mask = (copy >> (4 * residue)) & 15
                if mask:
                    cells = where[:, residue::4]
                    chunk[cells] = self.luts[upper, mask][chunk[cells]]


def _stream_counts(base: Path, records: int) -> dict[str, list[int]]:
    """Records per copy of the pool, per stream, summing to ``records``.

    Every copy but the last is the whole pool; the last takes the same share of each stream
    (a prefix in time order), the rounding going to the first stream.
    """
    sizes = {s: int(json.loads((base / READY).read_text())["records"][s]) for s, _ in STREAMS}
    copies = math.ceil(records / BASE_RECORDS)
    rest = records - (copies - 1) * BASE_RECORDS
    last = {s: rest * n // BASE_RECORDS for s, n in sizes.items()}
    first = STREAMS[0][0]
    last[first] += rest - sum(last.values())
    return {s: [sizes[s]] * (copies - 1) + [last[s]] for s in sizes}


def _seal_stream(job: tuple[str, str, str, str, list[int]]) -> list[tuple[int, str, int]]:
    """Seal one stream: one bundle per day per copy, each continuing the one before."""
    from auditlens.cli.output import drive
    from auditlens.core.bundle.seal import seal
    from auditlens.core.formats.base import SourceRecord
    from auditlens.core.sample.case import sample_signing_key

    stream_id, kind, base, out, counts = job
    key = sample_signing_key()
    index = np.load(Path(base) / f"{stream_id}.npz")
    offsets: np.ndarray = index["offsets"]
    times: np.ndarray = index["times"]
    pool = np.fromfile(Path(base) / f"{stream_id}.jsonl", dtype=np.uint8)
    rewriter = _Rewriter(index)
    day0 = (BASE_START.toordinal() - date(1970, 1, 1).toordinal()) * DAY_NS
    days = (times - day0) // DAY_NS
    if days.min() < 0 or days.max() >= BASE_DAYS:
        raise BenchError(f"{stream_id}: record times outside the {BASE_DAYS} days of the pool")
    folder = Path(out) / stream_id
    folder.mkdir(parents=True, exist_ok=True)
    made: list[tuple[int, str, int]] = []
    previous: Path | None = None
    for copy, count in enumerate(counts):
        bounds = np.searchsorted(days[:count], np.arange(BASE_DAYS + 1))
        for day in range(BASE_DAYS):
            first, end = int(bounds[day]), int(bounds[day + 1])
            if first == end:
                continue
            lo, hi = int(offsets[first]), int(offsets[end])
            chunk = pool[lo:hi].copy()
            rewriter.rewrite(chunk, lo, copy)
            lines = chunk.tobytes().split(b"\n")
            lines.pop()  # the text after the last newline: empty
            shift = copy * BASE_DAYS * DAY_NS
            stamps = (times[first:end] + shift).tolist()
            label = f"bench-case/{stream_id}/copy-{copy}"
            records = (
                SourceRecord(line, stamp, kind, label, first + number + 1)
                for number, (line, stamp) in enumerate(zip(lines, stamps, strict=True))
            )
            absolute_day = copy * BASE_DAYS + day
            day_date = BASE_START + timedelta(days=absolute_day)
            target = folder / f"{stream_id}-{len(made) + 1:04d}"
            drive(
                seal(
                    [],
                    key,
                    target,
                    stream_id=stream_id,
                    previous=previous,
                    sealed_at=f"{(day_date + timedelta(days=1)).isoformat()}T00:05:00Z",
                    source={
                        "platform": "contact-center (synthetic benchmark)",
                        "export": f"{stream_id} {day_date.isoformat()}",
                    },
                    records=records,
                ),
                quiet=True,  # two processes seal at once: no progress lines
            )
            made.append((absolute_day, str(target), end - first))
            previous = target
    return made


def prepare(records: int, workdir: Path) -> Dataset:
    """Build (or reuse) the sealed bundles of ``records`` records."""
    root = workdir / f"case-n{records}"
    ready = root / READY
    if not ready.is_file() or json.loads(ready.read_text()).get("version") != DATA_VERSION:
        base = build_base(workdir)
        shutil.rmtree(root, ignore_errors=True)
        (root / "bundles").mkdir(parents=True)
        counts = _stream_counts(base, records)
        started = time.perf_counter()
        log(f"sealing {records:,} records into per-stream daily bundles under {root} ...")
        jobs = [
            (stream_id, kind, str(base), str(root / "bundles"), counts[stream_id])
            for stream_id, kind in STREAMS
        ]
        with ProcessPoolExecutor(2) as pool:
            made = [b for result in pool.map(_seal_stream, jobs) for b in result]
        from auditlens.core.sample.case import write_sample_truststore

        write_sample_truststore(root / "truststore.json")
        order = sorted(made, key=lambda m: (m[0], m[1]))
        ready.write_text(
            json.dumps(
                {
                    "version": DATA_VERSION,
                    "records": records,
                    "base_records": BASE_RECORDS,
                    "base_days": BASE_DAYS,
                    "seed": SEED,
                    "bundles": [{"day": d, "path": p, "records": n} for d, p, n in order],
                    "seconds": time.perf_counter() - started,
                },
                indent=2,
            )
            + "\n"
        )
        log(f"  sealed {len(made)} bundles in {time.perf_counter() - started:.1f} s")
    else:
        log(f"reusing sealed bundles {root} (delete it to rebuild)")
    info = json.loads(ready.read_text())
    bundles = [Path(b["path"]) for b in info["bundles"]]
    if sum(b["records"] for b in info["bundles"]) != records or not all(
        (b / "manifest.json").is_file() for b in bundles
    ):
        raise BenchError(f"{root} is incomplete: delete it and run again")
    per_stream: dict[str, int] = {}
    for entry in info["bundles"]:
        stream = Path(entry["path"]).parent.name
        per_stream[stream] = per_stream.get(stream, 0) + entry["records"]
    data_files = sorted(p for b in bundles for p in (b / "data").glob("*.jsonl"))
    all_files = [p for b in bundles for p in b.rglob("*") if p.is_file()]
    return Dataset(
        records,
        root,
        bundles,
        root / "truststore.json",
        data_files,
        sum(p.stat().st_size for p in data_files),
        sum(p.stat().st_size for p in all_files),
        per_stream,
    )


# -- import and DuckDB alone ------------------------------------------------------------------


def _tail(path: Path, size: int = 2000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-size:]


def run_import(data: Dataset, case_dir: Path) -> tuple[Run, dict[str, Any]]:
    """Time ``auditlens import`` on a fresh case and check what it stored."""
    import duckdb

    shutil.rmtree(case_dir, ignore_errors=True)
    stdout = case_dir.parent / "import-stdout.txt"
    command = [
        *auditlens_command(),
        "import",
        str(case_dir),
        *map(str, data.bundles),
        "--trust",
        str(data.truststore),
    ]
    run = measure(command, stdout)
    if run.exit_code != 0:
        raise BenchError(f"import ended with exit {run.exit_code}:\n{_tail(stdout)}")
    db = duckdb.connect(str(case_dir / "case.duckdb"), read_only=True)
    try:
        events, verified = db.execute(
            "SELECT count(*), count(*) FILTER (integrity = 'verified') FROM events"
        ).fetchone() or (0, 0)
        bundles = dict(db.execute("SELECT verdict, count(*) FROM bundles GROUP BY 1").fetchall())
        findings = dict(
            db.execute("SELECT code, count(*) FROM findings GROUP BY 1 ORDER BY 1").fetchall()
        )
    finally:
        db.close()
    if events != data.records or verified != data.records:
        raise BenchError(
            f"the case holds {events:,} events, {verified:,} verified; expected {data.records:,} "
            f"verified: the timing would be meaningless\n{_tail(stdout)}"
        )
    if bundles != {"verified": len(data.bundles)}:
        raise BenchError(f"bundle verdicts {bundles}, expected all {len(data.bundles)} verified")
    size = sum(p.stat().st_size for p in case_dir.rglob("*") if p.is_file())
    return run, {"case_bytes": size, "findings": findings}


def duckdb_child(argv: Sequence[str]) -> int:
    """In a fresh process: load every data file with DuckDB's own JSON reader; print JSON."""
    import duckdb

    database, temp, listing = argv
    files = Path(listing).read_text().splitlines()
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    started = time.perf_counter()
    connection = duckdb.connect(database, config={"temp_directory": temp})
    connection.execute(
        f"CREATE TABLE t AS SELECT * FROM read_json([{quoted}], "
        "format='newline_delimited', union_by_name=true)"
    )
    rows = connection.execute("SELECT count(*) FROM t").fetchone()
    settings = dict(
        connection.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')"
        ).fetchall()
    )
    connection.close()
    print(
        json.dumps(
            {
                "rows": rows[0] if rows else 0,
                "seconds_in_process": time.perf_counter() - started,
                "duckdb": duckdb.__version__,
                "settings": settings,
            }
        )
    )
    return 0


def run_duckdb(data: Dataset, scratch: Path) -> tuple[Run, dict[str, Any]]:
    """Time DuckDB alone reading the data files into a fresh database file."""
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "tmp").mkdir(parents=True)
    listing = scratch / "files.txt"
    listing.write_text("".join(f"{p}\n" for p in data.data_files))
    stdout = scratch / "stdout.json"
    database = scratch / "alone.duckdb"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_duckdb_child",
        str(database),
        str(scratch / "tmp"),
        str(listing),
    ]
    run = measure(command, stdout)
    if run.exit_code != 0:
        raise BenchError(f"DuckDB alone ended with exit {run.exit_code}:\n{_tail(stdout)}")
    report: dict[str, Any] = json.loads(stdout.read_text())
    if report["rows"] != data.records:
        raise BenchError(f"DuckDB read {report['rows']:,} rows, expected {data.records:,}")
    report["database_bytes"] = database.stat().st_size
    shutil.rmtree(scratch)  # several GB at 10^7 records; the figures are kept
    return run, report


# -- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTiming:
    """One query's timings in milliseconds."""

    name: str
    detail: str
    runs_ms: list[float]
    cpu_ms: list[float]  # CPU of this process (all DuckDB threads) per run: steadier under load
    rows: int
    first_ms: float = 0.0  # the warm-up call: the first of its kind in the open case (no cache)

    @property
    def p50(self) -> float:
        return float(statistics.median(self.runs_ms))

    @property
    def p95(self) -> float:
        ordered = sorted(self.runs_ms)  # nearest rank: the 19th of 20
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _size(result: Any) -> int:
    if isinstance(result, int):
        return result
    if hasattr(result, "events") and isinstance(result.events, list):
        return len(result.events)
    if hasattr(result, "span_count"):
        return int(result.span_count) + len(result.orphan_logs)
    return len(result)


def _time(name: str, detail: str, calls: Sequence[Callable[[], Any]], runs: int) -> QueryTiming:
    """One warm-up (``calls[0]``, timed apart), then ``runs`` timed calls (``calls[1:]``).

    The warm-up is the first call of its kind in the open case: what the case keeps per filter
    (block counts) is not there yet, so it shows the cost of a filter's first deep page.
    """
    started = time.perf_counter()
    calls[0]()
    first = (time.perf_counter() - started) * 1000
    timed = calls[1:] or calls
    samples = []
    cpu = []
    rows = 0
    for number in range(runs):
        call = timed[number % len(timed)]
        started, cpu_started = time.perf_counter(), time.process_time()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        rows = _size(result)
    log(
        f"  {name:<34} p50 {statistics.median(samples):8.1f} ms  "
        f"p95 {sorted(samples)[max(0, math.ceil(0.95 * runs) - 1)]:8.1f} ms  "
        f"CPU p50 {statistics.median(cpu):8.1f} ms  first {first:8.1f} ms  ({detail})"
    )
    return QueryTiming(name, detail, samples, cpu, rows, first)


def run_queries(
    case_dir: Path, runs: int, summary: dict[str, Any] | None = None
) -> list[QueryTiming]:
    """Time the views' queries through the core API, the case opened once, read-only.

    ``summary``, when given, receives the case's event count as ``records``.
    """
    from auditlens.core.store import queries
    from auditlens.core.store.case import Case

    results: list[QueryTiming] = []
    with Case.open(case_dir, read_only=True) as case:
        total = int(case.scalar("SELECT count(*) FROM events"))
        if summary is not None:
            summary["records"] = total
        if queries.needs_refresh(case):
            log(
                "warning: the case's order or lookup tables are not current; opened read-only, "
                "the queries read the events directly (slower): run with --refresh once"
            )
        busy = queries.actors(case)[0]
        picks = [
            row[0]
            for row in case.db.execute(
                "SELECT trace_id FROM (SELECT trace_id FROM events WHERE kind = 'span') "
                f"USING SAMPLE reservoir({runs + 1} ROWS) REPEATABLE ({SEED})"
            ).fetchall()
        ]
        log(f"queries on {total:,} events, {runs} runs each after one warm-up:")
        for text in ("kind:log", "action:DOWNLOAD"):
            query = queries.EventQuery(text)

            def count(query: queries.EventQuery = query) -> int:
                return queries.count_events(case, query)

            results.append(_time(f"count {text}", "the row count of the page", [count], runs))
            matches = results[-1].rows
            deep = DEEP_OFFSET if matches > DEEP_OFFSET else matches // 2
            for offset in (0, deep):

                def page(query: queries.EventQuery = query, offset: int = offset) -> Any:
                    return queries.events_page(case, query, offset=offset, limit=PAGE)

                results.append(
                    _time(
                        f"events_page {text} @{offset:,}",
                        f"{PAGE} rows at offset {offset:,} of {matches:,} matches",
                        [page],
                        runs,
                    )
                )
        middle = total // 2

        def unfiltered() -> Any:
            return queries.events_page(case, queries.EventQuery(), offset=middle, limit=PAGE)

        results.append(
            _time(
                f"events_page (all) @{middle:,}",
                f"{PAGE} rows at offset {middle:,}",
                [unfiltered],
                runs,
            )
        )
        results.append(
            _time(
                "actor_timeline",
                f"{busy.actor_id} ({busy.events:,} events, the busiest actor)",
                [lambda: queries.actor_timeline(case, busy.actor_id)],
                runs,
            )
        )
        results.append(
            _time(
                "trace",
                f"{runs + 1} random trace ids (one per run)",
                [functools.partial(queries.trace, case, t) for t in picks],
                runs,
            )
        )
        results.append(
            _time(
                "histogram 1m",
                "1-minute buckets over all events",
                [lambda: queries.histogram(case, 60_000_000_000)],
                runs,
            )
        )
        results.append(_time("actors", "every actor", [lambda: queries.actors(case)], runs))
    return results


# -- profile ----------------------------------------------------------------------------------


class _TimedConnection:
    """Wraps a DuckDB connection, timing each ``execute`` by the start of its SQL."""

    def __init__(self, inner: Any, sink: dict[str, float]) -> None:
        self._inner = inner
        self._sink = sink

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._inner.execute(sql, *args)
        finally:
            key = " ".join(sql.split())[:70]
            self._sink[key] = self._sink.get(key, 0.0) + time.perf_counter() - started

    def _timed(self, name: str) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self._inner, name)()
        finally:
            self._sink[name.upper()] = self._sink.get(name.upper(), 0.0) + (
                time.perf_counter() - started
            )

    def begin(self) -> Any:
        return self._timed("begin")

    def commit(self) -> Any:
        return self._timed("commit")

    def rollback(self) -> Any:
        return self._timed("rollback")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _StageSampler(threading.Thread):
    """Samples the RSS of this process and of its children, tagged with the current stage."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stage = "start"
        self.peaks: dict[str, dict[str, int]] = {}
        self._stop_event = threading.Event()
        self._tree = TreeSampler(os.getpid())

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        from bench_verify import _vm_rss

        me = os.getpid()
        while not self._stop_event.is_set():
            tree = self._tree._tree()
            main = _vm_rss(me)
            total = sum(_vm_rss(pid) for pid in tree)
            peak = self.peaks.setdefault(self.stage, {"main": 0, "tree": 0})
            peak["main"] = max(peak["main"], main)
            peak["tree"] = max(peak["tree"], total)
            self._stop_event.wait(0.05)


def run_profile(data: Dataset, case_dir: Path) -> dict[str, Any]:
    """Import in this process, timing stages and sampling memory per stage (for diagnosis)."""
    from auditlens.core.store import importer as importer_module
    from auditlens.core.store import queries
    from auditlens.core.store.case import Case
    from auditlens.core.verify.trust import load_trust
    from auditlens.core.verify.verifier import BundleVerifier

    shutil.rmtree(case_dir, ignore_errors=True)
    spent: dict[str, float] = {}
    spent_cpu: dict[str, float] = {}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
                spent_cpu[name] = spent_cpu.get(name, 0.0) + time.thread_time() - cpu

        return wrapper

    def timed_generator(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        # Time spent inside the generator's own frames: from each resume to its next yield.
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            inner = function(*args, **kwargs)
            value = None
            while True:
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    step = inner.send(value)
                except StopIteration as stop:
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
                    spent_cpu[name] = spent_cpu.get(name, 0.0) + time.thread_time() - cpu
                    return stop.value
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
                spent_cpu[name] = spent_cpu.get(name, 0.0) + time.thread_time() - cpu
                value = yield step

        return wrapper

    # (owner, attribute, label, wrapper): app code stays untouched, the run swaps these in.
    patches: list[tuple[Any, str, str, Callable[..., Any]]] = [
        # Verification and hashing run on the main thread for the first input and in the
        # importer's read-ahead thread for the others (overlapping the indexing before them).
        (BundleVerifier, "run", "verify (BundleVerifier.run, any thread)", timed_generator),
        (
            importer_module.Importer,
            "_run_tasks",
            "decode (inline, or waiting for the workers)",
            timed_generator,
        ),
        (importer_module, "_insert", "duckdb insert (_insert)", timed),
        (importer_module, "read_table", "arrow ipc read (read_table)", timed),
        (importer_module, "hash_input", "hash input (hash_input, any thread)", timed),
        (importer_module, "_sha256_file", "hash a file (_sha256_file, any thread)", timed),
        (
            importer_module.Importer,
            "_digest_of",
            "waiting for the read-ahead (main thread)",
            timed,
        ),
        (Case, "journal", "journal", timed),
        (importer_module.Importer, "_check_unchanged", "fingerprint re-check", timed),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _, _ in patches]
    for owner, name, label, wrap in patches:
        setattr(owner, name, wrap(label, getattr(owner, name)))
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}  # CPU of this process (every thread, DuckDB's included)
    workers_cpu = 0.0
    sampler = _StageSampler()
    profiler = cProfile.Profile()
    trust = load_trust(data.truststore)
    started = time.perf_counter()
    sampler.start()
    try:
        with Case.open(case_dir, create=True) as case:
            statements: dict[str, float] = {}
            imported: dict[str, float] = {}
            real = case.db
            swapped: Any = case  # the statements of the import and of refresh_order are timed
            swapped.db = _TimedConnection(real, imported)
            job = importer_module.Importer(case, trust).run(data.bundles)
            stage, mark, cpu_mark = "start", time.perf_counter(), time.process_time()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            profiler.enable()
            while True:
                try:
                    step = next(job)
                except StopIteration:
                    break
                now, cpu_now = time.perf_counter(), time.process_time()
                stages[stage] = stages.get(stage, 0.0) + now - mark
                stages_cpu[stage] = stages_cpu.get(stage, 0.0) + cpu_now - cpu_mark
                stage, mark, cpu_mark = step.stage, now, cpu_now
                sampler.stage = stage
            now, cpu_now = time.perf_counter(), time.process_time()
            stages[stage] = stages.get(stage, 0.0) + now - mark
            stages_cpu[stage] = stages_cpu.get(stage, 0.0) + cpu_now - cpu_mark
            # The workers are joined when the import ends (Importer.close): their CPU is then
            # in this process's children's usage.
            reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
            workers_cpu = (reaped.ru_utime + reaped.ru_stime) - (
                children.ru_utime + children.ru_stime
            )
            sampler.stage = "refresh_order"
            swapped.db = _TimedConnection(real, statements)
            mark, cpu_mark = time.perf_counter(), time.process_time()
            queries.refresh_order(case)
            stages["refresh_order"] = time.perf_counter() - mark
            stages_cpu["refresh_order"] = time.process_time() - cpu_mark
            case.db = real
            sampler.stage = "close"
            mark, cpu_mark = time.perf_counter(), time.process_time()
        # Closing the case checkpoints DuckDB's write-ahead log into the file, as the CLI does.
        stages["close"] = time.perf_counter() - mark
        stages_cpu["close"] = time.process_time() - cpu_mark
        profiler.disable()
    finally:
        sampler.stop()
        for owner, name, original in originals:
            setattr(owner, name, original)
    wall = time.perf_counter() - started
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    tottime = io.StringIO()
    pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(20)
    shutil.rmtree(case_dir, ignore_errors=True)
    return {
        "wall_s": wall,
        "records_per_s": data.records / wall,
        "stages_s": stages,
        "note": (
            "stage time runs from a Progress of that stage to the next Progress; "
            "'indexing' includes waiting for the decode workers"
        ),
        "stages_cpu_s": stages_cpu,
        "workers_cpu_s": workers_cpu,
        "inside_s": spent,
        "inside_thread_cpu_s": spent_cpu,
        "import_statements_s": imported,
        "refresh_order_statements_s": statements,
        "rss_peak_by_stage_mb": {
            s: {k: v / MB for k, v in p.items()} for s, p in sampler.peaks.items()
        },
        "cprofile_cumulative": text.getvalue(),
        "cprofile_tottime": tottime.getvalue(),
    }


# -- report -----------------------------------------------------------------------------------


def summarize(
    data: Dataset,
    imp: Run,
    imp_info: dict[str, Any],
    duck: Run,
    duck_info: dict[str, Any],
    timings: list[QueryTiming],
) -> dict[str, Any]:
    """The figures and the targets."""
    ratio = imp.wall_s / duck.wall_s
    cpu_ratio = imp.cpu_s / duck.cpu_s
    rps = data.records / imp.wall_s
    return {
        "records": data.records,
        "records_per_stream": data.per_stream,
        "bundles": len(data.bundles),
        "data_files": len(data.data_files),
        "data_bytes": data.data_bytes,
        "bundle_bytes": data.all_bytes,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "import": {
            "wall_s": imp.wall_s,
            "records_per_s": rps,
            "mb_per_s": data.data_bytes / imp.wall_s / MB,
            "cpu_s": imp.cpu_s,
            "cpu_per_wall": imp.cpu_s / imp.wall_s,
            "rss_tree_peak_mb": imp.rss_tree_peak / MB,
            "rss_single_max_mb": imp.rss_single_max / MB,
            **imp_info,
            "run": asdict(imp),
        },
        "duckdb_alone": {
            "wall_s": duck.wall_s,
            "records_per_s": data.records / duck.wall_s,
            "mb_per_s": data.data_bytes / duck.wall_s / MB,
            "cpu_s": duck.cpu_s,
            "cpu_per_wall": duck.cpu_s / duck.wall_s,
            "rss_tree_peak_mb": duck.rss_tree_peak / MB,
            **duck_info,
            "run": asdict(duck),
        },
        "ratio_import_to_duckdb": ratio,
        "ratio_import_to_duckdb_cpu": cpu_ratio,
        "queries": query_figures(timings),
        "pass": {
            "import_records_per_s": rps >= TARGET_IMPORT_RPS,
            "import_cpu_within_2x_duckdb": cpu_ratio <= TARGET_CPU_RATIO,
            "import_peak_rss": imp.rss_tree_peak < TARGET_RSS_BYTES,
            **query_passes(timings),
        },
    }


def query_figures(timings: list[QueryTiming]) -> list[dict[str, Any]]:
    """The figures of each query."""
    return [
        {
            "name": t.name,
            "detail": t.detail,
            "rows": t.rows,
            "p50_ms": t.p50,
            "p95_ms": t.p95,
            "cpu_p50_ms": statistics.median(t.cpu_ms),
            "first_ms": t.first_ms,
            "runs_ms": t.runs_ms,
            "cpu_ms": t.cpu_ms,
        }
        for t in timings
    ]


def query_passes(timings: list[QueryTiming]) -> dict[str, bool]:
    """The p95 target of each query."""
    return {f"query {t.name}": t.p95 < TARGET_QUERY_P95_MS for t in timings}


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_summary(s: dict[str, Any]) -> None:
    """The human table of the figures."""
    ok = s["pass"]
    imp, duck = s["import"], s["duckdb_alone"]
    rows = [
        (
            "records",
            f"{s['records']:,}  "
            + ", ".join(f"{k} {v:,}" for k, v in s["records_per_stream"].items()),
        ),
        ("bundles", f"{s['bundles']} directory bundles, {s['data_files']} data files"),
        (
            "data bytes",
            f"{s['data_bytes'] / MB:,.1f} MB (all bundle files {s['bundle_bytes'] / MB:,.1f} MB)",
        ),
        ("import wall", f"{imp['wall_s']:.2f} s"),
        (
            "import records/s",
            f"{imp['records_per_s']:,.0f}  {_mark(ok['import_records_per_s'])} "
            f"(>= {TARGET_IMPORT_RPS:,.0f})",
        ),
        ("import MB/s", f"{imp['mb_per_s']:,.1f}"),
        ("import CPU/wall", f"{imp['cpu_per_wall']:.2f} ({imp['cpu_s']:.1f} s CPU)"),
        # Steadier than wall times when other work shares the cores (see the load average).
        (
            "import CPU per record",
            f"{imp['cpu_s'] / s['records'] * 1e6:.1f} us (DuckDB alone "
            f"{duck['cpu_s'] / s['records'] * 1e6:.1f} us)",
        ),
        (
            "import peak RSS, tree sum",
            f"{imp['rss_tree_peak_mb']:,.0f} MB  {_mark(ok['import_peak_rss'])} "
            f"(< {TARGET_RSS_BYTES / MB:,.0f} MB)",
        ),
        ("import peak RSS, one process", f"{imp['rss_single_max_mb']:,.0f} MB"),
        ("case size", f"{imp['case_bytes'] / MB:,.1f} MB"),
        ("DuckDB alone wall", f"{duck['wall_s']:.2f} s"),
        ("DuckDB alone records/s", f"{duck['records_per_s']:,.0f}"),
        ("DuckDB alone MB/s", f"{duck['mb_per_s']:,.1f}"),
        ("DuckDB alone CPU/wall", f"{duck['cpu_per_wall']:.2f} ({duck['cpu_s']:.1f} s CPU)"),
        ("DuckDB alone peak RSS", f"{duck['rss_tree_peak_mb']:,.0f} MB"),
        ("ratio import/DuckDB, wall (info)", f"{s['ratio_import_to_duckdb']:.2f}  (no target)"),
        (
            "ratio import/DuckDB, CPU",
            f"{s['ratio_import_to_duckdb_cpu']:.2f}  {_mark(ok['import_cpu_within_2x_duckdb'])} "
            f"(<= {TARGET_CPU_RATIO:.2f})",
        ),
    ]
    title = f"case benchmark, {s['records']:,} records (MB = 10^6 bytes)"
    _print_rows(title, rows + _query_rows(s), ok)


def _query_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    ok = s["pass"]
    rows = []
    for q in s["queries"]:
        rows.append(
            (
                q["name"],
                f"p50 {q['p50_ms']:7.1f} ms  p95 {q['p95_ms']:7.1f} ms  "
                f"{_mark(ok['query ' + q['name']])} (< {TARGET_QUERY_P95_MS:.0f})  "
                f"CPU p50 {q['cpu_p50_ms']:7.1f} ms  first {q.get('first_ms', 0.0):7.1f} ms  "
                f"[{q['rows']:,} rows]",
            )
        )
    return rows


def _print_rows(title: str, rows: list[tuple[str, str]], ok: dict[str, bool]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    failed = [name for name, good in ok.items() if not good]
    print(
        f"  {'overall':<{width}}  {_mark(not failed)}"
        + (f"  missed: {', '.join(failed)}" if failed else "")
    )


def print_profile(p: dict[str, Any]) -> None:
    """The stage breakdown of the profiled import."""
    print(f"\nprofiled in-process import: {p['wall_s']:.2f} s, {p['records_per_s']:,.0f} records/s")
    for name, seconds in sorted(p["stages_s"].items(), key=lambda kv: -kv[1]):
        peak = p["rss_peak_by_stage_mb"].get(name)
        memory = (
            f"   peak RSS main {peak['main']:7,.0f} MB, tree {peak['tree']:7,.0f} MB"
            if peak
            else ""
        )
        cpu = p["stages_cpu_s"].get(name, 0.0)
        print(f"  stage {name:<16} {seconds:8.2f} s  CPU {cpu:6.2f} s{memory}")
    print(f"  decode workers' CPU      {p['workers_cpu_s']:8.2f} s")
    for name, seconds in sorted(p["inside_s"].items(), key=lambda kv: -kv[1]):
        cpu = p["inside_thread_cpu_s"].get(name, 0.0)
        print(f"  inside: {name:<32} {seconds:8.2f} s  thread CPU {cpu:6.2f} s")
    for sql, seconds in sorted(p["import_statements_s"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"  import SQL:    {seconds:7.2f} s  {sql}")
    for sql, seconds in sorted(p["refresh_order_statements_s"].items(), key=lambda kv: -kv[1]):
        print(f"  refresh_order: {seconds:7.2f} s  {sql}")


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--records",
        type=int,
        nargs="+",
        default=list(DEFAULT_RECORDS),
        help="record counts to run, in order (default: 1000000 10000000)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="cache of generated data and results (default: bench/out/)",
    )
    parser.add_argument(
        "--query-runs", type=int, default=QUERY_RUNS, help="timed runs per query (default 20)"
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="only time the queries again, on the case the last full run imported",
    )
    parser.add_argument(
        "--case",
        type=Path,
        help="with --queries-only: time the queries on this case folder (any copy of an imported "
        "case; --records is then ignored and the figures go to the folder's parent)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="with --queries-only: first rebuild the case's order and lookup tables "
        "(refresh_order, forced, the case opened for writing) and time it",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also import in this process, timing each stage and sampling memory per stage",
    )
    args = parser.parse_args(argv)
    if args.queries_only and args.profile:
        parser.error("--profile needs the import: leave out --queries-only")
    if (args.case or args.refresh) and not args.queries_only:
        parser.error("--case and --refresh go with --queries-only")
    if any(n < 1000 for n in args.records):
        parser.error("--records must be at least 1000")
    if args.query_runs < 1:
        parser.error("--query-runs must be at least 1")
    return args


def bench_one(records: int, workdir: Path, query_runs: int, profile: bool) -> dict[str, Any]:
    data = prepare(records, workdir)
    log(
        f"dataset: {len(data.bundles)} bundles, {len(data.data_files)} data files, "
        f"{data.data_bytes / MB:,.1f} MB of data"
    )
    case_dir = data.root / "case"
    warm_cache(data.data_files)
    load_before = os.getloadavg()[0]
    if load_before > BUSY_LOAD:
        log(
            f"warning: 1-minute load average is {load_before:.2f}; other work on this machine "
            "inflates the wall times (CPU times are less affected)"
        )
    log(f"importing {records:,} records (auditlens import, fresh case) ...")
    imp, imp_info = run_import(data, case_dir)
    log(f"  import: {imp.wall_s:.2f} s, {records / imp.wall_s:,.0f} records/s")
    warm_cache(data.data_files)
    log("DuckDB alone: read_json into a fresh database ...")
    duck, duck_info = run_duckdb(data, data.root / "duckdb-alone")
    log(f"  DuckDB alone: {duck.wall_s:.2f} s")
    timings = run_queries(case_dir, query_runs)
    summary = summarize(data, imp, imp_info, duck, duck_info, timings)
    summary["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    if profile:
        log("profiling an in-process import ...")
        summary["profile"] = run_profile(data, data.root / "profile-case")
    return summary


def bench_queries(
    records: int,
    workdir: Path,
    query_runs: int,
    case_dir: Path | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """Time the queries again on an imported case (``--queries-only``).

    The case is ``case_dir`` when given, else the one the last full run left. With ``refresh``
    the order and lookup tables are rebuilt first (forced) and the rebuild is timed.
    """
    case_dir = case_dir or workdir / f"case-n{records}" / "case"
    if not (case_dir / "case.duckdb").is_file():
        raise BenchError(f"no imported case in {case_dir}: run once without --queries-only")
    load_before = os.getloadavg()[0]
    if load_before > BUSY_LOAD:
        log(f"warning: 1-minute load average is {load_before:.2f}; wall times are inflated")
    summary: dict[str, Any] = {"records": records, "case": str(case_dir)}
    if refresh:
        summary["refresh_order"] = run_refresh(case_dir)
    timings = run_queries(case_dir, query_runs, summary)
    summary.update(
        {
            "queries": query_figures(timings),
            "pass": query_passes(timings),
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        }
    )
    return summary


def run_refresh(case_dir: Path) -> dict[str, Any]:
    """Rebuild ``ord`` and the lookup tables of the case (forced), timing it and its statements."""
    from auditlens.core.store import queries
    from auditlens.core.store.case import Case

    statements: dict[str, float] = {}
    with Case.open(case_dir) as case:
        inner = case.db
        case.db = _TimedConnection(inner, statements)  # type: ignore[assignment]
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            queries.refresh_order(case, force=True)
        finally:
            case.db = inner
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    log(f"refresh_order (forced): {wall:.2f} s wall, {cpu:.2f} s CPU")
    for sql, seconds in sorted(statements.items(), key=lambda kv: -kv[1])[:8]:
        log(f"  {seconds:7.2f} s  {sql}")
    return {"wall_s": wall, "cpu_s": cpu, "statements_s": statements}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["_duckdb_child"]:
        return duckdb_child(arguments[1:])
    args = parse_args(arguments)
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # A given case is measured once, whatever --records says.
    for records in args.records[:1] if args.case else args.records:
        try:
            if args.queries_only:
                summary = bench_queries(records, workdir, args.query_runs, args.case, args.refresh)
            else:
                summary = bench_one(records, workdir, args.query_runs, args.profile)
        except (BenchError, subprocess.CalledProcessError, OSError) as exc:
            log(f"bench_case: {exc}")
            return 2
        if args.queries_only:
            title = f"case queries, {summary['records']:,} records (queries only)"
            _print_rows(title, _query_rows(summary), summary["pass"])
            result = (
                args.case.resolve().parent / f"case-queries-n{summary['records']}.json"
                if args.case
                else workdir / f"case-queries-n{records}.json"
            )
            result.write_text(json.dumps(summary, indent=2) + "\n")
            log(f"figures written to {result}")
            continue
        print_summary(summary)
        if "profile" in summary:
            print_profile(summary["profile"])
        result = workdir / f"case-result-n{records}.json"
        result.write_text(json.dumps(summary, indent=2) + "\n")
        log(f"figures written to {result}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
