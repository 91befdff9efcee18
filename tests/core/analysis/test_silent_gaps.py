"""The gaps of each stream (corroboration.silent_gaps) against their definition.

A gap is two consecutive events of one stream, in the order of time then ``ord``, at least the
given span apart. ``silent_gaps`` finds them from time buckets instead of sorting the case; here
its answer is held to the window over every event that defines it, on evidence with gaps exactly
as long as the span, a millisecond shorter (audit times are milliseconds), across bucket edges,
and with events of equal time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_evidence import MINUTE, MONDAY, SECOND, Evidence

from auditlens.core.analysis.corroboration import silent_gaps
from auditlens.core.store import queries
from auditlens.core.store.case import Case

SPAN = 10 * MINUTE
MS = SECOND // 1000


def by_definition(case: Case, min_gap: int) -> list[tuple[object, ...]]:
    return case.db.execute(
        """SELECT stream_id, prev_ord, prev_t, ord, time_ns, seq, prev_seq, kind FROM (
            SELECT stream_id, ord, time_ns, seq, kind,
                lag(time_ns) OVER w AS prev_t, lag(ord) OVER w AS prev_ord,
                lag(seq) OVER w AS prev_seq
            FROM events WHERE time_ns IS NOT NULL
            WINDOW w AS (PARTITION BY stream_id ORDER BY time_ns, ord))
        WHERE time_ns - prev_t >= ? ORDER BY prev_t, stream_id""",
        [min_gap],
    ).fetchall()


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ev = Evidence()
    start = MONDAY + 9 * 60 * MINUTE  # 09:00, on a bucket edge of every span below
    # Audit: a gap of exactly SPAN, one of SPAN - 1 ms, one from just before a bucket edge to
    # just after the next one, two events at one time on either side of a gap.
    audit_times = [
        start,
        start + SPAN,  # exactly SPAN after: a gap
        start + 2 * SPAN - MS,  # SPAN - 1 ms after: none
        start + 2 * SPAN + 5 * SECOND,
        start + 2 * SPAN + 5 * SECOND,  # the same time twice
        start + 3 * SPAN + 7 * SECOND,  # a gap from the later of the two
        start + 3 * SPAN + 7 * SECOND,
        start + 6 * SPAN - MS,  # 2 * SPAN + more: a gap spanning several buckets
    ]
    for k, t in enumerate(audit_times):
        ev.record(t, f"u-{k}", "READ", "contact", f"ct-{k}")
    # OTLP log records every 4 minutes but one hour off: a second stream with its own gap.
    for k in range(40):
        t = start + k * 4 * MINUTE
        if not start + 60 * MINUTE <= t < start + 90 * MINUTE:
            ev.record(t, "svc", "READ", "contact", f"ct-log-{k}", audit=False, log_roles=[])
    folder = ev.case(tmp_path_factory.mktemp("gaps"))
    with Case.open(folder) as case:
        queries.refresh_order(case)
    return folder


@pytest.mark.parametrize("span", [SPAN, SPAN + 1, SPAN - 1, 5 * SECOND, 20 * MINUTE, 1])
def test_silent_gaps_are_the_gaps_by_definition(case_folder: Path, span: int) -> None:
    with Case.open(case_folder, read_only=True) as case:
        assert silent_gaps(case, span) == by_definition(case, span)


def test_the_gaps_found_are_the_ones_written(case_folder: Path) -> None:
    start = MONDAY + 9 * 60 * MINUTE
    with Case.open(case_folder, read_only=True) as case:
        gaps = [(str(g[0]).rsplit(":", 1)[-1], g[2], g[4]) for g in silent_gaps(case, SPAN)]
    assert gaps == [
        ("audit.jsonl", start, start + SPAN),
        ("audit.jsonl", start + 2 * SPAN + 5 * SECOND, start + 3 * SPAN + 7 * SECOND),
        ("audit.jsonl", start + 3 * SPAN + 7 * SECOND, start + 6 * SPAN - MS),
        ("otel-logs.jsonl", start + 56 * MINUTE, start + 92 * MINUTE),
    ]
