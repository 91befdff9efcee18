"""Read-only questions investigators ask of a case (issue: the case, point 4).

All queries read ``events``, where ``ord`` is each event's position in (time, stream, sequence)
order over the whole case. Each input's rows are stored in time order, so DuckDB's zone maps make
"row k of the timeline" and time ranges cheap (plain OFFSET paging is the measured trap:
docs/architecture.md §8). ``ord`` is refreshed after imports (:func:`refresh_order`) and checked
before queries.

Filtered pages at a large offset use block counts: one scan counts matches per block of ``ord``,
the block holding the wanted row is found, and only that block is read with a small offset. The
counts are kept per filter for the open case (until the events change), so later pages of the
same filter skip the counting scan. A page is read in two steps: the ``ord`` of its rows first
(two columns), then the rows themselves in that ``ord`` range (late materialisation: reading every
column of the scanned row groups was most of a page's time).

Lookup tables derived from ``events`` are rebuilt with ``ord`` by :func:`refresh_order`, which
runs after every import: ``actor_summary`` (the actor list), ``minute_counts`` (events per minute
and kind: the histogram over everything), ``actor_blocks`` (an actor's events per block of
``ord``: a timeline page at any offset), ``actor_sessions``, ``address_changes`` and
``trace_bounds`` (each trace's ``ord`` range). A case opened read-only whose tables predate them
is answered from ``events`` directly.
"""

from __future__ import annotations

import bisect
import itertools
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditlens.core.errors import Error, UsageError
from auditlens.core.schema import FIELD_NAMES
from auditlens.core.store.case import Case

BLOCK = 65_536  # ord block size for offset paging; a multiple of DuckDB's vector size.
MAX_LIMIT = 100_000
SECOND_NS = 1_000_000_000
MINUTE_NS = 60_000_000_000
# Bump when a lookup table built by refresh_order changes: cases then rebuild them once.
LOOKUP_VERSION = "3"
LOOKUP_TABLES = (
    "actor_summary",
    "minute_counts",
    "actor_blocks",
    "actor_sessions",
    "address_changes",
    "trace_bounds",
)
VIEW_CACHE = 32  # filters whose block counts an open case keeps

# Names of the event fields as the CLI prints them (issue: the case, point 4).
OUTPUT_FIELDS: tuple[str, ...] = (
    "time",
    "kind",
    "service",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "source_ip",
    "tenant",
    "session_id",
    "conversation_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "duration_ns",
    "severity",
    "body",
    "attributes",
    "bundle_id",
    "stream_id",
    "seq",
    "integrity",
)
_SELECT = ", ".join(
    ["ord", *(n for n in FIELD_NAMES if n != "leaf_hash"), "hex(leaf_hash) AS leaf_hash"]
)


def zone(name: str | None) -> ZoneInfo | None:
    """The time zone named ``name`` (IANA), or ``None`` for UTC."""
    if not name or name.upper() == "UTC":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown time zone {name!r}") from exc


def format_time(ns: int | None, tz: ZoneInfo | None = None) -> str | None:
    """RFC 3339 with all nine digits of nanoseconds, in UTC (``Z``) or in ``tz`` with its offset."""
    if ns is None:
        return None
    seconds, nanos = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    if tz is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}{offset[:3]}:{offset[3:]}"


@dataclass
class _CaseState:
    """What this process knows of an open case: checked row count, lookups, cached counts."""

    rows: int = -1  # events when the order and lookups were last found current
    lookups: bool = False  # the lookup tables are present and current
    views: OrderedDict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=OrderedDict)


_STATES: weakref.WeakKeyDictionary[Case, _CaseState] = weakref.WeakKeyDictionary()


def _state(case: Case) -> _CaseState:
    state = _STATES.get(case)
    if state is None:
        state = _STATES[case] = _CaseState()
    return state


def refresh_order(case: Case, *, force: bool = False) -> None:
    """Give every event its time-order position ``ord`` and rebuild the lookup structures.

    Runs when the events changed since the last time (one transaction), or with ``force``.
    Sorting only the keys and updating one column costs a fraction of rewriting the rows in
    order (measured: 0.3 s against 8 s at 10^6 events), and each input's rows already arrive in
    time order, so zone maps on ``ord`` and ``time_ns`` stay tight. The lookup tables (module
    docstring) serve the actor list, the timeline, the histogram and trace look-ups. A current
    order with missing or older lookup tables rebuilds only those; in a case opened read-only
    they are left missing and the queries read ``events`` instead.
    """
    events = int(case.scalar("SELECT count(*) FROM events"))
    state = _state(case)
    if events != state.rows:
        state.views.clear()  # counts of other events
    elif not force:
        return
    ordered, lookups = _currency(case, events)
    if ordered and lookups and not force:
        state.rows, state.lookups = events, True
        return
    if ordered and not force and _read_only(case):
        state.rows, state.lookups = events, False
        return
    db = case.db
    db.begin()
    try:
        if force or not ordered:
            _order(case)
        _build_lookups(case)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('ordered_rows', ?)", [str(events)])
        db.execute("INSERT OR REPLACE INTO meta VALUES ('lookup_version', ?)", [LOOKUP_VERSION])
        db.commit()
    except BaseException:
        db.rollback()
        raise
    state.rows, state.lookups = events, True
    state.views.clear()


def needs_refresh(case: Case) -> bool:
    """Whether :func:`refresh_order` has work to do (the order or a lookup table is not current).

    For a caller that wants to run that work off an interactive thread (seconds at 10^7 events).
    """
    ordered, lookups = _currency(case, int(case.scalar("SELECT count(*) FROM events")))
    return not (ordered and lookups)


def _currency(case: Case, events: int) -> tuple[bool, bool]:
    """Whether ``ord`` covers ``events`` events, and whether the lookup tables are current."""
    current = case.scalar("SELECT value FROM meta WHERE key = 'ordered_rows'")
    ordered = current is not None and int(current) == events
    version = case.scalar("SELECT value FROM meta WHERE key = 'lookup_version'")
    lookups = version == LOOKUP_VERSION and all(_has_table(case, t) for t in LOOKUP_TABLES)
    return ordered, lookups


def before_adding_events(case: Case) -> None:
    """Forget the order, in the transaction adding events.

    ``events`` has no ART index on purpose: DuckDB keeps an index it inserts into in memory, and
    adding 10^6 events to a 10^7-event case with one ran out of case.MEMORY_LIMIT (measured); the
    lookup tables serve the queries an index would. Forgetting the ordered row count makes
    :func:`refresh_order` (run after every import) order the timeline again and rebuild the
    lookup tables, even when nothing is added. A transaction rolled back keeps all of it.
    """
    case.db.execute("DELETE FROM meta WHERE key = 'ordered_rows'")


def _order(case: Case) -> None:
    db = case.db
    # Time order, ties by stream name, sequence number and input. The stream's name enters the
    # sort as its rank among the few stream names: the same order, and half the sort's time at
    # 10^7 events (2.3 s -> 1.25 s measured; text keys are the costly part of a sort).
    # The row ids are sorted into a table (an ordered query keeps its order into the table it
    # creates), then numbered in the table's order (row_number() OVER (): DuckDB documents that
    # it keeps a single table's order). At 10^7 events 1.4 s against 3.1-3.5 s for
    # row_number() OVER (ORDER BY ...), whose one partition is numbered by one thread.
    db.execute(
        "CREATE OR REPLACE TEMP TABLE _sorted AS WITH streams AS (SELECT stream_id, "
        "row_number() OVER (ORDER BY stream_id) AS rank FROM "
        "(SELECT DISTINCT stream_id FROM events WHERE stream_id IS NOT NULL)) "
        "SELECT e.rowid AS rid FROM events AS e LEFT JOIN streams AS s "
        "ON e.stream_id = s.stream_id "
        "ORDER BY e.time_ns NULLS FIRST, s.rank NULLS LAST, e.seq, e.input_id"
    )
    db.execute(
        "CREATE OR REPLACE TEMP TABLE _order AS SELECT rid, row_number() OVER () - 1 AS o "
        "FROM _sorted"
    )
    db.execute("DROP TABLE _sorted")
    db.execute("UPDATE events SET ord = _order.o FROM _order WHERE events.rowid = _order.rid")
    db.execute("DROP TABLE _order")


