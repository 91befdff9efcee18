"""What is normal, per actor and per role, learned from the case itself.

The method is in docs/detections.md, "Baselines".

Nothing leaves the machine and nothing is assumed from outside the case: an actor's hours,
addresses, action mix and rates are read from its own events, a role's from its members' (the
role an actor holds in most of its events that carry one). Hours are UTC hours of the day.
Invariants: every function here reads the case and returns plain values; the detection engine
(detect.py) turns deviations into findings and explains them with these figures.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from auditlens.core.store.case import Case

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9


@dataclass(frozen=True)
class ActorBaseline:
    """One actor's normal, as the case shows it.

    Attributes:
        actor_id: the actor.
        role: the role it holds in most of its events that name one (None if none do).
        events: its events in the case.
        first_ns: its first event's time.
        last_ns: its last event's time.
        active_days: UTC days with at least one of its events.
        hours: per UTC hour of the day, on how many days it acted in that hour.
        addresses: per source address, (first use, events).
        actions: per action, how many events name it.
    """

    actor_id: str
    role: str | None
    events: int
    first_ns: int
    last_ns: int
    active_days: int
    hours: dict[int, int] = field(default_factory=dict)
    addresses: dict[str, tuple[int, int]] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)

    def usual_hours(self) -> str:
        """The hours it acts in on at least a quarter of its active days, as ``07-18``."""
        if not self.hours:
            return "none"
        floor = max(1, math.ceil(self.active_days / 4))
        hours = sorted(h for h, d in self.hours.items() if d >= floor) or sorted(self.hours)
        return _ranges(hours)


def hour_ranges(hours: list[int]) -> str:
    """Sorted hours as ``01, 07-18``."""
    return _ranges(hours) if hours else "none"


def _ranges(hours: list[int]) -> str:
    parts: list[str] = []
    start = prev = hours[0]
    for h in [*hours[1:], None]:
        if h is not None and h == prev + 1:
            prev = h
            continue
        parts.append(f"{start:02d}" if start == prev else f"{start:02d}-{prev:02d}")
        if h is not None:
            start = prev = h
    return ", ".join(parts)


def roles(case: Case) -> dict[str, str]:
    """Each actor's role: the first role of the role list it holds in most of its events."""
    rows = case.db.execute(
        """SELECT actor_id, arg_max(split_part(actor_role, ',', 1), n) FROM (
            SELECT actor_id, actor_role, count(*) AS n FROM events
            WHERE actor_id IS NOT NULL AND actor_role IS NOT NULL GROUP BY ALL)
        GROUP BY actor_id"""
    ).fetchall()
    return {str(a): str(r) for a, r in rows}


