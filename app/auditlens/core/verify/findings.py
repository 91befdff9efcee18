"""Findings, their stable codes, and verdicts (docs/verification.md).

Every check reports into a :class:`FindingSink` and carries on: verification is complete, not
first-failure. The verdict is derived from the findings by their code's category, never from a
truthy object, so a caller must look at it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


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

# code: (category, severity, meaning). Categories: integrity -> tampered, trust -> untrusted,
# input -> invalid, notice -> no effect on the verdict.
CODES: dict[str, tuple[str, str, str]] = {
    # container and input
    "NOT_A_BUNDLE": (
        "input",
        "error",
        "The path is not a directory, .zip, .tar or .tar.gz bundle.",
    ),
    "ARCHIVE_CORRUPT": ("input", "error", "The archive cannot be read."),
    "MANIFEST_MISSING": ("input", "error", "The bundle has no manifest.json."),
    "MANIFEST_INVALID": ("input", "error", "The manifest is not valid v1 manifest JSON."),
    "ENVELOPE_MISSING": (
        "integrity",
        "error",
        "The bundle has no manifest.dsse.json signature envelope.",
    ),
    "ENVELOPE_INVALID": (
        "integrity",
        "error",
        "The signature envelope is not a valid DSSE envelope.",
    ),
    "LIMIT_EXCEEDED": (
        "input",
        "error",
        "A safety limit was exceeded; the input was not read further.",
    ),
    "UNSAFE_PATH": (
        "integrity",
        "error",
        "An archive or folder entry is absolute, climbs out with '..', or is a link or device.",
    ),
    "DUPLICATE_ENTRY": ("integrity", "error", "Two entries of the container have the same name."),
    # manifest and signature
    "NONCANONICAL_MANIFEST": (
        "integrity",
        "error",
        "manifest.json is not in RFC 8785 canonical form.",
    ),
    "MANIFEST_MISMATCH": ("integrity", "error", "The signed payload differs from manifest.json."),
    "BUNDLE_ID_MISMATCH": (
        "integrity",
        "error",
        "The bundle id does not derive from its stream, epoch, first seq and chain.",
    ),
    "KEY_ID_MISMATCH": ("integrity", "error", "The signer's key id is not the SHA-256 of its key."),
    "ALGORITHM_REJECTED": (
        "integrity",
        "error",
        "The signature algorithm or key size is not allowed.",
    ),
    "BAD_SIGNATURE": ("integrity", "error", "The manifest signature does not verify."),
    "UNTRUSTED_SIGNER": (
        "trust",
        "error",
        "The signature is valid but its key is not in the trust store.",
    ),
    "KEY_EXPIRED": ("trust", "error", "The bundle was sealed outside the trusted key's validity."),
    "KEY_REVOKED": ("trust", "error", "The signing key is revoked in the trust store."),
    # files
    "MISSING_FILE": ("integrity", "error", "A file listed in the manifest is absent."),
    "UNLISTED_FILE": ("integrity", "error", "The bundle holds a file the manifest does not list."),
    "FILE_DIGEST_MISMATCH": (
        "integrity",
        "error",
        "A file's size or SHA-256 differs from the manifest.",
    ),
    "SEQUENCE_GAP": ("integrity", "error", "The manifest's sequence ranges are not contiguous."),
    "CHECKPOINT_MISMATCH": (
        "integrity",
        "error",
        "A checkpoint disagrees with the records or manifest.",
    ),
    "INDEX_MISMATCH": (
        "integrity",
        "error",
        "index/leaves.bin disagrees with the manifest's chain or root.",
    ),
    # records
    "RECORD_MODIFIED": ("integrity", "error", "A record's bytes differ from what was sealed."),
    "RECORD_DELETED": ("integrity", "error", "Sealed records are missing from inside the stream."),
    "RECORD_INSERTED": ("integrity", "error", "Records were added that were never sealed."),
    "RECORDS_REORDERED": ("integrity", "error", "Sealed records appear out of their sealed order."),
    "DUPLICATE_RECORD": ("integrity", "error", "A sealed record appears more than once."),
    "TRUNCATED": (
        "integrity",
        "error",
        "Sealed records are missing at the head or tail of the stream.",
    ),
    "TRAILING_DATA": (
        "integrity",
        "error",
        "Bytes follow the last complete record or the archive's end.",
    ),
    "CHAIN_MISMATCH": (
        "integrity",
        "error",
        "The recomputed hash chain differs from the signed one.",
    ),
    "MERKLE_MISMATCH": (
        "integrity",
        "error",
        "The recomputed Merkle root differs from the signed one.",
    ),
    # between bundles
    "BUNDLE_GAP": (
        "integrity",
        "error",
        "Sequence numbers are missing between consecutive bundles.",
    ),
    "BUNDLE_FORK": ("integrity", "error", "A bundle does not continue its predecessor's chain."),
    "BUNDLE_ROLLBACK": (
        "integrity",
        "error",
        "A bundle goes back to sequence numbers already covered.",
    ),
    "BUNDLE_REPLAY": ("notice", "warning", "The same bundle was given more than once."),
    # notices
    "CLOCK_SKEW": ("notice", "warning", "Record times go backwards by more than the allowed skew."),
    "RECORD_UNREADABLE": (
        "notice",
        "warning",
        "A record does not decode as OTLP, audit JSON or an OpenSearch document; kept verbatim.",
    ),
    "UNSEALED_INPUT": (
        "notice",
        "info",
        "Raw evidence without a seal: its integrity cannot be proven.",
    ),
    "SAMPLE_TRUST": (
        "notice",
        "warning",
        "Trusted only through a sample trust store with a public key.",
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
        return CODES[self.code][0]

    @property
    def severity(self) -> str:
        """error, warning or info."""
        return CODES[self.code][1]

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
