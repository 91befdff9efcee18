"""Benchmark: raw import per record, the audit JSON lines against the forms that wrap them.

Issue 17's target: pod logs (CRI, Docker ``json-file``, ``kubectl logs --timestamps``) and
Fluent Bit's file output (``plain``/``json_lines``, ``msgpack``, the default ``TAG: [TIME,
{record}]``) import at least as fast per record as the audit JSON lines they wrap. The figure is
CPU (user+sys) per record: the machine is shared, so wall time mostly measures the wait for a
core.

1. **Data** (cached in ``WORKDIR/formats-n<N>/``, ``ready.json`` marks it complete): the sample
   generator's audit stream (``generate_raw``, ``BASE_RECORDS`` records over one day, seed 7)
   repeated to N audit lines, copy ``k`` dated ``k`` days later (the line's ``timestamp`` alone
   changes); then the sample's own pod-log writer (``write_pod_logs``, what ``auditlens sample
   --pod-logs`` runs) writes the same N records in every other form, as the runtimes and Fluent
   Bit write them (a line over 16 KiB cut into parts; none is in this data).
2. **Import**: per form, a child process (``bench_formats.py _child FILE CASE``) opens a fresh
   case and imports the one file through ``Importer`` (raw evidence, as ``auditlens import``
   does); CPU seconds (``getrusage`` of the child, DuckDB's threads included) and wall time are
   taken around the import alone, so interpreter start and imports do not count; peak RSS is the
   child's ``ru_maxrss``. The page cache is warmed first (every file read once).
3. **Same events**: the child digests every normalized column but those that say where the
   record came from or how it was wrapped (``observed_ns`` is the runtime's time,
   ``attributes`` adds ``log.iostream`` and ``k8s.*``; stream, file, line, leaf hash) in
   ``seq`` order; every form must give the audit lines' digest and count, or the script stops.
4. **Report**: a table (CPU us/record, ratio to the audit lines, wall, peak RSS) on stdout and
   ``WORKDIR/formats-result-n<N>.json``; ``--profile FORM`` prints a cProfile of that form's
   import instead.

Exit status: 0 when it ran (a form slower than the audit lines is marked SLOWER), 2 when it
could not run (an import failed, a form gave other events).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_verify import BenchError, log, warm_cache

DEFAULT_WORKDIR = Path(__file__).resolve().parent / "out"
BASE_RECORDS = 100_000  # about 18,000 audit lines: the pool repeated
FORMS = (
    "audit-json-lines",
    "cri-log",
    "docker-json-log",
    "kubectl-log",
    "fluentbit-json",
    "fluentbit-msgpack",
    "fluentbit-file",
)
RUNS = 3  # imports per form; the median CPU is reported
# Columns that depend on where a record came from or how it was wrapped, not on the event.
WRAPPING_COLUMNS = frozenset(
    {"observed_ns", "attributes", "stream_id", "file", "line", "leaf_hash", "integrity"}
)


def _forms(pods: Path, audit: Path) -> dict[str, Path]:
    """Each form's file, as ``write_pod_logs`` lays them out."""
    fluent = pods / "fluent-bit"
    return {
        "audit-json-lines": audit,
        "cri-log": next((pods / "var" / "log" / "pods").glob("*/*/0.log")),
        "docker-json-log": next((pods / "docker").glob("*/*-json.log")),
        "kubectl-log": next((pods / "kubectl").glob("*.log")),
        "fluentbit-json": fluent / "plain.log",
        "fluentbit-msgpack": fluent / "events.msgpack",
        "fluentbit-file": next(fluent.glob("kube.*.log")),
    }


def prepare(records: int, workdir: Path) -> dict[str, Path]:
    """The N records in every form (built once, then reused)."""
    from auditlens.core.sample.generator import (
        RawEvidence,
        RawStream,
        generate_raw,
        write_pod_logs,
    )

    root = workdir / f"formats-n{records}"
    audit = root / "audit.jsonl"
    pods = root / "pods"
    if (root / "ready.json").is_file():
        return _forms(pods, audit)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"generating {BASE_RECORDS:,} sample records (one day) for the audit pool ...")
    raw = generate_raw(root / "base", records=BASE_RECORDS, days=1, seed=7)
    pool = [
        line.rstrip(b"\n")
        for file in raw.streams[2].files
        for line in file.read_bytes().splitlines()
        if line.strip()
    ]
    day = date(2026, 3, 2).isoformat().encode()
    prefix = b'{"timestamp":"' + day
    if not all(line.startswith(prefix) for line in pool):
        raise BenchError("the sample's audit lines do not all start with the first day's time")
    log(f"writing {records:,} audit lines ({len(pool):,} in the pool) and their pod log forms")
    with audit.open("wb") as out:
        written, copy = 0, 0
        while written < records:
            shifted = (date(2026, 3, 2) + timedelta(days=copy)).isoformat().encode()
            for line in pool[: records - written]:
                out.write(b'{"timestamp":"' + shifted + line[len(prefix) :] + b"\n")
            written += min(len(pool), records - written)
            copy += 1
    shutil.rmtree(root / "base")
    stream = RawStream("cc-prod.audit", (audit,))
    evidence = RawEvidence(streams=(stream, stream, stream), record_count=records, incident={})
    write_pod_logs(evidence, pods, seed=7)
    (root / "ready.json").write_text(json.dumps({"records": records}) + "\n")
    return _forms(pods, audit)


