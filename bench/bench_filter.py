"""Benchmark: the filter language's common queries on an imported case (issue 12).

For each filter below, through the core API on the case opened read-only: the count of matches
(``count_events``, what the events view asks first) and the first page of 200 rows
(``events_page`` at offset 0). Each is run once to warm up, then ``--runs`` times; the p50 and p95
wall times and the median CPU time of the count (this process, DuckDB's threads included: steadier
than wall time on a busy machine) are printed. The view's per-filter block counts are cleared
before every run, so each count is a full scan as the first look at a new filter is.

Usage::

    .venv/bin/python bench/bench_case.py --records 1000000     # builds bench/out/case-n1000000
    .venv/bin/python bench/bench_filter.py [--case DIR] [--runs R]

Exit status 0 when it ran, 2 when the case cannot be opened.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CASE = REPO / "bench" / "out" / "case-n1000000" / "case"
PAGE = 200

# What investigators type most, from the issue and the sample case's values (the bench case is
# the sample generator's), and the new forms: case-insensitive ids, CIDR, regex, nested keys.
FILTERS = (
    "kind:log",
    "action:DOWNLOAD",
    "actor_id:agent-003",
    "actor_id:AGENT-003",
    "actor_id=agent-003",
    "source_ip:10.20.1.16",
    "severity:error",
    "integrity:verified",
    "tenant:acme AND kind:audit",
    "resource_id:acme/queue*",
    "denied",
    "attributes.tenant.id:acme",
    "attributes.updated_data.roles:team-lead",
    "source_ip:10.20.0.0/16",
    "actor_id:/agent-00[1-3]/",
)


def _percentile(samples: list[float], q: float) -> float:
    return sorted(samples)[max(0, math.ceil(q * len(samples)) - 1)]


def run(case_dir: Path, runs: int, filters: Sequence[str]) -> None:
    """Time every filter on the case and print one line per filter."""
    from auditlens.core.errors import Error
    from auditlens.core.store import queries
    from auditlens.core.store.case import Case

    with Case.open(case_dir, read_only=True) as case:
        total = int(case.scalar("SELECT count(*) FROM events"))
        print(f"{total:,} events; {runs} runs per filter after one warm-up (ms)")
        print(
            f"{'filter':44} {'matches':>9} {'count p50':>9} {'p95':>7} {'CPU p50':>8} "
            f"{'page p50':>9} {'p95':>7}"
        )
        for text in filters:
            query = queries.EventQuery(text)
            try:
                matches = queries.count_events(case, query)
            except Error as exc:
                print(f"{text:44} error: {exc}")
                continue
            counts: list[float] = []
            cpus: list[float] = []
            pages: list[float] = []
            for _ in range(runs):
                queries._state(case).views.clear()  # a new filter: no cached block counts
                start, cpu = time.perf_counter(), time.process_time()
                queries.count_events(case, query)
                counts.append((time.perf_counter() - start) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                queries._state(case).views.clear()
                start = time.perf_counter()
                queries.events_page(case, query, offset=0, limit=PAGE)
                pages.append((time.perf_counter() - start) * 1000)
            print(
                f"{text:44} {matches:9,} {statistics.median(counts):9.1f} "
                f"{_percentile(counts, 0.95):7.1f} {statistics.median(cpus):8.1f} "
                f"{statistics.median(pages):9.1f} {_percentile(pages, 0.95):7.1f}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--case", type=Path, default=DEFAULT_CASE, help="an imported case folder")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per filter (default 10)")
    parser.add_argument("filters", nargs="*", help="filters to time instead of the built-in list")
    args = parser.parse_args(argv)
    if not (args.case / "case.duckdb").is_file():
        print(f"no case in {args.case}: build one with bench/bench_case.py", file=sys.stderr)
        return 2
    run(args.case, args.runs, args.filters or FILTERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
