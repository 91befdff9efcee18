"""Sub-commands that work on a case folder: import, queries, journal.

Every command acts through the examination API (core.store.session), which journals each call
with origin ``cli``: the examiner's queries are part of the record (docs/case.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditlens.cli.output import drive, emit, err, out, out_json
from auditlens.core.errors import UsageError
from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.core.verify.findings import EXIT_CODES, Verdict, worst
from auditlens.core.words import counted

FORMATS = ("table", "csv", "jsonl")
EVENT_TABLE = [
    "time",
    "kind",
    "actor_id",
    "action",
    "outcome",
    "resource_id",
    "source_ip",
    "service",
    "integrity",
    "name",
    "body",
]


def _open(case_dir: Path, *, create: bool = False) -> Examination:
    return Examination.open(case_dir, origin="cli", create=create)


def cmd_import(args: argparse.Namespace) -> int:
    """``auditlens import``: verify and index inputs into the case."""
    from auditlens.cli.commands import load_trust_paths
    from auditlens.cli.main import EXIT_INTERRUPTED, interrupted_in_duckdb

    trust = load_trust_paths(args.trust)
    try:
        with _open(args.case, create=True) as examination:
            report = drive(examination.import_evidence(args.inputs, trust))
    except (KeyboardInterrupt, Exception) as exc:
        if not isinstance(exc, KeyboardInterrupt) and not interrupted_in_duckdb(exc):
            raise
        # Ctrl+C: say what the case holds now, which the lines of each input would have said.
        err(
            "auditlens: interrupted: each input is one transaction: those committed stay in the "
            f"case, one in progress left nothing; 'auditlens stats {args.case}' shows what the "
            f"case holds, 'auditlens journal verify {args.case}' whether the journal names it all"
        )
        return EXIT_INTERRUPTED
    verdicts = []
    for result in report.inputs:
        verdicts.append(result.verdict)
        state = (
            "replay: already in the case, nothing added"
            if result.replay
            else counted(result.records, "event")
        )
        out(f"[{result.verdict.value}] {result.path}: {state}")
        out(
            f"    sha256 {result.sha256}"
            + (f"  bundle {result.bundle_id}" if result.bundle_id else "")
        )
        for finding in result.findings:
            if finding.severity != "info":
                out(
                    f"    {finding.severity.upper()} {finding.code}: {finding.message} "
                    f"at {finding.place()}"
                )
    for stream in report.streams:
        # The stream's own verdict, between its bundles (docs/verification.md §3.1).
        verdicts.append(stream.verdict)
        out(
            f"[{stream.verdict.value}] stream {stream.stream_id} epoch {stream.epoch}: "
            f"{len(stream.bundles)} bundle(s), seq {stream.first_seq}-{stream.last_seq}"
        )
        for item in stream.findings:
            finding = item.finding
            out(
                f"    {finding.severity.upper()} {finding.code}: {finding.message} "
                f"at {finding.place()}"
            )
    out(
        f"imported {counted(report.records, 'event')} from "
        f"{counted(len(report.inputs), 'input')} into {args.case}"
    )
    return EXIT_CODES[worst(verdicts)] if verdicts else 0


def time_arg(text: str | None, name: str, tz: Any = None) -> int | None:
    """``--from``/``--to``: an ISO-8601 time, read in ``--tz`` when it has no offset."""
    if text is None:
        return None
    from auditlens.core.errors import QuerySyntaxError
    from auditlens.core.query.values import parse_time

    try:
        return parse_time(text, 0, len(text), tz)[0]
    except QuerySyntaxError as exc:
        raise UsageError(f"{name}: {exc.reason}") from exc


def selection_query(args: argparse.Namespace, tz: Any) -> queries.EventQuery | None:
    """The query of ``--filter``, ``--from`` and ``--to``; None when ``--event`` names events.

    The two are one choice (case_parsers.add_selection_arguments); a window beside references
    would be ignored, so it is refused.
    """
    if args.events:
        if args.time_from or args.time_to:
            raise UsageError("--event names the events: leave out --from and --to")
        return None
    return window_query(args, tz)


def window_query(args: argparse.Namespace, tz: Any) -> queries.EventQuery:
    """The query of ``--filter``, ``--from`` and ``--to`` (times read in ``--tz``)."""
    return queries.EventQuery(
        args.filter or "",
        time_arg(args.time_from, "--from", tz),
        time_arg(args.time_to, "--to", tz),
        tz,
    )


def cmd_events(args: argparse.Namespace) -> int:
    """``auditlens events``: a page of events."""
    tz = queries.zone(args.tz)
    query = window_query(args, tz)
    with _open(args.case) as examination:
        rows = examination.events(query, offset=args.offset, limit=args.limit)
        if not rows and args.offset == 0 and args.filter.strip():
            for suggestion in examination.suggestions(query):
                err(f"auditlens: no events; {suggestion.message()}")
    emit(
        [queries.present_event(r, tz) for r in rows],
        list(queries.OUTPUT_FIELDS),
        args.format,
        table_columns=EVENT_TABLE,
    )
    return 0


def cmd_actors(args: argparse.Namespace) -> int:
    """``auditlens actors``: every actor with counts and addresses."""
    tz = queries.zone(args.tz)
    with _open(args.case) as examination:
        found = examination.actors()
    rows = [
        {
            "actor_id": a.actor_id,
            "name": a.name,
            "roles": ",".join(a.roles),
            "events": a.events,
            "first_seen": queries.format_time(a.first_ns, tz),
            "last_seen": queries.format_time(a.last_ns, tz),
            "addresses": a.addresses,
            "actions": a.actions,
        }
        for a in found
    ]
    emit(
        rows,
        ["actor_id", "name", "roles", "events", "first_seen", "last_seen", "addresses", "actions"],
        args.format,
    )
    return 0


def cmd_actor(args: argparse.Namespace) -> int:
    """``auditlens actor``: one actor's timeline."""
    tz = queries.zone(args.tz)
    with _open(args.case) as examination:
        timeline = examination.actor_timeline(args.actor, limit=args.limit, offset=args.offset)
    if not timeline.total:
        # Exit 2 (invalid input), as the exit codes say: 1 would read as "tampered".
        err(f"auditlens: no events for actor {args.actor!r} in the case")
        return EXIT_CODES[Verdict.INVALID]
    if args.format == "table":
        # The actor's count, and which of its events this page shows (--limit, --offset).
        shown = len(timeline.events)
        page = (
            f"{args.offset + 1:,}-{args.offset + shown:,} shown"
            if shown
            else f"none shown past --offset {args.offset:,}"
        )
        out(
            f"actor {args.actor}: {counted(timeline.total, 'event')} ({page}), "
            f"{counted(len(timeline.sessions), 'session')}"
        )
        for session in timeline.sessions:
            out(
                f"  session {session.session_id}: {queries.format_time(session.first_ns, tz)} .. "
                f"{queries.format_time(session.last_ns, tz)} "
                f"from {', '.join(session.addresses) or '-'} "
                f"({counted(session.events, 'event')})"
            )
        for when, before, after in timeline.address_changes:
            out(
                f"  address {before or '(first seen)'} -> {after} "
                f"at {queries.format_time(when, tz)}"
            )
        out("")
    emit(
        [queries.present_event(r, tz) for r in timeline.events],
        list(queries.OUTPUT_FIELDS),
        args.format,
        table_columns=[
            "time",
            "action",
            "outcome",
            "resource_type",
            "resource_id",
            "source_ip",
            "session_id",
            "integrity",
        ],
    )
    return 0


