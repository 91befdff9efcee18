"""Sub-commands of the analysis: ``detect``, ``findings`` and ``compliance`` (docs/detections.md).

Building their parsers imports nothing heavy (see case_parsers.py); the commands load core when
they run. Both journal themselves: the run, its rules' digest and a digest of what it reported.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditlens.cli.output import drive, emit, err, out, out_json


def add_parsers(sub: Any) -> None:
    """Register ``detect``, ``findings`` and ``compliance`` on the top-level sub-parser."""
    detect = sub.add_parser(
        "detect",
        help="run detection rules, baselines and corroboration over a case; store the findings",
        description="Run the detection rules (Sigma files; the shipped ones unless --rules), the "
        "behaviour baselines and the cross-stream corroboration over the case, store the "
        "findings in it (replacing the previous run's) and list them, worst first.",
    )
    detect.add_argument("case", type=Path, metavar="CASE_DIR", help="the case folder")
    detect.add_argument(
        "--rules",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="folder of Sigma rule files to run instead of the shipped ones (repeatable)",
    )
    _add_listing_arguments(detect)
    findings = sub.add_parser(
        "findings",
        help="list the findings the last 'detect' stored, worst first, without running again",
        description="The findings of the last detection run stored in the case, worst first, "
        "as 'detect' listed them (the report's detections section, and the workbench's Findings "
        "tab): reading them changes nothing but the journal.",
    )
    findings.add_argument("case", type=Path, metavar="CASE_DIR", help="the case folder")
    _add_listing_arguments(findings)
    compliance = sub.add_parser(
        "compliance",
        help="what the evidence holds of each framework's required audit events and fields",
        description="For SOC 2, ISO 27001 A.12.4, HIPAA 164.312(b), GDPR Art. 30 and 33 and "
        "PCI DSS Req. 10: the required event types and record fields the evidence holds, those "
        "it lacks, the gaps of the audit trail, and GDPR Art. 33's 72-hour window.",
    )
    compliance.add_argument("case", type=Path, metavar="CASE_DIR", help="the case folder")
    compliance.add_argument("--json", action="store_true", help="print one JSON object")


def _add_listing_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--tz`` of the commands that list findings (detect, findings)."""
    parser.add_argument(
        "--format",
        choices=("table", "jsonl"),
        default="table",
        help="a table, or one JSON finding per line (default table)",
    )
    parser.add_argument(
        "--tz", default="UTC", help="IANA time zone for printed times (default UTC)"
    )


def present(finding: Any, tz: Any = None) -> dict[str, Any]:
    """A finding as the CLI prints it (``--format jsonl``)."""
    from auditlens.core.store.queries import format_time

    return {
        "rule": finding.rule,
        "title": finding.title,
        "severity": finding.severity,
        "score": finding.score,
        "actor_id": finding.actor_id,
        "time_first": format_time(finding.time_first_ns, tz),
        "time_last": format_time(finding.time_last_ns, tz),
        "explanation": finding.explanation,
        "source": finding.source,
        "events": [
            {"time": format_time(e.time_ns, tz), "stream_id": e.stream_id, "seq": e.seq}
            for e in finding.events
        ],
    }


def cmd_detect(args: argparse.Namespace) -> int:
    """``auditlens detect``: findings, worst first; exit 0 (findings are not an error)."""
    from auditlens.core.analysis.session import Analysis
    from auditlens.core.store import queries

    tz = queries.zone(args.tz)
    folders = list(args.rules) or None
    with Analysis.open(args.case, origin="cli") as analysis:
        report = drive(analysis.detect(folders))
    rows = [present(f, tz) for f in report.findings]
    if args.format == "jsonl":
        emit(rows, list(rows[0]) if rows else [], "jsonl")
        return 0
    _table(rows)
    counts = ", ".join(f"{n} {s}" for s, n in report.by_severity.items()) or "none"
    out(
        f"{len(rows)} finding(s) from {report.rules} rules over {report.actions:,} actions: "
        f"{counts}"
    )
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    """``auditlens findings``: the stored findings of the last run, worst first (docs/report.md).

    The report's detections section sends a reader here for the findings it leaves out.
    """
    from auditlens.core.analysis.session import Analysis
    from auditlens.core.store import queries

    tz = queries.zone(args.tz)
    with Analysis.open(args.case, origin="cli") as analysis:
        if analysis.stored_count() is None:
            err(f"auditlens: no detection run yet in {args.case}: run 'auditlens detect'")
            return 0
        rows = [present(f, tz) for f in analysis.findings()]
    if args.format == "jsonl":
        emit(rows, list(rows[0]) if rows else [], "jsonl")
        return 0
    _table(rows)
    by_severity: dict[str, int] = {}
    for row in rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in by_severity.items()) or "none"
    out(f"{len(rows)} finding(s) stored by the last detection run: {counts}")
    return 0


def _table(rows: list[dict[str, Any]]) -> None:
    table = [
        {
            "severity": r["severity"],
            "rule": r["rule"],
            "actor_id": r["actor_id"],
            "time_first": r["time_first"],
            "events": len(r["events"]),
            "title": r["title"],
        }
        for r in rows
    ]
    emit(table, ["severity", "rule", "actor_id", "time_first", "events", "title"], "table")


def cmd_compliance(args: argparse.Namespace) -> int:
    """``auditlens compliance``: per framework, what the evidence holds and lacks."""
    from auditlens.core.analysis.compliance import render
    from auditlens.core.analysis.session import Analysis

    with Analysis.open(args.case, origin="cli") as analysis:
        report = analysis.compliance()
    if args.json:
        out_json(report.as_dict())
        return 0
    for line in render(report):
        out(line)
    return 0
