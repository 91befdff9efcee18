"""Findings, their stable codes, and verdicts (docs/verification.md).

Every check reports into a :class:`FindingSink` and carries on: verification is complete, not
first-failure. The verdict is derived from the findings by their code's category, never from a
truthy object, so a caller must look at it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Verdict(StrEnum):
    """The outcome for one bundle or a whole run."""

    VERIFIED = "verified"
    UNTRUSTED = "untrusted"
    UNSEALED = "unsealed"
    TAMPERED = "tampered"
    INVALID = "invalid"


# Worst first: the run's verdict is the worst of its bundles'.
VERDICT_RANK = {
    Verdict.TAMPERED: 4,
    Verdict.INVALID: 3,
    Verdict.UNTRUSTED: 2,
    Verdict.UNSEALED: 1,
    Verdict.VERIFIED: 0,
}
EXIT_CODES = {
    Verdict.VERIFIED: 0,
    Verdict.TAMPERED: 1,
    Verdict.INVALID: 2,
    Verdict.UNTRUSTED: 3,
    Verdict.UNSEALED: 3,
}

# Categories decide the verdict (docs/verification.md §3): integrity -> tampered, trust ->
# untrusted, input -> invalid, notice -> no effect. The scope says what a finding speaks of
# (docs/verification.md §4): one record, one file of a bundle, the whole bundle, or the stream
# between bundles. A bundle's own verdict comes from its record, file and bundle findings; stream
# findings make the stream's verdict, never a bundle's. An integrity finding of scope ``bundle``
# means the seal itself does not hold: no record of that bundle is proven (docs/verification.md
# §2, step 7, "What each record is").
RECORD, FILE, BUNDLE, STREAM = "record", "file", "bundle", "stream"
SCOPES = (RECORD, FILE, BUNDLE, STREAM)


class Code(NamedTuple):
    """What a finding code means: its category, severity, scope and one-line meaning."""

    category: str
    severity: str
    scope: str
    meaning: str


CODES: dict[str, Code] = {
    "NOT_A_BUNDLE": Code(
        "input",
        "error",
        BUNDLE,
        "The path is not a directory, .zip, .tar or .tar.gz bundle.",
    ),
    "ARCHIVE_CORRUPT": Code("input", "error", BUNDLE, "The archive cannot be read."),
    "MANIFEST_MISSING": Code("input", "error", BUNDLE, "The bundle has no manifest.json."),
    "MANIFEST_INVALID": Code(
        "input",
        "error",
        BUNDLE,
        "The manifest is not valid v1 manifest JSON.",
    ),
    "ENVELOPE_MISSING": Code(
        "integrity",
        "error",
        BUNDLE,
        "The bundle has no manifest.dsse.json signature envelope.",
    ),
    "ENVELOPE_INVALID": Code(
        "integrity",
        "error",
        BUNDLE,
        "The signature envelope is not a valid DSSE envelope.",
    ),
    "LIMIT_EXCEEDED": Code(
        "input",
        "error",
        BUNDLE,
        "A safety limit was exceeded; the input was not read further.",
    ),
    "UNSAFE_PATH": Code(
        "integrity",
        "error",
        FILE,
        "An archive or folder entry is absolute, climbs out with '..', or is a link or device.",
    ),
    "DUPLICATE_ENTRY": Code(
        "integrity",
        "error",
        FILE,
        "Two entries of the container have the same name.",
    ),
    "NONCANONICAL_MANIFEST": Code(
        "integrity",
        "error",
        BUNDLE,
        "manifest.json is not in RFC 8785 canonical form.",
    ),
    "MANIFEST_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The signed payload differs from manifest.json.",
    ),
    "BUNDLE_ID_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The bundle id does not derive from its stream, epoch, first seq and chain.",
    ),
    "KEY_ID_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The signer's key id is not the SHA-256 of its key.",
    ),
    "ALGORITHM_REJECTED": Code(
        "integrity",
        "error",
        BUNDLE,
        "The signature algorithm or key size is not allowed.",
    ),
    "BAD_SIGNATURE": Code("integrity", "error", BUNDLE, "The manifest signature does not verify."),
    "UNTRUSTED_SIGNER": Code(
        "trust",
        "error",
        BUNDLE,
        "The signature is valid but its key is not in the trust store.",
    ),
    "KEY_EXPIRED": Code(
        "trust",
        "error",
        BUNDLE,
        "The bundle was sealed outside the trusted key's validity.",
    ),
    "KEY_REVOKED": Code("trust", "error", BUNDLE, "The signing key is revoked in the trust store."),
    "MISSING_FILE": Code("integrity", "error", FILE, "A file listed in the manifest is absent."),
    "UNLISTED_FILE": Code(
        "integrity",
        "error",
        FILE,
        "The bundle holds a file the manifest does not list.",
    ),
    "FILE_DIGEST_MISMATCH": Code(
        "integrity",
        "error",
        FILE,
        "A file's size or SHA-256 differs from the manifest.",
    ),
    "SEQUENCE_GAP": Code(
        "integrity",
        "error",
        BUNDLE,
        "The manifest's sequence ranges are not contiguous.",
    ),
    "CHECKPOINT_MISMATCH": Code(
        "integrity",
        "error",
        FILE,
        "A checkpoint disagrees with the records or manifest.",
    ),
    "INDEX_MISMATCH": Code(
        "integrity",
        "error",
        FILE,
        "index/leaves.bin disagrees with the manifest's chain or root.",
    ),
    "RECORD_MODIFIED": Code(
        "integrity",
        "error",
        RECORD,
        "A record's bytes differ from what was sealed.",
    ),
    "RECORD_DELETED": Code(
        "integrity",
        "error",
        RECORD,
        "Sealed records are missing from inside the stream.",
    ),
    "RECORD_INSERTED": Code(
        "integrity",
        "error",
        RECORD,
        "Records were added that were never sealed.",
    ),
    "RECORDS_REORDERED": Code(
        "integrity",
        "error",
        RECORD,
        "Sealed records appear out of their sealed order.",
    ),
    "DUPLICATE_RECORD": Code(
        "integrity",
        "error",
        RECORD,
        "A sealed record appears more than once.",
    ),
    "TRUNCATED": Code(
        "integrity",
        "error",
        RECORD,
        "Sealed records are missing at the head or tail of the stream.",
    ),
    "TRAILING_DATA": Code(
        "integrity",
        "error",
        FILE,
        "Bytes follow the last complete record or the archive's end.",
    ),
    "CHAIN_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The recomputed hash chain differs from the signed one.",
    ),
    "MERKLE_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The recomputed Merkle root differs from the signed one.",
    ),
    "BUNDLE_GAP": Code(
        "integrity",
        "error",
        STREAM,
        "Sequence numbers are missing between consecutive bundles.",
    ),
    "BUNDLE_FORK": Code(
        "integrity",
        "error",
        STREAM,
        "A bundle does not continue its predecessor's chain.",
    ),
    "BUNDLE_ROLLBACK": Code(
        "integrity",
        "error",
        STREAM,
        "A bundle goes back to sequence numbers already covered.",
    ),
    "BUNDLE_REPLAY": Code("notice", "warning", STREAM, "The same bundle was given more than once."),
    "CLOCK_SKEW": Code(
        "notice",
        "warning",
        STREAM,
        "Record times go backwards by more than the allowed skew.",
    ),
    "RECORD_UNREADABLE": Code(
        "notice",
        "warning",
        RECORD,
        "A record does not decode as OTLP, audit JSON or an OpenSearch document; kept verbatim.",
    ),
    "UNSEALED_INPUT": Code(
        "notice",
        "info",
        BUNDLE,
        "Raw evidence without a seal: its integrity cannot be proven.",
    ),
    "SAMPLE_TRUST": Code(
        "notice",
        "warning",
        BUNDLE,
        "Trusted only through a sample trust store with a public key.",
    ),
    # Exhibits (docs/exhibit-format.md §6).
    "EXHIBIT_INVALID": Code(
        "input",
        "error",
        BUNDLE,
        "An exhibit's index is malformed or contradicts its signed manifests.",
    ),
    "PROOF_INVALID": Code(
        "integrity",
        "error",
        RECORD,
        "An exhibit record's inclusion proof does not lead to the signed Merkle root.",
    ),
    # Signed PDF reports (docs/report-signature.md, "Verifying").
    "REPORT_INVALID": Code("input", "error", BUNDLE, "The path is not a readable PDF file."),
    "REPORT_UNSIGNED": Code(
        "notice",
        "info",
        BUNDLE,
        "A PDF report without a signature: who wrote it and whether it changed cannot be proven.",
    ),
    "REPORT_NOT_COVERED": Code(
        "integrity",
        "error",
        BUNDLE,
        "Bytes of the PDF other than the signature itself are outside the signed byte range.",
    ),
    "REPORT_DIGEST_MISMATCH": Code(
        "integrity",
        "error",
        BUNDLE,
        "The signed bytes of the PDF differ from the bytes that were signed.",
    ),
    "REPORT_BAD_SIGNATURE": Code(
        "integrity",
        "error",
        BUNDLE,
        "The PDF's signature is malformed or does not verify with its certificate's key.",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One result of one check, with its place."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    seq: int | None = None
    stream_id: str | None = None
    expected: str | None = None
    actual: str | None = None
    offset: int | None = None

    @property
    def category(self) -> str:
        """integrity, trust, input or notice."""
        return CODES[self.code].category

    @property
    def severity(self) -> str:
        """error, warning or info."""
        return CODES[self.code].severity

    @property
    def scope(self) -> str:
        """record, file, bundle or stream: what the finding speaks of."""
        return CODES[self.code].scope

    def place(self) -> str:
        """Human form of the location."""
        parts = []
        if self.path:
            parts.append(self.path + (f":{self.line}" if self.line is not None else ""))
        if self.stream_id:
            parts.append(f"stream {self.stream_id}")
        if self.seq is not None:
            parts.append(f"seq {self.seq}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by ``verify --json``."""
        data = asdict(self)
        data.pop("offset")
        return {
            "code": self.code,
            "severity": self.severity,
            **{k: v for k, v in data.items() if k != "code"},
        }


