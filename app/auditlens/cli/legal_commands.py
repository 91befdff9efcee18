"""Sub-commands that take evidence out of a case for others (issue 14): export, bookmarks.

Each action goes through the legal API (``Legal`` in core/report/session.py), which journals it
with what it selected and what it produced, so the examiner's record shows exactly which events
left the case and in which file.
"""

from __future__ import annotations

import argparse

from auditlens.cli.case_commands import selection_query, window_query
from auditlens.cli.output import drive, out
from auditlens.core.errors import UsageError
from auditlens.core.report.export import SUFFIX_FORMATS
from auditlens.core.report.session import Legal
from auditlens.core.store import queries
from auditlens.core.words import counted


def cmd_export(args: argparse.Namespace) -> int:
    """``auditlens export``: the events of a filtered view, to a new file, journaled."""
    named = SUFFIX_FORMATS.get(args.out.suffix.lower())
    if named is not None and named != args.format:
        # A .csv holding JSON lines misleads whoever opens it (a spreadsheet, a lawyer's
        # tool): refuse before anything is written or journaled.
        raise UsageError(
            f"{args.out} is named as {named} but --format is {args.format}: "
            f"name it {args.out.stem}.{args.format} or give --format {named}"
        )
    tz = queries.zone(args.tz)
    query = window_query(args, tz)
    with Legal.open(args.case, origin="cli") as legal:
        result = drive(legal.export(query, fmt=args.format, out=args.out))
    out(
        f"exported {counted(result.rows, 'event')} to {result.path} "
        f"({result.size:,} bytes, sha256 {result.sha256})"
    )
    return 0


def cmd_bookmark(args: argparse.Namespace) -> int:
    """``auditlens bookmark``: mark a filter's events or events by reference, journaled."""
    tz = queries.zone(args.tz)
    with Legal.open(args.case, origin="cli") as legal:
        query = selection_query(args, tz)
        if query is None:
            mark = legal.bookmark(refs=args.events, tags=args.tags, note=args.note)
        else:
            mark = legal.bookmark(query=query, tags=args.tags, note=args.note)
    tags = f" tagged {', '.join(mark.tags)}" if mark.tags else ""
    out(f"bookmark {mark.bookmark_id}: {counted(len(mark.refs), 'event')}{tags}")
    return 0


def cmd_bookmarks(args: argparse.Namespace) -> int:
    """``auditlens bookmarks``: every bookmarked event in time order, with tags and notes."""
    from auditlens.cli.output import emit

    tz = queries.zone(args.tz)
    with Legal.open(args.case, origin="cli") as legal:
        marked = legal.bookmarks()
    rows = []
    for entry in marked:
        event = queries.present_event(entry.event, tz) if entry.event else {}
        rows.append(
            {
                "ref": entry.ref,
                "bookmarks": ",".join(str(b) for b in entry.bookmark_ids),
                "tags": ",".join(entry.tags),
                "notes": " | ".join(entry.notes),
                "time": event.get("time"),
                "kind": event.get("kind"),
                "actor_id": event.get("actor_id"),
                "action": event.get("action"),
                "resource_id": event.get("resource_id"),
                "integrity": event.get("integrity", "(not in the case)"),
                "body": event.get("body"),
            }
        )
    columns = [
        "ref",
        "bookmarks",
        "tags",
        "notes",
        "time",
        "kind",
        "actor_id",
        "action",
        "resource_id",
        "integrity",
        "body",
    ]
    emit(rows, columns, args.format)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``auditlens report``: the examination report as PDF or HTML, journaled after writing."""
    from auditlens.core.errors import UsageError

    tz = None if args.tz == "UTC" else queries.zone(args.tz)
    signer = None
    if args.cert is not None and args.sign is None:
        raise UsageError("--cert goes with --sign KEY")
    if args.sign is not None:
        from auditlens.core.report.pdfsign import default_certificate, load_signer

        if args.out.suffix.lower() != ".pdf":
            raise UsageError("only a PDF report is signed: --out FILE.pdf with --sign")
        signer = load_signer(args.sign, args.cert or default_certificate(args.sign))
    with Legal.open(args.case, origin="cli") as legal:
        result = drive(legal.report(args.out, tz=tz, signer=signer))
    out(
        f"report written to {result.path} ({result.size:,} bytes, sha256 {result.sha256}); "
        f"journaled as entry {result.journal_head[0]}, after the head it names "
        f"({result.journal_head[0]}:{result.journal_head[1]})"
    )
    if signer is not None:
        out(f"signed by {signer.name}: 'auditlens verify {result.path.name}' checks it")
    return 0
