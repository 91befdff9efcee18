"""Cross-stream corroboration: one action, several witnesses (docs/detections.md, "Corroboration").

The platform records an examiner-relevant action up to three times: the audit logger's record,
the OTLP log bridge's copy and the span of the request. They are linked into one *action* when
they share actor, action and resource and lie within :data:`LINK_WINDOW_NS` of each other (the
audit record has no trace id; the log and the span also share trace and span id, which the
window respects: they are written within milliseconds).

Invariants:
* ``al_witness`` (a temporary table of the connection) maps every event that names an action to
  its action's key, the ``ord`` of its first witness in time order (the smallest among its
  witnesses when the order is current); events naming no action are their own action (key =
  their ``ord``).
* Expectations are learned from the case: stream B is expected to witness what stream A
  witnesses when, over the whole case, at least :data:`EXPECTED_RATE` of A's actions are also in
  B. An action that A has and B lacks is then a missing witness.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb

from auditlens.core.analysis.findings import EventRef, Finding
from auditlens.core.store.case import Case

# The audit logger stamps milliseconds at the end of a request; a span starts at its beginning.
# Measured on the sample: witnesses of one action lie within 0.1 s; two seconds leaves room for
# a slow request while two downloads of one recording by one person rarely fall inside it.
LINK_WINDOW_NS = 2 * 10**9
EXPECTED_RATE = 0.9
# Fewer actions of a type than this say nothing about which stream records it.
MIN_TYPE_ACTIONS = 3
HOUR_NS = 3_600 * 10**9
# A silence is judged by the missing actions only from this many on (fewer: the events' rate).
MIN_MISSING = 3
# Missing witnesses of one actor less than this far apart are one finding.
MISSING_GROUP_NS = 30 * 60 * 10**9


def build_witnesses(case: Case) -> int:
    """Create ``al_witness`` (ord, key, stream_id, action, time_ns) for events naming an action.

    Returns:
        The number of actions (distinct keys) found.
    """
    db = case.db
    # Islands: within one (actor, action, resource), a new action starts where the time since the
    # previous witness exceeds the window. Its key is the ord of its first witness in (time, ord)
    # order, carried forward: the smallest ord of the island, since ord is the time order
    # (queries.refresh_order, which the detection run calls first). Two window passes with one
    # partitioning and order; a third, partitioned by island for min(ord), cost a sort of every
    # action's witnesses more.
    db.execute(
        """CREATE OR REPLACE TEMP TABLE al_witness AS
        WITH a AS (
            SELECT ord, time_ns, stream_id, actor_id, action, coalesce(resource_id, '') AS r,
                CASE WHEN time_ns - lag(time_ns) OVER w <= ? THEN NULL ELSE ord END AS start
            FROM events WHERE action IS NOT NULL AND time_ns IS NOT NULL
            WINDOW w AS (PARTITION BY actor_id, action, coalesce(resource_id, '')
                ORDER BY time_ns, ord)
        )
        SELECT ord, last_value(start IGNORE NULLS) OVER (PARTITION BY actor_id, action, r
                ORDER BY time_ns, ord ROWS UNBOUNDED PRECEDING) AS key,
            stream_id, action, time_ns
        FROM a""",
        [LINK_WINDOW_NS],
    )
    # Which evidence this connection's al_witness links, so expectations() knows it is current.
    db.execute(
        "CREATE OR REPLACE TEMP TABLE al_witness_of AS SELECT ? AS evidence", [_evidence(case)]
    )
    return int(case.scalar("SELECT count(DISTINCT key) FROM al_witness") or 0)


@dataclass(frozen=True)
class Expectation:
    """Stream ``expected`` witnesses ``rate`` of the ``actions`` actions stream ``seen`` has.

    ``covered`` are the action types of ``seen`` that ``expected`` witnessed at least once in the
    case: a stream never expected to record a kind of action (the traces record no failed
    login) is not blamed for lacking it. The rate is over the covered types.
    """

    seen: str
    expected: str
    actions: int
    rate: float
    covered: tuple[str, ...]


# The expectations of the evidence a case holds, by :func:`_evidence`: learning them orders every
# action of the case (4.5 s of CPU at 10^7 events). Keyed by what they are computed from, an
# entry cannot go stale (an import changes the key) nor answer for another case (a case holding
# the same evidence has the same expectations); the last few are kept, for the cases open at once.
_EXPECTATIONS: OrderedDict[str, list[Expectation]] = OrderedDict()
_EXPECTATIONS_KEPT = 4
# The workbench asks from its workers' threads while a detection run may learn: the cache's
# order is changed under this lock (the learning itself runs outside it).
_EXPECTATIONS_LOCK = threading.Lock()


def _evidence(case: Case) -> str:
    """What the case's events are made of: its inputs' SHA-256 digests and its event count.

    A case only changes by importing inputs (docs/case.md, "Importing"), and an input's events
    are a function of its bytes.
    """
    inputs, digests = case.db.execute(
        "SELECT count(*), string_agg(sha256, ',' ORDER BY sha256) FROM inputs"
    ).fetchone() or (0, None)
    events = case.scalar("SELECT count(*) FROM events")
    return hashlib.sha256(f"{inputs}:{events}:{digests or ''}".encode()).hexdigest()


def _witnessed(case: Case) -> str | None:
    """The evidence this connection's ``al_witness`` was built from (None before any build)."""
    try:
        return str(case.scalar("SELECT evidence FROM al_witness_of"))
    except duckdb.CatalogException:
        return None