def _build_lookups(case: Case) -> None:
    """The lookup tables, each the stored answer of the direct query it replaces.

    Tests compare each against its direct query (tests/core/store/test_queries.py). Rows are stored
    sorted by actor so that zone maps find one actor's rows without an index.
    """
    db = case.db
    db.execute(
        "CREATE OR REPLACE TABLE actor_summary AS SELECT actor_id, "
        "any_value(actor_name) AS name, "
        "list(DISTINCT actor_role) FILTER (actor_role IS NOT NULL) AS roles, "
        "count(*) AS events, min(time_ns) AS first_ns, max(time_ns) AS last_ns, "
        "list(DISTINCT source_ip ORDER BY source_ip) FILTER (source_ip IS NOT NULL) "
        "AS addresses, "
        "list(DISTINCT action ORDER BY action) FILTER (action IS NOT NULL) AS actions "
        "FROM events WHERE actor_id IS NOT NULL GROUP BY actor_id"
    )
    db.execute(
        "CREATE OR REPLACE TABLE minute_counts AS SELECT time_ns // ? AS minute, kind, "
        "count(*) AS events FROM events GROUP BY ALL ORDER BY minute NULLS FIRST, kind",
        [MINUTE_NS],
    )
    db.execute(
        "CREATE OR REPLACE TABLE actor_blocks AS SELECT actor_id, ord // ? AS block, "
        "count(*) AS events FROM events WHERE actor_id IS NOT NULL GROUP BY ALL "
        "ORDER BY actor_id, block",
        [BLOCK],
    )
    db.execute(
        "CREATE OR REPLACE TABLE actor_sessions AS SELECT actor_id, session_id, "
        "min(time_ns) AS first_ns, max(time_ns) AS last_ns, "
        "list(DISTINCT source_ip ORDER BY source_ip) FILTER (source_ip IS NOT NULL) "
        "AS addresses, count(*) AS events FROM events "
        "WHERE actor_id IS NOT NULL AND session_id IS NOT NULL GROUP BY ALL "
        "ORDER BY actor_id, first_ns, session_id"
    )
    # Over all of an actor's events: a change is an address unlike the actor's previous one.
    db.execute(
        "CREATE OR REPLACE TABLE address_changes AS SELECT actor_id, ord, time_ns, prev, "
        "source_ip FROM (SELECT actor_id, ord, time_ns, source_ip, lag(source_ip) OVER "
        "(PARTITION BY actor_id ORDER BY ord) AS prev FROM events "
        "WHERE actor_id IS NOT NULL AND source_ip IS NOT NULL) "
        "WHERE prev IS DISTINCT FROM source_ip ORDER BY actor_id, ord"
    )
    # Where each trace lies in time order. Sorted by trace id, so zone maps find a trace's row
    # without an index; a trace lasts seconds, so its ``ord`` range is a few row groups wide.
    db.execute(
        "CREATE OR REPLACE TABLE trace_bounds AS SELECT trace_id, min(ord) AS first_ord, "
        "max(ord) AS last_ord FROM events WHERE trace_id IS NOT NULL GROUP BY trace_id "
        "ORDER BY trace_id"
    )


def _read_only(case: Case) -> bool:
    return bool(
        case.scalar(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
        )
    )


def _has_table(case: Case, name: str) -> bool:
    return bool(
        case.scalar(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE table_name = ? AND database_name = current_database()",
            [name],
        )
    )


@dataclass(frozen=True)
class EventQuery:
    """What the event table shows: a filter and a time window.

    ``tz`` is the zone in which the filter's times without an offset are read (``None``: UTC),
    the zone the investigator sees times in.
    """

    filter: str = ""
    time_from_ns: int | None = None
    time_to_ns: int | None = None
    tz: tzinfo | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its bound parameters."""
        from auditlens.core.query import filter_sql

        sql, params = filter_sql(self.filter, tz=self.tz)
        # An empty filter compiles to TRUE: leave it out, so "every event" is recognised (and
        # paged by position, not by counting matches).
        clauses = [f"({sql})"] if sql.strip() and sql.strip() != "TRUE" else []
        if self.time_from_ns is not None:
            clauses.append("time_ns >= ?")
            params = [*params, self.time_from_ns]
        if self.time_to_ns is not None:
            clauses.append("time_ns < ?")
            params = [*params, self.time_to_ns]
        return (" AND ".join(clauses) or "TRUE"), list(params)


def row_dicts(cursor: Any) -> list[dict[str, Any]]:
    """Fetch all rows of a cursor as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count_events(case: Case, query: EventQuery) -> int:
    """How many events match."""
    refresh_order(case)
    where, params = query.where()
    blocks = _cached_blocks(case, where, params)
    if blocks is not None:
        return sum(c for _, c in blocks)
    return int(case.scalar(f"SELECT count(*) FROM events WHERE {where}", params))  # noqa: S608


def events_page(
    case: Case, query: EventQuery, *, offset: int = 0, limit: int = 200
) -> list[dict[str, Any]]:
    """Rows ``offset`` .. ``offset + limit`` of the matching events in time order."""
    if limit < 0 or limit > MAX_LIMIT or offset < 0:
        raise UsageError(f"--limit must be 0..{MAX_LIMIT} and --offset at least 0")
    refresh_order(case)
    where, params = query.where()
    if where == "TRUE":
        sql = f"SELECT {_SELECT} FROM events WHERE ord >= ? AND ord < ? ORDER BY ord"  # noqa: S608
        return row_dicts(case.db.execute(sql, [offset, offset + limit]))
    if offset == 0 and _cached_blocks(case, where, params) is None:
        return _late_rows(case, where, params, "TRUE", [], limit)
    return EventView(case, query).rows(offset, limit)


def _late_rows(
    case: Case,
    where: str,
    params: list[Any],
    bound: str,
    bound_params: list[Any],
    limit: int,
    skip: int = 0,
) -> list[dict[str, Any]]:
    """Matching rows ``skip`` .. ``skip + limit`` within ``bound``, in ``ord`` order.

    First the ``ord`` of those rows (reading only ``ord`` and the filter's columns), then the
    rows themselves: the matches between the first and the last of them are exactly the page.
    """
    db = case.db
    ords = db.execute(
        f"SELECT ord FROM events WHERE {bound} AND {where} ORDER BY ord LIMIT ? OFFSET ?",  # noqa: S608
        [*bound_params, *params, limit, skip],
    ).fetchall()
    if not ords:
        return []
    sql = f"SELECT {_SELECT} FROM events WHERE ord >= ? AND ord <= ? AND {where} ORDER BY ord"  # noqa: S608
    return row_dicts(db.execute(sql, [ords[0][0], ords[-1][0], *params]))


def _cached_blocks(case: Case, where: str, params: list[Any]) -> list[tuple[int, int]] | None:
    """The block counts of a filter, if this open case already computed them."""
    views = _state(case).views
    key = (where, repr(params))
    blocks = views.get(key)
    if blocks is not None:
        views.move_to_end(key)
    return blocks


