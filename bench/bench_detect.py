"""Benchmark: ``auditlens detect`` (every shipped rule, the baselines and corroboration) on a
large case.

The issue's target: all of it over the 10^7-event case in under 30 s and 1.5 GB. The case comes
from bench_case.py's data (its sealed bundles, built or reused under ``--workdir``): imported
once into ``WORKDIR/case-nN/detect-case`` (kept between runs), then copied to a scratch folder
per run, since ``detect`` writes its findings into the case. Each run is a subprocess measured
like the others (bench_verify.measure: wall, CPU of the tree, peak RSS); the first run is the
one reported (a cold DuckDB; the case's pages may be in the OS cache from the copy).

Prints the figures and writes ``WORKDIR/detect-result-nN.json``. Exit 0 when it ran (targets
missed are printed), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench_case import DEFAULT_WORKDIR, prepare, run_import
from bench_verify import BenchError, auditlens_command, log, measure

TARGET_WALL_S = 30.0
TARGET_RSS_BYTES = 1_500_000_000


def imported_case(records: int, workdir: Path) -> Path:
    data = prepare(records, workdir)
    case = data.root / "detect-case"
    done = case / "imported.json"
    if not done.is_file():
        log(f"importing {records:,} records into {case} ...")
        run, extra = run_import(data, case)
        done.write_text(json.dumps({"wall_s": run.wall_s, **extra}, default=str) + "\n")
        log(f"  imported in {run.wall_s:.1f} s")
    else:
        log(f"reusing the imported case {case} (delete it to re-import)")
    return case


def bench(records: int, workdir: Path, runs: int) -> dict[str, object]:
    case = imported_case(records, workdir)
    results = []
    for index in range(runs):
        scratch = case.parent / "detect-scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(case, scratch)
        out = case.parent / "detect-out.jsonl"
        started = time.perf_counter()
        run = measure([*auditlens_command(), "detect", str(scratch), "--format", "jsonl"], out)
        if run.exit_code != 0:
            raise BenchError(f"detect ended with exit {run.exit_code}")
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        severities = Counter(r["severity"] for r in rows)
        rules = Counter(r["rule"] for r in rows)
        results.append(
            {
                "run": index,
                "wall_s": round(run.wall_s, 2),
                "cpu_s": round(run.cpu_s, 2),
                "rss_peak_bytes": run.rss_tree_peak,
                "findings": len(rows),
                "by_severity": dict(severities),
                "by_rule": dict(rules),
                "elapsed_s": round(time.perf_counter() - started, 2),
            }
        )
        shutil.rmtree(scratch, ignore_errors=True)
    first = results[0]
    summary = {
        "records": records,
        "runs": results,
        "wall_ok": float(str(first["wall_s"])) <= TARGET_WALL_S,
        "rss_ok": int(str(first["rss_peak_bytes"])) <= TARGET_RSS_BYTES,
    }
    (workdir / f"detect-result-n{records}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per size (default 1)")
    args = parser.parse_args(argv)
    try:
        for records in args.records:
            s = bench(records, args.workdir, args.runs)
            for r in s["runs"]:  # type: ignore[attr-defined]
                print(
                    f"detect over {records:,} events: {r['wall_s']:.1f} s wall "
                    f"(target {TARGET_WALL_S:.0f} s: {'PASS' if s['wall_ok'] else 'FAIL'}), "
                    f"{r['cpu_s']:.1f} s CPU, peak RSS {r['rss_peak_bytes'] / 1e6:,.0f} MB "
                    f"(target 1,500 MB: {'PASS' if s['rss_ok'] else 'FAIL'}), "
                    f"{r['findings']} findings {r['by_severity']}"
                )
    except BenchError as exc:
        log(f"bench_detect: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
