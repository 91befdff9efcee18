"""Argument parsers of the case sub-commands, kept apart from their implementation.

Building the parser must stay cheap: ``auditlens verify`` should not load DuckDB and pyarrow just
to learn that ``import`` exists (measured: +0.19 s and +50 MB per run).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

FORMATS = ("table", "csv", "jsonl")
# Kept here, not imported from core.report.export: building the parser must stay cheap.
EXPORT_FORMATS = ("csv", "jsonl", "parquet")


_CASE_HELP = "the case folder"
_TIME_HELP = (
    "ISO-8601 date or time (2026-03-01, 2026-03-01T10:15, ...T10:15:30.5+02:00), "
    "read in --tz when it has no offset"
)


def add_selection_arguments(parser: argparse.ArgumentParser, filter_help: str) -> None:
    """Add the events a command acts on: a ``--filter`` window or ``--event`` references."""
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--filter", metavar="Q", help=filter_help)
    chosen.add_argument(
        "--event",
        dest="events",
        action="append",
        metavar="REF",
        help="an event reference, stream:STREAM#SEQ (sealed) or raw:SHA256#LINE[.K] (raw), as "
        "'export' and 'bookmarks' print them (repeatable)",
    )
    parser.add_argument(
        "--from", dest="time_from", metavar="T", help="with --filter, first time: " + _TIME_HELP
    )
    parser.add_argument(
        "--to", dest="time_to", metavar="T", help="with --filter, end time: " + _TIME_HELP
    )
    parser.add_argument(
        "--tz", default="UTC", help="IANA time zone of times typed without an offset"
    )


def add_parsers(sub: Any) -> None:
    """Register the case sub-commands on the top-level sub-parser."""
    imp = sub.add_parser("import", help="import evidence into a case folder")
    imp.add_argument(
        "case", type=Path, metavar="CASE_DIR", help="the case folder (created when missing)"
    )
    imp.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="sealed bundles (folder, .zip, .tar.gz) or raw evidence files",
    )
    imp.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="trust store file or PEM public key (repeatable); without one, sealed evidence "
        "is at best untrusted",
    )

    def query_parser(name: str, help_text: str, typed: str = "") -> argparse.ArgumentParser:
        """A query command; ``typed`` names its options whose times --tz also reads."""
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)
        parser.add_argument(
            "--format", choices=FORMATS, default="table", help="output format (default table)"
        )
        reads = f" and for times typed without an offset in {typed}" if typed else ""
        parser.add_argument(
            "--tz",
            default="UTC",
            help=f"IANA time zone for printed times{reads} (default UTC)",
        )
        return parser

    filter_help = (
        "filter query, e.g. 'actor_id:sup-004 AND action:(EXPORT OR DOWNLOAD)' "
        "(see docs/case.md, The filter language)"
    )
    events = query_parser("events", "list events in time order", "--filter, --from and --to")
    events.add_argument("--filter", default="", metavar="Q", help=filter_help)
    events.add_argument(
        "--from", dest="time_from", metavar="T", help="first time included: " + _TIME_HELP
    )
    events.add_argument(
        "--to", dest="time_to", metavar="T", help="end time, excluded: " + _TIME_HELP
    )
    events.add_argument(
        "--limit", type=int, default=200, help="events shown (default 200, at most 100000)"
    )
    events.add_argument(
        "--offset", type=int, default=0, help="matching events skipped first (default 0)"
    )
    query_parser("actors", "list actors")
    actor = query_parser("actor", "one actor's timeline")
    actor.add_argument("actor", metavar="ACTOR", help="the actor id")
    actor.add_argument("--limit", type=int, default=1000, help="events shown (default 1000)")
    actor.add_argument(
        "--offset", type=int, default=0, help="the actor's events skipped first (default 0)"
    )
    trace = query_parser("trace", "a trace's span tree with linked logs")
    trace.add_argument("trace_id", metavar="TRACE_ID", help="the trace id (32 hex digits)")
    histogram = query_parser("histogram", "event counts per time bucket", "--filter")
    histogram.add_argument(
        "--bucket", default="1m", help="bucket width: N followed by s, m, h or d (default 1m)"
    )
    histogram.add_argument("--filter", default="", metavar="Q", help=filter_help)
    stats = sub.add_parser("stats", help="what the case holds")
    stats.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    journal = sub.add_parser("journal", help="the examiner's journal")
    journal_sub = journal.add_subparsers(
        dest="journal_command", required=True, metavar="ACTION", help="one of:"
    )
    jverify = journal_sub.add_parser("verify", help="check the journal's hash chain")
    jverify.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)

    export = sub.add_parser(
        "export",
        help="write the events of a filtered view to a new CSV, JSON-lines or Parquet file "
        "(journaled with the filter, the count and the file's SHA-256)",
    )
    export.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)
    export.add_argument("--filter", default="", metavar="Q", help=filter_help)
    export.add_argument(
        "--from", dest="time_from", metavar="T", help="first time included: " + _TIME_HELP
    )
    export.add_argument(
        "--to", dest="time_to", metavar="T", help="end time, excluded: " + _TIME_HELP
    )
    export.add_argument(
        "--tz",
        default="UTC",
        help="IANA time zone of times typed without an offset (the file's times are UTC)",
    )
    export.add_argument(
        "--format", required=True, choices=EXPORT_FORMATS, help="the output file's format"
    )
    export.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="the file to create, named for its --format (.csv, .jsonl, .parquet) or any other "
        "way; an existing file is never overwritten",
    )

    bookmark = sub.add_parser(
        "bookmark",
        help="bookmark events (a filter's, or by reference) with tags and a note, journaled",
    )
    bookmark.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)
    add_selection_arguments(bookmark, filter_help)
    bookmark.add_argument(
        "--tag", dest="tags", action="append", default=[], metavar="T", help="a tag (repeatable)"
    )
    bookmark.add_argument("--note", default="", metavar="TEXT", help="a note for the events")

    report = sub.add_parser(
        "report",
        help="write the examination report (PDF or self-contained HTML, by the file's suffix), "
        "journaled with its SHA-256 (docs/report.md)",
    )
    report.add_argument("case", type=Path, metavar="CASE_DIR", help=_CASE_HELP)
    report.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="FILE.pdf or FILE.html, created new; an existing file is never overwritten",
    )
    report.add_argument(
        "--tz", default="UTC", help="IANA time zone the report's times are shown in (default UTC)"
    )
    report.add_argument(
        "--sign",
        type=Path,
        metavar="KEY",
        help="sign the PDF with the examiner's key (auditlens keygen --examiner NAME makes one; "
        "docs/report-signature.md)",
    )
    report.add_argument(
        "--cert",
        type=Path,
        metavar="CERT",
        help="the examiner's certificate for --sign (default: examiner-cert.pem beside KEY)",
    )

    bookmarks = query_parser("bookmarks", "list the bookmarked events in time order")
    del bookmarks  # CASE_DIR, --format and --tz are all it takes