def _log_row(log: dict[str, Any], depth: int, tz: Any, label: str, note: str) -> dict[str, Any]:
    return {
        "depth": depth,
        "type": "log",
        "time": queries.format_time(log["time_ns"], tz),
        "service": log["service"],
        "name": ("  " * depth) + label + str(log["body"] or ""),
        "span_id": log["span_id"],
        "parent_span_id": None,
        "duration_ns": None,
        "integrity": log["integrity"],
        "note": note,
    }


def _exemplar_row(exemplar: queries.Exemplar, depth: int, tz: Any, note: str) -> dict[str, Any]:
    """A metric exemplar: the metric's name, the exemplar's value and time, its data point's."""
    point = exemplar.point
    unit = f" {exemplar.unit}" if exemplar.unit else ""
    value = "(no value)" if exemplar.value is None else f"{exemplar.value}{unit}"
    # The point's body is "NAME = VALUE UNIT" (formats/otlp_metrics.py): its value is what follows.
    shown = str(point["body"] or "").removeprefix(f"{exemplar.metric} = ")
    said = f"data point {shown} at {queries.format_time(point['time_ns'], tz)}"
    return {
        "depth": depth,
        "type": "metric exemplar",
        "time": queries.format_time(exemplar.time_ns, tz),
        "service": point["service"],
        "name": ("  " * depth) + f"{exemplar.metric} = {value}",
        "span_id": exemplar.span_id,
        "parent_span_id": None,
        "duration_ns": None,
        "integrity": point["integrity"],
        "note": f"{note}; {said}" if note else said,
    }


