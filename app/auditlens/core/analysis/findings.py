"""Findings of the analysis and their table in the case (``detections``).

The case's own schema (store/case.py) holds verification findings in ``findings``; the analysis
keeps its results apart, in ``detections``, created by this module on first use inside the
transaction that writes them (docs/detections.md, "Stored findings"). A detection run replaces
the previous run's rows: the journal keeps the history of runs, the table the latest answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from auditlens.core.query import phrase
from auditlens.core.store.case import Case

SEVERITIES = ("informational", "low", "medium", "high", "critical")

DDL = """CREATE TABLE IF NOT EXISTS detections (
    finding_id BIGINT, rule VARCHAR, title VARCHAR, severity VARCHAR, score DOUBLE,
    actor_id VARCHAR, time_first_ns BIGINT, time_last_ns BIGINT, explanation VARCHAR,
    source VARCHAR, events JSON)"""


_ARROW = pa.schema(
    [
        ("finding_id", pa.int64()),
        ("rule", pa.string()),
        ("title", pa.string()),
        ("severity", pa.string()),
        ("score", pa.float64()),
        ("actor_id", pa.string()),
        ("time_first_ns", pa.int64()),
        ("time_last_ns", pa.int64()),
        ("explanation", pa.string()),
        ("source", pa.string()),
        ("events", pa.string()),
    ]
)


@dataclass(frozen=True)
class EventRef:
    """One event a finding rests on: its place in the evidence and in the case's time order."""

    time_ns: int
    stream_id: str
    seq: int
    ord: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Finding:
    """A detection: what rule or analysis found what, about whom, when, and why it matters.

    Attributes:
        rule: the rule id (or the analysis, ``corroboration``, ``baseline``).
        title: one line for a person.
        severity: one of :data:`SEVERITIES`.
        actor_id: who, when one actor is concerned.
        time_first_ns: the first event's time (Unix ns).
        time_last_ns: the last event's time.
        explanation: in words, why this was flagged, with the baseline it deviates from.
        events: the events it rests on, in time order (every witness of each action).
        score: how far from normal (docs/detections.md, "Scores"), or None for plain rules.
        source: the rule file, or the analysis that made it.
    """

    rule: str
    title: str
    severity: str
    actor_id: str | None
    time_first_ns: int
    time_last_ns: int
    explanation: str
    events: tuple[EventRef, ...] = field(default_factory=tuple)
    score: float | None = None
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain data (times in ns; the CLI formats them)."""
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity,
            "score": self.score,
            "actor_id": self.actor_id,
            "time_first_ns": self.time_first_ns,
            "time_last_ns": self.time_last_ns,
            "explanation": self.explanation,
            "source": self.source,
            "events": [
                {"time_ns": e.time_ns, "stream_id": e.stream_id, "seq": e.seq, "ord": e.ord}
                for e in self.events
            ],
        }


# The filter language's own bound (core.query.parser.MAX_QUERY_LENGTH): a finding whose events
# take more text than this to name is opened by its time span instead (events_filter).
FILTER_LIMIT = 65_536


def _runs(numbers: list[int]) -> list[str]:
    """``1 2 3 7`` as ``[1 TO 3]``, ``7``: consecutive sequence numbers as one range."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"[{start} TO {prev}]")
        if n is not None:
            start = prev = n
    return out


def events_filter(events: tuple[EventRef, ...] | list[EventRef]) -> str | None:
    """A filter selecting exactly ``events`` (by stream and sequence number), or None if none.

    Each stream's sequence numbers are one term, consecutive ones a range:
    ``(stream_id="cc-prod.audit" AND seq:(439 OR [441 TO 443])) OR (...)``. A stream's sequence
    numbers repeat only across epochs (docs/bundle-format.md §2): opened with the finding's time
    span as the range (:func:`events_span`), the filter names the finding's records alone.
    Returns None when the text would pass :data:`FILTER_LIMIT` (thousands of scattered events).
    """
    streams: dict[str, set[int]] = {}
    for e in events:
        streams.setdefault(e.stream_id, set()).add(e.seq)
    if not streams:
        return None
    terms = []
    for stream, seqs in sorted(streams.items()):
        runs = _runs(sorted(seqs))
        seq = runs[0] if len(runs) == 1 else "(" + " OR ".join(runs) + ")"
        terms.append(f"stream_id={phrase(stream)} AND seq:{seq}")
    text = terms[0] if len(terms) == 1 else " OR ".join(f"({t})" for t in terms)
    return text if len(text) <= FILTER_LIMIT else None


