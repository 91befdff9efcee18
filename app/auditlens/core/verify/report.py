"""What a verification reports: per bundle, per stream, per run (docs/verification.md §3).

A bundle's report also carries what step 7 found each stored record to be
(:class:`RecordMatches`), so that the importer marks every event from the verifier's own
conclusion and never re-derives it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from auditlens.core.bundle.manifest import Checkpoint, Manifest
from auditlens.core.verify.findings import CODES, STREAM, Finding, Verdict, seal_holds, worst

NO_SEQ = -1  # in RecordMatches.seqs: a stored record that takes the place of no sealed record


@dataclass
class RecordMatches:
    """What each stored record of a bundle is, in stored order (docs/verification.md §2.1).

    ``files`` are the data files step 7 read, in manifest order, with their number of stored
    lines; a data file that was absent, unsafe or duplicated is not among them and none of its
    records counts as evidence. When ``exact``, every stored record is the sealed record at its
    place (stored record ``k`` is sealed seq ``first_seq + k``) and ``seqs`` and ``intact`` are
    empty. Otherwise ``seqs[k]`` is the sealed sequence number that stored record ``k`` is (moved)
    or replaced (modified), :data:`NO_SEQ` for an inserted or duplicated record, and
    ``intact[k]`` is 1 when record ``k`` is the sealed record at its sealed place.
    """

    first_seq: int
    files: list[tuple[str, int]] = field(default_factory=list)
    exact: bool = False
    seqs: array[int] = field(default_factory=lambda: array("q"))
    intact: bytearray = field(default_factory=bytearray)
    proven: bool = True  # False: the seal does not hold, so no record is intact whatever it is

    def __len__(self) -> int:
        return sum(lines for _path, lines in self.files)

    def seq(self, pos: int) -> int | None:
        """The sealed sequence number of stored record ``pos``, or ``None``."""
        if self.exact:
            return self.first_seq + pos
        value = self.seqs[pos] if pos < len(self.seqs) else NO_SEQ
        return None if value == NO_SEQ else value

    def is_intact(self, pos: int) -> bool:
        """Whether stored record ``pos`` is proven to be the sealed record at its place."""
        if not self.proven:
            return False
        if self.exact:
            return True
        return pos < len(self.intact) and bool(self.intact[pos])


@dataclass
class BundleReport:
    """The verification of one path."""

    path: str
    verdict: Verdict = Verdict.INVALID
    findings: list[Finding] = field(default_factory=list)
    manifest: Manifest | None = None
    manifest_sha256: str | None = None
    sealed: bool = True
    suppressed: dict[str, int] = field(default_factory=dict)
    files_checked: int = 0
    checks_run: int = 0
    checkpoints: list[Checkpoint] | None = None
    # Step 7: what each stored record is; None when step 7 did not run (an invalid bundle).
    records: RecordMatches | None = None
    # Step 7's fast path proved every checkpoint segment byte for byte.
    segments_proven: bool = False

    @property
    def seal_holds(self) -> bool:
        """Whether no integrity finding speaks of the bundle as a whole."""
        return seal_holds(self.findings)

    @property
    def signer_trusted(self) -> bool:
        """Whether no trust finding was made (the signer is in the trust store, valid)."""
        return not any(f.category == "trust" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The per-bundle object of ``verify --json``."""
        m = self.manifest
        return {
            "path": self.path,
            "bundle_id": m.bundle_id if m else None,
            "stream_id": m.stream_id if m else None,
            "first_seq": m.first_seq if m else None,
            "last_seq": m.last_seq if m else None,
            "record_count": m.count if m else None,
            "signer_key_id": m.signer_key_id if m else None,
            "verdict": self.verdict.value,
        }


@dataclass(frozen=True)
class StreamFinding:
    """A finding of step 9, with the bundle it is about (the finding's ``path``)."""

    finding: Finding
    bundle: BundleReport


@dataclass
class StreamReport:
    """Step 9 for one stream and epoch: its bundles in order, findings between them, verdict.

    The verdict is the worst of its bundles' own verdicts, and ``tampered`` when a finding between
    bundles is of category integrity (an open gap, a fork, a rollback). Replayed copies are left
    out of ``bundles``.
    """

    stream_id: str
    epoch: int
    bundles: list[BundleReport] = field(default_factory=list)
    findings: list[StreamFinding] = field(default_factory=list)
    verdict: Verdict = Verdict.VERIFIED

    def add(self, about: BundleReport, code: str, message: str, **where: Any) -> None:
        """Record a finding between bundles, about the bundle ``about``."""
        if code not in CODES or CODES[code].scope != STREAM:
            raise ValueError(f"{code} is not a finding code of scope stream")
        finding = Finding(code, message, path=about.path, stream_id=self.stream_id, **where)
        self.findings.append(StreamFinding(finding, about))

    @property
    def first_seq(self) -> int:
        """The lowest sequence number any of its bundles covers."""
        return min(b.manifest.first_seq for b in self.bundles if b.manifest)

    @property
    def last_seq(self) -> int:
        """The highest sequence number any of its bundles covers."""
        return max(b.manifest.last_seq for b in self.bundles if b.manifest)

    @property
    def open_gaps(self) -> list[Finding]:
        """The ``BUNDLE_GAP`` findings: sequence numbers no bundle given covers."""
        return [s.finding for s in self.findings if s.finding.code == "BUNDLE_GAP"]

    def to_json(self) -> dict[str, Any]:
        """The per-stream object of ``verify --json``."""
        return {
            "stream_id": self.stream_id,
            "epoch": self.epoch,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "bundles": [b.path for b in self.bundles],
            "verdict": self.verdict.value,
        }


@dataclass
class VerifyReport:
    """The verification of a whole run: its bundles, its streams, and the run's verdict."""

    verdict: Verdict
    bundles: list[BundleReport]
    findings: list[Finding]
    streams: list[StreamReport] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        """Records covered by readable manifests."""
        return sum(b.manifest.count for b in self.bundles if b.manifest)

    @property
    def stream_count(self) -> int:
        """Distinct streams among the bundles."""
        return len({b.manifest.stream_id for b in self.bundles if b.manifest})

    @property
    def file_count(self) -> int:
        """Files checked across bundles."""
        return sum(b.files_checked for b in self.bundles)

    @property
    def check_count(self) -> int:
        """Checks run across bundles."""
        return sum(b.checks_run for b in self.bundles)

    def to_json(self) -> dict[str, Any]:
        """The object printed by ``verify --json``."""
        return {
            "verdict": self.verdict.value,
            "bundles": [b.to_json() for b in self.bundles],
            "streams": [s.to_json() for s in self.streams],
            "findings": [f.to_json() for f in self.findings],
        }


def run_verdict(bundles: list[BundleReport], streams: list[StreamReport]) -> Verdict:
    """The verdict of a run or a case: the worst of its bundles' and its streams' verdicts."""
    return worst([b.verdict for b in bundles] + [s.verdict for s in streams])