def _trace_rows(node: queries.SpanNode, depth: int, tz: Any, rows: list[dict[str, Any]]) -> None:
    span = node.span
    rows.append(
        {
            "depth": depth,
            "type": "span",
            "time": queries.format_time(span["time_ns"], tz),
            "service": span["service"],
            "name": ("  " * depth) + str(span["name"]),
            "span_id": span["span_id"],
            "parent_span_id": span["parent_span_id"],
            "duration_ns": span["duration_ns"],
            "integrity": span["integrity"],
            "note": "parent missing" if node.missing_parent else "",
        }
    )
    # The span's logs and the exemplars naming it, each at its own time (docs/case.md, Metrics).
    under: list[tuple[int, dict[str, Any]]] = [
        (log["time_ns"] or 0, _log_row(log, depth + 1, tz, "log: ", "")) for log in node.logs
    ]
    under += [(e.time_ns or 0, _exemplar_row(e, depth + 1, tz, "")) for e in node.exemplars]
    rows.extend(row for _, row in sorted(under, key=lambda item: item[0]))
    for child in sorted(node.children, key=lambda c: c.span["time_ns"] or 0):
        _trace_rows(child, depth + 1, tz, rows)


def cmd_trace(args: argparse.Namespace) -> int:
    """``auditlens trace``: the span tree with linked logs and the metric exemplars naming it."""
    tz = queries.zone(args.tz)
    with _open(args.case) as examination:
        found = examination.trace(args.trace_id)
    if found.empty:
        err(f"auditlens: no spans, logs or metric data points for trace {args.trace_id}")
        return EXIT_CODES[Verdict.INVALID]  # invalid input: 1 would read as "tampered"
    rows: list[dict[str, Any]] = []
    for root in sorted(found.roots, key=lambda r: r.span["time_ns"] or 0):
        _trace_rows(root, 0, tz, rows)
    for log in found.orphan_logs:
        rows.append(_log_row(log, 0, tz, "orphan log: ", "span not in case"))
    for exemplar in found.orphan_exemplars:
        rows.append(_exemplar_row(exemplar, 0, tz, "span not in case"))
    columns = [
        "depth",
        "type",
        "time",
        "service",
        "name",
        "span_id",
        "parent_span_id",
        "duration_ns",
        "integrity",
        "note",
    ]
    if args.format == "table":
        out(
            f"trace {found.trace_id}: {found.span_count} spans, "
            f"{found.log_count} logs ({len(found.orphan_logs)} orphan logs), "
            f"{len(found.missing_parents)} missing parent(s), "
            f"{len(found.exemplars)} metric exemplar(s) from {len(found.points)} data point(s)"
        )
    emit(rows, columns, args.format, table_columns=[c for c in columns if c != "depth"])
    return 0


