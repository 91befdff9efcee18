"""The examination: the one object through which the CLI and the workbench act on a case.

Both front ends open an :class:`Examination` on a case folder, saying where they act from
(``cli`` or ``workbench``), and call it; neither runs SQL of its own (the workbench imports no
DuckDB at all: an import-linter contract and ``tests/gui/test_no_sql.py`` hold this).

Invariants (docs/case.md, "What is journaled"):

* **Every examiner action is journaled here**, by the call itself, through ``Case.journal``
  (the hash-chained ``journal.jsonl``): its parameters, a count or digest of what it returned,
  and the origin the examination was opened with. Times in entries are RFC 3339 text: the
  journal takes no integer beyond 2^53, and a nanosecond time of 2026 is 1.8 * 10^18.
* **An action is what the examiner asks for**, not what a view does to show it: applying a
  filter, a time range, a sort or a pivot (one entry per application, never per keystroke),
  opening a trace, proving a record, listing actors or traces, reading the integrity overview
  or the statistics, importing. Reads that only serve an action already journaled are not
  entries of their own: the pages of an applied view as it scrolls (``EventView.rows``), the
  histogram and the sorted positions of the applied filter, the actors' swimlanes, the values
  the filter bar offers to complete, the metrics offered to chart and a chosen metric's points
  read again as the range or zone changes, the counts of the status line.
* A long job (import, ordering the timeline) is a generator of :class:`Progress` honouring a
  :class:`CancelToken`; cancelling interrupts the running DuckDB statement.
* :meth:`Examination.reader` gives an examination on its own DuckDB cursor, for one read off the
  calling thread (the workbench's worker): made on the calling thread, cancelled with
  :meth:`interrupt`, closed after the read. It journals like its parent (the case's journal lock
  keeps the appends of every thread in order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from auditlens.core.errors import InvalidInputError, UsageError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.store import metrics, queries
from auditlens.core.store.case import DATABASE, DB_NAME, Case

if TYPE_CHECKING:
    from auditlens.core.store.importer import ImportReport
    from auditlens.core.store.lanes import LaneMarks
    from auditlens.core.verify.trust import TrustStore

ORIGINS = ("cli", "workbench")
"""Where an examiner acts from; every journal entry of an examination names one."""


def check_origin(origin: str) -> None:
    """Refuse an ``origin`` that is not one of :data:`ORIGINS`.

    Raises:
        UsageError: naming the origins there are.
    """
    if origin not in ORIGINS:
        raise UsageError(f"unknown origin {origin!r}: one of {', '.join(ORIGINS)}")


def digest(value: Any) -> str:
    """``sha256:`` and the hex SHA-256 of ``value`` as sorted, compact JSON (what a call returned).

    Values JSON has no type for (bytes, say) enter as their ``str``.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _events_digest(rows: Sequence[dict[str, Any]]) -> str:
    """The digest of which records a call returned, in order: each one's place in the evidence.

    Stream, sequence number, leaf hash, file and line name a record whatever the case (``ord``
    moves with imports); hashing them rather than whole rows keeps a 100,000-row page cheap.
    """
    return digest(
        [
            (r.get("stream_id"), r.get("seq"), r.get("leaf_hash"), r.get("file"), r.get("line"))
            for r in rows
        ]
    )


def zone_name(tz: tzinfo) -> str:
    """An IANA name for ``tz`` (its ``key``), else what it calls itself."""
    return str(getattr(tz, "key", None) or tz)


def _query_details(query: queries.EventQuery) -> dict[str, Any]:
    details = {
        "filter": query.filter,
        "from": queries.format_time(query.time_from_ns),
        "to": queries.format_time(query.time_to_ns),
    }
    if query.tz is not None:
        # The zone of the times the filter holds without an offset.
        details["zone"] = zone_name(query.tz)
    return details