@dataclass
class FindingSink:
    """Collects findings; handed to every check."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, code: str, message: str, **where: Any) -> Finding:
        """Record a finding with a registered code."""
        if code not in CODES:
            raise ValueError(f"unregistered finding code {code}")
        finding = Finding(code, message, **where)
        self.findings.append(finding)
        return finding

    def codes(self) -> list[str]:
        """The codes recorded so far, in order."""
        return [f.code for f in self.findings]


# Beyond this many findings of one code a bundle is plainly destroyed; the rest are counted
# (docs/verification.md §1, "Bounded").
MAX_FINDINGS_PER_CODE = 200


class CappedSink(FindingSink):
    """A sink that keeps :data:`MAX_FINDINGS_PER_CODE` findings of each code and counts the rest.

    Also counts the checks run, and fills in the stream id of every finding once it is known.
    """

    def __init__(self, stream_id: str | None = None) -> None:
        super().__init__()
        self.per_code: dict[str, int] = defaultdict(int)
        self.suppressed: dict[str, int] = defaultdict(int)
        self.stream_id = stream_id
        self.checks = 0

    def add(self, code: str, message: str, **where: Any) -> Finding:
        """Record a finding, or only count it once its code has reached the cap."""
        if self.stream_id is not None:
            where.setdefault("stream_id", self.stream_id)
        self.per_code[code] += 1
        if self.per_code[code] > MAX_FINDINGS_PER_CODE:
            self.suppressed[code] += 1
            return Finding(code, message, **where)
        return super().add(code, message, **where)


def seal_holds(findings: list[Finding]) -> bool:
    """Whether no integrity finding speaks of the whole bundle (its signed seal holds)."""
    return not any(f.category == "integrity" and f.scope == BUNDLE for f in findings)


def verdict_of(findings: list[Finding], *, sealed: bool = True) -> Verdict:
    """Derive a verdict from findings: integrity beats input beats trust."""
    categories = {f.category for f in findings}
    if "integrity" in categories:
        return Verdict.TAMPERED
    if "input" in categories:
        return Verdict.INVALID
    if not sealed:
        return Verdict.UNSEALED
    if "trust" in categories:
        return Verdict.UNTRUSTED
    return Verdict.VERIFIED


def worst(verdicts: list[Verdict]) -> Verdict:
    """The worst verdict of several (tampered, invalid, untrusted, unsealed, verified)."""
    if not verdicts:
        return Verdict.INVALID
    return max(verdicts, key=lambda v: VERDICT_RANK[v])
