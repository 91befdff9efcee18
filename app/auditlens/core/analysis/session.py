"""The analysis as the examiner acts on it: each call journaled with its origin.

The examination API (core/store/session.py) is the one object the CLI and the workbench act on a
case through, and journals every examiner call itself; it lives below the analysis (layers in
pyproject.toml), so the analysis's calls are here, made the same way: :class:`Analysis` opens the
case with an origin (``cli`` or ``workbench``), and each method journals its parameters and a
count or ``sha256:`` digest of what it returned (docs/detections.md, "What is journaled").
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlens.core.analysis import baselines, corroboration
from auditlens.core.analysis.detect import DetectReport, run
from auditlens.core.analysis.findings import EventRef, Finding, load, stored_count
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.store import queries
from auditlens.core.store.session import OnCase, digest

if TYPE_CHECKING:
    from auditlens.core.analysis.compliance import Report


def finding_rows(found: list[Finding]) -> list[dict[str, Any]]:
    """Findings as the CLI prints them (times RFC 3339), the form their digest is taken of."""
    return [
        {
            "rule": f.rule,
            "title": f.title,
            "severity": f.severity,
            "score": f.score,
            "actor_id": f.actor_id,
            "time_first": queries.format_time(f.time_first_ns),
            "time_last": queries.format_time(f.time_last_ns),
            "explanation": f.explanation,
            "source": f.source,
            "events": [
                {"time": queries.format_time(e.time_ns), "stream_id": e.stream_id, "seq": e.seq}
                for e in f.events
            ],
        }
        for f in found
    ]


class Analysis(OnCase):
    """Detections, baselines, witnesses and the compliance lens over one open case."""

    def detect(
        self, rule_folders: list[Path] | None = None, *, token: CancelToken | None = None
    ) -> Generator[Progress, None, DetectReport]:
        """Run the rules (the shipped ones, or ``rule_folders``), store and journal the findings.

        The entry (``detect``) names the rule folders, the rules' digest, the count per severity
        and the digest of the findings as :func:`finding_rows` gives them.
        """
        report = yield from run(self.case, rule_folders, token=token)
        self.case.journal(
            "detect",
            {
                "rules": [str(p.resolve()) for p in rule_folders] if rule_folders else "shipped",
                "rule_count": report.rules,
                "rule_digest": report.rule_digest,
                "findings": len(report.findings),
                "by_severity": report.by_severity,
                "digest": digest(finding_rows(report.findings)),
            },
        )
        return report

    def findings(self) -> list[Finding]:
        """The stored findings of the last run, worst first (journaled: rows and digest)."""
        found = load(self.case)
        self.case.journal(
            "query",
            {"command": "findings", "rows": len(found), "digest": digest(finding_rows(found))},
        )
        return found

    def stored_count(self) -> int | None:
        """How many findings the last detection run stored, None before any (not journaled).

        For a status line, as ``Examination.counts`` (docs/case.md, "What is journaled").
        """
        return stored_count(self.case)

    def marked_findings(self) -> list[Finding]:
        """The stored findings, to mark on the charts (not journaled, as the histogram is not).

        Drawing them answers no question of the examiner's (docs/case.md, "What is journaled");
        listing them (:meth:`findings`) does.
        """
        return load(self.case)

    def action(self, ref: EventRef) -> corroboration.ActionWitnesses | None:
        """The action of the finding's event ``ref``: its witnesses and the missing ones.

        Journaled as a ``witnesses`` query: the record asked about, the witnesses' places and
        the streams found missing.
        """
        found = corroboration.action_witnesses(self.case, ref.stream_id, ref.seq, ref.time_ns)
        witnesses = [] if found is None else found.witnesses
        self.case.journal(
            "query",
            {
                "command": "witnesses",
                "stream_id": ref.stream_id,
                "seq": ref.seq,
                "time": queries.format_time(ref.time_ns),
                "events": len(witnesses),
                "digest": digest([[w["stream_id"], w["seq"]] for w in witnesses]),
                "missing": [] if found is None else [m.stream_id for m in found.missing],
            },
        )
        return found

    def witnesses(self, ord_: int) -> list[dict[str, object]]:
        """The witnesses of the action of the event at ``ord_`` (journaled)."""
        found = corroboration.witnesses(self.case, ord_)
        self.case.journal(
            "query",
            {
                "command": "witnesses",
                "events": len(found),
                "digest": digest([[w["stream_id"], w["seq"]] for w in found]),
            },
        )
        return found

    def profile(self, actor_id: str) -> baselines.ActorBaseline | None:
        """One actor's baseline (journaled)."""
        found = baselines.profile(self.case, actor_id)
        self.case.journal(
            "query",
            {"command": "baseline", "actor": actor_id, "events": found.events if found else 0},
        )
        return found

    def compliance(self, *, as_of_ns: int | None = None) -> Report:
        """The compliance lens (journaled: the frameworks and a digest of the report)."""
        from auditlens.core.analysis.compliance import assess

        report = assess(self.case, as_of_ns=as_of_ns)
        data = report.as_dict()
        self.case.journal(
            "compliance",
            {"frameworks": [f["framework"] for f in data["frameworks"]], "digest": digest(data)},
        )
        return report