def peer_hour_shares(case: Case, roles_of: dict[str, str]) -> dict[str, dict[int, float]]:
    """Per actor, the share of its role's events in each UTC hour, the actor's own left out.

    Actors whose records name no role form one group. An actor alone in its role gets none.
    """
    rows = case.db.execute(
        f"""SELECT actor_id, (time_ns % {DAY_NS}) // {HOUR_NS} AS h, count(*) FROM events
        WHERE actor_id IS NOT NULL AND time_ns IS NOT NULL GROUP BY ALL"""  # noqa: S608
    ).fetchall()
    own: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    role_counts: dict[str | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for actor, hour, n in rows:
        own[str(actor)][int(hour)] += int(n)
        role_counts[roles_of.get(str(actor))][int(hour)] += int(n)
    shares: dict[str, dict[int, float]] = {}
    for actor, mine in own.items():
        peers = role_counts[roles_of.get(actor)]
        total = sum(peers.values()) - sum(mine.values())
        if total > 0:
            shares[actor] = {h: (n - mine.get(h, 0)) / total for h, n in peers.items()}
    return shares


def active_hours(case: Case) -> dict[str, dict[int, set[int]]]:
    """Per actor, per UTC day number, the UTC hours it acted in."""
    rows = case.db.execute(
        f"""SELECT actor_id, time_ns // {DAY_NS} AS day, (time_ns % {DAY_NS}) // {HOUR_NS} AS h
        FROM events WHERE actor_id IS NOT NULL AND time_ns IS NOT NULL GROUP BY ALL"""  # noqa: S608
    ).fetchall()
    out: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for actor, day, hour in rows:
        out[str(actor)][int(day)].add(int(hour))
    return out


def first_uses(case: Case, group: str, value: str) -> dict[tuple[Any, Any], tuple[int, int]]:
    """Per (group value, field value): the first time and number of events (both plain columns).

    ``group`` and ``value`` come from a validated rule (sigma._plain), never from free text.
    """
    rows = case.db.execute(
        f"""SELECT {group}, {value}, min(time_ns), count(*) FROM events
        WHERE {group} IS NOT NULL AND {value} IS NOT NULL AND time_ns IS NOT NULL
        GROUP BY ALL"""  # noqa: S608
    ).fetchall()
    return {(g, v): (int(t), int(n)) for g, v, t, n in rows}


def group_spans(case: Case, group: str) -> dict[Any, tuple[int, int, int]]:
    """Per group value: first time, last time and events."""
    rows = case.db.execute(
        f"""SELECT {group}, min(time_ns), max(time_ns), count(*) FROM events
        WHERE {group} IS NOT NULL AND time_ns IS NOT NULL GROUP BY ALL"""  # noqa: S608
    ).fetchall()
    return {g: (int(a), int(b), int(n)) for g, a, b, n in rows}


def percentile(values: list[int], q: float) -> int:
    """The ``q`` quantile (0..1) of ``values`` by the nearest-rank method; 0 for none."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def counted_percentile(counts: Counter[int], q: float) -> int:
    """The ``q`` quantile (nearest rank) of values given as value -> how many times."""
    total = sum(counts.values())
    if total <= 0:
        return 0
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


def window_counts(times: list[int], span_ns: int) -> list[int]:
    """Counts per tumbling window of ``span_ns`` that hold at least one of ``times``."""
    counts: dict[int, int] = defaultdict(int)
    for t in times:
        counts[t // span_ns] += 1
    return list(counts.values())


def profile(case: Case, actor_id: str) -> ActorBaseline | None:
    """One actor's baseline (for the workbench's actor view), or None if it has no events."""
    db = case.db
    head = db.execute(
        f"""SELECT count(*), min(time_ns), max(time_ns), count(DISTINCT time_ns // {DAY_NS})
        FROM events WHERE actor_id = ?""",  # noqa: S608
        [actor_id],
    ).fetchall()[0]
    if not head[0]:
        return None
    hours: dict[int, int] = dict(
        db.execute(
            f"""SELECT h, count(DISTINCT d) FROM (SELECT (time_ns % {DAY_NS}) // {HOUR_NS} AS h,
            time_ns // {DAY_NS} AS d FROM events WHERE actor_id = ?) GROUP BY h""",  # noqa: S608
            [actor_id],
        ).fetchall()
    )
    addresses = {
        str(ip): (int(t), int(n))
        for ip, t, n in db.execute(
            "SELECT source_ip, min(time_ns), count(*) FROM events "
            "WHERE actor_id = ? AND source_ip IS NOT NULL GROUP BY 1",
            [actor_id],
        ).fetchall()
    }
    actions = {
        str(a): int(n)
        for a, n in db.execute(
            "SELECT action, count(*) FROM events WHERE actor_id = ? AND action IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC",
            [actor_id],
        ).fetchall()
    }
    role = case.scalar(
        "SELECT split_part(actor_role, ',', 1) FROM events WHERE actor_id = ? "
        "AND actor_role IS NOT NULL GROUP BY actor_role ORDER BY count(*) DESC LIMIT 1",
        [actor_id],
    )
    return ActorBaseline(
        actor_id,
        None if role is None else str(role),
        int(head[0]),
        int(head[1]),
        int(head[2]),
        int(head[3]),
        {int(h): int(d) for h, d in hours.items()},
        addresses,
        actions,
    )