def expectations(case: Case) -> list[Expectation]:
    """Which stream is expected to witness which other stream's actions, learned from the case.

    Computed once per evidence the case holds, from ``al_witness``: the one this connection
    built for this evidence (a detection run's), else built here.
    """
    key = _evidence(case)
    with _EXPECTATIONS_LOCK:
        found = _EXPECTATIONS.get(key)
        if found is not None:
            _EXPECTATIONS.move_to_end(key)
            return found
    if _witnessed(case) != key:
        build_witnesses(case)
    found = _expectations(case)
    with _EXPECTATIONS_LOCK:
        _EXPECTATIONS[key] = found
        while len(_EXPECTATIONS) > _EXPECTATIONS_KEPT:
            _EXPECTATIONS.popitem(last=False)
    return found


def _expectations(case: Case) -> list[Expectation]:
    """:func:`expectations`, computed.

    Per action type, the share of ``seen``'s actions that ``expected`` also holds is taken in
    each hour, and the median over the hours is the expectation: an incident that silences a
    stream for an hour or two does not lower it (docs/detections.md, "Corroboration").
    """
    rows = case.db.execute(
        f"""WITH s AS (SELECT key, stream_id, any_value(action) AS action,
                       min(time_ns) // {HOUR_NS} AS h FROM al_witness GROUP BY key, stream_id),
        pairs AS (SELECT a.stream_id AS seen, b.stream_id AS exp, a.action, a.h,
                         count(*) AS both_
                  FROM s a JOIN s b ON a.key = b.key AND a.stream_id <> b.stream_id
                  GROUP BY ALL),
        tot AS (SELECT stream_id AS seen, action, h, count(*) AS n FROM s GROUP BY ALL),
        streams AS (SELECT DISTINCT stream_id AS exp FROM s)
        SELECT t.seen, x.exp, t.action, t.n, coalesce(p.both_, 0)
        FROM tot t JOIN streams x ON x.exp <> t.seen
        LEFT JOIN pairs p ON p.seen = t.seen AND p.exp = x.exp AND p.action = t.action
            AND p.h = t.h
        ORDER BY 1, 2, 3"""  # noqa: S608
    ).fetchall()
    hourly: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for seen, exp, action, n, both in rows:
        hourly[str(seen), str(exp), str(action)].append((int(n), int(both)))
    covered: dict[tuple[str, str], list[tuple[str, int, int, float]]] = defaultdict(list)
    for (seen, exp, action), hours in hourly.items():
        total = sum(n for n, _ in hours)
        rates = sorted(both / n for n, both in hours)
        median = rates[len(rates) // 2]
        if total >= MIN_TYPE_ACTIONS and median >= EXPECTED_RATE:
            covered[seen, exp].append((action, total, sum(b for _, b in hours), median))
    out = []
    for (seen, exp), items in covered.items():
        total = sum(n for _, n, _, _ in items)
        both = sum(b for _, _, b, _ in items)
        out.append(Expectation(seen, exp, total, both / total, tuple(a for a, *_ in items)))
    return out


def _miss_rate(exp: Expectation) -> float:
    """How often ``exp.expected`` misses one of ``exp.seen``'s actions.

    At least one in ``actions + 1``: a stream that missed nothing yet may still miss one.
    """
    return max(1 - exp.rate, 1 / (exp.actions + 1))


def missing_witnesses(case: Case, *, level: str = "high") -> list[Finding]:
    """Actions a stream has and another, expected to have them, lacks; grouped in time."""
    db = case.db
    lacking: dict[str, dict[int, list[tuple[Any, ...]]]] = defaultdict(dict)
    basis: dict[str, list[Expectation]] = defaultdict(list)
    for exp in expectations(case):
        basis[exp.expected].append(exp)
        rows = db.execute(
            """WITH has AS (SELECT DISTINCT key FROM al_witness
                            WHERE stream_id = ? AND list_contains(?, action)),
            lacks AS (SELECT key FROM has
                      EXCEPT SELECT key FROM al_witness WHERE stream_id = ?)
            SELECT w.key, e.ord, e.time_ns, e.stream_id, e.seq, e.kind, e.actor_id, e.action
            FROM lacks JOIN al_witness w ON w.key = lacks.key JOIN events e ON e.ord = w.ord
            ORDER BY w.key, e.time_ns, e.ord""",
            [exp.seen, list(exp.covered), exp.expected],
        ).fetchall()
        for row in rows:
            witnesses = lacking[exp.expected].setdefault(int(row[0]), [])
            if row not in witnesses:
                witnesses.append(row)
    found: list[Finding] = []
    for expected, actions in lacking.items():
        ordered = sorted(actions.values(), key=lambda ws: min(int(w[2]) for w in ws))
        group: list[list[tuple[Any, ...]]] = []
        for witnesses in ordered:
            start = min(int(w[2]) for w in witnesses)
            if group and start - max(int(w[2]) for w in group[-1]) > MISSING_GROUP_NS:
                found.append(_missing(expected, basis[expected], group, level))
                group = []
            group.append(witnesses)
        if group:
            found.append(_missing(expected, basis[expected], group, level))
    return found


def _missing(
    expected: str, basis: list[Expectation], group: list[list[tuple[Any, ...]]], level: str
) -> Finding:
    events = sorted(
        {
            int(w[1]): EventRef(int(w[2]), str(w[3]), int(w[4]), int(w[1]), w[5])
            for ws in group
            for w in ws
        }.values(),
        key=lambda e: (e.time_ns, e.ord or 0),
    )
    per_actor: dict[str, int] = defaultdict(int)
    verbs: dict[str, int] = defaultdict(int)
    for ws in group:
        per_actor[str(ws[0][6])] += 1
        verbs[str(ws[0][7])] += 1
    what = ", ".join(f"{n} {a}" for a, n in sorted(verbs.items(), key=lambda kv: -kv[1]))
    who = ", ".join(f"{a} ({n})" for a, n in sorted(per_actor.items(), key=lambda kv: -kv[1]))
    count = len(group)
    seen = sorted({e.stream_id for e in events})
    rates = "; ".join(
        f"{b.expected} holds {b.rate:.1%} of the {b.actions:,} such actions {b.seen} records"
        for b in basis
    )
    worst = min((_miss_rate(b) for b in basis), default=0.1)
    # Chance that this many actions all miss the stream if misses were independent at the
    # case's own rate: the score is its negative log10.
    score = round(-count * math.log10(worst), 1)
    top = max(per_actor.items(), key=lambda kv: kv[1])[0]
    return Finding(
        rule="missing-witness",
        title=f"{count} action(s) missing from {expected}",
        severity=level if count >= 2 else "low",
        actor_id=top if top != "None" else None,
        time_first_ns=events[0].time_ns,
        time_last_ns=events[-1].time_ns,
        explanation=(
            f"{what} recorded in {', '.join(seen)} are missing from {expected}; by actor: "
            f"{who}. Over the case, {rates}"
        ),
        events=tuple(events),
        score=score,
        source="corroboration",
    )


def stream_silences(
    case: Case, *, min_gap_ns: int = 10 * 60 * 10**9, max_p: float = 1e-3, level: str = "high"
) -> list[Finding]:
    """Stretches where one stream holds nothing while the others go on.

    For each gap of at least ``min_gap_ns`` between consecutive events of a stream:

    * the actions the other streams recorded inside the gap that this stream is expected to
      witness (:func:`expectations`) would each be in it with their expected rate; the chance
      that none is is the product of the misses. Below ``max_p``: a finding.
    * Without such actions, the other streams' events inside the gap times the stream's share
      of the case is the count it would have held (Poisson); telemetry comes in bursts (a call
      is dozens of spans), so this needs a chance below ``max_p`` squared.
    """
    db = case.db
    streams = dict(
        db.execute(
            "SELECT stream_id, count(*) FROM events WHERE time_ns IS NOT NULL GROUP BY stream_id"
        ).fetchall()
    )
    if len(streams) < 2:
        return []
    total = sum(int(v) for v in streams.values())
    expected_of: dict[str, list[Expectation]] = defaultdict(list)
    for exp in expectations(case):
        expected_of[exp.expected].append(exp)
    gaps = silent_gaps(case, min_gap_ns)
    lacked = _lacked_in_gaps(case, gaps, expected_of)
    found: list[Finding] = []
    for gid, (stream, prev_ord, prev_t, ord_, time_ns, seq, prev_seq, kind) in enumerate(gaps):
        share = int(streams[stream]) / total
        others = int(
            case.scalar(
                "SELECT count(*) FROM events WHERE time_ns > ? AND time_ns < ? AND stream_id <> ?",
                [prev_t, time_ns, stream],
            )
        )
        log_p = 0.0
        witnessed = 0
        for exp in expected_of.get(str(stream), []):
            n = lacked.get((gid, exp.seen), 0)
            witnessed = max(witnessed, n)
            log_p = min(log_p, n * math.log(_miss_rate(exp)))
        minutes = (int(time_ns) - int(prev_t)) / 60e9
        if witnessed >= MIN_MISSING:
            p_none = math.exp(log_p)
            basis = (
                f"the other streams recorded {witnessed:,} actions of kinds it holds "
                f"{max(e.rate for e in expected_of[str(stream)]):.0%} of elsewhere"
            )
            if p_none >= max_p:
                continue
        elif not witnessed:
            expected = others * share / (1 - share)
            p_none = math.exp(-expected)
            basis = (
                f"at its share of the case ({share:.1%}) it would have held about {expected:.0f}"
            )
            if p_none >= max_p * max_p:
                continue
        else:
            continue
        found.append(
            Finding(
                rule="stream-silence",
                title=f"{stream} silent for {minutes:.0f} minutes while other telemetry went on",
                severity=level,
                actor_id=None,
                time_first_ns=int(prev_t),
                time_last_ns=int(time_ns),
                explanation=(
                    f"{stream} holds no event for {minutes:.0f} minutes (after seq {prev_seq}, "
                    f"before seq {seq}) while the other streams recorded {others:,} events; "
                    f"{basis}; none has a chance of {p_none:.1e}"
                ),
                events=(
                    EventRef(int(prev_t), str(stream), int(prev_seq), int(prev_ord), kind),
                    EventRef(int(time_ns), str(stream), int(seq), int(ord_), kind),
                ),
                score=round(-math.log10(max(p_none, 1e-300)), 1),
                source="corroboration",
            )
        )
    return found


def silent_gaps(case: Case, min_gap_ns: int) -> list[tuple[Any, ...]]:
    """Each stream's gaps of at least ``min_gap_ns`` between consecutive events (time, ord).

    Rows ``(stream_id, prev_ord, prev_t, ord, time_ns, seq, prev_seq, kind)``, ``kind`` of the
    event after the gap, ordered by the gap's start. Found without sorting the case: the events
    are grouped in time buckets of half the gap (one hash aggregation keeping each bucket's first
    and last event by time and ord), and two consecutive events of a stream are either in one
    bucket, less than ``min_gap_ns`` apart (integer division truncates toward zero: the bucket
    around 0 spans two widths), or the last of a non-empty bucket and the first of the next
    non-empty one. At 10^7 events: 9.6 s of CPU for the window over every event, sorted per
    stream, this replaces; about 1 s for the buckets (measured).
    """
    width = max(min_gap_ns // 2, 1)
    found = case.db.execute(
        """WITH b AS (
            SELECT stream_id, time_ns // ? AS b, min({'t': time_ns, 'o': ord}) AS first,
                max({'t': time_ns, 'o': ord}) AS last
            FROM events WHERE time_ns IS NOT NULL GROUP BY ALL),
        p AS (SELECT stream_id, first, lag(last) OVER (PARTITION BY stream_id ORDER BY b) AS prev
              FROM b)
        SELECT stream_id, prev.o, prev.t, first.o, first.t FROM p
        WHERE first.t - prev.t >= ? ORDER BY prev.t, stream_id""",
        [width, min_gap_ns],
    ).fetchall()
    if not found:
        return []
    ords = [int(g[1]) for g in found] + [int(g[3]) for g in found]
    facts = {
        int(o): (seq, kind)
        for o, seq, kind in case.db.execute(
            "SELECT ord, seq, kind FROM events WHERE ord IN (SELECT unnest(?))", [ords]
        ).fetchall()
    }
    return [
        (
            stream,
            prev_ord,
            prev_t,
            ord_,
            time_ns,
            facts[int(ord_)][0],
            facts[int(prev_ord)][0],
            facts[int(ord_)][1],
        )
        for stream, prev_ord, prev_t, ord_, time_ns in found
    ]


def _lacked_in_gaps(
    case: Case, gaps: list[tuple[Any, ...]], expected_of: dict[str, list[Expectation]]
) -> dict[tuple[int, str], int]:
    """Actions a gap's stream lacks, per gap (its index in ``gaps``) and other stream ``seen``.

    Counted are the actions ``seen`` recorded inside the gap, of the kinds the gap's stream is
    expected to witness, that the gap's stream lacks. One query per expectation for all gaps:
    each witness of ``seen`` is placed in the gap of the expected stream that starts last before
    it (an ASOF join; a stream's gaps never overlap) and kept when it lies before that gap's
    end; a query per gap and expectation read every witness each time, a cost growing with the
    gaps (a case of many quiet nights). An action's witnesses lie within LINK_WINDOW_NS of each
    other: the stream's own witnesses are looked for near the gap only (30 windows either side).
    """
    lacked: dict[tuple[int, str], int] = {}
    if not gaps or not any(expected_of.get(str(g[0])) for g in gaps):
        return lacked
    db = case.db
    db.execute(
        "CREATE OR REPLACE TEMP TABLE al_gap (gid BIGINT, stream_id VARCHAR, prev_t BIGINT, "
        "t BIGINT)"
    )
    db.executemany(
        "INSERT INTO al_gap VALUES (?, ?, ?, ?)",
        [(gid, str(g[0]), int(g[2]), int(g[4])) for gid, g in enumerate(gaps)],
    )
    margin = 30 * LINK_WINDOW_NS
    for stream, exps in expected_of.items():
        for exp in exps:
            rows = db.execute(
                """WITH inside AS (
                    SELECT g.gid, g.prev_t, g.t, w.key, w.time_ns
                    FROM (SELECT key, time_ns FROM al_witness
                          WHERE stream_id = ? AND list_contains(?, action)) w
                    ASOF JOIN (SELECT * FROM al_gap WHERE stream_id = ?) g
                      ON w.time_ns > g.prev_t
                    WHERE w.time_ns < g.t)
                SELECT gid, count(DISTINCT key) FROM inside i
                WHERE NOT EXISTS (
                    SELECT 1 FROM al_witness o WHERE o.key = i.key AND o.stream_id = ?
                    AND o.time_ns BETWEEN i.prev_t - ? AND i.t + ?)
                GROUP BY gid""",
                [exp.seen, list(exp.covered), stream, stream, margin, margin],
            ).fetchall()
            for gid, count in rows:
                lacked[int(gid), exp.seen] = int(count)
    return lacked


def witnesses(case: Case, ord_: int) -> list[dict[str, object]]:
    """The witnesses of the action the event at ``ord_`` belongs to (itself included).

    For the workbench: linked on demand by the rule of :func:`build_witnesses` (same actor,
    action and resource, within :data:`LINK_WINDOW_NS` of this event), without a detection run.
    """
    rows = case.db.execute(
        """SELECT b.ord, b.time_ns, b.kind, b.stream_id, b.seq, b.trace_id, b.span_id
        FROM events a JOIN events b
          ON b.time_ns BETWEEN a.time_ns - ? AND a.time_ns + ?
         AND b.action IS NOT DISTINCT FROM a.action AND b.actor_id IS NOT DISTINCT FROM a.actor_id
         AND coalesce(b.resource_id, '') = coalesce(a.resource_id, '')
        WHERE a.ord = ? AND a.action IS NOT NULL ORDER BY b.time_ns, b.ord""",
        [LINK_WINDOW_NS, LINK_WINDOW_NS, ord_],
    ).fetchall()
    return [dict(zip(_WITNESS_COLUMNS, row, strict=True)) for row in rows]


# What the workbench shows of a witness (the columns :func:`witnesses` selects, in order).
_WITNESS_COLUMNS = ("ord", "time_ns", "kind", "stream_id", "seq", "trace_id", "span_id")


@dataclass(frozen=True)
class Missing:
    """A stream expected to witness an action and lacking it, with the case's rate as reason."""

    stream_id: str
    reason: str


@dataclass(frozen=True)
class ActionWitnesses:
    """One action as the examiner sees it: its witnesses and the streams that should have one.

    Attributes:
        action: the normalized action (None when the event names none: it is its own witness).
        actor_id: who acted.
        resource_id: what it acted on.
        witnesses: the events recording it (:func:`witnesses`), the asked one included.
        missing: streams expected to witness such an action (:func:`expectations`) lacking it.
    """

    action: str | None
    actor_id: str | None
    resource_id: str | None
    witnesses: list[dict[str, object]]
    missing: list[Missing]


def action_witnesses(case: Case, stream_id: str, seq: int, time_ns: int) -> ActionWitnesses | None:
    """The action of the record ``seq`` of ``stream_id`` at ``time_ns``, with its witnesses.

    The record is named by its place in the evidence, not its ``ord`` (which moves with each
    import); its time tells apart the epochs of a stream. None when the case holds no such
    record. ``missing`` names each stream that, over the case, witnesses at least
    :data:`EXPECTED_RATE` of such actions recorded by a stream present here, and lacks this one.
    """
    row = case.db.execute(
        "SELECT ord, time_ns, kind, stream_id, seq, trace_id, span_id, action, actor_id, "
        "resource_id FROM events WHERE stream_id = ? AND seq = ? AND time_ns = ? "
        "ORDER BY ord LIMIT 1",
        [stream_id, seq, time_ns],
    ).fetchone()
    if row is None:
        return None
    own = dict(zip(_WITNESS_COLUMNS, row, strict=False))
    action, actor, resource = row[len(_WITNESS_COLUMNS) :]
    # An event naming no action is its own sole witness.
    found = witnesses(case, int(row[0])) if action is not None else []
    found = found or [own]
    missing: list[Missing] = []
    if action is not None:
        present = {str(w["stream_id"]) for w in found}
        for exp in expectations(case):
            if exp.seen in present and action in exp.covered and exp.expected not in present:
                if exp.expected in {m.stream_id for m in missing}:
                    continue
                missing.append(
                    Missing(
                        exp.expected,
                        f"{exp.expected} holds {exp.rate:.1%} of the {exp.actions:,} such "
                        f"actions {exp.seen} records, and not this one",
                    )
                )
    return ActionWitnesses(
        None if action is None else str(action),
        None if actor is None else str(actor),
        None if resource is None else str(resource),
        found,
        missing,
    )