def cmd_histogram(args: argparse.Namespace) -> int:
    """``auditlens histogram``: counts per bucket."""
    tz = queries.zone(args.tz)
    bucket = queries.parse_bucket(args.bucket)
    with _open(args.case) as examination:
        buckets = examination.histogram(bucket, queries.EventQuery(args.filter, tz=tz))
    emit(
        [
            {"bucket": queries.format_time(b, tz) if b is not None else "(no time)", "count": c}
            for b, c in buckets
        ],
        ["bucket", "count"],
        args.format,
    )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """``auditlens stats``: what the case holds."""
    with _open(args.case) as examination:
        found = examination.stats()
    found["time_first"] = queries.format_time(found.pop("time_first_ns"))
    found["time_last"] = queries.format_time(found.pop("time_last_ns"))
    if args.json:
        out_json(found)
        return 0

    def counts(key: str) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in found[key].items()) or "-"

    out(f"events: {found['events']:,}  ({counts('events_by_kind')})")
    out(f"integrity: {counts('events_by_integrity')}")
    out(f"bundles: {counts('bundles_by_verdict')}")
    for stream in found["streams"]:
        out(
            f"  stream {stream['stream_id']}: {stream['bundles']} bundle(s), seq "
            f"{stream['first_seq']}-{stream['last_seq']}"
        )
    for stream in found["raw_streams"]:
        out(f"  unsealed {stream['stream_id']}: {counted(stream['events'], 'event')}")
    out(f"inputs: {found['inputs']}  findings: {found['findings']}")
    if found["time_first"] is None:
        out("time span: - (no event with a time)")
    else:
        out(f"time span: {found['time_first']} .. {found['time_last']}")
    return 0


JOURNAL_INTERRUPTED_EXIT = 3
"""``journal verify``: no tampering, but the last action was interrupted (docs/case.md). Like 3
for evidence (untrusted or unsealed): nothing was found wrong, and the result is not a full pass."""


def cmd_journal(args: argparse.Namespace) -> int:
    """``auditlens journal verify``: 0 intact, 1 tampered (every problem named), 3 interrupted."""
    from auditlens.core.store.case import read_journal_record
    from auditlens.core.store.journal import JournalStatus, verify_journal

    # Read-only: verifying must not change the case (the next open for writing recovers it).
    record = read_journal_record(args.case)
    if record is None:
        report = verify_journal(args.case)
    else:
        report = verify_journal(
            args.case,
            expected_head=record.head,
            announced=record.announced,
            case_empty=record.empty,
        )
    note = report.interrupted
    if report.status is JournalStatus.INTACT:
        out(f"journal intact: {report.entries} entries")
        _say_unjournaled(record)
        return 0
    if report.status is JournalStatus.INTERRUPTED and note is not None:
        out(
            f"journal INTERRUPTED (no tampering found): {report.entries} entries; the last "
            "action was interrupted before the case recorded it"
        )
        out(f"  {note.describe()}")
        _say_unjournaled(record)
        return JOURNAL_INTERRUPTED_EXIT
    listed = f"{len(report.problems)} problem(s)"
    if report.unlisted:
        listed += f" (and {report.unlisted} more not listed)"
    out(f"journal TAMPERED: {listed} in {report.entries} entries")
    for problem in report.problems:
        out(f"  {problem.describe()}")
    if note is not None:
        out(f"  note: {note.describe()}")
    _say_unjournaled(record)
    return EXIT_CODES[Verdict.TAMPERED]


def _say_unjournaled(record: Any) -> None:
    """Name the inputs the case holds that no journal entry names yet (the entries are intact)."""
    if record is None or not record.unjournaled:
        return
    out(
        f"  note: {len(record.unjournaled)} input(s) committed to the case but not yet named in "
        "the journal (an import was stopped between its commit and its entry); the next open "
        "for writing journals them as import_recovered:"
    )
    for input_id, path in record.unjournaled:
        out(f"    input {input_id}: {path}")
