"""Bookmarks, tags and notes on events (issue 14, point 1), kept in the case and journaled.

A bookmark is one examiner action: a set of events (chosen by a filter or by reference), the
tags and the note given to them. It stores each event's stable reference
(:mod:`~auditlens.core.report.refs`), never a row number, so it keeps naming the same records
when the case is rebuilt from the same evidence. Listing resolves the references to the events
the case holds now.

Each bookmark is journaled by the legal API (:class:`auditlens.core.report.session.Legal`,
action ``bookmark``: :func:`journal_details`). The rows are written first (:func:`add_bookmark`)
and removed again (:func:`remove_bookmark`) if the journal cannot be written, so no bookmark
exists that the journal does not name.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from auditlens.core.errors import UsageError
from auditlens.core.report.refs import (
    LINE_REF_SQL,
    RAW_LINES_SQL,
    REF_JOIN,
    REF_SQL,
    EventRef,
    parse_ref,
)
from auditlens.core.schema import FIELD_NAMES
from auditlens.core.store import queries
from auditlens.core.store.case import Case

# One bookmark action marks at most this many events: a filter that matches more is almost
# certainly not a selection of evidence (narrow it first); the references are kept per event.
MAX_BOOKMARK_EVENTS = 100_000
# Up to this many references are written into the journal entry itself; beyond, their count and
# the SHA-256 of the sorted references (one per line) keep the entry small but binding.
JOURNAL_REFS = 1_000
MAX_TAG_LENGTH = 100
MAX_NOTE_LENGTH = 10_000

# An event row as the queries give it (ord, every field, the leaf hash in hex).
_EVENT_SELECT = ", ".join(
    ["ord", *(n for n in FIELD_NAMES if n != "leaf_hash"), "lower(hex(leaf_hash)) AS leaf_hash"]
)

_DDL = (
    """CREATE TABLE IF NOT EXISTS bookmarks (
        bookmark_id BIGINT PRIMARY KEY, created_at VARCHAR, tags VARCHAR[], note VARCHAR,
        selection VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS bookmark_events (
        bookmark_id BIGINT, ref VARCHAR, stream_id VARCHAR, seq BIGINT, input_sha256 VARCHAR,
        line BIGINT)""",
)


@dataclass(frozen=True)
class Bookmark:
    """One bookmark action.

    Attributes:
        bookmark_id: its number in the case (1, 2, ...).
        created_at: when it was made, RFC 3339 UTC.
        tags: the tags given.
        note: the note given, or empty.
        selection: how the events were chosen (``filter: ...`` or ``events``).
        refs: the events' references, in time order.
    """

    bookmark_id: int
    created_at: str
    tags: tuple[str, ...]
    note: str
    selection: str
    refs: tuple[str, ...]


@dataclass
class BookmarkedEvent:
    """An event with every bookmark that names it.

    Attributes:
        ref: the event's reference.
        bookmark_ids: the bookmarks naming it, in order.
        tags: their tags, each once, in order of first use.
        notes: their notes, each once, in order.
        event: the event's row (as :func:`~auditlens.core.store.queries.events_page` gives it),
            or ``None`` when the case no longer holds the record.
    """

    ref: str
    bookmark_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    event: dict[str, Any] | None = None


def _ensure_tables(case: Case) -> None:
    for statement in _DDL:
        case.db.execute(statement)


def _has_tables(case: Case) -> bool:
    return bool(
        case.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'bookmarks' "
            "AND database_name = current_database()"
        )
    )


def refs_of_query(case: Case, query: queries.EventQuery) -> list[str]:
    """The references of the events matching ``query``, in time order, each once.

    Raises:
        UsageError: if more than :data:`MAX_BOOKMARK_EVENTS` events match.
    """
    queries.refresh_order(case)
    count = queries.count_events(case, query)
    if count > MAX_BOOKMARK_EVENTS:
        raise UsageError(
            f"the filter matches {count:,} events, more than the {MAX_BOOKMARK_EVENTS:,} one "
            "bookmark may hold: narrow it"
        )
    where, params = query.where()
    rows = case.db.execute(
        f"SELECT {REF_SQL} AS ref, min(ord) AS first FROM (SELECT * FROM events "  # noqa: S608
        f"WHERE {where}) AS events {REF_JOIN} GROUP BY ref ORDER BY first",
        params,
    ).fetchall()
    return [str(ref) for ref, _ in rows]


def _resolve(case: Case, refs: list[EventRef]) -> dict[str, list[dict[str, Any]]]:
    """The event rows each reference names now (a forked stream may hold two)."""
    queries.refresh_order(case)
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sealed = [(r.text, r.stream_id, r.seq) for r in refs if r.stream_id is not None]
    raw = [(r.text, r.input_sha256, r.line, r.part) for r in refs if r.input_sha256 is not None]
    if sealed:
        rows = case.db.execute(
            f"SELECT w.ref AS ref, e.* FROM (SELECT {_EVENT_SELECT} FROM events "  # noqa: S608
            "WHERE integrity <> 'unsealed') AS e JOIN "
            "(SELECT unnest(?::VARCHAR[]) AS ref, unnest(?::VARCHAR[]) AS s, "
            "unnest(?::BIGINT[]) AS q) AS w ON e.stream_id = w.s AND e.seq = w.q ORDER BY e.ord",
            [[r[0] for r in sealed], [r[1] for r in sealed], [r[2] for r in sealed]],
        )
        for row in queries.row_dicts(rows):
            found[row.pop("ref")].append(row)
    if raw:
        # raw:SHA256#LINE.K is the K-th record of a shared line; raw:SHA256#LINE without K names
        # a line's one record (or, as references written before K existed did, all of them).
        rows = case.db.execute(
            f"SELECT w.ref AS ref, e.* EXCLUDE (input_id) FROM "  # noqa: S608
            f"(SELECT {_EVENT_SELECT}, input_id FROM events WHERE integrity = 'unsealed') AS e "
            "JOIN (SELECT input_id AS i, sha256 FROM inputs) AS inputs ON e.input_id = inputs.i "
            f"LEFT JOIN ({RAW_LINES_SQL}) AS raw_lines "
            "ON raw_lines.input_id = e.input_id AND raw_lines.line = e.line "
            "JOIN (SELECT unnest(?::VARCHAR[]) AS ref, unnest(?::VARCHAR[]) AS d, "
            "unnest(?::BIGINT[]) AS l, unnest(?::BIGINT[]) AS k) AS w "
            "ON inputs.sha256 = w.d AND e.line = w.l AND (w.k IS NULL "
            "OR e.seq - raw_lines.line_first_seq + 1 = w.k) "
            "ORDER BY e.ord",
            [[r[0] for r in raw], [r[1] for r in raw], [r[2] for r in raw], [r[3] for r in raw]],
        )
        for row in queries.row_dicts(rows):
            found[row.pop("ref")].append(row)
    return found


def refuse_shared_lines(refs: list[EventRef], found: dict[str, list[dict[str, Any]]]) -> None:
    """Refuse a raw reference without K that names a line of several records.

    ``raw:SHA256#LINE`` on such a line would take the whole batch for the one record meant (see
    refs.py); stored bookmarks of that form still resolve, a new selection must say which.

    Raises:
        UsageError: naming the first such reference and how many records its line holds.
    """
    for ref in refs:
        rows = found.get(ref.text, [])
        if ref.input_sha256 is not None and ref.part is None and len(rows) > 1:
            raise UsageError(
                f"{ref.text} names the {len(rows)} records of one line: name one as "
                f"{ref.text}.K (K from 1 to {len(rows)}, as 'export' and 'bookmarks' print them)"
            )


def add_bookmark(
    case: Case,
    *,
    query: queries.EventQuery | None = None,
    refs: list[str] | None = None,
    tags: list[str] | None = None,
    note: str = "",
) -> Bookmark:
    """Bookmark the events of ``query`` or the events named by ``refs`` (exactly one of them).

    Args:
        case: the case, open for writing.
        query: a filter and time window whose events to bookmark.
        refs: event references (``stream:STREAM#SEQ``, ``raw:SHA256#LINE[.K]``).
        tags: tags for the events (each at most 100 characters).
        note: a note for them (at most 10,000 characters).

    Returns:
        The bookmark as stored (the caller journals it: ``Legal.bookmark``).

    Raises:
        UsageError: for no or both selections, an unknown or malformed reference, a selection
            of no event or of too many, a tag or note too long.
    """
    if (query is None) == (refs is None):
        raise UsageError("bookmark either a filter's events or events by reference, not both")
    clean_tags = check_labels(tags or [], note)
    if query is not None:
        chosen = refs_of_query(case, query)
        selection = f"filter: {query.filter}"
        if query.time_from_ns is not None or query.time_to_ns is not None:
            selection += f" (from {query.time_from_ns} to {query.time_to_ns} ns)"
    else:
        parsed = [parse_ref(r) for r in dict.fromkeys(refs or [])]
        if len(parsed) > MAX_BOOKMARK_EVENTS:
            raise UsageError(f"more than {MAX_BOOKMARK_EVENTS:,} events in one bookmark")
        found = _resolve(case, parsed)
        unknown = [r.text for r in parsed if r.text not in found]
        if unknown:
            raise UsageError("no event in the case has the reference " + ", ".join(unknown))
        refuse_shared_lines(parsed, found)
        chosen = sorted((r.text for r in parsed), key=lambda t: found[t][0]["ord"])
        selection = "events"
    if not chosen:
        raise UsageError("no event to bookmark: the selection is empty")
    _ensure_tables(case)
    bookmark_id = int(case.scalar("SELECT coalesce(max(bookmark_id), 0) + 1 FROM bookmarks"))
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    parsed_refs = [parse_ref(r) for r in chosen]
    case.db.execute("BEGIN")
    try:
        case.db.execute(
            "INSERT INTO bookmarks VALUES (?, ?, ?, ?, ?)",
            [bookmark_id, created, clean_tags, note, selection],
        )
        case.db.execute(
            "INSERT INTO bookmark_events SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
            "unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[])",
            [
                bookmark_id,
                [r.text for r in parsed_refs],
                [r.stream_id for r in parsed_refs],
                [r.seq for r in parsed_refs],
                [r.input_sha256 for r in parsed_refs],
                [r.line for r in parsed_refs],
            ],
        )
        case.db.execute("COMMIT")
    except BaseException:
        case.db.execute("ROLLBACK")
        raise
    return Bookmark(bookmark_id, created, tuple(clean_tags), note, selection, tuple(chosen))


def remove_bookmark(case: Case, bookmark_id: int) -> None:
    """Remove a bookmark again (its journal entry could not be written)."""
    case.db.execute("DELETE FROM bookmark_events WHERE bookmark_id = ?", [bookmark_id])
    case.db.execute("DELETE FROM bookmarks WHERE bookmark_id = ?", [bookmark_id])


def refs_detail(refs: list[str]) -> dict[str, Any]:
    """The references as a journal entry names them.

    Listed up to :data:`JOURNAL_REFS`; beyond, the SHA-256 of the sorted list (one per line).
    """
    if len(refs) <= JOURNAL_REFS:
        return {"refs": refs}
    listing = "\n".join(sorted(refs)).encode("utf-8")
    return {"refs_sha256": hashlib.sha256(listing).hexdigest()}


def journal_details(mark: Bookmark) -> dict[str, Any]:
    """The details of a bookmark's journal entry (action ``bookmark``)."""
    return {
        "bookmark_id": mark.bookmark_id,
        "selection": mark.selection,
        "tags": list(mark.tags),
        "note": mark.note,
        "count": len(mark.refs),
        **refs_detail(list(mark.refs)),
    }


def refs_at(case: Case, positions: list[int]) -> list[str]:
    """The references of the events at ``positions`` (``ord``: rows a view shows), in that order.

    Raises:
        UsageError: if a position holds no event (the view is older than the case).
    """
    if not positions:
        return []
    rows = case.db.execute(
        f"SELECT ord, {REF_SQL} AS ref FROM (SELECT * FROM events "  # noqa: S608
        f"WHERE ord = ANY(?::BIGINT[])) AS events {REF_JOIN}",
        [positions],
    ).fetchall()
    found = {int(o): str(r) for o, r in rows}
    missing = [p for p in positions if p not in found]
    if missing:
        raise UsageError(f"no event at position {missing[0]}: refresh the view")
    return [found[p] for p in positions]


def marks_at(case: Case, positions: list[int]) -> dict[int, BookmarkedEvent]:
    """The bookmarks naming the events at ``positions`` (``ord``), by position; unmarked left out.

    What the events table marks its rows with, a page of rows at a time: each event's reference
    (as :func:`refs_at` makes it) looked up among the bookmarked ones, so a forked stream's two
    records of one reference are both marked, as :func:`bookmarked_events` names both.
    """
    if not positions or not _has_tables(case):
        return {}
    # A bookmark stored with a shared line's reference without K (made before K existed) names
    # every record of its line, as bookmarked_events lists them (docs/case.md, Bookmarks).
    rows = case.db.execute(
        f"SELECT e.ord, b.bookmark_id, b.tags, b.note, e.ref FROM (SELECT ord, "  # noqa: S608
        f"{REF_SQL} AS ref, {LINE_REF_SQL} AS line_ref FROM (SELECT * FROM events "
        f"WHERE ord = ANY(?::BIGINT[])) AS events {REF_JOIN}) AS e "
        "JOIN bookmark_events AS be ON be.ref = e.ref OR be.ref = e.line_ref "
        "JOIN bookmarks AS b ON b.bookmark_id = be.bookmark_id ORDER BY e.ord, b.bookmark_id",
        [positions],
    ).fetchall()
    found: dict[int, BookmarkedEvent] = {}
    for position, bookmark_id, tags, note, ref in rows:
        entry = found.setdefault(int(position), BookmarkedEvent(str(ref)))
        if int(bookmark_id) in entry.bookmark_ids:
            continue
        entry.bookmark_ids.append(int(bookmark_id))
        entry.tags.extend(t for t in tags or () if t not in entry.tags)
        if note and note not in entry.notes:
            entry.notes.append(str(note))
    return found


def check_labels(tags: list[str], note: str) -> list[str]:
    """The tags as stored (stripped, each once, in order), after checking them and the note.

    The rules of a bookmark's tags and note, for :func:`add_bookmark` and for whoever asks for
    them first (the workbench's bookmark dialog shows this error while it stays open).

    Raises:
        UsageError: for an empty tag, a tag longer than :data:`MAX_TAG_LENGTH` characters or a
            note longer than :data:`MAX_NOTE_LENGTH`.
    """
    clean: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            raise UsageError("a tag is empty")
        if len(tag) > MAX_TAG_LENGTH:
            raise UsageError(f"the tag {tag[:40]!r}... is longer than {MAX_TAG_LENGTH} characters")
        if tag not in clean:
            clean.append(tag)
    if len(note) > MAX_NOTE_LENGTH:
        raise UsageError(f"the note is longer than {MAX_NOTE_LENGTH:,} characters")
    return clean


def list_bookmarks(case: Case) -> list[Bookmark]:
    """Every bookmark action, in the order they were made."""
    if not _has_tables(case):
        return []
    marks = case.db.execute(
        "SELECT bookmark_id, created_at, tags, note, selection FROM bookmarks ORDER BY bookmark_id"
    ).fetchall()
    refs: dict[int, list[str]] = defaultdict(list)
    for bookmark_id, ref in case.db.execute(
        "SELECT bookmark_id, ref FROM bookmark_events ORDER BY rowid"
    ).fetchall():
        refs[int(bookmark_id)].append(str(ref))
    return [
        Bookmark(int(b), str(c), tuple(t or ()), str(n or ""), str(s), tuple(refs[int(b)]))
        for b, c, t, n, s in marks
    ]


def _own_ref(ref: EventRef, row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """``ref``, or for one of a shared line's records named by ``raw:SHA256#LINE``, its ``.K``.

    Such a reference names every record of its line (``rows``, consecutive ``seq`` numbers of
    one input): the K-th is the one ``min(seq)`` + K - 1, as ``REF_SQL`` numbers it.
    """
    if ref.input_sha256 is None or ref.part is not None or len(rows) < 2:
        return ref.text
    first = min(r["seq"] for r in rows)
    return f"{ref.text}.{row['seq'] - first + 1}"


def bookmarked_events(case: Case) -> list[BookmarkedEvent]:
    """Every bookmarked event once, in time order, with all its bookmarks' tags and notes.

    A reference the case no longer holds (the evidence was not imported again) is listed last,
    with no event.
    """
    by_ref: dict[str, BookmarkedEvent] = {}
    for mark in list_bookmarks(case):
        for ref in mark.refs:
            entry = by_ref.setdefault(ref, BookmarkedEvent(ref))
            entry.bookmark_ids.append(mark.bookmark_id)
            entry.tags.extend(t for t in mark.tags if t not in entry.tags)
            # The same note given twice (the events bookmarked again) is listed once.
            if mark.note and mark.note not in entry.notes:
                entry.notes.append(mark.note)
    if not by_ref:
        return []
    parsed = {r: parse_ref(r) for r in by_ref}
    found = _resolve(case, list(parsed.values()))
    # A reference naming several records (a shared line's without K, stored before K existed;
    # a forked stream's two records) lists each of them: its first alone would show one record
    # as the one bookmarked (docs/case.md, Bookmarks). Each record of a shared line is listed by
    # its own ``#LINE.K``, the reference an exhibit of it takes.
    listed: list[BookmarkedEvent] = []
    for ref, entry in by_ref.items():
        rows = found.get(ref, [])
        listed.extend(
            replace(entry, ref=_own_ref(parsed[ref], row, rows), event=row) for row in rows
        )
        if not rows:
            listed.append(entry)
    return sorted(
        listed,
        key=lambda e: (e.event is None, e.event["ord"] if e.event else 0, e.ref),
    )
