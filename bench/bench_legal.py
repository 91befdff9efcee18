"""Benchmark: the legal outputs of issue 14 on a large case: export, exhibit, report.

On the 10^7-event case of bench_case.py (its sealed bundles, imported once as bench_detect.py
imports them, into ``WORKDIR/case-nN/detect-case``, kept between runs and never written), each
step runs as a subprocess on a scratch copy of the case (export, exhibit and report journal into
the case they read), measured like the other benchmarks (bench_verify.measure: wall, CPU of the
process and its threads and children, peak RSS of the tree):

1. ``auditlens export --format parquet`` of every event, then ``--format jsonl``; each output is
   checked (exit 0, every event written, the printed SHA-256 is the file's) and deleted.
2. ``auditlens exhibit --event REF ...`` of 10,000 events, one every N/10,000 positions of the
   timeline (so every bundle of the case is in it), then ``auditlens verify EXHIBIT --json``,
   which must prove all 10,000 records (verdict ``verified``).
3. 1,000 bookmarks (one event each, every N/1,000 positions, with a tag and a note) made
   in-process through ``Legal.bookmark`` (untimed, the time is printed), then ``auditlens report
   --out report.pdf`` (and ``.html`` with ``--html``).

The issue's targets: export at least 200,000 events/s, every step under 1.5 GB. Prints the table
(wall, CPU user+sys, events/s on the wall clock and per CPU second, peak RSS, the load average
before and after) and writes ``WORKDIR/legal-result-nN.json``. Exit 0 when it ran (targets missed
are marked FAIL), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_case import DEFAULT_WORKDIR, prepare
from bench_detect import imported_case
from bench_verify import BenchError, Run, auditlens_command, log, measure

TARGET_EVENTS_PER_S = 200_000
TARGET_RSS_BYTES = 1_500_000_000
EXHIBIT_RECORDS = 10_000
BOOKMARKS = 1_000
STEPS = ("parquet", "jsonl", "exhibit", "report")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _figures(name: str, run: Run, events: int | None, load_before: float) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "step": name,
        "wall_s": round(run.wall_s, 2),
        "user_s": round(run.user_s, 2),
        "sys_s": round(run.sys_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "rss_tree_peak_bytes": run.rss_tree_peak,
        "rss_single_max_bytes": run.rss_single_max,
        "load_before": load_before,
        "load_after": _load(),
        "rss_ok": run.rss_tree_peak <= TARGET_RSS_BYTES,
    }
    if events is not None:
        figures["events"] = events
        figures["events_per_s"] = round(events / run.wall_s)
        figures["events_per_cpu_s"] = round(events / run.cpu_s) if run.cpu_s else None
    return figures


def _run(name: str, command: list[str], stdout: Path, events: int | None) -> dict[str, Any]:
    log(f"{name}: {' '.join(command[1:3])} ... (load {_load()})")
    load = _load()
    run = measure(command, stdout)
    if run.exit_code != 0:
        text = stdout.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise BenchError(f"{name} ended with exit {run.exit_code}:\n{text}")
    figures = _figures(name, run, events, load)
    log(
        f"  {figures['wall_s']} s wall, {figures['cpu_s']} s CPU, "
        f"{run.rss_tree_peak / 1e6:.0f} MB peak RSS"
    )
    return figures


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(16 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _spread_refs(case: Path, count: int) -> list[str]:
    """``count`` event references, one every (events / count) positions of the timeline."""
    import duckdb

    from auditlens.core.report.refs import REF_SQL

    db = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    try:
        events = int(db.execute("SELECT count(*) FROM events").fetchall()[0][0])
        step = max(1, events // count)
        rows = db.execute(
            f"SELECT {REF_SQL} FROM events "
            "LEFT JOIN (SELECT input_id, sha256 FROM inputs) AS inputs USING (input_id) "
            "WHERE ord % ? = ? ORDER BY ord LIMIT ?",
            [step, step // 2, count],
        ).fetchall()
    finally:
        db.close()
    refs = [str(r[0]) for r in rows]
    if len(refs) != count:
        raise BenchError(f"found {len(refs):,} events to select, wanted {count:,}")
    return refs


def _export(case: Path, work: Path, fmt: str, events: int) -> dict[str, Any]:
    out = work / f"all.{fmt}"
    out.unlink(missing_ok=True)
    stdout = work / f"export-{fmt}.txt"
    command = [*auditlens_command(), "export", str(case), "--format", fmt, "--out", str(out)]
    try:
        figures = _run(f"export {fmt}", command, stdout, events)
        text = stdout.read_text(encoding="utf-8")
        match = re.search(
            r"exported ([\d,]+) events .*\(([\d,]+) bytes, sha256 ([0-9a-f]{64})", text
        )
        if match is None:
            raise BenchError(f"export {fmt} printed no summary: {text[-500:]}")
        rows = int(match.group(1).replace(",", ""))
        if rows != events:
            raise BenchError(f"export {fmt} wrote {rows:,} events, the case holds {events:,}")
        if _sha256(out) != match.group(3) or out.stat().st_size != int(
            match.group(2).replace(",", "")
        ):
            raise BenchError(f"export {fmt}: the printed size or SHA-256 is not the file's")
        figures["bytes"] = out.stat().st_size
        figures["sha256"] = match.group(3)
        figures["events_per_s_ok"] = figures["events_per_s"] >= TARGET_EVENTS_PER_S
    finally:
        out.unlink(missing_ok=True)  # 10^7 events of JSON lines are about 11.5 GB
    return figures


def _exhibit(case: Path, work: Path, truststore: Path) -> list[dict[str, Any]]:
    refs = _spread_refs(case, EXHIBIT_RECORDS)
    out = work / "exhibit"
    shutil.rmtree(out, ignore_errors=True)
    command = [*auditlens_command(), "exhibit", str(case), "--out", str(out)]
    for ref in refs:
        command += ["--event", ref]
    made = _run("exhibit", command, work / "exhibit.txt", EXHIBIT_RECORDS)
    index = json.loads((out / "exhibit.json").read_text(encoding="utf-8"))
    made["bundles"] = len(index["bundles"])
    made["exhibit_bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if int(index["counts"]["sealed"]) != EXHIBIT_RECORDS:
        raise BenchError(f"the exhibit holds {index['counts']} records, wanted {EXHIBIT_RECORDS}")
    stdout = work / "exhibit-verify.json"
    command = [*auditlens_command(), "verify", str(out), "--trust", str(truststore), "--json"]
    checked = _run("exhibit verify", command, stdout, EXHIBIT_RECORDS)
    report = json.loads(stdout.read_text(encoding="utf-8"))
    reports = report.get("exhibits", [report]) if isinstance(report, dict) else report
    proven = sum(int(r.get("proven", 0)) for r in reports)
    verdicts = {r.get("verdict") for r in reports}
    if proven != EXHIBIT_RECORDS or verdicts != {"verified"}:
        raise BenchError(f"exhibit verify: {verdicts}, {proven:,} proven of {EXHIBIT_RECORDS:,}")
    checked["proven"] = proven
    shutil.rmtree(out, ignore_errors=True)
    return [made, checked]


def _bookmark(case: Path) -> dict[str, Any]:
    from auditlens.core.report.session import Legal

    refs = _spread_refs(case, BOOKMARKS)
    log(f"making {BOOKMARKS:,} bookmarks (in-process, untimed) ...")
    started, cpu = time.perf_counter(), time.process_time()
    with Legal.open(case, origin="cli") as legal:
        for number, ref in enumerate(refs, 1):
            legal.bookmark(
                refs=[ref],
                tags=["bench", f"group-{number % 10}"],
                note=f"bench bookmark {number}: one event of every {len(refs):,} in time order",
            )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    log(f"  {wall:.1f} s wall, {cpu:.1f} s CPU")
    return {"bookmarks": BOOKMARKS, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def _report(case: Path, work: Path, formats: Sequence[str]) -> list[dict[str, Any]]:
    results = []
    for fmt in formats:
        out = work / f"report.{fmt}"
        out.unlink(missing_ok=True)
        command = [*auditlens_command(), "report", str(case), "--out", str(out)]
        figures = _run(
            f"report {fmt} ({BOOKMARKS:,} bookmarks)", command, work / "report.txt", None
        )
        figures["bytes"] = out.stat().st_size
        if fmt == "pdf" and shutil.which("pdfinfo"):
            info = subprocess.run(
                ["pdfinfo", str(out)], capture_output=True, text=True, check=False
            ).stdout
            pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
            figures["pages"] = int(pages.group(1)) if pages else None
        results.append(figures)
    return results


def _copy_case(case: Path, work: Path) -> Path:
    """A scratch copy of the case (database and journal): the steps write their journal entries."""
    copy = work / "case"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for name in ("case.duckdb", "journal.jsonl"):
        shutil.copy2(case / name, copy / name)
    return copy


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen steps on a scratch copy of the case; the figures of each."""
    import duckdb

    workdir: Path = args.workdir
    if args.case is not None:
        case, truststore = args.case, args.trust
        if truststore is None:
            raise BenchError("--case needs --trust (the trust store of its bundles)")
    else:
        case = imported_case(args.records, workdir)
        truststore = prepare(args.records, workdir).truststore
    db = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    try:
        events = int(db.execute("SELECT count(*) FROM events").fetchall()[0][0])
    finally:
        db.close()
    work = workdir / f"legal-work-n{events}"
    work.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, Any]] = []
    setup: dict[str, Any] = {}
    try:
        log(f"copying {case} to {work / 'case'} ...")
        copy = _copy_case(case, work)
        for fmt in ("parquet", "jsonl"):
            if fmt in args.steps:
                steps.append(_export(copy, work, fmt, events))
        if "exhibit" in args.steps:
            steps += _exhibit(copy, work, truststore)
        if "report" in args.steps:
            setup["bookmarks"] = _bookmark(copy)
            steps += _report(copy, work, ["pdf", "html"] if args.html else ["pdf"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    summary = {
        "events": events,
        "case": str(case),
        "commit": commit,
        "setup": setup,
        "steps": steps,
    }
    (workdir / f"legal-result-n{events}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ok" if ok else " FAIL")


def print_summary(summary: dict[str, Any]) -> None:
    """The table: one row per step."""
    print(f"\nLegal outputs on {summary['events']:,} events (commit {summary['commit']})")
    header = (
        f"{'step':34} {'wall s':>8} {'CPU s':>8} {'events/s':>12} {'ev/CPU s':>10} "
        f"{'peak RSS MB':>12} {'load':>11}"
    )
    print(header)
    print("-" * len(header))
    for s in summary["steps"]:
        rate = f"{s['events_per_s']:,}" if "events_per_s" in s else ""
        per_cpu = f"{s['events_per_cpu_s']:,}" if s.get("events_per_cpu_s") else ""
        rate_mark = _mark(s.get("events_per_s_ok")) if rate else ""
        print(
            f"{s['step']:34} {s['wall_s']:>8.1f} {s['cpu_s']:>8.1f} {rate + rate_mark:>12} "
            f"{per_cpu:>10} {s['rss_tree_peak_bytes'] / 1e6:>9.0f}{_mark(s['rss_ok']):>3} "
            f"{s['load_before']:>5.1f}-{s['load_after']:<5.1f}"
        )
    if "bookmarks" in summary["setup"]:
        b = summary["setup"]["bookmarks"]
        print(f"(setup: {b['bookmarks']:,} bookmarks in {b['wall_s']} s wall, {b['cpu_s']} s CPU)")
    print(
        f"targets: export >= {TARGET_EVENTS_PER_S:,} events/s (wall), "
        f"peak RSS (tree) < {TARGET_RSS_BYTES / 1e6:,.0f} MB"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument(
        "--case", type=Path, help="measure this case folder (copied) instead of the bench case"
    )
    parser.add_argument("--trust", type=Path, help="with --case: the trust store of its bundles")
    parser.add_argument(
        "--steps", nargs="+", choices=STEPS, default=list(STEPS), help="the steps to run"
    )
    parser.add_argument("--html", action="store_true", help="also time the HTML report")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy and outputs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when it ran, 2 when it could not."""
    args = parse_args(argv)
    try:
        summary = bench(args)
    except BenchError as exc:
        log(f"error: {exc}")
        return 2
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