def _block_counts(case: Case, where: str, params: list[Any]) -> list[tuple[int, int]]:
    """``(block, matches)`` per block of ``ord`` holding a match, in order (kept per filter)."""
    blocks = _cached_blocks(case, where, params)
    if blocks is not None:
        return blocks
    if where == "TRUE":  # ord is 0 .. n-1: every block is full but the last
        total = int(case.scalar("SELECT count(*) FROM events"))
        blocks = [(b, min(BLOCK, total - b * BLOCK)) for b in range(-(-total // BLOCK))]
    else:
        counts = case.db.execute(
            f"SELECT ord // {BLOCK} AS block, count(*) FROM events WHERE {where} "  # noqa: S608
            "GROUP BY block ORDER BY block",
            params,
        ).fetchall()
        blocks = [(int(b), int(c)) for b, c in counts]
    views = _state(case).views
    views[(where, repr(params))] = blocks
    while len(views) > VIEW_CACHE:
        views.popitem(last=False)
    return blocks


def _block_page(
    case: Case,
    blocks: list[tuple[int, int]],
    where: str,
    params: list[Any],
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Matches ``offset`` .. ``offset + limit``, given their counts per block.

    Only the blocks that hold the page are read.
    """
    starts: list[int] = []
    total = 0
    for _, c in blocks:
        starts.append(total)
        total += c
    if offset >= total or limit <= 0:
        return []
    index = bisect.bisect_right(starts, offset) - 1
    # The last block the page reaches bounds the scan from above as well.
    last = bisect.bisect_right(starts, min(offset + limit, total) - 1) - 1
    bounds = [blocks[index][0] * BLOCK, (blocks[last][0] + 1) * BLOCK]
    return _late_rows(
        case, where, params, "ord >= ? AND ord < ?", bounds, limit, offset - starts[index]
    )


def present_event(row: dict[str, Any], tz: ZoneInfo | None = None) -> dict[str, Any]:
    """An event as the CLI prints it: ``time`` in RFC 3339, attributes as an object."""
    out = {name: row.get(name) for name in OUTPUT_FIELDS}
    out["time"] = format_time(row.get("time_ns"), tz)
    attributes = row.get("attributes")
    out["attributes"] = json.loads(attributes) if isinstance(attributes, str) else attributes
    return out


@dataclass
class Actor:
    """One actor's summary."""

    actor_id: str
    name: str | None
    roles: list[str]
    events: int
    first_ns: int
    last_ns: int
    addresses: list[str]
    actions: list[str]


def actors(case: Case) -> list[Actor]:
    """Every actor: role, event count, first and last seen, source addresses, actions."""
    refresh_order(case)
    rows = case.db.execute(
        "SELECT actor_id, name, roles, events, first_ns, last_ns, addresses, actions "
        "FROM actor_summary ORDER BY events DESC, actor_id"
    ).fetchall()
    result = []
    for actor_id, name, roles, count, first, last, addresses, actions in rows:
        role_set = sorted({r for value in roles or [] for r in value.split(",") if r})
        result.append(
            Actor(actor_id, name, role_set, count, first, last, addresses or [], actions or [])
        )
    return result


@dataclass
class Session:
    """A login session of an actor as seen in the events."""

    session_id: str | None
    first_ns: int
    last_ns: int
    addresses: list[str]
    events: int


@dataclass
class ActorTimeline:
    """An actor's events in time order, with sessions and address changes."""

    actor_id: str
    events: list[dict[str, Any]]
    sessions: list[Session]
    address_changes: list[tuple[int, str | None, str]] = field(default_factory=list)
    total: int = 0  # all the actor's events, of which ``events`` is one page


TIMELINE_LIMIT = 1000  # events per timeline page: the busiest actors have 10^5 events


def actor_timeline(
    case: Case, actor_id: str, *, limit: int = TIMELINE_LIMIT, offset: int = 0
) -> ActorTimeline:
    """The actor's timeline: sessions and address changes, and a page of events in time order."""
    refresh_order(case)
    if not _state(case).lookups:
        return _actor_timeline_direct(case, actor_id, limit, offset)
    db = case.db
    blocks = [
        (int(b), int(c))
        for b, c in db.execute(
            "SELECT block, events FROM actor_blocks WHERE actor_id = ? ORDER BY block",
            [actor_id],
        ).fetchall()
    ]
    events = _block_page(case, blocks, "actor_id = ?", [actor_id], offset, limit)
    sessions = [
        Session(*row)
        for row in db.execute(
            "SELECT session_id, first_ns, last_ns, addresses, events FROM actor_sessions "
            "WHERE actor_id = ? ORDER BY first_ns, session_id",
            [actor_id],
        ).fetchall()
    ]
    changes = [
        (int(when), before, after)
        for when, before, after in db.execute(
            "SELECT time_ns, prev, source_ip FROM address_changes WHERE actor_id = ? "
            "ORDER BY time_ns, ord",
            [actor_id],
        ).fetchall()
    ]
    return ActorTimeline(actor_id, events, sessions, changes, sum(c for _, c in blocks))


def _actor_timeline_direct(case: Case, actor_id: str, limit: int, offset: int) -> ActorTimeline:
    """:func:`actor_timeline` from ``events`` alone (a read-only case without lookup tables)."""
    events = row_dicts(
        case.db.execute(
            f"SELECT {_SELECT} FROM events WHERE actor_id = ? ORDER BY ord LIMIT ? OFFSET ?",  # noqa: S608
            [actor_id, limit, offset],
        )
    )
    sessions = [
        Session(*row)
        for row in case.db.execute(
            "SELECT session_id, min(time_ns), max(time_ns), "
            "list(DISTINCT source_ip ORDER BY source_ip) FILTER (source_ip IS NOT NULL), "
            "count(*) FROM events WHERE actor_id = ? AND session_id IS NOT NULL "
            "GROUP BY session_id ORDER BY min(time_ns), session_id",
            [actor_id],
        ).fetchall()
    ]
    # Over all the actor's events, not only this page.
    changes = [
        (int(when), before, after)
        for when, before, after in case.db.execute(
            "SELECT time_ns, prev, source_ip FROM (SELECT ord, time_ns, source_ip, "
            "lag(source_ip) OVER (ORDER BY ord) AS prev FROM events "
            "WHERE actor_id = ? AND source_ip IS NOT NULL) "
            "WHERE prev IS DISTINCT FROM source_ip ORDER BY time_ns, ord",
            [actor_id],
        ).fetchall()
    ]
    total = int(case.scalar("SELECT count(*) FROM events WHERE actor_id = ?", [actor_id]))
    return ActorTimeline(actor_id, events, sessions, changes, total)


@dataclass(frozen=True)
class Exemplar:
    """An exemplar of a metric data point that points into a trace (docs/case.md, Metrics).

    The measurement the meter sampled while a span ran: its own time and value, not the data
    point's (a data point of a sum per minute ends after the span it was measured in).

    Attributes:
        metric: the metric's name.
        time_ns: the exemplar's time, or the data point's when the exemplar gives none.
        value: the exemplar's value (``asDouble`` or ``asInt``), None when it gives none.
        unit: the metric's unit ("" when none).
        trace_id: the trace it points into.
        span_id: the span it names (None when it names none).
        point: the data point's event (kind ``metric``) that holds it.
    """

    metric: str
    time_ns: int | None
    value: int | float | None
    unit: str
    trace_id: str
    span_id: str | None
    point: dict[str, Any]


@dataclass
class SpanNode:
    """A span of a trace with its children, the logs naming it and the exemplars naming it.

    ``logs`` holds the trace's log and audit events that name this span, never a metric data
    point (docs/case.md, Traces); ``exemplars`` each exemplar that names this span.
    """

    span: dict[str, Any]
    children: list[SpanNode] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    missing_parent: bool = False
    exemplars: list[Exemplar] = field(default_factory=list)


@dataclass
class Trace:
    """A trace: its spans, its logs and the metric exemplars pointing into it, each kept apart.

    The shape is docs/case.md's (Traces): ``roots`` is the span tree (``span_count`` spans;
    ``missing_parents`` the parent ids not in the case); logs (kinds ``log`` and ``audit``) sit
    under the span they name, or in ``orphan_logs`` when it is not in the case or they name
    none; ``exemplars`` lists every exemplar of the trace's data points that names the trace, in
    time order, each also under the span it names or in ``orphan_exemplars``; ``points`` holds
    those data points (events of kind ``metric``) in time order. A data point is never a log:
    its time ends its interval, after the span its exemplar was measured in.
    """

    trace_id: str
    roots: list[SpanNode]
    orphan_logs: list[dict[str, Any]]
    span_count: int
    missing_parents: list[str]
    exemplars: list[Exemplar] = field(default_factory=list)
    orphan_exemplars: list[Exemplar] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    log_count: int = 0  # the logs under the spans and the orphan logs

    @property
    def empty(self) -> bool:
        """True when the case holds no span, log or data point of the trace."""
        return not (self.roots or self.orphan_logs or self.points)


def _exemplar_number(value: Any) -> int | float | None:
    """An OTLP number as read: a JSON number, or a 64-bit integer as decimal text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    return None


def exemplars_of(point: dict[str, Any], trace_id: str) -> list[Exemplar]:
    """The exemplars of a data point's event (kind ``metric``) that point into ``trace_id``.

    Read from the point's ``metric.exemplars`` attribute, kept whole at import; trace and span
    ids compare in lower case, as the event's own (OTLP/JSON allows either case).
    """
    try:
        attributes = json.loads(point.get("attributes") or "{}")
    except ValueError:
        return []
    if not isinstance(attributes, dict):
        return []
    found = []
    for item in attributes.get("metric.exemplars") or []:
        if not isinstance(item, dict) or not isinstance(item.get("traceId"), str):
            continue
        if item["traceId"].lower() != trace_id:
            continue
        span_id = item.get("spanId")
        value = item.get("asDouble") if "asDouble" in item else item.get("asInt")
        when = _exemplar_number(item.get("timeUnixNano"))
        found.append(
            Exemplar(
                str(point.get("name") or ""),
                int(when) if isinstance(when, int) and when > 0 else point.get("time_ns"),
                _exemplar_number(value),
                str(attributes.get("metric.unit") or ""),
                trace_id,
                span_id.lower() if isinstance(span_id, str) and span_id else None,
                point,
            )
        )
    return found


def _trace_rows(case: Case, trace_id: str) -> list[dict[str, Any]]:
    """The events of a trace in time order.

    With current lookups only the trace's ``ord`` range is read (zone maps: a few row groups).
    """
    if _state(case).lookups:
        bounds = case.db.execute(
            "SELECT first_ord, last_ord FROM trace_bounds WHERE trace_id = ?", [trace_id]
        ).fetchone()
        if bounds is None:
            return []
        sql = (
            f"SELECT {_SELECT} FROM events WHERE ord BETWEEN ? AND ? "  # noqa: S608
            "AND trace_id = ? ORDER BY ord"
        )
        return row_dicts(case.db.execute(sql, [bounds[0], bounds[1], trace_id]))
    return _trace_rows_direct(case, trace_id)


def _trace_rows_direct(case: Case, trace_id: str) -> list[dict[str, Any]]:
    sql = f"SELECT {_SELECT} FROM events WHERE trace_id = ? ORDER BY ord"  # noqa: S608
    return row_dicts(case.db.execute(sql, [trace_id]))


def trace(case: Case, trace_id: str) -> Trace:
    """The span tree of ``trace_id`` with its logs and the metric exemplars pointing into it.

    Spans whose parent is not in the case are shown as roots marked ``missing_parent``; logs
    naming a span that is not present are listed as orphans. Metric data points are kept apart
    from the logs, shown by their exemplars (``Trace``).
    """
    refresh_order(case)
    wanted = trace_id.lower()
    rows = _trace_rows(case, wanted)
    nodes: dict[str, SpanNode] = {}
    logs: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for row in rows:
        if row["kind"] == "span" and row["span_id"]:
            nodes.setdefault(row["span_id"], SpanNode(row))
        elif row["kind"] == "metric":
            points.append(row)
        else:
            logs.append(row)
    roots: list[SpanNode] = []
    missing: list[str] = []
    for node in nodes.values():
        parent_id = node.span.get("parent_span_id")
        if parent_id and parent_id in nodes:
            nodes[parent_id].children.append(node)
        else:
            if parent_id:
                node.missing_parent = True
                missing.append(parent_id)
            roots.append(node)
    orphans = []
    for log in logs:
        owner = nodes.get(log.get("span_id") or "")
        if owner is not None:
            owner.logs.append(log)
        else:
            orphans.append(log)
    # Each exemplar under the span it names: a point holds several exemplars, which may name
    # different spans (docs/case.md, Metrics).
    exemplars = [e for point in points for e in exemplars_of(point, wanted)]
    exemplars.sort(key=lambda e: (e.time_ns or 0, e.metric))
    orphan_exemplars = []
    for exemplar in exemplars:
        owner = nodes.get(exemplar.span_id or "")
        if owner is not None:
            owner.exemplars.append(exemplar)
        else:
            orphan_exemplars.append(exemplar)
    return Trace(
        wanted,
        roots,
        orphans,
        len(nodes),
        sorted(set(missing)),
        exemplars,
        orphan_exemplars,
        points,
        len(logs),
    )


BUCKETS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}


def parse_bucket(text: str) -> int:
    """``30s``, ``1m``, ``1h``, ``1d`` to nanoseconds."""
    number, unit = text[:-1], text[-1:]
    if unit not in BUCKETS or not number.isdigit() or int(number) <= 0:
        raise UsageError(f"bucket {text!r}: use a positive number and s, m, h or d (e.g. 1m)")
    return int(number) * BUCKETS[unit]


def histogram(
    case: Case, bucket_ns: int, query: EventQuery | None = None
) -> list[tuple[int | None, int]]:
    """Event counts per time bucket: ``(bucket start ns, count)`` in time order.

    Events without a time are counted too, in a first bucket ``None``: the counts always add up
    to the matching events.
    """
    refresh_order(case)
    query = query or EventQuery()
    where, params = query.where()
    # In a zone, buckets follow its wall clock (a day bucket starts at local midnight and lasts
    # 23 or 25 hours at a daylight-saving change, as a day typed in the filter does): each time
    # is shifted by its offset, bucketed, and the bucket's local start turned back into UTC.
    # The offset is kept with each bucket: a bucket starting in the hour a change repeats
    # (01:00 twice when New York falls back) is two buckets, one per offset, or the second
    # hour's events would be counted in the first and the workbench's histogram would show an
    # hour without events.
    shift, shift_params = _local_shift(case, query.tz)
    whole = all(v % MINUTE_NS == 0 for v in shift_params)  # offsets changing on whole minutes
    if where == "TRUE" and bucket_ns % MINUTE_NS == 0 and _state(case).lookups and whole:
        # Whole minutes over everything: from the per-minute counts (``minute`` counts minutes
        # since 1970). Integer division nests (t // m // k == t // (m * k)), so the buckets are
        # those of the direct query.
        sql = (
            "SELECT (minute + o) // ? * ? AS b, o * ? AS o, sum(events) FROM (SELECT "  # noqa: S608
            f"minute, {shift.format(t='minute')} AS o, events FROM minute_counts) "
            "GROUP BY b, o ORDER BY b NULLS FIRST"
        )
        params = [
            bucket_ns // MINUTE_NS,
            bucket_ns,
            MINUTE_NS,
            *(v // MINUTE_NS for v in shift_params),
        ]
    else:
        sql = (
            "SELECT (time_ns + o) // ? * ? AS b, o, count(*) FROM (SELECT time_ns, "  # noqa: S608
            f"{shift.format(t='time_ns')} AS o FROM events WHERE {where}) "
            "GROUP BY b, o ORDER BY b NULLS FIRST"
        )
        params = [bucket_ns, bucket_ns, *shift_params, *params]
    counts: dict[int | None, int] = {}
    for b, o, c in case.db.execute(sql, params).fetchall():
        start = None if b is None else _utc_of_local(int(b), query.tz, int(o))
        counts[start] = counts.get(start, 0) + int(c)
    return sorted(counts.items(), key=lambda item: (item[0] is not None, item[0] or 0))


def _local_shift(case: Case, tz: tzinfo | None) -> tuple[str, list[int]]:
    """SQL adding ``tz``'s UTC offset to the time column ``{t}``, and its parameters (ns).

    A CASE over the offset's stretches across the case's time span (:func:`offset_stretches`).
    """
    if tz is None:
        return "0", []
    lo, hi = case.db.execute("SELECT min(time_ns), max(time_ns) FROM events").fetchall()[0]
    if lo is None:
        return "0", []
    stretches = offset_stretches(tz, int(lo), int(hi))
    if len(stretches) == 1:
        return "?", [stretches[0][1]]
    sql = "CASE " + " ".join("WHEN {t} < ? THEN ?" for _ in stretches[1:]) + " ELSE ? END"
    params: list[int] = []
    for (_, offset), (start, _) in itertools.pairwise(stretches):
        params += [start, offset]
    return sql, [*params, stretches[-1][1]]


def offset_stretches(tz: tzinfo, lo_ns: int, hi_ns: int) -> list[tuple[int, int]]:
    """Each stretch of ``lo_ns..hi_ns`` with one UTC offset of ``tz``: ``(start ns, offset ns)``.

    The first starts at ``lo_ns``. Offsets change at most a few times a year, never twice within
    a day: sampled daily, and each change found to the second by bisection.
    """

    def offset(ns: int) -> int:
        moment = datetime.fromtimestamp(ns // SECOND_NS, UTC).astimezone(tz)
        return int((moment.utcoffset() or timedelta(0)).total_seconds()) * SECOND_NS

    stretches = [(lo_ns, offset(lo_ns))]
    day = 86_400 * SECOND_NS
    at = lo_ns
    while at < hi_ns:
        step = min(at + day, hi_ns)
        if offset(step) != stretches[-1][1]:
            before, after = at // SECOND_NS, step // SECOND_NS  # offset(before) is the old one
            while after - before > 1:
                middle = (before + after) // 2
                if offset(middle * SECOND_NS) == stretches[-1][1]:
                    before = middle
                else:
                    after = middle
            stretches.append((after * SECOND_NS, offset(after * SECOND_NS)))
        at = step
    return stretches


def _utc_of_local(local_ns: int, tz: tzinfo | None, offset_ns: int = 0) -> int:
    """The UTC time of the wall-clock time ``local_ns`` in ``tz``.

    A time a change repeats is the one of ``offset_ns`` (the offset of the events counted from
    it) when that is one of its two, else the earlier; a time skipped by a change is read with
    the offset before it (the moment of the change).
    """
    if tz is None:
        return local_ns
    seconds = local_ns // SECOND_NS
    wall = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    offsets = [
        int((wall.replace(tzinfo=tz, fold=fold).utcoffset() or timedelta(0)).total_seconds())
        * SECOND_NS
        for fold in (0, 1)
    ]
    # Repeated when the first reading's offset is the larger (a change back); skipped otherwise.
    repeated = offsets[0] > offsets[1]
    offset = offset_ns if repeated and offset_ns in offsets else offsets[0]
    return local_ns - offset


def stats(case: Case) -> dict[str, Any]:
    """Events by kind and integrity, bundles by verdict, streams, inputs and the time span."""
    refresh_order(case)
    db = case.db
    first, last = db.execute("SELECT min(time_ns), max(time_ns) FROM events").fetchall()[0] or (
        None,
        None,
    )
    return {
        "events": int(case.scalar("SELECT count(*) FROM events")),
        "events_by_kind": dict(
            db.execute("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").fetchall()
        ),
        "events_by_integrity": dict(
            db.execute(
                "SELECT integrity, count(*) FROM events GROUP BY integrity ORDER BY integrity"
            ).fetchall()
        ),
        "bundles_by_verdict": dict(
            db.execute(
                "SELECT verdict, count(*) FROM bundles GROUP BY verdict ORDER BY verdict"
            ).fetchall()
        ),
        "streams": [
            {"stream_id": s, "bundles": b, "first_seq": f, "last_seq": la}
            for s, b, f, la in db.execute(
                "SELECT stream_id, count(*), min(first_seq), max(last_seq) FROM bundles "
                "GROUP BY stream_id ORDER BY stream_id"
            ).fetchall()
        ],
        "raw_streams": [
            {"stream_id": s, "events": n}
            for s, n in db.execute(
                "SELECT stream_id, count(*) FROM events WHERE bundle_id IS NULL "
                "GROUP BY stream_id ORDER BY stream_id"
            ).fetchall()
        ],
        "inputs": int(case.scalar("SELECT count(*) FROM inputs")),
        "findings": int(case.scalar("SELECT count(*) FROM findings")),
        "time_first_ns": first,
        "time_last_ns": last,
    }


class EventView:
    """The matching events of one query, for a table that jumps anywhere (the GUI's event list).

    The row count and the number of matches per block of ``ord`` are computed once (and kept by
    the open case for the same filter); a page at any offset then reads only the blocks that
    hold it, in time order. Sorting by ``ord`` (time) is the view's order.
    """

    def __init__(self, case: Case, query: EventQuery) -> None:
        refresh_order(case)
        self.case = case
        self.query = query
        self.where, self.params = query.where()
        self.blocks = _block_counts(case, self.where, self.params)
        self.count = sum(c for _, c in self.blocks)

    def rows(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset`` .. ``offset + limit`` of the view."""
        if offset >= self.count or limit <= 0:
            return []
        if self.where == "TRUE":
            sql = f"SELECT {_SELECT} FROM events WHERE ord >= ? AND ord < ? ORDER BY ord"  # noqa: S608
            return row_dicts(self.case.db.execute(sql, [offset, offset + limit]))
        return _block_page(self.case, self.blocks, self.where, self.params, offset, limit)


def trace_list(
    case: Case, query: EventQuery | None = None, *, limit: int = 2000
) -> list[dict[str, Any]]:
    """Traces with a matching event: spans, logs, data points, start, duration, first span.

    Logs and metric data points are counted apart, as in a ``Trace`` (docs/case.md, Traces).
    """
    refresh_order(case)
    where, params = (query or EventQuery()).where()
    return row_dicts(
        case.db.execute(
            "SELECT trace_id, count(*) FILTER (kind = 'span') AS spans, "  # noqa: S608
            "count(*) FILTER (kind NOT IN ('span', 'metric')) AS logs, "
            "count(*) FILTER (kind = 'metric') AS points, min(time_ns) AS start_ns, "
            "max(time_ns + coalesce(duration_ns, 0)) - min(time_ns) AS duration_ns, "
            "arg_min(service, time_ns) FILTER (kind = 'span') AS service, "
            "arg_min(name, time_ns) FILTER (kind = 'span') AS root "
            "FROM events WHERE trace_id IN ("
            f"SELECT DISTINCT trace_id FROM events WHERE trace_id IS NOT NULL AND {where}) "
            "GROUP BY trace_id ORDER BY start_ns LIMIT ?",
            [*params, limit],
        )
    )


@dataclass
class RecordProof:
    """A stored record read back from its evidence, with its Merkle inclusion proof."""

    raw: bytes | None
    leaf: str | None
    index: int | None = None
    tree_size: int | None = None
    root: str | None = None
    path: list[str] = field(default_factory=list)
    verified: bool = False
    problem: str = ""


MAX_RAW_RECORD = 1024 * 1024  # what the detail pane shows of one record


def record_proof(case: Case, event: dict[str, Any]) -> RecordProof:
    """Read ``event``'s record from its bundle and prove it is leaf ``seq`` of the signed tree.

    The proof is RFC 9162's audit path: within the record's checkpoint segment, then among the
    segment roots (segments are aligned powers of two, so the two paths compose). Only the
    segment's leaves and the checkpoint file are read, whatever the bundle's size.
    """
    from auditlens.core.bundle.container import open_container
    from auditlens.core.bundle.manifest import CHECKPOINTS_PATH, LEAVES_PATH, parse_checkpoints
    from auditlens.core.crypto import hashing

    leaf_hex = event.get("leaf_hash")
    file_label = str(event.get("file") or "")
    if event.get("bundle_id") is None or "!" not in file_label:
        return RecordProof(None, leaf_hex, problem="raw evidence: no seal, nothing to prove")
    row = case.db.execute(
        "SELECT path, first_seq, record_count, merkle_root FROM bundles WHERE bundle_id = ? "
        "ORDER BY input_id LIMIT 1",
        [event["bundle_id"]],
    ).fetchall()
    if not row:
        return RecordProof(None, leaf_hex, problem="bundle not in the case")
    bundle_path, first_seq, count, root = row[0]
    member = file_label.split("!", 1)[1]
    try:
        with open_container(Path(bundle_path)) as container:
            raw = _read_line(container, member, int(event.get("line") or 0))
            seq = event.get("seq")
            if seq is None:
                return RecordProof(raw, leaf_hex, problem="the record was never sealed (no seq)")
            index = int(seq) - int(first_seq)
            _, checkpoints = parse_checkpoints(container.read(CHECKPOINTS_PATH, 256 * 1024 * 1024))
            segment = next(c for c in checkpoints if c.first_seq <= int(seq) <= c.last_seq)
            with container.open(LEAVES_PATH) as leaves_file:
                leaves_file.read((segment.first_seq - int(first_seq)) * 32)
                segment_leaves = hashing.split_leaves(leaves_file.read(segment.count * 32))
    except (OSError, StopIteration, Error) as exc:
        return RecordProof(None, leaf_hex, problem=f"cannot read the evidence: {exc}")
    inner = hashing.inclusion_proof(segment_leaves, int(seq) - segment.first_seq)
    roots = [bytes.fromhex(c.segment_root) for c in checkpoints]
    outer = hashing.inclusion_proof(roots, segment.index) if len(roots) > 1 else []
    path = inner + outer
    leaf = hashing.leaf_hash(raw) if raw is not None else bytes.fromhex(leaf_hex or "00" * 32)
    ok = hashing.verify_inclusion(leaf, index, int(count), path, bytes.fromhex(root))
    return RecordProof(
        raw,
        leaf.hex(),
        index,
        int(count),
        root,
        [p.hex() for p in path],
        ok,
        "" if ok else "the record does not prove into the signed Merkle root",
    )


def _read_line(container: Any, member: str, line: int) -> bytes | None:
    """Line ``line`` (1-based) of a container member, read as a stream."""
    number = 0
    carry = b""
    with container.open(member) as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            parts = (carry + chunk).split(b"\n")
            carry = parts.pop()
            if number + len(parts) >= line:
                found: bytes = parts[line - number - 1]
                return found[:MAX_RAW_RECORD]
            number += len(parts)
    return carry[:MAX_RAW_RECORD] if number + 1 == line and carry else None


# -- integrity between bundles (docs/verification.md §3.1; stored by store/streams.py) ---------


def case_verdict(case: Case) -> str | None:
    """The case's verdict: the worst of its inputs' and its streams' verdicts (None if empty)."""
    value = case.scalar("SELECT value FROM meta WHERE key = 'case_verdict'")
    return None if value is None else str(value)


def stream_verdicts(case: Case) -> list[dict[str, Any]]:
    """Each stream's own verdict, bundle count, sequence range and open gaps, by stream id."""
    return row_dicts(
        case.db.execute(
            "SELECT stream_id, epoch, verdict, bundle_count, first_seq, last_seq, open_gaps "
            "FROM streams ORDER BY stream_id, epoch"
        )
    )


def stream_findings(case: Case, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """Findings between bundles: the open ones, or (``include_closed``) their whole history.

    Each row names the bundle it is about, and the inputs whose import opened and closed it
    (``closed_input_id`` is None while it holds).
    """
    return row_dicts(
        case.db.execute(
            "SELECT stream_id, epoch, code, severity, bundle_id, path, seq, message, expected, "
            "actual, opened_input_id, closed_input_id FROM stream_findings "
            "WHERE ? OR closed_input_id IS NULL "
            "ORDER BY stream_id, epoch, seq, code, opened_input_id",
            [include_closed],
        )
    )


def integrity_findings(case: Case) -> list[dict[str, Any]]:
    """Every finding the integrity view lists, errors first, then by place.

    Each bundle's own findings, and the open ones between bundles (docs/verification.md §3.1).
    """
    return row_dicts(
        case.db.execute(
            "SELECT severity, code, path, line, seq, stream_id, message, expected, actual "
            "FROM (SELECT severity, code, path, line, seq, stream_id, message, expected, actual "
            "FROM findings UNION ALL "
            "SELECT severity, code, path, NULL, seq, stream_id, message, expected, actual "
            "FROM stream_findings WHERE closed_input_id IS NULL) ORDER BY "
            "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, path, seq"
        )
    )


# --- The workbench's reads (issue 11 point 1: the GUI holds no SQL) ------------------------------

HISTOGRAM_BUCKETS = 240  # bars across the events histogram: the bucket follows the time span
COMPLETION_COLUMNS = ("actor_id", "action", "service", "kind", "integrity", "tenant", "outcome")
COMPLETION_VALUES = 200  # distinct values per column offered by the filter bar's completer
SORT_FETCH_BATCH = 1_000_000  # sorted positions converted per Arrow batch


def overview_histogram(
    case: Case, query: EventQuery, buckets: int = HISTOGRAM_BUCKETS
) -> tuple[list[tuple[int | None, int]], int]:
    """The histogram of ``query``'s events and its bucket in ns, for the events view.

    About ``buckets`` bars across the matching events' own time span, a second at least; past a
    minute the bucket is whole minutes, which the case keeps counts for (``minute_counts``).
    """
    refresh_order(case)
    where, params = query.where()
    lo, hi = case.db.execute(
        f"SELECT min(time_ns), max(time_ns) FROM events WHERE {where}",  # noqa: S608
        params,
    ).fetchall()[0]
    bucket = max(((hi or 0) - (lo or 0)) // buckets, 1_000_000_000)
    if bucket > MINUTE_NS:
        bucket = -(-bucket // MINUTE_NS) * MINUTE_NS
    return histogram(case, bucket, query), bucket


def completion_values(
    case: Case, columns: tuple[str, ...] = COMPLETION_COLUMNS
) -> list[tuple[str, str]]:
    """``(column, value)`` pairs seen in the case, for a filter completer (a few per column)."""
    words: list[tuple[str, str]] = []
    for column in columns:
        if column not in FIELD_NAMES:
            raise UsageError(f"not an event field: {column}")
        rows = case.db.execute(
            f"SELECT DISTINCT {column} FROM events WHERE {column} IS NOT NULL LIMIT ?",  # noqa: S608
            [COMPLETION_VALUES],
        ).fetchall()
        words += [(column, str(v)) for (v,) in rows]
    return words


def sorted_positions(case: Case, query: EventQuery, column: str, descending: bool) -> Any:
    """The ``ord`` of every event matching ``query`` sorted by ``column`` (ties in time order).

    A pyarrow ``ChunkedArray``; values are compared as DuckDB orders them, events without a value
    come last either way. Sorting is SQL's (STYLE point 5): 0.4-1.3 s at 10^7 events, run off an
    interactive thread on a cursor that ``interrupt()`` stops.
    """
    import pyarrow

    if column not in FIELD_NAMES:
        raise UsageError(f"not an event field: {column}")
    refresh_order(case)
    where, params = query.where()
    direction = "DESC" if descending else "ASC"
    relation = case.db.sql(
        f"SELECT ord FROM events WHERE {where} "  # noqa: S608
        f'ORDER BY "{column}" {direction} NULLS LAST, ord',
        params=params,
    )
    # A relation's Arrow reader streams without an extra copy (DuckDB 2: to_arrow_reader; 1.x:
    # fetch_arrow_reader).
    reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    batches = reader(SORT_FETCH_BATCH)
    # In batches: converting 10^7 positions at once holds the GIL long enough to stall a GUI
    # thread (measured: 60-130 ms); a batch at a time lets it run in between.
    return pyarrow.chunked_array([batch.column(0) for batch in batches], type=pyarrow.int64())


def rows_at(case: Case, positions: list[int]) -> list[dict[str, Any]]:
    """The events at ``positions`` (``ord``), in that order."""
    if not positions:
        return []
    # The range lets DuckDB skip the row groups outside it (zone maps on ord): a page sorted by
    # a column mostly lies in a narrow stretch of the timeline (one actor's events, say).
    found = {
        row["ord"]: row
        for row in row_dicts(
            case.db.execute(
                f"SELECT {_SELECT} FROM events WHERE ord BETWEEN ? AND ? "  # noqa: S608
                "AND ord = ANY(?::BIGINT[])",
                [min(positions), max(positions), positions],
            )
        )
    }
    return [found[o] for o in positions if o in found]


class PositionsView:
    """Events at given ``ord`` positions, in the positions' order (a sorted result)."""

    def __init__(self, case: Case, positions: Any) -> None:
        self.case = case
        self.positions = positions
        self.count = len(positions)

    def rows(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset`` .. ``offset + limit`` of the sorted result."""
        start = max(offset, 0)
        return rows_at(self.case, self.positions[start : start + max(limit, 0)].to_pylist())


@dataclass(frozen=True)
class CaseCounts:
    """What a status line says of a case: cheap counts only."""

    events: int
    inputs: int
    findings: int


def case_counts(case: Case) -> CaseCounts:
    """Events, inputs and findings (no grouping: :func:`stats` costs 0.1 s at 10^7 events)."""
    return CaseCounts(
        int(case.scalar("SELECT count(*) FROM events")),
        int(case.scalar("SELECT count(*) FROM inputs")),
        int(case.scalar("SELECT count(*) FROM findings")),
    )


# Findings about single records, and what the integrity map calls them (issue 12: the map draws
# the records, not the whole bundle).
RECORD_FINDINGS = {
    "RECORD_MODIFIED": "modified",
    "RECORD_INSERTED": "inserted",
    "RECORD_DELETED": "deleted",
    "RECORDS_REORDERED": "reordered",
    "DUPLICATE_RECORD": "duplicate",
}


@dataclass(frozen=True)
class RecordMark:
    """A record a finding is about, placed on the time axis of its stream.

    A deleted record has no event: it is placed at the time of the last event of its stream
    sealed before it (or the first after, when none is), where it was.
    """

    stream_id: str
    time_ns: int
    kind: str  # modified, inserted, deleted, reordered, duplicate
    seq: int | None
    code: str


@dataclass(frozen=True)
class StreamGap:
    """Sequence numbers of a stream that no bundle in the case holds, between two bundles."""

    stream_id: str
    last_seq_before: int
    first_seq_after: int
    start_ns: int  # the last time of the bundle before
    end_ns: int  # the first time of the bundle after


@dataclass(frozen=True)
class IntegrityOverview:
    """Bundles, findings and unsealed streams of a case, as the integrity view shows them.

    Attributes:
        bundles: one dict per bundle (verdict, stream, sequence range, signer, times, path).
        findings: one dict per finding, errors first.
        raw_streams: ``(stream_id, first ns, last ns)`` of each stream of unsealed events.
        marks: the records findings are about, on the time axis.
        gaps: the gaps between bundles of each stream.
        record_states: for each bundle with events, the integrity most of its events have (a
            tampered bundle's intact records stay ``verified``: only the marked ones are not).
        streams: each stream's own verdict, between its bundles (docs/verification.md §3.1).
        case_verdict: the case's verdict, the worst of its inputs' and streams'.
    """

    bundles: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    raw_streams: list[tuple[str, int, int]]
    marks: list[RecordMark] = field(default_factory=list)
    gaps: list[StreamGap] = field(default_factory=list)
    record_states: dict[str, str] = field(default_factory=dict)
    streams: list[dict[str, Any]] = field(default_factory=list)
    case_verdict: str | None = None


def integrity_overview(case: Case) -> IntegrityOverview:
    """The bundles with their verdicts, every finding, and where unsealed evidence lies."""
    db = case.db
    bundles = row_dicts(
        db.execute(
            "SELECT bundle_id, verdict, stream_id, first_seq, last_seq, record_count, "
            "signer_key_id, sealed_at, path, time_first_ns, time_last_ns FROM bundles "
            "ORDER BY stream_id, first_seq"
        )
    )
    # Each bundle's own findings, and the open ones between bundles (docs/verification.md §3.1):
    # a gap a later bundle filled is closed, and no longer listed.
    findings = row_dicts(
        db.execute(
            "SELECT bundle_id, severity, code, path, line, seq, stream_id, message, expected, "
            "actual FROM (SELECT bundle_id, severity, code, path, line, seq, stream_id, message, "
            "expected, actual FROM findings UNION ALL "
            "SELECT bundle_id, severity, code, path, NULL, seq, stream_id, message, expected, "
            "actual FROM stream_findings WHERE closed_input_id IS NULL) ORDER BY "
            "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, path, seq"
        )
    )
    raw = [
        (str(stream), int(lo), int(hi))
        for stream, lo, hi in db.execute(
            "SELECT stream_id, min(time_ns), max(time_ns) FROM events WHERE bundle_id IS NULL "
            "AND time_ns IS NOT NULL GROUP BY stream_id ORDER BY stream_id"
        ).fetchall()
    ]
    return IntegrityOverview(
        bundles,
        findings,
        raw,
        # Placing records reads events: only when some finding names a record.
        record_marks(case) if any(f["code"] in RECORD_FINDINGS for f in findings) else [],
        stream_gaps(bundles, findings),
        _record_states(case, [b["bundle_id"] for b in bundles if b["verdict"] == "tampered"]),
        stream_verdicts(case),
        case_verdict(case),
    )


def record_marks(case: Case) -> list[RecordMark]:
    """Where the records that findings name lie in time (see :class:`RecordMark`).

    A finding names its record by file and line (the event read there) or, for a deleted one,
    by stream and sequence number.
    """
    codes = list(RECORD_FINDINGS)
    rows = case.db.execute(
        "SELECT f.code, f.stream_id, f.seq, coalesce("
        "  (SELECT min(e.time_ns) FROM events AS e WHERE f.code <> 'RECORD_DELETED' "
        "   AND e.file = f.path AND e.line = f.line), "
        "  (SELECT max(e.time_ns) FROM events AS e WHERE e.stream_id = f.stream_id "
        "   AND e.seq < f.seq AND e.bundle_id IS NOT NULL), "
        "  (SELECT min(e.time_ns) FROM events AS e WHERE e.stream_id = f.stream_id "
        "   AND e.seq > f.seq AND e.bundle_id IS NOT NULL)) AS time_ns "
        "FROM findings AS f WHERE list_contains(?, f.code) ORDER BY time_ns, f.seq",
        [codes],
    ).fetchall()
    return [
        RecordMark(str(stream or ""), int(when), RECORD_FINDINGS[code], seq, code)
        for code, stream, seq, when in rows
        if when is not None
    ]


def stream_gaps(bundles: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[StreamGap]:
    """The gaps ``BUNDLE_GAP`` findings name, each between the bundles around it."""
    gaps: list[StreamGap] = []
    seen: set[tuple[str, int, int]] = set()
    for finding in findings:
        if finding["code"] != "BUNDLE_GAP" or finding["seq"] is None:
            continue
        around = [b for b in bundles if b["stream_id"] == finding["stream_id"]]
        before = [b for b in around if (b["last_seq"] or 0) < finding["seq"]]
        after = [b for b in around if (b["first_seq"] or 0) >= finding["seq"]]
        if not before or not after:
            continue
        last = max(before, key=lambda b: b["last_seq"] or 0)
        first = min(after, key=lambda b: b["first_seq"] or 0)
        key = (str(finding["stream_id"]), int(last["last_seq"]), int(first["first_seq"]))
        if key in seen or key[2] <= key[1] + 1:
            continue  # said twice, or filled by a bundle imported later
        seen.add(key)
        gaps.append(
            StreamGap(
                key[0], key[1], key[2], last["time_last_ns"] or 0, first["time_first_ns"] or 0
            )
        )
    return gaps


def _record_states(case: Case, bundle_ids: list[str]) -> dict[str, str]:
    if not bundle_ids:
        return {}
    rows = case.db.execute(
        "SELECT bundle_id, arg_max(integrity, n) FROM (SELECT bundle_id, integrity, "
        "count(*) AS n FROM events WHERE list_contains(?, bundle_id) GROUP BY ALL) "
        "GROUP BY bundle_id",
        [bundle_ids],
    ).fetchall()
    return {str(b): str(state) for b, state in rows}


def gaps(case: Case) -> list[StreamGap]:
    """The gaps between the bundles of each stream (for marking them on a time axis)."""
    bundles = row_dicts(
        case.db.execute(
            "SELECT stream_id, first_seq, last_seq, time_first_ns, time_last_ns FROM bundles"
        )
    )
    findings = row_dicts(
        case.db.execute(
            "SELECT code, seq, stream_id FROM stream_findings "
            "WHERE code = 'BUNDLE_GAP' AND closed_input_id IS NULL"
        )
    )
    return stream_gaps(bundles, findings)


def trust_paths(case: Case) -> list[str]:
    """The trust store files the examiner chose for this case (the workbench imports with them)."""
    value = case.scalar("SELECT value FROM meta WHERE key = 'trust_paths'")
    if not value:
        return []
    try:
        paths = json.loads(value)
    except ValueError:
        return []
    return [str(p) for p in paths] if isinstance(paths, list) else []


def set_trust_paths(case: Case, paths: list[str]) -> None:
    """Remember ``paths`` as the case's trust store."""
    case.db.execute(
        "INSERT OR REPLACE INTO meta VALUES ('trust_paths', ?)", [json.dumps(list(paths))]
    )


def record_trust(case: Case, keys: list[dict[str, Any]]) -> None:
    """Add ``keys`` (one dict per trusted key, see :func:`trust_used`) to the case's record.

    The case keeps every key a trust store gave an import, so that a report can say which keys
    vouched for its bundles and how each was obtained (docs/report.md, "Trust store"). A key
    given again keeps its first entry and gains the new trust store file in ``sources``.
    """
    known = {k["key_id"]: k for k in trust_used(case)}
    for key in keys:
        entry = known.setdefault(key["key_id"], {**key, "sources": []})
        for source in key.get("sources", []):
            if source not in entry["sources"]:
                entry["sources"].append(source)
    case.db.execute(
        "INSERT OR REPLACE INTO meta VALUES ('trust_used', ?)",
        [json.dumps(list(known.values()), sort_keys=True)],
    )


def trust_used(case: Case) -> list[dict[str, Any]]:
    """The trusted keys the case's imports were given, in the order first given.

    Each: ``key_id``, ``algorithm``, ``owner``, ``obtained`` (as the trust store says; empty when
    it says nothing), ``not_before``, ``not_after``, ``revoked_at`` (RFC 3339 or None),
    ``revocation_reason``, ``sample``, ``public_key`` (PEM) and ``sources`` (each trust store
    file: ``path`` and ``sha256`` when it was read). Empty for a case imported before the record
    was kept, or only ever without a trust store.
    """
    value = case.scalar("SELECT value FROM meta WHERE key = 'trust_used'")
    if not value:
        return []
    try:
        keys = json.loads(value)
    except ValueError:
        return []
    if not isinstance(keys, list):
        return []
    return [k for k in keys if isinstance(k, dict) and "key_id" in k]


@dataclass(frozen=True)
class SavedView:
    """A named view of the events kept in the case: filter, time range, zone, columns."""

    name: str
    filter: str
    time_from_ns: int | None
    time_to_ns: int | None
    tz: str | None
    columns: tuple[str, ...]

    def query(self) -> EventQuery:
        """The view's filter and range."""
        return EventQuery(self.filter, self.time_from_ns, self.time_to_ns, tz=zone(self.tz))


def saved_views(case: Case) -> list[SavedView]:
    """The case's saved views, by name."""
    value = case.scalar("SELECT value FROM meta WHERE key = 'saved_views'")
    try:
        items = json.loads(value) if value else []
    except ValueError:
        return []
    views = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            views.append(
                SavedView(
                    item["name"],
                    str(item.get("filter") or ""),
                    item.get("from_ns"),
                    item.get("to_ns"),
                    item.get("tz"),
                    tuple(str(c) for c in item.get("columns") or ()),
                )
            )
    return sorted(views, key=lambda v: v.name.lower())


def store_saved_views(case: Case, views: list[SavedView]) -> None:
    """Keep ``views`` as the case's saved views."""
    items = [
        {
            "name": v.name,
            "filter": v.filter,
            "from_ns": v.time_from_ns,
            "to_ns": v.time_to_ns,
            "tz": v.tz,
            "columns": list(v.columns),
        }
        for v in views
    ]
    case.db.execute("INSERT OR REPLACE INTO meta VALUES ('saved_views', ?)", [json.dumps(items)])