# -- the child: one import, measured from inside ----------------------------------------------


def _import(file: Path, folder: Path) -> dict[str, Any]:
    from auditlens.core.store.case import Case
    from auditlens.core.store.importer import Importer
    from auditlens.core.verify.trust import TrustStore

    case = Case.open(folder, create=True)
    importer = Importer(case, TrustStore())
    before = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = before.ru_maxrss
    started = time.perf_counter()
    steps = importer.run([file])
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        report = stop.value
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    columns = [
        row[0]
        for row in case.db.execute(
            "SELECT column_name FROM (DESCRIBE events) ORDER BY column_name"
        ).fetchall()
        if row[0] not in WRAPPING_COLUMNS and row[0] != "ord"
    ]
    digest = hashlib.sha256()
    cursor = case.db.execute(f"SELECT {', '.join(columns)} FROM events ORDER BY seq")
    while rows := cursor.fetchmany(50_000):
        for row in rows:
            digest.update(repr(row).encode())
    case.close()
    return {
        "records": report.records,
        "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "user_s": after.ru_utime - before.ru_utime,
        "sys_s": after.ru_stime - before.ru_stime,
        "wall_s": wall,
        "rss_peak_bytes": after.ru_maxrss * 1024,
        "rss_before_bytes": rss_before * 1024,
        "digest": digest.hexdigest(),
        "columns": columns,
    }


def child(argv: Sequence[str]) -> int:
    """``_child FILE CASE [--profile]``: import FILE into a new case, print the figures."""
    file, folder = Path(argv[0]), Path(argv[1])
    shutil.rmtree(folder, ignore_errors=True)
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.enable()
        result = _import(file, folder)
        profile.disable()
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(30)
    else:
        result = _import(file, folder)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    return 0


# -- the parent -------------------------------------------------------------------------------


def _run_child(file: Path, folder: Path, *, profile: bool = False) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "_child", str(file), str(folder)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"importing {file} failed: {done.stderr[-2000:]}")
    if profile:
        print(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench(records: int, workdir: Path, forms: Sequence[str], runs: int) -> dict[str, Any]:
    files = prepare(records, workdir)
    warm_cache(list(files.values()))
    scratch = workdir / "formats-case"
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    reference: dict[str, Any] | None = None
    for form in ["audit-json-lines", *[f for f in forms if f != "audit-json-lines"]]:
        log(f"importing {form} ({files[form].name}) x{runs} ...")
        form_runs = [_run_child(files[form], scratch) for _ in range(runs)]
        form_runs.sort(key=lambda r: float(r["cpu_s"]))
        median = form_runs[len(form_runs) // 2]
        if median["records"] != records:
            raise BenchError(f"{form}: {median['records']} records imported, not {records}")
        if reference is None:
            reference = median
        elif median["digest"] != reference["digest"]:
            raise BenchError(f"{form}: the events differ from the audit lines' ({median})")
        results[form] = {
            **median,
            "file_bytes": files[form].stat().st_size,
            "us_per_record": median["cpu_s"] / records * 1e6,
            "cpu_runs_s": [round(float(r["cpu_s"]), 3) for r in form_runs],
        }
    summary = {
        "records": records,
        "runs": runs,
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "forms": results,
    }
    out = workdir / f"formats-result-n{records}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def print_table(summary: dict[str, Any]) -> None:
    forms = summary["forms"]
    base = forms["audit-json-lines"]["us_per_record"]
    print(
        f"\nraw import of {summary['records']:,} audit records per form "
        f"(median CPU of {summary['runs']} runs; load average "
        f"{summary['load_average']['before']:.1f} before, "
        f"{summary['load_average']['after']:.1f} after)"
    )
    header = f"{'MB':>7} {'CPU us/rec':>10} {'vs audit':>8} {'wall s':>7} {'RSS MB':>7}"
    print(f"  {'form':<18} {header}")
    for form, r in forms.items():
        ratio = r["us_per_record"] / base
        mark = "" if form == "audit-json-lines" or ratio <= 1.0 else "  SLOWER"
        print(
            f"  {form:<18} {r['file_bytes'] / 1e6:>7.1f} {r['us_per_record']:>10.1f} "
            f"{ratio:>8.2f} {r['wall_s']:>7.2f} {r['rss_peak_bytes'] / 1e6:>7.0f}{mark}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--forms", nargs="+", default=None, help="forms to measure (default all)")
    parser.add_argument("--profile", metavar="FORM", help="print a cProfile of FORM's import")
    args = parser.parse_args(argv)
    try:
        if args.profile:
            files = prepare(args.records, args.workdir)
            result = _run_child(files[args.profile], args.workdir / "formats-case", profile=True)
            print(f"{args.profile}: {result['cpu_s'] / result['records'] * 1e6:.1f} us/record")
            return 0
        forms = args.forms or list(FORMS)
        print_table(bench(args.records, args.workdir, forms, args.runs))
    except BenchError as exc:
        log(f"bench_formats: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
