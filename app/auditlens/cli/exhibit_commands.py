"""``auditlens exhibit`` (issue 14, point 4), and the verification of exhibit folders.

An exhibit is written by :mod:`auditlens.core.report.exhibit` (docs/exhibit-format.md); this
module only reads the arguments, calls core and prints. ``auditlens verify`` hands any folder
holding ``exhibit.json`` to :func:`verify_exhibits` here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditlens.cli.case_parsers import add_selection_arguments
from auditlens.cli.output import drive, out, out_findings
from auditlens.core.verify.findings import Verdict
from auditlens.core.verify.trust import TrustStore


def add_parsers(sub: Any) -> None:
    """Register ``exhibit``."""
    exhibit = sub.add_parser(
        "exhibit",
        help="write selected records as their exact sealed bytes with inclusion proofs and "
        "signed manifests, checkable with 'auditlens verify DIR' (journaled)",
    )
    exhibit.add_argument("case", type=Path, metavar="CASE_DIR", help="the case folder")
    add_selection_arguments(
        exhibit,
        "filter query whose events to include, e.g. 'actor_id:sup-004 AND action:EXPORT' "
        "(see docs/case.md, The filter language)",
    )
    exhibit.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="a new or empty folder for the exhibit, outside the evidence",
    )


def cmd_exhibit(args: argparse.Namespace) -> int:
    """``auditlens exhibit``: selected records with their proofs, into a new folder."""
    # Imported here: the parser of every command imports this module, and verifying a bundle
    # must not load the case's DuckDB and pyarrow.
    from auditlens.cli.case_commands import selection_query
    from auditlens.core.report.session import Legal
    from auditlens.core.store import queries

    tz = queries.zone(args.tz)
    with Legal.open(args.case, origin="cli") as legal:
        query = selection_query(args, tz)
        if query is None:
            result = drive(legal.exhibit(args.out, refs=args.events))
        else:
            result = drive(legal.exhibit(args.out, query=query))
    unsealed = (
        f", {result.unsealed:,} unsealed event(s) listed without proof" if result.unsealed else ""
    )
    out(
        f"exhibit {result.path}: {result.sealed:,} sealed record(s) with proofs from "
        f"{result.bundles} bundle(s){unsealed}; index sha256 {result.index_sha256}"
    )
    out(f"check it with: auditlens verify {result.path} --trust TRUSTSTORE")
    return 0


def verify_exhibits(paths: list[Path], trust: TrustStore, *, as_json: bool) -> tuple[Verdict, Any]:
    """Verify exhibit folders; print them unless ``as_json``; the worst verdict and the JSON."""
    from auditlens.core.report.exhibit import verify_exhibit
    from auditlens.core.verify.findings import worst

    reports = [verify_exhibit(path, trust) for path in paths]
    if not as_json:
        for report in reports:
            out(f"exhibit verdict: {report.verdict.value.upper()}  {report.path}")
            out(
                f"  {report.proven:,} of {report.sealed:,} sealed record(s) proven against "
                f"{report.bundles} signed manifest(s); {report.unsealed:,} unsealed event(s) "
                "listed, not proven"
            )
            out_findings(report.findings)
            if report.verdict in (Verdict.VERIFIED, Verdict.UNTRUSTED):
                out(
                    "  proven: the signer's key sealed exactly these bytes at these places; "
                    "not proven: that their content is true, nor that nothing was lost before "
                    "sealing (see the exhibit's README.txt)"
                )
    return worst([r.verdict for r in reports]), [r.to_json() for r in reports]
