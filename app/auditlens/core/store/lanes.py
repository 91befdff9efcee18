"""Actor swimlanes in two aggregate queries, whatever the number of events.

A swimlane shows an actor's sessions, actions and address changes on one time axis. Reading each
actor's events to draw them costs seconds at 10^7 events (40 lanes of up to 5,000 full rows each,
one query per lane: about 15 s measured with ``bench/bench_gui.py``). A lane is a few hundred
pixels wide, so the marks are computed per time bucket instead: one grouped query gives every
lane's ticks and address changes, one more gives every lane's sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditlens.core.store.case import Case
from auditlens.core.store.queries import refresh_order

# Actions drawn as notable (red) ticks: a bucket holding one of these shows it.
NOTABLE_ACTIONS: tuple[str, ...] = ("EXPORT", "DELETE", "DOWNLOAD", "ROLE_CHANGE")
DEFAULT_BUCKETS = 2000  # ticks per lane at most: more than any screen has pixels across


@dataclass(frozen=True)
class LaneMarks:
    """One actor's marks on the shared time axis.

    ``ticks`` holds one ``(time_ns, action)`` per time bucket with events: the bucket's first
    event time and its action, a notable one (:data:`NOTABLE_ACTIONS`) when the bucket has any.
    ``address_changes`` holds the first address-carrying event time of each bucket where the
    source address differs from the one before (within the bucket or from the previous bucket).
    ``sessions`` holds ``(first_ns, last_ns)`` per session id, in time order.
    """

    actor: str
    sessions: tuple[tuple[int, int], ...]
    ticks: tuple[tuple[int, str], ...]
    address_changes: tuple[int, ...]


def time_span(case: Case, actors: Sequence[str]) -> tuple[int, int] | None:
    """First and last event time over ``actors`` (from the actor summary), or ``None``."""
    refresh_order(case)
    if not actors:
        return None
    lo, hi = case.db.execute(
        "SELECT min(first_ns), max(last_ns) FROM actor_summary "
        "WHERE actor_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(actors)],
    ).fetchall()[0]
    if lo is None or hi is None:
        return None
    return int(lo), int(hi)


def lanes(case: Case, actors: Sequence[str], *, buckets: int = DEFAULT_BUCKETS) -> list[LaneMarks]:
    """The lanes of ``actors`` (in the order given), bucketed ``buckets`` to the time span.

    Raises:
        ValueError: ``buckets`` is not positive.
    """
    if buckets <= 0:
        raise ValueError("buckets must be positive")
    span = time_span(case, actors)
    if span is None:
        return [LaneMarks(a, (), (), ()) for a in actors]
    lo, hi = span
    width = (hi - lo) // buckets + 1
    wanted = list(actors)
    notable = list(NOTABLE_ACTIONS)
    ticks: dict[str, list[tuple[int, str]]] = {a: [] for a in wanted}
    changes: dict[str, list[int]] = {a: [] for a in wanted}
    rows = case.db.execute(
        "WITH b AS (SELECT actor_id, (time_ns - ?) // ? AS bucket, min(time_ns) AS t0, "
        "arg_max(coalesce(action, ''), CASE WHEN list_contains(?::VARCHAR[], action) "
        "THEN 1 ELSE 0 END) AS action, "
        "arg_min(source_ip, ord) FILTER (source_ip IS NOT NULL) AS ip_first, "
        "arg_max(source_ip, ord) FILTER (source_ip IS NOT NULL) AS ip_last, "
        "count(DISTINCT source_ip) AS ips, "
        "min(time_ns) FILTER (source_ip IS NOT NULL) AS ip_t0 "
        "FROM events WHERE actor_id IN (SELECT unnest(?::VARCHAR[])) AND time_ns IS NOT NULL "
        "GROUP BY actor_id, bucket) "
        "SELECT actor_id, t0, action, ip_t0, ips > 1 OR (ip_first IS NOT NULL AND "
        "lag(ip_last IGNORE NULLS) OVER w IS NOT NULL AND "
        "lag(ip_last IGNORE NULLS) OVER w <> ip_first) AS changed "
        "FROM b WINDOW w AS (PARTITION BY actor_id ORDER BY bucket) "
        "ORDER BY actor_id, bucket",
        [lo, width, notable, wanted],
    ).fetchall()
    for actor, t0, action, ip_t0, changed in rows:
        ticks[actor].append((int(t0), str(action)))
        if changed:
            changes[actor].append(int(ip_t0))
    sessions: dict[str, list[tuple[int, int]]] = {a: [] for a in wanted}
    for actor, first, last in case.db.execute(
        "SELECT actor_id, min(time_ns) AS first, max(time_ns) FROM events "
        "WHERE actor_id IN (SELECT unnest(?::VARCHAR[])) AND session_id IS NOT NULL "
        "AND time_ns IS NOT NULL GROUP BY actor_id, session_id ORDER BY actor_id, first",
        [wanted],
    ).fetchall():
        sessions[actor].append((int(first), int(last)))
    return [
        LaneMarks(a, tuple(sessions[a]), tuple(ticks[a]), tuple(changes[a]))
        for a in dict.fromkeys(wanted)
    ]