def streams_filter(events: tuple[EventRef, ...] | list[EventRef]) -> str:
    """A filter selecting every event of the streams of ``events`` (with a time span, a superset).

    What opens a finding whose records :func:`events_filter` cannot name in one filter.
    """
    return " OR ".join(f"stream_id={phrase(s)}" for s in sorted({e.stream_id for e in events}))


def events_span(finding: Finding) -> tuple[int, int]:
    """The time range (from, to: exclusive) holding every event of ``finding``."""
    times = [e.time_ns for e in finding.events] or [finding.time_first_ns, finding.time_last_ns]
    return min(times), max(times) + 1


def severity_rank(severity: str) -> int:
    """0 (informational) .. 4 (critical)."""
    return SEVERITIES.index(severity)


def ensure_table(case: Case) -> None:
    """Create ``detections`` if the case has none (inside the caller's transaction)."""
    case.db.execute(DDL)


def store(case: Case, found: list[Finding]) -> None:
    """Replace the stored findings with ``found``, in one transaction."""
    db = case.db
    db.execute("BEGIN TRANSACTION")
    try:
        ensure_table(case)
        db.execute("DELETE FROM detections")
        # One Arrow table, one INSERT: executemany costs a statement per finding (measured on
        # 4,108 findings of a 10^6-event case: 19 s under load).
        table = pa.table(
            {
                "finding_id": pa.array(range(len(found)), pa.int64()),
                "rule": [f.rule for f in found],
                "title": [f.title for f in found],
                "severity": [f.severity for f in found],
                "score": pa.array([f.score for f in found], pa.float64()),
                "actor_id": pa.array([f.actor_id for f in found], pa.string()),
                "time_first_ns": pa.array([f.time_first_ns for f in found], pa.int64()),
                "time_last_ns": pa.array([f.time_last_ns for f in found], pa.int64()),
                "explanation": [f.explanation for f in found],
                "source": [f.source for f in found],
                "events": [
                    json.dumps(
                        [[e.time_ns, e.stream_id, e.seq, e.ord, e.kind] for e in f.events],
                        separators=(",", ":"),
                    )
                    for f in found
                ],
            },
            schema=_ARROW,
        )
        if found:
            db.register("al_new_detections", table)
            try:
                db.execute("INSERT INTO detections SELECT * FROM al_new_detections")
            finally:
                db.unregister("al_new_detections")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _stored(case: Case) -> bool:
    """Whether a detection run stored its findings (the table is made by the first run)."""
    return bool(
        case.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'detections' "
            "AND database_name = current_database()"
        )
    )


def stored_count(case: Case) -> int | None:
    """How many findings the last detection run stored; None if detection never ran."""
    if not _stored(case):
        return None
    return int(case.scalar("SELECT count(*) FROM detections"))


def load(case: Case) -> list[Finding]:
    """The findings of the last detection run (none if detection never ran), worst first."""
    if not _stored(case):
        return []
    rows = case.db.execute(
        "SELECT rule, title, severity, score, actor_id, time_first_ns, time_last_ns, "
        "explanation, source, events FROM detections ORDER BY finding_id"
    ).fetchall()
    return [
        Finding(
            rule=r[0],
            title=r[1],
            severity=r[2],
            score=r[3],
            actor_id=r[4],
            time_first_ns=int(r[5]),
            time_last_ns=int(r[6]),
            explanation=r[7],
            source=r[8],
            events=tuple(
                EventRef(int(t), str(s), int(q), o, k) for t, s, q, o, k in json.loads(r[9])
            ),
        )
        for r in rows
    ]


def ordered(found: list[Finding]) -> list[Finding]:
    """Worst first, then by time, then by rule: the order findings are stored and listed in."""
    return sorted(found, key=lambda f: (-severity_rank(f.severity), f.time_first_ns, f.rule))