class Examination:
    """An open case and the examiner's calls on it, each journaled with its origin."""

    def __init__(self, case: Case, origin: str) -> None:
        check_origin(origin)
        self._case = case
        self.origin = origin
        self.closed = False
        case.origin = origin

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, *, origin: str, create: bool = False) -> Examination:
        """Open the case in ``folder`` (with ``create``, make it and journal ``case_created``).

        Raises:
            InvalidInputError: ``folder`` holds no case (and ``create`` is false), or its
                database cannot be opened.
            UsageError: ``origin`` is not one of :data:`ORIGINS`.
        """
        check_origin(origin)
        created = not (folder / DB_NAME).exists()
        case = Case.open(folder, create=create)
        try:
            session = cls(case, origin)
            if created:
                session._journal("case_created", {"folder": str(folder.resolve())})
        except BaseException:
            case.close()
            raise
        return session

    @property
    def folder(self) -> Path:
        """The case folder."""
        return self._case.folder

    def reader(self) -> Examination:
        """An examination on a cursor of its own, for one read on another thread.

        Make it on the thread that owns this examination (DuckDB refuses a call on a
        connection another thread is using instead of waiting), use it on the other thread,
        :meth:`interrupt` it to cancel, :meth:`close` it after.
        """
        cursor = self._case.db.cursor()
        # A cursor starts in DuckDB's in-memory database, not in the case attached to it.
        cursor.execute(f"USE {DATABASE}")
        return Examination(Case(self._case.folder, cursor), self.origin)

    def interrupt(self) -> None:
        """Stop the statement running on this examination's connection (any thread).

        Nothing to stop once closed (a Cancel arriving after the job ended); a journal append
        under way is finished first (``Case.interrupt``).
        """
        if not self.closed:
            self._case.interrupt()

    def close(self) -> None:
        """Close the case (or the reader's cursor)."""
        self.closed = True
        self._case.close()

    def __enter__(self) -> Examination:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _journal(self, action: str, details: dict[str, Any]) -> None:
        self._case.journal(action, details)

    def _query(self, command: str, details: dict[str, Any]) -> None:
        self._journal("query", {"command": command, **details})

    # -- import and order ---------------------------------------------------------------------

    def import_evidence(
        self,
        inputs: Sequence[Path],
        trust: TrustStore,
        *,
        token: CancelToken | None = None,
    ) -> Generator[Progress, None, ImportReport]:
        """Verify, index and order ``inputs`` (the importer journals each input it handles)."""
        from auditlens.core.store.importer import Importer

        token = token or CancelToken()
        token.on_cancel(self.interrupt)
        # Absolute paths: a report recomputes each input's digest from its recorded path
        # (docs/report.md, "Evidence inventory"), and a relative one names a file only together
        # with a working folder the case does not record.
        inputs = [Path(p).absolute() for p in inputs]
        if trust.keys:
            queries.record_trust(self._case, trust_record(trust))
        report = yield from Importer(self._case, trust, token=token).run(inputs)
        yield from self.order(token=token)
        return report

    def trust_store(self) -> list[Path]:
        """The trust store files chosen for this case (docs/case.md, the workbench)."""
        return [Path(p) for p in queries.trust_paths(self._case)]

    def set_trust_store(self, paths: Sequence[Path]) -> None:
        """Choose the case's trust store: journaled with each file's SHA-256 (read now)."""
        chosen = []
        for path in paths:
            try:
                sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise InvalidInputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
            chosen.append({"path": str(path.resolve()), "sha256": sha256})
        queries.set_trust_paths(self._case, [c["path"] for c in chosen])
        self._journal("trust_store", {"files": chosen})

    def order(self, *, token: CancelToken | None = None) -> Generator[Progress, None, None]:
        """Give the events their time order and rebuild the lookup tables, when needed."""
        if token is not None:
            token.on_cancel(self.interrupt)
            token.check()
        yield Progress("indexing", 0, None, "", "ordering the timeline")
        queries.refresh_order(self._case)

    def needs_ordering(self) -> bool:
        """Whether :meth:`order` has work to do (an import failed at its end, say)."""
        return queries.needs_refresh(self._case)

    def counts(self) -> queries.CaseCounts:
        """Events, inputs and findings, for a status line (not journaled)."""
        return queries.case_counts(self._case)

    # -- events -------------------------------------------------------------------------------

    def apply(
        self,
        query: queries.EventQuery,
        *,
        sort: tuple[str, bool] | None = None,
        via: str = "filter",
        pivot: dict[str, str] | None = None,
    ) -> queries.EventView:
        """Apply a filter and time range (and sort): the view of the matching events.

        Journaled once per application, with the number of matches: ``via`` says what applied
        it (``filter``, ``range``, ``sort``, ``pivot``, ``back``, ``refresh``...), ``pivot``
        what was pivoted to (``{"actor": ...}``). Its pages are read without entries.

        Raises:
            QuerySyntaxError: the filter does not parse (nothing is journaled).
        """
        view = queries.EventView(self._case, query)
        details: dict[str, Any] = {**_query_details(query), "via": via, "matches": view.count}
        if sort is not None:
            details["sort"] = {"column": sort[0], "descending": sort[1]}
        if pivot:
            details["pivot"] = dict(pivot)
        self._query("filter", details)
        return view

    def saved_views(self) -> list[queries.SavedView]:
        """The views saved in this case (not journaled: a list of names)."""
        return queries.saved_views(self._case)

    def save_view(
        self, name: str, query: queries.EventQuery, columns: Sequence[str]
    ) -> queries.SavedView:
        """Save (or replace) a named view: filter, time range, zone and columns; journaled."""
        name = name.strip()
        if not name:
            raise UsageError("a saved view needs a name")
        query.where()  # a filter that does not parse is not saved
        view = queries.SavedView(
            name,
            query.filter,
            query.time_from_ns,
            query.time_to_ns,
            None if query.tz is None else zone_name(query.tz),
            tuple(columns),
        )
        others = [v for v in queries.saved_views(self._case) if v.name != name]
        queries.store_saved_views(self._case, [*others, view])
        self._journal(
            "view_saved",
            {"name": name, **_query_details(query), "columns": list(view.columns)},
        )
        return view

    def suggestions(self, query: queries.EventQuery) -> list[Any]:
        """Near variants of a filter that found nothing (part of its answer: not journaled)."""
        from auditlens.core.store.suggest import suggest

        return suggest(
            self._case,
            query.filter,
            tz=query.tz,
            time_from_ns=query.time_from_ns,
            time_to_ns=query.time_to_ns,
        )

    def count(self, query: queries.EventQuery) -> int:
        """How many events match ``query``."""
        found = queries.count_events(self._case, query)
        self._query("count", {**_query_details(query), "matches": found})
        return found

    def events(
        self, query: queries.EventQuery, *, offset: int = 0, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Rows ``offset`` .. ``offset + limit`` of the matching events in time order."""
        rows = queries.events_page(self._case, query, offset=offset, limit=limit)
        self._query(
            "events",
            {
                **_query_details(query),
                "offset": offset,
                "limit": limit,
                "rows": len(rows),
                "digest": _events_digest(rows),
            },
        )
        return rows

    def sorted_positions(self, query: queries.EventQuery, column: str, descending: bool) -> Any:
        """The ``ord`` of the matches sorted by ``column``: the work of an applied sort.

        Not journaled: :meth:`apply` with ``sort`` journals the sort when it is applied.
        """
        return queries.sorted_positions(self._case, query, column, descending)

    def rows_at(self, positions: list[int]) -> list[dict[str, Any]]:
        """The events at ``positions`` (a page of a sorted view; not journaled)."""
        return queries.rows_at(self._case, positions)

    def positions_view(self, positions: Any) -> queries.PositionsView:
        """A view of the events at ``positions``, in their order (pages not journaled)."""
        return queries.PositionsView(self._case, positions)

    def histogram(
        self, bucket_ns: int, query: queries.EventQuery | None = None
    ) -> list[tuple[int | None, int]]:
        """Event counts per bucket of ``bucket_ns``."""
        query = query or queries.EventQuery()
        buckets = queries.histogram(self._case, bucket_ns, query)
        self._query(
            "histogram",
            {
                **_query_details(query),
                "bucket_ns": bucket_ns,
                "rows": len(buckets),
                "events": sum(c for _, c in buckets),
                "digest": digest(buckets),
            },
        )
        return buckets

    def overview_histogram(
        self, query: queries.EventQuery
    ) -> tuple[list[tuple[int | None, int]], int]:
        """The histogram drawn over an applied view and its bucket (not journaled)."""
        return queries.overview_histogram(self._case, query)

    def gaps(self) -> list[queries.StreamGap]:
        """The gaps between bundles, marked on the events histogram (not journaled)."""
        return queries.gaps(self._case)

    def completion_values(self) -> list[tuple[str, str]]:
        """``(field, value)`` pairs for the filter bar's completer (not journaled)."""
        return queries.completion_values(self._case)

    # -- actors and traces --------------------------------------------------------------------

    def actors(self) -> list[queries.Actor]:
        """Every actor with counts, addresses and actions."""
        found = queries.actors(self._case)
        self._query(
            "actors",
            {"rows": len(found), "digest": digest([a.__dict__ for a in found])},
        )
        return found

    def actor_timeline(
        self, actor_id: str, *, limit: int = queries.TIMELINE_LIMIT, offset: int = 0
    ) -> queries.ActorTimeline:
        """One actor's sessions, address changes and a page of events."""
        if limit < 0 or offset < 0:
            raise UsageError("--limit and --offset must be at least 0")
        timeline = queries.actor_timeline(self._case, actor_id, limit=limit, offset=offset)
        self._query(
            "actor",
            {
                "actor": actor_id,
                "offset": offset,
                "limit": limit,
                "rows": len(timeline.events),
                "sessions": len(timeline.sessions),
                "digest": _events_digest(timeline.events),
            },
        )
        return timeline

    def lanes(self, actors: Sequence[str], *, buckets: int) -> list[LaneMarks]:
        """The swimlane marks of ``actors`` (drawn with the actor list; not journaled)."""
        from auditlens.core.store import lanes

        return lanes.lanes(self._case, actors, buckets=buckets)

    def trace(self, trace_id: str, *, via: str = "open") -> queries.Trace:
        """A trace's span tree with its logs and metric exemplars (journaled with every event)."""
        found = queries.trace(self._case, trace_id)
        rows: list[dict[str, Any]] = []

        def walk(node: queries.SpanNode) -> None:
            rows.append(node.span)
            rows.extend(node.logs)
            for child in node.children:
                walk(child)

        for root in found.roots:
            walk(root)
        rows.extend(found.orphan_logs)
        rows.extend(found.points)
        self._query(
            "trace",
            {
                "trace_id": trace_id,
                "via": via,
                "spans": found.span_count,
                "events": len(rows),
                "missing_parents": len(found.missing_parents),
                "exemplars": len(found.exemplars),
                "digest": _events_digest(sorted(rows, key=lambda r: r.get("ord") or 0)),
            },
        )
        return found

    def trace_list(
        self, query: queries.EventQuery | None = None, *, limit: int = 2000
    ) -> list[dict[str, Any]]:
        """Traces with an event matching ``query``."""
        query = query or queries.EventQuery()
        rows = queries.trace_list(self._case, query, limit=limit)
        self._query(
            "traces",
            {
                **_query_details(query),
                "rows": len(rows),
                "digest": digest([r["trace_id"] for r in rows]),
            },
        )
        return rows

    # -- metrics ------------------------------------------------------------------------------

    def metric_names(self) -> list[metrics.MetricName]:
        """The metrics the case holds, offered for the chart (not journaled: a list of names)."""
        return metrics.metric_names(self._case)

    def chart_metric(
        self,
        name: str,
        time_from_ns: int | None = None,
        time_to_ns: int | None = None,
        *,
        tz: tzinfo | None = None,
    ) -> metrics.MetricPoints:
        """Chart metric ``name`` over ``[time_from_ns, time_to_ns)``: the examiner chose it.

        Journaled with the metric, the range, the zone the chart is drawn in, the points in the
        range and the digest of those returned. Drawing the chosen metric again as the events
        view's range or zone changes reads :meth:`metric_points` (not journaled: it serves the
        range applied, which is journaled itself).
        """
        found = metrics.metric_points(self._case, name, time_from_ns, time_to_ns)
        details: dict[str, Any] = {
            "metric": name,
            "from": queries.format_time(time_from_ns),
            "to": queries.format_time(time_to_ns),
            "points": found.count,
            "digest": digest([(p.time_ns, p.value, p.series) for p in found.points]),
        }
        if tz is not None:
            details["zone"] = zone_name(tz)
        self._query("metric_chart", details)
        return found

    def metric_points(
        self, name: str, time_from_ns: int | None = None, time_to_ns: int | None = None
    ) -> metrics.MetricPoints:
        """The data points of a chosen metric in a range, to draw it again (not journaled)."""
        return metrics.metric_points(self._case, name, time_from_ns, time_to_ns)

    # -- integrity, statistics, proof -----------------------------------------------------------

    def integrity(self) -> queries.IntegrityOverview:
        """Bundles with their verdicts, every finding, and the unsealed streams."""
        found = queries.integrity_overview(self._case)
        self._query(
            "integrity",
            {
                "bundles": len(found.bundles),
                "findings": len(found.findings),
                "raw_streams": len(found.raw_streams),
                "record_marks": len(found.marks),
                "gaps": len(found.gaps),
                "digest": digest(
                    {
                        "bundles": [(b["bundle_id"], b["verdict"]) for b in found.bundles],
                        "findings": [
                            (f["code"], f["path"], f["line"], f["seq"]) for f in found.findings
                        ],
                    }
                ),
            },
        )
        return found

    def stats(self) -> dict[str, Any]:
        """Events by kind and integrity, bundles by verdict, streams, inputs, time span."""
        found = queries.stats(self._case)
        self._query("stats", {"events": found["events"], "digest": digest(found)})
        return found

    def prove(self, event: dict[str, Any]) -> queries.RecordProof:
        """Read ``event``'s record from its evidence and prove it into the signed Merkle root."""
        proof = queries.record_proof(self._case, event)
        self._journal(
            "prove",
            {
                "bundle_id": event.get("bundle_id"),
                "stream_id": event.get("stream_id"),
                "seq": event.get("seq"),
                "file": event.get("file"),
                "line": event.get("line"),
                "leaf": proof.leaf,
                "root": proof.root,
                "verified": proof.verified,
                "problem": proof.problem,
            },
        )
        return proof


class OnCase:
    """The calls of a package above the store on one open case, journaled with an origin.

    The analysis (core/analysis/session.py) and the legal actions (core/report/session.py) act
    the way an :class:`Examination` does, from an origin, and are opened two ways:

    * :meth:`open` opens the case folder itself (the CLI); :meth:`close` closes it;
    * :meth:`of` acts on an examination already open (the workbench, which holds no case handle
      of its own: an import-linter contract), sharing its connection and origin; :meth:`close`
      leaves the examination open. For a job on a worker thread, pass its :meth:`reader`.
    """

    def __init__(self, case: Case, origin: str, *, owns_case: bool = True) -> None:
        check_origin(origin)
        self.case = case
        self.origin = origin
        self.owns_case = owns_case
        case.origin = origin

    @classmethod
    def open(cls, folder: Path, *, origin: str) -> Self:
        """Open the case in ``folder`` for calls from ``origin``.

        Raises:
            InvalidInputError: ``folder`` holds no case, or its database cannot be opened.
            UsageError: ``origin`` is not one of :data:`ORIGINS`.
        """
        case = Case.open(folder)
        try:
            return cls(case, origin)
        except BaseException:
            case.close()
            raise

    @classmethod
    def of(cls, examination: Examination) -> Self:
        """The calls on the case ``examination`` has open, journaled with its origin."""
        return cls(examination._case, examination.origin, owns_case=False)

    def close(self) -> None:
        """Close the case, when :meth:`open` opened it (not an examination's: :meth:`of`)."""
        if self.owns_case:
            self.case.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def trust_record(trust: TrustStore) -> list[dict[str, Any]]:
    """The keys of ``trust`` as the case records them (``queries.trust_used``).

    Each trust store file is listed with its SHA-256, read now; a file that cannot be read
    again is listed without one.
    """
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    digests: dict[str, str | None] = {}
    for source in trust.sources:
        try:
            digests[source] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        except OSError:
            digests[source] = None
    return [
        {
            "key_id": key.key_id,
            "algorithm": key.algorithm,
            "owner": key.owner,
            "obtained": key.obtained,
            "not_before": queries.format_time(key.not_before_ns),
            "not_after": queries.format_time(key.not_after_ns),
            "revoked_at": queries.format_time(key.revoked_at_ns),
            "revocation_reason": key.revocation_reason,
            "sample": key.sample,
            "public_key": key.public.public_bytes(*pem).decode("ascii"),
            "sources": [
                {"path": str(Path(key.source).absolute()), "sha256": digests.get(key.source)}
            ]
            if key.source
            else [],
        }
        for key in trust.keys.values()
    ]


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def may_hold_sealed_bundles(paths: Sequence[Path]) -> bool:
    """Whether importing ``paths`` may meet a sealed bundle (a question worth asking for trust).

    A guess from names only, never reading evidence: a folder with ``manifest.json`` at its top
    or one level down, or an archive. Raw logs (``.jsonl``, ``.json``, compressed) need no trust
    store; a wrong guess only asks, or does not ask, the question.
    """
    for path in paths:
        name = path.name.lower()
        if name.endswith(ARCHIVE_SUFFIXES):
            return True
        try:
            if path.is_dir() and (
                (path / "manifest.json").is_file()
                or any(
                    (child / "manifest.json").is_file()
                    or child.name.lower().endswith(ARCHIVE_SUFFIXES)
                    for child in path.iterdir()
                )
            ):
                return True
        except OSError:
            continue
    return False
