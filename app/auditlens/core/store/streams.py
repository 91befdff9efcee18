"""The case's registry of streams: step 9 over every bundle the case holds.

Specified in docs/verification.md §3.1. After each bundle is stored, its stream is checked again
over all of the case's bundles of that stream and epoch, with the function ``verify`` uses
(``verify/across_bundles.py``). So the stream's state depends only on the set of bundles
imported, never on their order, and agrees with ``auditlens verify`` over the same set. What
changed is kept as history: a finding between bundles is opened by the input that revealed it
and closed by the one after which it no longer holds (a gap filled by a later bundle).
"""

from __future__ import annotations

from auditlens.core.bundle.manifest import parse_manifest
from auditlens.core.store.case import Case
from auditlens.core.verify.across_bundles import check_across_bundles
from auditlens.core.verify.findings import Verdict, worst
from auditlens.core.verify.report import BundleReport, StreamReport

_FindingKey = tuple[str, str | None, str | None, int | None, str, str | None, str | None]


def update_stream(case: Case, stream_id: str, epoch: int, input_id: int) -> StreamReport | None:
    """Check a stream again over every bundle of it in the case and store its state.

    Runs inside the importing input's transaction. Returns the stream's report, or ``None`` when
    none of its bundles is readable enough to belong to it.
    """
    rows = case.db.execute(
        "SELECT path, manifest, manifest_sha256, verdict FROM bundles "
        "WHERE stream_id = ? AND epoch = ? ORDER BY input_id",
        [stream_id, epoch],
    ).fetchall()
    bundles = [
        BundleReport(
            path,
            Verdict(verdict),
            manifest=parse_manifest(bytes(manifest), source=path),
            manifest_sha256=digest,
        )
        for path, manifest, digest, verdict in rows
    ]
    found = check_across_bundles(bundles)
    stream = found[0] if found else None
    open_rows = case.db.execute(
        "SELECT rowid, code, bundle_id, path, seq, message, expected, actual FROM stream_findings "
        "WHERE stream_id = ? AND epoch = ? AND closed_input_id IS NULL",
        [stream_id, epoch],
    ).fetchall()
    still: dict[_FindingKey, int] = {tuple(row[1:]): row[0] for row in open_rows}
    now = stream.findings if stream is not None else []
    for item in now:
        f, about = item.finding, item.bundle
        bundle_id = about.manifest.bundle_id if about.manifest else None
        key: _FindingKey = (f.code, bundle_id, f.path, f.seq, f.message, f.expected, f.actual)
        if still.pop(key, None) is not None:
            continue
        case.db.execute(
            "INSERT INTO stream_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                stream_id,
                epoch,
                f.code,
                f.severity,
                bundle_id,
                f.path,
                f.seq,
                f.message,
                f.expected,
                f.actual,
                input_id,
            ],
        )
    for rowid in still.values():
        case.db.execute(
            "UPDATE stream_findings SET closed_input_id = ? WHERE rowid = ?", [input_id, rowid]
        )
    case.db.execute("DELETE FROM streams WHERE stream_id = ? AND epoch = ?", [stream_id, epoch])
    if stream is not None:
        case.db.execute(
            "INSERT INTO streams VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                stream_id,
                epoch,
                stream.verdict.value,
                len(stream.bundles),
                stream.first_seq,
                stream.last_seq,
                len(stream.open_gaps),
                input_id,
            ],
        )
    return stream


def case_verdict(case: Case) -> Verdict | None:
    """The case's verdict: the worst of its inputs' own verdicts and its streams' verdicts."""
    verdicts = [
        Verdict(v)
        for (v,) in case.db.execute(
            "SELECT verdict FROM inputs UNION ALL SELECT verdict FROM streams"
        ).fetchall()
    ]
    return worst(verdicts) if verdicts else None


def store_case_verdict(case: Case) -> None:
    """Record the case's verdict in ``meta`` (``case_verdict``), in the importing transaction."""
    verdict = case_verdict(case)
    case.db.execute(
        "INSERT OR REPLACE INTO meta VALUES ('case_verdict', ?)",
        [verdict.value if verdict else None],
    )
